//! `GET /api/v1/reports/sla`: what a help-desk manager reads — volume, time to own and
//! to resolve, backlog aging, breach and reopen rates, top problems, the share of
//! tickets that resolved themselves, and deflection (fixed by remediation, no ticket).

use std::collections::BTreeMap;

use tend_shared::tickets::{DurationStats, SlaReport, TicketSource};

use crate::error::ApiError;
use crate::state::AppState;
use crate::tickets::RowRef;

/// The mean of `v`, `None` when empty.
pub fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Mean and median of `v` (seconds).
pub fn stats(mut v: Vec<f64>) -> DurationStats {
    if v.is_empty() {
        return DurationStats::default();
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    DurationStats {
        count: n as u64,
        mean_s: mean(&v),
        median_s: Some(median),
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Backlog bucket of an open ticket's age.
pub fn age_bucket(age_ms: u64) -> &'static str {
    const DAY: u64 = 86_400_000;
    match age_ms {
        a if a < DAY => "0-1d",
        a if a < 3 * DAY => "1-3d",
        a if a < 7 * DAY => "3-7d",
        _ => "7d+",
    }
}

/// The report for tickets created in `[from_ms, to_ms)`; the backlog is as of now.
/// Reads compact rows from the creation index (not whole tickets) and the open
/// index's keys for the backlog.
pub async fn sla_report(state: &AppState, from_ms: u64, to_ms: u64) -> Result<SlaReport, ApiError> {
    let now = state.now_ms();
    let settings = state.ticket_settings();
    let mut tx = state.store.read();
    let mut r = SlaReport {
        from_ms,
        to_ms,
        ..Default::default()
    };
    for b in ["0-1d", "1-3d", "3-7d", "7d+"] {
        r.backlog.insert(b.to_string(), 0);
    }
    const DAY: u64 = 86_400_000;
    for (bucket, newest, oldest) in [
        ("0-1d", 0, DAY),
        ("1-3d", DAY, 3 * DAY),
        ("3-7d", 3 * DAY, 7 * DAY),
        ("7d+", 7 * DAY, u64::MAX),
    ] {
        // created in (now - oldest, now - newest]
        let from = now.saturating_sub(oldest).saturating_add(1);
        let to = now.saturating_sub(newest).saturating_add(1);
        let n = tx
            .open_created_between(if oldest == u64::MAX { 0 } else { from }, to)
            .await?;
        r.backlog.insert(bucket.to_string(), n);
    }
    let encoded = tx.ticket_rows(from_ms, to_ms).await?;
    let in_range: Vec<RowRef> = encoded.iter().filter_map(|b| RowRef::parse(b)).collect();
    r.created = in_range.len() as u64;
    let mut problems: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut breached, mut reopened, mut resolved, mut auto, mut from_agents) = (0, 0, 0, 0, 0);
    let mut own = Vec::new();
    let mut resolve = Vec::new();
    let mut by_category: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_priority: BTreeMap<&str, u64> = BTreeMap::new();
    let mut rated_user_tickets: Vec<&str> = Vec::new();
    for row in &in_range {
        let t = &row.fixed;
        let sla = super::sla::compute_parts(&t.sla_parts(), &settings, now);
        *by_category.entry(row.category).or_default() += 1;
        *by_priority.entry(t.priority.as_str()).or_default() += 1;
        *problems.entry(row.problem_key).or_default() += 1;
        if sla.own_breached || sla.resolve_breached {
            breached += 1;
        }
        if t.reopen_count > 0 {
            reopened += 1;
        }
        // what devices filed (their agents, their users) is what deflection saves
        if matches!(t.source, TicketSource::Agent | TicketSource::User) {
            from_agents += 1;
        }
        if let Some(o) = t.owned_at_ms {
            own.push(o.saturating_sub(t.created_at_ms) as f64 / 1000.0);
        }
        if let Some(res) = t.resolved_at_ms {
            resolved += 1;
            if t.source == TicketSource::User {
                rated_user_tickets.push(row.id);
            }
            if t.auto_resolved {
                auto += 1;
            }
            // pending time is excluded, as in the SLA
            let elapsed = res
                .saturating_sub(t.created_at_ms)
                .saturating_sub(sla.pending_ms);
            resolve.push(elapsed as f64 / 1000.0);
        }
    }
    r.by_priority = by_priority
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    r.by_category = by_category
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    r.time_to_own = stats(own);
    r.time_to_resolve = stats(resolve);
    r.breach_rate = ratio(breached, r.created);
    r.reopen_rate = ratio(reopened, r.created);
    r.auto_resolved_share = ratio(auto, resolved);
    let mut top: Vec<(&str, u64)> = problems.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    top.truncate(10);
    r.top_problems = top.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    // CSAT: the resolved user tickets' records (few next to the agents' tickets)
    r.user_tickets_resolved = rated_user_tickets.len() as u64;
    let mut scores = Vec::new();
    for id in rated_user_tickets {
        if let Some(c) = tx.ticket(id).await?.and_then(|t| t.ticket.csat) {
            scores.push(f64::from(c.score));
        }
    }
    r.csat_responses = scores.len() as u64;
    r.csat_average = mean(&scores);
    r.csat_response_rate = ratio(r.csat_responses, r.user_tickets_resolved);
    r.deflected = tx.deflections_between(from_ms, to_ms).await?;
    r.self_service_withdrawn = tx.kb_withdrawals_between(from_ms, to_ms).await?;
    r.deflection_rate = ratio(r.deflected, r.deflected + from_agents);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_median() {
        let s = stats(vec![10.0, 1.0, 4.0]);
        assert_eq!((s.count, s.mean_s, s.median_s), (3, Some(5.0), Some(4.0)));
        assert_eq!(stats(vec![1.0, 2.0, 3.0, 10.0]).median_s, Some(2.5));
        assert_eq!(stats(vec![]), DurationStats::default());
        assert_eq!(age_bucket(0), "0-1d");
        assert_eq!(age_bucket(2 * 86_400_000), "1-3d");
        assert_eq!(age_bucket(8 * 86_400_000), "7d+");
    }
}
