//! The collector's logic as plain functions over `AppState`. Handlers in `http` only
//! parse, authorise and call these; tests call them directly.

pub mod accounts;
pub mod assets;
pub mod checkin;
pub mod devices;
pub mod enroll;
pub mod inventory_diff;
pub mod kb;
pub mod policy;
pub mod revocation;
pub mod sanitize;
pub mod sessions;
pub mod tokens;

use crate::error::ApiError;

/// Rejects over-long or control-character strings in identity fields.
pub(crate) fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.len() > max {
        return Err(ApiError::BadRequest(format!(
            "{field} is longer than {max} bytes"
        )));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(ApiError::BadRequest(format!(
            "{field} contains control characters"
        )));
    }
    Ok(())
}
