//! `POST /api/v1/enroll`: hardware identity in, device id and token out.

use serde::{Deserialize, Serialize};

use crate::policy::Policy;

/// Operating system family of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Linux,
    Macos,
    /// Anything a newer agent reports that this build does not know.
    #[serde(other)]
    Other,
}

impl Platform {
    /// The platform this binary was built for.
    pub fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::Macos
        } else if cfg!(target_os = "linux") {
            Platform::Linux
        } else {
            Platform::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::Macos => "macos",
            Platform::Other => "other",
        }
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "linux" => Ok(Platform::Linux),
            "macos" => Ok(Platform::Macos),
            other => Err(format!("unknown platform {other:?} (linux|macos)")),
        }
    }
}

/// What identifies a physical machine across reinstalls of the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardwareIdentity {
    /// SMBIOS/IOPlatform UUID (Linux: /sys/class/dmi/id/product_uuid, else machine-id).
    pub hardware_uuid: String,
    #[serde(default)]
    pub serial: Option<String>,
    pub hostname: String,
    pub platform: Platform,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
}

/// Sent by an agent that holds a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The bundle's fleet secret, or an enrollment token (`tet_…`).
    pub enroll_secret: String,
    pub identity: HardwareIdentity,
    pub agent_version: String,
    /// The agent's own ed25519 public key (base64), made at its first enrollment and
    /// kept in its state dir: it proves the device when it enrolls again.
    #[serde(default)]
    pub device_key: Option<String>,
    /// Proof that a re-enrolling agent is the device it says (a known hardware UUID
    /// never changes hands on the enroll secret alone).
    #[serde(default)]
    pub proof: Option<EnrollProof>,
}

/// What a re-enrolling agent shows: its current device token, or a fresh signature by
/// the device key it enrolled with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollProof {
    #[serde(default)]
    pub previous_token: Option<String>,
    /// Base64 ed25519 over `signing::reenroll_message(hardware_uuid, signed_at_ms)`.
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub signed_at_ms: u64,
}

/// A known device that asked to enroll again without proving it is that device; an
/// analyst's approval admits the key that asked, once, within a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReenrollRequest {
    pub device_id: String,
    pub hardware_uuid: String,
    /// The key the new installation made.
    #[serde(default)]
    pub device_key: Option<String>,
    pub hostname: String,
    pub requested_at_ms: u64,
    /// The address it came from.
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub approved_by: Option<String>,
    #[serde(default)]
    pub approved_at_ms: Option<u64>,
}

/// An expiring, use-limited enrollment token an admin creates for an MDM push, so no
/// permanent fleet-wide secret has to sit on laptops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollTokenInfo {
    /// `et_<hex>`: what `revoke` takes.
    pub id: String,
    #[serde(default)]
    pub label: String,
    pub created_by: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    pub max_uses: u32,
    pub uses: u32,
    #[serde(default)]
    pub revoked: bool,
}

/// `POST /api/v1/enroll-tokens` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollTokenCreate {
    /// Lifetime in seconds (at most 90 days).
    pub expires_in_s: u64,
    /// Enrollments it admits.
    pub uses: u32,
    #[serde(default)]
    pub label: String,
}

/// The token (shown once) and what a bundle needs besides the server URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollTokenCreated {
    pub token: String,
    pub info: EnrollTokenInfo,
    pub ca_pem: String,
    pub signing_public_key: String,
}

/// The device's credentials. The token is shown once; the collector keeps only its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    pub device_token: String,
    /// True when this hardware UUID was already known (same device, same asset).
    #[serde(default)]
    pub reenrolled: bool,
    /// The script-signing key the agent pins (base64 ed25519 public key).
    pub signing_public_key: String,
    /// The current policy, so the first check-in already uses it.
    pub policy: Policy,
}

/// Where refused enrollments came from in the last day (`GET /api/v1/enrollments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedEnrollments {
    /// The source address.
    pub source: String,
    pub attempts: u64,
    pub last_at_ms: u64,
    /// Why, most frequent first (`wrong secret`, `known hardware without proof`…).
    pub reasons: Vec<String>,
}

/// `GET /api/v1/enrollments` (admin): what is waiting or was refused, so a leaked
/// secret or a stranger's attempts are seen, not only rate-limited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentsView {
    /// Re-enrollments of known hardware waiting for an analyst's approval.
    pub pending: Vec<ReenrollRequest>,
    /// Refused enrollments of the last 24 h by source, most attempts first.
    pub refused: Vec<RefusedEnrollments>,
}
