//! Enrollment: enroll secret (or an expiring enrollment token) + hardware identity →
//! device id + device token.
//!
//! A known hardware UUID keeps its device id and asset, but the secret alone never
//! moves it: re-enrolling must prove it is that device (its current token, or a
//! signature by the key the agent made at first enrollment), or an analyst approves
//! the request. A device whose serial matches a pre-registered asset is linked to it
//! and the asset becomes `deployed`. Wrong secrets are rate-limited per address and
//! audited without a flush of their own.

pub mod routes;
mod store;
pub mod tokens;

pub use store::{ReenrollRequest, TokenUse};

use tend_shared::api::AuditOutcome;
use tend_shared::assets::{Asset, AssetState};
use tend_shared::devices::{DeviceEvent, EventSource};
use tend_shared::enroll::{EnrollRequest, EnrollResponse};

use crate::error::ApiError;
use crate::fleet::DeviceRecord;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::{random_hex_id, Tx};
use crate::text::check_text;
use crate::users::new_token;
use crate::users::token_hash;
use crate::users::TokenKind;
use crate::users::TokenRecord;

/// How long an analyst's approval of a re-enrollment stays usable.
pub const REENROLL_APPROVAL_MS: u64 = 24 * 3_600_000;
/// How far a re-enrollment signature's time may be from the collector's clock.
pub const PROOF_SKEW_MS: u64 = 10 * 60_000;

/// Shape checks, first: nothing unvalidated reaches the audit log or the store.
fn validate(req: &EnrollRequest) -> Result<(), ApiError> {
    let id = &req.identity;
    if id.hardware_uuid.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "identity.hardware_uuid is empty".into(),
        ));
    }
    check_text("identity.hardware_uuid", &id.hardware_uuid, 128)?;
    check_text("identity.hostname", &id.hostname, 255)?;
    check_text("agent_version", &req.agent_version, 64)?;
    check_text("enroll_secret", &req.enroll_secret, 256)?;
    for (name, v) in [
        ("serial", &id.serial),
        ("vendor", &id.vendor),
        ("model", &id.model),
        ("device_key", &req.device_key),
    ] {
        if let Some(v) = v {
            check_text(name, v, 128)?;
        }
    }
    if let Some(p) = &req.proof {
        for (name, v) in [
            ("proof.previous_token", &p.previous_token),
            ("proof.signature", &p.signature),
        ] {
            if let Some(v) = v {
                check_text(name, v, 256)?;
            }
        }
    }
    Ok(())
}

/// A refused enrollment: rate-limited per source address, audited (without a flush of
/// its own) while under the limit, answered with `err`.
async fn refuse(
    state: &AppState,
    source: &str,
    action: &str,
    detail: serde_json::Value,
    err: ApiError,
) -> ApiError {
    Metrics::inc(&state.metrics.enrollments_denied);
    if let Err(wait) = state.rates.enroll_failures.check(source, state.now_ms()) {
        return ApiError::rate_limited("refused enrollments from this address", wait);
    }
    if let Err(e) = state
        .audit("anonymous", action, "", AuditOutcome::Denied, detail)
        .await
    {
        return e.into();
    }
    err
}

/// Does the request prove it comes from `d` (its current token, or a fresh signature
/// by the key it enrolled with)? A decommissioned device proves nothing.
fn proves(d: &DeviceRecord, req: &EnrollRequest, now: u64) -> bool {
    let Some(p) = &req.proof else { return false };
    if d.decommissioned_at_ms.is_some() {
        return false;
    }
    if let Some(t) = &p.previous_token {
        if hex::encode(token_hash(t)) == d.token_hash {
            return true;
        }
    }
    match (&p.signature, &d.device_key) {
        (Some(sig), Some(key)) if now.abs_diff(p.signed_at_ms) <= PROOF_SKEW_MS => {
            let msg = tend_shared::signing::reenroll_message(&d.hardware_uuid, p.signed_at_ms);
            tend_shared::signing::verify_b64(key, &msg, sig).is_ok()
        }
        _ => false,
    }
}

/// Validates the request, checks the secret (fleet secret or enrollment token), then
/// creates the device or — only with proof or an analyst's approval — re-keys a known
/// one. `source` is the client address (rate limits). Flushes before returning.
pub async fn enroll(
    state: &AppState,
    req: EnrollRequest,
    source: &str,
) -> Result<EnrollResponse, ApiError> {
    validate(&req)?;
    let id = &req.identity;
    let now = state.now_ms();
    if let Err(wait) = state.rates.enrollments.check(source, now) {
        Metrics::inc(&state.metrics.enrollments_denied);
        return Err(ApiError::rate_limited(
            "enrollments from this address",
            wait,
        ));
    }
    let detail = serde_json::json!({"hostname": id.hostname, "hardware_uuid": id.hardware_uuid, "source": source});
    let fleet = state.keys.enroll_secret_matches(&req.enroll_secret);
    if !fleet {
        let why = if req.enroll_secret.starts_with("tet_") {
            match state
                .store
                .read()
                .peek_enroll_token(&req.enroll_secret, now)
                .await?
            {
                Ok(_) => None,
                Err(TokenUse::Expired) => Some("enrollment token expired"),
                Err(TokenUse::UsedUp) => Some("enrollment token used up"),
                Err(TokenUse::Revoked) => Some("enrollment token revoked"),
                Err(TokenUse::Unknown) => Some("unknown enrollment token"),
            }
        } else {
            Some("wrong enroll secret")
        };
        if let Some(why) = why {
            let mut d = detail.clone();
            d["reason"] = why.into();
            return Err(refuse(
                state,
                source,
                "device.enroll",
                d,
                ApiError::Unauthorized(why.into()),
            )
            .await);
        }
    }

    let outcome = crate::commit!(state.store, tx => {
        enroll_in(state, &mut tx, &req, source, fleet, now).await
    })?;
    let (device, token, reenrolled) = match outcome {
        Enrolled::Done {
            device,
            token,
            reenrolled,
        } => (device, token, reenrolled),
        Enrolled::NeedsApproval(d) => {
            let mut dd = detail.clone();
            dd["reason"] = "known hardware without proof".into();
            let err = ApiError::Refused {
                status: axum::http::StatusCode::FORBIDDEN,
                code: "reenroll_needs_approval",
                message: format!(
                    "this hardware is already enrolled as device {} ({}); enrolling it again needs its current credentials, or an analyst's approval: `tendctl device {} --approve-reenroll`",
                    d.id, d.hostname, d.id
                ),
            };
            return Err(refuse(state, source, "device.reenroll", dd, err).await);
        }
    };
    Metrics::inc(&state.metrics.enrollments);
    tracing::info!(device = %device.id, hostname = %device.hostname, reenrolled, "device enrolled");

    Ok(EnrollResponse {
        device_id: device.id.clone(),
        device_token: token,
        reenrolled,
        signing_public_key: state.keys.signing_public_key(),
        policy: (*state.policy()).clone(),
    })
}

/// What the enrollment unit did.
enum Enrolled {
    Done {
        device: Box<DeviceRecord>,
        token: String,
        reenrolled: bool,
    },
    /// Known hardware without proof: a re-enrollment request waits for an analyst.
    NeedsApproval(Box<DeviceRecord>),
}

async fn enroll_in(
    state: &AppState,
    tx: &mut Tx,
    req: &EnrollRequest,
    source: &str,
    fleet: bool,
    now: u64,
) -> Result<Enrolled, ApiError> {
    let id = &req.identity;
    let existing = tx.device_by_hardware_uuid(&id.hardware_uuid).await?;
    if let Some(d) = &existing {
        let request = tx.reenroll_request(&id.hardware_uuid).await?;
        let live = request.as_ref().is_some_and(|r| {
            r.approved_at_ms
                .is_some_and(|a| now.saturating_sub(a) <= REENROLL_APPROVAL_MS)
        });
        let approved = live
            && request
                .as_ref()
                .is_some_and(|r| r.device_key == req.device_key);
        if !proves(d, req, now) && !approved {
            // a live approval is kept: another key's attempt does not undo it
            if !live {
                tx.put_reenroll_request(&ReenrollRequest {
                    device_id: d.id.clone(),
                    hardware_uuid: id.hardware_uuid.clone(),
                    device_key: req.device_key.clone(),
                    hostname: id.hostname.clone(),
                    requested_at_ms: now,
                    source: source.to_string(),
                    approved_by: None,
                    approved_at_ms: None,
                });
            }
            return Ok(Enrolled::NeedsApproval(Box::new(d.clone())));
        }
    }
    // the enrollment token's use is taken only now, when the enrollment will happen
    if !fleet {
        if let Err(why) = tx.use_enroll_token(&req.enroll_secret, now).await? {
            return Err(ApiError::Unauthorized(
                format!("enrollment token {why:?}").to_lowercase(),
            ));
        }
    }

    let token = new_token("tdv_");
    let token_hex = hex::encode(token_hash(&token));
    let reenrolled = existing.is_some();
    let mut device = match existing {
        Some(mut d) => {
            if let Ok(old) = hex::decode(&d.token_hash) {
                tx.remove_token_hash(&old).await?;
            }
            tx.remove_reenroll_request(&id.hardware_uuid);
            d.token_hash = token_hex;
            d.hostname = id.hostname.clone();
            d.platform = id.platform;
            d.serial = id.serial.clone().or(d.serial);
            d.vendor = id.vendor.clone().or(d.vendor);
            d.model = id.model.clone().or(d.model);
            d.agent_version = req.agent_version.clone();
            d.device_key = req.device_key.clone().or(d.device_key);
            d.decommissioned_at_ms = None;
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
            owner: None,
            token_hash: token_hex,
            last_event_seq: 0,
            inventory_hash: String::new(),
            policy_version: 0,
            update: None,
            failed_versions: Vec::new(),
            device_key: req.device_key.clone(),
            decommissioned_at_ms: None,
            health_at_ms: 0,
            health_hash: None,
        },
    };

    link_asset(tx, &mut device, now).await?;
    tx.put_device(&device).await?;
    tx.put_token(
        &token,
        &TokenRecord {
            kind: TokenKind::Device {
                device_id: device.id.clone(),
            },
            created_at_ms: now,
        },
    );
    tx.append_collector_event(
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
    )
    .await?;
    state
        .audit_in(
            tx,
            &format!("device:{}", device.id),
            "device.enroll",
            &device.id,
            AuditOutcome::Success,
            serde_json::json!({"hostname": device.hostname, "reenrolled": reenrolled, "asset_id": device.asset_id, "with": if fleet { "fleet secret" } else { "enrollment token" }, "source": source}),
        )
        .await?;
    Ok(Enrolled::Done {
        device: Box::new(device),
        token,
        reenrolled,
    })
}

/// Ties the device to an asset: its own, a pre-registered one with its serial, or a
/// new one. A linked asset that was ordered or in stock becomes deployed.
async fn link_asset(tx: &mut Tx, device: &mut DeviceRecord, now: u64) -> Result<(), ApiError> {
    let mut asset = match &device.asset_id {
        Some(aid) => tx.asset(aid).await?,
        None => None,
    };
    if asset.is_none() {
        if let Some(serial) = device.serial.as_deref().filter(|s| !s.trim().is_empty()) {
            asset = tx
                .asset_by_serial(serial)
                .await?
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
        crate::assets::record_state_change(tx, &asset, from, now, "at enrollment").await?;
    }
    asset.updated_at_ms = now;
    tx.put_asset(&asset).await?;
    device.owner = asset.owner.clone();
    device.asset_id = Some(asset.id);
    Ok(())
}

/// What admins see of enrollments: re-enrollments waiting for approval, and the last
/// day's refused enrollments grouped by source address (from the audit log).
pub async fn view(state: &AppState) -> Result<tend_shared::enroll::EnrollmentsView, ApiError> {
    let mut r = state.store.read();
    let pending: Vec<_> = r
        .reenroll_requests(10_000)
        .await?
        .into_iter()
        .filter(|q| q.approved_at_ms.is_none())
        .collect();
    let since = state.now_ms().saturating_sub(24 * 3_600_000);
    let filter = crate::store::AuditFilter {
        actor: Some("anonymous".into()),
        action_prefix: Some("device.".into()),
        from_ms: Some(since),
        ..Default::default()
    };
    let page = r
        .audit_page(&filter, None, 2_000)
        .await?
        .map_err(ApiError::BadRequest)?;
    let mut by: std::collections::BTreeMap<
        String,
        (u64, u64, std::collections::BTreeMap<String, u64>),
    > = Default::default();
    for e in page.items {
        let source = e.detail["source"].as_str().unwrap_or("?").to_string();
        let reason = e.detail["reason"].as_str().unwrap_or(&e.action).to_string();
        let slot = by.entry(source).or_default();
        slot.0 += 1;
        slot.1 = slot.1.max(e.at_ms);
        *slot.2.entry(reason).or_default() += 1;
    }
    let mut refused: Vec<_> = by
        .into_iter()
        .map(|(source, (attempts, last_at_ms, reasons))| {
            let mut reasons: Vec<(String, u64)> = reasons.into_iter().collect();
            reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
            tend_shared::enroll::RefusedEnrollments {
                source,
                attempts,
                last_at_ms,
                reasons: reasons.into_iter().map(|(r, _)| r).collect(),
            }
        })
        .collect();
    refused.sort_by_key(|r| std::cmp::Reverse(r.attempts));
    Ok(tend_shared::enroll::EnrollmentsView { pending, refused })
}
