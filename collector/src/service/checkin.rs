//! Check-in ingest: inventory (only when its hash changed), latest health, agent
//! events (each seq once; check state changes arrive as agent events), and
//! collector-derived events for inventory changes. Everything is flushed before the response.

use tend_shared::checkin::{CheckinRequest, CheckinResponse};
use tend_shared::devices::{DeviceEvent, EventSource};
use tend_shared::health::HealthStatus;

use super::{check_text, inventory_diff};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::DeviceRecord;

/// Most events accepted in one check-in (the spool sends the rest next time).
pub const MAX_EVENTS_PER_CHECKIN: usize = 500;
/// Most check results in one report.
pub const MAX_CHECKS: usize = 512;

fn validate(req: &CheckinRequest) -> Result<(), ApiError> {
    check_text("agent_version", &req.agent_version, 64)?;
    if req.events.len() > MAX_EVENTS_PER_CHECKIN {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_EVENTS_PER_CHECKIN} events per check-in, got {}",
            req.events.len()
        )));
    }
    if req.health.len() > MAX_CHECKS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_CHECKS} check results"
        )));
    }
    for c in &req.health {
        check_text("health[].id", &c.id, 200)?;
    }
    for e in &req.events {
        check_text("events[].kind", &e.kind, 100)?;
    }
    Ok(())
}

/// Applies one check-in from `device`.
pub async fn checkin(
    state: &AppState,
    device: DeviceRecord,
    req: CheckinRequest,
) -> Result<CheckinResponse, ApiError> {
    validate(&req)?;
    let store = &state.store;
    let now = state.now_ms();
    let observed = if req.observed_at_ms == 0 || req.observed_at_ms > now {
        now
    } else {
        req.observed_at_ms
    };
    let id = device.id.as_str();

    // inventory
    let mut inventory_hash = device.inventory_hash.clone();
    let mut os = device.os.clone();
    let mut hostname = device.hostname.clone();
    let mut need_inventory = false;
    match &req.inventory {
        Some(inv) => {
            let hash = inv.content_hash();
            if hash != device.inventory_hash {
                if let Some((_, old)) = store.inventory(id)? {
                    for c in inventory_diff::changes(&old, inv) {
                        store.append_collector_event(
                            id,
                            &DeviceEvent {
                                at_ms: observed,
                                source: EventSource::Collector,
                                seq: None,
                                kind: c.kind.into(),
                                check_id: None,
                                message: c.message,
                                data: c.data,
                            },
                        )?;
                    }
                }
                Metrics::inc(&state.metrics.inventory_updates);
            }
            // always store: free space and uptime are fresh even when the hash is not
            store.put_inventory(id, observed, inv)?;
            inventory_hash = hash;
            os = format!("{} {}", inv.os.name, inv.os.version)
                .trim()
                .to_string();
            if !inv.hostname.is_empty() {
                hostname = inv.hostname.clone();
            }
        }
        None => need_inventory = req.inventory_hash != device.inventory_hash,
    }

    // health: a spooled report older than what we hold does not overwrite it
    let previous = store.health(id)?;
    let stale = previous.as_ref().is_some_and(|(at, _)| *at > observed);
    let mut health = device.health;
    if !stale && !req.health.is_empty() {
        store.put_health(id, observed, &req.health)?;
        health = HealthStatus::from_results(&req.health);
    }

    // agent events, each seq once
    let mut last_seq = device.last_event_seq;
    let mut update = device.update.clone();
    let mut failed_versions = device.failed_versions.clone();
    let mut crashes = Vec::new();
    for e in req.events.iter().filter(|e| e.seq > device.last_event_seq) {
        store.put_agent_event(
            id,
            e.seq,
            &DeviceEvent {
                at_ms: e.at_ms,
                source: EventSource::Agent,
                seq: Some(e.seq),
                kind: e.kind.clone(),
                check_id: e.check_id.clone(),
                message: e.message.clone(),
                data: e.data.clone(),
            },
        )?;
        if e.kind == "remediation.deflected" {
            store.record_deflection(e.at_ms, id, e.check_id.as_deref().unwrap_or(""))?;
        } else if e.kind == "crash" {
            crashes.push(e);
        } else if let Some(u) = crate::releases::on_update_event(state, id, e)? {
            if u.state.is_permanent_failure() && !failed_versions.contains(&u.target_version) {
                failed_versions.push(u.target_version.clone());
            }
            update = Some(u);
        }
        last_seq = last_seq.max(e.seq);
    }

    // tickets: passing checks count toward auto-resolve; a silent device is back
    crate::tickets::on_checkin(state, id, if stale { &[] } else { &req.health }).await?;
    for e in crashes {
        crate::tickets::crashes::on_crash(state, &device, e).await?;
    }

    let policy = state.policy();
    let updated = store
        .update_device(id, |d| {
            d.last_seen_ms = d.last_seen_ms.max(now);
            d.agent_version = req.agent_version.clone();
            d.health = health;
            d.os = os.clone();
            d.hostname = hostname.clone();
            d.inventory_hash = inventory_hash.clone();
            d.last_event_seq = d.last_event_seq.max(last_seq);
            d.policy_version = req.policy_version;
            d.update = update.clone();
            d.failed_versions = failed_versions.clone();
        })?
        .ok_or_else(|| ApiError::Unauthorized("device no longer enrolled".into()))?;
    let release =
        crate::releases::offer_for(state, &updated, &req.agent_version, req.release_platform)?;
    store.flush().await?;
    Metrics::inc(&state.metrics.checkins);

    Ok(CheckinResponse {
        policy_version: policy.version,
        policy: (req.policy_version != policy.version).then_some(policy),
        need_inventory,
        acked_event_seq: updated.last_event_seq,
        jobs: Vec::new(),
        server_time_ms: now,
        release,
    })
}
