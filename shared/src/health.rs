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
}
