//! Hardware and software inventory, sent in full only when its content hash changes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A full inventory of one device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    /// When it was collected (volatile: not part of the content hash).
    pub collected_at_ms: u64,
    pub hostname: String,
    pub os: OsInfo,
    pub hardware: Hardware,
    pub cpu: Cpu,
    pub memory: Memory,
    pub disks: Vec<Disk>,
    pub network: Vec<NetInterface>,
    pub battery: Option<Battery>,
    /// Logged-in user names, deduplicated and sorted.
    pub users: Vec<String>,
    /// Seconds since boot (volatile).
    pub uptime_s: u64,
    pub software: Vec<Package>,
    pub agent_version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OsInfo {
    /// e.g. `Debian GNU/Linux`, `macOS`.
    pub name: String,
    /// e.g. `12`, `14.4.1`.
    pub version: String,
    /// Build id when the OS has one (macOS `BuildVersion`).
    pub build: Option<String>,
    pub kernel: String,
    pub arch: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hardware {
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub hardware_uuid: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cpu {
    pub model: String,
    pub physical_cores: Option<u32>,
    pub logical_cores: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Memory {
    pub total_bytes: u64,
    pub swap_total_bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Disk {
    pub mount: String,
    pub device: String,
    pub filesystem: String,
    pub total_bytes: u64,
    /// Volatile: not part of the content hash (health carries free space).
    pub free_bytes: u64,
    pub removable: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetInterface {
    pub name: String,
    pub mac: Option<String>,
    pub addresses: Vec<String>,
}

/// Battery state as the OS reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Battery {
    pub design_capacity_wh: Option<f64>,
    pub full_capacity_wh: Option<f64>,
    pub cycle_count: Option<u32>,
    /// `charging`, `discharging`, `full`, `not_charging`, `unknown` (volatile).
    pub state: String,
    /// Charge percent (volatile).
    pub percent: Option<f64>,
    /// Full / design capacity in percent, when both are known.
    pub health_percent: Option<f64>,
}

/// One installed package or application.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(default)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// `dpkg`, `rpm`, `app` (macOS bundle)...
    pub source: String,
}

impl Inventory {
    /// SHA-256 (hex) of the inventory without its volatile fields (collection time,
    /// uptime, free space, battery charge), so the hash changes only when something an
    /// asset manager cares about changes.
    pub fn content_hash(&self) -> String {
        let mut stable = self.clone();
        stable.collected_at_ms = 0;
        stable.uptime_s = 0;
        for d in &mut stable.disks {
            d.free_bytes = 0;
        }
        if let Some(b) = &mut stable.battery {
            b.state.clear();
            b.percent = None;
            // full capacity drifts by a few mWh between reads; round to 1 Wh
            b.full_capacity_wh = b.full_capacity_wh.map(f64::round);
            b.health_percent = b.health_percent.map(f64::round);
        }
        let bytes = serde_json::to_vec(&stable).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Inventory {
        Inventory {
            hostname: "lap-1".into(),
            memory: Memory {
                total_bytes: 16 << 30,
                swap_total_bytes: 0,
            },
            disks: vec![Disk {
                mount: "/".into(),
                total_bytes: 100,
                free_bytes: 50,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn hash_ignores_volatile_fields() {
        let a = sample();
        let mut b = sample();
        b.collected_at_ms = 99;
        b.uptime_s = 1234;
        b.disks[0].free_bytes = 7;
        assert_eq!(a.content_hash(), b.content_hash());
    }

    #[test]
    fn hash_tracks_hardware_changes() {
        let a = sample();
        let mut b = sample();
        b.memory.total_bytes = 32 << 30;
        assert_ne!(a.content_hash(), b.content_hash());
    }

    #[test]
    fn missing_fields_default() {
        let inv: Inventory = serde_json::from_str(r#"{"hostname":"x","future_field":1}"#).unwrap();
        assert_eq!(inv.hostname, "x");
        assert!(inv.disks.is_empty());
    }
}
