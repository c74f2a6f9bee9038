//! Trust handed out and taken back: users and API tokens (admins create and disable
//! users; every user lists, creates and revokes its own tokens, admins anyone's),
//! enrollment tokens, re-enrollment approval and device decommissioning. Every
//! action and refusal is audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_shared::api::{
    AuditOutcome, Role, TokenCreate, TokenCreated, TokenInfo, User, UserCreate, UserCreated,
};

use crate::auth::{ApiUser, Auth};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::service::tokens::{self, Creator};
use crate::state::AppState;
use crate::store::TokenKind;

/// Longest token lifetime accepted (a year); none = until revoked.
pub const MAX_TOKEN_LIFETIME_S: u64 = 366 * 86_400;

pub async fn list_users(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<User>>, ApiError> {
    auth.require(&state, Role::Admin, "user.list")?;
    Ok(Json(state.store.users()?))
}

pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<UserCreate>,
) -> Result<(StatusCode, Json<UserCreated>), ApiError> {
    let me = auth.require(&state, Role::Admin, "user.create")?;
    let (user, token) = tokens::create_user(
        &state.store,
        state.now_ms(),
        Creator::User(&me),
        &req.name,
        req.role,
    )?;
    state.store.flush().await?;
    Ok((StatusCode::CREATED, Json(UserCreated { user, token })))
}

pub async fn disable_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    let me = auth.require(&state, Role::Admin, "user.disable")?;
    let mut user = state
        .store
        .user(&id)?
        .or(state.store.user_by_name(&id)?)
        .ok_or_else(|| ApiError::not_found("user", &id))?;
    let active_admins = state
        .store
        .users()?
        .iter()
        .filter(|u| u.role == Role::Admin && !u.disabled)
        .count();
    if user.role == Role::Admin && !user.disabled && active_admins <= 1 {
        return Err(ApiError::Conflict(
            "that is the last active admin; create another one first".into(),
        ));
    }
    user.disabled = true;
    state.store.put_user(&user)?;
    state.audit(
        &me.actor(),
        "user.disable",
        &user.id,
        AuditOutcome::Success,
        serde_json::json!({"name": user.name}),
    )?;
    state.store.flush().await?;
    Ok(Json(user))
}

/// The token's listing form (its user looked up).
fn listed(state: &AppState, r: &crate::store::TokenRecord) -> Result<Option<TokenInfo>, ApiError> {
    let TokenKind::User { user_id, .. } = &r.kind else {
        return Ok(None);
    };
    Ok(state.store.user(user_id)?.and_then(|u| tokens::info(&u, r)))
}

pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    let me = auth.require(&state, Role::Viewer, "token.list")?;
    let mut out = Vec::new();
    for r in state.store.user_tokens()? {
        if let Some(i) = listed(&state, &r)? {
            if me.role == Role::Admin || i.user_id == me.id {
                out.push(i);
            }
        }
    }
    out.sort_by(|a, b| {
        a.user_name
            .cmp(&b.user_name)
            .then(a.created_at_ms.cmp(&b.created_at_ms))
    });
    Ok(Json(out))
}

/// May `me` mint a token for `user`? Itself, or a user it created (it could act as
/// that user anyway); never an independent one.
fn may_mint(me: &ApiUser, user: &User) -> bool {
    user.id == me.id || user.created_by.as_deref() == Some(me.id.as_str())
}

pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<TokenCreate>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let me = auth.require(&state, Role::Viewer, "token.create")?;
    let user_id = req.user_id.clone().unwrap_or_else(|| me.id.clone());
    let user = state
        .store
        .user(&user_id)?
        .or(state.store.user_by_name(&user_id)?)
        .filter(|u| !u.disabled)
        .ok_or_else(|| ApiError::not_found("user", &user_id))?;
    if !may_mint(&me, &user) {
        state.audit(
            &me.actor(),
            "token.create",
            &user.id,
            AuditOutcome::Denied,
            serde_json::json!({"reason": "a token for another user", "user": user.name}),
        )?;
        state.store.flush().await?;
        return Err(ApiError::Forbidden(format!(
            "you may create tokens for yourself or users you created, not for {}",
            user.name
        )));
    }
    let role =
        req.role
            .unwrap_or(user.role)
            .min(if user.id == me.id { me.role } else { user.role });
    let expires_at_ms = match req.expires_in_s {
        Some(s) if s == 0 || s > MAX_TOKEN_LIFETIME_S => {
            return Err(ApiError::BadRequest(format!(
                "expires_in_s must be 1..={MAX_TOKEN_LIFETIME_S}"
            )))
        }
        Some(s) => Some(state.now_ms() + s * 1000),
        None => None,
    };
    let (token, info) = tokens::mint(
        &state.store,
        state.now_ms(),
        &user,
        role,
        req.label.as_deref().unwrap_or(""),
        expires_at_ms,
        &me.actor(),
    )?;
    state.store.flush().await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { token, info })))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let me = auth.require(&state, Role::Viewer, "token.revoke")?;
    let rec = state
        .store
        .token_by_id(&id)?
        .ok_or_else(|| ApiError::not_found("token", &id))?;
    let owner = match &rec.kind {
        TokenKind::User { user_id, .. } => user_id.clone(),
        _ => String::new(),
    };
    if me.role != Role::Admin && owner != me.id {
        state.audit(
            &me.actor(),
            "token.revoke",
            &id,
            AuditOutcome::Denied,
            serde_json::json!({"reason": "another user's token"}),
        )?;
        state.store.flush().await?;
        return Err(ApiError::Forbidden(
            "only admins revoke other users' tokens".into(),
        ));
    }
    state.store.revoke_token_id(&id)?;
    state.audit(
        &me.actor(),
        "token.revoke",
        &id,
        AuditOutcome::Success,
        serde_json::json!({"user_id": owner}),
    )?;
    state.store.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn approve_reenroll(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::enroll::ReenrollRequest>, ApiError> {
    let me = auth.require(&state, Role::Analyst, "device.reenroll_approve")?;
    crate::service::revocation::approve_reenroll(&state, &me, &id)
        .await
        .map(Json)
}

pub async fn decommission(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::devices::DeviceSummary>, ApiError> {
    let me = auth.require(&state, Role::Analyst, "device.decommission")?;
    crate::service::revocation::decommission(&state, &me, &id)
        .await
        .map(Json)
}

pub async fn list_enroll_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<tend_shared::enroll::EnrollTokenInfo>>, ApiError> {
    auth.require(&state, Role::Admin, "enroll_token.list")?;
    Ok(Json(state.store.enroll_tokens()?))
}

pub async fn create_enroll_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<tend_shared::enroll::EnrollTokenCreate>,
) -> Result<(StatusCode, Json<tend_shared::enroll::EnrollTokenCreated>), ApiError> {
    let me = auth.require(&state, Role::Admin, "enroll_token.create")?;
    let t = crate::service::revocation::create_enroll_token(&state, &me, req).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

pub async fn revoke_enroll_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::enroll::EnrollTokenInfo>, ApiError> {
    let me = auth.require(&state, Role::Admin, "enroll_token.revoke")?;
    crate::service::revocation::revoke_enroll_token(&state, &me, &id)
        .await
        .map(Json)
}
