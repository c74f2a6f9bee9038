//! Console sign-in over the API: `POST /api/v1/session` (name and password → the
//! session cookie and the CSRF token), `GET` (who is signed in), `DELETE` (sign out),
//! `PUT /api/v1/users/{id}/password` (the signed-in user, for itself, from a session,
//! with its current password), `POST /api/v1/users/{id}/password-reset` (admin: a
//! one-time code) and `POST /api/v1/password-reset` (the code's holder), and the
//! security settings.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tend_shared::accounts::{PasswordRedeem, PasswordResetIssued, SecuritySettings};
use tend_shared::api::{AuditOutcome, PasswordSet, Role, SessionInfo, SignIn, User};

use crate::accounts;
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;
use crate::users::auth::{Auth, ClientAddr};
use crate::users::sessions::{self, ABSOLUTE_MS, COOKIE, IDLE_MS};

fn cookie_header(value: &str, max_age_s: u64) -> String {
    format!("{COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_s}")
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(source): ClientAddr,
    ApiJson(req): ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    let s = sessions::sign_in(&state, req.name.trim(), &req.password, &source).await?;
    let info = SessionInfo {
        notices: accounts::notices_for(&state, &s.user).await?,
        user: s.user,
        csrf_token: s.session.csrf,
        idle_timeout_s: IDLE_MS / 1000,
    };
    Ok((
        [(SET_COOKIE, cookie_header(&s.cookie, ABSOLUTE_MS / 1000))],
        Json(info),
    )
        .into_response())
}

pub async fn whoami(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<SessionInfo>, ApiError> {
    let me = auth.require(&state, Role::Viewer, "session.show").await?;
    let Some(csrf_token) = me.session_csrf else {
        return Err(ApiError::BadRequest(
            "this request used an API token, not a console session".into(),
        ));
    };
    let user = state
        .store
        .read()
        .user(&me.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("user removed".into()))?;
    Ok(Json(SessionInfo {
        notices: accounts::notices_for(&state, &user).await?,
        user,
        csrf_token,
        idle_timeout_s: IDLE_MS / 1000,
    }))
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Auth,
) -> Result<Response, ApiError> {
    let me = auth
        .require(&state, Role::Viewer, "session.sign_out")
        .await?;
    if let Some(cookie) = crate::users::auth::session_cookie_in(&headers) {
        sessions::sign_out(&state, cookie, &me.actor()).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie_header("", 0))]).into_response())
}

/// Refuses (audited) a password change that is not the signed-in user's own, from a
/// console session.
async fn refuse_password(
    state: &AppState,
    actor: &str,
    target: &str,
    why: &str,
) -> Result<ApiError, ApiError> {
    state
        .audit(
            actor,
            "user.password",
            target,
            AuditOutcome::Denied,
            serde_json::json!({"reason": why}),
        )
        .await?;
    Ok(ApiError::Forbidden(why.into()))
}

/// `id` is the user's id or name: only the signed-in user itself, from a console
/// session, with `current_password`.
pub async fn set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<PasswordSet>,
) -> Result<Json<User>, ApiError> {
    let me = auth.require(&state, Role::Viewer, "user.password").await?;
    let target = accounts::find_user(&state, &id).await?;
    if target.id != me.id {
        return Err(refuse_password(
            &state,
            &me.actor(),
            &target.id,
            "nobody sets another user's password; an admin issues a one-time reset code instead (POST /api/v1/users/{id}/password-reset)",
        )
        .await?);
    }
    let cookie =
        crate::users::auth::session_cookie_in(&headers).filter(|_| me.session_csrf.is_some());
    let Some(cookie) = cookie else {
        return Err(refuse_password(
            &state,
            &me.actor(),
            &me.id,
            "a password is changed from a console session with the current one; API tokens never change passwords",
        )
        .await?);
    };
    let Some(current) = req.current_password.as_deref() else {
        return Err(ApiError::BadRequest(
            "current_password is required to change a password".into(),
        ));
    };
    Ok(Json(
        accounts::change_own(&state, &me, cookie, current, &req.password).await?,
    ))
}

/// `POST /api/v1/users/{id}/password-reset` (admin).
pub async fn issue_reset(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PasswordResetIssued>, ApiError> {
    let me = auth
        .require(&state, Role::Admin, "user.password_reset")
        .await?;
    Ok(Json(accounts::issue_reset(&state, &me, &id).await?))
}

/// `POST /api/v1/password-reset`: no token; the code is the proof.
pub async fn redeem_reset(
    State(state): State<AppState>,
    ClientAddr(source): ClientAddr,
    ApiJson(req): ApiJson<PasswordRedeem>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        accounts::redeem(&state, req.name.trim(), &req.code, &req.password, &source).await?,
    ))
}

pub async fn security_settings(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<SecuritySettings>, ApiError> {
    auth.require(&state, Role::Viewer, "settings.security.read")
        .await?;
    Ok(Json(crate::settings::security(&state).await?))
}

pub async fn put_security_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<SecuritySettings>,
) -> Result<Json<SecuritySettings>, ApiError> {
    let me = auth
        .require(&state, Role::Admin, "settings.security")
        .await?;
    accounts::put_security_settings(&state, &me, &req).await?;
    Ok(Json(req))
}
