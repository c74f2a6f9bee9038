//! Knowledge-base endpoints: analysts read and write articles
//! (`/api/v1/kb[/{id}]`); a device asks which fit a help request and reports a
//! request withdrawn after reading one (`/api/v1/device/kb…`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_shared::api::Role;
use tend_shared::kb::{Article, ArticleWrite};

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::kb;
use crate::state::AppState;
use crate::users::auth::Auth;
use tend_shared::query::KbQuery;

fn keys(q: &KbQuery) -> Vec<String> {
    q.problem_key
        .as_deref()
        .map(|k| {
            k.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .take(50)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<KbQuery>,
) -> Result<Json<Vec<Article>>, ApiError> {
    auth.require(&state, Role::Viewer, "kb.list").await?;
    kb::matching(&state, q.category.as_deref(), &keys(&q))
        .await
        .map(Json)
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(w): ApiJson<ArticleWrite>,
) -> Result<(StatusCode, Json<Article>), ApiError> {
    let user = auth.require(&state, Role::Analyst, "kb.create").await?;
    Ok((
        StatusCode::CREATED,
        Json(kb::write(&state, &user, None, w).await?),
    ))
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Article>, ApiError> {
    auth.require(&state, Role::Viewer, "kb.read").await?;
    state
        .store
        .read()
        .article(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("article", &id))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(w): ApiJson<ArticleWrite>,
) -> Result<Json<Article>, ApiError> {
    let user = auth.require(&state, Role::Analyst, "kb.update").await?;
    kb::write(&state, &user, Some(&id), w).await.map(Json)
}

pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let user = auth.require(&state, Role::Analyst, "kb.delete").await?;
    kb::remove(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/device/kb?category=&problem_key=a,b`: what to show before filing.
pub async fn suggest(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<KbQuery>,
) -> Result<Json<Vec<Article>>, ApiError> {
    let device = auth.device(&state, "kb.suggest").await?;
    state.device_rate(
        &state.rates.user_tickets,
        "requests from this laptop's users",
        &device.id,
    )?;
    kb::suggest(&state, &device, q.category.as_deref(), &keys(&q))
        .await
        .map(Json)
}

/// `POST /api/v1/device/kb/{id}/withdrawn`: the article solved it; nothing filed.
pub async fn withdrawn(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::kb::Withdrawn>, ApiError> {
    let device = auth.device(&state, "kb.withdrawn").await?;
    state.device_rate(
        &state.rates.user_tickets,
        "requests from this laptop's users",
        &device.id,
    )?;
    kb::withdrawn(&state, &device, &id).await?;
    Ok(Json(tend_shared::kb::Withdrawn {
        withdrawn: true,
        article: id,
    }))
}
