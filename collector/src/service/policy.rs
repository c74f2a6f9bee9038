//! Reading and replacing the health policy (admin), versioned and audited.

use tend_shared::api::AuditOutcome;
use tend_shared::policy::Policy;

use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Replaces the policy; the version is assigned here (previous + 1), whatever the
/// document said.
pub async fn replace(
    state: &AppState,
    user: &ApiUser,
    mut policy: Policy,
) -> Result<Policy, ApiError> {
    policy
        .validate()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let old = state.policy();
    policy.version = old.version + 1;
    state.set_policy(policy.clone())?;
    state.audit(
        &user.actor(),
        "policy.update",
        &format!("policy:{}", policy.version),
        AuditOutcome::Success,
        serde_json::json!({"from_version": old.version, "to_version": policy.version}),
    )?;
    state.store.flush().await?;
    tracing::info!(version = policy.version, by = %user.name, "policy updated");
    Ok(policy)
}
