//! Release endpoints through the router: roles, validation, idempotent uploads,
//! rollout rings in check-in offers, signed offers that verify against the public
//! key, artifact download, and failed versions never offered again.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tend_shared::api::Role;
use tend_shared::releases::{LatestRelease, Release, ReleasePlatform};
use tower::ServiceExt;

use crate::clock::ManualClock;
use crate::state::{AppState, Keys, Limits};
use crate::store::Store;

const NOW: u64 = 1_700_000_000_000;

async fn call(
    state: &AppState,
    method: Method,
    path: &str,
    token: &str,
    body: Body,
    json: bool,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if json {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let resp = crate::http::app(state.clone())
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    (
        status,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

fn checkin_body(events: serde_json::Value) -> Body {
    Body::from(
        serde_json::json!({
            "agent_version": "0.1.0", "inventory_hash": "", "release_platform": "linux-x86_64",
            "events": events,
        })
        .to_string(),
    )
}

async fn put(
    state: &AppState,
    token: &str,
    path: &str,
    bytes: &'static [u8],
) -> (StatusCode, Vec<u8>) {
    call(state, Method::PUT, path, token, Body::from(bytes), false).await
}

async fn checkin(state: &AppState, dev: &str, events: serde_json::Value) -> (StatusCode, Vec<u8>) {
    call(
        state,
        Method::POST,
        "/api/v1/checkin",
        dev,
        checkin_body(events),
        true,
    )
    .await
}

#[tokio::test]
async fn uploads_rings_offers_and_failed_versions() {
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let state = AppState::new(
        Store::open(&dir.path().join("db")).unwrap(),
        ManualClock::new(NOW),
        Keys::new("ca".into(), key.clone(), "s"),
        Limits::default(),
    )
    .await
    .unwrap();
    let admin = crate::users::tokens::operator_token(&state.store, 1, "root", Role::Admin)
        .await
        .unwrap();
    let analyst = crate::users::tokens::operator_token(&state.store, 1, "ann", Role::Analyst)
        .await
        .unwrap();
    let enrolled = crate::enroll::enroll(
        &state,
        serde_json::from_value(serde_json::json!({
            "enroll_secret": "s", "agent_version": "0.1.0",
            "identity": {"hardware_uuid": "HW-R", "hostname": "lap", "platform": "linux"}
        }))
        .unwrap(),
        "test",
    )
    .await
    .unwrap();
    let dev = enrolled.device_token.as_str();

    // roles and validation, each a JSON 4xx
    let (s, b) = put(
        &state,
        &analyst,
        "/api/v1/releases/0.2.0/linux-x86_64",
        b"bin",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&b));
    let (s, b) = put(&state, &admin, "/api/v1/releases/0.2.0/windows", b"bin").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&b).contains("unknown platform"));
    let (s, _) = put(
        &state,
        &admin,
        "/api/v1/releases/..%2Fx/linux-x86_64",
        b"bin",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = put(&state, &admin, "/api/v1/releases/0.2.0/linux-x86_64", b"").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // upload, idempotent re-upload, conflicting bytes
    let (s, b) = put(
        &state,
        &admin,
        "/api/v1/releases/0.2.0/linux-x86_64",
        b"binary-v2",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let (s, _) = put(
        &state,
        &admin,
        "/api/v1/releases/0.2.0/linux-x86_64",
        b"binary-v2",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = put(
        &state,
        &admin,
        "/api/v1/releases/0.2.0/linux-x86_64",
        b"other",
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // not offered before the rollout starts
    let (s, b) = checkin(&state, dev, serde_json::json!([])).await;
    assert_eq!(s, StatusCode::OK);
    let r: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert!(r["release"].is_null(), "{r}");

    // two-person rule: nothing is offered before a second, independent admin approves
    let promote = || Body::from(serde_json::json!({"percent": 100}).to_string());
    let (s, _) = call(
        &state,
        Method::POST,
        "/api/v1/releases/0.2.0/rollout",
        &admin,
        promote(),
        true,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "promoting an unapproved release");
    let approve = |t: String| {
        let st = state.clone();
        async move {
            call(
                &st,
                Method::POST,
                "/api/v1/releases/0.2.0/approve",
                &t,
                Body::empty(),
                false,
            )
            .await
        }
    };
    let (s, _) = approve(admin.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the uploader cannot approve");
    // an admin the uploader created is its own lineage: refused too
    let (_, b) = call(
        &state,
        Method::POST,
        "/api/v1/users",
        &admin,
        Body::from(r#"{"name":"puppet","role":"admin"}"#),
        true,
    )
    .await;
    let puppet = serde_json::from_slice::<serde_json::Value>(&b).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, b) = approve(puppet).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&b));
    assert!(String::from_utf8_lossy(&b).contains("not independent"));
    let root2 = crate::users::tokens::operator_token(&state.store, 1, "root2", Role::Admin)
        .await
        .unwrap();
    let (s, b) = approve(root2).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let (s, b) = call(
        &state,
        Method::POST,
        "/api/v1/releases/0.2.0/rollout",
        &admin,
        promote(),
        true,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let rel: Release = serde_json::from_slice(&b).unwrap();
    assert_eq!(rel.rollout.stages.len(), 1);

    // the offer verifies against the collector's public key
    let (_, b) = checkin(&state, dev, serde_json::json!([])).await;
    let r: tend_shared::checkin::CheckinResponse = serde_json::from_slice(&b).unwrap();
    let offer = r.release.expect("offered at 100 %");
    let msg = tend_shared::signing::release_manifest(
        &offer.version,
        offer.platform.as_str(),
        &offer.sha256,
        offer.size,
        offer.expires_at_ms,
        offer.rollback,
    );
    let pk = tend_shared::signing::public_key_b64(&key);
    tend_shared::signing::verify_b64(&pk, &msg, &offer.signature).unwrap();
    assert_eq!(offer.sha256, tend_shared::signing::sha256_hex(b"binary-v2"));
    assert_eq!(offer.platform, ReleasePlatform::LinuxX86_64);
    // the next check-in reuses the signed offer (no signature per check-in)
    let (_, b) = checkin(&state, dev, serde_json::json!([])).await;
    let again: tend_shared::checkin::CheckinResponse = serde_json::from_slice(&b).unwrap();
    assert_eq!(again.release.as_ref(), Some(&offer));
    let (_, b) = call(
        &state,
        Method::GET,
        "/api/v1/releases/latest?platform=linux-x86_64",
        dev,
        Body::empty(),
        false,
    )
    .await;
    let latest: LatestRelease = serde_json::from_slice(&b).unwrap();
    assert_eq!(latest.release.map(|o| o.version), Some("0.2.0".into()));
    let (s, b) = call(&state, Method::GET, &offer.url, dev, Body::empty(), false).await;
    assert_eq!((s, b.as_slice()), (StatusCode::OK, &b"binary-v2"[..]));

    // the device refuses it: never offered to it again, state shown, stage counted
    let ev = serde_json::json!([{"seq": 1, "at_ms": NOW, "kind": "update.refused",
        "message": "hash mismatch", "data": {"from": "0.1.0", "to": "0.2.0"}}]);
    let (_, b) = checkin(&state, dev, ev).await;
    let r: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert!(r["release"].is_null(), "{r}");
    let d = state
        .store
        .read()
        .device(&enrolled.device_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.summary().update.unwrap().state.as_str(), "refused");
    let rel = state.store.read().release("0.2.0").await.unwrap().unwrap();
    assert_eq!(
        (
            rel.rollout.stages[0].attempted,
            rel.rollout.stages[0].failed
        ),
        (1, 1)
    );
    let audit = state
        .store
        .test_audit(crate::store::AuditFilter::default())
        .await;
    for action in ["release.add", "release.rollout", "release.approve"] {
        assert!(
            audit.iter().any(|e| e.action == action),
            "{action} not audited"
        );
    }

    // one device repeating failures counts once: no halt from a single laptop
    let five: Vec<serde_json::Value> = (2..7)
        .map(|seq| {
            serde_json::json!({"seq": seq, "at_ms": NOW + seq, "kind": "update.failed",
            "message": "x", "data": {"from": "0.1.0", "to": "0.2.0"}})
        })
        .collect();
    let (s, _) = checkin(&state, dev, serde_json::json!(five)).await;
    assert_eq!(s, StatusCode::OK);
    let rel = state.store.read().release("0.2.0").await.unwrap().unwrap();
    assert_eq!(rel.rollout.stages[0].failed, 1, "counted once per device");
    assert!(!rel.rollout.halted);
    // nor does a device outside the stage's ring, naming a release it was not offered
    let (s, _) = call(
        &state,
        Method::POST,
        "/api/v1/releases/0.2.0/rollout",
        &admin,
        Body::from(r#"{"percent": 1, "min_sample": 1}"#),
        true,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut outsider = None;
    for i in 0..10 {
        let e = crate::enroll::enroll(
            &state,
            serde_json::from_value(serde_json::json!({
                "enroll_secret": "s", "agent_version": "0.1.0",
                "identity": {"hardware_uuid": format!("HW-OUT-{i}"), "hostname": "o", "platform": "linux"}
            }))
            .unwrap(),
            "test",
        )
        .await
        .unwrap();
        if !crate::releases::in_ring(&e.device_id, 1) {
            outsider = Some(e);
            break;
        }
    }
    let outsider = outsider.expect("ten devices cannot all be in a 1 % ring");
    {
        let (s, _) = checkin(&state, &outsider.device_token, serde_json::json!(five)).await;
        assert_eq!(s, StatusCode::OK);
        let rel = state.store.read().release("0.2.0").await.unwrap().unwrap();
        let stage = rel.rollout.stages.last().unwrap();
        assert_eq!(
            (stage.attempted, stage.failed),
            (0, 0),
            "not offered: not counted"
        );
        assert!(!rel.rollout.halted);
    }
}
