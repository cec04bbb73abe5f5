//! API errors: Prometheus's `errorType` classes, their HTTP statuses and its message texts
//! (`web/api/v1/api.go`: `apiError`, `invalidParamError`, `returnAPIError`,
//! `getDefaultErrorCode`).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use query::engine::{ErrorKind, QueryError};

use super::json;

/// The class of an API error; it decides `errorType` and the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// Malformed parameters or query: 400 `bad_data`.
    BadData,
    /// Evaluation or storage-read failure: 422 `execution`.
    Execution,
    /// The query ran out of time: 503 `timeout`.
    Timeout,
    /// The query was cancelled: 499 `canceled` (nginx's "client closed request", as in
    /// Prometheus).
    Canceled,
    /// A storage failure inside the engine: 500 `internal`.
    Internal,
}

impl ErrorType {
    /// Prometheus's `errorType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadData => "bad_data",
            Self::Execution => "execution",
            Self::Timeout => "timeout",
            Self::Canceled => "canceled",
            Self::Internal => "internal",
        }
    }

    /// Prometheus's default HTTP status for the class.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadData => StatusCode::BAD_REQUEST,
            Self::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answer: its class and the message Prometheus would give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", error_type.as_str())]
pub struct ApiError {
    /// The class.
    pub error_type: ErrorType,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// An error of class `error_type`.
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            error_type,
            message: message.into(),
        }
    }

    /// A `bad_data` error with a bare message.
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self::new(ErrorType::BadData, message)
    }

    /// `invalid parameter "NAME": MESSAGE` (`invalidParamError`).
    pub fn invalid_param(name: &str, message: impl std::fmt::Display) -> Self {
        Self::bad_data(format!("invalid parameter \"{name}\": {message}"))
    }

    /// An `execution` error, e.g. a storage read failing outside the engine.
    pub fn execution(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Execution, message)
    }

    /// An error the engine returned while evaluating (`returnAPIError`).
    pub fn from_query(err: QueryError) -> Self {
        let error_type = match err.kind {
            ErrorKind::BadData => ErrorType::BadData,
            ErrorKind::Execution => ErrorType::Execution,
            ErrorKind::Timeout => ErrorType::Timeout,
            ErrorKind::Canceled => ErrorType::Canceled,
            ErrorKind::Internal => ErrorType::Internal,
        };
        Self::new(error_type, err.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json::error(self.error_type.as_str(), &self.message);
        (
            self.error_type.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
