//! Check-in ingest: inventory (only when its hash changed), latest health, agent
//! events (check state changes arrive as agent events), and collector-derived events
//! for inventory changes, as one unit of work; tickets follow in units of their own.
//! Everything is durable before the response.
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

pub mod routes;

use tend_shared::checkin::{CheckinRequest, CheckinResponse};
use tend_shared::devices::{DeviceEvent, EventSource};
use tend_shared::health::{self as health_wire, CheckResult, HealthStatus};

use crate::error::ApiError;
use crate::fleet::inventory_diff;
use crate::fleet::DeviceRecord;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::Tx;
use crate::text as sanitize;

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

/// What the core unit of a check-in decided.
struct Applied {
    acked: u64,
    need_inventory: bool,
    need_health: bool,
    crashes: Vec<tend_shared::checkin::AgentEvent>,
    /// The full set of results as now held, when this unit had it in hand (`None`:
    /// unchanged since the stored report, or a stale report).
    merged: Option<Vec<CheckResult>>,
    stale: bool,
    device: DeviceRecord,
}

/// Applies one check-in from `device`: the device, its inventory, health and events
/// commit as one unit; tickets follow in units of their own; everything is durable
/// before the answer.
pub async fn checkin(
    state: &AppState,
    device: DeviceRecord,
    mut req: CheckinRequest,
) -> Result<CheckinResponse, ApiError> {
    validate(&mut req)?;
    let now = state.now_ms();
    let observed = if req.observed_at_ms == 0 || req.observed_at_ms > now {
        now
    } else {
        req.observed_at_ms
    };
    let a = crate::atomic!(state.store, tx => {
        apply(state, &mut tx, &device, &req, now, observed).await
    })?;
    let id = device.id.as_str();

    // tickets: passing checks count toward auto-resolve (a heartbeat re-affirms the
    // stored results); a silent device is back
    let seen: Option<&[CheckResult]> = if a.stale {
        Some(&[])
    } else if let Some(m) = &a.merged {
        Some(m)
    } else if req.health_partial {
        None
    } else {
        Some(&req.health)
    };
    crate::tickets::automation::on_checkin_with(state, id, seen).await?;
    for e in &a.crashes {
        if let Err(err) = crate::tickets::crashes::on_crash(state, &a.device, e).await {
            Metrics::inc(&state.metrics.derived_ticket_failures);
            tracing::warn!(device = %id, error = %err, "crash ticket not filed");
        }
    }
    let policy = state.policy();
    let release =
        crate::releases::offer_for(state, &a.device, &req.agent_version, req.release_platform)
            .await?;
    state.store.flush().await?;
    Metrics::inc(&state.metrics.checkins);

    Ok(CheckinResponse {
        policy_version: policy.version,
        policy: (req.policy_version != policy.version).then(|| (*policy).clone()),
        need_inventory: a.need_inventory,
        acked_event_seq: a.acked,
        jobs: Vec::new(),
        server_time_ms: now,
        release,
        health_hash: a.device.health_hash.clone(),
        need_health: a.need_health,
    })
}

/// The check-in's core unit of work (runs again on a conflict): inventory, health and
/// events each applied by a step of their own, then the device record once.
async fn apply(
    state: &AppState,
    tx: &mut Tx,
    device: &DeviceRecord,
    req: &CheckinRequest,
    now: u64,
    observed: u64,
) -> Result<Applied, ApiError> {
    let id = device.id.as_str();
    let current = tx
        .device(id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("device no longer enrolled".into()))?;
    let inv = apply_inventory(state, tx, &current, req, observed).await?;
    let h = apply_health(tx, &current, req, observed).await?;
    let ev = apply_events(state, tx, &current, req, now).await?;

    let before = Some((current.index(), current.health));
    let mut d = current;
    d.health_at_ms = h.at_ms;
    d.health_hash = h.hash;
    d.last_seen_ms = d.last_seen_ms.max(now);
    d.agent_version = req.agent_version.clone();
    d.health = h.health;
    d.os = inv.os;
    d.hostname = inv.hostname;
    d.inventory_hash = inv.hash;
    d.last_event_seq = if ev.regressed {
        ev.last_seq
    } else {
        d.last_event_seq.max(ev.last_seq)
    };
    d.policy_version = req.policy_version;
    d.update = ev.update;
    d.failed_versions = ev.failed_versions;
    tx.put_device_over(before, &d).await?;
    Ok(Applied {
        acked: ev.acked,
        need_inventory: inv.need,
        need_health: h.need,
        merged: h.merged,
        crashes: ev.crashes,
        stale: h.stale,
        device: d,
    })
}

/// What a check-in's inventory changed on the device record.
struct InventoryStep {
    hash: String,
    os: String,
    hostname: String,
    need: bool,
}

/// Stores a sent inventory (its changes become events); asks for one when the agent's
/// hash differs from the one held.
async fn apply_inventory(
    state: &AppState,
    tx: &mut Tx,
    current: &DeviceRecord,
    req: &CheckinRequest,
    observed: u64,
) -> Result<InventoryStep, ApiError> {
    let id = current.id.as_str();
    let mut inventory_hash = current.inventory_hash.clone();
    let mut os = current.os.clone();
    let mut hostname = current.hostname.clone();
    let mut need_inventory = false;
    match &req.inventory {
        Some(inv) => {
            let hash = inv.content_hash();
            if hash != current.inventory_hash {
                if let Some((_, old)) = tx.inventory(id).await? {
                    for c in inventory_diff::changes(&old, inv) {
                        tx.append_collector_event(
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
                        )
                        .await?;
                    }
                }
                Metrics::inc(&state.metrics.inventory_updates);
            }
            // always store: free space and uptime are fresh even when the hash is not
            tx.put_inventory(id, observed, inv);
            inventory_hash = hash;
            os = format!("{} {}", inv.os.name, inv.os.version)
                .trim()
                .to_string();
            if !inv.hostname.is_empty() {
                hostname = inv.hostname.clone();
            }
        }
        None => need_inventory = req.inventory_hash != current.inventory_hash,
    }

    Ok(InventoryStep {
        hash: inventory_hash,
        os,
        hostname,
        need: need_inventory,
    })
}

/// What a check-in's health report changed on the device record.
struct HealthStep {
    stale: bool,
    health: HealthStatus,
    at_ms: u64,
    hash: Option<String>,
    need: bool,
    merged: Option<Vec<CheckResult>>,
}

/// Applies a full or partial (heartbeat, changed results) health report.
async fn apply_health(
    tx: &mut Tx,
    current: &DeviceRecord,
    req: &CheckinRequest,
    observed: u64,
) -> Result<HealthStep, ApiError> {
    let id = current.id.as_str();
    // health: a spooled report older than what we hold does not overwrite it (the
    // device record knows when its health was observed; older records ask the store)
    let stale = if current.health_at_ms > 0 {
        current.health_at_ms > observed
    } else {
        tx.health(id).await?.is_some_and(|(at, _)| at > observed)
    };
    let mut health = current.health;
    let mut health_at_ms = current.health_at_ms;
    let mut health_hash = current.health_hash.clone();
    let mut need_health = false;
    let mut merged = None;
    if stale {
        // kept as it is
    } else if req.health_partial {
        // a heartbeat or the changed results, on top of the set we acknowledged
        match (&current.health_hash, &req.health_hash) {
            (Some(held), Some(claimed)) if req.health.is_empty() => {
                if held == claimed {
                    health_at_ms = observed;
                } else {
                    need_health = true;
                }
            }
            (Some(_), Some(claimed)) => {
                let mut set = tx.health(id).await?.map(|(_, h)| h).unwrap_or_default();
                health_wire::merge_results(&mut set, &req.health);
                let hash = health_wire::results_hash(&set);
                need_health = &hash != claimed;
                tx.put_health(id, observed, &set);
                health = HealthStatus::from_results(&set);
                health_at_ms = observed;
                health_hash = Some(hash);
                merged = Some(set);
            }
            _ => need_health = true,
        }
    } else if !req.health.is_empty() {
        tx.put_health(id, observed, &req.health);
        health = HealthStatus::from_results(&req.health);
        health_at_ms = observed;
        health_hash = req
            .health_hash
            .as_ref()
            .map(|_| health_wire::results_hash(&req.health));
    }

    Ok(HealthStep {
        stale,
        health,
        at_ms: health_at_ms,
        hash: health_hash,
        need: need_health,
        merged,
    })
}

/// What a check-in's agent events changed on the device record.
struct EventsStep {
    acked: u64,
    last_seq: u64,
    regressed: bool,
    update: Option<tend_shared::releases::DeviceUpdate>,
    failed_versions: Vec<String>,
    crashes: Vec<tend_shared::checkin::AgentEvent>,
}

/// Stores the agent's events (a replay overwrites itself) with their side effects
/// once: deflections counted, crashes collected, update progress followed.
async fn apply_events(
    state: &AppState,
    tx: &mut Tx,
    current: &DeviceRecord,
    req: &CheckinRequest,
    now: u64,
) -> Result<EventsStep, ApiError> {
    let id = current.id.as_str();
    // agent events: all stored (a replay overwrites itself), side effects once
    let mut last_seq = current.last_event_seq;
    let mut acked = 0u64;
    let mut regressed: Option<(u64, u64)> = None;
    let mut update = current.update.clone();
    let mut failed_versions = current.failed_versions.clone();
    let mut crashes = Vec::new();
    for e in &req.events {
        acked = acked.max(e.seq);
        if tx.agent_event_exists(id, e.at_ms, e.seq).await? {
            continue;
        }
        if e.seq <= current.last_event_seq {
            let r = regressed.get_or_insert((e.seq, e.seq));
            *r = (r.0.min(e.seq), r.1.max(e.seq));
        }
        tx.put_agent_event(
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
        );
        if e.kind == "remediation.deflected" {
            tx.record_deflection(e.at_ms, id, e.check_id.as_deref().unwrap_or(""))
                .await?;
        } else if e.kind == "crash" {
            crashes.push(e.clone());
        } else if let Some(u) = crate::releases::on_update_event(state, tx, current, e).await? {
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
        tx.append_collector_event(
            id,
            &DeviceEvent {
                at_ms: now,
                source: EventSource::Collector,
                seq: None,
                kind: "agent.events_regressed".into(),
                check_id: None,
                message: format!(
                    "the agent sent events {low}..={high} after {}: its state was restored or reset; all were kept",
                    current.last_event_seq
                ),
                data: serde_json::json!({"previous_last_seq": current.last_event_seq, "low": low, "high": high}),
            },
        )
        .await?;
        last_seq = acked;
    }

    Ok(EventsStep {
        acked,
        last_seq,
        regressed: regressed.is_some(),
        update,
        failed_versions,
        crashes,
    })
}
