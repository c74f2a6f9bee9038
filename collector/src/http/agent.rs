//! Agent endpoints (device token): enroll and check-in.

use axum::extract::State;
use axum::Json;
use tend_shared::checkin::{CheckinRequest, CheckinResponse};
use tend_shared::enroll::{EnrollRequest, EnrollResponse};

use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::service;
use crate::state::AppState;

pub async fn enroll(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    service::enroll::enroll(&state, req).await.map(Json)
}

pub async fn checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CheckinRequest>,
) -> Result<Json<CheckinResponse>, ApiError> {
    let device = auth.device()?;
    service::checkin::checkin(&state, device, req)
        .await
        .map(Json)
}
