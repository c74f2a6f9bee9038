//! Collector-wide settings every feature may read, kept in the store's `meta/` space:
//! the security settings (changed by admins through `users::accounts`).

use tend_shared::accounts::SecuritySettings;

use crate::error::ApiError;
use crate::state::AppState;

/// Where the security settings live in `meta/`.
pub const SECURITY_SETTINGS_KEY: &str = "security_settings";

/// The collector's security settings (defaults until an admin saves them).
pub async fn security(state: &AppState) -> Result<SecuritySettings, ApiError> {
    Ok(state
        .store
        .read()
        .meta_get::<SecuritySettings>(SECURITY_SETTINGS_KEY)
        .await?
        .unwrap_or_default())
}
