//! Router tests for per-device quotas (issue 12, item 11): check-in rate limits that
//! answer 429 with `Retry-After`, a cap on one device's open tickets, event
//! retention, streamed artifact downloads, one long-poll per device, and admission
//! past `max_in_flight` (a burst waits for a slot; overload is refused).

use std::time::Duration;

use super::*;

async fn state_with(limits: Limits) -> (tempfile::TempDir, AppState, String) {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(
        Store::open(&dir.path().join("db")).unwrap(),
        ManualClock::new(1_700_000_000_000),
        Keys::new(
            "ca".into(),
            ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
            SECRET,
        ),
        limits,
    )
    .await
    .unwrap();
    let admin = crate::users::tokens::operator_token(&state.store, 1, "admin", Role::Admin)
        .await
        .unwrap();
    (dir, state, admin)
}

async fn send(
    state: &AppState,
    method: Method,
    path: &str,
    token: &str,
    body: Option<String>,
) -> Response {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
    crate::http::app(state.clone()).oneshot(req).await.unwrap()
}

async fn enroll(state: &AppState, hw: &str) -> (String, String) {
    let r = crate::enroll::enroll(
        state,
        serde_json::from_value(
            serde_json::json!({"enroll_secret": SECRET, "agent_version": "1",
            "identity": {"hardware_uuid": hw, "hostname": hw, "platform": "linux"}}),
        )
        .unwrap(),
        "test",
    )
    .await
    .unwrap();
    (r.device_id, r.device_token)
}

use axum::response::Response;

#[tokio::test]
async fn a_device_checking_in_too_often_gets_429_with_retry_after() {
    let t = setup().await;
    let d = t.enroll("HW-FAST", None).await;
    let tok = d["device_token"].as_str().unwrap();
    let body = r#"{"agent_version":"1","inventory_hash":""}"#;
    let mut limited = None;
    for _ in 0..40 {
        let r = send(
            &t.state,
            Method::POST,
            "/api/v1/checkin",
            tok,
            Some(body.into()),
        )
        .await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = limited.expect("a burst of 40 check-ins is limited");
    let after: u64 = r.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&after), "{after}");
    let v: serde_json::Value =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_error(&v, "rate_limited");
    // another device is not affected
    let other = t.enroll("HW-CALM", None).await;
    let r = send(
        &t.state,
        Method::POST,
        "/api/v1/checkin",
        other["device_token"].as_str().unwrap(),
        Some(body.into()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // and after the wait, the first one gets in again
    t.clock.advance_ms(after * 1000);
    let r = send(
        &t.state,
        Method::POST,
        "/api/v1/checkin",
        tok,
        Some(body.into()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn one_device_cannot_open_unlimited_tickets() {
    let mut limits = Limits::default();
    limits.rates.device_tickets = crate::limits::Rate {
        burst: 1000.0,
        per_s: 1.0,
    };
    let (_d, state, _) = state_with(limits).await;
    let (_, tok) = enroll(&state, "HW-NOISY").await;
    let file = |k: String| {
        let st = state.clone();
        let tok = tok.clone();
        async move {
            let body = serde_json::json!({"request_id": format!("r-{k}"), "problem_key": k, "summary": "s"});
            send(
                &st,
                Method::POST,
                "/api/v1/tickets",
                &tok,
                Some(body.to_string()),
            )
            .await
            .status()
        }
    };
    for i in 0..crate::tickets::MAX_OPEN_PER_DEVICE {
        assert_eq!(file(format!("k{i}")).await, StatusCode::CREATED);
    }
    assert_eq!(file("one-more".into()).await, StatusCode::TOO_MANY_REQUESTS);
    // a repeat of an open problem still folds in
    assert_eq!(file("k0".into()).await, StatusCode::OK);
}

#[tokio::test]
async fn old_events_are_pruned_after_the_retention() {
    let (_d, state, _) = state_with(Limits {
        event_retention: Duration::from_secs(86_400),
        ..Limits::default()
    })
    .await;
    let (id, tok) = enroll(&state, "HW-OLD").await;
    let now = state.now_ms();
    let ev = |seq: u64, at: u64| serde_json::json!({"seq": seq, "at_ms": at, "kind": "k"});
    let body = serde_json::json!({"agent_version": "1", "inventory_hash": "",
        "events": [ev(1, now - 2 * 86_400_000), ev(2, now - 3_600_000)]});
    let r = send(
        &state,
        Method::POST,
        "/api/v1/checkin",
        &tok,
        Some(body.to_string()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let report = crate::sweep::sweep(&state).await.unwrap();
    assert!(report.events_pruned >= 1, "{report:?}");
    let left: Vec<u64> = state
        .store
        .read()
        .events_since(&id, 0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| e.seq)
        .collect();
    assert_eq!(
        left,
        [2],
        "the two-day-old event is gone, the recent one kept"
    );
}

#[tokio::test]
async fn artifacts_download_whole_from_chunks() {
    let (_d, state, admin) = state_with(Limits::default()).await;
    let bytes: Vec<u8> = (0..(3 * crate::releases::ARTIFACT_CHUNK + 12_345))
        .map(|i| (i % 251) as u8)
        .collect();
    crate::releases::add_artifact(
        &state.store,
        1,
        crate::releases::Uploader { id: "", name: "op" },
        "9.9.9",
        tend_shared::releases::ReleasePlatform::LinuxX86_64,
        &bytes,
    )
    .await
    .unwrap();
    let path = "/api/v1/releases/9.9.9/linux-x86_64/artifact";
    // what one admin uploaded alone is not handed out (issue 23 #4)
    let r = send(&state, Method::GET, path, &admin, None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = send(
        &state,
        Method::POST,
        "/api/v1/releases/9.9.9/approve",
        &admin,
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "a second admin approves");
    // asked for compressed, it still comes whole, uncompressed, as a download that no
    // browser renders (issue 23 #3c, #12)
    let req = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header(header::ACCEPT_ENCODING, "gzip, br, zstd")
        .body(Body::empty())
        .unwrap();
    let r = crate::http::app(state.clone()).oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(
        h[header::CONTENT_LENGTH].to_str().unwrap(),
        bytes.len().to_string()
    );
    assert!(!h.contains_key(header::CONTENT_ENCODING), "{h:?}");
    assert_eq!(h[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let got = r.into_body().collect().await.unwrap().to_bytes();
    assert!(
        got.as_ref() == bytes.as_slice(),
        "the streamed bytes differ"
    );
}

#[tokio::test]
async fn a_new_long_poll_replaces_the_old_one() {
    let (_d, state, _) = state_with(Limits::default()).await;
    let (id, tok) = enroll(&state, "HW-POLL").await;
    let first = {
        let (st, tok) = (state.clone(), tok.clone());
        tokio::spawn(async move {
            let r = send(&st, Method::GET, "/api/v1/jobs/next?wait=30", &tok, None).await;
            r.into_body().collect().await.unwrap().to_bytes()
        })
    };
    // the first poll is waiting; a second one takes its place
    first_poll_waiting(&state, &id).await;
    let second = {
        let (st, tok) = (state.clone(), tok.clone());
        tokio::spawn(async move {
            let r = send(&st, Method::GET, "/api/v1/jobs/next?wait=30", &tok, None).await;
            r.into_body().collect().await.unwrap().to_bytes()
        })
    };
    let replaced = tokio::time::timeout(Duration::from_secs(5), first)
        .await
        .expect("the replaced poll answers at once")
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&replaced).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 0);
    // a job goes to the poll that holds the slot
    let device = state.store.read().device(&id).await.unwrap().unwrap();
    crate::jobs::queue(
        &state,
        &device,
        tend_shared::jobs::JobSpec::Diagnostic {
            name: "routes".into(),
            args: vec![],
        },
        "user:admin",
        Default::default(),
    )
    .await
    .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .unwrap()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&got).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 1);
}

/// Waits until the device's long-poll slot has been taken once.
async fn first_poll_waiting(state: &AppState, id: &str) {
    let lp = state.job_wakeup(id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !lp.holds(1) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first poll never started"
        );
        tokio::task::yield_now().await;
    }
}

/// Past `max_in_flight`, a request waits for a slot (a burst is served, not refused);
/// past `max_queued` waiting, or after `queue_wait`, it is answered 503 `overloaded`
/// with `Retry-After` at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_waits_for_a_slot_and_only_overload_is_refused() {
    let t = setup_with(Limits {
        max_in_flight: 1,
        max_queued: 1,
        queue_wait: std::time::Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    // a request in flight holds the only slot
    let busy = t.state.in_flight.clone().acquire_owned().await.unwrap();
    let app = t.app();
    let waiting = tokio::spawn(async move {
        let req = Request::builder()
            .uri("/healthz")
            .body(Body::empty())
            .unwrap();
        app.oneshot(req).await.unwrap().status()
    });
    while t.state.queued.available_permits() > 0 {
        tokio::task::yield_now().await;
    }
    // the one place in the queue is taken: the next request is refused at once
    let (s, v) = t.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["error"]["code"], "overloaded");
    // the slot frees: the waiting request is served
    drop(busy);
    assert_eq!(waiting.await.unwrap(), StatusCode::OK);

    // a wait has an end
    let t = setup_with(Limits {
        max_in_flight: 1,
        queue_wait: std::time::Duration::from_millis(20),
        ..Limits::default()
    })
    .await;
    let _busy = t.state.in_flight.clone().acquire_owned().await.unwrap();
    let (s, v) = t.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
}
