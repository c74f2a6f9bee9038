//! What the web console reads beyond the plain lists: the manager's overview
//! (`GET /api/v1/reports/overview`) and the typed diagnostics catalogue
//! (`GET /api/v1/diagnostics`) its forms are generated from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One day of the created-vs-resolved chart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayPoint {
    /// Start of the day (UTC, ms epoch).
    pub day_ms: u64,
    pub created: u64,
    pub resolved: u64,
}

/// One week of the trend charts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeekPoint {
    /// Start of the week (ms epoch; weeks end at the overview's time).
    pub week_ms: u64,
    /// Mean time to resolve of the tickets resolved that week (pending time excluded).
    pub mttr_s: Option<f64>,
    /// Mean time to own of the tickets created that week and owned.
    pub time_to_own_s: Option<f64>,
    /// Problems the agent fixed itself that week (no ticket).
    pub deflected: u64,
    /// Tickets the agents filed that week.
    pub agent_tickets: u64,
    /// deflected / (deflected + agent tickets).
    pub deflection_rate: Option<f64>,
}

/// `GET /api/v1/reports/overview?days=30|90&stale_days=N`: the help-desk manager's page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub at_ms: u64,
    pub days: u32,
    pub devices: u64,
    /// Devices per health state (`healthy`, `warning`, `failing`, `unknown`).
    pub health: BTreeMap<String, u64>,
    /// Devices silent past the policy's offline threshold.
    pub offline: u64,
    pub offline_threshold_s: u64,
    /// Devices not seen for `stale_days` days.
    pub stale: u64,
    pub stale_days: u32,
    pub open_tickets: u64,
    /// Open tickets per priority (`P1`..`P4`).
    pub open_by_priority: BTreeMap<String, u64>,
    /// Open tickets whose own or resolve target falls within the next 4 hours.
    pub breaching_soon: u64,
    /// Open tickets already past their resolve target.
    pub breached: u64,
    /// One point per day, oldest first.
    pub daily: Vec<DayPoint>,
    /// One point per week, oldest first.
    pub weekly: Vec<WeekPoint>,
    /// (problem key, tickets created in the window), most first.
    pub top_problems: Vec<(String, u64)>,
}

/// How a diagnostic argument is typed (the console draws the matching input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgKind {
    Host,
    Url,
    Path,
    Choice,
    Number,
}

/// One argument of a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgSpec {
    pub name: String,
    pub kind: ArgKind,
    pub required: bool,
    /// The allowed values of a `choice`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// A value to start from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    pub help: String,
}

/// One entry of `GET /api/v1/diagnostics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticSpec {
    pub name: String,
    pub summary: String,
    pub args: Vec<ArgSpec>,
}
