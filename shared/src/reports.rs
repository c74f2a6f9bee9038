//! `GET /api/v1/reports/service-desk`: the numbers a help-desk manager is judged by —
//! first-contact resolution, CSAT, deflection, MTTR and volume per week, per category
//! and per assignee, and laptop delivery time against the 21-day target. Each table is
//! also served as CSV (`/api/v1/reports/service-desk.csv?table=…`).

use serde::{Deserialize, Serialize};

/// Days from order to first enrollment a laptop should take at most.
pub const DELIVERY_TARGET_DAYS: f64 = 21.0;

/// One row of a breakdown (a week, a category or an assignee).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// The week's start (`2026-11-16`), the category or the assignee.
    pub key: String,
    pub created: u64,
    pub resolved: u64,
    /// Mean time to resolve, hours (pending time excluded).
    pub mttr_h: Option<f64>,
    /// First-contact resolution: resolved by the first assignee, never reassigned
    /// or reopened, over resolved tickets someone was assigned.
    pub fcr_rate: Option<f64>,
    pub csat_average: Option<f64>,
    pub csat_responses: u64,
    /// Weeks only: self-healed problems plus withdrawn help requests.
    #[serde(default)]
    pub deflected: u64,
}

/// A laptop that took longer than the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateDelivery {
    pub asset_id: String,
    pub serial: String,
    #[serde(default)]
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    pub ordered: String,
    pub delivered: String,
    pub days: f64,
}

/// Delivery time for laptops first enrolled in one month.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub delivered: u64,
    pub median_days: Option<f64>,
    pub mean_days: Option<f64>,
    pub late: u64,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceDeskReport {
    pub from_ms: u64,
    pub to_ms: u64,
    pub created: u64,
    pub resolved: u64,
    /// Resolved tickets someone was assigned (the FCR denominator).
    pub fcr_eligible: u64,
    pub fcr_rate: Option<f64>,
    pub csat_average: Option<f64>,
    pub csat_response_rate: Option<f64>,
    pub deflection_rate: Option<f64>,
    pub weeks: Vec<Bucket>,
    pub categories: Vec<Bucket>,
    pub assignees: Vec<Bucket>,
    pub delivery: Vec<DeliveryMonth>,
    pub late_deliveries: Vec<LateDelivery>,
    pub delivery_target_days: f64,
}

fn cell(s: &str) -> String {
    crate::text::csv_cell(s)
}

fn num(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{:.3}", v))
}

/// One table of the report as CSV (`weeks`, `categories`, `assignees`, `delivery`,
/// `late`).
pub fn csv(r: &ServiceDeskReport, table: &str) -> Result<String, String> {
    let mut out = String::new();
    let buckets = |label: &str, rows: &[Bucket], out: &mut String| {
        *out += &format!(
            "{label},created,resolved,mttr_h,fcr_rate,csat_average,csat_responses,deflected\n"
        );
        for b in rows {
            *out += &format!(
                "{},{},{},{},{},{},{},{}\n",
                cell(&b.key),
                b.created,
                b.resolved,
                num(b.mttr_h),
                num(b.fcr_rate),
                num(b.csat_average),
                b.csat_responses,
                b.deflected
            );
        }
    };
    match table {
        "weeks" => buckets("week", &r.weeks, &mut out),
        "categories" => buckets("category", &r.categories, &mut out),
        "assignees" => buckets("assignee", &r.assignees, &mut out),
        "delivery" => {
            out += "month,delivered,median_days,mean_days,late\n";
            for m in &r.delivery {
                out += &format!(
                    "{},{},{},{},{}\n",
                    m.month,
                    m.delivered,
                    num(m.median_days),
                    num(m.mean_days),
                    m.late
                );
            }
        }
        "late" => {
            out += "asset_id,serial,owner,ordered,delivered,days\n";
            for l in &r.late_deliveries {
                out += &format!(
                    "{},{},{},{},{},{}\n",
                    cell(&l.asset_id),
                    cell(&l.serial),
                    cell(l.owner.as_deref().unwrap_or("")),
                    l.ordered,
                    l.delivered,
                    l.days
                );
            }
        }
        other => {
            return Err(format!(
                "unknown table {other:?} (weeks|categories|assignees|delivery|late)"
            ))
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_names_unknown_tables() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        let r = ServiceDeskReport {
            assignees: vec![Bucket {
                key: "o'neil, p".into(),
                resolved: 2,
                ..Bucket::default()
            }],
            ..ServiceDeskReport::default()
        };
        let t = csv(&r, "assignees").unwrap();
        assert_eq!(t.lines().nth(1).unwrap(), "\"o'neil, p\",0,2,,,,0,0");
        assert!(csv(&r, "nope").unwrap_err().contains("weeks"));
    }
}
