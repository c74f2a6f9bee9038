//! Reading and replacing the health policy (admin), versioned and audited.

pub mod routes;

use tend_shared::api::AuditOutcome;
use tend_shared::policy::Policy;

use crate::error::ApiError;
use crate::state::AppState;
use crate::users::auth::ApiUser;

/// Replaces the policy; the version is assigned here (previous + 1), whatever the
/// document said.
pub async fn replace(
    state: &AppState,
    user: &ApiUser,
    mut policy: Policy,
) -> Result<Policy, ApiError> {
    policy.validate().map_err(|e| match e.field() {
        Some(field) => ApiError::InvalidField {
            field,
            message: e.to_string(),
        },
        None => ApiError::BadRequest(e.to_string()),
    })?;
    let _previous = crate::commit!(state.store, tx => {
        // the stored policy, not this collector's copy: versions stay consecutive
        // when two collectors take changes at once
        let old: Policy = tx.meta_get("policy").await?.unwrap_or_else(|| (*state.policy()).clone());
        policy.version = old.version + 1;
        state.set_policy(&mut tx, &policy);
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "policy.update",
                &format!("policy:{}", policy.version),
                AuditOutcome::Success,
                serde_json::json!({"from_version": old.version, "to_version": policy.version}),
            )
            .await?;
        Ok(old)
    })?;
    state.reload().await?;
    tracing::info!(version = policy.version, by = %user.name, "policy updated");
    Ok(policy)
}
