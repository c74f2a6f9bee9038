//! Router tests: enrollment identity rules, asset linking, check-in ingest, policy,
//! and the open ops endpoints and dashboard.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use tower::ServiceExt;

use super::*;
#[tokio::test]
async fn same_hardware_uuid_is_the_same_device_and_asset() {
    let t = setup().await;
    let a = t.enroll("HW-1", Some("C02XYZ")).await;
    // the same machine, proving it with the token it holds
    let (s, b) = t
        .enroll_with(
            "HW-1",
            Some("C02XYZ"),
            serde_json::json!({"proof": {"previous_token": a["device_token"]}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(a["device_id"], b["device_id"]);
    assert_eq!(b["reenrolled"], true);
    assert_ne!(a["device_token"], b["device_token"]);
    // the old token is revoked, the new one works
    let checkin = r#"{"agent_version":"0.1.0","inventory_hash":"x"}"#.to_string();
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            a["device_token"].as_str(),
            Some(checkin.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            b["device_token"].as_str(),
            Some(checkin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["need_inventory"], true);
    let (_, devices) = t
        .call(Method::GET, "/api/v1/devices", Some(&t.admin), None)
        .await;
    let devices = devices["items"].clone();
    assert_eq!(devices.as_array().unwrap().len(), 1);
    let (_, assets) = t
        .call(Method::GET, "/api/v1/assets", Some(&t.admin), None)
        .await;
    let assets = assets["items"].clone();
    assert_eq!(assets.as_array().unwrap().len(), 1);
    // a different machine is a different device
    let c = t.enroll("HW-2", None).await;
    assert_ne!(a["device_id"], c["device_id"]);
}

#[tokio::test]
async fn preregistered_asset_is_linked_and_deployed_at_enrollment() {
    let t = setup().await;
    let body = r#"{"serial":"c02abc ","owner":"dana@example.com","location":"Paris","purchase_date":"2026-10-01"}"#;
    let (s, asset) = t
        .call(
            Method::POST,
            "/api/v1/assets",
            Some(&t.admin),
            Some(body.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{asset}");
    assert_eq!(asset["state"], "ordered");
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/assets",
            Some(&t.admin),
            Some(r#"{"serial":"C02ABC"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/assets",
            Some(&t.admin),
            Some(r#"{"serial":"X","purchase_date":"2026-13-01"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let dev = t.enroll("HW-A", Some("C02ABC")).await;
    let id = dev["device_id"].as_str().unwrap();
    let (_, detail) = t
        .call(
            Method::GET,
            &format!("/api/v1/devices/{id}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(detail["asset"]["id"], asset["id"]);
    assert_eq!(detail["asset"]["state"], "deployed");
    assert_eq!(detail["asset"]["owner"], "dana@example.com");
    assert!(detail["asset"]["deployed_at_ms"].as_u64().is_some());
    assert!(detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "asset.state_changed"));

    // lifecycle change through PATCH lands on the device timeline and in the audit log
    let aid = asset["id"].as_str().unwrap();
    let (s, patched) = t
        .call(
            Method::PATCH,
            &format!("/api/v1/assets/{aid}"),
            Some(&t.admin),
            Some(r#"{"state":"in_repair","notes":"keyboard"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(patched["state"], "in_repair");
    let (_, detail) = t
        .call(
            Method::GET,
            &format!("/api/v1/devices/{id}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(detail["events"][0]["kind"], "asset.state_changed");
    assert_eq!(detail["events"][0]["data"]["to"], "in_repair");
    let (_, audit) = t
        .call(
            Method::GET,
            "/api/v1/audit?action=asset.update",
            Some(&t.admin),
            None,
        )
        .await;
    let audit = audit["items"].clone();
    assert_eq!(audit[0]["target"], aid);
}

#[tokio::test]
async fn checkin_stores_inventory_once_and_reports_changes() {
    let t = setup().await;
    let dev = t.enroll("HW-C", None).await;
    let token = dev["device_token"].as_str().unwrap();
    let id = dev["device_id"].as_str().unwrap();
    let mut inv = tend_shared::inventory::Inventory {
        hostname: "lap".into(),
        ..Default::default()
    };
    inv.memory.total_bytes = 8 << 30;
    inv.os.name = "Debian GNU/Linux".into();
    inv.os.version = "12".into();
    let req = |inv: &tend_shared::inventory::Inventory, send: bool, events: serde_json::Value| {
        serde_json::json!({"agent_version": "0.1.0", "inventory_hash": inv.content_hash(),
            "inventory": if send { serde_json::to_value(inv).unwrap() } else { serde_json::Value::Null },
            "health": [{"id": "disk.free:/", "status": "fail", "value": 3.0, "threshold": 5.0, "message": "low", "severity": "high"}],
            "events": events, "policy_version": 0}).to_string()
    };
    let ev = serde_json::json!([{"seq": 1, "at_ms": 5, "kind": "agent.started"}, {"seq": 2, "at_ms": 6, "kind": "crash", "message": "Finder"}]);
    let (s, r) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some(token),
            Some(req(&inv, true, ev.clone())),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["acked_event_seq"], 2);
    assert_eq!(r["need_inventory"], false);
    assert_eq!(r["policy_version"], 1);
    assert!(r["policy"].is_object(), "a stale agent gets the policy");
    // replayed events are not stored twice; hash-only check-in needs nothing
    let (_, r) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some(token),
            Some(req(&inv, false, ev)),
        )
        .await;
    assert_eq!(r["need_inventory"], false);
    assert_eq!(r["acked_event_seq"], 2);
    // a RAM upgrade becomes an event
    inv.memory.total_bytes = 16 << 30;
    let (_, _) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some(token),
            Some(req(&inv, true, serde_json::json!([]))),
        )
        .await;
    let (_, d) = t
        .call(
            Method::GET,
            &format!("/api/v1/devices/{id}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(d["device"]["health"], "failing");
    assert_eq!(d["device"]["os"], "Debian GNU/Linux 12");
    assert_eq!(d["inventory"]["memory"]["total_bytes"], 16u64 << 30);
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "crash").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "agent.started").count(),
        1,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"inventory.memory_changed"), "{kinds:?}");
    // check transitions are the agent's events, not derived a second time here
    assert_eq!(
        kinds.iter().filter(|k| **k == "check.failed").count(),
        0,
        "{kinds:?}"
    );
    // filters
    let (_, l) = t
        .call(
            Method::GET,
            "/api/v1/devices?health=failing&platform=linux",
            Some(&t.admin),
            None,
        )
        .await;
    let l = l["items"].clone();
    assert_eq!(l.as_array().unwrap().len(), 1);
    let (_, l) = t
        .call(
            Method::GET,
            "/api/v1/devices?health=healthy",
            Some(&t.admin),
            None,
        )
        .await;
    let l = l["items"].clone();
    assert_eq!(l.as_array().unwrap().len(), 0);
    let (_, l) = t
        .call(
            Method::GET,
            "/api/v1/devices?last_seen_older_than_s=60",
            Some(&t.admin),
            None,
        )
        .await;
    let l = l["items"].clone();
    assert_eq!(l.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn policy_updates_are_versioned_validated_and_audited() {
    let t = setup().await;
    let (s, v) = t
        .call(
            Method::PUT,
            "/api/v1/policy",
            Some(&t.admin),
            Some(r#"{"checkin_interval_s":1}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // the field at fault is named, for the console to show the error beside it
    assert_eq!(v["error"]["field"], "checkin_interval_s", "{v}");
    let (_, v) = t
        .call(
            Method::PUT,
            "/api/v1/policy",
            Some(&t.admin),
            Some(r#"{"checks":{"disk.free":{"fail":1e12}}}"#.into()),
        )
        .await;
    assert_eq!(v["error"]["field"], "checks.disk.free", "{v}");
    let (s, v) = t
        .call(
            Method::PUT,
            "/api/v1/policy",
            Some(&t.admin),
            Some(r#"{"version":77,"checks":{"disk.free":{"fail":99}}}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["version"], 2);
    let (_, v) = t
        .call(Method::GET, "/api/v1/policy", Some(&t.admin), None)
        .await;
    assert_eq!(v["checks"]["disk.free"]["fail"], 99.0);
    let (_, a) = t
        .call(
            Method::GET,
            "/api/v1/audit?action=policy",
            Some(&t.admin),
            None,
        )
        .await;
    let a = a["items"].clone();
    assert_eq!(a[0]["action"], "policy.update");
}

#[tokio::test]
async fn metrics_and_healthz_are_open() {
    let t = setup().await;
    t.enroll("HW-M", None).await;
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = t.app().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("tend_enrollments_total 1"), "{text}");
    assert!(
        text.contains(r#"tend_devices{health="unknown"} 1"#),
        "{text}"
    );
    let (s, v) = t.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["devices"], 1);
}

#[test]
fn clock_is_injectable() {
    let c = ManualClock::new(5);
    c.advance_ms(10);
    let shared: Arc<dyn crate::clock::Clock> = c;
    assert_eq!(shared.now_ms(), 15);
}

#[tokio::test]
async fn dashboard_is_served_with_a_strict_csp() {
    let t = setup().await;
    for (path, ctype, needle) in [
        ("/", "text/html", "/ui/app.js"),
        ("/ui/app.js", "text/javascript", "./overview.js"),
        ("/ui/devices.js", "text/javascript", "/api/v1/devices"),
        ("/ui/style.css", "text/css", "table"),
    ] {
        let resp = t
            .app()
            .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let h = resp.headers();
        assert!(
            h[header::CONTENT_TYPE].to_str().unwrap().starts_with(ctype),
            "{path}"
        );
        assert!(h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
        let body = String::from_utf8(
            resp.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        assert!(body.contains(needle), "{path}");
        assert!(!body.contains("<script>"), "no inline script in {path}");
    }
    let (s, v) = t.call(Method::GET, "/ui/nope.js", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found");
}
