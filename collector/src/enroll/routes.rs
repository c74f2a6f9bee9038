//! Enrollment endpoints: devices enrolling, admins approving re-enrollment and managing enrollment tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_shared::api::Role;
use tend_shared::enroll::{EnrollRequest, EnrollResponse};

use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;
use crate::users::auth::{Auth, ClientAddr};

pub async fn enroll(
    State(state): State<AppState>,
    ClientAddr(source): ClientAddr,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    crate::enroll::enroll(&state, req, &source).await.map(Json)
}

pub async fn approve_reenroll(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::enroll::ReenrollRequest>, ApiError> {
    let me = auth
        .require(&state, Role::Analyst, "device.reenroll_approve")
        .await?;
    crate::enroll::tokens::approve_reenroll(&state, &me, &id)
        .await
        .map(Json)
}

pub async fn list_enroll_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<tend_shared::enroll::EnrollTokenInfo>>, ApiError> {
    auth.require(&state, Role::Admin, "enroll_token.list")
        .await?;
    Ok(Json(state.store.read().enroll_tokens().await?))
}

/// `GET /api/v1/enrollments` (admin): pending re-enrollments and the last day's
/// refused enrollments by source address.
pub async fn enrollments(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<tend_shared::enroll::EnrollmentsView>, ApiError> {
    auth.require(&state, Role::Admin, "enrollment.list").await?;
    Ok(Json(crate::enroll::view(&state).await?))
}

pub async fn create_enroll_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<tend_shared::enroll::EnrollTokenCreate>,
) -> Result<(StatusCode, Json<tend_shared::enroll::EnrollTokenCreated>), ApiError> {
    let me = auth
        .require(&state, Role::Admin, "enroll_token.create")
        .await?;
    let t = crate::enroll::tokens::create_enroll_token(&state, &me, req).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

pub async fn revoke_enroll_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::enroll::EnrollTokenInfo>, ApiError> {
    let me = auth
        .require(&state, Role::Admin, "enroll_token.revoke")
        .await?;
    crate::enroll::tokens::revoke_enroll_token(&state, &me, &id)
        .await
        .map(Json)
}
