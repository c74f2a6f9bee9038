//! The job channel: per-device queues in the store, delivery through the agent's long-poll,
//! results, expiry, and analysts waiting for a result.
//!
//! States: `queued → delivered → running → succeeded|failed|timed_out|rejected|expired`.
//! A script job is rebuilt from the registry at delivery, so a revoked script never
//! leaves the collector and whatever the store holds is what the agent verifies.
//!
//! Nothing is lost or stuck: a delivered job stays in the device's queue until the
//! device acknowledges it (reports `running` or a result) and is delivered again if
//! that does not happen within `REDELIVER_AFTER_MS` (the answer carrying it may have
//! been lost; the agent runs a job id once). A job delivered or running past its run
//! deadline expires, saying why, so nobody waits on it forever.

pub mod routes;
mod store;

pub use store::BulkRecord;

pub mod bulk;
pub mod scripts;

use tend_shared::api::AuditOutcome;
use tend_shared::jobs::{Job, JobResult, JobSpec, JobState, JobView};

use crate::error::ApiError;
use crate::fleet::DeviceRecord;
use crate::state::AppState;
use crate::store::random_hex_id;

/// Jobs not picked up within this long expire.
pub const JOB_TTL_MS: u64 = 24 * 3600 * 1000;
/// A delivered job the device has not acknowledged is delivered again after this.
pub const REDELIVER_AFTER_MS: u64 = 60_000;
/// Past the job's own timeout, how long a device may take to report before the job
/// expires.
pub const REPORT_GRACE_MS: u64 = 5 * 60_000;

/// When a delivered or running job has run out of time to report.
pub fn run_deadline(j: &JobView) -> Option<u64> {
    let since = j.started_at_ms.or(j.delivered_at_ms)?;
    let allowed = match &j.spec {
        JobSpec::Script(s) => s.timeout_s.saturating_mul(1000),
        JobSpec::Diagnostic { .. } => 5 * 60_000,
    };
    Some(since + allowed + REPORT_GRACE_MS)
}

/// A result saying why a job never ran.
pub fn rejection(reason: &str) -> JobResult {
    JobResult::rejected(reason)
}

/// Longest a job may wait for an offline device.
pub const MAX_TTL_MS: u64 = 14 * 24 * 3600 * 1000;

/// Where a job belongs and how long it may wait.
#[derive(Debug, Clone, Default)]
pub struct QueueOptions {
    pub bulk_id: Option<String>,
    /// Default [`JOB_TTL_MS`]; 60 s to [`MAX_TTL_MS`].
    pub ttl_ms: Option<u64>,
    /// A ticket of the same device: the result is attached to its timeline.
    pub ticket_id: Option<String>,
}

impl QueueOptions {
    pub fn bulk(id: Option<String>) -> QueueOptions {
        QueueOptions {
            bulk_id: id,
            ..QueueOptions::default()
        }
    }
}

/// Validates and queues a job for `device`, waking its long-poll.
pub async fn queue(
    state: &AppState,
    device: &DeviceRecord,
    spec: JobSpec,
    actor: &str,
    opts: QueueOptions,
) -> Result<JobView, ApiError> {
    let ttl_ms = opts.ttl_ms.unwrap_or(JOB_TTL_MS);
    if !(60_000..=MAX_TTL_MS).contains(&ttl_ms) {
        return Err(ApiError::BadRequest(
            "a job waits 60 s to 14 days for its device (ttl_s)".into(),
        ));
    }
    if let Some(t) = &opts.ticket_id {
        let ticket = state.store.read().ticket(t).await?;
        if ticket.is_none_or(|k| k.ticket.device_id != device.id) {
            return Err(ApiError::BadRequest(format!(
                "ticket {t} is not a ticket of device {}",
                device.id
            )));
        }
    }
    match &spec {
        JobSpec::Diagnostic { name, args } => {
            tend_shared::diagnostics::validate(name, args).map_err(ApiError::BadRequest)?;
        }
        JobSpec::Script(s) => {
            let approved = scripts::approved(state, &s.script_id)
                .await?
                .ok_or_else(|| {
                    ApiError::BadRequest(format!("script {} has no approved version", s.script_id))
                })?;
            if !approved.platforms.contains(&device.platform) {
                return Err(ApiError::BadRequest(format!(
                    "script {} does not run on {}",
                    approved.name,
                    device.platform.as_str()
                )));
            }
        }
    }
    let now = state.now_ms();
    let job = JobView {
        id: format!("j_{}", random_hex_id::<8>()),
        device_id: device.id.clone(),
        state: JobState::Queued,
        spec,
        created_by: actor.to_string(),
        created_at_ms: now,
        expires_at_ms: now + ttl_ms,
        delivered_at_ms: None,
        deliveries: 0,
        started_at_ms: None,
        finished_at_ms: None,
        result: None,
        bulk_id: opts.bulk_id,
        ticket_id: opts.ticket_id,
    };
    crate::commit!(state.store, tx => {
        tx.put_job(&job).await?;
        state
            .audit_in(
                &mut tx,
                actor,
                "job.queue",
                &job.id,
                AuditOutcome::Success,
                serde_json::json!({"device": device.id, "spec": job.spec}),
            )
            .await?;
        // wakes the device's long-poll on whichever collector holds it
        tx.signal(format!("job:{}", device.id));
        Ok(())
    })?;
    Ok(job)
}

/// Queues an approved script by id (resolving its current approved version).
pub async fn queue_script(
    state: &AppState,
    device: &DeviceRecord,
    script_id: &str,
    actor: &str,
    opts: QueueOptions,
) -> Result<JobView, ApiError> {
    let s = scripts::approved(state, script_id).await?.ok_or_else(|| {
        ApiError::BadRequest(format!("script {script_id} has no approved version"))
    })?;
    let signed = scripts::signed(&s)
        .ok_or_else(|| ApiError::Internal("approved script without signature".into()))?;
    queue(state, device, JobSpec::Script(signed), actor, opts).await
}

/// Hands the device its queued jobs (marking them delivered); expired or revoked ones
/// are settled instead of delivered.
pub async fn take_queued(state: &AppState, device_id: &str) -> Result<Vec<Job>, ApiError> {
    let now = state.now_ms();
    let out = crate::atomic!(state.store, tx => take_in(&mut tx, device_id, now).await)?;
    if !out.is_empty() {
        state.store.flush().await?;
        state.job_results.notify_waiters();
    }
    Ok(out)
}

async fn take_in(
    tx: &mut crate::store::Tx,
    device_id: &str,
    now: u64,
) -> Result<Vec<Job>, ApiError> {
    let mut out = Vec::new();
    let mut settled = false;
    for mut j in tx.queued_jobs(device_id).await? {
        if j.state == JobState::Delivered
            && j.delivered_at_ms
                .is_some_and(|d| now.saturating_sub(d) < REDELIVER_AFTER_MS)
        {
            continue; // handed out a moment ago; the device is acknowledging it
        }
        if j.state == JobState::Queued && j.expires_at_ms <= now {
            j.state = JobState::Expired;
            j.finished_at_ms = Some(now);
            j.result = Some(rejection("not picked up before it expired"));
            tx.put_job(&j).await?;
            settled = true;
            continue;
        }
        let spec = match &j.spec {
            JobSpec::Script(s) => {
                // the registry's current bytes, not the queue-time copy
                let current = tx
                    .script_versions(&s.script_id)
                    .await?
                    .into_iter()
                    .find(|v| v.version == s.version);
                match current.filter(|v| v.status == tend_shared::jobs::ScriptStatus::Approved) {
                    Some(v) => match scripts::signed(&v) {
                        Some(signed) => JobSpec::Script(signed),
                        None => JobSpec::Script(s.clone()),
                    },
                    None => {
                        j.state = JobState::Rejected;
                        j.finished_at_ms = Some(now);
                        j.result = Some(rejection("script revoked or superseded before delivery"));
                        tx.put_job(&j).await?;
                        settled = true;
                        continue;
                    }
                }
            }
            other => other.clone(),
        };
        j.state = JobState::Delivered;
        j.delivered_at_ms = Some(now);
        j.deliveries += 1;
        tx.put_job(&j).await?;
        out.push(Job {
            id: j.id.clone(),
            created_at_ms: j.created_at_ms,
            expires_at_ms: j.expires_at_ms,
            spec,
            created_by: j.created_by.clone(),
        });
    }
    if settled || !out.is_empty() {
        tx.signal("results");
    }
    Ok(out)
}

/// Records a device's report on one of its jobs. `running` is an intermediate state;
/// a final state settles the job (a repeat of the same final report is accepted).
pub async fn record_result(
    state: &AppState,
    device_id: &str,
    job_id: &str,
    result: JobResult,
) -> Result<JobView, ApiError> {
    let now = state.now_ms();
    let j = crate::commit!(state.store, tx => {
        record_in(state, &mut tx, device_id, job_id, &result, now).await
    })?;
    Ok(j)
}

async fn record_in(
    state: &AppState,
    tx: &mut crate::store::Tx,
    device_id: &str,
    job_id: &str,
    result: &JobResult,
    now: u64,
) -> Result<JobView, ApiError> {
    let mut j = tx
        .job(job_id)
        .await?
        .filter(|j| j.device_id == device_id)
        .ok_or_else(|| ApiError::not_found("job", job_id))?;
    if j.state.is_final() {
        if j.state == result.state {
            return Ok(j);
        }
        return Err(ApiError::Conflict(format!(
            "job {job_id} is already {:?}",
            j.state
        )));
    }
    // a diagnostic's output has its typed shape or is refused (the console shows
    // its numbers as numbers)
    if let JobSpec::Diagnostic { name, .. } = &j.spec {
        tend_shared::outputs::check_output(name, &result.output).map_err(ApiError::BadRequest)?;
    }
    if matches!(
        result.state,
        JobState::Queued | JobState::Delivered | JobState::Expired
    ) {
        return Err(ApiError::BadRequest(
            "a device reports running, succeeded, failed, timed_out or rejected".into(),
        ));
    }
    j.state = result.state;
    if result.state == JobState::Running {
        j.started_at_ms.get_or_insert(now);
    }
    if result.state.is_final() {
        j.finished_at_ms = Some(now);
        j.result = Some(result.clone());
        if let Some(t) = &j.ticket_id {
            attach_to_ticket(tx, &j, t, result, now).await?;
        }
    }
    tx.put_job(&j).await?;
    state
        .audit_in(
            tx,
            &format!("device:{device_id}"),
            "job.result",
            job_id,
            AuditOutcome::Success,
            serde_json::json!({"state": j.state}),
        )
        .await?;
    // wakes analysts waiting on this job on every collector
    tx.signal("results");
    Ok(j)
}

/// Puts a finished job's result on the timeline of the ticket it was queued from.
async fn attach_to_ticket(
    tx: &mut crate::store::Tx,
    j: &JobView,
    ticket: &str,
    r: &JobResult,
    now: u64,
) -> Result<(), ApiError> {
    let what = match &j.spec {
        JobSpec::Diagnostic { name, args } => format!("{name} {}", args.join(" ")),
        JobSpec::Script(s) => format!("script {} v{}", s.name, s.version),
    };
    let exit = r
        .exit_code
        .map_or(String::new(), |c| format!(", exit code {c}"));
    let mut out = r.stdout.clone();
    tend_shared::text::clip_in_place(&mut out, 8 * 1024);
    tx.append_timeline(
        ticket,
        &crate::tickets::entry(
            now,
            &format!("device:{}", j.device_id),
            "job.result",
            format!("{} {}: {}{exit}", j.id, what.trim(), r.state.label()),
            serde_json::json!({"job": j.id, "state": r.state, "exit_code": r.exit_code,
                "output": r.output, "stdout": out, "reason": r.reason}),
        ),
    )
    .await?;
    Ok(())
}

/// Expires jobs nobody picked up before their deadline, and delivered or running
/// jobs whose device never reported within their run deadline (the sweep calls this).
pub async fn expire(state: &AppState) -> Result<usize, ApiError> {
    let now = state.now_ms();
    let due = state.store.read().jobs_due(now, 10_000).await?;
    let mut n = 0;
    for due in due {
        let expired = crate::atomic!(state.store, tx => {
            let Some(mut j) = tx.job(&due.id).await? else {
                return Ok(false);
            };
            let why = match j.state {
                JobState::Queued if j.expires_at_ms <= now => "not picked up before it expired",
                JobState::Delivered | JobState::Running
                    if run_deadline(&j).is_some_and(|d| d <= now) =>
                {
                    "the device never reported a result (it went offline or restarted mid-job)"
                }
                _ => return Ok(false),
            };
            j.state = JobState::Expired;
            j.finished_at_ms = Some(now);
            j.result = Some(rejection(why));
            tx.put_job(&j).await?;
            tx.signal("results");
            Ok(true)
        })?;
        n += usize::from(expired);
    }
    Ok(n)
}

/// The job, waiting up to `wait` for it to reach a final state.
pub async fn wait_final(
    state: &AppState,
    id: &str,
    wait: std::time::Duration,
) -> Result<JobView, ApiError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = state.job_results.notified();
        let j = state
            .store
            .read()
            .job(id)
            .await?
            .ok_or_else(|| ApiError::not_found("job", id))?;
        if j.state.is_final() || tokio::time::Instant::now() >= deadline {
            return Ok(j);
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}
