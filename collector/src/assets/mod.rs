//! Asset management: register (possibly before the laptop arrives), edit, list.
//! Lifecycle changes become events on the linked device's timeline.

pub mod decommission;
pub mod routes;
mod store;

pub use store::{normalize_serial, AssetRecord};

use tend_shared::api::AuditOutcome;
use tend_shared::assets::{valid_date, Asset, AssetCreate, AssetPatch, AssetState};
use tend_shared::devices::{DeviceEvent, EventSource};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{random_hex_id, Tx};
use crate::text::check_text;
use crate::users::auth::ApiUser;

fn check_dates(purchase: &Option<String>, warranty: &Option<String>) -> Result<(), ApiError> {
    for (name, v) in [("purchase_date", purchase), ("warranty_end", warranty)] {
        if let Some(d) = v {
            if !valid_date(d) {
                return Err(ApiError::BadRequest(format!(
                    "{name} must be YYYY-MM-DD, got {d:?}"
                )));
            }
        }
    }
    Ok(())
}

fn check_fields(
    model: &Option<String>,
    owner: &Option<String>,
    location: &Option<String>,
    notes: &Option<String>,
) -> Result<(), ApiError> {
    for (name, v, max) in [
        ("model", model, 200),
        ("owner", owner, 200),
        ("location", location, 200),
    ] {
        if let Some(v) = v {
            check_text(name, v, max)?;
        }
    }
    if let Some(n) = notes {
        if n.len() > 10_000 {
            return Err(ApiError::BadRequest(
                "notes is longer than 10000 bytes".into(),
            ));
        }
    }
    Ok(())
}

/// The `asset.state_changed` event, recorded on the asset's timeline and its device's.
pub(crate) async fn record_state_change(
    tx: &mut Tx,
    asset: &Asset,
    from: AssetState,
    at_ms: u64,
    by: &str,
) -> Result<(), ApiError> {
    let ev = DeviceEvent {
        at_ms,
        source: EventSource::Collector,
        seq: None,
        kind: "asset.state_changed".into(),
        check_id: None,
        message: format!(
            "asset {} {} → {} {by}",
            asset.id,
            from.as_str(),
            asset.state.as_str()
        ),
        data: serde_json::json!({"asset_id": asset.id, "from": from, "to": asset.state, "device_id": asset.device_id}),
    };
    tx.append_collector_event(&asset.id, &ev).await?;
    if let Some(dev) = &asset.device_id {
        tx.append_collector_event(dev, &ev).await?;
    }
    Ok(())
}

/// Registers an asset by serial. A serial already registered is a 409.
pub async fn create(state: &AppState, user: &ApiUser, req: AssetCreate) -> Result<Asset, ApiError> {
    let serial = req.serial.trim();
    if serial.is_empty() {
        return Err(ApiError::BadRequest("serial is required".into()));
    }
    check_text("serial", serial, 128)?;
    check_fields(&req.model, &req.owner, &req.location, &req.notes)?;
    check_dates(&req.purchase_date, &req.warranty_end)?;
    let now = state.now_ms();
    let asset_state = req.state.unwrap_or(AssetState::Ordered);
    let asset = Asset {
        id: format!("a_{}", random_hex_id::<6>()),
        serial: serial.to_string(),
        model: req.model,
        hostname: None,
        owner: req.owner,
        location: req.location,
        state: asset_state,
        criticality: req.criticality.unwrap_or_default(),
        purchase_date: req.purchase_date,
        warranty_end: req.warranty_end,
        notes: req.notes.unwrap_or_default(),
        device_id: None,
        created_at_ms: now,
        updated_at_ms: now,
        deployed_at_ms: (asset_state == AssetState::Deployed).then_some(now),
    };
    crate::commit!(state.store, tx => {
        // the serial key is read and written here: two registrations of one serial
        // conflict, and the one that runs again sees the other
        if let Some(existing) = tx.asset_by_serial(serial).await? {
            return Err(ApiError::Conflict(format!(
                "serial {serial} is already asset {}",
                existing.id
            )));
        }
        tx.put_asset(&asset).await?;
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "asset.create",
                &asset.id,
                AuditOutcome::Success,
                serde_json::json!({"serial": asset.serial, "state": asset.state}),
            )
            .await?;
        Ok(())
    })?;
    Ok(asset)
}

/// Whether a PATCH may move an asset from `from` to `to`: freely among ordered, in
/// stock, deployed and in repair; never into or out of offboarding (collecting,
/// wiping) or retirement, which only `offboard` does one audited step at a time, so
/// no PATCH skips the collect and the wipe.
pub fn patch_transition(from: AssetState, to: AssetState) -> Result<(), String> {
    use AssetState::*;
    if from == to {
        return Ok(());
    }
    match (from, to) {
        (Ordered | InStock | Deployed | InRepair, Ordered | InStock | Deployed | InRepair) => Ok(()),
        (_, Collecting | Wiping | Retired) => Err(format!(
            "an asset becomes {} only through offboarding (collect, then wipe, then retire: POST /api/v1/assets/{{id}}/offboard)",
            to.as_str().replace('_', " ")
        )),
        _ => Err(format!(
            "the asset is {}: offboarding goes on through POST /api/v1/assets/{{id}}/offboard, and a retired asset stays retired",
            from.as_str().replace('_', " ")
        )),
    }
}

/// Applies a partial update; a state change is an event on the device's timeline.
pub async fn patch(
    state: &AppState,
    user: &ApiUser,
    id: &str,
    p: AssetPatch,
) -> Result<Asset, ApiError> {
    check_fields(&p.model, &p.owner, &p.location, &p.notes)?;
    check_dates(&p.purchase_date, &p.warranty_end)?;
    let now = state.now_ms();
    let asset = crate::commit!(state.store, tx => {
        patch_in(state, &mut tx, user, id, &p, now).await
    })?;
    Ok(asset)
}

async fn patch_in(
    state: &AppState,
    tx: &mut Tx,
    user: &ApiUser,
    id: &str,
    p: &AssetPatch,
    now: u64,
) -> Result<Asset, ApiError> {
    let mut asset = tx
        .asset(id)
        .await?
        .ok_or_else(|| ApiError::not_found("asset", id))?;
    let before = asset.clone();
    let p = p.clone();
    if let Some(v) = p.model {
        asset.model = Some(v)
    }
    if let Some(v) = p.owner {
        asset.owner = Some(v)
    }
    if let Some(v) = p.location {
        asset.location = Some(v)
    }
    if let Some(v) = p.criticality {
        asset.criticality = v
    }
    if let Some(v) = p.purchase_date {
        asset.purchase_date = Some(v)
    }
    if let Some(v) = p.warranty_end {
        asset.warranty_end = Some(v)
    }
    if let Some(v) = p.notes {
        asset.notes = v
    }
    if let Some(s) = p.state {
        patch_transition(asset.state, s).map_err(ApiError::Conflict)?;
        asset.state = s;
        if s == AssetState::Deployed {
            asset.deployed_at_ms.get_or_insert(now);
        }
    }
    asset.updated_at_ms = now;
    tx.put_asset(&asset).await?;
    if before.owner != asset.owner {
        // the device is searchable by its asset's owner
        if let Some(dev) = &asset.device_id {
            let owner = asset.owner.clone();
            tx.update_device(dev, |d| d.owner = owner).await?;
        }
    }
    if before.state != asset.state {
        record_state_change(tx, &asset, before.state, now, &format!("by {}", user.name)).await?;
    }
    let diff = serde_json::json!({
        "before": serde_json::to_value(&before).unwrap_or_default(),
        "after": serde_json::to_value(&asset).unwrap_or_default(),
    });
    state
        .audit_in(
            tx,
            &user.actor(),
            "asset.update",
            &asset.id,
            AuditOutcome::Success,
            diff,
        )
        .await?;
    Ok(asset)
}

/// Offboarding, one audited step at a time: `collect` (from deployed, in stock or in
/// repair) → `wipe` → `retire`; retiring decommissions the asset's device (token
/// revoked, open tickets closed) in the same unit of work.
pub async fn offboard(
    state: &AppState,
    user: &ApiUser,
    id: &str,
    req: &tend_shared::assets::Offboard,
) -> Result<Asset, ApiError> {
    use AssetState::*;
    let now = state.now_ms();
    let note = crate::text::text(&req.note, 500);
    let a = crate::commit!(state.store, tx => {
        let mut a = tx.asset(id).await?.ok_or_else(|| ApiError::not_found("asset", id))?;
        let from = a.state;
        let to = match (req.step.as_str(), from) {
            ("collect", Deployed | InStock | InRepair) => Collecting,
            ("wipe", Collecting) => Wiping,
            ("retire", Wiping) => Retired,
            ("collect" | "wipe" | "retire", _) => {
                return Err(ApiError::Conflict(format!(
                    "{id} is {}: offboarding goes collect (from deployed, in stock or in repair), then wipe, then retire",
                    from.as_str().replace('_', " ")
                )))
            }
            (other, _) => return Err(ApiError::BadRequest(format!("unknown step {other:?} (collect|wipe|retire)"))),
        };
        let device = a.device_id.clone();
        match (&device, to) {
            // the device goes with it: token revoked, open tickets closed, asset retired
            (Some(dev), Retired) => {
                crate::assets::decommission::decommission_in(state, &mut tx, user, dev, now).await?;
                a = tx.asset(id).await?.ok_or_else(|| ApiError::not_found("asset", id))?;
            }
            _ => {
                a.state = to;
                a.updated_at_ms = now;
                tx.put_asset(&a).await?;
                record_state_change(&mut tx, &a, from, now, "offboarding").await?;
            }
        }
        state.audit_in(&mut tx, &user.actor(), &format!("asset.offboard.{}", req.step), id,
            AuditOutcome::Success,
            serde_json::json!({"from": from, "to": to, "note": note, "device": device})).await?;
        Ok(a)
    })?;
    Ok(a)
}
