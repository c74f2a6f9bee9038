//! The agent's check-in endpoint (device token): rate-limited per device, then
//! `checkin::checkin`.

use axum::extract::State;
use axum::Json;
use tend_shared::checkin::{CheckinRequest, CheckinResponse};

use crate::error::{ApiError, ApiJson};
use crate::state::AppState;
use crate::users::auth::Auth;

pub async fn checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CheckinRequest>,
) -> Result<Json<CheckinResponse>, ApiError> {
    let device = auth.device(&state, "device.checkin").await?;
    state.device_rate(&state.rates.checkins, "check-ins", &device.id)?;
    crate::checkin::checkin(&state, device, req).await.map(Json)
}
