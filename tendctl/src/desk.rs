//! `tendctl report service-desk [--days N] [--csv TABLE]`: first-contact resolution,
//! CSAT, deflection, and volume/MTTR per week, category and assignee, plus laptop
//! delivery time against the 21-day target — as text, JSON, or one table as CSV.

use std::fmt::Write as _;

use tend_client::TransportError;
use tend_shared::reports::{Bucket, ServiceDeskReport};

use crate::ctl::Ctl;

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.0}%", v * 100.0))
}

fn num(v: Option<f64>, unit: &str) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}{unit}"))
}

fn table(out: &mut String, label: &str, rows: &[Bucket]) {
    let _ = writeln!(
        out,
        "  {label:<18} {:>7} {:>8} {:>8} {:>6} {:>6}",
        "created", "resolved", "MTTR", "FCR", "CSAT"
    );
    for b in rows {
        let _ = writeln!(
            out,
            "  {:<18} {:>7} {:>8} {:>8} {:>6} {:>6}",
            b.key.chars().take(18).collect::<String>(),
            b.created,
            b.resolved,
            num(b.mttr_h, "h"),
            pct(b.fcr_rate),
            num(b.csat_average, "")
        );
    }
}

fn text(r: &ServiceDeskReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Service desk: {} created, {} resolved; first-contact resolution {} of {}; CSAT {} ({} answered); deflection {}",
        r.created,
        r.resolved,
        pct(r.fcr_rate),
        r.fcr_eligible,
        num(r.csat_average, "/5"),
        pct(r.csat_response_rate),
        pct(r.deflection_rate)
    );
    let _ = writeln!(out, "\nBy week:");
    table(&mut out, "week", &r.weeks);
    let _ = writeln!(out, "\nBy category:");
    table(&mut out, "category", &r.categories);
    let _ = writeln!(out, "\nBy assignee:");
    table(&mut out, "assignee", &r.assignees);
    let _ = writeln!(
        out,
        "\nLaptop delivery (order to first enrollment, target {} days):",
        r.delivery_target_days
    );
    if r.delivery.is_empty() {
        let _ = writeln!(out, "  no laptop delivered in this range");
    }
    for m in &r.delivery {
        let _ = writeln!(
            out,
            "  {}  {} delivered, median {}, mean {}, {} late",
            m.month,
            m.delivered,
            num(m.median_days, " d"),
            num(m.mean_days, " d"),
            m.late
        );
    }
    for l in &r.late_deliveries {
        let _ = writeln!(
            out,
            "  late: {} ({}) ordered {}, delivered {}: {} days",
            l.serial,
            l.owner.as_deref().unwrap_or("no owner"),
            l.ordered,
            l.delivered,
            l.days
        );
    }
    out
}

impl Ctl {
    /// The report over the last `days` days; one table as CSV with `csv`.
    pub async fn service_desk(&self, days: u64, csv: Option<&str>) -> anyhow::Result<String> {
        let to = tend_shared::now_ms() + 1;
        let path = format!(
            "/api/v1/reports/service-desk?from={}&to={to}",
            to.saturating_sub(days.saturating_mul(86_400_000))
        );
        let r: ServiceDeskReport = self
            .client
            .get(&path)
            .await
            .map_err(|e: TransportError| e)?;
        Ok(match csv {
            Some(t) => tend_shared::reports::csv(&r, t).map_err(anyhow::Error::msg)?,
            None => self.show(&r, text),
        })
    }
}
