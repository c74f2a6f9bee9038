//! Script registry, job and bulk endpoints, and the agent's job long-poll.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_shared::api::Role;
use tend_shared::jobs::JobsNextResponse;
use tend_shared::jobs::{
    BulkRequest, BulkStatus, DiagnosticRequest, JobResult, JobSpec, JobView, Script, ScriptSubmit,
    SignedScript,
};

use crate::error::PageParams;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::jobs::{self, bulk, scripts};
use crate::state::AppState;
use crate::users::auth::Auth;
use tend_shared::jobs::RunScript;
use tend_shared::query::{NextQuery, PageQuery, WaitQuery};

pub async fn submit_script(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<ScriptSubmit>,
) -> Result<(StatusCode, Json<Script>), ApiError> {
    let user = auth.require(&state, Role::Admin, "script.submit").await?;
    Ok((
        StatusCode::CREATED,
        Json(scripts::submit(&state, &user, req).await?),
    ))
}

pub async fn list_scripts(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<Script>>, ApiError> {
    auth.require(&state, Role::Viewer, "script.list").await?;
    Ok(Json(state.store.read().scripts_latest().await?))
}

pub async fn script(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<Script>>, ApiError> {
    auth.require(&state, Role::Viewer, "script.read").await?;
    let v = state.store.read().script_versions(&id).await?;
    if v.is_empty() {
        return Err(ApiError::not_found("script", &id));
    }
    Ok(Json(v))
}

pub async fn approve_script(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Script>, ApiError> {
    let user = auth.require(&state, Role::Admin, "script.approve").await?;
    scripts::approve(&state, &user, &id).await.map(Json)
}

pub async fn revoke_script(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<Script>>, ApiError> {
    let user = auth.require(&state, Role::Admin, "script.revoke").await?;
    scripts::revoke(&state, &user, &id).await.map(Json)
}

/// The approved, signed form (devices fetch it to remediate).
pub async fn signed_script(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SignedScript>, ApiError> {
    let device = auth.device(&state, "script.fetch").await?;
    // a device reads only what it may run: a remediation the policy maps, or a
    // script queued to it
    let remediation = state
        .policy()
        .remediations
        .values()
        .any(|r| r.script_id == id);
    let queued = remediation
        || state
            .store
            .read()
            .jobs_waiting_for_script(&id)
            .await?
            .iter()
            .any(|j| j.device_id == device.id);
    if !queued {
        state
            .audit(
                &format!("device:{}", device.id),
                "script.fetch",
                &id,
                tend_shared::api::AuditOutcome::Denied,
                serde_json::json!({"reason": "not a remediation and not queued to this device"}),
            )
            .await?;
        return Err(ApiError::NotFound(format!(
            "script {id:?} is neither a remediation in the policy nor queued to this device"
        )));
    }
    let s = scripts::approved(&state, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("script {id:?} has no approved version")))?;
    scripts::signed(&s)
        .map(Json)
        .ok_or_else(|| ApiError::Internal("approved script without signature".into()))
}

pub async fn queue_diagnostic(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<DiagnosticRequest>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let user = auth.require(&state, Role::Analyst, "job.queue").await?;
    let device = state
        .store
        .read()
        .device(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("device", &id))?;
    let job = jobs::queue(
        &state,
        &device,
        JobSpec::Diagnostic {
            name: req.name,
            args: req.args,
        },
        &user.actor(),
        options(req.ttl_s, req.ticket_id),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(job)))
}

fn options(ttl_s: Option<u64>, ticket_id: Option<String>) -> jobs::QueueOptions {
    jobs::QueueOptions {
        bulk_id: None,
        ttl_ms: ttl_s.map(|s| s.saturating_mul(1000)),
        ticket_id,
    }
}

pub async fn queue_script(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<RunScript>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let user = auth.require(&state, Role::Analyst, "job.queue").await?;
    let device = state
        .store
        .read()
        .device(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("device", &id))?;
    let job = jobs::queue_script(
        &state,
        &device,
        &req.script_id,
        &user.actor(),
        options(req.ttl_s, req.ticket_id),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(job)))
}

/// A device's jobs, newest first, a page at a time.
pub async fn device_jobs(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<tend_shared::api::Page<JobView>>, ApiError> {
    auth.require(&state, Role::Viewer, "job.list").await?;
    let page = state
        .store
        .read()
        .device_jobs_page(&id, q.cursor()?.as_ref(), q.limit())
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(Json(page))
}

/// A job; `?wait=S` holds the answer until it is final (at most 60 s).
pub async fn job(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<JobView>, ApiError> {
    auth.require(&state, Role::Viewer, "job.read").await?;
    jobs::wait_final(&state, &id, Duration::from_secs(q.wait.min(60)))
        .await
        .map(Json)
}

pub async fn job_result(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<JobResult>,
) -> Result<Json<JobView>, ApiError> {
    let device = auth.device(&state, "job.result").await?;
    state.device_rate(&state.rates.job_results, "job results", &device.id)?;
    jobs::record_result(&state, &device.id, &id, r)
        .await
        .map(Json)
}

pub async fn create_bulk(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<BulkRequest>,
) -> Result<(StatusCode, Json<BulkStatus>), ApiError> {
    let user = auth.require(&state, Role::Analyst, "bulk.create").await?;
    Ok((
        StatusCode::CREATED,
        Json(bulk::create(&state, &user, req).await?),
    ))
}

pub async fn bulk_status(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BulkStatus>, ApiError> {
    auth.require(&state, Role::Viewer, "bulk.read").await?;
    bulk::status(&state, &id).await.map(Json)
}

/// `GET /api/v1/diagnostics`: the catalogue with typed arguments (forms).
pub async fn diagnostics(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<tend_shared::console::DiagnosticSpec>>, ApiError> {
    auth.require(&state, Role::Viewer, "diagnostic.catalogue")
        .await?;
    Ok(Json(tend_shared::diagnostics::specs()))
}

/// Longest a long-poll may be held open.
pub const MAX_WAIT_S: u64 = 60;

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
