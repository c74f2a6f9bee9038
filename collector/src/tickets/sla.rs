//! Pure ticket rules: priority from severity × asset criticality, category from the
//! problem key, and SLA due times with pending time excluded.

use tend_shared::assets::Criticality;
use tend_shared::health::Severity;
use tend_shared::tickets::{Priority, Sla, TicketSettings, TicketStatus};

use crate::tickets::TicketRecord;

/// P1–P4 from how bad the problem is and how much the machine matters.
pub fn priority(severity: Severity, criticality: Criticality) -> Priority {
    use Criticality as C;
    use Priority::*;
    use Severity as S;
    match (severity, criticality) {
        (S::Critical, C::Low) => P2,
        (S::Critical, _) => P1,
        (S::High, C::High) => P1,
        (S::High, C::Normal) => P2,
        (S::High, C::Low) => P3,
        (S::Medium, C::High) => P2,
        (S::Medium, C::Normal) => P3,
        (S::Medium, C::Low) => P4,
        (S::Low, C::High) => P3,
        (S::Low, _) | (S::Info, _) => P4,
    }
}

/// Report category of a problem key (`disk.free:/` → `storage`).
pub fn category(problem_key: &str) -> &'static str {
    let kind = problem_key.split(':').next().unwrap_or(problem_key);
    match kind {
        "disk.free" => "storage",
        "memory.available" | "cpu.load" | "swap.used" => "performance",
        "battery.health" => "hardware",
        "uptime.days" | "os.updates" => "maintenance",
        "disk.encryption" | "firewall.enabled" => "security",
        "clock.sync" => "configuration",
        "process.required" => "software",
        "crash.recent" | "app.crash" => "stability",
        "device.offline" => "connectivity",
        _ => "other",
    }
}

/// Pending time so far (closed periods plus the current one).
pub fn pending_ms(rec: &TicketRecord, now_ms: u64) -> u64 {
    rec.pending_total_ms + rec.pending_since_ms.map_or(0, |s| now_ms.saturating_sub(s))
}

/// What the SLA clock needs of a ticket (a full record or a compact report row).
#[derive(Debug, Clone, Copy)]
pub struct SlaParts {
    pub priority: Priority,
    pub status: TicketStatus,
    pub created_at_ms: u64,
    pub owned_at_ms: Option<u64>,
    pub resolved_at_ms: Option<u64>,
    pub pending_total_ms: u64,
    pub pending_since_ms: Option<u64>,
}

impl SlaParts {
    pub fn of(rec: &TicketRecord) -> SlaParts {
        let t = &rec.ticket;
        SlaParts {
            priority: t.priority,
            status: t.status,
            created_at_ms: t.created_at_ms,
            owned_at_ms: t.owned_at_ms,
            resolved_at_ms: t.resolved_at_ms,
            pending_total_ms: rec.pending_total_ms,
            pending_since_ms: rec.pending_since_ms,
        }
    }
}

/// The targets for `priority` (built-in defaults when the settings lack it).
pub fn target(settings: &TicketSettings, priority: Priority) -> tend_shared::tickets::SlaTarget {
    settings
        .sla
        .get(&priority)
        .copied()
        .unwrap_or(tend_shared::tickets::SlaTarget {
            own_minutes: 24 * 60,
            resolve_minutes: 5 * 24 * 60,
        })
}

/// Due times and breach flags at `now_ms`. Time to own ends when someone takes the
/// ticket (or it is resolved); time to resolve excludes pending periods.
pub fn compute(rec: &TicketRecord, settings: &TicketSettings, now_ms: u64) -> Sla {
    compute_parts(&SlaParts::of(rec), settings, now_ms)
}

/// [`compute`] from the parts.
pub fn compute_parts(t: &SlaParts, settings: &TicketSettings, now_ms: u64) -> Sla {
    let target = target(settings, t.priority);
    let pending = t.pending_total_ms + t.pending_since_ms.map_or(0, |s| now_ms.saturating_sub(s));
    let own_due_ms = t.created_at_ms + target.own_minutes * 60_000;
    let resolve_due_ms = t.created_at_ms + target.resolve_minutes * 60_000 + pending;
    let own_end = t.owned_at_ms.or(t.resolved_at_ms).unwrap_or(now_ms);
    let resolved = matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed);
    let resolve_end = if resolved {
        t.resolved_at_ms.unwrap_or(now_ms)
    } else {
        now_ms
    };
    Sla {
        own_due_ms,
        resolve_due_ms,
        own_breached: own_end > own_due_ms,
        resolve_breached: resolve_end > resolve_due_ms,
        pending_ms: pending,
    }
}

#[cfg(test)]
mod tests {
    use tend_shared::tickets::{Ticket, TicketSource};

    use super::*;

    fn rec(priority: Priority) -> TicketRecord {
        TicketRecord::new(Ticket {
            id: "T1".into(),
            device_id: "d".into(),
            asset_id: None,
            hostname: String::new(),
            problem_key: "disk.free:/".into(),
            category: "storage".into(),
            summary: String::new(),
            description: String::new(),
            severity: Severity::High,
            priority,
            status: TicketStatus::New,
            source: TicketSource::Agent,
            assignee: None,
            created_at_ms: 0,
            updated_at_ms: 0,
            owned_at_ms: None,
            resolved_at_ms: None,
            closed_at_ms: None,
            occurrences: 1,
            reopen_count: 0,
            auto_resolved: false,
            problem_id: None,
            sla: Sla::default(),
            check: None,
            evidence: serde_json::Value::Null,
            requester: None,
            csat: None,
        })
    }

    const MIN: u64 = 60_000;

    #[test]
    fn priority_matrix() {
        assert_eq!(priority(Severity::High, Criticality::Normal), Priority::P2);
        assert_eq!(priority(Severity::High, Criticality::High), Priority::P1);
        assert_eq!(priority(Severity::Critical, Criticality::Low), Priority::P2);
        assert_eq!(
            priority(Severity::Medium, Criticality::Normal),
            Priority::P3
        );
        assert_eq!(priority(Severity::Low, Criticality::Normal), Priority::P4);
        assert_eq!(category("disk.free:/home"), "storage");
        assert_eq!(category("device.offline"), "connectivity");
    }

    #[test]
    fn own_breach_stops_when_owned() {
        let s = TicketSettings::default();
        let mut r = rec(Priority::P2); // own 60 min, resolve 8 h
        assert!(!compute(&r, &s, 59 * MIN).own_breached);
        assert!(compute(&r, &s, 61 * MIN).own_breached);
        r.ticket.owned_at_ms = Some(30 * MIN);
        assert!(!compute(&r, &s, 10 * 60 * MIN).own_breached);
        r.ticket.owned_at_ms = Some(90 * MIN);
        assert!(compute(&r, &s, 100 * MIN).own_breached);
    }

    #[test]
    fn pending_time_does_not_count_toward_resolution() {
        let s = TicketSettings::default();
        let mut r = rec(Priority::P2); // resolve within 480 min
                                       // pending from minute 100 to 300 (200 min), then pending again since 400
        r.pending_total_ms = 200 * MIN;
        r.pending_since_ms = Some(400 * MIN);
        let at = 700 * MIN;
        let sla = compute(&r, &s, at);
        assert_eq!(sla.pending_ms, 500 * MIN);
        assert_eq!(sla.resolve_due_ms, 980 * MIN);
        assert!(!sla.resolve_breached);
        // without the pending periods it would have breached at minute 481
        r.pending_total_ms = 0;
        r.pending_since_ms = None;
        assert!(compute(&r, &s, at).resolve_breached);
        // a resolved ticket is judged at its resolution time
        r.ticket.status = TicketStatus::Resolved;
        r.ticket.resolved_at_ms = Some(400 * MIN);
        assert!(!compute(&r, &s, 10_000 * MIN).resolve_breached);
        assert!(
            compute(&r, &s, 10_000 * MIN).own_breached,
            "nobody took it within 60 min"
        );
        r.ticket.resolved_at_ms = Some(50 * MIN);
        assert!(
            !compute(&r, &s, 10_000 * MIN).own_breached,
            "resolved before the own target"
        );
    }
}
