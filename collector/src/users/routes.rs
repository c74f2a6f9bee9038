//! Users and API tokens over HTTP: admins create and disable users; every user lists,
//! creates and revokes its own tokens, admins anyone's. Every action and refusal is
//! audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_shared::api::{
    AuditOutcome, Role, TokenCreate, TokenCreated, TokenInfo, User, UserCreate, UserCreated,
};

use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;
use crate::users::auth::{ApiUser, Auth};
use crate::users::tokens::{self, Creator};
use crate::users::TokenKind;

/// Longest token lifetime accepted (a year); none = until revoked.
pub const MAX_TOKEN_LIFETIME_S: u64 = 366 * 86_400;

pub async fn list_users(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<User>>, ApiError> {
    auth.require(&state, Role::Admin, "user.list").await?;
    Ok(Json(state.store.read().users().await?))
}

pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<UserCreate>,
) -> Result<(StatusCode, Json<UserCreated>), ApiError> {
    let me = auth.require(&state, Role::Admin, "user.create").await?;
    let (user, token) = tokens::create_user(
        &state.store,
        state.now_ms(),
        Creator::User(&me),
        &req.name,
        req.role,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(UserCreated { user, token })))
}

pub async fn disable_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    let me = auth.require(&state, Role::Admin, "user.disable").await?;
    let user = crate::commit!(state.store, tx => {
        let mut user = match tx.user(&id).await? {
            Some(u) => u,
            None => tx
                .user_by_name(&id)
                .await?
                .ok_or_else(|| ApiError::not_found("user", &id))?,
        };
        let admins: Vec<User> = tx
            .users()
            .await?
            .into_iter()
            .filter(|u| u.role == Role::Admin && !u.disabled)
            .collect();
        if user.role == Role::Admin && !user.disabled && admins.len() <= 1 {
            return Err(ApiError::Conflict(
                "that is the last active admin; create another one first".into(),
            ));
        }
        // the other admins are read point by point: two units disabling the last two
        // admins at once conflict instead of leaving none
        for a in &admins {
            tx.user(&a.id).await?;
        }
        user.disabled = true;
        tx.put_user(&user);
        state
            .audit_in(
                &mut tx,
                &me.actor(),
                "user.disable",
                &user.id,
                AuditOutcome::Success,
                serde_json::json!({"name": user.name}),
            )
            .await?;
        Ok(user)
    })?;
    Ok(Json(user))
}

/// The token's listing form (its user looked up).
async fn listed(
    tx: &mut crate::store::Tx,
    r: &crate::users::TokenRecord,
) -> Result<Option<TokenInfo>, ApiError> {
    let TokenKind::User { user_id, .. } = &r.kind else {
        return Ok(None);
    };
    Ok(tx.user(user_id).await?.and_then(|u| tokens::info(&u, r)))
}

pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    let me = auth.require(&state, Role::Viewer, "token.list").await?;
    let mut out = Vec::new();
    let mut tx = state.store.read();
    for r in tx.user_tokens().await? {
        if let Some(i) = listed(&mut tx, &r).await? {
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
    let me = auth.require(&state, Role::Viewer, "token.create").await?;
    let user_id = req.user_id.clone().unwrap_or_else(|| me.id.clone());
    let mut r = state.store.read();
    let user = match r.user(&user_id).await? {
        Some(u) => Some(u),
        None => r.user_by_name(&user_id).await?,
    }
    .filter(|u| !u.disabled)
    .ok_or_else(|| ApiError::not_found("user", &user_id))?;
    if !may_mint(&me, &user) {
        state
            .audit(
                &me.actor(),
                "token.create",
                &user.id,
                AuditOutcome::Denied,
                serde_json::json!({"reason": "a token for another user", "user": user.name}),
            )
            .await?;
        return Err(ApiError::Forbidden(format!(
            "you may create tokens for yourself or users you created, not for {}",
            user.name
        )));
    }
    let role =
        req.role
            .unwrap_or(user.role)
            .min(if user.id == me.id { me.role } else { user.role });
    // a token minted from a console session ends with that session's credentials
    // and lives at most the admin-set maximum (its default lifetime too)
    let from_session = me.session_csrf.is_some();
    let max_s = if from_session {
        let days = crate::settings::security(&state)
            .await?
            .session_token_max_days;
        u64::from(days) * 86_400
    } else {
        MAX_TOKEN_LIFETIME_S
    };
    let expires_in_s = match req.expires_in_s {
        None if from_session => Some(max_s),
        other => other,
    };
    let expires_at_ms = match expires_in_s {
        Some(s) if s == 0 || s > max_s => {
            return Err(ApiError::BadRequest(format!(
                "expires_in_s must be 1..={max_s}{}",
                if from_session {
                    " for a token minted from a console session"
                } else {
                    ""
                }
            )))
        }
        Some(s) => Some(state.now_ms() + s * 1000),
        None => None,
    };
    // it ends when its owner's password changes or is reset
    let session_version = from_session.then_some(user.credentials_version);
    let (token, info) = tokens::mint(
        &state.store,
        state.now_ms(),
        &user,
        tokens::NewToken {
            role,
            label: req.label.as_deref().unwrap_or(""),
            expires_at_ms,
            session_version,
        },
        &me.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { token, info })))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let me = auth.require(&state, Role::Viewer, "token.revoke").await?;
    let rec = state
        .store
        .read()
        .token_by_id(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("token", &id))?;
    let owner = match &rec.kind {
        TokenKind::User { user_id, .. } => user_id.clone(),
        _ => String::new(),
    };
    if me.role != Role::Admin && owner != me.id {
        state
            .audit(
                &me.actor(),
                "token.revoke",
                &id,
                AuditOutcome::Denied,
                serde_json::json!({"reason": "another user's token"}),
            )
            .await?;
        return Err(ApiError::Forbidden(
            "only admins revoke other users' tokens".into(),
        ));
    }
    crate::commit!(state.store, tx => {
        tx.revoke_token_id(&id).await?;
        state
            .audit_in(
                &mut tx,
                &me.actor(),
                "token.revoke",
                &id,
                AuditOutcome::Success,
                serde_json::json!({"user_id": owner}),
            )
            .await?;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}
