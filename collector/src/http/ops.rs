//! Unauthenticated operational endpoints: `/healthz`, `/metrics`, and the 404 fallback.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::{error_response, ApiError};
use crate::service;
use crate::state::AppState;

pub async fn healthz(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "devices": state.store.device_count(),
    }))
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let st = state.clone();
    let by_health = tokio::task::spawn_blocking(move || service::devices::count_by_health(&st))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let body = state.metrics.render(&by_health, state.store.size_on_disk());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

pub async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
