//! Device records, the hardware-UUID index, latest inventory and latest health.

use serde::{Deserialize, Serialize};
use tend_shared::devices::DeviceSummary;
use tend_shared::enroll::Platform;
use tend_shared::health::{CheckResult, HealthStatus};
use tend_shared::inventory::Inventory;

use super::{from_json, to_json, Store, StoreError};

/// What the collector keeps per enrolled device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub id: String,
    pub hardware_uuid: String,
    #[serde(default)]
    pub serial: Option<String>,
    pub hostname: String,
    pub platform: Platform,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub agent_version: String,
    pub enrolled_at_ms: u64,
    #[serde(default)]
    pub last_seen_ms: u64,
    #[serde(default)]
    pub health: HealthStatus,
    #[serde(default)]
    pub asset_id: Option<String>,
    /// Hex SHA-256 of the current device token.
    pub token_hash: String,
    /// Highest agent event seq stored.
    #[serde(default)]
    pub last_event_seq: u64,
    /// Content hash of the stored inventory.
    #[serde(default)]
    pub inventory_hash: String,
    #[serde(default)]
    pub policy_version: u64,
    /// The last self-update attempt.
    #[serde(default)]
    pub update: Option<tend_shared::releases::DeviceUpdate>,
    /// Versions whose update failed here: never offered to this device again.
    #[serde(default)]
    pub failed_versions: Vec<String>,
    /// The agent's own ed25519 public key (base64), given at its first enrollment:
    /// a re-enrollment signed by it proves the device.
    #[serde(default)]
    pub device_key: Option<String>,
    /// Set when an analyst decommissioned the device (its token was revoked).
    #[serde(default)]
    pub decommissioned_at_ms: Option<u64>,
}

impl DeviceRecord {
    pub fn summary(&self) -> DeviceSummary {
        DeviceSummary {
            id: self.id.clone(),
            hostname: self.hostname.clone(),
            platform: self.platform,
            serial: self.serial.clone(),
            hardware_uuid: self.hardware_uuid.clone(),
            os: self.os.clone(),
            agent_version: self.agent_version.clone(),
            health: self.health,
            enrolled_at_ms: self.enrolled_at_ms,
            last_seen_ms: self.last_seen_ms,
            asset_id: self.asset_id.clone(),
            update: self.update.clone(),
            decommissioned_at_ms: self.decommissioned_at_ms,
        }
    }
}

/// Filters of `GET /api/v1/devices`.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub platform: Option<Platform>,
    pub health: Option<HealthStatus>,
    /// Only devices whose last check-in is older than this (ms epoch).
    pub last_seen_before_ms: Option<u64>,
    /// Id prefix, hostname prefix or serial (case-insensitive).
    pub search: Option<String>,
}

impl DeviceFilter {
    pub fn matches(&self, d: &DeviceRecord) -> bool {
        self.platform.is_none_or(|p| p == d.platform)
            && self.health.is_none_or(|h| h == d.health)
            && self.last_seen_before_ms.is_none_or(|t| d.last_seen_ms < t)
            && self.search.as_deref().is_none_or(|q| search_matches(q, d))
    }
}

/// Does `q` name `d`: an id prefix, a hostname prefix or the serial (case-insensitive)?
pub fn search_matches(q: &str, d: &DeviceRecord) -> bool {
    let q = q.trim().to_ascii_lowercase();
    !q.is_empty()
        && (d.id.starts_with(&q)
            || d.hostname.to_ascii_lowercase().starts_with(&q)
            || d.serial
                .as_deref()
                .is_some_and(|s| s.trim().eq_ignore_ascii_case(&q)))
}

#[derive(Serialize, Deserialize)]
struct Stamped<T> {
    at_ms: u64,
    value: T,
}

impl Store {
    pub fn device(&self, id: &str) -> Result<Option<DeviceRecord>, StoreError> {
        self.devices
            .get(id)?
            .map(|v| from_json("devices", &v))
            .transpose()
    }

    pub fn device_by_hardware_uuid(&self, uuid: &str) -> Result<Option<DeviceRecord>, StoreError> {
        match self.hw_index.get(uuid)? {
            Some(id) => self.device(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// Writes a device and its hardware-UUID index entry.
    pub fn put_device(&self, d: &DeviceRecord) -> Result<(), StoreError> {
        self.devices.insert(d.id.as_bytes(), to_json(d))?;
        self.hw_index
            .insert(d.hardware_uuid.as_bytes(), d.id.as_bytes())?;
        Ok(())
    }

    /// Read-modify-write of one device; `f` may run more than once under contention.
    pub fn update_device(
        &self,
        id: &str,
        mut f: impl FnMut(&mut DeviceRecord),
    ) -> Result<Option<DeviceRecord>, StoreError> {
        let mut corrupt = None;
        let out = self.devices.update_and_fetch(id, |old| {
            let old = old?;
            match from_json::<DeviceRecord>("devices", old) {
                Ok(mut rec) => {
                    f(&mut rec);
                    Some(to_json(&rec))
                }
                Err(e) => {
                    corrupt = Some(e);
                    Some(old.to_vec())
                }
            }
        })?;
        if let Some(e) = corrupt {
            return Err(e);
        }
        out.map(|v| from_json("devices", &v)).transpose()
    }

    /// Every device matching `filter`, in id order.
    pub fn devices(&self, filter: &DeviceFilter) -> Result<Vec<DeviceRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.devices.iter() {
            let (_, v) = item?;
            let d: DeviceRecord = from_json("devices", &v)?;
            if filter.matches(&d) {
                out.push(d);
            }
        }
        Ok(out)
    }

    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    pub fn put_inventory(&self, id: &str, at_ms: u64, inv: &Inventory) -> Result<(), StoreError> {
        let rec = Stamped { at_ms, value: inv };
        self.inventory.insert(id, to_json(&rec))?;
        Ok(())
    }

    /// The latest inventory and when it was stored.
    pub fn inventory(&self, id: &str) -> Result<Option<(u64, Inventory)>, StoreError> {
        self.inventory
            .get(id)?
            .map(|v| from_json::<Stamped<Inventory>>("inventory", &v).map(|s| (s.at_ms, s.value)))
            .transpose()
    }

    pub fn put_health(
        &self,
        id: &str,
        at_ms: u64,
        results: &[CheckResult],
    ) -> Result<(), StoreError> {
        let rec = Stamped {
            at_ms,
            value: results,
        };
        self.health.insert(id, to_json(&rec))?;
        Ok(())
    }

    /// The latest health results and when they were stored.
    pub fn health(&self, id: &str) -> Result<Option<(u64, Vec<CheckResult>)>, StoreError> {
        self.health
            .get(id)?
            .map(|v| {
                from_json::<Stamped<Vec<CheckResult>>>("health", &v).map(|s| (s.at_ms, s.value))
            })
            .transpose()
    }
}
