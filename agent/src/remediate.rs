//! Self-healing bookkeeping: how many times a check's remediation ran in its current
//! failure episode and when it last ran, persisted in the state dir so restarts do not
//! reset the limits. `decide` is pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tend_shared::policy::Remediation;

use crate::state::{write_private, StateDir};

/// Per-check attempt record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempts {
    pub in_episode: u32,
    pub last_run_ms: u64,
}

/// What to do about a check that just started failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No remediation is mapped: file the ticket.
    NoneMapped,
    /// Run the script.
    Run,
    /// Mapped, but the episode's attempts are used up or the cool-down runs.
    Skip(String),
}

/// Pure decision from the mapping, the record and the time.
pub fn decide(mapping: Option<&Remediation>, attempts: &Attempts, now_ms: u64) -> Decision {
    let Some(m) = mapping else {
        return Decision::NoneMapped;
    };
    if attempts.in_episode >= m.max_attempts.max(1) {
        return Decision::Skip(format!(
            "{} attempt(s) already made in this episode",
            attempts.in_episode
        ));
    }
    let ready_at = attempts.last_run_ms + m.cooldown_s * 1000;
    if attempts.last_run_ms > 0 && now_ms < ready_at {
        return Decision::Skip(format!(
            "cool-down: next run allowed in {} s",
            (ready_at - now_ms) / 1000
        ));
    }
    Decision::Run
}

/// The persisted records.
#[derive(Debug, Default)]
pub struct Ledger {
    path: std::path::PathBuf,
    map: BTreeMap<String, Attempts>,
}

impl Ledger {
    pub fn open(state: &StateDir) -> Ledger {
        let path = state.path().join("remediation.json");
        let map = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Ledger { path, map }
    }

    pub fn get(&self, check: &str) -> Attempts {
        self.map.get(check).cloned().unwrap_or_default()
    }

    fn save(&self) {
        if let Err(e) = write_private(
            &self.path,
            &serde_json::to_vec(&self.map).expect("ledger serializes"),
        ) {
            tracing::warn!(error = %e, "saving remediation ledger");
        }
    }

    /// Records a run.
    pub fn ran(&mut self, check: &str, now_ms: u64) {
        let a = self.map.entry(check.to_string()).or_default();
        a.in_episode += 1;
        a.last_run_ms = now_ms;
        self.save();
    }

    /// The check passes again: a new episode starts (the cool-down still holds).
    pub fn recovered(&mut self, check: &str) {
        if let Some(a) = self.map.get_mut(check) {
            if a.in_episode > 0 {
                a.in_episode = 0;
                self.save();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_and_cooldown() {
        let m = Remediation {
            script_id: "s".into(),
            max_attempts: 2,
            cooldown_s: 60,
        };
        assert_eq!(decide(None, &Attempts::default(), 0), Decision::NoneMapped);
        assert_eq!(decide(Some(&m), &Attempts::default(), 1_000), Decision::Run);
        let once = Attempts {
            in_episode: 1,
            last_run_ms: 1_000,
        };
        assert!(
            matches!(decide(Some(&m), &once, 30_000), Decision::Skip(why) if why.contains("cool-down"))
        );
        assert_eq!(decide(Some(&m), &once, 61_000), Decision::Run);
        let twice = Attempts {
            in_episode: 2,
            last_run_ms: 1_000,
        };
        assert!(matches!(
            decide(Some(&m), &twice, 10_000_000),
            Decision::Skip(_)
        ));
    }
}
