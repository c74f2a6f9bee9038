//! Device list and detail views for analysts.

use tend_shared::devices::{DeviceDetail, DeviceSummary};
use tend_shared::health::HealthStatus;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::DeviceFilter;

/// Devices matching `filter`, most recently seen first.
pub fn list(state: &AppState, filter: &DeviceFilter) -> Result<Vec<DeviceSummary>, ApiError> {
    let mut out: Vec<DeviceSummary> = state
        .store
        .devices(filter)?
        .iter()
        .map(|d| d.summary())
        .collect();
    out.sort_by(|a, b| {
        b.last_seen_ms
            .cmp(&a.last_seen_ms)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

/// Inventory, health, asset and recent events of one device.
pub fn detail(state: &AppState, id: &str) -> Result<DeviceDetail, ApiError> {
    let store = &state.store;
    let device = store
        .device(id)?
        .ok_or_else(|| ApiError::not_found("device", id))?;
    let (inventory_updated_ms, inventory) = match store.inventory(id)? {
        Some((at, inv)) => (at, Some(inv)),
        None => (0, None),
    };
    let (health_updated_ms, health) = store.health(id)?.unwrap_or_default();
    let asset = match &device.asset_id {
        Some(a) => store.asset(a)?,
        None => None,
    };
    Ok(DeviceDetail {
        device: device.summary(),
        inventory,
        inventory_updated_ms,
        health,
        health_updated_ms,
        asset,
        events: store.recent_events(id, state.limits.device_events)?,
        tickets: tickets_of(state, |t| t.device_id == id)?,
        reenroll_request: store
            .reenroll_request(&device.hardware_uuid)?
            .filter(|r| r.device_id == device.id),
    })
}

/// Tickets matching `f`: open ones first, then the 20 most recent others.
pub fn tickets_of(
    state: &AppState,
    f: impl Fn(&tend_shared::tickets::Ticket) -> bool,
) -> Result<Vec<tend_shared::tickets::Ticket>, ApiError> {
    let mut all: Vec<_> = crate::tickets::all_views(state)?
        .into_iter()
        .filter(|t| f(t))
        .collect();
    all.sort_by(|a, b| {
        b.status
            .is_open()
            .cmp(&a.status.is_open())
            .then(b.updated_at_ms.cmp(&a.updated_at_ms))
    });
    let open = all.iter().filter(|t| t.status.is_open()).count();
    all.truncate(open + 20);
    Ok(all)
}

/// An asset with its lifecycle events and tickets.
pub fn asset_detail(
    state: &AppState,
    id: &str,
) -> Result<tend_shared::devices::AssetDetail, ApiError> {
    let asset = state
        .store
        .asset(id)?
        .ok_or_else(|| ApiError::not_found("asset", id))?;
    Ok(tend_shared::devices::AssetDetail {
        events: state
            .store
            .recent_events(&asset.id, state.limits.device_events)?,
        tickets: tickets_of(state, |t| t.asset_id.as_deref() == Some(id))?,
        asset,
    })
}

/// Device counts per health status (for `/metrics`).
pub fn count_by_health(state: &AppState) -> Result<Vec<(HealthStatus, u64)>, ApiError> {
    let mut counts = [0u64; 4];
    for d in state.store.devices(&DeviceFilter::default())? {
        counts[HealthStatus::ALL
            .iter()
            .position(|h| *h == d.health)
            .unwrap_or(0)] += 1;
    }
    Ok(HealthStatus::ALL.into_iter().zip(counts).collect())
}
