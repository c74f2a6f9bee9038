//! Enrollment: enroll secret + hardware identity → device id + device token.
//!
//! Re-enrolling a known hardware UUID keeps the device id and its asset and replaces
//! the token; a device whose serial matches a pre-registered asset is linked to it
//! and the asset becomes `deployed`.

use tend_shared::api::AuditOutcome;
use tend_shared::assets::{Asset, AssetState};
use tend_shared::devices::{DeviceEvent, EventSource};
use tend_shared::enroll::{EnrollRequest, EnrollResponse};

use super::check_text;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::{new_token, random_hex_id, token_hash, DeviceRecord, TokenKind, TokenRecord};

/// Validates the request, then creates or re-keys the device. Flushes before returning.
pub async fn enroll(state: &AppState, req: EnrollRequest) -> Result<EnrollResponse, ApiError> {
    let id = &req.identity;
    if !state.keys.enroll_secret_matches(&req.enroll_secret) {
        Metrics::inc(&state.metrics.enrollments_denied);
        state.audit(
            "anonymous",
            "device.enroll",
            "",
            AuditOutcome::Denied,
            serde_json::json!({"reason": "wrong enroll secret", "hostname": id.hostname, "hardware_uuid": id.hardware_uuid}),
        )?;
        state.store.flush().await?;
        return Err(ApiError::Unauthorized("wrong enroll secret".into()));
    }
    if id.hardware_uuid.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "identity.hardware_uuid is empty".into(),
        ));
    }
    check_text("identity.hardware_uuid", &id.hardware_uuid, 128)?;
    check_text("identity.hostname", &id.hostname, 255)?;
    check_text("agent_version", &req.agent_version, 64)?;
    for (name, v) in [
        ("serial", &id.serial),
        ("vendor", &id.vendor),
        ("model", &id.model),
    ] {
        if let Some(v) = v {
            check_text(name, v, 128)?;
        }
    }

    let now = state.now_ms();
    let token = new_token("tdv_");
    let token_hex = hex::encode(token_hash(&token));
    let existing = state.store.device_by_hardware_uuid(&id.hardware_uuid)?;
    let reenrolled = existing.is_some();
    let mut device = match existing {
        Some(mut d) => {
            if let Ok(old) = hex::decode(&d.token_hash) {
                state.store.remove_token_hash(&old)?;
            }
            d.token_hash = token_hex;
            d.hostname = id.hostname.clone();
            d.platform = id.platform;
            d.serial = id.serial.clone().or(d.serial);
            d.vendor = id.vendor.clone().or(d.vendor);
            d.model = id.model.clone().or(d.model);
            d.agent_version = req.agent_version.clone();
            // the reinstalled agent restarts its event numbering
            d.last_event_seq = 0;
            d
        }
        None => DeviceRecord {
            id: random_hex_id::<8>(),
            hardware_uuid: id.hardware_uuid.clone(),
            serial: id.serial.clone(),
            hostname: id.hostname.clone(),
            platform: id.platform,
            vendor: id.vendor.clone(),
            model: id.model.clone(),
            os: String::new(),
            agent_version: req.agent_version.clone(),
            enrolled_at_ms: now,
            last_seen_ms: 0,
            health: Default::default(),
            asset_id: None,
            token_hash: token_hex,
            last_event_seq: 0,
            inventory_hash: String::new(),
            policy_version: 0,
            update: None,
            failed_versions: Vec::new(),
        },
    };

    link_asset(state, &mut device, now)?;
    state.store.put_device(&device)?;
    state.store.put_token(
        &token,
        &TokenRecord {
            kind: TokenKind::Device {
                device_id: device.id.clone(),
            },
            created_at_ms: now,
        },
    )?;
    state.store.append_collector_event(
        &device.id,
        &DeviceEvent {
            at_ms: now,
            source: EventSource::Collector,
            seq: None,
            kind: if reenrolled {
                "device.reenrolled"
            } else {
                "device.enrolled"
            }
            .into(),
            check_id: None,
            message: format!("{} enrolled (agent {})", device.hostname, req.agent_version),
            data: serde_json::Value::Null,
        },
    )?;
    state.audit(
        &format!("device:{}", device.id),
        "device.enroll",
        &device.id,
        AuditOutcome::Success,
        serde_json::json!({"hostname": device.hostname, "reenrolled": reenrolled, "asset_id": device.asset_id}),
    )?;
    state.store.flush().await?;
    Metrics::inc(&state.metrics.enrollments);
    tracing::info!(device = %device.id, hostname = %device.hostname, reenrolled, "device enrolled");

    Ok(EnrollResponse {
        device_id: device.id,
        device_token: token,
        reenrolled,
        signing_public_key: state.keys.signing_public_key(),
        policy: state.policy(),
    })
}

/// Ties the device to an asset: its own, a pre-registered one with its serial, or a
/// new one. A linked asset that was ordered or in stock becomes deployed.
fn link_asset(state: &AppState, device: &mut DeviceRecord, now: u64) -> Result<(), ApiError> {
    let store = &state.store;
    let mut asset = match &device.asset_id {
        Some(aid) => store.asset(aid)?,
        None => None,
    };
    if asset.is_none() {
        if let Some(serial) = device.serial.as_deref().filter(|s| !s.trim().is_empty()) {
            asset = store
                .asset_by_serial(serial)?
                .filter(|a| a.device_id.as_deref().is_none_or(|d| d == device.id));
        }
    }
    let mut asset = asset.unwrap_or_else(|| Asset {
        id: format!("a_{}", random_hex_id::<6>()),
        serial: device.serial.clone().unwrap_or_default(),
        model: device.model.clone(),
        hostname: None,
        owner: None,
        location: None,
        state: AssetState::InStock,
        criticality: Default::default(),
        purchase_date: None,
        warranty_end: None,
        notes: String::new(),
        device_id: None,
        created_at_ms: now,
        updated_at_ms: now,
        deployed_at_ms: None,
    });
    asset.device_id = Some(device.id.clone());
    asset.hostname = Some(device.hostname.clone());
    if asset.model.is_none() {
        asset.model = device.model.clone();
    }
    if matches!(asset.state, AssetState::Ordered | AssetState::InStock) {
        let from = asset.state;
        asset.state = AssetState::Deployed;
        asset.deployed_at_ms.get_or_insert(now);
        asset.device_id = Some(device.id.clone());
        super::assets::record_state_change(state, &asset, from, now, "at enrollment")?;
    }
    asset.updated_at_ms = now;
    store.put_asset(&asset)?;
    device.asset_id = Some(asset.id);
    Ok(())
}
