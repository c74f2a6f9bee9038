//! The service-desk report (`tend_shared::reports`): volume, MTTR, first-contact
//! resolution and CSAT per week, category and assignee, deflection per week, and
//! laptop delivery time (order to first enrollment) per month against the target,
//! with the late ones listed. Counts come from the compact report rows; only
//! human-handled resolved tickets are read whole (assignees, CSAT, reassignments).

use std::collections::{BTreeMap, BTreeSet};

use tend_shared::reports::{
    Bucket, DeliveryMonth, LateDelivery, ServiceDeskReport, DELIVERY_TARGET_DAYS,
};

use super::report::{mean, stats};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tickets::RowRef;

const DAY: u64 = 86_400_000;
const WEEK: u64 = 7 * DAY;

/// `YYYY-MM-DD` (UTC) of a time in ms.
pub fn date(ms: u64) -> String {
    let (y, m, d, _) = tend_shared::utc_parts(ms);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Midnight UTC of `YYYY-MM-DD`, in ms.
pub fn parse_date(s: &str) -> Option<u64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    tend_shared::utc_midnight_ms(y, m, d)
}

/// Samples gathered for one bucket.
#[derive(Default)]
struct Acc {
    created: u64,
    resolved: u64,
    ttr_h: Vec<f64>,
    fcr_eligible: u64,
    fcr: u64,
    csat: Vec<f64>,
    deflected: u64,
}

impl Acc {
    fn bucket(&self, key: String) -> Bucket {
        Bucket {
            key,
            created: self.created,
            resolved: self.resolved,
            mttr_h: mean(&self.ttr_h),
            fcr_rate: (self.fcr_eligible > 0).then(|| self.fcr as f64 / self.fcr_eligible as f64),
            csat_average: mean(&self.csat),
            csat_responses: self.csat.len() as u64,
            deflected: self.deflected,
        }
    }
}

/// What one resolved ticket adds to its buckets.
struct Resolved {
    ttr_h: f64,
    /// `Some(first contact?)` when someone was assigned.
    fcr: Option<bool>,
    csat: Option<f64>,
}

fn add(acc: &mut Acc, r: &Resolved) {
    acc.resolved += 1;
    acc.ttr_h.push(r.ttr_h);
    if let Some(f) = r.fcr {
        acc.fcr_eligible += 1;
        acc.fcr += u64::from(f);
    }
    if let Some(c) = r.csat {
        acc.csat.push(c);
    }
}

/// The report for tickets created in `[from_ms, to_ms)` and laptops delivered then.
pub async fn report(
    state: &AppState,
    from_ms: u64,
    to_ms: u64,
) -> Result<ServiceDeskReport, ApiError> {
    let now = state.now_ms();
    let settings = state.ticket_settings();
    let mut tx = state.store.read();
    let week_of = |t: u64| ((t.saturating_sub(from_ms)) / WEEK) as usize;
    let weeks = (to_ms.saturating_sub(from_ms)).div_ceil(WEEK).max(1) as usize;
    let mut by_week: Vec<Acc> = (0..weeks).map(|_| Acc::default()).collect();
    let mut by_category: BTreeMap<String, Acc> = BTreeMap::new();
    let mut by_assignee: BTreeMap<String, Acc> = BTreeMap::new();
    let mut total = Acc::default();
    let mut resolved_user = 0u64;
    let mut from_devices = 0u64;
    let encoded = tx.ticket_rows(from_ms, to_ms).await?;
    for row in encoded.iter().filter_map(|b| RowRef::parse(b)) {
        let t = &row.fixed;
        total.created += 1;
        by_week[week_of(t.created_at_ms).min(weeks - 1)].created += 1;
        by_category
            .entry(row.category.to_string())
            .or_default()
            .created += 1;
        use tend_shared::tickets::TicketSource;
        from_devices += u64::from(matches!(t.source, TicketSource::Agent | TicketSource::User));
        let Some(resolved_at) = t.resolved_at_ms else {
            continue;
        };
        let sla = super::sla::compute_parts(&t.sla_parts(), &settings, now);
        let ttr_h = resolved_at
            .saturating_sub(t.created_at_ms)
            .saturating_sub(sla.pending_ms) as f64
            / 3_600_000.0;
        // who worked it: automation that resolved itself had no contact at all
        let (mut fcr, mut csat, mut assignee) = (None, None, "(nobody)".to_string());
        if !t.auto_resolved {
            if let Some(rec) = tx.ticket(row.id).await? {
                let people: BTreeSet<String> = tx
                    .timeline(row.id)
                    .await?
                    .into_iter()
                    .filter(|e| e.kind == "assigned")
                    .filter_map(|e| {
                        e.data
                            .get("to")
                            .and_then(|v| v.as_str())
                            .map(str::to_string)
                    })
                    .collect();
                if !people.is_empty() {
                    fcr = Some(people.len() == 1 && rec.ticket.reopen_count == 0);
                }
                csat = rec.ticket.csat.map(|c| f64::from(c.score));
                resolved_user += u64::from(rec.ticket.source == TicketSource::User);
                if let Some(a) = rec.ticket.assignee {
                    assignee = a;
                }
            }
        }
        let r = Resolved { ttr_h, fcr, csat };
        add(&mut total, &r);
        add(&mut by_week[week_of(resolved_at).min(weeks - 1)], &r);
        add(by_category.entry(row.category.to_string()).or_default(), &r);
        add(by_assignee.entry(assignee).or_default(), &r);
    }
    let mut deflected_total = 0;
    for (i, w) in by_week.iter_mut().enumerate() {
        let start = from_ms + i as u64 * WEEK;
        let end = (start + WEEK).min(to_ms);
        w.deflected = tx.deflections_between(start, end).await?;
        deflected_total += w.deflected;
    }

    // laptops: order (purchase date, else when registered) to first enrollment
    let mut months: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut late = Vec::new();
    let mut cursor: Option<crate::store::Cursor> = None;
    loop {
        let page = tx
            .assets_page(None, None, cursor.as_ref(), crate::store::paging::MAX_LIMIT)
            .await?
            .map_err(ApiError::BadRequest)?;
        for a in &page.items {
            let Some(delivered) = a.deployed_at_ms.filter(|d| (from_ms..to_ms).contains(d)) else {
                continue;
            };
            let ordered = a
                .purchase_date
                .as_deref()
                .and_then(parse_date)
                .unwrap_or(a.created_at_ms);
            let days = delivered.saturating_sub(ordered) as f64 / DAY as f64;
            months
                .entry(date(delivered)[..7].to_string())
                .or_default()
                .push(days);
            if days > DELIVERY_TARGET_DAYS {
                late.push(LateDelivery {
                    asset_id: a.id.clone(),
                    serial: a.serial.clone(),
                    owner: a.owner.clone(),
                    ordered: date(ordered),
                    delivered: date(delivered),
                    days: (days * 10.0).round() / 10.0,
                });
            }
        }
        match page.next {
            Some(n) => {
                cursor = Some(crate::store::Cursor::decode(&n).map_err(ApiError::BadRequest)?)
            }
            None => break,
        }
    }
    late.sort_by(|a, b| b.days.total_cmp(&a.days));
    let total_bucket = total.bucket(String::new());
    Ok(ServiceDeskReport {
        from_ms,
        to_ms,
        created: total.created,
        resolved: total.resolved,
        fcr_eligible: total.fcr_eligible,
        fcr_rate: total_bucket.fcr_rate,
        csat_average: total_bucket.csat_average,
        csat_response_rate: (resolved_user > 0)
            .then(|| total.csat.len() as f64 / resolved_user as f64),
        deflection_rate: (deflected_total + from_devices > 0)
            .then(|| deflected_total as f64 / (deflected_total + from_devices) as f64),
        weeks: by_week
            .iter()
            .enumerate()
            .map(|(i, w)| w.bucket(date(from_ms + i as u64 * WEEK)))
            .collect(),
        categories: by_category
            .iter()
            .map(|(k, a)| a.bucket(k.clone()))
            .collect(),
        assignees: by_assignee
            .iter()
            .map(|(k, a)| a.bucket(k.clone()))
            .collect(),
        delivery: months
            .into_iter()
            .map(|(month, days)| DeliveryMonth {
                month,
                delivered: days.len() as u64,
                mean_days: mean(&days),
                late: days.iter().filter(|d| **d > DELIVERY_TARGET_DAYS).count() as u64,
                median_days: stats(days).median_s,
            })
            .collect(),
        late_deliveries: late,
        delivery_target_days: DELIVERY_TARGET_DAYS,
    })
}

/// One table of the report as CSV (`weeks`, `categories`, `assignees`, `delivery`,
/// `late`).
pub fn csv(r: &ServiceDeskReport, table: &str) -> Result<String, ApiError> {
    tend_shared::reports::csv(r, table).map_err(ApiError::BadRequest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for d in ["1970-01-01", "2000-02-29", "2026-11-24", "2027-03-01"] {
            assert_eq!(date(parse_date(d).unwrap()), d);
        }
        assert_eq!(parse_date("2026-13-01"), None);
    }
}
