//! Handing trust out deliberately: approving a known device's re-enrollment, and
//! expiring, use-limited enrollment tokens. All audited.

use tend_shared::api::AuditOutcome;
use tend_shared::enroll::{EnrollTokenCreate, EnrollTokenCreated, EnrollTokenInfo};

use crate::enroll::ReenrollRequest;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::random_hex_id;
use crate::text::check_text;
use crate::users::auth::ApiUser;
use crate::users::new_token;

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
    let now = state.now_ms();
    let r = crate::commit!(state.store, tx => {
        let d = tx
            .device(id)
            .await?
            .ok_or_else(|| ApiError::not_found("device", id))?;
        let mut r = tx.reenroll_request(&d.hardware_uuid).await?.ok_or_else(|| {
            ApiError::Conflict(format!(
                "device {id} has no re-enrollment waiting for approval"
            ))
        })?;
        r.approved_by = Some(user.name.clone());
        r.approved_at_ms = Some(now);
        tx.put_reenroll_request(&r);
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "device.reenroll_approve",
                id,
                AuditOutcome::Success,
                serde_json::json!({"hostname": r.hostname, "source": r.source, "requested_at_ms": r.requested_at_ms}),
            )
            .await?;
        Ok(r)
    })?;
    Ok(r)
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
    crate::commit!(state.store, tx => {
        tx.put_enroll_token(&token, &info);
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "enroll_token.create",
                &info.id,
                AuditOutcome::Success,
                serde_json::json!({"expires_at_ms": info.expires_at_ms, "uses": info.max_uses, "label": info.label}),
            )
            .await?;
        Ok(())
    })?;
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
    let t = crate::commit!(state.store, tx => {
        let t = tx
            .revoke_enroll_token(id)
            .await?
            .ok_or_else(|| ApiError::not_found("enrollment token", id))?;
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "enroll_token.revoke",
                id,
                AuditOutcome::Success,
                serde_json::json!({"uses": t.uses}),
            )
            .await?;
        Ok(t)
    })?;
    Ok(t)
}
