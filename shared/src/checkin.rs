//! `POST /api/v1/checkin`: the agent's periodic (or state-change) report.

use serde::{Deserialize, Serialize};

use crate::health::CheckResult;
use crate::inventory::Inventory;
use crate::jobs::Job;
use crate::policy::Policy;
use crate::releases::{ReleaseOffer, ReleasePlatform};

/// One thing that happened on the device, reported through the (spooled) check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentEvent {
    /// Per-device sequence, strictly increasing; the collector applies each seq once.
    pub seq: u64,
    pub at_ms: u64,
    /// Dotted kind: `check.failed`, `check.recovered`, `crash`, `agent.started`...
    pub kind: String,
    #[serde(default)]
    pub check_id: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// The agent's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckinRequest {
    pub agent_version: String,
    /// `Inventory::content_hash` of the agent's current inventory.
    pub inventory_hash: String,
    /// The full inventory, sent only when the hash changed or the collector asked.
    #[serde(default)]
    pub inventory: Option<Inventory>,
    /// Latest result of every check.
    #[serde(default)]
    pub health: Vec<CheckResult>,
    /// Events not yet acknowledged, in seq order.
    #[serde(default)]
    pub events: Vec<AgentEvent>,
    /// The policy version the agent runs.
    #[serde(default)]
    pub policy_version: u64,
    /// When this report was produced (spooled reports arrive late).
    #[serde(default)]
    pub observed_at_ms: u64,
    /// The release target this agent runs on; absent on platforms without releases.
    #[serde(default)]
    pub release_platform: Option<ReleasePlatform>,
    /// `health::results_hash` of the agent's full set of results (agents that send
    /// heartbeats; absent from older agents, whose `health` is always the full set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_hash: Option<String>,
    /// `health` holds only the results that changed materially since the set the
    /// collector acknowledged (its last `health_hash`); empty: a heartbeat, nothing
    /// changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub health_partial: bool,
}

/// The collector's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckinResponse {
    pub policy_version: u64,
    /// Present when the agent's policy version is stale.
    #[serde(default)]
    pub policy: Option<Policy>,
    /// True when the collector does not hold the inventory matching `inventory_hash`.
    #[serde(default)]
    pub need_inventory: bool,
    /// Highest event seq the collector has stored; the agent drops those from its spool.
    #[serde(default)]
    pub acked_event_seq: u64,
    /// Jobs waiting for this device.
    #[serde(default)]
    pub jobs: Vec<Job>,
    pub server_time_ms: u64,
    /// A signed release this device should update to (its rollout ring reached it).
    #[serde(default)]
    pub release: Option<ReleaseOffer>,
    /// `health::results_hash` of the results the collector now holds for the device
    /// (absent from older collectors: the agent then always sends every result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_hash: Option<String>,
    /// The collector does not hold the set a partial report was based on: send every
    /// result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub need_health: bool,
}
