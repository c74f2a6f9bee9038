//! Check-in ingest: inventory (only when its hash changed), latest health, agent
//! events (check state changes arrive as agent events), and collector-derived events
//! for inventory changes. Everything is flushed before the response.
//!
//! - Agent strings are bounded and cleaned here (`sanitize`), not refused: a device
//!   with odd text still checks in, and nothing derived from it can fail later.
//! - Events are keyed by (time, seq), so a replay overwrites itself; every event of
//!   the request is stored and the acknowledgement is the highest seq *of this
//!   request* — never a high-water mark that could cover events not stored. A seq at
//!   or below what the device sent before, under a new key, is a regression (a
//!   restored state dir): stored, recorded as `agent.events_regressed`, never dropped.
//! - A ticket derived from an event (repeated crashes) that cannot be filed is logged
//!   and counted; it never fails the check-in.

use tend_shared::checkin::{CheckinRequest, CheckinResponse};
use tend_shared::devices::{DeviceEvent, EventSource};
use tend_shared::health::HealthStatus;

use super::{inventory_diff, sanitize};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::DeviceRecord;

/// Most events accepted in one check-in (the spool sends the rest next time).
pub const MAX_EVENTS_PER_CHECKIN: usize = 500;
/// Most check results in one report.
pub const MAX_CHECKS: usize = 512;

fn validate(req: &mut CheckinRequest) -> Result<(), ApiError> {
    req.agent_version = sanitize::text(&req.agent_version, 64);
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
    req.health.iter_mut().for_each(sanitize::check);
    req.events.iter_mut().for_each(sanitize::event);
    if let Some(inv) = &mut req.inventory {
        sanitize::inventory(inv);
    }
    Ok(())
}

/// Applies one check-in from `device`.
pub async fn checkin(
    state: &AppState,
    device: DeviceRecord,
    mut req: CheckinRequest,
) -> Result<CheckinResponse, ApiError> {
    validate(&mut req)?;
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

    // agent events: all stored (a replay overwrites itself), side effects once
    let mut last_seq = device.last_event_seq;
    let mut acked = 0u64;
    let mut regressed: Option<(u64, u64)> = None;
    let mut update = device.update.clone();
    let mut failed_versions = device.failed_versions.clone();
    let mut crashes = Vec::new();
    for e in &req.events {
        acked = acked.max(e.seq);
        if store.agent_event_exists(id, e.at_ms, e.seq)? {
            continue;
        }
        if e.seq <= device.last_event_seq {
            let r = regressed.get_or_insert((e.seq, e.seq));
            *r = (r.0.min(e.seq), r.1.max(e.seq));
        }
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
        } else if let Some(u) = crate::releases::on_update_event(state, &device, e)? {
            if u.state.is_permanent_failure() && !failed_versions.contains(&u.target_version) {
                failed_versions.push(u.target_version.clone());
            }
            update = Some(u);
        }
        last_seq = last_seq.max(e.seq);
    }
    if let Some((low, high)) = regressed {
        // the agent's numbering went back (a restored state dir): nothing is dropped,
        // and its numbering is followed from here on
        store.append_collector_event(
            id,
            &DeviceEvent {
                at_ms: now,
                source: EventSource::Collector,
                seq: None,
                kind: "agent.events_regressed".into(),
                check_id: None,
                message: format!(
                    "the agent sent events {low}..={high} after {}: its state was restored or reset; all were kept",
                    device.last_event_seq
                ),
                data: serde_json::json!({"previous_last_seq": device.last_event_seq, "low": low, "high": high}),
            },
        )?;
        last_seq = acked;
    }

    // tickets: passing checks count toward auto-resolve; a silent device is back
    crate::tickets::on_checkin(state, id, if stale { &[] } else { &req.health }).await?;
    for e in crashes {
        if let Err(err) = crate::tickets::crashes::on_crash(state, &device, e).await {
            Metrics::inc(&state.metrics.derived_ticket_failures);
            tracing::warn!(device = %id, error = %err, "crash ticket not filed");
        }
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
            d.last_event_seq = if regressed.is_some() {
                last_seq
            } else {
                d.last_event_seq.max(last_seq)
            };
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
        acked_event_seq: acked,
        jobs: Vec::new(),
        server_time_ms: now,
        release,
    })
}
