//! The agent's config file (`/etc/tend/agent.toml`): local settings the collector's
//! policy does not carry — where state lives, self-update behaviour, which crash
//! folders to watch — and local overrides of check thresholds.
//!
//! Parsed, then validated (`AgentConfig::load`); `tend-agent validate` runs both and
//! systemd runs that as `ExecStartPre`. The daemon watches the file and applies a
//! valid new version live; an invalid one is logged and the old config kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tend_shared::health::Severity;
use tend_shared::policy::Policy;

/// Where the packaged config lives.
pub const DEFAULT_CONFIG: &str = "/etc/tend/agent.toml";

pub use tend_client::config::ConfigError;

/// How the agent restarts into a newly installed binary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartMode {
    /// Exit and let systemd/launchd start the new binary when running under one,
    /// otherwise `exec` it in place.
    #[default]
    Auto,
    /// Always replace the process image (`exec`), keeping the PID.
    Exec,
    /// Always exit; the service manager restarts the agent.
    Exit,
}

/// `[update]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateConfig {
    /// Install releases the collector offers.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A new version must check in within this many seconds or it is rolled back.
    #[serde(default = "default_grace")]
    pub grace_period_s: u64,
    #[serde(default)]
    pub restart: RestartMode,
}

/// `[crash]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashConfig {
    /// Folders with crash reports; absent = the platform's (`/var/crash` and
    /// systemd-coredump's on Linux, DiagnosticReports on macOS).
    #[serde(default)]
    pub dirs: Option<Vec<PathBuf>>,
    /// A report is read once it has not changed for this long.
    #[serde(default = "default_debounce")]
    pub debounce_ms: u64,
}

/// A local override of one check kind (any field left out keeps the policy's value).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckOverride {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub warn: Option<f64>,
    #[serde(default)]
    pub fail: Option<f64>,
    #[serde(default)]
    pub severity: Option<Severity>,
}

/// `/etc/tend/agent.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// State directory (credentials, policy, spool). `--state` overrides it.
    #[serde(default = "default_state")]
    pub state_dir: PathBuf,
    #[serde(default)]
    pub update: UpdateConfig,
    #[serde(default)]
    pub crash: CrashConfig,
    /// Per check kind (`disk.free`), overriding the collector's policy on this device.
    #[serde(default)]
    pub checks: BTreeMap<String, CheckOverride>,
}

fn yes() -> bool {
    true
}
fn default_grace() -> u64 {
    600
}
fn default_debounce() -> u64 {
    500
}
fn default_state() -> PathBuf {
    PathBuf::from("/var/lib/tend/agent")
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            enabled: true,
            grace_period_s: default_grace(),
            restart: RestartMode::Auto,
        }
    }
}

impl Default for CrashConfig {
    fn default() -> Self {
        CrashConfig {
            dirs: None,
            debounce_ms: default_debounce(),
        }
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            state_dir: default_state(),
            update: UpdateConfig::default(),
            crash: CrashConfig::default(),
            checks: BTreeMap::new(),
        }
    }
}

impl AgentConfig {
    /// Step one: syntax and types.
    pub fn parse(path: &Path, text: &str) -> Result<AgentConfig, ConfigError> {
        tend_client::config::parse(path, text)
    }

    /// Reads, parses and validates `path`. A missing file means the defaults unless
    /// `must_exist` (the operator named it).
    pub fn load(path: &Path, must_exist: bool) -> Result<AgentConfig, ConfigError> {
        tend_client::config::load(path, must_exist)
    }

    /// Step two: values that parse but cannot work.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        if !self.state_dir.is_absolute() {
            return Err(invalid(format!(
                "state_dir = {:?} must be an absolute path",
                self.state_dir
            )));
        }
        if !(2..=86_400).contains(&self.update.grace_period_s) {
            return Err(invalid(format!(
                "update.grace_period_s = {} must be between 2 and 86400",
                self.update.grace_period_s
            )));
        }
        if self.crash.debounce_ms > 60_000 {
            return Err(invalid(format!(
                "crash.debounce_ms = {} must be at most 60000",
                self.crash.debounce_ms
            )));
        }
        for d in self.crash.dirs.iter().flatten() {
            if !d.is_absolute() {
                return Err(invalid(format!("crash.dirs entry {d:?} must be absolute")));
            }
        }
        for (kind, o) in &self.checks {
            if !tend_shared::policy::checks::ALL.contains(&kind.as_str()) {
                return Err(invalid(format!(
                    "[checks.\"{kind}\"]: unknown check kind (known: {})",
                    tend_shared::policy::checks::ALL.join(", ")
                )));
            }
            for (name, v) in [("warn", o.warn), ("fail", o.fail)] {
                if v.is_some_and(|v| !v.is_finite()) {
                    return Err(invalid(format!(
                        "[checks.\"{kind}\"] {name} must be a finite number"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The collector's policy with this device's local overrides applied.
    pub fn apply(&self, policy: &Policy) -> Policy {
        if self.checks.is_empty() {
            return policy.clone();
        }
        let mut p = policy.clone();
        for (kind, o) in &self.checks {
            let mut c = p.check(kind);
            if let Some(e) = o.enabled {
                c.enabled = e;
            }
            if o.warn.is_some() {
                c.warn = o.warn;
            }
            if o.fail.is_some() {
                c.fail = o.fail;
            }
            if let Some(s) = o.severity {
                c.severity = s;
            }
            p.checks.insert(kind.clone(), c);
        }
        p
    }

    /// The crash folders to watch and scan.
    pub fn crash_dirs(&self) -> Vec<PathBuf> {
        self.crash
            .dirs
            .clone()
            .unwrap_or_else(crate::platform::crash_dirs)
    }
}

impl tend_client::config::ConfigFile for AgentConfig {
    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        AgentConfig::validate(self, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<AgentConfig, ConfigError> {
        let p = Path::new("agent.toml");
        let c = AgentConfig::parse(p, text)?;
        c.validate(p)?;
        Ok(c)
    }

    #[test]
    fn overrides_apply_on_top_of_the_policy() {
        let c = check(
            "[update]\ngrace_period_s = 30\n[crash]\ndirs = [\"/tmp/crashes\"]\n[checks.\"disk.free\"]\nfail = 50.0\n",
        )
        .unwrap();
        assert_eq!(c.update.grace_period_s, 30);
        assert_eq!(c.crash_dirs(), vec![PathBuf::from("/tmp/crashes")]);
        let base = Policy::default();
        let p = c.apply(&base);
        assert_eq!(p.check("disk.free").fail, Some(50.0));
        assert_eq!(p.check("disk.free").warn, base.check("disk.free").warn);
        assert_eq!(p.version, base.version);
        assert_eq!(check("").unwrap(), AgentConfig::default());
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        for (bad, says) in [
            ("[checks.\"disk.fre\"]\nfail = 1.0", "unknown check kind"),
            ("[update]\ngrace_period_s = 0", "grace_period_s"),
            ("state_dir = \"relative\"", "absolute"),
            ("[crash]\ndirs = [\"tmp\"]", "absolute"),
            ("[update]\nenabeld = true", "unknown field"),
            ("[checks.\"disk.free\"]\nfail = \"ten\"", "agent.toml"),
            ("this is not toml", "agent.toml"),
        ] {
            let e = check(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
