//! The one error type every service and handler returns, and its HTTP mapping.
//!
//! Internal failures are logged with detail and shown to clients only as
//! `internal_error`. Extractor rejections (bad JSON, bad query, oversized bodies) are
//! turned into the same `{"error": {...}}` body by the `ApiJson`/`ApiQuery` wrappers.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tend_shared::api::ErrorBody;

use crate::store::StoreError;

/// Every failure a client can see.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// A 400 naming the request field at fault (`field` in the error body).
    #[error("{message}")]
    InvalidField { field: String, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429 with `Retry-After`.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_s: u64 },
    /// A refusal with its own status and machine-readable code.
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("storage failure")]
    Store(#[from] StoreError),
    #[error("internal failure: {0}")]
    Internal(String),
}

impl crate::store::Retryable for ApiError {
    fn is_conflict(&self) -> bool {
        matches!(self, ApiError::Store(StoreError::Conflict))
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidField { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Refused { status, .. } => *status,
            ApiError::Store(StoreError::Conflict | StoreError::Unavailable(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Store(StoreError::DiskFull(_)) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidField { .. } => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Refused { code, .. } => code,
            ApiError::Store(StoreError::Conflict | StoreError::Unavailable(_)) => "unavailable",
            ApiError::Store(StoreError::DiskFull(_)) => "insufficient_storage",
            ApiError::Store(_) | ApiError::Internal(_) => "internal_error",
        }
    }

    /// A 429 saying when to try again.
    pub fn rate_limited(what: &str, wait: std::time::Duration) -> ApiError {
        let retry_after_s = wait.as_secs_f64().ceil().max(1.0) as u64;
        ApiError::TooManyRequests {
            message: format!("too many {what}; try again in {retry_after_s} s"),
            retry_after_s,
        }
    }

    pub fn not_found(what: &str, id: &str) -> ApiError {
        ApiError::NotFound(format!("{what} {id:?} not found"))
    }
}

/// Builds an error response from a status and message (used by the fallback layers).
pub fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, axum::Json(ErrorBody::new(code, message))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = ?self, "internal error");
            "internal error; see the collector log".to_string()
        } else {
            self.to_string()
        };
        let message = match status {
            StatusCode::SERVICE_UNAVAILABLE => {
                "the store is busy or unreachable; try again shortly".to_string()
            }
            StatusCode::INSUFFICIENT_STORAGE => {
                "the collector's disk is full; nothing was saved; try again later".to_string()
            }
            _ => message,
        };
        let mut resp = match &self {
            ApiError::InvalidField { field, .. } => {
                let mut body = ErrorBody::new(self.code(), message);
                body.error.field = Some(field.clone());
                (status, axum::Json(body)).into_response()
            }
            _ => error_response(status, self.code(), message),
        };
        let retry_after: u64 = match status {
            StatusCode::SERVICE_UNAVAILABLE => 1,
            StatusCode::INSUFFICIENT_STORAGE => 30,
            _ => 0,
        };
        if retry_after > 0 {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after),
            );
        }
        if let ApiError::TooManyRequests { retry_after_s, .. } = self {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_s),
            );
        }
        resp
    }
}

fn from_json_rejection(rej: JsonRejection) -> ApiError {
    match rej {
        JsonRejection::JsonDataError(e) => {
            ApiError::BadRequest(format!("invalid body: {}", e.body_text()))
        }
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::BadRequest(format!("malformed JSON: {}", e.body_text()))
        }
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::UnsupportedMediaType("expected Content-Type: application/json".into())
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("request body exceeds the size limit".into())
        }
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// `axum::Json` whose rejections are `ApiError`s.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(v)| ApiJson(v))
            .map_err(from_json_rejection)
    }
}

/// `axum::extract::Query` whose rejections are `ApiError`s.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// `axum::extract::Path` whose rejections are `ApiError`s.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// A page's `limit` and `cursor` from a query, checked (a bad cursor is a 400).
pub trait PageParams {
    fn cursor(&self) -> Result<Option<crate::store::Cursor>, ApiError>;
    fn limit(&self) -> usize;
}

impl PageParams for tend_shared::query::PageQuery {
    fn cursor(&self) -> Result<Option<crate::store::Cursor>, ApiError> {
        crate::store::paging::cursor(self.cursor.as_deref()).map_err(ApiError::BadRequest)
    }

    fn limit(&self) -> usize {
        crate::store::paging::limit(self.limit)
    }
}
