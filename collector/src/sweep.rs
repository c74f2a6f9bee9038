//! The periodic sweep: tickets for devices gone silent (an agent cannot report its own
//! death) and one-time SLA breach notes, read from index ranges (devices by last
//! check-in, open tickets by due time), never a scan of every ticket. `sweep` is a plain function so tests drive it
//! with a manual clock; `run` calls it every 30 s.

use std::time::Duration;

use tend_shared::api::AuditOutcome;
use tend_shared::assets::AssetState;
use tend_shared::health::Severity;
use tend_shared::tickets::{TicketRequest, TicketSource, TimelineEntry};

use crate::error::ApiError;
use crate::fleet::DeviceFilter;
use crate::state::AppState;
use crate::tickets::{file, view_at, OFFLINE_KEY};
use crate::webhooks;

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub offline_tickets: usize,
    pub breaches_noted: usize,
    /// Events deleted for being past the retention period.
    pub events_pruned: usize,
}

fn days(ms: u64) -> f64 {
    ms as f64 / 86_400_000.0
}

/// Logs and counts one item the sweep could not handle (it goes on with the rest).
fn failed(state: &AppState, what: &str, e: &ApiError) {
    crate::metrics::Metrics::inc(&state.metrics.background_failures);
    tracing::error!(item = %what, error = %e, "sweep item failed; continuing");
}

/// Most items one sweep handles of each kind (the rest wait for the next sweep).
const PER_SWEEP: usize = 10_000;

/// Opens offline tickets and notes new SLA breaches, reading index ranges: devices
/// by last check-in, tickets by due time. Every item is its own unit of work, and one
/// item's failure never stops the rest.
pub async fn sweep(state: &AppState) -> Result<SweepReport, ApiError> {
    let mut report = SweepReport::default();
    let now = state.now_ms();
    let policy = state.policy();
    let threshold_ms = policy.offline_threshold_s * 1000;
    let filter = DeviceFilter {
        last_seen_before_ms: Some(now.saturating_sub(threshold_ms)),
        ..Default::default()
    };
    let mut cursor: Option<crate::store::Cursor> = None;
    let mut silent = Vec::new();
    // oldest check-in first, a page at a time
    while silent.len() < PER_SWEEP {
        let page = state
            .store
            .read()
            .devices_page(&filter, cursor.as_ref(), 1000)
            .await?
            .map_err(ApiError::Internal)?;
        silent.extend(page.items);
        match page.next.as_deref().map(crate::store::Cursor::decode) {
            Some(Ok(c)) => cursor = Some(c),
            _ => break,
        }
    }
    for d in silent
        .into_iter()
        .filter(|d| d.last_seen_ms > 0 && d.decommissioned_at_ms.is_none())
    {
        let mut r = state.store.read();
        let exempt = match &d.asset_id {
            Some(a) => r.asset(a).await?.is_some_and(|a| {
                matches!(
                    a.state,
                    AssetState::InRepair
                        | AssetState::Collecting
                        | AssetState::Wiping
                        | AssetState::Retired
                )
            }),
            None => false,
        };
        if exempt || r.open_ticket(&d.id, OFFLINE_KEY).await?.is_some() {
            continue;
        }
        let silent_for = now.saturating_sub(d.last_seen_ms);
        let req = TicketRequest {
            // one offline episode = one request id: a repeat sweep is a replay
            request_id: format!("offline-{}", d.last_seen_ms),
            device_id: Some(d.id.clone()),
            problem_key: OFFLINE_KEY.into(),
            severity: Severity::Medium,
            summary: format!("{} has not checked in for {:.1} days", d.hostname, days(silent_for)),
            description: format!("Last check-in at {} ms since the epoch; the policy's offline threshold is {:.1} days.", d.last_seen_ms, days(threshold_ms)),
            check: None,
            evidence: serde_json::json!({"last_seen_ms": d.last_seen_ms, "offline_threshold_s": policy.offline_threshold_s}),
            observed_at_ms: now,
            requester: None,
            category: None,
        };
        // one device's bad data never stops the sweep for the rest
        match file(state, &d, req, TicketSource::Collector, "system").await {
            Ok(_) => report.offline_tickets += 1,
            Err(e) => failed(state, &d.id, &e),
        }
    }

    if let Err(e) = crate::jobs::expire(state).await {
        failed(state, "job expiry", &e);
    }
    let cutoff = now.saturating_sub(state.limits.event_retention.as_millis() as u64);
    for _ in 0..10 {
        let pruned: Result<usize, ApiError> =
            crate::atomic!(state.store, tx => Ok(tx.prune_events(cutoff, 5_000).await?));
        match pruned {
            Ok(n) => {
                report.events_pruned += n;
                if n < 5_000 {
                    break;
                }
            }
            Err(e) => {
                failed(state, "event retention", &e);
                break;
            }
        }
    }
    for which in ["own", "res"] {
        let due = state.store.read().sla_due(which, now, PER_SWEEP).await?;
        for t in due {
            match note_breach(state, &t.ticket.id, now).await {
                Ok(true) => report.breaches_noted += 1,
                Ok(false) => {}
                Err(e) => failed(state, &t.ticket.id, &e),
            }
        }
    }
    state.store.flush().await?;
    Ok(report)
}

/// Notes a ticket's new SLA breaches once (timeline, audit, webhook); false when it
/// has none to note.
async fn note_breach(state: &AppState, id: &str, now: u64) -> Result<bool, ApiError> {
    let settings = state.ticket_settings();
    crate::atomic!(state.store, tx => {
        let Some(mut t) = tx.ticket(id).await?.filter(|t| t.ticket.status.is_open()) else {
            return Ok(false);
        };
        let v = view_at(&t, &settings, now);
        let mut noted = Vec::new();
        if v.sla.own_breached && !t.own_breach_noted {
            t.own_breach_noted = true;
            noted.push("time to own");
        }
        if v.sla.resolve_breached && !t.resolve_breach_noted {
            t.resolve_breach_noted = true;
            noted.push("time to resolve");
        }
        if noted.is_empty() {
            return Ok(false);
        }
        tx.put_ticket(&t, &settings).await?;
        let msg = format!(
            "{} SLA target breached ({})",
            noted.join(" and "),
            v.priority.as_str()
        );
        tx.append_timeline(
            &t.ticket.id,
            &TimelineEntry {
                at_ms: now,
                actor: "system".into(),
                kind: "sla_breached".into(),
                message: msg,
                data: serde_json::json!({"sla": v.sla}),
            },
        )
        .await?;
        state
            .audit_in(
                &mut tx,
                "system",
                "ticket.sla_breach",
                &t.ticket.id,
                AuditOutcome::Success,
                serde_json::json!({"breached": noted}),
            )
            .await?;
        webhooks::enqueue(state, &mut tx, "ticket.updated", &v).await?;
        Ok(true)
    })
}

/// Sweeps every `every` until `stop` resolves.
pub async fn run(state: AppState, every: Duration, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(every) => {
                // with several collectors, one sweeps at a time
                match state.store.exclusive("sweep", sweep(&state)).await {
                    Ok(Some(Err(e))) => tracing::error!(error = %e, "ticket sweep failed"),
                    Err(e) => tracing::error!(error = %e, "ticket sweep failed"),
                    _ => {}
                }
            }
        }
    }
}
