//! The device's hardware identity, sent at enrollment.
//!
//! Linux: DMI (`/sys/class/dmi/id/product_uuid`, readable by root) else
//! `/etc/machine-id`; macOS: `IOPlatformUUID`. `TEND_AGENT_HARDWARE_UUID` overrides it,
//! for cloned VM images whose machine-id is shared, and for tests.

use tend_shared::enroll::{HardwareIdentity, Platform};

use crate::platform;

/// Environment variable that overrides the detected hardware UUID.
pub const HARDWARE_UUID_ENV: &str = "TEND_AGENT_HARDWARE_UUID";

/// Collects this machine's identity.
pub fn detect() -> HardwareIdentity {
    let hw = platform::hardware();
    let hardware_uuid = std::env::var(HARDWARE_UUID_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(hw.hardware_uuid);
    HardwareIdentity {
        hardware_uuid,
        serial: hw.serial,
        hostname: platform::hostname(),
        platform: Platform::current(),
        vendor: hw.vendor,
        model: hw.model,
    }
}
