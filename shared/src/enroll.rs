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
    pub enroll_secret: String,
    pub identity: HardwareIdentity,
    pub agent_version: String,
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
