//! The read side of the ticket engine: SLA-computed views, detail with timeline, and
//! the filtered, sorted, paged list.

use tend_shared::tickets::{Ticket, TicketDetail, TicketSettings, TicketStatus};

use super::sla;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::TicketRecord;

/// A ticket with its SLA fields computed for now.
pub fn view(state: &AppState, rec: &TicketRecord) -> Ticket {
    view_at(rec, &state.ticket_settings(), state.now_ms())
}

/// A ticket with its SLA fields computed for `now_ms` under `settings`.
pub fn view_at(rec: &TicketRecord, settings: &TicketSettings, now_ms: u64) -> Ticket {
    let mut t = rec.ticket.clone();
    t.sla = sla::compute(rec, settings, now_ms);
    t
}

/// Every ticket, its SLA computed once for one instant (settings read once).
pub fn all_views(state: &AppState) -> Result<Vec<Ticket>, ApiError> {
    let (settings, now) = (state.ticket_settings(), state.now_ms());
    Ok(state
        .store
        .all_tickets()?
        .iter()
        .map(|r| view_at(r, &settings, now))
        .collect())
}

/// A ticket with its timeline.
pub fn detail(state: &AppState, id: &str) -> Result<TicketDetail, ApiError> {
    let t = state
        .store
        .ticket(id)?
        .ok_or_else(|| ApiError::not_found("ticket", id))?;
    Ok(TicketDetail {
        ticket: view(state, &t),
        timeline: state.store.timeline(id)?,
    })
}

/// Filters, sort and paging of `GET /api/v1/tickets`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TicketQuery {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub device: Option<String>,
    pub asset: Option<String>,
    pub problem_key: Option<String>,
    pub assignee: Option<String>,
    pub breached: Option<bool>,
    pub open: Option<bool>,
    pub created_after: Option<u64>,
    pub created_before: Option<u64>,
    /// `created` (default, newest first), `updated`, `priority`, `due`.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// `new,pending` → those statuses; `open` is shorthand for new, in_progress and pending.
pub fn parse_statuses(s: &str) -> Result<Vec<TicketStatus>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "open" {
            out.extend(TicketStatus::ALL.into_iter().filter(|t| t.is_open()));
        } else {
            out.push(part.parse().map_err(|e: String| format!("{e}, or open"))?);
        }
    }
    Ok(out)
}

/// Tickets matching `q` (`assignee=me` was resolved by the handler).
pub fn list(state: &AppState, q: &TicketQuery) -> Result<Vec<Ticket>, ApiError> {
    let statuses: Option<Vec<TicketStatus>> = q
        .status
        .as_deref()
        .map(parse_statuses)
        .transpose()
        .map_err(ApiError::BadRequest)?;
    let priority = q
        .priority
        .as_deref()
        .map(str::parse::<tend_shared::tickets::Priority>)
        .transpose()
        .map_err(ApiError::BadRequest)?;
    let mut out: Vec<Ticket> = all_views(state)?
        .into_iter()
        .filter(|t| statuses.as_ref().is_none_or(|s| s.contains(&t.status)))
        .filter(|t| priority.is_none_or(|p| t.priority == p))
        .filter(|t| q.device.as_deref().is_none_or(|d| t.device_id == d))
        .filter(|t| {
            q.asset
                .as_deref()
                .is_none_or(|a| t.asset_id.as_deref() == Some(a))
        })
        .filter(|t| q.problem_key.as_deref().is_none_or(|k| t.problem_key == k))
        .filter(|t| {
            q.assignee
                .as_deref()
                .is_none_or(|a| t.assignee.as_deref() == Some(a))
        })
        .filter(|t| {
            q.breached
                .is_none_or(|b| (t.sla.own_breached || t.sla.resolve_breached) == b)
        })
        .filter(|t| q.open.is_none_or(|o| t.status.is_open() == o))
        .filter(|t| q.created_after.is_none_or(|a| t.created_at_ms >= a))
        .filter(|t| q.created_before.is_none_or(|b| t.created_at_ms < b))
        .collect();
    match q.sort.as_deref().unwrap_or("created") {
        "created" => out.sort_by_key(|t| std::cmp::Reverse(t.created_at_ms)),
        "updated" => out.sort_by_key(|t| std::cmp::Reverse(t.updated_at_ms)),
        "priority" => out.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then(b.created_at_ms.cmp(&a.created_at_ms))
        }),
        "due" => out.sort_by_key(|t| t.sla.resolve_due_ms),
        other => {
            return Err(ApiError::BadRequest(format!(
                "unknown sort {other:?} (created|updated|priority|due)"
            )))
        }
    }
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(out.into_iter().skip(offset).take(limit).collect())
}
