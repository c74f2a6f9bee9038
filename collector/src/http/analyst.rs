//! Analyst endpoints (API token): devices, assets, audit, policy.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tend_shared::api::{AuditEntry, Role};
use tend_shared::assets::{Asset, AssetCreate, AssetPatch, AssetState};
use tend_shared::devices::{DeviceDetail, DeviceSummary};
use tend_shared::enroll::Platform;
use tend_shared::health::HealthStatus;
use tend_shared::policy::Policy;

use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::service;
use crate::state::AppState;
use crate::store::{AuditFilter, DeviceFilter};

#[derive(Debug, Deserialize)]
pub struct DeviceQuery {
    platform: Option<String>,
    health: Option<String>,
    /// Only devices not seen for at least this many seconds.
    last_seen_older_than_s: Option<u64>,
    /// Id prefix, hostname prefix or serial.
    q: Option<String>,
    limit: Option<usize>,
}

pub async fn list_devices(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DeviceQuery>,
) -> Result<Json<Vec<DeviceSummary>>, ApiError> {
    auth.require(&state, Role::Viewer, "device.list")?;
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
    };
    let st = state.clone();
    let mut list = tokio::task::spawn_blocking(move || service::devices::list(&st, &filter))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    if let Some(n) = q.limit {
        list.truncate(n);
    }
    Ok(Json(list))
}

pub async fn device(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceDetail>, ApiError> {
    auth.require(&state, Role::Viewer, "device.read")?;
    service::devices::detail(&state, &id).map(Json)
}

#[derive(Debug, Deserialize)]
pub struct AssetQuery {
    state: Option<AssetState>,
    owner: Option<String>,
}

pub async fn list_assets(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AssetQuery>,
) -> Result<Json<Vec<Asset>>, ApiError> {
    auth.require(&state, Role::Viewer, "asset.list")?;
    let mut list: Vec<Asset> = state
        .store
        .assets()?
        .into_iter()
        .filter(|a| q.state.is_none_or(|s| a.state == s))
        .filter(|a| {
            q.owner
                .as_deref()
                .is_none_or(|o| a.owner.as_deref() == Some(o))
        })
        .collect();
    list.sort_by(|a, b| a.serial.cmp(&b.serial));
    Ok(Json(list))
}

pub async fn asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<tend_shared::devices::AssetDetail>, ApiError> {
    auth.require(&state, Role::Viewer, "asset.read")?;
    service::devices::asset_detail(&state, &id).map(Json)
}

pub async fn create_asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<AssetCreate>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let user = auth.require(&state, Role::Analyst, "asset.create")?;
    let asset = service::assets::create(&state, &user, req).await?;
    Ok((StatusCode::CREATED, Json(asset)))
}

pub async fn patch_asset(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<AssetPatch>,
) -> Result<Json<Asset>, ApiError> {
    let user = auth.require(&state, Role::Analyst, "asset.update")?;
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
    limit: Option<usize>,
}

pub async fn audit(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    auth.require(&state, Role::Admin, "audit.read")?;
    let f = AuditFilter {
        actor: q.actor,
        action_prefix: q.action,
        target: q.target,
        before_seq: q.before,
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    };
    Ok(Json(state.store.audit_entries(&f)?))
}

pub async fn policy(State(state): State<AppState>, auth: Auth) -> Result<Json<Policy>, ApiError> {
    auth.require(&state, Role::Viewer, "policy.read")?;
    Ok(Json(state.policy()))
}

pub async fn put_policy(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(p): ApiJson<Policy>,
) -> Result<Json<Policy>, ApiError> {
    let user = auth.require(&state, Role::Admin, "policy.update")?;
    service::policy::replace(&state, &user, p).await.map(Json)
}
