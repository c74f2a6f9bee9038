//! The wire's shapes, pinned: real answers of the main endpoints (a device enrolled,
//! checked in with a failing check, its ticket filed, an asset, a webhook, the audit
//! log…) reduced to their shape — every key, and each value's JSON type — and compared
//! with `collector/golden/<name>.json`. A field renamed, dropped or retyped fails
//! here; an intended change is re-recorded with `TEND_BLESS=1 cargo test -p
//! tend-collector wire` and reviewed in the diff. The same files feed the API reference.

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::*;

/// `v` with every scalar replaced by its JSON type, arrays by the merged shape of their
/// elements, and object keys sorted (serde_json's map is ordered).
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => {
            let mut merged = Value::Null;
            for i in items {
                merged = merge(merged, shape(i));
            }
            if merged.is_null() {
                json!([])
            } else {
                json!([merged])
            }
        }
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

/// Two shapes as one: objects take the union of their keys; differing scalars read
/// `a|b` (an optional field is `null|string`).
fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Null, b) => b,
        (Value::Object(mut x), Value::Object(y)) => {
            for (k, v) in y {
                let merged = match x.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                x.insert(k, merged);
            }
            Value::Object(x)
        }
        (Value::Array(mut x), Value::Array(y)) => match (x.pop(), y.into_iter().next()) {
            (Some(a), Some(b)) => json!([merge(a, b)]),
            (Some(a), None) | (None, Some(a)) => json!([a]),
            (None, None) => json!([]),
        },
        (a, b) if a == b => a,
        (Value::String(a), Value::String(b)) => {
            let mut kinds: Vec<&str> = a.split('|').chain(b.split('|')).collect();
            kinds.sort();
            kinds.dedup();
            json!(kinds.join("|"))
        }
        (a, _) => a,
    }
}

fn golden(name: &str, got: &Value) -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(&shape(got)).unwrap() + "\n";
    if std::env::var_os("TEND_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    (want != text).then(|| {
        format!(
            "{name}: the wire shape changed (re-record with TEND_BLESS=1 if intended)\n--- {}\n{want}\n+++ now\n{text}",
            path.display()
        )
    })
}

#[tokio::test]
async fn the_main_answers_keep_their_wire_shape() {
    let t = setup().await;
    let mut answers: Vec<(&str, Value)> = Vec::new();
    let enrolled = t.enroll("HW-W", Some("C02WIRE")).await;
    answers.push(("enroll", enrolled.clone()));
    let token = enrolled["device_token"].as_str().unwrap();
    let id = enrolled["device_id"].as_str().unwrap().to_string();
    let mut inv = tend_shared::inventory::Inventory {
        hostname: "lap".into(),
        ..Default::default()
    };
    inv.os.name = "Debian GNU/Linux".into();
    let body = json!({"agent_version": "0.1.0", "inventory_hash": inv.content_hash(),
        "inventory": inv,
        "health": [{"id": "disk.free:/", "status": "fail", "value": 3.0, "threshold": 5.0,
            "message": "low", "severity": "high"}],
        "events": [{"seq": 1, "at_ms": 5, "kind": "agent.started"}], "policy_version": 0});
    answers.push(("checkin", t.checkin_ok(token, body).await));
    let a = Some(t.admin.as_str());
    // one device makes a fleet-wide problem here, so the problems answer has a row
    let (s, mut settings) = t
        .call(Method::GET, "/api/v1/settings/tickets", a, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{settings}");
    settings["problem_min_devices"] = json!(1);
    let (s, v) = t
        .call(
            Method::PUT,
            "/api/v1/settings/tickets",
            a,
            Some(settings.to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, ticket) = t
        .call(
            Method::POST,
            "/api/v1/tickets",
            a,
            Some(
                json!({"request_id": "w-1", "device_id": id, "problem_key": "wifi",
                "summary": "wifi drops", "description": "since Monday", "severity": "medium"})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ticket}");
    let ticket_id = ticket["id"].as_str().unwrap_or_default().to_string();
    answers.push(("ticket_created", ticket));
    let (s, hook) = t
        .call(
            Method::POST,
            "/api/v1/webhooks",
            a,
            Some(
                json!({"url": "https://93.184.215.14/tend", "secret": "s3cret-s3cret-s3cret"})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{hook}");
    answers.push(("webhook", hook));
    for (name, path) in [
        ("devices", "/api/v1/devices".to_string()),
        ("device", format!("/api/v1/devices/{id}")),
        ("device_events", format!("/api/v1/devices/{id}/events")),
        ("tickets", "/api/v1/tickets".to_string()),
        ("ticket", format!("/api/v1/tickets/{ticket_id}")),
        ("assets", "/api/v1/assets".to_string()),
        ("audit", "/api/v1/audit?limit=5".to_string()),
        ("policy", "/api/v1/policy".to_string()),
        ("tokens", "/api/v1/tokens".to_string()),
        ("users", "/api/v1/users".to_string()),
        ("webhooks", "/api/v1/webhooks".to_string()),
        ("problems", "/api/v1/problems".to_string()),
        ("report_overview", "/api/v1/reports/overview".to_string()),
        ("report_sla", "/api/v1/reports/sla".to_string()),
        (
            "report_service_desk",
            "/api/v1/reports/service-desk".to_string(),
        ),
        ("settings_tickets", "/api/v1/settings/tickets".to_string()),
        ("settings_security", "/api/v1/settings/security".to_string()),
        ("enrollments", "/api/v1/enrollments".to_string()),
        ("enroll_tokens", "/api/v1/enroll-tokens".to_string()),
        ("releases", "/api/v1/releases".to_string()),
        ("scripts", "/api/v1/scripts".to_string()),
        ("kb", "/api/v1/kb".to_string()),
        ("healthz", "/healthz".to_string()),
    ] {
        let (s, v) = t.call(Method::GET, &path, a, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        answers.push((name, v));
    }
    let (s, err) = t.call(Method::GET, "/api/v1/devices/nope", a, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    answers.push(("error", err));
    let changed: Vec<String> = answers.iter().filter_map(|(n, v)| golden(n, v)).collect();
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}

#[test]
fn shapes_merge_array_elements_and_name_optional_fields() {
    let v = json!({"b": [{"x": 1, "y": null}, {"x": 2, "y": "s", "z": true}], "a": "t"});
    let mut want = Map::new();
    want.insert("a".into(), json!("string"));
    want.insert(
        "b".into(),
        json!([{"x": "number", "y": "null|string", "z": "bool"}]),
    );
    assert_eq!(shape(&v), Value::Object(want));
}
