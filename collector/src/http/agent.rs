//! Agent endpoints (device token): enroll, check-in, long-poll, and what a device
//! does for its user (their tickets' public view, their CSAT rating).

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use tend_shared::checkin::{CheckinRequest, CheckinResponse};
use tend_shared::enroll::{EnrollRequest, EnrollResponse};
use tend_shared::jobs::JobsNextResponse;

use crate::auth::{Auth, ClientAddr};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::service;
use crate::state::AppState;

pub async fn enroll(
    State(state): State<AppState>,
    ClientAddr(source): ClientAddr,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    service::enroll::enroll(&state, req, &source)
        .await
        .map(Json)
}

pub async fn checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CheckinRequest>,
) -> Result<Json<CheckinResponse>, ApiError> {
    let device = auth.device(&state, "device.checkin").await?;
    state.device_rate(&state.rates.checkins, "check-ins", &device.id)?;
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

/// Long-poll: answers at once with the device's queued jobs, or when a job is queued,
/// the policy moves past the agent's version, or the collector stops; otherwise after
/// `wait` seconds (at most 60) with nothing.
pub async fn jobs_next(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<NextQuery>,
) -> Result<Json<JobsNextResponse>, ApiError> {
    let device = auth.device(&state, "job.poll").await?;
    let wakeup = state.job_wakeup(&device.id);
    // at most one poll per device: this one replaces any older one
    let mine = wakeup.take();
    let mut rx = state.watch_policy_version();
    let stale = |v: u64| q.policy_version.is_some_and(|mine| mine != v);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait.min(MAX_WAIT_S));
    loop {
        // register for wake-ups before looking, so a job queued in between is not missed
        let notified = wakeup.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let current = *rx.borrow_and_update();
        if !wakeup.holds(mine) {
            // a newer poll of this device took over: leave its jobs to it
            return Ok(Json(JobsNextResponse {
                jobs: Vec::new(),
                policy_version: current,
            }));
        }
        let jobs = crate::jobs::take_queued(&state, &device.id).await?;
        if !jobs.is_empty() || stale(current) || tokio::time::Instant::now() >= deadline {
            return Ok(Json(JobsNextResponse {
                jobs,
                policy_version: current,
            }));
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = rx.changed() => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = state.shutdown_signal() => {
                return Ok(Json(JobsNextResponse { jobs: Vec::new(), policy_version: current }));
            }
        }
    }
}

/// `GET /api/v1/device/tickets/{id}`: a ticket this device filed for its user, with
/// the public replies (never internal notes).
pub async fn requester_ticket(
    State(state): State<AppState>,
    auth: Auth,
    crate::error::ApiPath(id): crate::error::ApiPath<String>,
) -> Result<Json<tend_shared::tickets::RequesterView>, ApiError> {
    let device = auth.device(&state, "ticket.requester_view").await?;
    crate::tickets::requester::view(&state, &device, &id)
        .await
        .map(Json)
}

/// `POST /api/v1/tickets/{id}/csat`: the requester's rating, through their device.
pub async fn csat(
    State(state): State<AppState>,
    auth: Auth,
    crate::error::ApiPath(id): crate::error::ApiPath<String>,
    ApiJson(req): ApiJson<tend_shared::tickets::CsatRequest>,
) -> Result<Json<tend_shared::tickets::RequesterView>, ApiError> {
    let device = auth.device(&state, "ticket.csat").await?;
    state.device_rate(
        &state.rates.user_tickets,
        "requests from this laptop's users",
        &device.id,
    )?;
    crate::tickets::requester::rate(&state, &device, &id, req)
        .await
        .map(Json)
}
