//! Prometheus text-format metrics, kept with atomics and one small mutex-guarded map.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tend_shared::health::HealthStatus;

/// Upper bounds (seconds) of the request latency histogram.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters the collector exports at `GET /metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub checkins: AtomicU64,
    pub enrollments: AtomicU64,
    pub enrollments_denied: AtomicU64,
    pub inventory_updates: AtomicU64,
    /// Tickets derived from agent data (crash patterns) that could not be filed.
    pub derived_ticket_failures: AtomicU64,
    /// Background-loop items that failed (the loop went on with the rest).
    pub background_failures: AtomicU64,
    /// Requests answered 503 because too many were in flight.
    pub shed: AtomicU64,
    /// Refused requests not audited (their source was over its audit rate).
    pub refusals_unaudited: AtomicU64,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    responses: Mutex<BTreeMap<(String, u16), u64>>,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one request: route template (not the raw path), method, status, seconds.
    pub fn observe(&self, route: &str, method: &str, status: u16, secs: f64) {
        {
            let mut map = self.latency.lock().expect("metrics lock poisoned");
            let h = map
                .entry((route.to_string(), method.to_string()))
                .or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
        *self
            .responses
            .lock()
            .expect("metrics lock poisoned")
            .entry((route.to_string(), status))
            .or_default() += 1;
    }

    /// Renders everything in Prometheus text format 0.0.4.
    pub fn render(&self, devices_by_health: &[(HealthStatus, u64)], store_bytes: u64) -> String {
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            &mut out,
            "tend_checkins_total",
            "Check-ins accepted.",
            self.checkins.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "tend_enrollments_total",
            "Devices enrolled (including re-enrollments).",
            self.enrollments.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "tend_enrollments_denied_total",
            "Enrollments refused for a wrong secret.",
            self.enrollments_denied.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "tend_derived_ticket_failures_total",
            "Tickets derived from agent data that could not be filed.",
            self.derived_ticket_failures.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "tend_refusals_unaudited_total",
            "Refused requests counted but not audited (over the per-address audit rate).",
            self.refusals_unaudited.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "tend_shed_total",
            "Requests answered 503 because the collector was at capacity.",
            self.shed.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "tend_background_failures_total",
            "Background-loop items that failed while the loop went on.",
            self.background_failures.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "tend_inventory_updates_total",
            "Inventories stored because their hash changed.",
            self.inventory_updates.load(Ordering::Relaxed),
        );

        let _ = writeln!(
            out,
            "# HELP tend_devices Enrolled devices by health status.\n# TYPE tend_devices gauge"
        );
        for (h, n) in devices_by_health {
            let _ = writeln!(out, "tend_devices{{health=\"{}\"}} {n}", h.as_str());
        }
        let _ = writeln!(out, "# HELP tend_store_bytes Size of the sled store on disk.\n# TYPE tend_store_bytes gauge\ntend_store_bytes {store_bytes}");

        let _ = writeln!(out, "# HELP tend_http_responses_total HTTP responses by route and status.\n# TYPE tend_http_responses_total counter");
        for ((route, status), n) in self.responses.lock().expect("metrics lock poisoned").iter() {
            let _ = writeln!(
                out,
                "tend_http_responses_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let name = "tend_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} HTTP request latency.\n# TYPE {name} histogram"
        );
        for ((route, method), h) in self.latency.lock().expect("metrics lock poisoned").iter() {
            let labels = format!("route=\"{route}\",method=\"{method}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.observe("/api/v1/checkin", "POST", 200, 0.003);
        m.observe("/api/v1/checkin", "POST", 200, 0.2);
        let text = m.render(&[(HealthStatus::Healthy, 2)], 10);
        assert!(text.contains(r#"tend_http_request_duration_seconds_bucket{route="/api/v1/checkin",method="POST",le="0.005"} 1"#));
        assert!(text.contains(r#"tend_http_request_duration_seconds_bucket{route="/api/v1/checkin",method="POST",le="0.25"} 2"#));
        assert!(text.contains(
            r#"tend_http_request_duration_seconds_count{route="/api/v1/checkin",method="POST"} 2"#
        ));
        assert!(text.contains(r#"tend_devices{health="healthy"} 2"#));
        assert!(
            text.contains(r#"tend_http_responses_total{route="/api/v1/checkin",status="200"} 2"#)
        );
    }
}
