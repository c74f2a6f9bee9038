//! Unauthenticated operational endpoints: `/healthz`, `/metrics`, and the 404 fallback.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::{error_response, ApiError};
use crate::state::AppState;

/// Liveness and the store's reachability; the device count comes from counters (a
/// handful of keys, whatever the fleet size).
pub async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    let reason = state.store.degraded();
    // a store that met the end of the disk may fail reads too: still say why
    let devices = match state.store.read().counts().await {
        Ok(c) => c.devices,
        Err(_) if reason.is_some() => 0,
        Err(e) => return Err(e.into()),
    };
    let body = tend_shared::api::Health {
        status: if reason.is_some() { "degraded" } else { "ok" }.into(),
        reason: reason.map(str::to_string),
        version: env!("CARGO_PKG_VERSION").into(),
        store: state.store.engine().as_str().into(),
        devices,
    };
    // a load balancer takes a collector that cannot save out of rotation
    let status = if reason.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    Ok((status, Json(body)).into_response())
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let by_health = crate::devices::count_by_health(&state).await?;
    let open = state.store.read().counts().await?.open_tickets;
    let mut body = state.metrics.render(&by_health, state.store.size_on_disk());
    body.push_str(&format!(
        "# HELP tend_tickets_open Open tickets.\n# TYPE tend_tickets_open gauge\ntend_tickets_open {open}\n"
    ));
    body.push_str(&format!(
        "# HELP tend_store_flushes_total Store flushes (group commit: one covers every request waiting).\n# TYPE tend_store_flushes_total counter\ntend_store_flushes_total {}\n",
        state.store.flushes()
    ));
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

pub async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
