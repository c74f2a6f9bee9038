//! The ticket engine: plain functions over `AppState` (HTTP handlers sit on top).
//!
//! - At most one open ticket per (device, problem key): repeats bump `occurrences`.
//! - A problem recurring within the policy's reopen window reopens its resolved
//!   ticket instead of opening a new one.
//! - Automation tickets auto-resolve after `recovery_count` consecutive passing
//!   reports of their check (flap damping); a device that checks in again resolves its
//!   offline ticket.
//! - The same problem key on `problem_min_devices` devices within the window becomes
//!   one problem record linking the tickets.
//!
//! Every change is one unit of work — the ticket, its indexes, its timeline entry,
//! its audit entry and its webhook deliveries commit together or not at all — and is
//! flushed before the caller answers. No lock: the store's open-ticket key makes two
//! concurrent reports of one problem conflict, and the one that runs again finds the
//! other's ticket (also across collectors sharing PostgreSQL).

pub mod automation;
pub mod crashes;
pub mod desk;
mod list_store;
pub mod overview;
pub mod problems;
pub mod query;
pub mod report;
mod report_store;
pub mod requester;
pub mod routes;
pub mod sla;
mod store;

#[cfg(test)]
mod tests;

pub use automation::{on_checkin, reindex_due};
pub use list_store::{TicketFilter, TicketSort};
pub use query::{detail, list, view, view_at, TicketQuery};
pub use store::{RowRef, TicketRecord, TicketRow};

use tend_shared::api::AuditOutcome;
use tend_shared::tickets::{
    Sla, Ticket, TicketPatch, TicketRequest, TicketSource, TicketStatus, TimelineEntry,
};

use crate::error::ApiError;
use crate::fleet::DeviceRecord;
use crate::state::AppState;
use crate::store::Tx;
use crate::text::check_text;
use crate::webhooks;

/// The problem key of the collector's own "device went silent" tickets.
pub const OFFLINE_KEY: &str = "device.offline";
/// Open tickets one device may file for itself; past it, a new problem waits (429)
/// until some are resolved (repeats of open problems still count as occurrences).
pub const MAX_OPEN_PER_DEVICE: usize = 100;

pub(crate) fn entry(
    at_ms: u64,
    actor: &str,
    kind: &str,
    message: impl Into<String>,
    data: serde_json::Value,
) -> TimelineEntry {
    TimelineEntry {
        at_ms,
        actor: actor.to_string(),
        kind: kind.to_string(),
        message: message.into(),
        data,
    }
}

fn validate(req: &TicketRequest) -> Result<(), ApiError> {
    if req.request_id.trim().is_empty()
        || req.problem_key.trim().is_empty()
        || req.summary.trim().is_empty()
    {
        return Err(ApiError::BadRequest(
            "request_id, problem_key and summary must not be empty".into(),
        ));
    }
    check_text("request_id", &req.request_id, 128)?;
    check_text("problem_key", &req.problem_key, 200)?;
    check_text("summary", &req.summary, 500)?;
    if req.description.len() > 20_000 {
        return Err(ApiError::BadRequest(
            "description is longer than 20000 bytes".into(),
        ));
    }
    tend_shared::outputs::check_evidence(&req.evidence).map_err(ApiError::BadRequest)?;
    Ok(())
}

/// What `file` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    Created,
    Occurrence,
    Reopened,
    /// The request id was seen before; nothing changed.
    Replayed,
}

/// Files a problem for `device` (agent, collector or analyst). Idempotent on the
/// request id; dedups on (device, problem key); reopens within the reopen window.
pub async fn file(
    state: &AppState,
    device: &DeviceRecord,
    req: TicketRequest,
    source: TicketSource,
    actor: &str,
) -> Result<(Ticket, Filed), ApiError> {
    validate(&req)?;
    // a run that conflicted gives its ticket number to the next run: no gap
    let drawn = std::sync::Mutex::new(None);
    let out = crate::commit!(state.store, tx => {
        tx.reuse_number(*drawn.lock().expect("number"));
        let r = file_in(state, &mut tx, device, &req, source, actor).await;
        *drawn.lock().expect("number") = tx.drawn_number();
        r
    })?;
    Ok(out)
}

/// [`file`] inside a unit of work.
pub async fn file_in(
    state: &AppState,
    tx: &mut Tx,
    device: &DeviceRecord,
    req: &TicketRequest,
    source: TicketSource,
    actor: &str,
) -> Result<(Ticket, Filed), ApiError> {
    if let Some(id) = tx.ticket_for_request(&device.id, &req.request_id).await? {
        if let Some(t) = tx.ticket(&id).await? {
            return Ok((view(state, &t), Filed::Replayed));
        }
    }
    let now = state.now_ms();
    let policy = state.policy();
    let settings = state.ticket_settings();
    let (mut rec, filed) = if let Some(mut t) = tx.open_ticket(&device.id, &req.problem_key).await?
    {
        t.ticket.occurrences += 1;
        t.passes = 0;
        tx.append_timeline(
            &t.ticket.id,
            &entry(
                now,
                actor,
                "occurrence",
                req.summary.clone(),
                serde_json::json!({"occurrences": t.ticket.occurrences}),
            ),
        )
        .await?;
        (t, Filed::Occurrence)
    } else if let Some(t) = tx
        .last_ticket(&device.id, &req.problem_key)
        .await?
        .filter(|t| t.ticket.status == TicketStatus::Resolved)
        .filter(|t| {
            t.ticket
                .resolved_at_ms
                .is_some_and(|r| now.saturating_sub(r) <= policy.reopen_window_s * 1000)
        })
    {
        (reopen(tx, t, req, actor, now).await?, Filed::Reopened)
    } else {
        (
            create(tx, device, req, source, actor, now).await?,
            Filed::Created,
        )
    };
    rec.ticket.updated_at_ms = now;
    if filed != Filed::Created {
        // the latest evidence is the most useful
        rec.ticket.summary = req.summary.clone();
        if req.check.is_some() {
            rec.ticket.check = req.check.clone();
        }
        if !req.evidence.is_null() {
            rec.ticket.evidence = req.evidence.clone();
        }
    }
    tx.put_ticket(&rec, &settings).await?;
    tx.put_ticket_request(&device.id, &req.request_id, &rec.ticket.id);
    let action = match filed {
        Filed::Created => "ticket.create",
        Filed::Occurrence => "ticket.occurrence",
        Filed::Reopened => "ticket.reopen",
        Filed::Replayed => unreachable!("returned above"),
    };
    state
        .audit_in(
            tx,
            actor,
            action,
            &rec.ticket.id,
            AuditOutcome::Success,
            serde_json::json!({"device": device.id, "problem_key": req.problem_key}),
        )
        .await?;
    if filed == Filed::Created {
        problems::link(state, tx, rec.clone(), now).await?;
        rec = tx.ticket(&rec.ticket.id).await?.unwrap_or(rec);
    }
    let t = view(state, &rec);
    webhooks::enqueue(
        state,
        tx,
        if filed == Filed::Created {
            "ticket.created"
        } else {
            "ticket.updated"
        },
        &t,
    )
    .await?;
    Ok((t, filed))
}

/// A resolved ticket the same problem came back to within the reopen window: open
/// again, the time it sat resolved not counted against its resolution target.
async fn reopen(
    tx: &mut Tx,
    mut t: TicketRecord,
    req: &TicketRequest,
    actor: &str,
    now: u64,
) -> Result<TicketRecord, ApiError> {
    let resolved_at = t.ticket.resolved_at_ms.unwrap_or(now);
    // the time it sat resolved does not count against the resolution target
    t.pending_total_ms += now.saturating_sub(resolved_at);
    t.ticket.status = if t.ticket.assignee.is_some() {
        TicketStatus::InProgress
    } else {
        TicketStatus::New
    };
    t.ticket.resolved_at_ms = None;
    t.ticket.auto_resolved = false;
    t.ticket.reopen_count += 1;
    t.ticket.occurrences += 1;
    t.passes = 0;
    tx.append_timeline(
        &t.ticket.id,
        &entry(
            now,
            actor,
            "reopened",
            format!("recurred: {}", req.summary),
            serde_json::json!({"reopen_count": t.ticket.reopen_count}),
        ),
    )
    .await?;
    Ok(t)
}

/// A new ticket (an agent's device may hold only so many open ones), its priority
/// from the severity and the asset's criticality.
async fn create(
    tx: &mut Tx,
    device: &DeviceRecord,
    req: &TicketRequest,
    source: TicketSource,
    actor: &str,
    now: u64,
) -> Result<TicketRecord, ApiError> {
    if source == TicketSource::Agent
        && tx
            .open_tickets_of(&device.id, MAX_OPEN_PER_DEVICE)
            .await?
            .len()
            >= MAX_OPEN_PER_DEVICE
    {
        return Err(ApiError::TooManyRequests {
            message: format!(
                "this device already has {MAX_OPEN_PER_DEVICE} open tickets; new problems wait until some are resolved"
            ),
            retry_after_s: 600,
        });
    }
    let asset = match &device.asset_id {
        Some(a) => tx.asset(a).await?,
        None => None,
    };
    let criticality = asset.as_ref().map(|a| a.criticality).unwrap_or_default();
    let id = format!("T-{}", tx.next_ticket_number().await?);
    let t = TicketRecord::new(Ticket {
        id: id.clone(),
        device_id: device.id.clone(),
        asset_id: device.asset_id.clone(),
        hostname: device.hostname.clone(),
        problem_key: req.problem_key.clone(),
        category: match (&req.requester, &req.category) {
            (Some(_), Some(c)) => c.clone(),
            _ => sla::category(&req.problem_key).to_string(),
        },
        summary: req.summary.clone(),
        description: req.description.clone(),
        severity: req.severity,
        priority: sla::priority(req.severity, criticality),
        status: TicketStatus::New,
        source,
        assignee: None,
        created_at_ms: now,
        updated_at_ms: now,
        owned_at_ms: None,
        resolved_at_ms: None,
        closed_at_ms: None,
        occurrences: 1,
        reopen_count: 0,
        auto_resolved: false,
        problem_id: None,
        sla: Sla::default(),
        check: req.check.clone(),
        evidence: req.evidence.clone(),
        requester: req.requester.clone(),
        csat: None,
    });
    tx.append_timeline(
        &id,
        &entry(
            now,
            actor,
            "created",
            req.summary.clone(),
            serde_json::json!({"source": source, "priority": t.ticket.priority}),
        ),
    )
    .await?;
    Ok(t)
}

/// Applies an analyst's change: status (validated transitions, 409 otherwise),
/// assignee, priority, and an optional comment.
pub async fn patch(
    state: &AppState,
    actor: &str,
    id: &str,
    p: TicketPatch,
) -> Result<Ticket, ApiError> {
    if let Some(a) = &p.assignee {
        check_text("assignee", a, 200)?;
    }
    if let Some(c) = &p.comment {
        if c.len() > 20_000 {
            return Err(ApiError::BadRequest(
                "comment is longer than 20000 bytes".into(),
            ));
        }
    }
    let v = crate::commit!(state.store, tx => patch_in(state, &mut tx, actor, id, &p).await)?;
    Ok(v)
}

/// [`patch`] inside a unit of work.
async fn patch_in(
    state: &AppState,
    tx: &mut Tx,
    actor: &str,
    id: &str,
    p: &TicketPatch,
) -> Result<Ticket, ApiError> {
    let mut t = tx
        .ticket(id)
        .await?
        .ok_or_else(|| ApiError::not_found("ticket", id))?;
    let now = state.now_ms();
    let mut changes = serde_json::Map::new();
    if let Some(to) = p.status {
        let from = t.ticket.status;
        if from != to {
            if !from.can_move_to(to) {
                return Err(ApiError::Conflict(from.refusal(to)));
            }
            if let Some(since) = t.pending_since_ms.take() {
                t.pending_total_ms += now.saturating_sub(since);
            }
            match to {
                TicketStatus::Pending => t.pending_since_ms = Some(now),
                TicketStatus::Resolved => {
                    t.ticket.resolved_at_ms = Some(now);
                    t.ticket.auto_resolved = false;
                }
                TicketStatus::Closed => t.ticket.closed_at_ms = Some(now),
                TicketStatus::InProgress if from == TicketStatus::Resolved => {
                    t.pending_total_ms +=
                        now.saturating_sub(t.ticket.resolved_at_ms.unwrap_or(now));
                    t.ticket.resolved_at_ms = None;
                    t.ticket.reopen_count += 1;
                }
                _ => {}
            }
            if matches!(to, TicketStatus::InProgress | TicketStatus::Pending) {
                t.ticket.owned_at_ms.get_or_insert(now);
            }
            t.ticket.status = to;
            tx.append_timeline(
                id,
                &entry(
                    now,
                    actor,
                    "status",
                    format!("{} → {}", from.as_str(), to.as_str()),
                    serde_json::json!({"from": from, "to": to}),
                ),
            )
            .await?;
            changes.insert("status".into(), serde_json::json!({"from": from, "to": to}));
        }
    }
    if let Some(a) = &p.assignee {
        let new = (!a.trim().is_empty()).then(|| a.trim().to_string());
        if new != t.ticket.assignee {
            if new.is_some() {
                t.ticket.owned_at_ms.get_or_insert(now);
            }
            tx.append_timeline(
                id,
                &entry(
                    now,
                    actor,
                    "assigned",
                    new.clone().unwrap_or_else(|| "unassigned".into()),
                    serde_json::json!({"from": t.ticket.assignee, "to": new}),
                ),
            )
            .await?;
            changes.insert(
                "assignee".into(),
                serde_json::json!({"from": t.ticket.assignee, "to": new}),
            );
            t.ticket.assignee = new;
        }
    }
    if let Some(pr) = p.priority {
        if pr != t.ticket.priority {
            tx.append_timeline(
                id,
                &entry(
                    now,
                    actor,
                    "priority",
                    format!("{} → {}", t.ticket.priority.as_str(), pr.as_str()),
                    serde_json::Value::Null,
                ),
            )
            .await?;
            changes.insert(
                "priority".into(),
                serde_json::json!({"from": t.ticket.priority, "to": pr}),
            );
            t.ticket.priority = pr;
        }
    }
    if let Some(c) = p.comment.as_ref().filter(|c| !c.trim().is_empty()) {
        tx.append_timeline(
            id,
            &entry(
                now,
                actor,
                // a reply is what the requester sees; a comment stays internal
                if p.public { "reply" } else { "comment" },
                c.clone(),
                serde_json::Value::Null,
            ),
        )
        .await?;
        changes.insert(
            if p.public { "reply" } else { "comment" }.into(),
            serde_json::Value::Bool(true),
        );
    }
    if changes.is_empty() {
        return Ok(view(state, &t));
    }
    t.ticket.updated_at_ms = now;
    tx.put_ticket(&t, &state.ticket_settings()).await?;
    state
        .audit_in(
            tx,
            actor,
            "ticket.update",
            id,
            AuditOutcome::Success,
            serde_json::Value::Object(changes),
        )
        .await?;
    let v = view(state, &t);
    let event = if v.status == TicketStatus::Resolved {
        "ticket.resolved"
    } else {
        "ticket.updated"
    };
    webhooks::enqueue(state, tx, event, &v).await?;
    Ok(v)
}
