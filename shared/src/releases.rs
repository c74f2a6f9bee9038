//! Agent releases: what an admin uploads, how a rollout is staged, the signed offer an
//! agent verifies before it runs a new binary, and the update state each device reports.
//!
//! Trust: the collector signs an offer (`signing::release_manifest`: version, platform,
//! SHA-256, size, expiry) with the same ed25519 key the agent pinned at enrollment. The
//! agent refuses an offer that is expired, mis-signed, or whose download does not hash
//! to the signed digest.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// Build targets a release carries one artifact for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReleasePlatform {
    #[serde(rename = "linux-x86_64")]
    LinuxX86_64,
    #[serde(rename = "linux-aarch64")]
    LinuxAarch64,
    /// One universal (x86_64 + arm64) binary for every Mac.
    #[serde(rename = "macos-universal")]
    MacosUniversal,
}

impl ReleasePlatform {
    pub const ALL: [ReleasePlatform; 3] = [
        ReleasePlatform::LinuxX86_64,
        ReleasePlatform::LinuxAarch64,
        ReleasePlatform::MacosUniversal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReleasePlatform::LinuxX86_64 => "linux-x86_64",
            ReleasePlatform::LinuxAarch64 => "linux-aarch64",
            ReleasePlatform::MacosUniversal => "macos-universal",
        }
    }

    /// The platform this binary was built for, if releases exist for it.
    pub fn current() -> Option<ReleasePlatform> {
        match (std::env::consts::OS, std::env::consts::ARCH) {
            ("linux", "x86_64") => Some(ReleasePlatform::LinuxX86_64),
            ("linux", "aarch64") => Some(ReleasePlatform::LinuxAarch64),
            ("macos", _) => Some(ReleasePlatform::MacosUniversal),
            _ => None,
        }
    }
}

impl std::str::FromStr for ReleasePlatform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ReleasePlatform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!("unknown platform {s:?} (linux-x86_64, linux-aarch64, macos-universal)")
            })
    }
}

impl std::fmt::Display for ReleasePlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the check-in response (or `GET /api/v1/releases/latest`) tells a device to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseOffer {
    pub version: String,
    pub platform: ReleasePlatform,
    /// Hex SHA-256 of the artifact.
    pub sha256: String,
    pub size: u64,
    /// The agent refuses the offer after this time (a replayed old offer is useless).
    pub expires_at_ms: u64,
    /// Base64 ed25519 over `signing::release_manifest` of the fields above.
    pub signature: String,
    /// Path on the collector the artifact downloads from.
    pub url: String,
    /// An older version offered on purpose, as the way back (signed): without it an
    /// agent refuses anything not newer than what it runs.
    #[serde(default)]
    pub rollback: bool,
}

/// `GET /api/v1/releases/latest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestRelease {
    #[serde(default)]
    pub release: Option<ReleaseOffer>,
}

/// One uploaded binary of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseArtifact {
    pub platform: ReleasePlatform,
    pub sha256: String,
    pub size: u64,
    pub uploaded_at_ms: u64,
    pub uploaded_by: String,
    /// The uploader's user id (empty: uploaded by the operator on the server).
    #[serde(default)]
    pub uploaded_by_id: String,
}

/// One widening of a rollout, with the outcomes reported while it was current.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutStage {
    pub percent: u8,
    pub started_at_ms: u64,
    /// Devices that started this update (or refused it) during this stage.
    #[serde(default)]
    pub attempted: u64,
    #[serde(default)]
    pub succeeded: u64,
    /// Failed downloads, refusals, failed swaps and rollbacks.
    #[serde(default)]
    pub failed: u64,
}

/// Where a release's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// Share of devices (by device-id hash) offered this release; 0 = not yet.
    pub percent: u8,
    /// Paused by an admin: nobody new is offered the release.
    #[serde(default)]
    pub paused: bool,
    /// Halted by the collector because too many updates in the current stage failed.
    #[serde(default)]
    pub halted: bool,
    #[serde(default)]
    pub halt_reason: Option<String>,
    /// Halt when failed / attempted in the current stage reaches this percentage…
    #[serde(default = "default_threshold")]
    pub failure_threshold_pct: u8,
    /// …once at least this many devices attempted it.
    #[serde(default = "default_min_sample")]
    pub min_sample: u64,
    #[serde(default)]
    pub stages: Vec<RolloutStage>,
    /// Offered to devices running a *newer* version too (the way back from a bad
    /// release); offers say so, signed.
    #[serde(default)]
    pub rollback: bool,
}

fn default_threshold() -> u8 {
    20
}
fn default_min_sample() -> u64 {
    3
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout {
            percent: 0,
            paused: false,
            halted: false,
            halt_reason: None,
            failure_threshold_pct: default_threshold(),
            min_sample: default_min_sample(),
            stages: Vec::new(),
            rollback: false,
        }
    }
}

impl Rollout {
    /// True when devices in the ring are being offered the release.
    pub fn active(&self) -> bool {
        self.percent > 0 && !self.paused && !self.halted
    }
}

/// A release as the collector keeps and shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub version: String,
    pub created_at_ms: u64,
    pub created_by: String,
    pub artifacts: Vec<ReleaseArtifact>,
    pub rollout: Rollout,
    /// The second admin who approved the artifacts (two-person rule); nothing is
    /// offered before. A new artifact clears it.
    #[serde(default)]
    pub approved_by: Option<String>,
    #[serde(default)]
    pub approved_by_id: Option<String>,
    #[serde(default)]
    pub approved_at_ms: Option<u64>,
}

/// `POST /api/v1/releases/{version}/rollout`: an admin widens, pauses or resumes.
/// Resuming (`paused: false`) also clears an automatic halt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutPatch {
    #[serde(default)]
    pub percent: Option<u8>,
    #[serde(default)]
    pub paused: Option<bool>,
    #[serde(default)]
    pub failure_threshold_pct: Option<u8>,
    #[serde(default)]
    pub min_sample: Option<u64>,
    /// Make it a rollback target (offered to newer versions too).
    #[serde(default)]
    pub rollback: Option<bool>,
}

/// Where a device's self-update stands, from the agent's `update.*` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    /// Downloaded and verified; swapping and restarting.
    Installing,
    /// The new version checked in within the grace period.
    Succeeded,
    /// Download, disk or swap failed; the old version kept running.
    Failed,
    /// Signature, hash or expiry check failed; nothing was installed.
    Refused,
    /// The new version did not check in within the grace period; the old one is back.
    RolledBack,
}

impl UpdateState {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateState::Installing => "installing",
            UpdateState::Succeeded => "succeeded",
            UpdateState::Failed => "failed",
            UpdateState::Refused => "refused",
            UpdateState::RolledBack => "rolled_back",
        }
    }

    /// The agent event kind reporting this state (`update.succeeded`…).
    pub fn event_kind(self) -> &'static str {
        match self {
            UpdateState::Installing => "update.started",
            UpdateState::Succeeded => "update.succeeded",
            UpdateState::Failed => "update.failed",
            UpdateState::Refused => "update.refused",
            UpdateState::RolledBack => "update.rolled_back",
        }
    }

    pub fn from_event_kind(kind: &str) -> Option<UpdateState> {
        [
            UpdateState::Installing,
            UpdateState::Succeeded,
            UpdateState::Failed,
            UpdateState::Refused,
            UpdateState::RolledBack,
        ]
        .into_iter()
        .find(|s| s.event_kind() == kind)
    }

    /// A failure that retrying the same version cannot fix (bad signature or digest,
    /// a binary that did not come up). Transient failures — network, disk full, an
    /// expired offer — are offered again later.
    pub fn is_permanent_failure(self) -> bool {
        matches!(self, UpdateState::Refused | UpdateState::RolledBack)
    }
}

/// A device's last update attempt, as the collector shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceUpdate {
    pub state: UpdateState,
    /// The version being installed.
    pub target_version: String,
    #[serde(default)]
    pub from_version: String,
    #[serde(default)]
    pub message: String,
    pub at_ms: u64,
}

/// Orders dotted versions numerically (`0.10.0 > 0.9.1`); a pre-release (`1.0.0-rc1`)
/// sorts before its release. Non-numeric parts compare as text.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (Vec<&str>, Option<&str>) {
        let v = v.trim().trim_start_matches('v');
        let (core, pre) = match v.split_once(['-', '+']) {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        (core.split('.').collect(), pre)
    }
    fn part(a: &str, b: &str) -> Ordering {
        match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.cmp(b),
        }
    }
    let ((ca, pa), (cb, pb)) = (split(a), split(b));
    for i in 0..ca.len().max(cb.len()) {
        let o = part(ca.get(i).unwrap_or(&"0"), cb.get(i).unwrap_or(&"0"));
        if o != Ordering::Equal {
            return o;
        }
    }
    match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(y),
    }
}

/// Checks a version string an admin supplies: 1–64 chars of `[0-9A-Za-z.+-]`,
/// starting with a digit.
pub fn validate_version(v: &str) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "version {v:?} must start with a digit and hold only letters, digits, '.', '-', '+' (at most 64)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        assert_eq!(version_cmp("0.10.0", "0.9.1"), Ordering::Greater);
        assert_eq!(version_cmp("1.0.0-rc1", "1.0.0"), Ordering::Less);
        assert_eq!(version_cmp("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(version_cmp("0.2.0", "0.1.0"), Ordering::Greater);
        assert!(validate_version("0.2.0-test+b1").is_ok());
        assert!(validate_version("../x").is_err());
        assert!(validate_version("").is_err());
    }

    #[test]
    fn wire_shapes() {
        let p: ReleasePlatform = serde_json::from_str("\"linux-x86_64\"").unwrap();
        assert_eq!(p, ReleasePlatform::LinuxX86_64);
        assert_eq!(
            "macos-universal".parse::<ReleasePlatform>(),
            Ok(ReleasePlatform::MacosUniversal)
        );
        assert!("windows".parse::<ReleasePlatform>().is_err());
        assert_eq!(
            serde_json::to_value(UpdateState::RolledBack).unwrap(),
            "rolled_back"
        );
        assert_eq!(
            UpdateState::from_event_kind("update.refused"),
            Some(UpdateState::Refused)
        );
        // an old collector's rollout without the newer fields still parses
        let r: Rollout = serde_json::from_str(r#"{"percent": 10}"#).unwrap();
        assert_eq!(r.failure_threshold_pct, 20);
        assert!(r.active());
    }
}
