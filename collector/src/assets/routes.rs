//! Analyst endpoints for assets: list, show, create, patch, offboard, decommission.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_shared::api::{Page, Role};
use tend_shared::assets::{Asset, AssetCreate, AssetPatch};

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::store::paging;
use crate::users::auth::Auth;
use tend_shared::query::AssetQuery;

/// Assets in serial order (of one state or owner), a page at a time.
pub async fn list_assets(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AssetQuery>,
) -> Result<Json<Page<Asset>>, ApiError> {
    auth.require(&state, Role::Viewer, "asset.list").await?;
    let cursor = paging::cursor(q.cursor.as_deref()).map_err(ApiError::BadRequest)?;
    let page = state
        .store
        .read()
        .assets_page(
            q.state,
            q.owner.as_deref(),
            cursor.as_ref(),
            paging::limit(q.limit),
        )
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(Json(page))
}

pub async fn asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::devices::AssetDetail>, ApiError> {
    auth.require(&state, Role::Viewer, "asset.read").await?;
    crate::devices::asset_detail(&state, &id).await.map(Json)
}

pub async fn create_asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<AssetCreate>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let user = auth.require(&state, Role::Analyst, "asset.create").await?;
    let asset = crate::assets::create(&state, &user, req).await?;
    Ok((StatusCode::CREATED, Json(asset)))
}

pub async fn patch_asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<AssetPatch>,
) -> Result<Json<Asset>, ApiError> {
    let user = auth.require(&state, Role::Analyst, "asset.update").await?;
    crate::assets::patch(&state, &user, &id, p).await.map(Json)
}

/// `POST /api/v1/assets/{id}/offboard`: collect → wipe → retire (retire decommissions
/// the device).
pub async fn offboard_asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<tend_shared::assets::Offboard>,
) -> Result<Json<Asset>, ApiError> {
    let user = auth
        .require(&state, Role::Analyst, "asset.offboard")
        .await?;
    crate::assets::offboard(&state, &user, &id, &req)
        .await
        .map(Json)
}

pub async fn decommission(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::devices::DeviceSummary>, ApiError> {
    let me = auth
        .require(&state, Role::Analyst, "device.decommission")
        .await?;
    crate::assets::decommission::decommission(&state, &me, &id)
        .await
        .map(Json)
}
