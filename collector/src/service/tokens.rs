//! Analyst/admin API tokens: created by admins (or the CLI on a stopped collector).

use tend_shared::api::{AuditOutcome, Role};

use super::check_text;
use crate::error::ApiError;
use crate::store::{new_token, Store, TokenKind, TokenRecord};

/// Creates an API token and returns it (the only time it is visible).
pub fn create(
    store: &Store,
    now_ms: u64,
    role: Role,
    name: &str,
    actor: &str,
) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest("token name is required".into()));
    }
    check_text("name", name, 64)?;
    let token = new_token("tak_");
    store.put_token(
        &token,
        &TokenRecord {
            kind: TokenKind::Api {
                role,
                name: name.to_string(),
            },
            created_at_ms: now_ms,
        },
    )?;
    store.append_audit(
        now_ms,
        actor,
        "token.create",
        &format!("token:{name}"),
        AuditOutcome::Success,
        serde_json::json!({"role": role}),
    )?;
    Ok(token)
}
