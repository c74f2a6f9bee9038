//! Router tests for heartbeats (issue 14): once the collector acknowledged a set of
//! results by its hash, a check-in carries only what changed, or nothing; the stored
//! set, the device's health and auto-resolve follow; a lost base asks for every
//! result; older agents (no hash) are served as before.

use super::*;
use tend_shared::health::{results_hash, CheckResult, CheckStatus, HealthStatus, Severity};

fn res(id: &str, status: CheckStatus, value: f64) -> CheckResult {
    CheckResult {
        id: id.into(),
        status,
        value: serde_json::json!(value),
        threshold: serde_json::json!({"fail": 5.0}),
        message: format!("value {value}"),
        severity: Severity::Medium,
    }
}

fn body(health: &[CheckResult], hash: Option<&str>, partial: bool, at: u64) -> serde_json::Value {
    let mut b = serde_json::json!({"agent_version": "1", "inventory_hash": "",
        "health": health, "observed_at_ms": at});
    if let Some(h) = hash {
        b["health_hash"] = h.into();
    }
    if partial {
        b["health_partial"] = true.into();
    }
    b
}

#[tokio::test]
async fn heartbeats_carry_only_changes_and_still_resolve_tickets() {
    let t = setup().await;
    let d = t.enroll("HW-BEAT", None).await;
    let (id, tok) = (
        d["device_id"].as_str().unwrap().to_string(),
        d["device_token"].as_str().unwrap().to_string(),
    );
    let mut at = 1_700_000_000_000u64;
    let failing = vec![
        res("disk.free:/", CheckStatus::Fail, 2.0),
        res("cpu.load", CheckStatus::Pass, 0.5),
    ];
    let h1 = results_hash(&failing);
    let r = t
        .checkin_ok(&tok, body(&failing, Some(&h1), false, at))
        .await;
    assert_eq!(r["health_hash"], h1.as_str(), "{r}");
    assert_eq!(r["need_health"], serde_json::Value::Null, "{r}");
    let dev = t.state.store.read().device(&id).await.unwrap().unwrap();
    assert_eq!(dev.health, HealthStatus::Failing);

    // the agent files its ticket for the failing check
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&tok),
            Some(
                serde_json::json!({"request_id": "r1", "problem_key": "disk.free:/",
                "severity": "high", "summary": "Disk / is 98% full"})
                .to_string(),
            ),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let ticket = v["id"].as_str().unwrap().to_string();

    // the disk recovers: only that result travels, with the hash of the merged set
    t.clock.advance_ms(60_000);
    at += 60_000;
    let fixed = res("disk.free:/", CheckStatus::Pass, 40.0);
    let merged = vec![fixed.clone(), res("cpu.load", CheckStatus::Pass, 0.5)];
    let h2 = results_hash(&merged);
    let r = t
        .checkin_ok(&tok, body(&[fixed], Some(&h2), true, at))
        .await;
    assert_eq!(r["health_hash"], h2.as_str(), "{r}");
    let (_, stored) = t.state.store.read().health(&id).await.unwrap().unwrap();
    assert_eq!(results_hash(&stored), h2);
    let dev = t.state.store.read().device(&id).await.unwrap().unwrap();
    assert_eq!(dev.health, HealthStatus::Healthy);

    // heartbeats (no results) re-affirm the passing check until the ticket resolves
    let recovery = t.state.policy().recovery_count.max(1);
    for _ in 1..recovery {
        t.clock.advance_ms(60_000);
        at += 60_000;
        let r = t.checkin_ok(&tok, body(&[], Some(&h2), true, at)).await;
        assert_eq!(r["health_hash"], h2.as_str(), "{r}");
    }
    let (_, v) = t
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{ticket}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(v["status"], "resolved", "{v}");
    assert_eq!(v["auto_resolved"], true, "{v}");
    let dev = t.state.store.read().device(&id).await.unwrap().unwrap();
    assert_eq!(
        dev.health_at_ms, at,
        "a heartbeat moves when health was observed"
    );

    // a heartbeat on a base the collector does not hold: every result, please
    t.clock.advance_ms(60_000);
    at += 60_000;
    let r = t
        .checkin_ok(&tok, body(&[], Some("not-the-hash"), true, at))
        .await;
    assert_eq!(r["need_health"], true, "{r}");
    let (_, stored) = t.state.store.read().health(&id).await.unwrap().unwrap();
    assert_eq!(results_hash(&stored), h2, "nothing stored from a lost base");

    // an older agent (no hash): stored in full, no hash answered
    t.clock.advance_ms(60_000);
    at += 60_000;
    let r = t.checkin_ok(&tok, body(&failing, None, false, at)).await;
    assert_eq!(r["health_hash"], serde_json::Value::Null, "{r}");
    let dev = t.state.store.read().device(&id).await.unwrap().unwrap();
    assert_eq!(dev.health, HealthStatus::Failing);
    // and a partial report without a held hash is refused politely
    let r = t.checkin_ok(&tok, body(&[], Some(&h2), true, at + 1)).await;
    assert_eq!(r["need_health"], true, "{r}");
}
