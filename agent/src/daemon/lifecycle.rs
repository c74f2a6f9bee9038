//! The daemon's lifecycle duties: live config reload and crash events (`watch`), and
//! self-update (`update`) — start a verified download when the collector offers a
//! release, swap and restart, confirm a trial after the first good check-in, roll
//! back when the trial runs out. Every failure here is an event; none stops the agent.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use tend_shared::releases::{ReleaseOffer, UpdateState};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Agent;
use crate::config::AgentConfig;
use crate::update::install::{self, Prepared, Restart};
use crate::update::{self as upd, Pending, Startup, UpdateDir, UpdateError};
use crate::watch::{self, Change};

/// How a daemon was started.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub config: AgentConfig,
    /// The file to watch and reload (`None`: no config file).
    pub config_path: Option<PathBuf>,
    /// Arguments to start the agent with again after an update (`run --state …`).
    pub agent_args: Vec<OsString>,
    /// False for agents embedded in another program (the collector's demo).
    pub allow_update: bool,
    /// The local socket `tend` talks to (`None`: not served).
    pub socket: Option<PathBuf>,
}

impl RunOptions {
    /// An agent inside another process: defaults, no config file, never self-updates.
    pub fn embedded() -> RunOptions {
        RunOptions {
            config: AgentConfig::default(),
            config_path: None,
            agent_args: Vec::new(),
            allow_update: false,
            socket: None,
        }
    }
}

/// Lifecycle state held by the daemon.
pub(super) struct Lifecycle {
    /// The release the last check-in offered.
    pub offer: Option<ReleaseOffer>,
    config_path: Option<PathBuf>,
    agent_args: Vec<OsString>,
    allow_update: bool,
    pub(super) watch: Option<watch::Watch>,
    updates: Option<UpdateDir>,
    installed: Option<PathBuf>,
    trial: Option<(Pending, Instant)>,
    /// The download in flight: the version it fetches, and its result.
    pub(super) task: Option<(String, JoinHandle<Result<Prepared, UpdateError>>)>,
    retry_at: Option<Instant>,
    /// Crash reports already reported.
    crashes: Option<watch::CrashLedger>,
}

impl Lifecycle {
    pub fn new(opts: &RunOptions) -> Lifecycle {
        Lifecycle {
            offer: None,
            config_path: opts.config_path.clone(),
            agent_args: opts.agent_args.clone(),
            allow_update: opts.allow_update,
            watch: None,
            updates: None,
            installed: upd::installed_path(),
            trial: None,
            task: None,
            retry_at: None,
            crashes: None,
        }
    }

    pub fn trial_deadline(&self) -> Option<Instant> {
        self.trial.as_ref().map(|(_, at)| *at)
    }

    pub fn preparing(&self) -> bool {
        self.task.is_some()
    }
}

/// The next watched change (never resolves without a watch).
pub(super) async fn next_change(watch: &mut Option<watch::Watch>) -> Option<Change> {
    match watch {
        Some(w) => w.changes.recv().await,
        None => std::future::pending().await,
    }
}

/// The running download's version and result (only polled while one runs).
pub(super) async fn prepared(
    task: &mut Option<(String, JoinHandle<Result<Prepared, UpdateError>>)>,
) -> (String, Result<Prepared, UpdateError>) {
    let r = match task.as_mut() {
        Some((_, t)) => t.await,
        None => {
            return (
                String::new(),
                Err(UpdateError::Failed("no update in progress".into())),
            )
        }
    };
    let version = task.take().map(|(v, _)| v).unwrap_or_default();
    (
        version,
        r.unwrap_or_else(|e| Err(UpdateError::Failed(format!("update task: {e}")))),
    )
}

fn update_data(from: &str, to: &str) -> serde_json::Value {
    serde_json::json!({"from": from, "to": to})
}

impl Agent {
    /// PID file, leftovers of an earlier update, the trial timer, the watches.
    pub(super) fn start_lifecycle(&mut self) {
        let pid_file = self.state.path().join(crate::update::guard::PID_FILE);
        if let Err(e) = std::fs::write(&pid_file, std::process::id().to_string()) {
            tracing::warn!(error = %e, "writing the PID file");
        }
        if self.life.allow_update {
            match UpdateDir::new(&self.state) {
                Ok(dir) => {
                    let (startup, outcomes) = upd::on_start(&dir, crate::VERSION);
                    for o in outcomes {
                        self.event(
                            o.state.event_kind(),
                            None,
                            o.message.clone(),
                            update_data(&o.from, &o.to),
                        );
                    }
                    if let Startup::Trial(p) = startup {
                        let left = p.deadline_ms.saturating_sub(tend_shared::now_ms());
                        tracing::info!(from = %p.from, to = %p.to, left_ms = left, "new version on trial");
                        self.life.trial = Some((p, Instant::now() + Duration::from_millis(left)));
                    }
                    self.life.updates = Some(dir);
                }
                Err(e) => tracing::warn!(error = %e, "self-update unavailable"),
            }
        }
        let debounce = Duration::from_millis(self.config.crash.debounce_ms);
        let ledger = watch::CrashLedger::open(self.state.path());
        let reported = ledger.reported();
        self.life.crashes = Some(ledger);
        match watch::start(
            self.life.config_path.as_deref(),
            &self.config.crash_dirs(),
            debounce,
            reported,
        ) {
            Ok(w) => {
                tracing::info!(watched = ?w.watched, "watching config and crash folders");
                self.life.watch = Some(w);
            }
            Err(e) => tracing::warn!(error = %e, "file watching unavailable"),
        }
    }

    /// Applies a watched change. True when checks should be re-evaluated and reported.
    pub(super) fn on_change(&mut self, change: Change) -> bool {
        match change {
            Change::Config => {
                let Some(path) = self.life.config_path.clone() else {
                    return false;
                };
                match AgentConfig::load(&path, true) {
                    Ok(cfg) if cfg == self.config => false,
                    Ok(cfg) => {
                        tracing::info!(path = %path.display(), "config reloaded");
                        if let Some(c) = self.cache.as_mut() {
                            c.crash_dirs = cfg.crash.dirs.clone();
                        }
                        self.config = cfg;
                        true
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "config change rejected; keeping the previous config");
                        false
                    }
                }
            }
            Change::Crash(info, at_ms, file, modified_ms) => {
                let how = info
                    .signal
                    .clone()
                    .or_else(|| info.exception.clone())
                    .unwrap_or_else(|| "crash report".into());
                let data = serde_json::json!({
                    "process": info.process, "signal": info.signal, "exception": info.exception,
                    "executable": info.executable, "file": info.file, "seen_at_ms": at_ms,
                });
                self.event(
                    "crash",
                    None,
                    format!("{} crashed ({how})", info.process),
                    data,
                );
                // spooled: never again, even after a restart
                if let Some(l) = self.life.crashes.as_mut() {
                    l.record(file, modified_ms);
                }
                true
            }
        }
    }

    /// After a successful check-in: a new version on trial is now confirmed.
    pub(super) fn confirm_trial(&mut self) -> bool {
        let Some((p, _)) = self.life.trial.take() else {
            return false;
        };
        if let Some(dir) = &self.life.updates {
            // the guard of this trial sleeps until its deadline: no next update swaps
            // the files it would read before it has woken and gone
            dir.set_guard_until(p.deadline_ms + crate::update::GUARD_MARGIN_MS);
            dir.clear_pending();
        }
        tracing::info!(from = %p.from, to = %p.to, "update confirmed");
        self.event(
            UpdateState::Succeeded.event_kind(),
            None,
            format!("updated from {} to {}", p.from, p.to),
            update_data(&p.from, &p.to),
        );
        true
    }

    /// The trial ran out without a successful check-in: put the previous binary back.
    pub(super) fn trial_expired(&mut self) {
        let (Some((p, _)), Some(dir)) = (self.life.trial.take(), self.life.updates.clone()) else {
            return;
        };
        let reason = format!(
            "{} did not check in within {} s; rolled back to {}",
            p.to,
            p.deadline_ms.saturating_sub(p.started_ms) / 1000,
            p.from
        );
        tracing::warn!(%reason, "update trial failed");
        match install::roll_back(&dir, &p, &reason) {
            Ok(()) => {
                let restart = Restart::detect(self.config.update.restart);
                let e = install::restart(restart, &p.installed, &self.life.agent_args);
                tracing::error!(error = %e, "restart after rollback failed; running on");
            }
            Err(e) => {
                dir.clear_pending();
                self.event(
                    UpdateState::Failed.event_kind(),
                    None,
                    format!("rollback from {} failed: {e}", p.to),
                    update_data(&p.from, &p.to),
                );
            }
        }
    }

    /// Starts downloading an offered release when nothing else is in flight.
    pub(super) fn maybe_start_update(&mut self) {
        let Some(offer) = self.life.offer.clone() else {
            return;
        };
        let Some(dir) = self.life.updates.clone() else {
            return;
        };
        let busy = self.life.task.is_some()
            || self.life.trial.is_some()
            || !self.config.update.enabled
            || offer.version == crate::VERSION
            || self.life.retry_at.is_some_and(|t| Instant::now() < t)
            || dir.failed_versions().contains(&offer.version)
            || dir.guard_until() > tend_shared::now_ms();
        if busy {
            return;
        }
        tracing::info!(version = %offer.version, "downloading offered release");
        let client = self.client.clone();
        let key = self.signing_key.clone();
        let version = offer.version.clone();
        self.life.task = Some((
            version,
            tokio::spawn(async move { install::prepare(&client, &dir, &offer, &key).await }),
        ));
    }

    /// A download of `offer_version` finished: install and restart, or report why not.
    pub(super) fn finish_update(
        &mut self,
        offer_version: String,
        r: Result<Prepared, UpdateError>,
    ) {
        let Some(dir) = self.life.updates.clone() else {
            return;
        };
        let result = r.and_then(|prepared| -> Result<(), UpdateError> {
            let installed = self.life.installed.clone().ok_or_else(|| {
                UpdateError::Failed("cannot tell where this binary is installed".into())
            })?;
            let restart = Restart::detect(self.config.update.restart);
            let pending = install::install(
                &dir,
                &prepared,
                &installed,
                crate::VERSION,
                Duration::from_secs(self.config.update.grace_period_s),
                restart,
                &self.life.agent_args,
            )?;
            self.event(
                UpdateState::Installing.event_kind(),
                None,
                format!("installing {} over {}", pending.to, pending.from),
                update_data(&pending.from, &pending.to),
            );
            let e = install::restart(restart, &installed, &self.life.agent_args);
            // exec failed: the new binary is in place but we are still the old one
            install::restore_previous(&dir, &installed)?;
            dir.clear_pending();
            Err(UpdateError::Failed(format!(
                "restarting into {}: {e}",
                pending.to
            )))
        });
        if let Err(e) = result {
            tracing::warn!(version = %offer_version, error = %e, "update not installed");
            if matches!(e, UpdateError::Refused(_)) {
                dir.add_failed(&offer_version);
            } else {
                self.life.retry_at = Some(Instant::now() + Duration::from_secs(600));
            }
            self.event(
                e.state().event_kind(),
                None,
                format!("update to {offer_version}: {e}"),
                update_data(crate::VERSION, &offer_version),
            );
        }
    }
}
