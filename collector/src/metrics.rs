//! Prometheus text-format metrics, kept with atomics. Request figures live per route
//! template (a fixed set: the router's routes and `unmatched`) in a map read under a
//! shared lock; recording a request allocates nothing and takes no exclusive lock once
//! its route has been seen.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tend_shared::health::HealthStatus;

/// Upper bounds (seconds) of the request latency histogram.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The methods request figures are kept for; anything else is `other`.
pub const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

/// One route's figures: a latency histogram per method, responses per status.
#[derive(Debug)]
struct RouteStats {
    latency: [Histogram; METHODS.len()],
    /// Index: status - 100 (100..=599).
    statuses: Box<[AtomicU64]>,
}

impl Default for RouteStats {
    fn default() -> Self {
        RouteStats {
            latency: Default::default(),
            statuses: (100..600).map(|_| AtomicU64::new(0)).collect(),
        }
    }
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
    routes: RwLock<HashMap<String, Arc<RouteStats>>>,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one request: route template (not the raw path), method (an index into
    /// [`METHODS`]), status, duration.
    pub fn observe(&self, route: &str, method: usize, status: u16, took: std::time::Duration) {
        let seen = self
            .routes
            .read()
            .expect("metrics lock poisoned")
            .get(route)
            .cloned();
        let r = match seen {
            Some(r) => r,
            None => self
                .routes
                .write()
                .expect("metrics lock poisoned")
                .entry(route.to_string())
                .or_default()
                .clone(),
        };
        let h = &r.latency[method.min(METHODS.len() - 1)];
        let secs = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        h.count.fetch_add(1, Ordering::Relaxed);
        h.sum_ns
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        if let Some(c) = r.statuses.get(usize::from(status).wrapping_sub(100)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
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
        let routes = self.routes.read().expect("metrics lock poisoned");
        let mut sorted: Vec<(&String, &Arc<RouteStats>)> = routes.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        for (route, r) in &sorted {
            for (i, c) in r.statuses.iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "tend_http_responses_total{{route=\"{route}\",status=\"{}\"}} {n}",
                        i + 100
                    );
                }
            }
        }
        let name = "tend_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} HTTP request latency.\n# TYPE {name} histogram"
        );
        for (route, r) in &sorted {
            for (m, h) in METHODS.iter().zip(&r.latency) {
                let count = h.count.load(Ordering::Relaxed);
                if count == 0 {
                    continue;
                }
                let labels = format!("route=\"{route}\",method=\"{m}\"");
                for (i, b) in BUCKETS.iter().enumerate() {
                    let n = h.counts[i].load(Ordering::Relaxed);
                    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b}\"}} {n}");
                }
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
                let sum = h.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
                let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
                let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.observe("/api/v1/checkin", 1, 200, Duration::from_millis(3));
        m.observe("/api/v1/checkin", 1, 200, Duration::from_millis(200));
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
