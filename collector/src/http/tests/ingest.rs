//! Router tests for check-in robustness (issue 12, items 5–7): acknowledged events are
//! stored events even when a device's numbering goes backwards or jumps to 2^64−1;
//! hostile strings (crash names, hostnames) are cleaned rather than refused, so a
//! device keeps checking in and the sweep keeps working for everyone.

use super::*;

fn event(seq: u64, at_ms: u64, kind: &str, data: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"seq": seq, "at_ms": at_ms, "kind": kind, "message": "m", "data": data})
}

impl T {
    async fn checkin_events(
        &self,
        token: &str,
        events: Vec<serde_json::Value>,
    ) -> serde_json::Value {
        let body =
            serde_json::json!({"agent_version": "1", "inventory_hash": "", "events": events});
        self.checkin_ok(token, body).await
    }

    async fn agent_events(&self, id: &str) -> Vec<tend_shared::devices::DeviceEvent> {
        self.state
            .store
            .read()
            .events_since(id, 0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.source == tend_shared::devices::EventSource::Agent)
            .collect()
    }
}

#[tokio::test]
async fn acknowledged_events_are_stored_events() {
    let t = setup().await;
    let d = t.enroll("HW-SEQ", None).await;
    let (id, tok) = (
        d["device_id"].as_str().unwrap(),
        d["device_token"].as_str().unwrap(),
    );
    let t0 = 1_700_000_000_000u64;
    let first: Vec<_> = (101..=110)
        .map(|s| event(s, t0 + s, "x", serde_json::json!({})))
        .collect();
    let r = t.checkin_events(tok, first.clone()).await;
    assert_eq!(r["acked_event_seq"], 110);
    // a replay is the same events, not new ones
    t.checkin_events(tok, first).await;
    assert_eq!(t.agent_events(id).await.len(), 10);

    // the state dir restored from an older copy: seqs 107..110 again, new events
    let restored: Vec<_> = (107..=110)
        .map(|s| {
            event(
                s,
                t0 + 10_000 + s,
                "crash",
                serde_json::json!({"process": "p"}),
            )
        })
        .collect();
    let r = t.checkin_events(tok, restored).await;
    assert_eq!(r["acked_event_seq"], 110, "acknowledges what it stored");
    assert_eq!(t.agent_events(id).await.len(), 14, "nothing dropped");
    let all = t
        .state
        .store
        .read()
        .events_since(id, 0, 100_000)
        .await
        .unwrap();
    assert!(all.iter().any(|e| e.kind == "agent.events_regressed"));

    // one event at u64::MAX does not swallow everything after it
    let r = t
        .checkin_events(
            tok,
            vec![event(u64::MAX, t0 + 20_000, "odd", serde_json::json!({}))],
        )
        .await;
    assert_eq!(r["acked_event_seq"], u64::MAX);
    let r = t
        .checkin_events(
            tok,
            vec![event(111, t0 + 30_000, "later", serde_json::json!({}))],
        )
        .await;
    assert_eq!(r["acked_event_seq"], 111);
    assert!(
        t.agent_events(id).await.iter().any(|e| e.kind == "later"),
        "stored, not dropped"
    );
    // a check-in with no events acknowledges nothing
    let r = t.checkin_events(tok, vec![]).await;
    assert_eq!(r["acked_event_seq"], 0);
}

#[tokio::test]
async fn hostile_strings_never_stop_check_ins_or_the_sweep() {
    let t = setup().await;
    let d = t.enroll("HW-POISON", None).await;
    let (id, tok) = (
        d["device_id"].as_str().unwrap().to_string(),
        d["device_token"].as_str().unwrap().to_string(),
    );
    let other = t.enroll("HW-FINE", None).await;
    // a crash report named by a local user: 300 bytes and control characters
    let evil = format!("{}\u{1b}[31m\n\u{0}", "a".repeat(300));
    let crashes: Vec<_> = (1..=3)
        .map(|s| {
            event(
                s,
                1_700_000_000_000 + s,
                "crash\u{7}",
                serde_json::json!({"process": evil}),
            )
        })
        .map(|mut e| {
            e["kind"] = "crash".into();
            e
        })
        .collect();
    let r = t.checkin_events(&tok, crashes).await;
    assert_eq!(r["acked_event_seq"], 3);
    let (_, tickets) = t
        .call(
            Method::GET,
            &format!("/api/v1/tickets?device={id}"),
            Some(&t.admin),
            None,
        )
        .await;
    let tickets = tickets["items"].clone();
    let key = tickets[0]["problem_key"].as_str().unwrap();
    assert!(key.starts_with("crash:aaa") && key.len() <= 200, "{key}");
    assert!(!key.chars().any(char::is_control));
    // a kind with a control character is cleaned, not a 400
    t.checkin_events(
        &tok,
        vec![event(
            4,
            1_700_000_000_100,
            "odd\u{1}kind",
            serde_json::json!(null),
        )],
    )
    .await;

    // an inventory hostname of 500 bytes with a control character
    let mut inv: serde_json::Value =
        serde_json::to_value(tend_shared::inventory::Inventory::default()).unwrap();
    inv["hostname"] = format!("{}\u{7}", "h".repeat(500)).into();
    let body = serde_json::json!({"agent_version": "1", "inventory_hash": "", "inventory": inv});
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some(&tok),
            Some(body.to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let dev = t.state.store.read().device(&id).await.unwrap().unwrap();
    assert!(dev.hostname.len() <= 255 && !dev.hostname.contains('\u{7}'));

    // both devices fall silent: the sweep files offline tickets for both
    for d in [&id, other["device_id"].as_str().unwrap()] {
        t.state
            .store
            .test_update_device(d, |r| r.last_seen_ms = 1_700_000_000_000)
            .await;
    }
    t.clock.advance_ms(4 * 86_400_000);
    let report = crate::sweep::sweep(&t.state).await.unwrap();
    assert_eq!(report.offline_tickets, 2);
}
