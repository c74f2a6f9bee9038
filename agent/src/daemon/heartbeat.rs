//! What a check-in says about health: every result, or — once the collector has
//! acknowledged a set (it answers with that set's hash) — only the results that changed
//! materially since, and none at all when nothing did (a heartbeat). A full report
//! goes at least hourly, and whenever the collector says it lost track.
//!
//! Older collectors never answer a hash, so their agents keep sending every result.

use tend_shared::health::{material_change, merge_results, results_hash, CheckResult};

/// A full report at least this often, even when nothing changed.
pub const FULL_EVERY_MS: u64 = 3_600_000;

/// The set the collector acknowledged holding.
#[derive(Debug, Clone)]
pub struct Acked {
    pub hash: String,
    pub results: Vec<CheckResult>,
    /// When the last full report was acknowledged.
    pub full_at_ms: u64,
}

/// The health part of one check-in.
#[derive(Debug, Clone)]
pub struct Payload {
    /// What to send: every result, or only the changed ones when `partial`.
    pub health: Vec<CheckResult>,
    pub partial: bool,
    /// `results_hash` of the set the collector will hold once it applied this.
    pub hash: String,
    /// That set.
    pub holds: Vec<CheckResult>,
}

/// Builds the health part of a check-in from the current results.
pub fn payload(acked: Option<&Acked>, current: &[CheckResult], now_ms: u64) -> Payload {
    if let Some(a) = acked {
        let same_checks = a.results.len() == current.len()
            && current
                .iter()
                .all(|r| a.results.iter().any(|b| b.id == r.id));
        if same_checks && now_ms.saturating_sub(a.full_at_ms) < FULL_EVERY_MS {
            let changed: Vec<CheckResult> = current
                .iter()
                .filter(|r| {
                    a.results
                        .iter()
                        .find(|b| b.id == r.id)
                        .is_none_or(|b| material_change(b, r))
                })
                .cloned()
                .collect();
            if changed.is_empty() {
                return Payload {
                    health: Vec::new(),
                    partial: true,
                    hash: a.hash.clone(),
                    holds: a.results.clone(),
                };
            }
            let mut holds = a.results.clone();
            merge_results(&mut holds, &changed);
            return Payload {
                health: changed,
                partial: true,
                hash: results_hash(&holds),
                holds,
            };
        }
    }
    Payload {
        health: current.to_vec(),
        partial: false,
        hash: results_hash(current),
        holds: current.to_vec(),
    }
}

/// What the collector holds after answering `p`: `None` when it did not confirm the
/// expected set (an older collector, a lost base): the next report is full.
pub fn after(
    p: Payload,
    prev: Option<&Acked>,
    answered_hash: Option<&str>,
    need_health: bool,
    now_ms: u64,
) -> Option<Acked> {
    if need_health || p.holds.is_empty() || answered_hash != Some(p.hash.as_str()) {
        return None;
    }
    let full_at_ms = match (p.partial, prev) {
        (true, Some(a)) => a.full_at_ms,
        _ => now_ms,
    };
    Some(Acked {
        hash: p.hash,
        results: p.holds,
        full_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tend_shared::health::{CheckStatus, Severity};

    fn res(id: &str, status: CheckStatus, value: f64) -> CheckResult {
        CheckResult {
            id: id.into(),
            status,
            value: serde_json::json!(value),
            threshold: serde_json::Value::Null,
            message: String::new(),
            severity: Severity::Low,
        }
    }

    #[test]
    fn full_then_heartbeat_then_changes_then_hourly_full() {
        let now = 1_000_000;
        let set = vec![
            res("a", CheckStatus::Pass, 40.0),
            res("b", CheckStatus::Pass, 1.0),
        ];
        let p = payload(None, &set, now);
        assert!(!p.partial);
        assert_eq!(p.health.len(), 2);
        let hash = p.hash.clone();
        let acked = after(p, None, Some(&hash), false, now).unwrap();

        // drift below the material threshold: a heartbeat
        let drift = vec![
            res("a", CheckStatus::Pass, 39.5),
            res("b", CheckStatus::Pass, 1.0),
        ];
        let p = payload(Some(&acked), &drift, now + 60_000);
        assert!(p.partial && p.health.is_empty());
        assert_eq!(p.hash, acked.hash);

        // a status change: only that result, and the hash of the merged set
        let failing = vec![
            res("a", CheckStatus::Pass, 39.5),
            res("b", CheckStatus::Fail, 9.0),
        ];
        let p = payload(Some(&acked), &failing, now + 120_000);
        assert!(p.partial);
        assert_eq!(p.health.len(), 1);
        assert_eq!(p.health[0].id, "b");
        assert_eq!(p.hash, results_hash(&p.holds));

        // a collector that did not confirm (older, or lost track): back to full
        assert!(after(p.clone(), Some(&acked), None, false, now).is_none());
        assert!(after(p, Some(&acked), Some("x"), true, now).is_none());

        // an hour on, a full report again
        let p = payload(Some(&acked), &drift, now + FULL_EVERY_MS);
        assert!(!p.partial);

        // a check that appeared or disappeared: full
        let p = payload(Some(&acked), &drift[..1], now + 60_000);
        assert!(!p.partial);
    }
}
