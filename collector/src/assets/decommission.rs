//! Decommissioning a device: its credential revoked, its asset retired, its open jobs cancelled.

use tend_shared::api::AuditOutcome;
use tend_shared::assets::AssetState;
use tend_shared::devices::{DeviceEvent, EventSource};
use tend_shared::tickets::{TicketStatus, TimelineEntry};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Tx;
use crate::users::auth::ApiUser;

/// Decommissions device `id`: its token stops working, its asset is retired, its open
/// tickets are closed. Re-enrolling it afterwards needs an analyst's approval.
pub async fn decommission(
    state: &AppState,
    user: &ApiUser,
    id: &str,
) -> Result<tend_shared::devices::DeviceSummary, ApiError> {
    let now = state.now_ms();
    let d =
        crate::commit!(state.store, tx => decommission_in(state, &mut tx, user, id, now).await)?;
    Ok(d.summary())
}

pub(crate) async fn decommission_in(
    state: &AppState,
    tx: &mut Tx,
    user: &ApiUser,
    id: &str,
    now: u64,
) -> Result<crate::fleet::DeviceRecord, ApiError> {
    let d = tx
        .device(id)
        .await?
        .ok_or_else(|| ApiError::not_found("device", id))?;
    if let Ok(old) = hex::decode(&d.token_hash) {
        tx.remove_token_hash(&old).await?;
    }
    let d = tx
        .update_device(id, |d| {
            d.token_hash = String::new();
            d.decommissioned_at_ms = Some(now);
        })
        .await?
        .ok_or_else(|| ApiError::not_found("device", id))?;
    if let Some(aid) = &d.asset_id {
        if let Some(mut a) = tx.asset(aid).await? {
            if a.state != AssetState::Retired {
                let from = a.state;
                a.state = AssetState::Retired;
                a.updated_at_ms = now;
                tx.put_asset(&a).await?;
                crate::assets::record_state_change(tx, &a, from, now, "at decommissioning").await?;
            }
        }
    }
    let settings = state.ticket_settings();
    let mut closed = Vec::new();
    for mut t in tx.open_tickets_of(id, 100_000).await? {
        if let Some(since) = t.pending_since_ms.take() {
            t.pending_total_ms += now.saturating_sub(since);
        }
        t.ticket.status = TicketStatus::Closed;
        t.ticket.resolved_at_ms.get_or_insert(now);
        t.ticket.closed_at_ms = Some(now);
        t.ticket.updated_at_ms = now;
        tx.put_ticket(&t, &settings).await?;
        tx.append_timeline(
            &t.ticket.id,
            &TimelineEntry {
                at_ms: now,
                actor: user.actor(),
                kind: "status".into(),
                message: "closed: the device was decommissioned".into(),
                data: serde_json::json!({"to": TicketStatus::Closed}),
            },
        )
        .await?;
        closed.push(t.ticket.id);
    }
    tx.append_collector_event(
        id,
        &DeviceEvent {
            at_ms: now,
            source: EventSource::Collector,
            seq: None,
            kind: "device.decommissioned".into(),
            check_id: None,
            message: format!("decommissioned by {}", user.name),
            data: serde_json::json!({"closed_tickets": closed}),
        },
    )
    .await?;
    state
        .audit_in(
            tx,
            &user.actor(),
            "device.decommission",
            id,
            AuditOutcome::Success,
            serde_json::json!({"hostname": d.hostname, "asset_id": d.asset_id, "closed_tickets": closed}),
        )
        .await?;
    Ok(d)
}
