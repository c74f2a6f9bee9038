//! Agent endpoints (device token): enroll and check-in.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use tend_shared::checkin::{CheckinRequest, CheckinResponse};
use tend_shared::enroll::{EnrollRequest, EnrollResponse};
use tend_shared::jobs::JobsNextResponse;

use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiQuery};
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

/// Longest a long-poll may be held open.
pub const MAX_WAIT_S: u64 = 60;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    wait: u64,
    /// The policy version the agent runs; a newer one answers at once.
    #[serde(default)]
    policy_version: Option<u64>,
}

/// Long-poll: returns when the policy changes past the agent's version, or after
/// `wait` seconds (at most 60). Jobs join this channel with the job queue.
pub async fn jobs_next(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<NextQuery>,
) -> Result<Json<JobsNextResponse>, ApiError> {
    auth.device()?;
    let mut rx = state.watch_policy_version();
    let stale = |v: u64| q.policy_version.is_some_and(|mine| mine != v);
    let current = *rx.borrow_and_update();
    if !stale(current) && q.wait > 0 {
        let wait = Duration::from_secs(q.wait.min(MAX_WAIT_S));
        let changed = async {
            while rx.changed().await.is_ok() {
                if stale(*rx.borrow_and_update()) {
                    break;
                }
            }
        };
        tokio::select! {
            _ = tokio::time::timeout(wait, changed) => {}
            _ = state.shutdown_signal() => {}
        }
    }
    let policy_version = *rx.borrow();
    Ok(Json(JobsNextResponse {
        jobs: Vec::new(),
        policy_version,
    }))
}
