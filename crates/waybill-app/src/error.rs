//! One error type for every use case. The web layer renders it (`error.html` for pages,
//! `{"error", "fields"}` for the API); 5xx answers hide the cause and log the whole chain.

use std::collections::BTreeMap;

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

    /// The message a client may see: never the internals of a 5xx.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) | AppError::Database(_) => {
                "Something went wrong on our side. Please try again.".into()
            }
            other => other.to_string(),
        }
    }

    /// Logs the cause of a 5xx (the client sees only `public_message`).
    pub fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = format!("{e:#}"), "request failed"),
            AppError::Database(e) => {
                tracing::error!(error = waybill_db::error_chain(e), "request failed")
            }
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

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::anyhow!("template: {e}"))
    }
}
