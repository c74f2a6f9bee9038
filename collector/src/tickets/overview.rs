//! `GET /api/v1/reports/overview`: the help-desk manager's page in one read — fleet
//! health from the counters, offline and stale devices and the open backlog by
//! priority from index counts, tickets breaching within 4 hours from the due-time
//! indexes, and the daily and weekly trends from the compact report rows.

use std::collections::BTreeMap;

use tend_shared::console::{DayPoint, Overview, WeekPoint};
use tend_shared::tickets::{Priority, TicketSource};

use crate::error::ApiError;
use crate::state::AppState;
use crate::tickets::RowRef;

const DAY: u64 = 86_400_000;
const WEEK: u64 = 7 * DAY;
/// "Breaching soon" looks this far ahead.
pub const SOON_MS: u64 = 4 * 3_600_000;
/// Tickets created this long before the window still count for what resolved in it.
const LOOKBACK_MS: u64 = 30 * DAY;

/// The overview over the last `days` days (weeks end now; days are UTC days).
pub async fn overview(state: &AppState, days: u32, stale_days: u32) -> Result<Overview, ApiError> {
    let now = state.now_ms();
    let policy = state.policy();
    let settings = state.ticket_settings();
    let mut tx = state.store.read();
    let counts = tx.counts().await?;
    let offline_ms = policy.offline_threshold_s.saturating_mul(1000);
    let mut o = Overview {
        at_ms: now,
        days,
        devices: counts.devices,
        health: counts
            .by_health
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        offline: tx
            .devices_seen_before(now.saturating_sub(offline_ms))
            .await?,
        offline_threshold_s: policy.offline_threshold_s,
        stale: tx
            .devices_seen_before(now.saturating_sub(u64::from(stale_days) * DAY))
            .await?,
        stale_days,
        open_tickets: counts.open_tickets,
        ..Overview::default()
    };
    for p in Priority::ALL {
        o.open_by_priority
            .insert(p.as_str().to_string(), tx.open_with_priority(p).await?);
    }
    // breaching soon: unowned tickets whose own target falls within the window (a
    // count), plus tickets whose resolve target does and that are not counted there
    // already (few: read one by one)
    let soon_end = now + SOON_MS;
    let own_soon = tx.count_due("sla.own", now, soon_end).await?;
    let mut resolve_only = 0;
    for id in tx.due_between("due", now, soon_end).await? {
        let counted = tx.ticket(&id).await?.is_some_and(|t| {
            t.ticket.owned_at_ms.is_none()
                && !t.own_breach_noted
                && (now..soon_end).contains(&t.indexed_own_due_ms)
        });
        resolve_only += u64::from(!counted);
    }
    o.breaching_soon = own_soon + resolve_only;
    o.breached = tx.count_due("due", 0, now).await?;

    // the days: UTC midnights, the last one today
    let today = now - now % DAY;
    let first_day = today.saturating_sub(u64::from(days.saturating_sub(1)) * DAY);
    o.daily = (0..u64::from(days))
        .map(|i| DayPoint {
            day_ms: first_day + i * DAY,
            ..DayPoint::default()
        })
        .collect();
    // the weeks: back from now, enough to cover the days
    let weeks = u64::from(days).div_ceil(7).max(1);
    let week_start = |i: u64| now.saturating_sub((weeks - i) * WEEK);
    let mut mttr: Vec<Vec<f64>> = vec![Vec::new(); weeks as usize];
    let mut own: Vec<Vec<f64>> = vec![Vec::new(); weeks as usize];
    let mut agent: Vec<u64> = vec![0; weeks as usize];
    let week_of = |t: u64| -> Option<usize> {
        let start = week_start(0);
        (t >= start && t <= now).then(|| (((t - start) / WEEK) as usize).min(weeks as usize - 1))
    };
    let mut problems: BTreeMap<&str, u64> = BTreeMap::new();
    let rows = tx
        .ticket_rows(
            first_day.min(week_start(0)).saturating_sub(LOOKBACK_MS),
            now + 1,
        )
        .await?;
    for row in rows.iter().filter_map(|b| RowRef::parse(b)) {
        let t = &row.fixed;
        if t.created_at_ms >= first_day {
            let d = ((t.created_at_ms - first_day) / DAY) as usize;
            if let Some(p) = o.daily.get_mut(d) {
                p.created += 1;
            }
            *problems.entry(row.problem_key).or_default() += 1;
        }
        if let Some(r) = t.resolved_at_ms.filter(|r| *r >= first_day) {
            if let Some(p) = o.daily.get_mut(((r - first_day) / DAY) as usize) {
                p.resolved += 1;
            }
        }
        if let Some(w) = t.resolved_at_ms.and_then(week_of) {
            let sla = super::sla::compute_parts(&t.sla_parts(), &settings, now);
            let r = t.resolved_at_ms.unwrap_or(now);
            let elapsed = r
                .saturating_sub(t.created_at_ms)
                .saturating_sub(sla.pending_ms);
            mttr[w].push(elapsed as f64 / 1000.0);
        }
        if let Some(w) = week_of(t.created_at_ms) {
            if let Some(owned) = t.owned_at_ms {
                own[w].push(owned.saturating_sub(t.created_at_ms) as f64 / 1000.0);
            }
            if t.source == TicketSource::Agent {
                agent[w] += 1;
            }
        }
    }
    for i in 0..weeks {
        let from = week_start(i);
        let deflected = tx
            .deflections_between(from, (from + WEEK).min(now + 1))
            .await?;
        let w = i as usize;
        o.weekly.push(WeekPoint {
            week_ms: from,
            mttr_s: super::report::mean(&mttr[w]),
            time_to_own_s: super::report::mean(&own[w]),
            deflected,
            agent_tickets: agent[w],
            deflection_rate: (deflected + agent[w] > 0)
                .then(|| deflected as f64 / (deflected + agent[w]) as f64),
        });
    }
    let mut top: Vec<(&str, u64)> = problems.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    top.truncate(10);
    o.top_problems = top.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    Ok(o)
}
