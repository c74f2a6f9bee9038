//! Analyst endpoints for devices: the filtered, paged list, one device's detail and
//! its event history.

use axum::extract::State;
use axum::Json;
use tend_shared::api::{Page, Role};
use tend_shared::devices::{DeviceDetail, DeviceSummary};
use tend_shared::enroll::Platform;
use tend_shared::health::HealthStatus;

use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::fleet::DeviceFilter;
use crate::fleet::DeviceSort;
use crate::state::AppState;
use crate::store::paging;
use crate::users::auth::Auth;
use tend_shared::query::{DeviceQuery, EventQuery};

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
    crate::devices::list(&state, &filter, cursor.as_ref(), paging::limit(q.limit))
        .await
        .map(Json)
}

pub async fn device(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceDetail>, ApiError> {
    auth.require(&state, Role::Viewer, "device.read").await?;
    crate::devices::detail(&state, &id).await.map(Json)
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
