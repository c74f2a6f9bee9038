//! Device list and detail views for analysts.

pub mod routes;

use tend_shared::devices::{DeviceDetail, DeviceSummary};
use tend_shared::health::HealthStatus;

use crate::error::ApiError;
use crate::fleet::DeviceFilter;
use crate::state::AppState;
use crate::store::{Cursor, Page};
use crate::tickets::TicketFilter;

/// One page of the devices matching `filter` (see `Tx::devices_page` for the order).
pub async fn list(
    state: &AppState,
    filter: &DeviceFilter,
    cursor: Option<&Cursor>,
    limit: usize,
) -> Result<Page<DeviceSummary>, ApiError> {
    let page = state
        .store
        .read()
        .devices_page(filter, cursor, limit)
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(Page {
        items: page.items.iter().map(|d| d.summary()).collect(),
        next: page.next,
    })
}

/// Inventory, health, asset and recent events of one device.
pub async fn detail(state: &AppState, id: &str) -> Result<DeviceDetail, ApiError> {
    let mut r = state.store.read();
    let device = r
        .device(id)
        .await?
        .ok_or_else(|| ApiError::not_found("device", id))?;
    let (inventory_updated_ms, inventory) = match r.inventory(id).await? {
        Some((at, inv)) => (at, Some(inv)),
        None => (0, None),
    };
    let (health_updated_ms, health) = r.health(id).await?.unwrap_or_default();
    let asset = match &device.asset_id {
        Some(a) => r.asset(a).await?,
        None => None,
    };
    let events = r.recent_events(id, state.limits.device_events).await?;
    let reenroll_request = r
        .reenroll_request(&device.hardware_uuid)
        .await?
        .filter(|req| req.device_id == device.id);
    let tickets = tickets_of(
        state,
        TicketFilter {
            device: Some(id.to_string()),
            ..Default::default()
        },
    )
    .await?;
    Ok(DeviceDetail {
        device: device.summary(),
        inventory,
        inventory_updated_ms,
        health,
        health_updated_ms,
        asset,
        events,
        tickets,
        reenroll_request,
    })
}

/// Tickets matching `base`: the open ones (up to 500), then the 20 most recent others.
pub async fn tickets_of(
    state: &AppState,
    base: TicketFilter,
) -> Result<Vec<tend_shared::tickets::Ticket>, ApiError> {
    let (settings, now) = (state.ticket_settings(), state.now_ms());
    let mut r = state.store.read();
    let mut out = Vec::new();
    for (open, limit) in [(true, 500), (false, 20)] {
        let f = TicketFilter {
            open: Some(open),
            ..base.clone()
        };
        let page = r
            .tickets_page(&f, &settings, now, None, limit)
            .await?
            .map_err(ApiError::Internal)?;
        out.extend(
            page.items
                .iter()
                .map(|t| crate::tickets::view_at(t, &settings, now)),
        );
    }
    Ok(out)
}

/// An asset with its lifecycle events and tickets.
pub async fn asset_detail(
    state: &AppState,
    id: &str,
) -> Result<tend_shared::devices::AssetDetail, ApiError> {
    let mut r = state.store.read();
    let asset = r
        .asset(id)
        .await?
        .ok_or_else(|| ApiError::not_found("asset", id))?;
    let events = r
        .recent_events(&asset.id, state.limits.device_events)
        .await?;
    let tickets = tickets_of(
        state,
        TicketFilter {
            asset: Some(id.to_string()),
            ..Default::default()
        },
    )
    .await?;
    Ok(tend_shared::devices::AssetDetail {
        events,
        tickets,
        asset,
    })
}

/// Device counts per health status (for `/metrics`): counters, not a scan.
pub async fn count_by_health(state: &AppState) -> Result<Vec<(HealthStatus, u64)>, ApiError> {
    let c = state.store.read().counts().await?;
    Ok(HealthStatus::ALL
        .into_iter()
        .map(|h| (h, c.by_health.get(h.as_str()).copied().unwrap_or(0)))
        .collect())
}
