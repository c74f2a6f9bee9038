//! The health policy the collector hands to agents: check thresholds, severities,
//! intervals and the required-process list. Versioned; agents apply a new version as
//! soon as a check-in or the job channel tells them of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::health::Severity;

/// Check kinds every agent knows. A result id is the kind, plus `:subject` for
/// per-subject checks (`disk.free:/`).
pub mod checks {
    /// Percent free on each mount in `Policy::disk_mounts` (lower is worse).
    pub const DISK_FREE: &str = "disk.free";
    /// Percent of memory available (lower is worse).
    pub const MEMORY_AVAILABLE: &str = "memory.available";
    /// 15-minute load average per logical core (higher is worse).
    pub const CPU_LOAD: &str = "cpu.load";
    /// Percent of swap in use (higher is worse).
    pub const SWAP_USED: &str = "swap.used";
    /// Full-charge capacity as percent of design capacity (lower is worse).
    pub const BATTERY_HEALTH: &str = "battery.health";
    /// Days since the last reboot (higher is worse).
    pub const UPTIME_DAYS: &str = "uptime.days";
    /// Number of pending OS updates (higher is worse).
    pub const OS_UPDATES: &str = "os.updates";
    /// Root volume encrypted (LUKS, FileVault); fails when off.
    pub const DISK_ENCRYPTION: &str = "disk.encryption";
    /// A host firewall is enabled; fails when off.
    pub const FIREWALL: &str = "firewall.enabled";
    /// The clock is synchronised by NTP; warns when not.
    pub const CLOCK_SYNC: &str = "clock.sync";
    /// Every process in `Policy::required_processes` runs.
    pub const PROCESS_REQUIRED: &str = "process.required";
    /// Crash reports written in the last 24 h (higher is worse).
    pub const CRASH_RECENT: &str = "crash.recent";

    /// All kinds, in display order.
    pub const ALL: [&str; 12] = [
        DISK_FREE,
        MEMORY_AVAILABLE,
        CPU_LOAD,
        SWAP_USED,
        BATTERY_HEALTH,
        UPTIME_DAYS,
        OS_UPDATES,
        DISK_ENCRYPTION,
        FIREWALL,
        CLOCK_SYNC,
        PROCESS_REQUIRED,
        CRASH_RECENT,
    ];
}

/// Thresholds and severity of one check kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckPolicy {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Warn threshold, in the check's own unit; `None` disables the warn level.
    #[serde(default)]
    pub warn: Option<f64>,
    /// Fail threshold, in the check's own unit; `None` disables the fail level.
    #[serde(default)]
    pub fail: Option<f64>,
    #[serde(default)]
    pub severity: Severity,
}

fn yes() -> bool {
    true
}

impl CheckPolicy {
    fn new(warn: Option<f64>, fail: Option<f64>, severity: Severity) -> Self {
        CheckPolicy {
            enabled: true,
            warn,
            fail,
            severity,
        }
    }
}

/// The approved script that may fix a failing check before a ticket is filed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remediation {
    pub script_id: String,
    /// Runs per failure episode before giving up and filing the ticket.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Least time between two runs on one device.
    #[serde(default = "default_cooldown")]
    pub cooldown_s: u64,
}

fn default_attempts() -> u32 {
    1
}
fn default_cooldown() -> u64 {
    3600
}

/// The whole policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Bumped by the collector on every change.
    #[serde(default)]
    pub version: u64,
    /// Seconds between routine check-ins (jittered by the agent by ±10 %).
    #[serde(default = "default_interval")]
    pub checkin_interval_s: u64,
    /// Seconds between health evaluations; a check changing state is reported at once.
    #[serde(default = "default_evaluation")]
    pub evaluation_interval_s: u64,
    /// Seconds between full inventory collections (sent only when the hash changed).
    #[serde(default = "default_inventory")]
    pub inventory_interval_s: u64,
    /// Mount points the `disk.free` check watches.
    #[serde(default = "default_mounts")]
    pub disk_mounts: Vec<String>,
    /// Process names `process.required` looks for.
    #[serde(default)]
    pub required_processes: Vec<String>,
    /// Per check kind; kinds missing here use `Policy::default_check`.
    #[serde(default)]
    pub checks: BTreeMap<String, CheckPolicy>,
    /// A device silent this long gets a ticket from the collector itself.
    #[serde(default = "default_offline")]
    pub offline_threshold_s: u64,
    /// Consecutive passing reports before an automated ticket auto-resolves.
    #[serde(default = "default_recovery")]
    pub recovery_count: u32,
    /// A problem recurring within this window reopens its ticket.
    #[serde(default = "default_reopen")]
    pub reopen_window_s: u64,
    /// Check id (`disk.free:/`) or kind (`disk.free`) → the script that may fix it.
    #[serde(default)]
    pub remediations: BTreeMap<String, Remediation>,
}

fn default_interval() -> u64 {
    60
}
fn default_evaluation() -> u64 {
    30
}
fn default_inventory() -> u64 {
    3600
}
fn default_mounts() -> Vec<String> {
    vec!["/".to_string()]
}
fn default_offline() -> u64 {
    3 * 86_400
}
fn default_recovery() -> u32 {
    2
}
fn default_reopen() -> u64 {
    72 * 3600
}

impl Default for Policy {
    fn default() -> Self {
        let checks = checks::ALL
            .iter()
            .map(|k| (k.to_string(), Policy::default_check(k)))
            .collect();
        Policy {
            version: 1,
            checkin_interval_s: default_interval(),
            evaluation_interval_s: default_evaluation(),
            inventory_interval_s: default_inventory(),
            disk_mounts: default_mounts(),
            required_processes: Vec::new(),
            checks,
            offline_threshold_s: default_offline(),
            recovery_count: default_recovery(),
            reopen_window_s: default_reopen(),
            remediations: BTreeMap::new(),
        }
    }
}

/// Problems with a policy document submitted by an admin.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    #[error("checkin_interval_s must be between 5 and 86400, got {0}")]
    Interval(u64),
    #[error("evaluation_interval_s must be between 1 and 3600, got {0}")]
    Evaluation(u64),
    #[error("inventory_interval_s must be between 60 and 604800, got {0}")]
    Inventory(u64),
    #[error("unknown check kind {0:?}")]
    UnknownCheck(String),
    #[error("check {0}: a threshold must be a finite number of at most 1e9")]
    Threshold(String),
    #[error("disk mount {0:?} must be an absolute path")]
    Mount(String),
    #[error("recovery_count must be between 1 and 100")]
    Recovery,
    #[error("{field} must be between {min} and {max}, got {got}")]
    OutOfRange {
        field: &'static str,
        min: u64,
        max: u64,
        got: u64,
    },
    #[error("{0}")]
    Invalid(String),
}

impl PolicyError {
    /// The policy field at fault (`checks.disk.free` for a check), for forms that
    /// show the error beside it.
    pub fn field(&self) -> Option<String> {
        Some(match self {
            PolicyError::Interval(_) => "checkin_interval_s".into(),
            PolicyError::Evaluation(_) => "evaluation_interval_s".into(),
            PolicyError::Inventory(_) => "inventory_interval_s".into(),
            PolicyError::UnknownCheck(k) | PolicyError::Threshold(k) => format!("checks.{k}"),
            PolicyError::Mount(_) => "disk_mounts".into(),
            PolicyError::Recovery => "recovery_count".into(),
            PolicyError::OutOfRange { field, .. } => {
                field.split([' ', '.']).next().unwrap_or(field).to_string()
            }
            PolicyError::Invalid(_) => return None,
        })
    }
}

/// `value` within `min..=max`, or the error naming `field`.
fn within(field: &'static str, value: u64, min: u64, max: u64) -> Result<(), PolicyError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(PolicyError::OutOfRange {
            field,
            min,
            max,
            got: value,
        })
    }
}

/// Largest absolute threshold accepted.
pub const MAX_THRESHOLD: f64 = 1e9;

impl Policy {
    /// Built-in thresholds for a check kind.
    pub fn default_check(kind: &str) -> CheckPolicy {
        use Severity::*;
        match kind {
            checks::DISK_FREE => CheckPolicy::new(Some(15.0), Some(5.0), High),
            checks::MEMORY_AVAILABLE => CheckPolicy::new(Some(10.0), Some(3.0), Medium),
            checks::CPU_LOAD => CheckPolicy::new(Some(1.5), Some(3.0), Medium),
            checks::SWAP_USED => CheckPolicy::new(Some(50.0), Some(85.0), Low),
            checks::BATTERY_HEALTH => CheckPolicy::new(Some(80.0), Some(60.0), Low),
            checks::UPTIME_DAYS => CheckPolicy::new(Some(14.0), Some(30.0), Low),
            checks::OS_UPDATES => CheckPolicy::new(Some(1.0), Some(50.0), Medium),
            checks::DISK_ENCRYPTION => CheckPolicy::new(None, Some(1.0), High),
            checks::FIREWALL => CheckPolicy::new(None, Some(1.0), Medium),
            checks::CLOCK_SYNC => CheckPolicy::new(Some(1.0), None, Low),
            checks::PROCESS_REQUIRED => CheckPolicy::new(None, Some(1.0), High),
            checks::CRASH_RECENT => CheckPolicy::new(Some(1.0), Some(3.0), Medium),
            _ => CheckPolicy::new(None, None, Medium),
        }
    }

    /// The thresholds for `kind` (the policy's own, else the built-in ones).
    pub fn check(&self, kind: &str) -> CheckPolicy {
        self.checks
            .get(kind)
            .cloned()
            .unwrap_or_else(|| Policy::default_check(kind))
    }

    /// The remediation for a check id: an exact match, else its kind's.
    pub fn remediation_for(&self, check_id: &str) -> Option<&Remediation> {
        self.remediations.get(check_id).or_else(|| {
            self.remediations
                .get(check_id.split(':').next().unwrap_or(check_id))
        })
    }

    /// Rejects documents an agent could not apply sensibly. Every number is bounded
    /// (an `offline_threshold_s` of 2^64/1000 would wrap), every list and string too.
    pub fn validate(&self) -> Result<(), PolicyError> {
        const DAY: u64 = 86_400;
        within(
            "offline_threshold_s",
            self.offline_threshold_s,
            300,
            365 * DAY,
        )?;
        within("reopen_window_s", self.reopen_window_s, 0, 365 * DAY)?;
        within("recovery_count", u64::from(self.recovery_count), 1, 100)
            .map_err(|_| PolicyError::Recovery)?;
        within("disk_mounts (count)", self.disk_mounts.len() as u64, 0, 64)?;
        within(
            "required_processes (count)",
            self.required_processes.len() as u64,
            0,
            64,
        )?;
        within(
            "remediations (count)",
            self.remediations.len() as u64,
            0,
            256,
        )?;
        if let Some(m) = self
            .disk_mounts
            .iter()
            .find(|m| m.len() > 1024 || m.chars().any(char::is_control))
        {
            return Err(PolicyError::Invalid(format!(
                "disk mount {:?} is not a usable path",
                m.chars().take(60).collect::<String>()
            )));
        }
        if let Some(p) = self
            .required_processes
            .iter()
            .find(|p| p.is_empty() || p.len() > 256 || p.chars().any(char::is_control))
        {
            return Err(PolicyError::Invalid(format!(
                "required process {:?} must be 1..=256 printable characters",
                p.chars().take(60).collect::<String>()
            )));
        }
        for (key, r) in &self.remediations {
            let kind = key.split(':').next().unwrap_or(key);
            if !checks::ALL.contains(&kind) || key.len() > 300 {
                return Err(PolicyError::Invalid(format!(
                    "remediation for unknown check {key:?}"
                )));
            }
            if r.script_id.is_empty() || r.script_id.len() > 64 {
                return Err(PolicyError::Invalid(format!(
                    "remediation {key}: script_id must be 1..=64 characters"
                )));
            }
            within(
                "remediations.max_attempts",
                u64::from(r.max_attempts),
                1,
                10,
            )?;
            within("remediations.cooldown_s", r.cooldown_s, 0, 30 * DAY)?;
        }
        if !(5..=86_400).contains(&self.checkin_interval_s) {
            return Err(PolicyError::Interval(self.checkin_interval_s));
        }
        if !(1..=3600).contains(&self.evaluation_interval_s) {
            return Err(PolicyError::Evaluation(self.evaluation_interval_s));
        }
        if !(60..=604_800).contains(&self.inventory_interval_s) {
            return Err(PolicyError::Inventory(self.inventory_interval_s));
        }
        for (kind, c) in &self.checks {
            if !checks::ALL.contains(&kind.as_str()) {
                return Err(PolicyError::UnknownCheck(kind.clone()));
            }
            if [c.warn, c.fail]
                .iter()
                .flatten()
                .any(|t| !t.is_finite() || t.abs() > MAX_THRESHOLD)
            {
                return Err(PolicyError::Threshold(kind.clone()));
            }
        }
        if let Some(m) = self.disk_mounts.iter().find(|m| !m.starts_with('/')) {
            return Err(PolicyError::Mount(m.clone()));
        }
        if self.recovery_count == 0 {
            return Err(PolicyError::Recovery);
        }
        Ok(())
    }
}

/// How a check kind is graded, for saying its thresholds in words.
enum Scale {
    /// Lower is worse: fails below `fail`.
    Low(&'static str),
    /// Higher is worse: fails at `fail` or more.
    High(&'static str),
    /// A yes/no condition; the text says what "no" is.
    Condition(&'static str),
}

fn scale(kind: &str) -> Option<Scale> {
    use Scale::*;
    Some(match kind {
        checks::DISK_FREE => Low("% free"),
        checks::MEMORY_AVAILABLE => Low("% of memory available"),
        checks::BATTERY_HEALTH => Low("% of its design capacity"),
        checks::CPU_LOAD => High(" load per core"),
        checks::SWAP_USED => High("% of swap in use"),
        checks::UPTIME_DAYS => High(" days since the last reboot"),
        checks::OS_UPDATES => High(" pending updates"),
        checks::CRASH_RECENT => High(" crash reports in 24 h"),
        checks::DISK_ENCRYPTION => Condition("the disk is not encrypted"),
        checks::FIREWALL => Condition("the firewall is off"),
        checks::CLOCK_SYNC => Condition("the clock is not synchronised"),
        checks::PROCESS_REQUIRED => Condition("a required process is not running"),
        _ => return None,
    })
}

fn number(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A check result's `threshold` (`{"warn": 15.0, "fail": 5.0}`) in words, for people:
/// `fails below 5% free, warns below 15% free`. `check_id` may carry a subject
/// (`disk.free:/`).
pub fn threshold_words(check_id: &str, threshold: &serde_json::Value) -> String {
    let kind = check_id.split(':').next().unwrap_or(check_id);
    let level = |name: &str| threshold.get(name).and_then(serde_json::Value::as_f64);
    let (warn, fail) = (level("warn"), level("fail"));
    let Some(scale) = scale(kind) else {
        return "no threshold".into();
    };
    // the second level repeats only the percent sign, not the whole unit
    let phrase = |verb: &str, v: f64, full: bool| {
        let unit = |u: &'static str| {
            if full {
                u
            } else if u.starts_with('%') {
                "%"
            } else {
                ""
            }
        };
        match &scale {
            Scale::Low(u) => format!("{verb} below {}{}", number(v), unit(u)),
            Scale::High(u) => format!("{verb} at {}{} or more", number(v), unit(u)),
            Scale::Condition(what) => format!("{verb} when {what}"),
        }
    };
    match (fail, warn, &scale) {
        (Some(_), _, Scale::Condition(_)) => phrase("fails", 0.0, true),
        (None, Some(_), Scale::Condition(_)) => phrase("warns", 0.0, true),
        (Some(f), Some(w), _) => format!(
            "{}, {}",
            phrase("fails", f, true),
            phrase("warns", w, false)
        ),
        (Some(f), None, _) => phrase("fails", f, true),
        (None, Some(w), _) => phrase("warns", w, true),
        (None, None, _) => "never fails (no threshold set)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid_and_complete() {
        let p = Policy::default();
        p.validate().unwrap();
        assert_eq!(p.checks.len(), checks::ALL.len());
    }

    #[test]
    fn partial_document_fills_defaults() {
        let p: Policy = serde_json::from_str(r#"{"checks":{"disk.free":{"fail":99}}}"#).unwrap();
        assert_eq!(p.checkin_interval_s, 60);
        assert_eq!(p.check("disk.free").fail, Some(99.0));
        assert!(p.check("disk.free").enabled);
        assert_eq!(p.check("cpu.load"), Policy::default_check("cpu.load"));
    }

    #[test]
    fn thresholds_in_words() {
        let t = |w: Option<f64>, f: Option<f64>| serde_json::json!({"warn": w, "fail": f});
        assert_eq!(
            threshold_words("disk.free:/", &t(Some(15.0), Some(5.0))),
            "fails below 5% free, warns below 15%"
        );
        assert_eq!(
            threshold_words("cpu.load", &t(Some(1.5), Some(3.0))),
            "fails at 3 load per core or more, warns at 1.5 or more"
        );
        assert_eq!(
            threshold_words("disk.encryption", &t(None, Some(1.0))),
            "fails when the disk is not encrypted"
        );
        assert_eq!(
            threshold_words("clock.sync", &t(Some(1.0), None)),
            "warns when the clock is not synchronised"
        );
        assert_eq!(
            threshold_words("crash:gedit", &serde_json::Value::Null),
            "no threshold"
        );
    }

    #[test]
    fn validation_rejects_nonsense() {
        let mut p = Policy {
            checkin_interval_s: 1,
            ..Policy::default()
        };
        assert_eq!(p.validate(), Err(PolicyError::Interval(1)));
        p.checkin_interval_s = 60;
        p.checks
            .insert("disk.fre".into(), Policy::default_check("x"));
        assert!(matches!(p.validate(), Err(PolicyError::UnknownCheck(_))));
        // the value that once wrapped to 384 ms and filed "offline for 0.0 days" tickets
        let p = Policy {
            offline_threshold_s: 18_446_744_073_709_552,
            ..Policy::default()
        };
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("offline_threshold_s"), "{e}");
        let mut p = Policy::default();
        p.checks.get_mut("cpu.load").unwrap().fail = Some(1e300);
        assert!(matches!(p.validate(), Err(PolicyError::Threshold(_))));
        let mut p = Policy::default();
        p.remediations.insert(
            "disk.free".into(),
            Remediation {
                script_id: "s".into(),
                max_attempts: 1_000_000,
                cooldown_s: 0,
            },
        );
        assert!(p.validate().is_err());
    }
}
