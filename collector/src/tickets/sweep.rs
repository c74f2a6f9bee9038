//! The periodic sweep: tickets for devices gone silent (an agent cannot report its own
//! death) and one-time SLA breach notes. `sweep` is a plain function so tests drive it
//! with a manual clock; `run` calls it every 30 s.

use std::time::Duration;

use tend_shared::api::AuditOutcome;
use tend_shared::assets::AssetState;
use tend_shared::health::Severity;
use tend_shared::tickets::{TicketRequest, TicketSource, TimelineEntry};

use super::{file, view_at, webhooks, OFFLINE_KEY};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::DeviceFilter;

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

/// Opens offline tickets and notes new SLA breaches.
pub async fn sweep(state: &AppState) -> Result<SweepReport, ApiError> {
    let mut report = SweepReport::default();
    let now = state.now_ms();
    let policy = state.policy();
    let threshold_ms = policy.offline_threshold_s * 1000;
    let silent = state.store.devices(&DeviceFilter {
        last_seen_before_ms: Some(now.saturating_sub(threshold_ms)),
        ..Default::default()
    })?;
    for d in silent.into_iter().filter(|d| d.last_seen_ms > 0) {
        let exempt = match &d.asset_id {
            Some(a) => state
                .store
                .asset(a)?
                .is_some_and(|a| matches!(a.state, AssetState::InRepair | AssetState::Retired)),
            None => false,
        };
        if exempt || state.store.open_ticket(&d.id, OFFLINE_KEY)?.is_some() {
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
        };
        // one device's bad data never stops the sweep for the rest
        match file(state, &d, req, TicketSource::Collector, "system").await {
            Ok(_) => report.offline_tickets += 1,
            Err(e) => failed(state, &d.id, &e),
        }
    }

    if let Err(e) = crate::jobs::expire(state) {
        failed(state, "job expiry", &e);
    }
    let cutoff = now.saturating_sub(state.limits.event_retention.as_millis() as u64);
    match state.store.prune_events(cutoff, 50_000) {
        Ok(n) => report.events_pruned = n,
        Err(e) => failed(state, "event retention", &e.into()),
    }
    let _guard = state.tickets_lock.lock().await;
    let settings = state.ticket_settings();
    for mut t in state
        .store
        .all_tickets()?
        .into_iter()
        .filter(|t| t.ticket.status.is_open())
    {
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
            continue;
        }
        state.store.put_ticket(&t)?;
        let msg = format!(
            "{} SLA target breached ({})",
            noted.join(" and "),
            v.priority.as_str()
        );
        state.store.append_timeline(
            &t.ticket.id,
            &TimelineEntry {
                at_ms: now,
                actor: "system".into(),
                kind: "sla_breached".into(),
                message: msg,
                data: serde_json::json!({"sla": v.sla}),
            },
        )?;
        state.audit(
            "system",
            "ticket.sla_breach",
            &t.ticket.id,
            AuditOutcome::Success,
            serde_json::json!({"breached": noted}),
        )?;
        webhooks::enqueue(state, "ticket.updated", &v)?;
        report.breaches_noted += 1;
    }
    state.store.flush().await?;
    Ok(report)
}

/// Sweeps every `every` until `stop` resolves.
pub async fn run(state: AppState, every: Duration, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(every) => {
                if let Err(e) = sweep(&state).await {
                    tracing::error!(error = %e, "ticket sweep failed");
                }
            }
        }
    }
}
