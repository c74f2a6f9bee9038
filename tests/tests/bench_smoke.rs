//! Keeps the load generator from rotting: `tend-bench steady` at a tiny size for a
//! couple of seconds against a real collector, and its report must be complete and
//! error-free. (Figures come from full-size runs by hand; see BENCHMARKS.md.)

use std::process::Command;

#[test]
fn load_generator_runs_a_small_steady_scenario() {
    let out = Command::new(tend_e2e::bin("tend-bench"))
        .args([
            "--connections",
            "4",
            "steady",
            "--devices",
            "20",
            "--rate",
            "50",
            "--duration",
            "2",
            "--fail-share",
            "0.1",
        ])
        .output()
        .expect("running tend-bench");
    assert!(
        out.status.success(),
        "tend-bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(r["devices"], 20);
    assert_eq!(r["enroll"]["errors"], 0);
    assert_eq!(r["checkins"]["latency"]["errors"], 0, "{r}");
    assert!(r["checkins"]["completed"].as_u64().unwrap() >= 50, "{r}");
    assert!(r["checkins"]["latency"]["p99_ms"].as_f64().is_some());
    assert_eq!(
        r["ticket_visible_ms"]["samples"], 2,
        "2 of 20 devices fail and file tickets"
    );
    assert!(r["collector"]["rss_mib"].as_f64().unwrap() > 0.0);
    assert!(r["collector"]["store_bytes_per_device"].as_u64().unwrap() > 0);
}
