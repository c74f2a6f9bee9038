//! Analyst endpoints (API token): devices, assets, audit, policy.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tend_shared::api::{AuditEntry, Page, Role};
use tend_shared::assets::{Asset, AssetCreate, AssetPatch, AssetState};
use tend_shared::devices::{DeviceDetail, DeviceSummary};
use tend_shared::enroll::Platform;
use tend_shared::health::HealthStatus;
use tend_shared::policy::Policy;

use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::service;
use crate::state::AppState;
use crate::store::paging;
use crate::store::{AuditFilter, DeviceFilter, DeviceSort};

#[derive(Debug, Deserialize)]
pub struct DeviceQuery {
    platform: Option<String>,
    health: Option<String>,
    /// Only devices not seen for at least this many seconds.
    last_seen_older_than_s: Option<u64>,
    /// Id prefix, hostname prefix or serial.
    q: Option<String>,
    /// `id` (default), `hostname`, `recent`, `silent`.
    sort: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

pub async fn list_devices(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DeviceQuery>,
) -> Result<Json<Page<DeviceSummary>>, ApiError> {
    auth.require(&state, Role::Viewer, "device.list").await?;
    let filter = DeviceFilter {
        platform: q
            .platform
            .as_deref()
            .map(str::parse::<Platform>)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        health: q
            .health
            .as_deref()
            .map(str::parse::<HealthStatus>)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        last_seen_before_ms: q
            .last_seen_older_than_s
            .map(|s| state.now_ms().saturating_sub(s.saturating_mul(1000))),
        search: q.q.filter(|s| !s.trim().is_empty()),
        sort: q
            .sort
            .as_deref()
            .map(str::parse::<DeviceSort>)
            .transpose()
            .map_err(ApiError::BadRequest)?
            .unwrap_or_default(),
    };
    let cursor = paging::cursor(q.cursor.as_deref()).map_err(ApiError::BadRequest)?;
    service::devices::list(&state, &filter, cursor.as_ref(), paging::limit(q.limit))
        .await
        .map(Json)
}

pub async fn device(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceDetail>, ApiError> {
    auth.require(&state, Role::Viewer, "device.read").await?;
    service::devices::detail(&state, &id).await.map(Json)
}

#[derive(Debug, Deserialize)]
pub struct EventQuery {
    /// Only events before this time (ms epoch).
    before: Option<u64>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A device's events, newest first, a page at a time.
pub async fn device_events(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Json<Page<tend_shared::devices::DeviceEvent>>, ApiError> {
    auth.require(&state, Role::Viewer, "device.events").await?;
    let cursor = paging::cursor(q.cursor.as_deref()).map_err(ApiError::BadRequest)?;
    let mut r = state.store.read();
    if r.device(&id).await?.is_none() && r.asset(&id).await?.is_none() {
        return Err(ApiError::not_found("device", &id));
    }
    let page = r
        .events_page(&id, q.before, cursor.as_ref(), paging::limit(q.limit))
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
pub struct AssetQuery {
    state: Option<AssetState>,
    owner: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

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
    service::devices::asset_detail(&state, &id).await.map(Json)
}

pub async fn create_asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<AssetCreate>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let user = auth.require(&state, Role::Analyst, "asset.create").await?;
    let asset = service::assets::create(&state, &user, req).await?;
    Ok((StatusCode::CREATED, Json(asset)))
}

pub async fn patch_asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<AssetPatch>,
) -> Result<Json<Asset>, ApiError> {
    let user = auth.require(&state, Role::Analyst, "asset.update").await?;
    service::assets::patch(&state, &user, &id, p)
        .await
        .map(Json)
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    before: Option<u64>,
    /// Entries at or after this time (ms epoch).
    from_ms: Option<u64>,
    /// Entries before this time (ms epoch).
    to_ms: Option<u64>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// The audit log, newest first, a page at a time.
pub async fn audit(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    auth.require(&state, Role::Admin, "audit.read").await?;
    let f = AuditFilter {
        actor: q.actor,
        action_prefix: q.action,
        target: q.target,
        before_seq: q.before,
        from_ms: q.from_ms,
        to_ms: q.to_ms,
    };
    let cursor = paging::cursor(q.cursor.as_deref()).map_err(ApiError::BadRequest)?;
    let page = state
        .store
        .read()
        .audit_page(&f, cursor.as_ref(), paging::limit(q.limit))
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(Json(page))
}

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
    service::policy::replace(&state, &user, p).await.map(Json)
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
    service::assets::offboard(&state, &user, &id, &req)
        .await
        .map(Json)
}
