//! Cross-cutting API types: the error body, roles, tokens and the audit log entry.

use serde::{Deserialize, Serialize};

/// One page of a list (`GET /api/v1/devices`, `/tickets`, `/assets`, `/audit`, …):
/// pass `next` back as `?cursor=` for the following page; no `next`, no more pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A last page holding `items`.
    pub fn last(items: Vec<T>) -> Page<T> {
        Page { items, next: None }
    }
}

/// The body of every non-2xx response: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A machine-readable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// The request field at fault, when one is (`checks.disk.free`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                field: None,
            },
        }
    }
}

/// Analyst roles, ordered: a higher role can do everything a lower one can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads devices, assets, tickets, reports.
    Viewer,
    /// Also acts: queues diagnostics, works tickets, edits assets.
    Analyst,
    /// Also administers: tokens, policy, scripts, releases.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?} (viewer|analyst|admin)")),
        }
    }
}

/// A named principal: analysts and admins are users with unique ids; API tokens (and
/// console sessions) belong to one. Names are unique too, but approvals and the
/// two-person rule go by `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// `u_<hex>`, never reused.
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The user who created this one; `None` for users the server operator created
    /// (`tend-collector user add`, the first admin).
    #[serde(default)]
    pub created_by: Option<String>,
    pub created_at_ms: u64,
    #[serde(default)]
    pub disabled: bool,
    /// Other users who reset this user's credentials: any of them could have signed in
    /// as it, so none of them counts as independent of it (the two-person rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reset_by: Vec<String>,
    /// Its password was reset by someone else: it approves nothing until it sets its
    /// own password from a console session.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub must_set_password: bool,
    /// Raised by every password change or reset: sessions and the tokens minted from
    /// them carry the value they were made under and end when it moves.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub credentials_version: u64,
}

/// `POST /api/v1/session`: console sign-in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub name: String,
    pub password: String,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The signed-in console user (`POST`/`GET /api/v1/session`); the session itself
/// travels in an `HttpOnly` cookie, never in a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: User,
    /// To send back as `X-CSRF-Token` on every request that changes something.
    pub csrf_token: String,
    /// A session unused this long ends.
    pub idle_timeout_s: u64,
    /// For admins: recent security events every admin should see (password resets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<SecurityNotice>,
}

/// `PUT /api/v1/users/{id}/password`: the signed-in user changes its own password,
/// from a console session, proving the current one. Nobody sets another user's
/// password (an admin issues a reset code instead, `accounts::PasswordResetIssued`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordSet {
    pub password: String,
    #[serde(default)]
    pub current_password: Option<String>,
}

impl std::fmt::Debug for PasswordSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordSet { .. }")
    }
}

/// `POST /api/v1/users` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreate {
    pub name: String,
    pub role: Role,
}

/// A new user and its first API token (shown once, to its creator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user: User,
    pub token: String,
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// `tk_<hex>`: what `revoke` takes.
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    /// At most the user's own role.
    pub role: Role,
    #[serde(default)]
    pub label: String,
    pub created_at_ms: u64,
    #[serde(default)]
    pub expires_at_ms: Option<u64>,
}

/// `POST /api/v1/tokens`: a token for the caller (or for a user the caller created).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreate {
    /// Defaults to the caller.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Defaults to the user's role; never above it.
    #[serde(default)]
    pub role: Option<Role>,
    /// What it is for ("ci-nightly"), shown in `token list`.
    #[serde(default)]
    pub label: Option<String>,
    /// Lifetime in seconds; none = until revoked.
    #[serde(default)]
    pub expires_in_s: Option<u64>,
}

/// A token just created (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreated {
    pub token: String,
    pub info: TokenInfo,
}

/// Outcome recorded on an audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    Success,
    Denied,
    Failure,
}

/// One append-only audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Monotonic sequence number (also the sled key order).
    pub seq: u64,
    pub at_ms: u64,
    /// `user:<name>` for analysts and admins, `device:<id>` for agents, `system` or
    /// `anonymous`.
    pub actor: String,
    /// Dotted verb, e.g. `asset.update`, `enroll.denied`.
    pub action: String,
    /// What was acted on (device id, asset id...), empty when none.
    #[serde(default)]
    pub target: String,
    pub outcome: AuditOutcome,
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// For `skip_serializing_if` on counters that start at zero.
pub fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Something every admin should know about, shown as a banner in the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityNotice {
    pub at_ms: u64,
    /// `user.password_reset`, `user.password_redeem`.
    pub kind: String,
    /// Who did it (`user:alice`).
    pub actor: String,
    /// The user it was done to.
    pub user: String,
    pub message: String,
}

/// `GET /healthz` (no credentials): the collector is up and its store answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or `degraded` (answered with 503: reads are served, writes are not).
    pub status: String,
    /// Why it is degraded (`disk full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub version: String,
    /// `sled` or `postgres`.
    pub store: String,
    pub devices: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_shape_is_pinned() {
        let body = ErrorBody::new("bad_request", "missing field `serial`");
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"bad_request","message":"missing field `serial`"}}"#
        );
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Analyst && Role::Analyst < Role::Admin);
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().is_err());
    }
}
