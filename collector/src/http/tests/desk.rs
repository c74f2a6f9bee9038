//! The service-desk report with an injectable clock: first-contact resolution per
//! assignee, CSAT, weekly volume and MTTR, laptop delivery time per month with the
//! late ones listed, and the CSV export.

use axum::http::{Method, StatusCode};

use super::*;

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

async fn ok(
    t: &T,
    m: Method,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (s, v) = t.call(m, path, Some(token), Some(body.to_string())).await;
    assert!(s.is_success(), "{path}: {s} {v}");
    v
}

#[tokio::test]
async fn first_contact_csat_volume_and_delivery_time() {
    let t = setup().await;
    let ana = t.token(Role::Analyst, "ana").await;
    let bob = t.token(Role::Analyst, "bob").await;
    let t0 = crate::clock::Clock::now_ms(&*t.clock);
    // two laptops ordered 30 and 10 days ago, delivered (first enrolled) now
    for (serial, days) in [("SN-LATE", 30), ("SN-OK", 10)] {
        let date = crate::tickets::desk::date(t0 - days * DAY);
        ok(
            &t,
            Method::POST,
            "/api/v1/assets",
            &t.admin,
            serde_json::json!({"serial": serial, "purchase_date": date, "owner": "dana"}),
        )
        .await;
    }
    let late = t.enroll("hw-late", Some("SN-LATE")).await;
    let on_time = t.enroll("hw-ok", Some("SN-OK")).await;
    let dev = late["device_id"].as_str().unwrap().to_string();

    // T1: ana takes it and resolves it — first contact
    let t1 = ok(
        &t,
        Method::POST,
        "/api/v1/tickets",
        &ana,
        serde_json::json!({"request_id": "1",
        "device_id": dev, "problem_key": "printer.jam", "summary": "jams", "severity": "low"}),
    )
    .await;
    let t1 = t1["id"].as_str().unwrap().to_string();
    ok(
        &t,
        Method::PATCH,
        &format!("/api/v1/tickets/{t1}"),
        &ana,
        serde_json::json!({"assignee": "me"}),
    )
    .await;
    t.clock.advance_ms(2 * HOUR);
    ok(
        &t,
        Method::PATCH,
        &format!("/api/v1/tickets/{t1}"),
        &ana,
        serde_json::json!({"status": "resolved"}),
    )
    .await;
    // T2: ana, then handed to bob — not first contact
    let t2 = ok(
        &t,
        Method::POST,
        "/api/v1/tickets",
        &ana,
        serde_json::json!({"request_id": "2",
        "device_id": dev, "problem_key": "vpn.down", "summary": "vpn", "severity": "low"}),
    )
    .await;
    let t2 = t2["id"].as_str().unwrap().to_string();
    ok(
        &t,
        Method::PATCH,
        &format!("/api/v1/tickets/{t2}"),
        &ana,
        serde_json::json!({"assignee": "me"}),
    )
    .await;
    ok(
        &t,
        Method::PATCH,
        &format!("/api/v1/tickets/{t2}"),
        &ana,
        serde_json::json!({"assignee": "bob"}),
    )
    .await;
    t.clock.advance_ms(4 * HOUR);
    ok(
        &t,
        Method::PATCH,
        &format!("/api/v1/tickets/{t2}"),
        &bob,
        serde_json::json!({"status": "resolved"}),
    )
    .await;
    // T3: the laptop's user asked; ana resolves it; the user rates it 5
    let device_token = on_time["device_token"].as_str().unwrap().to_string();
    let t3 = ok(
        &t,
        Method::POST,
        "/api/v1/tickets",
        &device_token,
        serde_json::json!({"request_id": "3",
        "problem_key": "help", "summary": "wifi", "requester": "dana", "category": "network"}),
    )
    .await;
    assert_eq!(t3["source"], "user", "{t3}");
    let t3 = t3["id"].as_str().unwrap().to_string();
    ok(
        &t,
        Method::PATCH,
        &format!("/api/v1/tickets/{t3}"),
        &ana,
        serde_json::json!({"assignee": "me", "status": "resolved"}),
    )
    .await;
    ok(
        &t,
        Method::POST,
        &format!("/api/v1/tickets/{t3}/csat"),
        &device_token,
        serde_json::json!({"requester": "dana", "score": 5}),
    )
    .await;
    // another device cannot rate it, nor can a wrong requester
    let (s, _) = t
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{t3}/csat"),
            Some(late["device_token"].as_str().unwrap()),
            Some(r#"{"requester":"dana","score":1}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = t
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{t3}/csat"),
            Some(&device_token),
            Some(r#"{"requester":"eve","score":1}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, r) = t
        .call(
            Method::GET,
            "/api/v1/reports/service-desk",
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["created"].clone(), r["resolved"].clone()),
        (3.into(), 3.into())
    );
    assert_eq!(r["fcr_eligible"], 3);
    assert!(
        (r["fcr_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9,
        "{r}"
    );
    assert_eq!(r["csat_average"], 5.0);
    assert_eq!(r["csat_response_rate"], 1.0);
    let who = |name: &str| {
        r["assignees"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(who("ana")["resolved"], 2);
    assert_eq!(who("ana")["fcr_rate"], 1.0);
    assert_eq!(who("bob")["resolved"], 1);
    assert_eq!(who("bob")["fcr_rate"], 0.0);
    let weeks = r["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 13, "90 days in weeks");
    let last = weeks.last().unwrap();
    assert_eq!(
        (last["created"].clone(), last["resolved"].clone()),
        (3.into(), 3.into()),
        "{last}"
    );
    assert!(
        (last["mttr_h"].as_f64().unwrap() - (2.0 + 4.0 + 0.0) / 3.0).abs() < 1e-9,
        "{last}"
    );
    let month = &r["delivery"][0];
    assert_eq!(month["delivered"], 2, "{r}");
    // orders are whole days; deliveries happen at the clock's time of day
    let days = |n: u64| {
        let ordered =
            crate::tickets::desk::parse_date(&crate::tickets::desk::date(t0 - n * DAY)).unwrap();
        (t0 - ordered) as f64 / DAY as f64
    };
    assert!((month["median_days"].as_f64().unwrap() - (days(30) + days(10)) / 2.0).abs() < 1e-9);
    assert_eq!(month["late"], 1);
    assert_eq!(r["late_deliveries"][0]["serial"], "SN-LATE");
    assert_eq!(
        r["late_deliveries"][0]["days"],
        (days(30) * 10.0).round() / 10.0
    );

    // CSV: one table per request, parses back with the same columns
    let csv = |table: &str| {
        let t = &t;
        let ana = ana.clone();
        let table = table.to_string();
        async move {
            let req = axum::http::Request::builder()
                .uri(format!("/api/v1/reports/service-desk.csv?table={table}"))
                .header(axum::http::header::AUTHORIZATION, format!("Bearer {ana}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let resp = tower::ServiceExt::oneshot(t.app(), req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            assert!(resp.headers()[axum::http::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/csv"));
            let b = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            String::from_utf8(b.to_vec()).unwrap()
        }
    };
    let weeks_csv = csv("weeks").await;
    let rows: Vec<Vec<&str>> = weeks_csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][0], "week");
    assert_eq!(rows.len(), 14, "header and 13 weeks");
    assert!(rows.iter().all(|r| r.len() == rows[0].len()));
    assert!(csv("late").await.contains("SN-LATE,dana,"));
    let (s, v) = t
        .call(
            Method::GET,
            "/api/v1/reports/service-desk.csv?table=nope",
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad_request");
}
