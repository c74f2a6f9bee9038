//! The query strings the API accepts, one type per endpoint family; the collector
//! parses them and `tendctl` can build them. Unknown parameters are ignored; a value of
//! the wrong type is a 400 naming it. Lists page with `limit` (1..=500, default 100)
//! and the opaque `cursor` a previous page returned as `next`.

use serde::{Deserialize, Serialize};

use crate::assets::AssetState;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceQuery {
    pub platform: Option<String>,
    pub health: Option<String>,
    /// Only devices not seen for at least this many seconds.
    pub last_seen_older_than_s: Option<u64>,
    /// Id prefix, hostname prefix or serial.
    pub q: Option<String>,
    /// `id` (default), `hostname`, `recent`, `silent`.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventQuery {
    /// Only events before this time (ms epoch).
    pub before: Option<u64>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetQuery {
    pub state: Option<AssetState>,
    pub owner: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub before: Option<u64>,
    /// Entries at or after this time (ms epoch).
    pub from_ms: Option<u64>,
    /// Entries before this time (ms epoch).
    pub to_ms: Option<u64>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitQuery {
    #[serde(default)]
    pub wait: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    pub wait: u64,
    /// The policy version the agent runs; a newer one answers at once.
    #[serde(default)]
    pub policy_version: Option<u64>,
}

/// A page of a list: `limit` (default 100, at most 1,000) and `cursor` (the previous
/// page's `next`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageQuery {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RangeQuery {
    pub from: Option<u64>,
    pub to: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OverviewQuery {
    pub days: Option<u32>,
    pub stale_days: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CsvQuery {
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub table: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KbQuery {
    pub category: Option<String>,
    /// One problem key, or several separated by commas.
    pub problem_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatestQuery {
    pub platform: Option<String>,
    pub version: Option<String>,
}
