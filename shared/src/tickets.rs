//! Tickets (ITIL incidents), their timeline, problem records, SLA settings and the
//! SLA report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::health::{CheckResult, Severity};

/// Lifecycle: `new → in_progress → pending → resolved → closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    New,
    InProgress,
    Pending,
    Resolved,
    Closed,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::Pending => "pending",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    /// The status in words: `in progress`.
    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::InProgress => "in progress",
            other => other.as_str(),
        }
    }

    pub const ALL: [TicketStatus; 5] = [
        TicketStatus::New,
        TicketStatus::InProgress,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    /// Where an analyst may move a ticket from this status.
    pub fn next(self) -> Vec<TicketStatus> {
        TicketStatus::ALL
            .into_iter()
            .filter(|to| self.can_move_to(*to))
            .collect()
    }

    /// Why `self → to` is refused, in words that say what is allowed instead.
    pub fn refusal(self, to: TicketStatus) -> String {
        let allowed: Vec<&str> = self.next().into_iter().map(TicketStatus::label).collect();
        let allowed = match allowed.as_slice() {
            [] => "nowhere".to_string(),
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        };
        format!(
            "a ticket that is {} cannot move to {}; from {} it can move to {allowed}",
            self.label(),
            to.label(),
            self.label()
        )
    }

    /// Open means someone still has to act.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TicketStatus::New | TicketStatus::InProgress | TicketStatus::Pending
        )
    }

    /// The transitions an analyst may make.
    pub fn can_move_to(self, to: TicketStatus) -> bool {
        use TicketStatus::*;
        matches!(
            (self, to),
            (New, InProgress)
                | (New, Pending)
                | (New, Resolved)
                | (InProgress, Pending)
                | (InProgress, Resolved)
                | (Pending, InProgress)
                | (Pending, Resolved)
                | (Resolved, InProgress)
                | (Resolved, Closed)
        )
    }
}

impl std::str::FromStr for TicketStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_string()))
            .map_err(|_| format!("unknown status {s:?} (new|in_progress|pending|resolved|closed)"))
    }
}

/// P1 (most urgent) to P4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }
}

impl std::str::FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown priority {s:?} (P1..P4)"))
    }
}

/// Who opened a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketSource {
    /// The device's agent, after its own remediation did not fix the problem.
    Agent,
    /// The collector (a device gone silent).
    Collector,
    /// An analyst, by hand.
    Analyst,
    /// The person using the device, through `tend help` (the ticket's `requester`).
    User,
}

/// `POST /api/v1/tickets`. Idempotent on `request_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRequest {
    /// Client-chosen id; the same id always yields the same ticket.
    pub request_id: String,
    /// Required for analysts; ignored for agents (the token says which device).
    #[serde(default)]
    pub device_id: Option<String>,
    /// The failing check id, e.g. `disk.free:/`.
    pub problem_key: String,
    #[serde(default)]
    pub severity: Severity,
    /// One line a human reads first.
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub check: Option<CheckResult>,
    /// Whatever helps whoever picks it up: recent events, measurements, remediation output.
    #[serde(default)]
    pub evidence: serde_json::Value,
    #[serde(default)]
    pub observed_at_ms: u64,
    /// Set when the person using the device asked for help (`tend help`): their
    /// local user name. The ticket's source is then `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    /// The category the requester chose (`network`, `disk`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// Categories a user ticket may have.
pub const USER_CATEGORIES: [&str; 7] = [
    "network",
    "disk",
    "performance",
    "software",
    "hardware",
    "account",
    "other",
];

/// A requester's satisfaction with a resolved ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csat {
    /// 1 (very unhappy) to 5 (very happy).
    pub score: u8,
    #[serde(default)]
    pub comment: String,
    pub at_ms: u64,
}

/// `POST /api/v1/tickets/{id}/csat` (the device, for its requester).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsatRequest {
    pub requester: String,
    pub score: u8,
    #[serde(default)]
    pub comment: String,
}

/// A public reply on a ticket, as the requester sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub at_ms: u64,
    pub by: String,
    pub text: String,
}

/// `GET /api/v1/device/tickets/{id}`: what a device may show its user of a ticket it
/// filed for them (public replies only, never internal notes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequesterView {
    pub id: String,
    pub summary: String,
    pub status: TicketStatus,
    #[serde(default)]
    pub requester: Option<String>,
    pub created_at_ms: u64,
    #[serde(default)]
    pub resolved_at_ms: Option<u64>,
    #[serde(default)]
    pub replies: Vec<Reply>,
    #[serde(default)]
    pub csat: Option<Csat>,
}

/// Due times and breach flags, computed at read time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    pub own_due_ms: u64,
    pub resolve_due_ms: u64,
    pub own_breached: bool,
    pub resolve_breached: bool,
    /// Time spent pending (not counted toward resolution).
    pub pending_ms: u64,
}

/// A ticket as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub device_id: String,
    #[serde(default)]
    pub asset_id: Option<String>,
    #[serde(default)]
    pub hostname: String,
    pub problem_key: String,
    pub category: String,
    pub summary: String,
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    pub priority: Priority,
    pub status: TicketStatus,
    pub source: TicketSource,
    #[serde(default)]
    pub assignee: Option<String>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    /// First time someone took it (assignee set or work started).
    #[serde(default)]
    pub owned_at_ms: Option<u64>,
    #[serde(default)]
    pub resolved_at_ms: Option<u64>,
    #[serde(default)]
    pub closed_at_ms: Option<u64>,
    /// Reports of this problem folded into this ticket.
    pub occurrences: u32,
    pub reopen_count: u32,
    /// Resolved by the collector because the check passed again.
    #[serde(default)]
    pub auto_resolved: bool,
    #[serde(default)]
    pub problem_id: Option<String>,
    #[serde(default)]
    pub sla: Sla,
    #[serde(default)]
    pub check: Option<CheckResult>,
    #[serde(default)]
    pub evidence: serde_json::Value,
    /// Who asked for help, for tickets with source `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<Csat>,
}

/// One entry of a ticket's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at_ms: u64,
    /// `token:<name>`, `device:<id>` or `system`.
    pub actor: String,
    /// `created`, `occurrence`, `status`, `assigned`, `priority`, `comment`,
    /// `auto_resolved`, `reopened`, `problem_linked`, `sla_breached`.
    pub kind: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// `GET /api/v1/tickets/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub timeline: Vec<TimelineEntry>,
    /// The statuses this ticket may move to now (what the console offers).
    #[serde(default)]
    pub next_statuses: Vec<TicketStatus>,
}

/// `PATCH /api/v1/tickets/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketPatch {
    #[serde(default)]
    pub status: Option<TicketStatus>,
    /// Empty string unassigns.
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Added to the timeline with the change.
    #[serde(default)]
    pub comment: Option<String>,
    /// The comment is a reply the requester sees (`tend status`), not an internal note.
    #[serde(default)]
    pub public: bool,
}

/// A fleet-wide incident: one problem key on many devices in a short window. Its
/// tickets are listed by `GET /api/v1/tickets?problem=<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub id: String,
    pub problem_key: String,
    pub created_at_ms: u64,
    /// The last time a ticket was linked (to within a tenth of the problem window, at
    /// most a minute): the problem takes new tickets while this is within the window.
    pub updated_at_ms: u64,
    /// Tickets linked to it.
    pub ticket_count: u64,
    /// Distinct devices among them.
    pub device_count: u64,
}

/// SLA targets for one priority, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    pub own_minutes: u64,
    pub resolve_minutes: u64,
}

/// Ticket engine settings (`GET/PUT /api/v1/tickets/settings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketSettings {
    #[serde(default = "default_targets")]
    pub sla: BTreeMap<Priority, SlaTarget>,
    /// Devices with tickets for one problem key within the window that make a problem.
    #[serde(default = "default_problem_devices")]
    pub problem_min_devices: u32,
    #[serde(default = "default_problem_window")]
    pub problem_window_s: u64,
}

fn default_targets() -> BTreeMap<Priority, SlaTarget> {
    let t = |own_minutes, resolve_minutes| SlaTarget {
        own_minutes,
        resolve_minutes,
    };
    BTreeMap::from([
        (Priority::P1, t(15, 4 * 60)),
        (Priority::P2, t(60, 8 * 60)),
        (Priority::P3, t(4 * 60, 3 * 24 * 60)),
        (Priority::P4, t(24 * 60, 5 * 24 * 60)),
    ])
}
fn default_problem_devices() -> u32 {
    5
}
fn default_problem_window() -> u64 {
    3600
}

impl TicketSettings {
    /// Rejects settings the engine could not apply sensibly (every number bounded).
    pub fn validate(&self) -> Result<(), String> {
        const YEAR_MIN: u64 = 366 * 24 * 60;
        for (p, t) in &self.sla {
            if !(1..=YEAR_MIN).contains(&t.own_minutes)
                || !(1..=YEAR_MIN).contains(&t.resolve_minutes)
            {
                return Err(format!(
                    "SLA targets for {} must be 1..={YEAR_MIN} minutes",
                    p.as_str()
                ));
            }
        }
        if !(1..=1_000_000).contains(&self.problem_min_devices) {
            return Err("problem_min_devices must be 1..=1000000".into());
        }
        if !(60..=30 * 86_400).contains(&self.problem_window_s) {
            return Err("problem_window_s must be 60..=2592000 (30 days)".into());
        }
        Ok(())
    }
}

impl Default for TicketSettings {
    fn default() -> Self {
        TicketSettings {
            sla: default_targets(),
            problem_min_devices: default_problem_devices(),
            problem_window_s: default_problem_window(),
        }
    }
}

/// Mean and median of a set of durations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    pub count: u64,
    pub mean_s: Option<f64>,
    pub median_s: Option<f64>,
}

/// `GET /api/v1/reports/sla?from=&to=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlaReport {
    pub from_ms: u64,
    pub to_ms: u64,
    /// Tickets created in the range.
    pub created: u64,
    pub by_category: BTreeMap<String, u64>,
    pub by_priority: BTreeMap<String, u64>,
    pub time_to_own: DurationStats,
    pub time_to_resolve: DurationStats,
    /// Open tickets now, by age: `0-1d`, `1-3d`, `3-7d`, `7d+`.
    pub backlog: BTreeMap<String, u64>,
    /// Share of tickets created in the range that breached an SLA target.
    pub breach_rate: Option<f64>,
    pub reopen_rate: Option<f64>,
    /// (problem key, tickets), most first.
    pub top_problems: Vec<(String, u64)>,
    /// Share of resolved tickets that resolved themselves (the check passed again).
    pub auto_resolved_share: Option<f64>,
    /// Problems fixed by the agent's own remediation with no ticket, in the range.
    pub deflected: u64,
    /// deflected / (deflected + tickets from agents).
    pub deflection_rate: Option<f64>,
    /// Resolved user tickets (`tend help`) created in the range.
    #[serde(default)]
    pub user_tickets_resolved: u64,
    /// Of those, how many their requester rated.
    #[serde(default)]
    pub csat_responses: u64,
    /// Mean rating (1 to 5) of those rated.
    #[serde(default)]
    pub csat_average: Option<f64>,
    /// csat_responses / user_tickets_resolved.
    #[serde(default)]
    pub csat_response_rate: Option<f64>,
    /// Help requests withdrawn after a knowledge-base article (self-service; also
    /// counted in `deflected`).
    #[serde(default)]
    pub self_service_withdrawn: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentBody {
    pub text: String,
    /// A reply the requester sees (`tend status`), not an internal note.
    #[serde(default)]
    pub public: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use TicketStatus::*;
        assert!(New.can_move_to(InProgress));
        assert!(Pending.can_move_to(Resolved));
        assert!(Resolved.can_move_to(Closed));
        assert!(!Closed.can_move_to(InProgress));
        assert!(!New.can_move_to(Closed));
        assert!(!New.can_move_to(New));
        assert_eq!("in_progress".parse::<TicketStatus>(), Ok(InProgress));
        assert_eq!(
            InProgress.refusal(Closed),
            "a ticket that is in progress cannot move to closed; from in progress it can move to pending or resolved"
        );
        assert_eq!(
            New.refusal(Closed),
            "a ticket that is new cannot move to closed; from new it can move to in progress, pending or resolved"
        );
        assert_eq!("p2".parse::<Priority>(), Ok(Priority::P2));
    }

    #[test]
    fn settings_json_is_pinned() {
        let s = serde_json::to_value(TicketSettings::default()).unwrap();
        assert_eq!(s["sla"]["P1"]["own_minutes"], 15);
        assert_eq!(s["problem_min_devices"], 5);
    }
}
