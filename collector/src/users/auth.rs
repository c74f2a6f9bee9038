//! Bearer-token authentication and role checks.
//!
//! `Auth` resolves the presented token (by SHA-256) to a principal; handlers then ask
//! for what they need: `auth.device(&state, "checkin").await?`,
//! `auth.require(&state, Role::Analyst, "asset.update").await?`. Every refusal is an audit
//! entry — a missing or unknown token too, per source address up to a rate (past it
//! refusals are only counted, so nobody can fill the disk with them).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tend_shared::api::{AuditOutcome, Role};

use crate::error::ApiError;
use crate::fleet::DeviceRecord;
use crate::state::AppState;
use crate::users::TokenKind;

/// An authenticated analyst or admin: a user, through one of its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUser {
    /// The user's id (`u_…`): what approvals compare.
    pub id: String,
    pub name: String,
    /// The token's role (at most the user's).
    pub role: Role,
    /// The token used (`tk_…`).
    pub token_id: String,
    /// The CSRF token of the console session the request came with (`None`: an API
    /// token).
    pub session_csrf: Option<String>,
}

impl ApiUser {
    /// How the user appears in the audit log.
    pub fn actor(&self) -> String {
        format!("user:{}", self.name)
    }
}

/// The client's address (`ip`), for per-address limits and the audit log; `local`
/// when the request did not come over a socket (router tests).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

/// The client's address: the peer, or — only when the peer is one of the configured
/// trusted proxies — the last address in `X-Forwarded-For` that is not a trusted
/// proxy. Nobody else can choose the address its rate limits are counted under.
pub fn client_addr(parts: &Parts, trusted: &[std::net::IpAddr]) -> String {
    let Some(peer) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "local".to_string();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
        .to_string()
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(
            parts,
            &state.limits.trusted_proxies,
        )))
    }
}

/// Who made the request.
#[derive(Debug, Clone)]
pub enum Principal {
    Api(ApiUser),
    Device(Box<DeviceRecord>),
}

/// Extractor: the request's authenticated principal (401 when missing or unknown).
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    let token = token.trim();
    (!token.is_empty() && token.len() <= 256).then_some(token)
}

/// The console's session cookie, if the request carries one.
pub fn session_cookie(parts: &Parts) -> Option<&str> {
    session_cookie_in(&parts.headers)
}

/// [`session_cookie`] from the headers alone.
pub fn session_cookie_in(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == crate::users::sessions::COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A signed-in browser: the session must be live, its user enabled, and every
/// request that is not a GET, HEAD or OPTIONS must echo the session's CSRF token in
/// `X-CSRF-Token` (a page on another site can make the browser send the cookie,
/// never read the token).
async fn session_principal(
    state: &AppState,
    source: &str,
    parts: &Parts,
    cookie: &str,
) -> Result<Auth, ApiError> {
    let s = match crate::users::sessions::current(state, cookie).await? {
        Ok(s) => s,
        Err(why) => return Err(refused(state, source, parts, why).await),
    };
    let user = state
        .store
        .read()
        .user(&s.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| ApiError::Unauthorized("user disabled or removed".into()))?;
    if s.credentials_version != user.credentials_version {
        return Err(refused(
            state,
            source,
            parts,
            "the password changed since this sign-in; sign in again",
        )
        .await);
    }
    let safe = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !safe {
        let sent = parts
            .headers
            .get("x-csrf-token")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !same(sent, s.csrf.as_bytes()) {
            state
                .audit(
                    &format!("user:{}", user.name),
                    "session.csrf",
                    parts.uri.path(),
                    AuditOutcome::Denied,
                    serde_json::json!({"source": source, "method": parts.method.as_str()}),
                )
                .await?;
            return Err(ApiError::Forbidden(
                "missing or wrong X-CSRF-Token for this session".into(),
            ));
        }
    }
    Ok(Auth(Principal::Api(ApiUser {
        id: user.id,
        name: user.name,
        role: user.role,
        token_id: SESSION_TOKEN_ID.into(),
        session_csrf: Some(s.csrf),
    })))
}

/// `ApiUser::token_id` of a request authenticated by a console session.
pub const SESSION_TOKEN_ID: &str = "session";

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let source = client_addr(parts, &state.limits.trusted_proxies);
        let Some(token) = bearer(parts) else {
            if let Some(cookie) = session_cookie(parts) {
                return session_principal(state, &source, parts, cookie).await;
            }
            return Err(
                refused(state, &source, parts, "missing Authorization: Bearer token").await,
            );
        };
        let mut r = state.store.read();
        let Some(record) = r.token(token).await? else {
            return Err(refused(state, &source, parts, "unknown or revoked token").await);
        };
        match record.kind {
            TokenKind::User {
                id,
                user_id,
                role,
                expires_at_ms,
                session_version,
                ..
            } => {
                if expires_at_ms.is_some_and(|t| t <= state.now_ms()) {
                    return Err(ApiError::Unauthorized("token expired".into()));
                }
                let user = r
                    .user(&user_id)
                    .await?
                    .filter(|u| !u.disabled)
                    .ok_or_else(|| ApiError::Unauthorized("user disabled or removed".into()))?;
                if session_version.is_some_and(|v| v != user.credentials_version) {
                    return Err(ApiError::Unauthorized(
                        "this token was minted from a session that ended with a password change"
                            .into(),
                    ));
                }
                Ok(Auth(Principal::Api(ApiUser {
                    id: user.id,
                    name: user.name,
                    role: role.min(user.role),
                    token_id: id,
                    session_csrf: None,
                })))
            }
            TokenKind::Api { .. } => Err(ApiError::Unauthorized("unknown or revoked token".into())),
            TokenKind::Device { device_id } => {
                let device = r
                    .device(&device_id)
                    .await?
                    .ok_or_else(|| ApiError::Unauthorized("device no longer enrolled".into()))?;
                Ok(Auth(Principal::Device(Box::new(device))))
            }
        }
    }
}

/// A refused request: audited (rate-limited per source address), then the 401.
async fn refused(state: &AppState, source: &str, parts: &Parts, why: &str) -> ApiError {
    if state
        .rates
        .refusal_audits
        .check(source, state.now_ms())
        .is_ok()
    {
        let path: String = parts.uri.path().chars().take(200).collect();
        let _ = state
            .audit(
                "anonymous",
                "auth.refused",
                "",
                AuditOutcome::Denied,
                serde_json::json!({"reason": why, "source": source, "method": parts.method.as_str(), "path": path}),
            )
            .await;
    } else {
        crate::metrics::Metrics::inc(&state.metrics.refusals_unaudited);
    }
    ApiError::Unauthorized(why.into())
}

impl Auth {
    /// The calling device, or 403 (audited as `action` denied) for analyst tokens.
    pub async fn device(self, state: &AppState, action: &str) -> Result<DeviceRecord, ApiError> {
        match self.0 {
            Principal::Device(d) => Ok(*d),
            Principal::Api(user) => {
                state
                    .audit(
                        &user.actor(),
                        action,
                        "",
                        AuditOutcome::Denied,
                        serde_json::json!({"reason": "an endpoint for enrolled devices"}),
                    )
                    .await?;
                Err(ApiError::Forbidden(
                    "this endpoint is for enrolled devices".into(),
                ))
            }
        }
    }

    /// The calling user if their role is at least `min`; otherwise 403, audited as
    /// `action` denied.
    pub async fn require(
        self,
        state: &AppState,
        min: Role,
        action: &str,
    ) -> Result<ApiUser, ApiError> {
        match self.0 {
            Principal::Api(user) if user.role >= min => Ok(user),
            Principal::Api(user) => {
                state
                    .audit(
                        &user.actor(),
                        action,
                        "",
                        AuditOutcome::Denied,
                        serde_json::json!({"role": user.role, "required": min}),
                    )
                    .await?;
                Err(ApiError::Forbidden(format!(
                    "{action} needs the {} role; this token is {}",
                    min.as_str(),
                    user.role.as_str()
                )))
            }
            Principal::Device(d) => {
                state
                    .audit(
                        &format!("device:{}", d.id),
                        action,
                        "",
                        AuditOutcome::Denied,
                        serde_json::Value::Null,
                    )
                    .await?;
                Err(ApiError::Forbidden(
                    "device tokens cannot use the analyst API".into(),
                ))
            }
        }
    }
}
