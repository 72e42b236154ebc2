//! The use cases' `AppError` as HTTP: `PageError` renders `error.html` (or sends a stranger to
//! sign in), `ApiError` renders `{"error", "fields"}`. 5xx answers hide the cause and log it.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

pub use waybill_app::error::AppError;

/// The status an error answers with.
fn status(e: &AppError) -> StatusCode {
    match e {
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

/// A blocking task that panicked or was cancelled.
fn blocking(e: actix_web::error::BlockingError) -> AppError {
    AppError::Internal(anyhow::anyhow!("blocking task: {e}"))
}

/// Implements `From` for both answers, for every error a handler meets with `?`.
macro_rules! answer_from {
    ($($answer:ident),*) => {$(
        impl From<AppError> for $answer {
            fn from(e: AppError) -> Self {
                $answer(e)
            }
        }
        impl From<anyhow::Error> for $answer {
            fn from(e: anyhow::Error) -> Self {
                $answer(e.into())
            }
        }
        impl From<askama::Error> for $answer {
            fn from(e: askama::Error) -> Self {
                $answer(e.into())
            }
        }
        impl From<actix_web::error::BlockingError> for $answer {
            fn from(e: actix_web::error::BlockingError) -> Self {
                $answer(blocking(e))
            }
        }
        impl std::fmt::Display for $answer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

/// An error answered with a page.
#[derive(Debug)]
pub struct PageError(pub AppError);

/// The same error, answered as JSON for `/api`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

answer_from!(PageError, ApiError);

impl From<PageError> for ApiError {
    fn from(e: PageError) -> Self {
        ApiError(e.0)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    code: u16,
    title: String,
    message: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        status(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        if let AppError::LoginRequired { next } = &self.0 {
            let target = format!(
                "/login?next={}",
                percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
            );
            return HttpResponse::SeeOther()
                .insert_header(("Location", target))
                .finish();
        }
        let status = status(&self.0);
        let (title, message) = match &self.0 {
            AppError::NotFound => (
                "Page not found".to_string(),
                "Nothing is at this address: the link may be mistyped, or what it named belongs \
                 to another account. Shipments, pickups and labels are reached from your \
                 dashboard."
                    .to_string(),
            ),
            _ => (
                status.canonical_reason().unwrap_or("Error").to_string(),
                self.0.public_message(),
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
            Err(_) => HttpResponse::build(status).body(self.0.public_message()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            AppError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            e => status(e),
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
