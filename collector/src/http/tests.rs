//! Router tests through `tower::ServiceExt::oneshot`: error paths, roles, enrollment
//! identity rules and asset linking, with a real sled store in a temp dir.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tend_shared::api::Role;
use tower::ServiceExt;

use crate::clock::ManualClock;
use crate::state::{AppState, Keys, Limits};
use crate::store::Store;

struct T {
    _dir: tempfile::TempDir,
    state: AppState,
    admin: String,
}

const SECRET: &str = "tes_test";

fn setup() -> T {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let keys = Keys::new(
        "ca".into(),
        ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
        SECRET,
    );
    let state = AppState::new(
        store,
        ManualClock::new(1_700_000_000_000),
        keys,
        Limits::default(),
    )
    .unwrap();
    let admin =
        crate::service::tokens::create(&state.store, 1, Role::Admin, "admin", "test").unwrap();
    T {
        _dir: dir,
        state,
        admin,
    }
}

impl T {
    fn app(&self) -> Router {
        super::app(self.state.clone())
    }

    fn token(&self, role: Role, name: &str) -> String {
        crate::service::tokens::create(&self.state.store, 1, role, name, "test").unwrap()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let resp = self.app().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("non-JSON body for {status}: {bytes:?}"));
        (status, json)
    }

    async fn enroll(&self, hw: &str, serial: Option<&str>) -> serde_json::Value {
        let body = serde_json::json!({
            "enroll_secret": SECRET,
            "agent_version": "0.1.0",
            "identity": {"hardware_uuid": hw, "serial": serial, "hostname": format!("host-{hw}"), "platform": "linux"}
        });
        let (status, v) = self
            .call(Method::POST, "/api/v1/enroll", None, Some(body.to_string()))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }
}

fn assert_error(v: &serde_json::Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
}

#[tokio::test]
async fn malformed_and_incomplete_bodies_are_400_with_json() {
    let t = setup();
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/enroll",
            None,
            Some("{not json".into()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad_request");
    // missing required field
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/enroll",
            None,
            Some(r#"{"enroll_secret":"x"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing field"),
        "{v}"
    );
    // wrong type in a query
    let (s, v) = t
        .call(
            Method::GET,
            "/api/v1/devices?last_seen_older_than_s=abc",
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad_request");
    // bad filter value
    let (s, _) = t
        .call(
            Method::GET,
            "/api/v1/devices?platform=windows",
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // unknown fields are ignored
    let body = serde_json::json!({"enroll_secret": SECRET, "agent_version": "9", "future": true,
        "identity": {"hardware_uuid": "U1", "hostname": "h", "platform": "linux", "tpm": "x"}});
    let (s, _) = t
        .call(Method::POST, "/api/v1/enroll", None, Some(body.to_string()))
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn unknown_tokens_and_wrong_secret_are_401_and_audited() {
    let t = setup();
    let (s, v) = t.call(Method::GET, "/api/v1/devices", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_error(&v, "unauthorized");
    let (s, _) = t
        .call(Method::GET, "/api/v1/devices", Some("tak_nope"), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some("tdv_nope"),
            Some("{}".into()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let body = serde_json::json!({"enroll_secret": "wrong", "agent_version": "1",
        "identity": {"hardware_uuid": "U1", "hostname": "h", "platform": "linux"}});
    let (s, v) = t
        .call(Method::POST, "/api/v1/enroll", None, Some(body.to_string()))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_error(&v, "unauthorized");
    let (_, audit) = t
        .call(
            Method::GET,
            "/api/v1/audit?action=device.enroll",
            Some(&t.admin),
            None,
        )
        .await;
    let e = &audit.as_array().unwrap()[0];
    assert_eq!(e["outcome"], "denied");
    assert_eq!(e["detail"]["hardware_uuid"], "U1");
}

#[tokio::test]
async fn roles_are_enforced_and_refusals_audited() {
    let t = setup();
    let viewer = t.token(Role::Viewer, "vera");
    let analyst = t.token(Role::Analyst, "ana");
    let asset = r#"{"serial":"SN-1"}"#.to_string();
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/assets",
            Some(&viewer),
            Some(asset.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_error(&v, "forbidden");
    let (s, _) = t
        .call(Method::GET, "/api/v1/assets", Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t
        .call(Method::POST, "/api/v1/assets", Some(&analyst), Some(asset))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = t
        .call(Method::GET, "/api/v1/audit", Some(&analyst), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .call(
            Method::PUT,
            "/api/v1/policy",
            Some(&analyst),
            Some("{}".into()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // a device token cannot use the analyst API, nor an analyst token the agent API
    let dev = t.enroll("U9", None).await;
    let dev_token = dev["device_token"].as_str().unwrap();
    let (s, _) = t
        .call(Method::GET, "/api/v1/devices", Some(dev_token), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some(&analyst),
            Some(r#"{"agent_version":"1","inventory_hash":""}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, audit) = t
        .call(
            Method::GET,
            "/api/v1/audit?limit=1000",
            Some(&t.admin),
            None,
        )
        .await;
    let denied: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "denied")
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        denied.contains(&("token:vera".into(), "asset.create".into())),
        "{denied:?}"
    );
    assert!(
        denied.contains(&("token:ana".into(), "audit.read".into())),
        "{denied:?}"
    );
    assert!(
        denied.contains(&("token:ana".into(), "policy.update".into())),
        "{denied:?}"
    );
    // successful analyst actions are audited too
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"] == "token:ana"
            && e["action"] == "asset.create"
            && e["outcome"] == "success"));
}

#[tokio::test]
async fn oversized_bodies_are_413_with_json() {
    let t = setup();
    let big = format!(r#"{{"enroll_secret":"{}"}}"#, "x".repeat(2 << 20));
    let (s, v) = t
        .call(Method::POST, "/api/v1/enroll", None, Some(big))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&v, "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let t = setup();
    let (s, v) = t.call(Method::GET, "/api/v1/nope", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found");
    let (s, v) = t
        .call(Method::DELETE, "/api/v1/devices", Some(&t.admin), None)
        .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&v, "method_not_allowed");
    let (s, v) = t
        .call(Method::GET, "/api/v1/devices/ffff", Some(&t.admin), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found");
}

#[tokio::test]
async fn same_hardware_uuid_is_the_same_device_and_asset() {
    let t = setup();
    let a = t.enroll("HW-1", Some("C02XYZ")).await;
    let b = t.enroll("HW-1", Some("C02XYZ")).await;
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
    assert_eq!(devices.as_array().unwrap().len(), 1);
    let (_, assets) = t
        .call(Method::GET, "/api/v1/assets", Some(&t.admin), None)
        .await;
    assert_eq!(assets.as_array().unwrap().len(), 1);
    // a different machine is a different device
    let c = t.enroll("HW-2", None).await;
    assert_ne!(a["device_id"], c["device_id"]);
}

#[tokio::test]
async fn preregistered_asset_is_linked_and_deployed_at_enrollment() {
    let t = setup();
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
    assert_eq!(audit[0]["target"], aid);
}

#[tokio::test]
async fn checkin_stores_inventory_once_and_reports_changes() {
    let t = setup();
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
    assert_eq!(l.as_array().unwrap().len(), 1);
    let (_, l) = t
        .call(
            Method::GET,
            "/api/v1/devices?health=healthy",
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(l.as_array().unwrap().len(), 0);
    let (_, l) = t
        .call(
            Method::GET,
            "/api/v1/devices?last_seen_older_than_s=60",
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(l.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn policy_updates_are_versioned_validated_and_audited() {
    let t = setup();
    let (s, v) = t
        .call(
            Method::PUT,
            "/api/v1/policy",
            Some(&t.admin),
            Some(r#"{"checkin_interval_s":1}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
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
    assert_eq!(a[0]["action"], "policy.update");
}

#[tokio::test]
async fn metrics_and_healthz_are_open() {
    let t = setup();
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
    let t = setup();
    for (path, ctype, needle) in [
        ("/", "text/html", "/ui/app.js"),
        ("/ui/app.js", "text/javascript", "/api/v1/devices"),
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
    }
}

#[tokio::test]
async fn long_poll_wakes_on_policy_change_and_times_out_cleanly() {
    let t = setup();
    let dev = t.enroll("HW-LP", None).await;
    let token = dev["device_token"].as_str().unwrap().to_string();
    // up to date: waits, then answers with nothing
    let start = std::time::Instant::now();
    let (s, v) = t
        .call(
            Method::GET,
            "/api/v1/jobs/next?wait=1&policy_version=1",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["policy_version"], 1);
    assert!(start.elapsed() >= std::time::Duration::from_millis(900));
    // stale: answers at once
    let (_, v) = t
        .call(
            Method::GET,
            "/api/v1/jobs/next?wait=30&policy_version=0",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(v["policy_version"], 1);
    // a policy change wakes a waiting poll
    let app = t.app();
    let waiter = tokio::spawn(async move {
        let req = Request::builder()
            .uri("/api/v1/jobs/next?wait=30&policy_version=1")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let start = std::time::Instant::now();
    let (s, _) = t
        .call(
            Method::PUT,
            "/api/v1/policy",
            Some(&t.admin),
            Some("{}".into()),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let v = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["policy_version"], 2);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn long_poll_delivers_a_job_queued_while_waiting() {
    let t = setup();
    let dev = t.enroll("HW-JOB", None).await;
    let token = dev["device_token"].as_str().unwrap().to_string();
    let id = dev["device_id"].as_str().unwrap().to_string();
    let app = t.app();
    let waiter = tokio::spawn(async move {
        let req = Request::builder()
            .uri("/api/v1/jobs/next?wait=30&policy_version=1")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        serde_json::from_slice::<serde_json::Value>(
            &resp.into_body().collect().await.unwrap().to_bytes(),
        )
        .unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let analyst = t.token(Role::Analyst, "ana");
    let (s, job) = t
        .call(
            Method::POST,
            &format!("/api/v1/devices/{id}/diagnostics"),
            Some(&analyst),
            Some(r#"{"name":"disk-usage","args":["/tmp"]}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{job}");
    let v = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["jobs"][0]["id"], job["id"]);
    assert_eq!(v["jobs"][0]["spec"]["type"], "diagnostic");
    let (_, j) = t
        .call(
            Method::GET,
            &format!("/api/v1/jobs/{}", job["id"].as_str().unwrap()),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(j["state"], "delivered");
    // bad arguments are a 400 before anything is queued; viewers cannot queue
    let (s, _) = t
        .call(
            Method::POST,
            &format!("/api/v1/devices/{id}/diagnostics"),
            Some(&analyst),
            Some(r#"{"name":"disk-usage","args":["/etc"]}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let viewer = t.token(Role::Viewer, "v");
    let (s, _) = t
        .call(
            Method::POST,
            &format!("/api/v1/devices/{id}/diagnostics"),
            Some(&viewer),
            Some(r#"{"name":"routes"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // unapproved scripts cannot be queued
    let (s, sc) = t
        .call(
            Method::POST,
            "/api/v1/scripts",
            Some(&t.admin),
            Some(r#"{"name":"x","interpreter":"sh","body":"echo"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sc}");
    let body = format!(r#"{{"script_id":"{}"}}"#, sc["id"].as_str().unwrap());
    let (s, _) = t
        .call(
            Method::POST,
            &format!("/api/v1/devices/{id}/scripts"),
            Some(&analyst),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/scripts",
            Some(&t.admin),
            Some(r#"{"name":"y","interpreter":"perl","body":"print 1"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// Regression: sled 0.34's `flush_async` deadlocked once a handful of requests flushed
/// at the same time (all of sled's I/O threads waiting on a write queued behind them).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acknowledged_writes_do_not_deadlock_the_flush() {
    let t = setup();
    let mut tasks = Vec::new();
    for i in 0..96 {
        let st = t.state.clone();
        tasks.push(tokio::spawn(async move {
            let req = tend_shared::enroll::EnrollRequest {
                enroll_secret: SECRET.into(),
                agent_version: "1".into(),
                identity: tend_shared::enroll::HardwareIdentity {
                    hardware_uuid: format!("HW-C{i}"),
                    serial: None,
                    hostname: format!("h{i}"),
                    platform: tend_shared::enroll::Platform::Linux,
                    vendor: None,
                    model: None,
                },
            };
            crate::service::enroll::enroll(&st, req).await.unwrap()
        }));
    }
    let all = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let mut n = 0;
        for task in tasks {
            task.await.unwrap();
            n += 1;
        }
        n
    })
    .await
    .expect("96 concurrent enrollments must all be acknowledged");
    assert_eq!(all, 96);
    assert_eq!(t.state.store.device_count(), 96);
}
