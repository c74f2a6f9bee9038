//! What the web console reads beyond the lists: the overview's counts and trends, the
//! conditional GETs it polls with, the unassigned queue and the typed diagnostics
//! catalogue.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use tower::ServiceExt;

use super::*;

const HOUR: u64 = 3_600_000;

async fn file(t: &T, token: &str, device: &str, key: &str, severity: &str) -> String {
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(token),
            Some(
                serde_json::json!({"request_id": format!("{device}-{key}"), "device_id": device,
                    "problem_key": key, "severity": severity, "summary": key})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

async fn patch(t: &T, token: &str, id: &str, body: serde_json::Value) {
    let (s, v) = t
        .call(
            Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            Some(token),
            Some(body.to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn the_overview_counts_the_fleet_the_backlog_and_the_trends() {
    let t = setup().await;
    let analyst = t.token(Role::Analyst, "ana").await;
    let viewer = t.token(Role::Viewer, "vic").await;
    let mut devices = Vec::new();
    for hw in ["a", "b", "c"] {
        let d = t.enroll(hw, None).await;
        let token = d["device_token"].as_str().unwrap().to_string();
        t.checkin_ok(
            &token,
            serde_json::json!({"agent_version": "1", "inventory_hash": "", "health": [], "observed_at_ms": 1}),
        )
        .await;
        devices.push(d["device_id"].as_str().unwrap().to_string());
    }
    // one more, enrolled but never checked in: neither offline nor stale
    t.enroll("d", None).await;
    let critical = file(&t, &analyst, &devices[0], "disk.free:/", "critical").await;
    let low = file(&t, &analyst, &devices[1], "printer.jam", "low").await;
    file(&t, &analyst, &devices[2], "printer.jam", "low").await;
    t.clock.advance_ms(2 * HOUR);
    patch(
        &t,
        &analyst,
        &critical,
        serde_json::json!({"assignee": "me"}),
    )
    .await;
    patch(
        &t,
        &analyst,
        &critical,
        serde_json::json!({"status": "resolved"}),
    )
    .await;
    patch(&t, &analyst, &low, serde_json::json!({"assignee": "me"})).await;

    let (s, o) = t
        .call(Method::GET, "/api/v1/reports/overview", Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["devices"], 4);
    assert_eq!(o["health"]["unknown"], 4, "{o}");
    assert_eq!(
        (o["offline"].clone(), o["stale"].clone()),
        (0.into(), 0.into())
    );
    assert_eq!(o["open_tickets"], 2);
    let prio = &o["open_by_priority"];
    let open_sum: u64 = ["P1", "P2", "P3", "P4"]
        .iter()
        .map(|p| prio[p].as_u64().unwrap())
        .sum();
    assert_eq!(open_sum, 2, "{prio}");
    let daily = o["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30);
    let created: u64 = daily.iter().map(|d| d["created"].as_u64().unwrap()).sum();
    let resolved: u64 = daily.iter().map(|d| d["resolved"].as_u64().unwrap()).sum();
    assert_eq!((created, resolved), (3, 1));
    let weekly = o["weekly"].as_array().unwrap();
    assert_eq!(weekly.len(), 5, "30 days in whole weeks");
    let last = weekly.last().unwrap();
    assert_eq!(last["mttr_s"], 7200.0, "resolved two hours after it opened");
    assert_eq!(last["time_to_own_s"], 7200.0);
    assert_eq!(last["agent_tickets"], 0);
    assert_eq!(o["top_problems"][0], serde_json::json!(["printer.jam", 2]));
    assert_eq!(o["breaching_soon"], 0, "P4 targets are a day away: {o}");

    // a new P1: its own target (15 min) and resolve target (4 h) are both soon; once
    let urgent = file(&t, &analyst, &devices[2], "vpn.down", "critical").await;
    let (_, o) = t
        .call(Method::GET, "/api/v1/reports/overview", Some(&viewer), None)
        .await;
    assert_eq!(o["breaching_soon"], 1, "{o}");
    patch(
        &t,
        &analyst,
        &urgent,
        serde_json::json!({"status": "resolved"}),
    )
    .await;

    // six days later every device is offline, and the open tickets breached
    t.clock.advance_ms(6 * 86_400_000);
    let (_, o) = t
        .call(
            Method::GET,
            "/api/v1/reports/overview?days=90&stale_days=3",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(o["offline"], 3, "{o}");
    assert_eq!(o["stale"], 3, "{o}");
    assert_eq!(o["daily"].as_array().unwrap().len(), 90);
    assert_eq!(o["breached"], 2, "{o}");
    assert_eq!(o["breaching_soon"], 0, "{o}");

    for bad in ["days=0", "days=400", "stale_days=0", "days=x"] {
        let (s, v) = t
            .call(
                Method::GET,
                &format!("/api/v1/reports/overview?{bad}"),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_error(&v, "bad_request");
    }
    let (s, _) = t
        .call(Method::GET, "/api/v1/reports/overview", None, None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// A GET with `If-None-Match`: (status, ETag, body bytes).
async fn conditional(
    t: &T,
    token: &str,
    path: &str,
    tag: Option<&str>,
) -> (StatusCode, String, usize) {
    let mut req = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(tag) = tag {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    let resp = t
        .app()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let etag = resp
        .headers()
        .get(header::ETAG)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, etag, body.len())
}

#[tokio::test]
async fn polled_lists_answer_304_until_something_changes() {
    let t = setup().await;
    let analyst = t.token(Role::Analyst, "ana").await;
    let d = t.enroll("a", None).await["device_id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = file(&t, &analyst, &d, "printer.jam", "low").await;
    for path in [
        "/api/v1/tickets?open=true",
        "/api/v1/reports/overview",
        &format!("/api/v1/tickets/{id}"),
    ] {
        let (s, tag, len) = conditional(&t, &analyst, path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(tag.starts_with('"') && len > 0, "{path}: {tag}");
        let (s, again, len) = conditional(&t, &analyst, path, Some(&tag)).await;
        assert_eq!((s, len), (StatusCode::NOT_MODIFIED, 0), "{path}");
        assert_eq!(again, tag);
        let (s, _, _) = conditional(&t, &analyst, path, Some("\"stale\"")).await;
        assert_eq!(s, StatusCode::OK, "{path}");
    }
    let (_, before, _) = conditional(&t, &analyst, "/api/v1/tickets?open=true", None).await;
    patch(&t, &analyst, &id, serde_json::json!({"assignee": "me"})).await;
    let (s, after, _) = conditional(&t, &analyst, "/api/v1/tickets?open=true", Some(&before)).await;
    assert_eq!(s, StatusCode::OK, "a change is a new answer");
    assert_ne!(after, before);
    // errors are never tagged or turned into 304s
    let (s, tag, _) = conditional(&t, &analyst, "/api/v1/tickets/T-999", Some("*")).await;
    assert_eq!((s, tag.as_str()), (StatusCode::NOT_FOUND, ""));
}

#[tokio::test]
async fn the_unassigned_queue_and_the_typed_catalogue() {
    let t = setup().await;
    let analyst = t.token(Role::Analyst, "ana").await;
    let d = t.enroll("a", None).await["device_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mine = file(&t, &analyst, &d, "one", "low").await;
    let free = file(&t, &analyst, &d, "two", "low").await;
    patch(&t, &analyst, &mine, serde_json::json!({"assignee": "me"})).await;
    let (s, v) = t
        .call(
            Method::GET,
            "/api/v1/tickets?open=true&assignee=none",
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [free.as_str()]);
    let (_, v) = t
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{mine}"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(
        v["next_statuses"],
        serde_json::json!(["in_progress", "pending", "resolved"])
    );

    let viewer = t.token(Role::Viewer, "vic").await;
    t.enroll("b", None).await;
    let (s, v) = t
        .call(
            Method::GET,
            "/api/v1/devices?sort=hostname",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let hosts: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["host-a", "host-b"]);
    let (s, v) = t
        .call(
            Method::GET,
            "/api/v1/devices?sort=bogus",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad_request");
    let (s, v) = t
        .call(Method::GET, "/api/v1/diagnostics", Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), tend_shared::diagnostics::CATALOGUE.len());
    let disk = list.iter().find(|d| d["name"] == "disk-usage").unwrap();
    assert_eq!(disk["args"][0]["kind"], "path");
    let log = list.iter().find(|d| d["name"] == "log-tail").unwrap();
    assert_eq!(
        log["args"][0]["choices"],
        serde_json::json!(["journal", "syslog", "unified"])
    );
    assert_eq!(log["args"][1]["required"], false);
}
