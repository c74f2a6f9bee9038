//! Health check results and the device-level health status derived from them.

use serde::{Deserialize, Serialize};

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    /// The check could not run (command missing, unparsable output).
    Error,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Error => "error",
        }
    }
}

/// How much a failing check hurts; drives ticket priority.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

/// One check's outcome: `{id, status, value, threshold, message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Check id, with its subject after a colon where it has one: `disk.free:/`.
    pub id: String,
    pub status: CheckStatus,
    /// What was measured (number, bool or string), null when nothing could be.
    #[serde(default)]
    pub value: serde_json::Value,
    /// The threshold it was compared with, null when none applies.
    #[serde(default)]
    pub threshold: serde_json::Value,
    /// One human sentence: "Disk / is 97% full: 3.1 GB free of 256 GB".
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub severity: Severity,
}

impl CheckResult {
    /// The problem key a ticket for this check is filed under (the check id).
    pub fn problem_key(&self) -> &str {
        &self.id
    }
}

/// The overall health of a device, the worst of its checks.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    #[default]
    Unknown,
    Healthy,
    Warning,
    Failing,
}

impl HealthStatus {
    /// Worst-of: any fail makes the device failing, any warn or error a warning.
    pub fn from_results(results: &[CheckResult]) -> HealthStatus {
        if results.is_empty() {
            return HealthStatus::Unknown;
        }
        let worst = results
            .iter()
            .map(|r| r.status)
            .max()
            .unwrap_or(CheckStatus::Pass);
        match worst {
            CheckStatus::Pass => HealthStatus::Healthy,
            CheckStatus::Warn | CheckStatus::Error => {
                if results.iter().any(|r| r.status == CheckStatus::Fail) {
                    HealthStatus::Failing
                } else {
                    HealthStatus::Warning
                }
            }
            CheckStatus::Fail => HealthStatus::Failing,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Unknown => "unknown",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Warning => "warning",
            HealthStatus::Failing => "failing",
        }
    }

    pub const ALL: [HealthStatus; 4] = [
        HealthStatus::Unknown,
        HealthStatus::Healthy,
        HealthStatus::Warning,
        HealthStatus::Failing,
    ];
}

impl std::str::FromStr for HealthStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HealthStatus::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| format!("unknown health status {s:?} (unknown|healthy|warning|failing)"))
    }
}

/// SHA-256 (hex) of a full set of results, in id order: what the collector holds for
/// a device and what its agent believes it holds. Equal hashes let a check-in carry
/// no results at all (a heartbeat).
pub fn results_hash(results: &[CheckResult]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&CheckResult> = results.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut h = Sha256::new();
    for r in sorted {
        h.update(serde_json::to_vec(r).unwrap_or_default());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Whether `new` differs from `old` enough to be reported before the next full
/// report: another status, severity or threshold, or a value that moved materially
/// (a number by more than 5 % of the old value and more than 1 unit; anything else
/// on any change). Messages alone are not material (they embed drifting figures).
pub fn material_change(old: &CheckResult, new: &CheckResult) -> bool {
    if old.status != new.status || old.severity != new.severity || old.threshold != new.threshold {
        return true;
    }
    match (old.value.as_f64(), new.value.as_f64()) {
        (Some(a), Some(b)) => {
            let d = (a - b).abs();
            d > 1.0 && d > a.abs() * 0.05
        }
        _ => old.value != new.value,
    }
}

/// Replaces (by id) or adds each of `changed` in `base`.
pub fn merge_results(base: &mut Vec<CheckResult>, changed: &[CheckResult]) {
    for c in changed {
        match base.iter_mut().find(|b| b.id == c.id) {
            Some(b) => *b = c.clone(),
            None => base.push(c.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(status: CheckStatus) -> CheckResult {
        CheckResult {
            id: "x".into(),
            status,
            value: serde_json::Value::Null,
            threshold: serde_json::Value::Null,
            message: String::new(),
            severity: Severity::Medium,
        }
    }

    #[test]
    fn worst_of() {
        use CheckStatus::*;
        assert_eq!(HealthStatus::from_results(&[]), HealthStatus::Unknown);
        assert_eq!(
            HealthStatus::from_results(&[r(Pass)]),
            HealthStatus::Healthy
        );
        assert_eq!(
            HealthStatus::from_results(&[r(Pass), r(Warn)]),
            HealthStatus::Warning
        );
        assert_eq!(
            HealthStatus::from_results(&[r(Error), r(Pass)]),
            HealthStatus::Warning
        );
        assert_eq!(
            HealthStatus::from_results(&[r(Error), r(Fail)]),
            HealthStatus::Failing
        );
    }

    #[test]
    fn check_result_json_is_pinned() {
        let c = CheckResult {
            id: "disk.free:/".into(),
            status: CheckStatus::Fail,
            value: serde_json::json!(3.0),
            threshold: serde_json::json!(10.0),
            message: "low".into(),
            severity: Severity::High,
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"id":"disk.free:/","status":"fail","value":3.0,"threshold":10.0,"message":"low","severity":"high"}"#
        );
    }

    fn res(id: &str, status: CheckStatus, value: f64) -> CheckResult {
        CheckResult {
            id: id.into(),
            status,
            value: serde_json::json!(value),
            threshold: serde_json::json!({"fail": 5.0}),
            message: format!("{value}"),
            severity: Severity::Medium,
        }
    }

    #[test]
    fn results_hash_ignores_order_and_tracks_content() {
        let a = vec![
            res("a", CheckStatus::Pass, 1.0),
            res("b", CheckStatus::Pass, 2.0),
        ];
        let b = vec![
            res("b", CheckStatus::Pass, 2.0),
            res("a", CheckStatus::Pass, 1.0),
        ];
        assert_eq!(results_hash(&a), results_hash(&b));
        let c = vec![
            res("a", CheckStatus::Fail, 1.0),
            res("b", CheckStatus::Pass, 2.0),
        ];
        assert_ne!(results_hash(&a), results_hash(&c));
    }

    #[test]
    fn only_material_changes_count() {
        let base = res("disk.free:/", CheckStatus::Pass, 40.0);
        assert!(!material_change(
            &base,
            &res("disk.free:/", CheckStatus::Pass, 39.0)
        ));
        assert!(material_change(
            &base,
            &res("disk.free:/", CheckStatus::Pass, 30.0)
        ));
        assert!(material_change(
            &base,
            &res("disk.free:/", CheckStatus::Warn, 40.0)
        ));
        let mut msg = base.clone();
        msg.message = "other words".into();
        assert!(!material_change(&base, &msg));
        let mut merged = vec![base.clone()];
        merge_results(
            &mut merged,
            &[
                res("disk.free:/", CheckStatus::Warn, 10.0),
                res("x", CheckStatus::Pass, 0.0),
            ],
        );
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].status, CheckStatus::Warn);
    }
}
