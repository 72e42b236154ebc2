//! One error type: pages get `error.html`, the API gets `{"error", "fields"}`.
//! 5xx responses hide the cause from the client and log the whole chain.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Not found")]
    NotFound,
    #[error("You do not have access to this page")]
    Forbidden,
    #[error("Sign in to continue")]
    LoginRequired { next: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("This form has expired or did not come from Waybill. Reload the page and try again.")]
    Csrf,
    #[error("{message}")]
    Validation {
        message: String,
        fields: BTreeMap<String, String>,
    },
    #[error("{0}")]
    Conflict(String),
    /// A conflict whose JSON carries more than the message, e.g. the shipment a repeated
    /// reference names or a fresh quote (`{"error", ...extra}`).
    #[error("{message}")]
    ConflictWith {
        message: String,
        extra: serde_json::Map<String, serde_json::Value>,
    },
    #[error("{0}")]
    PaymentRequired(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// A database error other than "not found" (a 500 unless the caller handles it, as
    /// the idempotent writes do with unique violations).
    #[error("database: {0}")]
    Database(diesel::result::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{e}"))
    }

    /// A unique constraint refused the write (a duplicate key, e-mail, reference…).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            AppError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    pub fn validation(fields: BTreeMap<String, String>) -> Self {
        AppError::Validation {
            message: "Some fields are not valid".into(),
            fields,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::LoginRequired { .. } | AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) | AppError::ConflictWith { .. } => StatusCode::CONFLICT,
            AppError::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) | AppError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a client may see: never the internals of a 5xx.
    fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) | AppError::Database(_) => {
                "Something went wrong on our side. Please try again.".into()
            }
            other => other.to_string(),
        }
    }

    fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = format!("{e:#}"), "request failed"),
            AppError::Database(e) => tracing::error!(error = %e, "request failed"),
            _ => {}
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Database(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Internal(anyhow::anyhow!("database pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task: {e}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::anyhow!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    code: u16,
    title: String,
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        if let AppError::LoginRequired { next } = self {
            let target = format!(
                "/login?next={}",
                percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
            );
            return HttpResponse::SeeOther()
                .insert_header(("Location", target))
                .finish();
        }
        let status = self.status();
        let (title, message) = match self {
            AppError::NotFound => (
                "Page not found".to_string(),
                "Nothing is at this address: the link may be mistyped, or what it named belongs \
                 to another account. Shipments, pickups and labels are reached from your \
                 dashboard."
                    .to_string(),
            ),
            _ => (
                status.canonical_reason().unwrap_or("Error").to_string(),
                self.public_message(),
            ),
        };
        let page = ErrorPage {
            code: status.as_u16(),
            title,
            message,
        };
        match page.render() {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(_) => HttpResponse::build(status).body(self.public_message()),
        }
    }
}

/// The same error, rendered as JSON for `/api`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! api_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ApiError(e.into())
            }
        }
    )*};
}
api_error_from!(
    AppError,
    anyhow::Error,
    diesel::result::Error,
    diesel::r2d2::PoolError,
    actix_web::error::BlockingError
);

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            AppError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            e => e.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let fields = match &self.0 {
            AppError::Validation { fields, .. } => fields.clone(),
            _ => BTreeMap::new(),
        };
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(
            self.0,
            AppError::Unauthorized(_) | AppError::LoginRequired { .. }
        ) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        let mut body = serde_json::json!({
            "error": self.0.public_message(),
            "fields": fields,
        });
        if let (AppError::ConflictWith { extra, .. }, Some(obj)) = (&self.0, body.as_object_mut()) {
            obj.extend(extra.clone());
        }
        resp.json(body)
    }
}
