//! The knowledge base through the router: who may write, what is refused, what a
//! device is shown, and a withdrawal counted as self-service deflection.

use axum::http::{Method, StatusCode};

use super::*;

#[tokio::test]
async fn articles_are_written_by_analysts_and_suggested_to_devices() {
    let t = setup().await;
    let analyst = t.token(Role::Analyst, "ana").await;
    let viewer = t.token(Role::Viewer, "vic").await;
    let body = |title: &str, cats: &[&str], keys: &[&str]| {
        serde_json::json!({"title": title, "body": "try this", "categories": cats, "problem_keys": keys}).to_string()
    };
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/kb",
            Some(&viewer),
            Some(body("x", &["disk"], &[])),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for bad in [
        body("", &["disk"], &[]),
        body("x", &["moon"], &[]),
        body("x", &[], &[]),
    ] {
        let (s, v) = t
            .call(Method::POST, "/api/v1/kb", Some(&analyst), Some(bad))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_error(&v, "bad_request");
    }
    let (s, disk) = t
        .call(
            Method::POST,
            "/api/v1/kb",
            Some(&analyst),
            Some(body("Disk full", &["disk"], &["disk.free"])),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{disk}");
    t.call(
        Method::POST,
        "/api/v1/kb",
        Some(&analyst),
        Some(body("VPN", &["network"], &[])),
    )
    .await;

    // a device asks: by category, or by a failing check's key
    let d = t.enroll("kb-1", None).await;
    let token = d["device_token"].as_str().unwrap().to_string();
    let (s, v) = t
        .call(
            Method::GET,
            "/api/v1/device/kb?category=other&problem_key=disk.free:/",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let titles: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Disk full"]);
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/kb",
            Some(&token),
            Some(body("x", &["disk"], &[])),
        )
        .await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::UNAUTHORIZED,
        "{s}"
    );

    let id = disk["id"].as_str().unwrap();
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/api/v1/device/kb/{id}/withdrawn"),
            Some(&token),
            Some("{}".into()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, a) = t
        .call(
            Method::GET,
            &format!("/api/v1/kb/{id}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(
        (a["views"].clone(), a["withdrawals"].clone()),
        (1.into(), 1.into()),
        "{a}"
    );
    let (_, r) = t
        .call(Method::GET, "/api/v1/reports/sla", Some(&viewer), None)
        .await;
    assert_eq!(r["self_service_withdrawn"], 1, "{r}");
    assert_eq!(r["deflected"], 1, "{r}");
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/device/kb/kb_nope/withdrawn",
            Some(&token),
            Some("{}".into()),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // analysts edit and remove; the list filters by category
    let (s, v) = t
        .call(
            Method::PUT,
            &format!("/api/v1/kb/{id}"),
            Some(&analyst),
            Some(body("Disk full?", &["disk"], &[])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["withdrawals"], 1, "counts survive an edit");
    let (_, v) = t
        .call(
            Method::GET,
            "/api/v1/kb?category=network",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/kb/{id}"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t
        .call(
            Method::GET,
            &format!("/api/v1/kb/{id}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
