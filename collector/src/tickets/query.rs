//! The read side of the ticket engine: SLA-computed views, detail with timeline, and
//! the filtered, sorted list, a page at a time from the store's indexes.

use tend_shared::api::Page;
use tend_shared::tickets::{Ticket, TicketDetail, TicketSettings, TicketStatus};

use super::sla;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::paging;
use crate::tickets::TicketFilter;
use crate::tickets::TicketRecord;
use crate::tickets::TicketSort;

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

/// A ticket with its timeline.
pub async fn detail(state: &AppState, id: &str) -> Result<TicketDetail, ApiError> {
    let mut r = state.store.read();
    let t = r
        .ticket(id)
        .await?
        .ok_or_else(|| ApiError::not_found("ticket", id))?;
    let status = t.ticket.status;
    Ok(TicketDetail {
        ticket: view(state, &t),
        timeline: r.timeline(id).await?,
        next_statuses: tend_shared::tickets::TicketStatus::ALL
            .into_iter()
            .filter(|s| status.can_move_to(*s))
            .collect(),
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
    /// A fleet-wide problem's id (`PRB-…`): its tickets.
    pub problem: Option<String>,
    pub assignee: Option<String>,
    pub breached: Option<bool>,
    pub open: Option<bool>,
    pub created_after: Option<u64>,
    pub created_before: Option<u64>,
    /// `created` (default, newest first), `updated`, `priority`, `due`.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
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

/// The store filter a query names.
pub fn filter(q: &TicketQuery) -> Result<TicketFilter, ApiError> {
    let sort = match q.sort.as_deref().unwrap_or("created") {
        "created" => TicketSort::Created,
        "updated" => TicketSort::Updated,
        "priority" => TicketSort::Priority,
        "due" => TicketSort::Due,
        other => {
            return Err(ApiError::BadRequest(format!(
                "unknown sort {other:?} (created|updated|priority|due)"
            )))
        }
    };
    Ok(TicketFilter {
        statuses: q
            .status
            .as_deref()
            .map(parse_statuses)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        priority: q
            .priority
            .as_deref()
            .map(str::parse::<tend_shared::tickets::Priority>)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        device: q.device.clone(),
        asset: q.asset.clone(),
        problem_key: q.problem_key.clone(),
        problem: q.problem.clone(),
        // `assignee=none`: the unassigned queue
        assignee: q.assignee.clone().filter(|a| a != "none"),
        unassigned: q.assignee.as_deref() == Some("none"),
        breached: q.breached,
        open: q.open,
        created_after: q.created_after,
        created_before: q.created_before,
        sort,
    })
}

/// One page of tickets matching `q` (`assignee=me` was resolved by the handler).
pub async fn list(state: &AppState, q: &TicketQuery) -> Result<Page<Ticket>, ApiError> {
    let f = filter(q)?;
    let cursor = paging::cursor(q.cursor.as_deref()).map_err(ApiError::BadRequest)?;
    let (settings, now) = (state.ticket_settings(), state.now_ms());
    let page = state
        .store
        .read()
        .tickets_page(&f, &settings, now, cursor.as_ref(), paging::limit(q.limit))
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(Page {
        items: page
            .items
            .iter()
            .map(|r| view_at(r, &settings, now))
            .collect(),
        next: page.next,
    })
}
