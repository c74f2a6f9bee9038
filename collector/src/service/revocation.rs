//! Taking trust back and handing it out deliberately: approving a known device's
//! re-enrollment, decommissioning a device (token revoked, asset retired, open
//! tickets closed), and expiring, use-limited enrollment tokens. All audited.

use tend_shared::api::AuditOutcome;
use tend_shared::assets::AssetState;
use tend_shared::devices::{DeviceEvent, EventSource};
use tend_shared::enroll::{EnrollTokenCreate, EnrollTokenCreated, EnrollTokenInfo};
use tend_shared::tickets::{TicketStatus, TimelineEntry};

use super::check_text;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{new_token, random_hex_id, ReenrollRequest};

/// Longest enrollment-token lifetime.
pub const MAX_ENROLL_TOKEN_S: u64 = 90 * 86_400;
/// Most enrollments one token admits.
pub const MAX_ENROLL_TOKEN_USES: u32 = 100_000;

/// Approves the waiting re-enrollment of device `id` (for the key that asked).
pub async fn approve_reenroll(
    state: &AppState,
    user: &ApiUser,
    id: &str,
) -> Result<ReenrollRequest, ApiError> {
    let d = state
        .store
        .device(id)?
        .ok_or_else(|| ApiError::not_found("device", id))?;
    let mut r = state
        .store
        .reenroll_request(&d.hardware_uuid)?
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "device {id} has no re-enrollment waiting for approval"
            ))
        })?;
    r.approved_by = Some(user.name.clone());
    r.approved_at_ms = Some(state.now_ms());
    state.store.put_reenroll_request(&r)?;
    state.audit(
        &user.actor(),
        "device.reenroll_approve",
        id,
        AuditOutcome::Success,
        serde_json::json!({"hostname": r.hostname, "source": r.source, "requested_at_ms": r.requested_at_ms}),
    )?;
    state.store.flush().await?;
    Ok(r)
}

/// Decommissions device `id`: its token stops working, its asset is retired, its open
/// tickets are closed. Re-enrolling it afterwards needs an analyst's approval.
pub async fn decommission(
    state: &AppState,
    user: &ApiUser,
    id: &str,
) -> Result<tend_shared::devices::DeviceSummary, ApiError> {
    let store = &state.store;
    let now = state.now_ms();
    let d = store
        .device(id)?
        .ok_or_else(|| ApiError::not_found("device", id))?;
    if let Ok(old) = hex::decode(&d.token_hash) {
        store.remove_token_hash(&old)?;
    }
    let d = store
        .update_device(id, |d| {
            d.token_hash = String::new();
            d.decommissioned_at_ms = Some(now);
        })?
        .ok_or_else(|| ApiError::not_found("device", id))?;
    if let Some(aid) = &d.asset_id {
        if let Some(mut a) = store.asset(aid)? {
            if a.state != AssetState::Retired {
                let from = a.state;
                a.state = AssetState::Retired;
                a.updated_at_ms = now;
                store.put_asset(&a)?;
                super::assets::record_state_change(state, &a, from, now, "at decommissioning")?;
            }
        }
    }
    let mut closed = Vec::new();
    {
        let _guard = state.tickets_lock.lock().await;
        for mut t in store.open_tickets_of(id)? {
            if let Some(since) = t.pending_since_ms.take() {
                t.pending_total_ms += now.saturating_sub(since);
            }
            t.ticket.status = TicketStatus::Closed;
            t.ticket.resolved_at_ms.get_or_insert(now);
            t.ticket.closed_at_ms = Some(now);
            t.ticket.updated_at_ms = now;
            store.put_ticket(&t)?;
            store.append_timeline(
                &t.ticket.id,
                &TimelineEntry {
                    at_ms: now,
                    actor: user.actor(),
                    kind: "status".into(),
                    message: "closed: the device was decommissioned".into(),
                    data: serde_json::json!({"to": TicketStatus::Closed}),
                },
            )?;
            closed.push(t.ticket.id);
        }
    }
    store.append_collector_event(
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
    )?;
    state.audit(
        &user.actor(),
        "device.decommission",
        id,
        AuditOutcome::Success,
        serde_json::json!({"hostname": d.hostname, "asset_id": d.asset_id, "closed_tickets": closed}),
    )?;
    store.flush().await?;
    Ok(d.summary())
}

/// Creates an enrollment token (shown once) for MDM pushes.
pub async fn create_enroll_token(
    state: &AppState,
    user: &ApiUser,
    req: EnrollTokenCreate,
) -> Result<EnrollTokenCreated, ApiError> {
    check_text("label", &req.label, 100)?;
    if !(60..=MAX_ENROLL_TOKEN_S).contains(&req.expires_in_s) {
        return Err(ApiError::BadRequest(format!(
            "expires_in_s must be 60..={MAX_ENROLL_TOKEN_S} (90 days)"
        )));
    }
    if !(1..=MAX_ENROLL_TOKEN_USES).contains(&req.uses) {
        return Err(ApiError::BadRequest(format!(
            "uses must be 1..={MAX_ENROLL_TOKEN_USES}"
        )));
    }
    let now = state.now_ms();
    let token = new_token("tet_");
    let info = EnrollTokenInfo {
        id: format!("et_{}", random_hex_id::<6>()),
        label: req.label,
        created_by: user.name.clone(),
        created_at_ms: now,
        expires_at_ms: now + req.expires_in_s * 1000,
        max_uses: req.uses,
        uses: 0,
        revoked: false,
    };
    state.store.put_enroll_token(&token, &info)?;
    state.audit(
        &user.actor(),
        "enroll_token.create",
        &info.id,
        AuditOutcome::Success,
        serde_json::json!({"expires_at_ms": info.expires_at_ms, "uses": info.max_uses, "label": info.label}),
    )?;
    state.store.flush().await?;
    Ok(EnrollTokenCreated {
        token,
        info,
        ca_pem: state.keys.ca_pem.clone(),
        signing_public_key: state.keys.signing_public_key(),
    })
}

/// Revokes an enrollment token by id.
pub async fn revoke_enroll_token(
    state: &AppState,
    user: &ApiUser,
    id: &str,
) -> Result<EnrollTokenInfo, ApiError> {
    let t = state
        .store
        .revoke_enroll_token(id)?
        .ok_or_else(|| ApiError::not_found("enrollment token", id))?;
    state.audit(
        &user.actor(),
        "enroll_token.revoke",
        id,
        AuditOutcome::Success,
        serde_json::json!({"uses": t.uses}),
    )?;
    state.store.flush().await?;
    Ok(t)
}
