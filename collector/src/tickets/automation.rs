//! What the ticket engine does on its own: counting passing reports toward
//! auto-resolve on every check-in, resolving a silent device's ticket when it comes
//! back or a check the policy dropped, and moving open tickets' due times after an
//! SLA settings change.

use tend_shared::api::AuditOutcome;
use tend_shared::health::{CheckResult, CheckStatus};
use tend_shared::tickets::{Ticket, TicketSource, TicketStatus};

use super::{entry, view, MAX_OPEN_PER_DEVICE, OFFLINE_KEY};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Tx;
use crate::tickets::TicketRecord;
use crate::webhooks;

/// Resolves an open ticket on behalf of automation (inside the caller's unit).
async fn auto_resolve(
    state: &AppState,
    tx: &mut Tx,
    mut t: TicketRecord,
    now: u64,
    why: String,
) -> Result<Ticket, ApiError> {
    if let Some(since) = t.pending_since_ms.take() {
        t.pending_total_ms += now.saturating_sub(since);
    }
    t.ticket.status = TicketStatus::Resolved;
    t.ticket.resolved_at_ms = Some(now);
    t.ticket.auto_resolved = true;
    t.ticket.updated_at_ms = now;
    t.passes = 0;
    tx.put_ticket(&t, &state.ticket_settings()).await?;
    tx.append_timeline(
        &t.ticket.id,
        &entry(now, "system", "auto_resolved", why, serde_json::Value::Null),
    )
    .await?;
    state
        .audit_in(
            tx,
            "system",
            "ticket.auto_resolve",
            &t.ticket.id,
            AuditOutcome::Success,
            serde_json::json!({"problem_key": t.ticket.problem_key}),
        )
        .await?;
    let v = view(state, &t);
    webhooks::enqueue(state, tx, "ticket.resolved", &v).await?;
    Ok(v)
}

/// Whether the policy still runs the check `problem_key` names (its kind enabled and,
/// for disk checks, the mount still listed).
fn policy_checks(policy: &tend_shared::policy::Policy, problem_key: &str) -> bool {
    let (kind, subject) = problem_key
        .split_once(':')
        .map_or((problem_key, None), |(k, s)| (k, Some(s)));
    if !tend_shared::policy::checks::ALL.contains(&kind) {
        return true; // not a policy check (crash:<process>, …)
    }
    if !policy.check(kind).enabled {
        return false;
    }
    match (kind, subject) {
        (tend_shared::policy::checks::DISK_FREE, Some(mount)) => {
            policy.disk_mounts.iter().any(|m| m == mount)
        }
        _ => true,
    }
}

/// Called on every check-in with health: counts passing reports toward auto-resolve,
/// resets the count on a failure, and resolves the device's offline ticket — each
/// ticket in a unit of its own. The caller flushes.
pub async fn on_checkin(
    state: &AppState,
    device_id: &str,
    health: &[CheckResult],
) -> Result<(), ApiError> {
    on_checkin_with(state, device_id, Some(health)).await
}

/// [`on_checkin`], where `None` means "the stored results, unchanged" (a heartbeat):
/// they are read only when the device has an open ticket.
pub async fn on_checkin_with(
    state: &AppState,
    device_id: &str,
    health: Option<&[CheckResult]>,
) -> Result<(), ApiError> {
    let (open, stored) = {
        let mut r = state.store.read();
        if !r.has_open_tickets(device_id).await? {
            return Ok(());
        }
        let open = r
            .open_tickets_of(device_id, MAX_OPEN_PER_DEVICE * 2)
            .await?;
        let stored = match health {
            Some(_) => Vec::new(),
            None => r
                .health(device_id)
                .await?
                .map(|(_, h)| h)
                .unwrap_or_default(),
        };
        (open, stored)
    };
    let health = health.unwrap_or(&stored);
    let now = state.now_ms();
    let policy = state.policy();
    let recovery = policy.recovery_count.max(1);
    for snapshot in open {
        let id = snapshot.ticket.id.clone();
        crate::atomic!(state.store, tx => {
            // the ticket as it is now (another unit may have changed it)
            let Some(mut t) = tx.ticket(&id).await?.filter(|t| t.ticket.status.is_open()) else {
                return Ok(());
            };
            if t.ticket.problem_key == OFFLINE_KEY && t.ticket.source == TicketSource::Collector {
                auto_resolve(state, &mut tx, t, now, "the device checked in again".into()).await?;
                return Ok(());
            }
            if t.ticket.source != TicketSource::Agent {
                return Ok(());
            }
            let Some(result) = health.iter().find(|c| c.id == t.ticket.problem_key) else {
                // a full report without the check: the policy no longer runs it
                if !health.is_empty() && !policy_checks(&policy, &t.ticket.problem_key) {
                    auto_resolve(
                        state,
                        &mut tx,
                        t,
                        now,
                        "check disabled by policy: the device no longer runs it".into(),
                    )
                    .await?;
                }
                return Ok(());
            };
            match result.status {
                CheckStatus::Pass => {
                    t.passes += 1;
                    if t.passes >= recovery {
                        let why = format!(
                            "check {} passed {} consecutive report(s): {}",
                            result.id, t.passes, result.message
                        );
                        auto_resolve(state, &mut tx, t, now, why).await?;
                    } else {
                        tx.put_ticket(&t, &state.ticket_settings()).await?;
                    }
                }
                CheckStatus::Fail if t.passes > 0 => {
                    t.passes = 0;
                    tx.put_ticket(&t, &state.ticket_settings()).await?;
                }
                _ => {}
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Rewrites every open ticket under the current settings, so their due-time index
/// entries follow new SLA targets (after a settings change; bounded by the backlog).
pub async fn reindex_due(state: &AppState) -> Result<usize, ApiError> {
    let settings = state.ticket_settings();
    let mut after: Option<Vec<u8>> = None;
    let mut n = 0;
    loop {
        let batch = state
            .store
            .read()
            .open_ticket_ids(after.as_deref(), 500)
            .await?;
        let Some((last, _)) = batch.last() else {
            return Ok(n);
        };
        after = Some(last.clone());
        crate::atomic!(state.store, tx => {
            for (_, id) in &batch {
                if let Some(t) = tx.ticket(id).await? {
                    tx.put_ticket(&t, &settings).await?;
                }
            }
            Ok(())
        })?;
        n += batch.len();
    }
}
