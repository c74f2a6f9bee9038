//! `tendctl` ticket views: the ticket table with SLA countdowns, one ticket with its
//! timeline, problems, and the SLA report as text.

use std::fmt::Write;

use tend_client::TransportError;
use tend_shared::tickets::{Problem, SlaReport, Ticket, TicketDetail, TicketPatch, TicketStatus};

use crate::ctl::Ctl;
use crate::fmt::{fmt_age, fmt_duration, fmt_ms, table, table_or};

/// The SLA clock that matters now, in words: `own in 40m`, `due in 3h`,
/// `overdue 2h`; for finished tickets `met` or `breached`.
pub fn sla_text(t: &Ticket, now: u64) -> String {
    let sla = &t.sla;
    if !t.status.is_open() {
        return if sla.own_breached || sla.resolve_breached {
            "breached".into()
        } else {
            "met".into()
        };
    }
    let left = |due: u64| {
        if now >= due {
            format!("overdue {}", fmt_duration(now - due))
        } else {
            format!("in {}", fmt_duration(due - now))
        }
    };
    if t.owned_at_ms.is_none() && !sla.own_breached {
        return format!("own {}", left(sla.own_due_ms));
    }
    if t.status == TicketStatus::Pending {
        return "paused (pending)".into();
    }
    match left(sla.resolve_due_ms) {
        l if l.starts_with("in ") => format!("due {l}"),
        l => l,
    }
}

fn secs(s: Option<f64>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s < 3600.0 => format!("{:.0}m", s / 60.0),
        Some(s) if s < 86_400.0 => format!("{:.1}h", s / 3600.0),
        Some(s) => format!("{:.1}d", s / 86_400.0),
    }
}

fn pct(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.0}%", r * 100.0))
}

impl Ctl {
    /// `tendctl tickets`.
    pub async fn tickets(&self, query: &str, max: Option<usize>) -> Result<String, TransportError> {
        let (list, more): (Vec<Ticket>, bool) =
            self.list(&format!("/api/v1/tickets{query}"), max).await?;
        if self.json {
            return Ok(serde_json::to_string_pretty(&list).unwrap_or_default());
        }
        let footer = if more {
            format!(
                "\n… more than {}: narrow the filters, or pass --limit N or --all\n",
                list.len()
            )
        } else {
            String::new()
        };
        let now = tend_shared::now_ms();
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|t| {
                vec![
                    t.id.clone(),
                    t.priority.as_str().into(),
                    t.status.label().into(),
                    t.hostname.clone(),
                    t.problem_key.clone(),
                    t.occurrences.to_string(),
                    t.assignee.clone().unwrap_or_else(|| "-".into()),
                    fmt_age(t.created_at_ms, now),
                    sla_text(t, now),
                    t.summary.chars().take(60).collect(),
                ]
            })
            .collect();
        Ok(table_or(
            "tickets",
            &[
                "id", "pri", "status", "host", "problem", "seen", "assignee", "opened", "sla",
                "summary",
            ],
            &rows,
        ) + &footer)
    }

    /// `tendctl ticket ID`, applying `patch` first when it changes anything.
    pub async fn ticket(
        &self,
        id: &str,
        patch: Option<TicketPatch>,
    ) -> Result<String, TransportError> {
        if let Some(p) = patch {
            let _: Ticket = self
                .client
                .patch(&format!("/api/v1/tickets/{id}"), &p)
                .await?;
        }
        let d: TicketDetail = self.client.get(&format!("/api/v1/tickets/{id}")).await?;
        if self.json {
            return Ok(serde_json::to_string_pretty(&d).unwrap_or_default());
        }
        let t = &d.ticket;
        let mut out = String::new();
        let now = tend_shared::now_ms();
        let _ = writeln!(
            out,
            "{} [{}] {} — {}",
            t.id,
            t.priority.as_str(),
            t.status.label(),
            t.summary
        );
        let _ = writeln!(out, "  device      {} ({})", t.hostname, t.device_id);
        let _ = writeln!(
            out,
            "  problem     {} ({}), seen {} time(s), reopened {}",
            t.problem_key, t.category, t.occurrences, t.reopen_count
        );
        let _ = writeln!(
            out,
            "  source      {:?}{}",
            t.source,
            if t.auto_resolved {
                ", auto-resolved"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "  assignee    {}",
            t.assignee.as_deref().unwrap_or("-")
        );
        let _ = writeln!(out, "  opened      {}", fmt_ms(t.created_at_ms));
        let _ = writeln!(out, "  sla         {}", sla_text(t, now));
        if let Some(c) = &t.check {
            let _ = writeln!(
                out,
                "  check       {} {}: {} ({})",
                c.id,
                c.status.as_str(),
                c.message,
                tend_shared::policy::threshold_words(&c.id, &c.threshold)
            );
        }
        let next: Vec<&str> = t
            .status
            .next()
            .into_iter()
            .map(TicketStatus::as_str)
            .collect();
        if !next.is_empty() {
            let _ = writeln!(out, "  can move to {}", next.join(", "));
        }
        let _ = writeln!(
            out,
            "  own by      {}{}",
            fmt_ms(t.sla.own_due_ms),
            if t.sla.own_breached { "  BREACHED" } else { "" }
        );
        let _ = writeln!(
            out,
            "  resolve by  {}{}",
            fmt_ms(t.sla.resolve_due_ms),
            if t.sla.resolve_breached {
                "  BREACHED"
            } else {
                ""
            }
        );
        if let Some(p) = &t.problem_id {
            let _ = writeln!(out, "  problem id  {p}");
        }
        let _ = writeln!(out, "\nTimeline:");
        let rows: Vec<Vec<String>> = d
            .timeline
            .iter()
            .map(|e| {
                vec![
                    fmt_ms(e.at_ms),
                    e.actor.clone(),
                    e.kind.clone(),
                    e.message.clone(),
                ]
            })
            .collect();
        out.push_str(&table(&["at", "by", "what", "detail"], &rows));
        Ok(out)
    }

    /// `tendctl problems`.
    pub async fn problems(&self) -> Result<String, TransportError> {
        let (list, _): (Vec<Problem>, bool) = self.list("/api/v1/problems", None).await?;
        if self.json {
            return Ok(serde_json::to_string_pretty(&list).unwrap_or_default());
        }
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|p| {
                vec![
                    p.id.clone(),
                    p.problem_key.clone(),
                    p.device_count.to_string(),
                    p.ticket_count.to_string(),
                    fmt_ms(p.created_at_ms),
                ]
            })
            .collect();
        Ok(table_or(
            "problems",
            &["id", "problem", "devices", "tickets", "since"],
            &rows,
        ))
    }

    /// `tendctl report sla`.
    pub async fn sla_report(&self, query: &str) -> Result<String, TransportError> {
        let r: SlaReport = self
            .client
            .get(&format!("/api/v1/reports/sla{query}"))
            .await?;
        if self.json {
            return Ok(serde_json::to_string_pretty(&r).unwrap_or_default());
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "SLA report {} → {}",
            fmt_ms(r.from_ms),
            fmt_ms(r.to_ms)
        );
        let _ = writeln!(out, "  tickets created     {}", r.created);
        let _ = writeln!(
            out,
            "  time to own         mean {}  median {}  (n={})",
            secs(r.time_to_own.mean_s),
            secs(r.time_to_own.median_s),
            r.time_to_own.count
        );
        let _ = writeln!(
            out,
            "  time to resolve     mean {}  median {}  (n={})",
            secs(r.time_to_resolve.mean_s),
            secs(r.time_to_resolve.median_s),
            r.time_to_resolve.count
        );
        let _ = writeln!(out, "  SLA breach rate     {}", pct(r.breach_rate));
        let _ = writeln!(out, "  reopen rate         {}", pct(r.reopen_rate));
        let _ = writeln!(out, "  auto-resolved       {}", pct(r.auto_resolved_share));
        let _ = writeln!(
            out,
            "  deflected           {} (deflection rate {})",
            r.deflected,
            pct(r.deflection_rate)
        );
        let _ = writeln!(
            out,
            "  CSAT                {} from {} of {} resolved user requests ({} answered)",
            r.csat_average.map_or("-".into(), |a| format!("{a:.1}/5")),
            r.csat_responses,
            r.user_tickets_resolved,
            pct(r.csat_response_rate)
        );
        let join = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        let _ = writeln!(out, "  by priority         {}", join(&r.by_priority));
        let _ = writeln!(out, "  by category         {}", join(&r.by_category));
        let _ = writeln!(out, "  open backlog        {}", join(&r.backlog));
        let _ = writeln!(
            out,
            "  top problems        {}",
            r.top_problems
                .iter()
                .map(|(k, n)| format!("{k} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use tend_shared::tickets::{Priority, Sla, TicketSource};

    use super::*;

    fn ticket(status: TicketStatus, owned: Option<u64>, sla: Sla) -> Ticket {
        Ticket {
            id: "T-1".into(),
            device_id: "d".into(),
            asset_id: None,
            hostname: "h".into(),
            problem_key: "disk.free:/".into(),
            category: "storage".into(),
            summary: String::new(),
            description: String::new(),
            severity: Default::default(),
            priority: Priority::P2,
            status,
            source: TicketSource::Agent,
            assignee: None,
            created_at_ms: 0,
            updated_at_ms: 0,
            owned_at_ms: owned,
            resolved_at_ms: None,
            closed_at_ms: None,
            occurrences: 1,
            reopen_count: 0,
            auto_resolved: false,
            problem_id: None,
            sla,
            check: None,
            evidence: serde_json::Value::Null,
            requester: None,
            csat: None,
        }
    }

    #[test]
    fn sla_column_counts_down_and_over() {
        const H: u64 = 3_600_000;
        let sla = Sla {
            own_due_ms: H,
            resolve_due_ms: 8 * H,
            ..Default::default()
        };
        let new = ticket(TicketStatus::New, None, sla.clone());
        assert_eq!(sla_text(&new, 20 * 60_000), "own in 40m");
        let owned = ticket(TicketStatus::InProgress, Some(1), sla.clone());
        assert_eq!(sla_text(&owned, 5 * H), "due in 3h");
        assert_eq!(sla_text(&owned, 10 * H), "overdue 2h");
        let late = ticket(
            TicketStatus::New,
            None,
            Sla {
                own_breached: true,
                resolve_breached: true,
                ..sla.clone()
            },
        );
        assert_eq!(sla_text(&late, 10 * H), "overdue 2h");
        let done = ticket(TicketStatus::Resolved, Some(1), sla);
        assert_eq!(sla_text(&done, 10 * H), "met");
    }
}
