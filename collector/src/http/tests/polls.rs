//! Router tests: the agent long-poll (policy and job wake-ups) and concurrent
//! acknowledged writes through the group-committed flush.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use tower::ServiceExt;

use super::*;
#[tokio::test]
async fn long_poll_wakes_on_policy_change_and_times_out_cleanly() {
    let t = setup().await;
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
    let t = setup().await;
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
    let analyst = t.token(Role::Analyst, "ana").await;
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
    let viewer = t.token(Role::Viewer, "v").await;
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
    let t = setup().await;
    let mut tasks = Vec::new();
    for i in 0..96 {
        let st = t.state.clone();
        tasks.push(tokio::spawn(async move {
            let req = tend_shared::enroll::EnrollRequest {
                device_key: None,
                proof: None,
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
            crate::enroll::enroll(&st, req, "test").await.unwrap()
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
    assert_eq!(t.state.store.test_device_count().await, 96);
}

#[tokio::test]
async fn a_request_past_the_timeout_gets_a_json_408() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(
        Store::open(&dir.path().join("db")).unwrap(),
        ManualClock::new(1_700_000_000_000),
        Keys::new(
            "ca".into(),
            ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
            SECRET,
        ),
        Limits {
            request_timeout: std::time::Duration::from_millis(50),
            ..Limits::default()
        },
    )
    .await
    .unwrap();
    let admin = crate::users::tokens::operator_token(&state.store, 1, "admin", Role::Admin)
        .await
        .unwrap();
    // a job that stays queued, waited on longer than the request timeout
    let enrolled = crate::enroll::enroll(
        &state,
        serde_json::from_value(
            serde_json::json!({"enroll_secret": SECRET, "agent_version": "1",
            "identity": {"hardware_uuid": "HW-408", "hostname": "h", "platform": "linux"}}),
        )
        .unwrap(),
        "test",
    )
    .await
    .unwrap();
    let device = state
        .store
        .read()
        .device(&enrolled.device_id)
        .await
        .unwrap()
        .unwrap();
    let job = crate::jobs::queue(
        &state,
        &device,
        tend_shared::jobs::JobSpec::Diagnostic {
            name: "interfaces".into(),
            args: vec![],
        },
        "user:admin",
        Default::default(),
    )
    .await
    .unwrap();
    let req = Request::builder()
        .uri(format!("/api/v1/jobs/{}?wait=5", job.id))
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::empty())
        .unwrap();
    let resp = crate::http::app(state).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], "timeout");
}

#[tokio::test]
async fn unacknowledged_jobs_are_delivered_again_and_stuck_ones_expire() {
    let t = setup().await;
    let d = t.enroll("HW-JOBS", None).await;
    let (id, tok) = (
        d["device_id"].as_str().unwrap(),
        d["device_token"].as_str().unwrap(),
    );
    let analyst = t.token(Role::Analyst, "ana").await;
    let (s, job) = t
        .call(
            Method::POST,
            &format!("/api/v1/devices/{id}/diagnostics"),
            Some(&analyst),
            Some(r#"{"name":"routes"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let jid = job["id"].as_str().unwrap().to_string();
    let poll = || t.call(Method::GET, "/api/v1/jobs/next?wait=0", Some(tok), None);
    let (_, first) = poll().await;
    assert_eq!(first["jobs"][0]["id"], jid.as_str());
    // the answer was lost: the device never acknowledges; a minute later it comes again
    let (_, soon) = poll().await;
    assert!(soon["jobs"].as_array().unwrap().is_empty(), "not at once");
    t.clock.advance_ms(crate::jobs::REDELIVER_AFTER_MS + 1);
    let (_, again) = poll().await;
    assert_eq!(again["jobs"][0]["id"], jid.as_str());
    let (_, view) = t
        .call(
            Method::GET,
            &format!("/api/v1/jobs/{jid}"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(view["deliveries"], 2);
    // acknowledged (running): not delivered any more
    let (s, _) = t
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{jid}/result"),
            Some(tok),
            Some(r#"{"state":"running"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    t.clock.advance_ms(crate::jobs::REDELIVER_AFTER_MS + 1);
    let (_, none) = poll().await;
    assert!(none["jobs"].as_array().unwrap().is_empty());
    // the device goes quiet mid-job: past the run deadline it expires, saying why
    t.clock.advance_ms(11 * 60_000);
    crate::sweep::sweep(&t.state).await.unwrap();
    let (_, view) = t
        .call(
            Method::GET,
            &format!("/api/v1/jobs/{jid}?wait=1"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(view["state"], "expired");
    assert!(view["result"]["reason"]
        .as_str()
        .unwrap()
        .contains("never reported"));
}
