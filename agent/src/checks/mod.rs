//! Health checks. `measure` (I/O, in `measure.rs`) gathers a `Measurements`; `evaluate`
//! (pure) grades it against the policy's thresholds into `CheckResult`s, so every
//! threshold rule is unit-tested without touching the machine.

pub mod measure;

use std::collections::BTreeSet;

use serde_json::json;
use tend_shared::health::{CheckResult, CheckStatus};
use tend_shared::policy::{checks as k, CheckPolicy, Policy};

/// Free space of one mount.
#[derive(Debug, Clone, PartialEq)]
pub struct MountSpace {
    pub mount: String,
    pub free_bytes: u64,
    pub total_bytes: u64,
}

/// A probe that could not run says why.
pub type Probe<T> = Result<T, String>;

/// Everything the checks look at, gathered in one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurements {
    /// One entry per policy mount; `Err` when the mount does not exist.
    pub disks: Vec<(String, Probe<MountSpace>)>,
    pub memory_available_pct: Option<f64>,
    pub load15_per_core: Option<f64>,
    /// `None` when the machine has no swap.
    pub swap_used_pct: Option<f64>,
    /// `None` when the machine has no battery.
    pub battery_health_pct: Option<f64>,
    pub uptime_days: f64,
    pub pending_updates: Probe<Vec<String>>,
    pub disk_encrypted: Probe<bool>,
    pub firewall_enabled: Probe<(bool, String)>,
    pub clock_synchronised: Probe<bool>,
    pub processes: BTreeSet<String>,
    /// Crash reports written in the last 24 h: (process, file).
    pub recent_crashes: Probe<Vec<(String, String)>>,
}

/// Human byte counts: "3.1 GB" (decimal, as disk vendors and Finder count).
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e12 {
        format!("{:.1} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

/// Grades `value` where lower is worse: fail below `fail`, warn below `warn`.
fn grade_low(value: f64, c: &CheckPolicy) -> CheckStatus {
    if c.fail.is_some_and(|f| value < f) {
        CheckStatus::Fail
    } else if c.warn.is_some_and(|w| value < w) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    }
}

/// Grades `value` where higher is worse: fail at or above `fail`, warn at or above `warn`.
fn grade_high(value: f64, c: &CheckPolicy) -> CheckStatus {
    if c.fail.is_some_and(|f| value >= f) {
        CheckStatus::Fail
    } else if c.warn.is_some_and(|w| value >= w) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    }
}

/// Grades a yes/no condition: a `fail` threshold makes "no" a failure, else a `warn`
/// threshold makes it a warning.
fn grade_bool(ok: bool, c: &CheckPolicy) -> CheckStatus {
    match (ok, c.fail.is_some(), c.warn.is_some()) {
        (true, _, _) => CheckStatus::Pass,
        (false, true, _) => CheckStatus::Fail,
        (false, false, true) => CheckStatus::Warn,
        (false, false, false) => CheckStatus::Pass,
    }
}

fn threshold(c: &CheckPolicy) -> serde_json::Value {
    json!({"warn": c.warn, "fail": c.fail})
}

struct Out<'a> {
    policy: &'a Policy,
    results: Vec<CheckResult>,
}

impl Out<'_> {
    fn push(
        &mut self,
        kind: &str,
        subject: Option<&str>,
        status: CheckStatus,
        value: serde_json::Value,
        message: String,
    ) {
        let c = self.policy.check(kind);
        self.results.push(CheckResult {
            id: match subject {
                Some(s) => format!("{kind}:{s}"),
                None => kind.to_string(),
            },
            status,
            value,
            threshold: threshold(&c),
            message,
            severity: c.severity,
        });
    }

    fn error(&mut self, kind: &str, subject: Option<&str>, why: &str) {
        self.push(
            kind,
            subject,
            CheckStatus::Error,
            serde_json::Value::Null,
            format!("could not check: {why}"),
        );
    }
}

/// Grades every enabled check.
pub fn evaluate(policy: &Policy, m: &Measurements) -> Vec<CheckResult> {
    let mut out = Out {
        policy,
        results: Vec::new(),
    };
    let on = |kind: &str| policy.check(kind).enabled;

    if on(k::DISK_FREE) {
        let c = policy.check(k::DISK_FREE);
        for (mount, probe) in &m.disks {
            match probe {
                Ok(s) if s.total_bytes > 0 => {
                    let free_pct = s.free_bytes as f64 / s.total_bytes as f64 * 100.0;
                    let msg = format!(
                        "Disk {} is {:.0}% full: {} free of {}",
                        mount,
                        100.0 - free_pct,
                        human_bytes(s.free_bytes),
                        human_bytes(s.total_bytes)
                    );
                    out.push(
                        k::DISK_FREE,
                        Some(mount),
                        grade_low(free_pct, &c),
                        json!(round1(free_pct)),
                        msg,
                    );
                }
                Ok(_) => out.error(k::DISK_FREE, Some(mount), "mount reports zero size"),
                Err(e) => out.error(k::DISK_FREE, Some(mount), e),
            }
        }
    }
    if on(k::MEMORY_AVAILABLE) {
        match m.memory_available_pct {
            Some(p) => {
                let c = policy.check(k::MEMORY_AVAILABLE);
                out.push(
                    k::MEMORY_AVAILABLE,
                    None,
                    grade_low(p, &c),
                    json!(round1(p)),
                    format!("{p:.0}% of memory available"),
                );
            }
            None => out.error(k::MEMORY_AVAILABLE, None, "memory size unknown"),
        }
    }
    if on(k::CPU_LOAD) {
        match m.load15_per_core {
            Some(l) => {
                let c = policy.check(k::CPU_LOAD);
                out.push(
                    k::CPU_LOAD,
                    None,
                    grade_high(l, &c),
                    json!(round2(l)),
                    format!("15-minute load is {l:.2} per core"),
                );
            }
            None => out.error(k::CPU_LOAD, None, "load average unavailable"),
        }
    }
    if on(k::SWAP_USED) {
        let c = policy.check(k::SWAP_USED);
        match m.swap_used_pct {
            Some(p) => out.push(
                k::SWAP_USED,
                None,
                grade_high(p, &c),
                json!(round1(p)),
                format!("{p:.0}% of swap in use"),
            ),
            None => out.push(
                k::SWAP_USED,
                None,
                CheckStatus::Pass,
                serde_json::Value::Null,
                "no swap configured".into(),
            ),
        }
    }
    if on(k::BATTERY_HEALTH) {
        let c = policy.check(k::BATTERY_HEALTH);
        match m.battery_health_pct {
            Some(p) => out.push(
                k::BATTERY_HEALTH,
                None,
                grade_low(p, &c),
                json!(round1(p)),
                format!("battery holds {p:.0}% of its design capacity"),
            ),
            None => out.push(
                k::BATTERY_HEALTH,
                None,
                CheckStatus::Pass,
                serde_json::Value::Null,
                "no battery".into(),
            ),
        }
    }
    if on(k::UPTIME_DAYS) {
        let c = policy.check(k::UPTIME_DAYS);
        let d = m.uptime_days;
        out.push(
            k::UPTIME_DAYS,
            None,
            grade_high(d, &c),
            json!(round1(d)),
            format!("last reboot {d:.1} days ago"),
        );
    }
    if on(k::OS_UPDATES) {
        match &m.pending_updates {
            Ok(list) => {
                let c = policy.check(k::OS_UPDATES);
                let n = list.len();
                let sample: Vec<&String> = list.iter().take(10).collect();
                let msg = if n == 0 {
                    "the OS is up to date".to_string()
                } else {
                    format!(
                        "{n} OS update(s) pending: {}",
                        sample
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                out.push(k::OS_UPDATES, None, grade_high(n as f64, &c), json!(n), msg);
            }
            Err(e) => out.error(k::OS_UPDATES, None, e),
        }
    }
    if on(k::DISK_ENCRYPTION) {
        match m.disk_encrypted {
            Ok(enc) => {
                let c = policy.check(k::DISK_ENCRYPTION);
                let msg = if enc {
                    "the system disk is encrypted"
                } else {
                    "the system disk is NOT encrypted"
                };
                out.push(
                    k::DISK_ENCRYPTION,
                    None,
                    grade_bool(enc, &c),
                    json!(enc),
                    msg.into(),
                );
            }
            Err(ref e) => out.error(k::DISK_ENCRYPTION, None, e),
        }
    }
    if on(k::FIREWALL) {
        match &m.firewall_enabled {
            Ok((on, which)) => {
                let c = policy.check(k::FIREWALL);
                let msg = if *on {
                    format!("firewall enabled ({which})")
                } else {
                    format!("no firewall enabled ({which})")
                };
                out.push(k::FIREWALL, None, grade_bool(*on, &c), json!(on), msg);
            }
            Err(e) => out.error(k::FIREWALL, None, e),
        }
    }
    if on(k::CLOCK_SYNC) {
        match m.clock_synchronised {
            Ok(s) => {
                let c = policy.check(k::CLOCK_SYNC);
                let msg = if s {
                    "clock synchronised"
                } else {
                    "clock is not synchronised by NTP"
                };
                out.push(k::CLOCK_SYNC, None, grade_bool(s, &c), json!(s), msg.into());
            }
            Err(ref e) => out.error(k::CLOCK_SYNC, None, e),
        }
    }
    if on(k::PROCESS_REQUIRED) && !policy.required_processes.is_empty() {
        let c = policy.check(k::PROCESS_REQUIRED);
        let missing: Vec<&String> = policy
            .required_processes
            .iter()
            .filter(|p| !m.processes.contains(p.as_str()))
            .collect();
        let msg = if missing.is_empty() {
            "all required processes are running".to_string()
        } else {
            format!(
                "not running: {}",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(
            k::PROCESS_REQUIRED,
            None,
            grade_bool(missing.is_empty(), &c),
            json!(missing),
            msg,
        );
    }
    if on(k::CRASH_RECENT) {
        match &m.recent_crashes {
            Ok(list) => {
                let c = policy.check(k::CRASH_RECENT);
                let names: BTreeSet<&str> = list.iter().map(|(p, _)| p.as_str()).collect();
                let msg = if list.is_empty() {
                    "no crash reports in the last 24 h".to_string()
                } else {
                    format!(
                        "{} crash report(s) in the last 24 h: {}",
                        list.len(),
                        names.into_iter().collect::<Vec<_>>().join(", ")
                    )
                };
                out.push(
                    k::CRASH_RECENT,
                    None,
                    grade_high(list.len() as f64, &c),
                    json!(list.len()),
                    msg,
                );
            }
            Err(e) => out.error(k::CRASH_RECENT, None, e),
        }
    }
    out.results
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Measurements {
        Measurements {
            disks: vec![(
                "/".into(),
                Ok(MountSpace {
                    mount: "/".into(),
                    free_bytes: 100 << 30,
                    total_bytes: 256 << 30,
                }),
            )],
            memory_available_pct: Some(60.0),
            load15_per_core: Some(0.3),
            swap_used_pct: None,
            battery_health_pct: Some(92.0),
            uptime_days: 2.0,
            pending_updates: Ok(vec![]),
            disk_encrypted: Ok(true),
            firewall_enabled: Ok((true, "ufw".into())),
            clock_synchronised: Ok(true),
            processes: ["sshd".to_string()].into_iter().collect(),
            recent_crashes: Ok(vec![]),
        }
    }

    fn status(results: &[CheckResult], id: &str) -> CheckStatus {
        results
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .status
    }

    #[test]
    fn healthy_machine_passes_everything() {
        let p = Policy {
            required_processes: vec!["sshd".into()],
            ..Policy::default()
        };
        let r = evaluate(&p, &healthy());
        assert_eq!(r.len(), 12);
        assert!(r.iter().all(|c| c.status == CheckStatus::Pass), "{r:#?}");
    }

    #[test]
    fn disk_free_grades_and_explains() {
        let p = Policy::default();
        let mut m = healthy();
        m.disks[0].1 = Ok(MountSpace {
            mount: "/".into(),
            free_bytes: 3_100_000_000,
            total_bytes: 256_000_000_000,
        });
        let r = evaluate(&p, &m);
        let d = r.iter().find(|c| c.id == "disk.free:/").unwrap();
        assert_eq!(d.status, CheckStatus::Fail);
        assert_eq!(d.message, "Disk / is 99% full: 3.1 GB free of 256.0 GB");
        assert_eq!(d.severity, tend_shared::health::Severity::High);
        // a threshold above the real free space fails any machine
        let mut p = Policy::default();
        p.checks.get_mut("disk.free").unwrap().fail = Some(100.0);
        assert_eq!(
            status(&evaluate(&p, &healthy()), "disk.free:/"),
            CheckStatus::Fail
        );
        // warn band
        m.disks[0].1 = Ok(MountSpace {
            mount: "/".into(),
            free_bytes: 10,
            total_bytes: 100,
        });
        assert_eq!(
            status(&evaluate(&Policy::default(), &m), "disk.free:/"),
            CheckStatus::Warn
        );
        m.disks[0].1 = Err("no such mount".into());
        assert_eq!(
            status(&evaluate(&Policy::default(), &m), "disk.free:/"),
            CheckStatus::Error
        );
    }

    #[test]
    fn high_is_worse_checks_are_inclusive() {
        let mut m = healthy();
        m.pending_updates = Ok(vec!["openssl".into()]);
        m.load15_per_core = Some(3.0);
        m.uptime_days = 40.0;
        m.recent_crashes = Ok(vec![("Finder".into(), "a.ips".into())]);
        let r = evaluate(&Policy::default(), &m);
        assert_eq!(status(&r, "os.updates"), CheckStatus::Warn);
        assert_eq!(status(&r, "cpu.load"), CheckStatus::Fail);
        assert_eq!(status(&r, "uptime.days"), CheckStatus::Fail);
        assert_eq!(status(&r, "crash.recent"), CheckStatus::Warn);
    }

    #[test]
    fn booleans_missing_processes_and_errors() {
        let mut m = healthy();
        m.disk_encrypted = Ok(false);
        m.firewall_enabled = Err("no ufw".into());
        m.clock_synchronised = Ok(false);
        let p = Policy {
            required_processes: vec!["sshd".into(), "osqueryd".into()],
            ..Policy::default()
        };
        let r = evaluate(&p, &m);
        assert_eq!(status(&r, "disk.encryption"), CheckStatus::Fail);
        assert_eq!(status(&r, "firewall.enabled"), CheckStatus::Error);
        assert_eq!(status(&r, "clock.sync"), CheckStatus::Warn);
        let proc = r.iter().find(|c| c.id == "process.required").unwrap();
        assert_eq!(proc.status, CheckStatus::Fail);
        assert_eq!(proc.message, "not running: osqueryd");
    }

    #[test]
    fn disabled_checks_are_skipped() {
        let mut p = Policy::default();
        for c in p.checks.values_mut() {
            c.enabled = false;
        }
        assert!(evaluate(&p, &healthy()).is_empty());
    }
}
