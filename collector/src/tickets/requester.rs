//! Tickets the person at a device asked for (`tend help`, source `user`): what a
//! device may file for its user, the view it may show them (public replies only), and
//! their satisfaction rating (CSAT) once the ticket is resolved.

use tend_shared::api::AuditOutcome;
use tend_shared::tickets::{
    Csat, CsatRequest, Reply, RequesterView, TicketRequest, TicketSource, TicketStatus,
    USER_CATEGORIES,
};

use crate::error::ApiError;
use crate::fleet::DeviceRecord;
use crate::state::AppState;
use crate::text;

/// Longest requester name and CSAT comment kept.
const MAX_NAME: usize = 64;
const MAX_COMMENT: usize = 2000;

/// Checks and shapes a user's request from a device: a known category, a bounded
/// requester name, and a problem key of its own (`help.<category>:<request>`), so
/// two requests are two tickets rather than occurrences of one.
pub fn user_request(mut req: TicketRequest) -> Result<TicketRequest, ApiError> {
    let category = req.category.clone().unwrap_or_else(|| "other".into());
    if !USER_CATEGORIES.contains(&category.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "unknown category {category:?} ({})",
            USER_CATEGORIES.join("|")
        )));
    }
    let requester = text::text(req.requester.as_deref().unwrap_or(""), MAX_NAME);
    if requester.trim().is_empty() {
        return Err(ApiError::BadRequest("requester must not be empty".into()));
    }
    let tag = &tend_shared::signing::sha256_hex(req.request_id.as_bytes())[..12];
    req.problem_key = format!("help.{category}:{tag}");
    req.requester = Some(requester);
    req.category = Some(category);
    Ok(req)
}

/// A ticket `device` filed for its user, as that user may see it.
pub async fn view(
    state: &AppState,
    device: &DeviceRecord,
    id: &str,
) -> Result<RequesterView, ApiError> {
    let mut tx = state.store.read();
    let t = tx
        .ticket(id)
        .await?
        .filter(|t| t.ticket.device_id == device.id && t.ticket.source == TicketSource::User)
        .ok_or_else(|| ApiError::not_found("ticket", id))?;
    let replies = tx
        .timeline(id)
        .await?
        .into_iter()
        .filter(|e| e.kind == "reply")
        .map(|e| Reply {
            at_ms: e.at_ms,
            by: e
                .actor
                .strip_prefix("user:")
                .unwrap_or(&e.actor)
                .to_string(),
            text: e.message,
        })
        .collect();
    let t = t.ticket;
    Ok(RequesterView {
        id: t.id,
        summary: t.summary,
        status: t.status,
        requester: t.requester,
        created_at_ms: t.created_at_ms,
        resolved_at_ms: t.resolved_at_ms,
        replies,
        csat: t.csat,
    })
}

/// Records the requester's rating of a resolved ticket (once; a second rating
/// replaces the first). Only the device that filed it, for the same requester.
pub async fn rate(
    state: &AppState,
    device: &DeviceRecord,
    id: &str,
    req: CsatRequest,
) -> Result<RequesterView, ApiError> {
    if !(1..=5).contains(&req.score) {
        return Err(ApiError::BadRequest("score is 1 to 5".into()));
    }
    let comment = text::text(&req.comment, MAX_COMMENT);
    let actor = format!("device:{}", device.id);
    let now = state.now_ms();
    crate::commit!(state.store, tx => {
        let mut t = tx
            .ticket(id)
            .await?
            .filter(|t| t.ticket.device_id == device.id && t.ticket.source == TicketSource::User)
            .ok_or_else(|| ApiError::not_found("ticket", id))?;
        if t.ticket.requester.as_deref() != Some(req.requester.as_str()) {
            return Err(ApiError::Forbidden(format!("{id} was not requested by {}", req.requester)));
        }
        if !matches!(t.ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
            return Err(ApiError::Conflict(format!("{id} is not resolved yet; rate it once it is")));
        }
        t.ticket.csat = Some(Csat { score: req.score, comment: comment.clone(), at_ms: now });
        t.ticket.updated_at_ms = now;
        tx.put_ticket(&t, &state.ticket_settings()).await?;
        tx.append_timeline(
            id,
            &super::entry(now, &req.requester, "csat", format!("rated {}/5 {comment}", req.score), serde_json::Value::Null),
        )
        .await?;
        state
            .audit_in(&mut tx, &actor, "ticket.csat", id, AuditOutcome::Success,
                serde_json::json!({"score": req.score, "requester": req.requester}))
            .await?;
        Ok(())
    })?;
    view(state, device, id).await
}
