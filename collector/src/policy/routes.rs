//! The policy's endpoints: read (analysts) and replace (admins).

use axum::extract::State;
use axum::Json;
use tend_shared::api::Role;
use tend_shared::policy::Policy;

use crate::error::{ApiError, ApiJson};
use crate::state::AppState;
use crate::users::auth::Auth;

pub async fn policy(State(state): State<AppState>, auth: Auth) -> Result<Json<Policy>, ApiError> {
    auth.require(&state, Role::Viewer, "policy.read").await?;
    Ok(Json((*state.policy()).clone()))
}

pub async fn put_policy(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(p): ApiJson<Policy>,
) -> Result<Json<Policy>, ApiError> {
    let user = auth.require(&state, Role::Admin, "policy.update").await?;
    crate::policy::replace(&state, &user, p).await.map(Json)
}
