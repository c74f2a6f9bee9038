//! Analyst views of devices: the list row, the detail page and device events.

use serde::{Deserialize, Serialize};

use crate::assets::Asset;
use crate::enroll::Platform;
use crate::health::{CheckResult, HealthStatus};
use crate::inventory::Inventory;
use crate::tickets::Ticket;

/// One row of `GET /api/v1/devices`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceSummary {
    pub id: String,
    pub hostname: String,
    pub platform: Platform,
    #[serde(default)]
    pub serial: Option<String>,
    pub hardware_uuid: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub agent_version: String,
    pub health: HealthStatus,
    pub enrolled_at_ms: u64,
    /// Zero until the first check-in.
    pub last_seen_ms: u64,
    #[serde(default)]
    pub asset_id: Option<String>,
    /// Who the device's asset belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The last self-update attempt, if any.
    #[serde(default)]
    pub update: Option<crate::releases::DeviceUpdate>,
    /// Set once an analyst decommissioned it.
    #[serde(default)]
    pub decommissioned_at_ms: Option<u64>,
}

/// Where a device event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventSource {
    Agent,
    Collector,
}

/// One entry of a device's time-ordered event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceEvent {
    pub at_ms: u64,
    /// The agent's event seq (agent events only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub source: EventSource,
    pub kind: String,
    #[serde(default)]
    pub check_id: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// `GET /api/v1/devices/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceDetail {
    pub device: DeviceSummary,
    #[serde(default)]
    pub inventory: Option<Inventory>,
    #[serde(default)]
    pub inventory_updated_ms: u64,
    #[serde(default)]
    pub health: Vec<CheckResult>,
    #[serde(default)]
    pub health_updated_ms: u64,
    #[serde(default)]
    pub asset: Option<Asset>,
    /// Most recent first.
    #[serde(default)]
    pub events: Vec<DeviceEvent>,
    /// Open tickets first, then the most recent others.
    #[serde(default)]
    pub tickets: Vec<Ticket>,
    /// A re-enrollment of this device waiting for an analyst.
    #[serde(default)]
    pub reenroll_request: Option<crate::enroll::ReenrollRequest>,
}

/// `GET /api/v1/assets/{id}`: the asset, its lifecycle events and its tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetDetail {
    #[serde(flatten)]
    pub asset: Asset,
    /// Lifecycle changes, most recent first.
    #[serde(default)]
    pub events: Vec<DeviceEvent>,
    #[serde(default)]
    pub tickets: Vec<Ticket>,
}
