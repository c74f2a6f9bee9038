//! Self-update: verify, keep the previous binary, swap, restart, confirm or roll back.
//!
//! Files under `STATE/update/`:
//! - `previous`: the binary that ran before the last update (kept for rollback);
//! - `pending.json`: an update on trial (from, to, deadline). The new version deletes
//!   it after its first successful check-in (`update.succeeded`);
//! - `outcome.json`: what to report after a restart (a rollback done by the guard);
//! - `failed.json`: versions that failed here and are never tried again.
//!
//! Two things roll a bad update back, so neither a hung nor a crashing new binary can
//! strand a laptop: the new version itself when its deadline passes without a
//! successful check-in (`Trial::expired`), and the *guard* — the previous binary
//! started as `tend-agent update-guard` before the swap — which restores the previous
//! binary and restarts the agent if `pending.json` is still there shortly after the
//! deadline. Every failure on this path is reported as an event and the agent keeps
//! running the version it has.

pub mod guard;
pub mod install;
pub mod verify;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tend_shared::releases::UpdateState;

use crate::state::{StateDir, StateError};

/// Why an update did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The offer or the artifact failed verification: nothing was installed.
    #[error("refused: {0}")]
    Refused(String),
    /// Download, disk or swap failure, or an expired offer: the current binary keeps
    /// running and the update is tried again later.
    #[error("failed: {0}")]
    Failed(String),
    #[error(transparent)]
    State(#[from] StateError),
}

impl UpdateError {
    pub fn state(&self) -> UpdateState {
        match self {
            UpdateError::Refused(_) => UpdateState::Refused,
            _ => UpdateState::Failed,
        }
    }
}

/// An update on trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub from: String,
    pub to: String,
    /// Where the agent binary is installed (the swap target).
    pub installed: PathBuf,
    pub started_ms: u64,
    /// The new version must have checked in by then.
    pub deadline_ms: u64,
}

/// An outcome to report after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub state: UpdateState,
    pub from: String,
    pub to: String,
    pub message: String,
}

const PENDING: &str = "update/pending.json";
const GUARD_UNTIL: &str = "update/guard-until";
const OUTCOME: &str = "update/outcome.json";
const FAILED: &str = "update/failed.json";

/// The update folder of a state dir.
#[derive(Debug, Clone)]
pub struct UpdateDir {
    state: StateDir,
}

impl UpdateDir {
    /// Until when (ms) an earlier trial's guard may still wake.
    pub fn guard_until(&self) -> u64 {
        std::fs::read_to_string(self.state.path().join(GUARD_UNTIL))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Records until when the guard of a confirmed trial may still wake.
    pub fn set_guard_until(&self, ms: u64) {
        let _ = crate::state::write_private(
            &self.state.path().join(GUARD_UNTIL),
            ms.to_string().as_bytes(),
        );
    }

    pub fn new(state: &StateDir) -> Result<UpdateDir, UpdateError> {
        let dir = state.path().join("update");
        std::fs::create_dir_all(&dir)
            .map_err(|e| UpdateError::Failed(format!("creating {}: {e}", dir.display())))?;
        Ok(UpdateDir {
            state: state.clone(),
        })
    }

    pub fn path(&self) -> PathBuf {
        self.state.path().join("update")
    }

    pub fn previous(&self) -> PathBuf {
        self.path().join("previous")
    }

    pub fn pending(&self) -> Result<Option<Pending>, UpdateError> {
        Ok(self.state.read_json(PENDING)?)
    }

    pub fn set_pending(&self, p: &Pending) -> Result<(), UpdateError> {
        Ok(self.state.write_json(PENDING, p)?)
    }

    pub fn clear_pending(&self) {
        let _ = std::fs::remove_file(self.state.path().join(PENDING));
    }

    pub fn take_outcome(&self) -> Option<Outcome> {
        let o = self.state.read_json(OUTCOME).ok().flatten();
        let _ = std::fs::remove_file(self.state.path().join(OUTCOME));
        o
    }

    pub fn set_outcome(&self, o: &Outcome) -> Result<(), UpdateError> {
        Ok(self.state.write_json(OUTCOME, o)?)
    }

    pub fn failed_versions(&self) -> Vec<String> {
        self.state
            .read_json::<Vec<String>>(FAILED)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    pub fn add_failed(&self, version: &str) {
        let mut v = self.failed_versions();
        if !v.iter().any(|x| x == version) {
            v.push(version.to_string());
            if let Err(e) = self.state.write_json(FAILED, &v) {
                tracing::warn!(error = %e, "recording a failed version");
            }
        }
    }
}

/// What the daemon does about updates when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    /// Nothing in flight.
    Idle,
    /// This process is the new version on trial until `deadline_ms`.
    Trial(Pending),
}

/// Reads the update folder at start: returns the events to report (a rollback the
/// guard did, an update that never started) and whether this run is a trial.
pub fn on_start(dir: &UpdateDir, running: &str) -> (Startup, Vec<Outcome>) {
    let mut report = Vec::new();
    if let Some(o) = dir.take_outcome() {
        report.push(o);
    }
    let startup = match dir.pending() {
        Ok(Some(p)) if p.to == running => Startup::Trial(p),
        Ok(Some(p)) => {
            // the previous version runs again and nobody wrote an outcome: the new
            // binary never got as far as checking in
            if !report.iter().any(|o| o.to == p.to) {
                report.push(Outcome {
                    state: UpdateState::RolledBack,
                    from: p.from.clone(),
                    to: p.to.clone(),
                    message: format!("{} is running again; {} never confirmed", running, p.to),
                });
            }
            dir.add_failed(&p.to);
            dir.clear_pending();
            Startup::Idle
        }
        Ok(None) => Startup::Idle,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable pending update; ignoring it");
            dir.clear_pending();
            Startup::Idle
        }
    };
    (startup, report)
}

/// Where the running binary lives (read once at start: after a swap the kernel
/// reports the old inode as deleted).
pub fn installed_path() -> Option<PathBuf> {
    std::env::current_exe().ok().map(|p| {
        let s = p.to_string_lossy();
        match s.strip_suffix(" (deleted)") {
            Some(clean) => Path::new(clean).to_path_buf(),
            None => p,
        }
    })
}

/// The guard acts this long after the deadline, so the new version's own rollback
/// (at the deadline) goes first when it can.
pub const GUARD_MARGIN_MS: u64 = 3_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_reads_trials_and_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let st = StateDir::open(tmp.path()).unwrap();
        let dir = UpdateDir::new(&st).unwrap();
        assert_eq!(on_start(&dir, "0.1.0"), (Startup::Idle, vec![]));
        let p = Pending {
            from: "0.1.0".into(),
            to: "0.2.0".into(),
            installed: "/usr/bin/tend-agent".into(),
            started_ms: 1,
            deadline_ms: 2,
        };
        dir.set_pending(&p).unwrap();
        // the new version starts: a trial
        assert_eq!(on_start(&dir, "0.2.0").0, Startup::Trial(p.clone()));
        // the old version starts while the update is pending: it failed
        let (s, report) = on_start(&dir, "0.1.0");
        assert_eq!(s, Startup::Idle);
        assert_eq!(report[0].state, UpdateState::RolledBack);
        assert_eq!(dir.failed_versions(), vec!["0.2.0".to_string()]);
        assert!(dir.pending().unwrap().is_none());
        // an outcome left by the guard is reported once
        dir.set_outcome(&report[0]).unwrap();
        assert_eq!(on_start(&dir, "0.1.0").1.len(), 1);
        assert!(on_start(&dir, "0.1.0").1.is_empty());
    }
}
