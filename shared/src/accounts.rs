//! Account recovery and the collector's security settings: one-time password reset
//! codes (an admin issues one; only the code's holder sets the password), the notices
//! every admin sees when that happens, and `GET|PUT /api/v1/settings/security`.

use serde::{Deserialize, Serialize};

use crate::api::User;
pub use crate::api::{is_zero, SecurityNotice};

/// `POST /api/v1/users/{id}/password-reset` (admin): the one-time code, shown once to
/// the admin to hand to the account's owner. The old password and every session of
/// the user end at once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetIssued {
    pub user: User,
    pub code: String,
    pub expires_at_ms: u64,
}

impl std::fmt::Debug for PasswordResetIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResetIssued")
            .field("user", &self.user.name)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// `POST /api/v1/password-reset` (no token): the code's holder sets the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRedeem {
    pub name: String,
    pub code: String,
    pub password: String,
}

impl std::fmt::Debug for PasswordRedeem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRedeem")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `GET|PUT /api/v1/settings/security` (PUT: admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecuritySettings {
    /// Longest lifetime of an API token minted from a console session, in days (and
    /// the lifetime such a token gets when none is asked for).
    #[serde(default = "default_session_token_days")]
    pub session_token_max_days: u32,
    /// Webhook targets may be on loopback, link-local, private or ULA addresses (an
    /// ITSM on the company network); off by default, so a webhook is no way into the
    /// collector's own network.
    #[serde(default)]
    pub allow_private_targets: bool,
}

fn default_session_token_days() -> u32 {
    90
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            session_token_max_days: default_session_token_days(),
            allow_private_targets: false,
        }
    }
}

impl SecuritySettings {
    /// Why these settings are refused, if they are.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=366).contains(&self.session_token_max_days) {
            return Err("session_token_max_days must be 1..=366".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug_and_defaults_hold() {
        let r = PasswordRedeem {
            name: "bob".into(),
            code: "c0de".into(),
            password: "hunter2hunter2".into(),
        };
        let d = format!("{r:?}");
        assert!(!d.contains("c0de") && !d.contains("hunter2"), "{d}");
        let s: SecuritySettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, SecuritySettings::default());
        assert_eq!(s.session_token_max_days, 90);
        assert!(SecuritySettings {
            session_token_max_days: 0,
            ..s
        }
        .validate()
        .is_err());
    }
}
