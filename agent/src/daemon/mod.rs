//! `tend-agent run`: evaluate checks, report, and listen.
//!
//! - Checks are evaluated every `evaluation_interval_s`; a check changing state is
//!   spooled as an event and reported at once, not at the next interval.
//! - Routine check-ins every `checkin_interval_s` ± 10 %; the inventory is sent only
//!   when its content hash changed (or the collector asks for it).
//! - A long-poll (`GET /api/v1/jobs/next`) stays open; a newer policy wakes it and the
//!   agent checks in at once to fetch it.
//! - A check that starts failing runs its mapped remediation first (`incidents`);
//!   only if that does not fix it is a ticket spooled. Jobs from the long-poll run in
//!   their own tasks (`jobs`).
//! - When the collector is unreachable: retries spaced by half the outage's age, at
//!   most a minute apart, jittered; health snapshots and events go to the spool and
//!   are replayed in order on return.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use tend_shared::checkin::{CheckinRequest, CheckinResponse};
use tend_shared::health::{CheckResult, CheckStatus};
use tend_shared::inventory::Inventory;
use tend_shared::jobs::JobsNextResponse;
use tend_shared::policy::Policy;
use tokio::task::JoinHandle;
use tokio::time::Instant;

mod heartbeat;
mod incidents;
mod jobs;
mod lifecycle;
mod user;

pub use lifecycle::RunOptions;

use crate::checks::measure::ProbeCache;
use crate::spool::{Spool, SpoolError, SpoolLimits, SpooledReport};
use crate::state::{StateDir, StateError, Status};
use crate::transport::{Client, TransportError};

/// Events sent per check-in (the spool sends the rest right after).
const EVENTS_PER_CHECKIN: usize = 200;
/// Long-poll wait asked of the collector.
const LONG_POLL_S: u64 = 30;

impl DaemonError {
    /// The collector's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DaemonError::Transport(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// Failures that stop the daemon (anything network-related is retried instead).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
}

/// A random fraction in [0, 1).
fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    let _ = getrandom::getrandom(&mut b);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Base interval ± 10 %.
pub fn jittered(base: Duration) -> Duration {
    base.mul_f64(0.9 + 0.2 * random_unit())
}

/// The longest wait between two tries while the collector is unreachable: a laptop is
/// back in touch within a minute of the collector's return, however long it was away.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// The wait before the next try, from how long the collector has been unreachable
/// (not how many tries failed): half the outage so far, 1 s to [`MAX_RETRY_DELAY`],
/// drawn from [50 %, 100 %] so a fleet's retries spread out — a 5 s outage is retried
/// within seconds of its end, a long one about every 30 to 60 s. A `Retry-After` from
/// the collector is a floor.
pub fn retry_delay(outage: Duration, retry_after: Option<Duration>) -> Duration {
    let base = (outage.as_secs_f64() / 2.0).clamp(1.0, MAX_RETRY_DELAY.as_secs_f64());
    let d = Duration::from_secs_f64(base * (0.5 + 0.5 * random_unit()));
    d.max(retry_after.unwrap_or_default())
}

fn event_kind(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "check.recovered",
        CheckStatus::Warn => "check.warning",
        CheckStatus::Fail => "check.failed",
        CheckStatus::Error => "check.error",
    }
}

/// One agent bound to its state dir.
pub struct Agent {
    state: StateDir,
    client: Client,
    spool: Spool,
    policy: Policy,
    cache: Option<ProbeCache>,
    check_states: BTreeMap<String, CheckStatus>,
    health: Vec<CheckResult>,
    health_at_ms: u64,
    inventory: Option<Inventory>,
    inventory_at: Option<Instant>,
    sent_inventory_hash: Option<String>,
    /// The health the collector acknowledged holding (heartbeats build on it).
    acked_health: Option<heartbeat::Acked>,
    status: Status,
    /// The collector's script-signing key, pinned at enrollment.
    signing_key: String,
    /// Where scripts get their private working directories.
    work_dir: std::path::PathBuf,
    ledger: crate::remediate::Ledger,
    /// Jobs started here (a job delivered twice runs once).
    ledger_jobs: crate::results::JobLedger,
    /// Tickets filed for local users (`tend help`) and what IT ran here.
    user_tickets: user::Record<user::Filed>,
    ran_here: user::RanLog,
    notifier: crate::notify::Notifier,
    /// When the user's open requests were last looked up (every 5 minutes at most).
    followed_at: Option<Instant>,
    /// Local config (watched; reloaded live).
    config: crate::config::AgentConfig,
    life: lifecycle::Lifecycle,
}

impl Agent {
    pub fn new(state: StateDir) -> Result<Agent, DaemonError> {
        Agent::with_options(state, RunOptions::embedded())
    }

    pub fn with_options(state: StateDir, opts: RunOptions) -> Result<Agent, DaemonError> {
        let creds = state.credentials()?;
        let client = Client::new(&creds.server_url, &creds.ca_pem, Some(creds.device_token))?;
        let spool = Spool::open(&state.spool_dir(), SpoolLimits::default())?;
        // a transition is spooled just before the states file is saved: an agent
        // killed between the two would report it again, so unsent events win
        let mut check_states = state.check_states()?;
        check_states.extend(spool.pending_check_states());
        Ok(Agent {
            signing_key: creds.signing_public_key.clone(),
            work_dir: crate::jobs::exec::work_root(state.path()),
            ledger: crate::remediate::Ledger::open(&state),
            ledger_jobs: crate::results::JobLedger::open(&state),
            user_tickets: user::Record::open(&state, "user-tickets.json"),
            notifier: crate::notify::Notifier::new(),
            followed_at: None,
            ran_here: std::sync::Arc::new(std::sync::Mutex::new(user::Record::open(
                &state,
                "ran-here.json",
            ))),
            policy: state.policy()?,
            check_states,
            status: state.status()?,
            state,
            client,
            spool,
            cache: Some(ProbeCache::with_crash_dirs(opts.config.crash.dirs.clone())),
            health: Vec::new(),
            health_at_ms: 0,
            inventory: None,
            inventory_at: None,
            sent_inventory_hash: None,
            acked_health: None,
            life: lifecycle::Lifecycle::new(&opts),
            config: opts.config,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn spool(&mut self) -> &mut Spool {
        &mut self.spool
    }

    /// Spools an event (logged, not fatal, when the spool refuses it).
    pub fn event(
        &mut self,
        kind: &str,
        check_id: Option<String>,
        message: String,
        data: serde_json::Value,
    ) {
        if let Err(e) = self.spool.push_event(kind, check_id, message, data) {
            tracing::error!(error = %e, kind, "event not spooled");
        }
    }

    /// Collects the inventory if it is due (or `force`).
    pub async fn refresh_inventory(&mut self, force: bool) {
        let due = self
            .inventory_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(self.policy.inventory_interval_s));
        if force || due || self.inventory.is_none() {
            if let Ok(inv) = tokio::task::spawn_blocking(crate::inventory::collect).await {
                self.inventory = Some(inv);
                self.inventory_at = Some(Instant::now());
            }
        }
    }

    /// Measures and grades every check; spools an event per state change. Returns
    /// true when any check changed state.
    pub async fn evaluate(&mut self) -> bool {
        let results = self.grade().await;
        let mut changed = false;
        let mut newly_failing = Vec::new();
        for r in &results {
            if r.status == CheckStatus::Pass {
                self.ledger.recovered(&r.id);
            }
            let prev = self.check_states.get(&r.id).copied();
            if prev == Some(r.status) || (prev.is_none() && r.status == CheckStatus::Pass) {
                continue;
            }
            changed = true;
            let data = serde_json::json!({
                "from": prev.map(CheckStatus::as_str), "to": r.status.as_str(),
                "value": r.value, "threshold": r.threshold, "severity": r.severity,
            });
            self.event(
                event_kind(r.status),
                Some(r.id.clone()),
                r.message.clone(),
                data.clone(),
            );
            if r.status == CheckStatus::Fail {
                newly_failing.push((r.clone(), data));
            }
        }
        // checks that disappeared (disabled, mount gone) count as a change too
        changed |= self
            .check_states
            .keys()
            .any(|k| !results.iter().any(|r| &r.id == k));
        self.check_states = results.iter().map(|r| (r.id.clone(), r.status)).collect();
        if let Err(e) = self.state.save_check_states(&self.check_states) {
            tracing::warn!(error = %e, "saving check states");
        }
        self.health = results;
        self.health_at_ms = tend_shared::now_ms();
        // remediate first; a ticket only if that does not fix it
        for (r, transition) in newly_failing {
            self.handle_failure(r, transition).await;
        }
        changed
    }

    /// Measures and grades without touching states or events (re-checks).
    pub(crate) async fn grade(&mut self) -> Vec<CheckResult> {
        let policy = self.config.apply(&self.policy);
        let mut cache = self.cache.take().unwrap_or_default();
        let (results, cache) = tokio::task::spawn_blocking(move || {
            let m = crate::checks::measure::measure(&policy, &mut cache);
            (crate::checks::evaluate(&policy, &m), cache)
        })
        .await
        .unwrap_or_else(|_| (Vec::new(), ProbeCache::default()));
        self.cache = Some(cache);
        results
    }

    fn request(
        &self,
        health: Vec<CheckResult>,
        observed_at_ms: u64,
        with_inventory: bool,
        beat: Option<(&str, bool)>,
    ) -> Result<CheckinRequest, DaemonError> {
        let hash = self
            .inventory
            .as_ref()
            .map(Inventory::content_hash)
            .unwrap_or_default();
        Ok(CheckinRequest {
            agent_version: crate::VERSION.into(),
            inventory: if with_inventory {
                self.inventory.clone()
            } else {
                None
            },
            inventory_hash: hash,
            health,
            events: self.spool.pending_events(EVENTS_PER_CHECKIN)?,
            policy_version: self.policy.version,
            observed_at_ms,
            release_platform: tend_shared::releases::ReleasePlatform::current(),
            health_hash: beat.map(|(h, _)| h.to_string()),
            health_partial: beat.is_some_and(|(_, partial)| partial),
        })
    }

    async fn send(&mut self, req: &CheckinRequest) -> Result<CheckinResponse, DaemonError> {
        let resp: CheckinResponse = self.client.post("/api/v1/checkin", req).await?;
        // only what this request carried can have been stored
        let sent = req.events.iter().map(|e| e.seq).max().unwrap_or(0);
        self.spool.ack_events(resp.acked_event_seq.min(sent))?;
        self.life.offer = resp.release.clone();
        if let Some(p) = &resp.policy {
            if p.version != self.policy.version {
                tracing::info!(from = self.policy.version, to = p.version, "policy updated");
                self.state.save_policy(p)?;
                self.policy = p.clone();
            }
        }
        Ok(resp)
    }

    /// Builds and sends a check-in; when the collector refuses one that carries events
    /// as malformed (it would refuse it again), the oldest event is set aside and the
    /// rest go at once, instead of the same request failing forever.
    async fn send_report(
        &mut self,
        health: &[CheckResult],
        observed_at_ms: u64,
        with_inventory: bool,
        beat: Option<(&str, bool)>,
    ) -> Result<CheckinResponse, DaemonError> {
        loop {
            let req = self.request(health.to_vec(), observed_at_ms, with_inventory, beat)?;
            match self.send(&req).await {
                Err(DaemonError::Transport(e))
                    if matches!(e.status(), Some(400 | 413 | 422)) && !req.events.is_empty() =>
                {
                    tracing::error!(error = %e, "check-in refused; setting its oldest event aside");
                    self.spool.quarantine_oldest(&e.to_string())?;
                }
                other => return other,
            }
        }
    }

    /// Replays spooled snapshots, then sends the current report (and any events still
    /// waiting). Returns true when a new policy arrived.
    pub async fn report(&mut self) -> Result<bool, DaemonError> {
        let version = self.policy.version;
        while let Some((id, snap)) = self.spool.oldest_report()? {
            self.send_report(&snap.health, snap.observed_at_ms, false, None)
                .await?;
            self.spool.remove_report(id);
        }
        // tickets after the replayed history, before the current state; results too
        self.file_tickets().await?;
        self.file_results().await?;
        let hash = self.inventory.as_ref().map(Inventory::content_hash);
        let with_inventory = hash.is_some() && self.sent_inventory_hash != hash;
        let at = self.health_at_ms.max(1);
        let now = tend_shared::now_ms();
        let p = heartbeat::payload(self.acked_health.as_ref(), &self.health, now);
        let beat = Some((p.hash.as_str(), p.partial));
        let resp = self
            .send_report(&p.health, at, with_inventory, beat)
            .await?;
        if with_inventory || !resp.need_inventory {
            self.sent_inventory_hash = hash;
        }
        if resp.need_inventory && !with_inventory {
            self.sent_inventory_hash = None;
            self.send_report(&p.health, at, true, beat).await?;
            self.sent_inventory_hash = self.inventory.as_ref().map(Inventory::content_hash);
        }
        let need_health = resp.need_health;
        let answered = resp.health_hash.clone();
        let prev = self.acked_health.take();
        self.acked_health =
            heartbeat::after(p, prev.as_ref(), answered.as_deref(), need_health, now);
        if need_health {
            // the collector lost the set this built on: every result, at once
            let full = heartbeat::payload(None, &self.health, now);
            let resp = self
                .send_report(&full.health, at, false, Some((full.hash.as_str(), false)))
                .await?;
            self.acked_health = heartbeat::after(
                full,
                None,
                resp.health_hash.as_deref(),
                resp.need_health,
                now,
            );
        }
        while self.spool.event_depth() > 0 {
            let before = self.spool.event_depth();
            self.send_report(&[], at, false, None).await?;
            if self.spool.event_depth() >= before {
                break;
            }
        }
        self.status.last_checkin_ms = tend_shared::now_ms();
        self.status.consecutive_failures = 0;
        self.status.policy_version = self.policy.version;
        let _ = self.state.save_status(&self.status);
        Ok(self.policy.version != version)
    }

    /// Records a failed report: the snapshot goes to the spool for replay.
    fn report_failed(&mut self, e: &DaemonError) {
        self.status.consecutive_failures += 1;
        self.status.last_error = Some(e.to_string());
        self.status.last_error_ms = tend_shared::now_ms();
        let _ = self.state.save_status(&self.status);
        if !self.health.is_empty() {
            let snap = SpooledReport {
                observed_at_ms: self.health_at_ms,
                health: self.health.clone(),
            };
            if let Err(e) = self.spool.push_report(&snap) {
                tracing::error!(error = %e, "spooling a health snapshot");
            }
        }
    }

    /// A long-poll; after a failed one it asks for an answer at once (`wait=0`), so the
    /// collector's return is noticed in a round trip, not a whole poll later.
    fn long_poll(&self, probe: bool) -> JoinHandle<Result<JobsNextResponse, TransportError>> {
        let client = self.client.clone();
        let wait = if probe { 0 } else { LONG_POLL_S };
        let path = format!(
            "/api/v1/jobs/next?wait={wait}&policy_version={}",
            self.policy.version
        );
        tokio::spawn(async move {
            client
                .get_with_timeout(&path, Duration::from_secs(LONG_POLL_S + 15))
                .await
        })
    }
}

/// Runs an embedded agent (no config file, no self-update) until `shutdown` resolves.
pub async fn run(state: StateDir, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    run_with(state, RunOptions::embedded(), shutdown).await
}

/// Runs until `shutdown` resolves.
pub async fn run_with(
    state: StateDir,
    opts: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let socket = opts.socket.clone();
    let mut agent = Agent::with_options(state, opts)?;
    agent.start_lifecycle();
    // the employee's `tend`: optional, the agent runs without it
    let mut local = socket.and_then(|p| {
        crate::local::serve(&p)
            .inspect_err(
                |e| tracing::warn!(error = %e, socket = %p.display(), "local socket not served"),
            )
            .ok()
    });
    agent.event(
        "agent.started",
        None,
        format!("tend-agent {} started", crate::VERSION),
        serde_json::json!({"version": crate::VERSION}),
    );
    tokio::pin!(shutdown);
    let now = Instant::now();
    let mut next_eval = now;
    // the first report goes out right after the first evaluation, never before it
    let mut next_report = now + Duration::from_secs(86_400);
    let mut online = true;
    // the long-poll failed since it last worked: the collector may have been away
    let mut poll_down = false;
    let mut poll: Option<JoinHandle<Result<JobsNextResponse, TransportError>>> = None;
    let mut poll_retry_at = now;
    let mut first = true;
    // when the collector became unreachable (retries are spaced by the outage's age)
    let mut outage: Option<Instant> = None;

    loop {
        let eval_every = Duration::from_secs(agent.policy.evaluation_interval_s.max(1));
        let poll_pending = poll.is_some();
        let trial_at = agent.life.trial_deadline();
        let preparing = agent.life.preparing();
        tokio::select! {
            _ = &mut shutdown => break,
            Some(call) = async { match local.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                agent.on_local(call).await;
            }
            Some(change) = lifecycle::next_change(&mut agent.life.watch) => {
                if agent.on_change(change) {
                    next_eval = Instant::now();
                    next_report = Instant::now();
                }
            }
            _ = tokio::time::sleep_until(trial_at.unwrap_or_else(Instant::now)), if trial_at.is_some() => {
                agent.trial_expired();
                next_report = Instant::now();
            }
            (version, r) = lifecycle::prepared(&mut agent.life.task), if preparing => {
                agent.finish_update(version, r);
                next_report = Instant::now();
            }
            _ = tokio::time::sleep_until(next_eval) => {
                agent.refresh_inventory(false).await;
                let changed = agent.evaluate().await;
                next_eval = Instant::now() + eval_every;
                if (changed && online) || first {
                    next_report = Instant::now();
                }
                first = false;
            }
            _ = tokio::time::sleep_until(next_report) => {
                match agent.report().await {
                    Ok(policy_changed) => {
                        online = true;
                        outage = None;
                        agent.follow_user_tickets().await;
                        if agent.confirm_trial() {
                            next_report = Instant::now();
                            continue;
                        }
                        agent.maybe_start_update();
                        next_report = Instant::now() + jittered(Duration::from_secs(agent.policy.checkin_interval_s));
                        if policy_changed {
                            // new thresholds: grade again now, report what changed
                            next_eval = Instant::now();
                            if let Some(p) = poll.take() { p.abort(); }
                        }
                    }
                    Err(e) => {
                        agent.report_failed(&e);
                        online = false;
                        let since = *outage.get_or_insert_with(Instant::now);
                        let delay = retry_delay(since.elapsed(), e.retry_after());
                        tracing::warn!(error = %e, retry_in_s = delay.as_secs_f32(), "check-in failed");
                        next_report = Instant::now() + delay;
                    }
                }
            }
            r = async { poll.as_mut().expect("guarded").await }, if poll_pending => {
                poll = None;
                match r {
                    Ok(Ok(resp)) => {
                        // a newer policy, or the collector is back (results, tickets and
                        // events may be waiting): report now
                        if resp.policy_version != agent.policy.version || !online || poll_down {
                            next_report = Instant::now();
                        }
                        poll_down = false;
                        if !resp.jobs.is_empty() && agent.handle_jobs(resp.jobs).await {
                            next_report = Instant::now();
                        }
                    }
                    Ok(Err(e)) => {
                        poll_down = true;
                        let since = outage.map_or(Duration::ZERO, |o| o.elapsed());
                        // refused (not unreachable): no point asking again soon
                        let refused = e.status().is_some_and(|s| (400..500).contains(&s) && s != 429);
                        let delay = if refused { Duration::from_secs(60) } else { retry_delay(since, e.retry_after()) };
                        poll_retry_at = Instant::now() + delay;
                    }
                    Err(_) => {
                        poll_down = true;
                        poll_retry_at = Instant::now() + retry_delay(Duration::ZERO, None);
                    }
                }
            }
            _ = tokio::time::sleep_until(poll_retry_at), if !poll_pending => {
                poll = Some(agent.long_poll(poll_down));
            }
        }
    }
    if let Some(p) = poll {
        p.abort();
    }
    tracing::info!("agent stopped");
    Ok(())
}

#[cfg(test)]
mod timing_tests;
