//! Console sign-in over the API: `POST /api/v1/session` (name and password → the
//! session cookie and the CSRF token), `GET` (who is signed in), `DELETE` (sign out),
//! and `PUT /api/v1/users/{id}/password` (an admin for anyone, a user for itself).

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tend_shared::api::{AuditOutcome, PasswordSet, Role, SessionInfo, SignIn, User};

use crate::auth::{Auth, ClientAddr, Principal};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::service::sessions::{self, ABSOLUTE_MS, COOKIE, IDLE_MS};
use crate::state::AppState;

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
    if let Some(cookie) = crate::auth::session_cookie_in(&headers) {
        sessions::sign_out(&state, cookie, &me.actor()).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie_header("", 0))]).into_response())
}

/// `id` is the user's id or name.
pub async fn set_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<PasswordSet>,
) -> Result<Json<User>, ApiError> {
    let me = match &auth.0 {
        Principal::Api(u) if u.id == id || u.name.eq_ignore_ascii_case(&id) => u.clone(),
        _ => auth.require(&state, Role::Admin, "user.password").await?,
    };
    let user = {
        let mut r = state.store.read();
        match r.user(&id).await? {
            Some(u) => u,
            None => r
                .user_by_name(&id)
                .await?
                .ok_or_else(|| ApiError::not_found("user", &id))?,
        }
    };
    sessions::set_password(&state, &user.id, &req.password).await?;
    state
        .audit(
            &me.actor(),
            "user.password",
            &user.id,
            AuditOutcome::Success,
            serde_json::Value::Null,
        )
        .await?;
    Ok(Json(user))
}
