//! Router tests through `tower::ServiceExt::oneshot`, with a real sled store in a temp
//! dir: here the shared setup, error paths and roles; `devices` (enrollment identity
//! rules, asset linking, check-in, policy, ops endpoints) and `polls` (long-polls and
//! the group-committed flush) beside it.

mod console;
mod desk;
mod devices;
mod heartbeat;
mod ingest;
mod kb;
mod offboard;
mod panics;
mod polls;
mod quotas;
mod round3;
mod round3_device;
mod security;
mod sessions;
mod wire;

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
    clock: Arc<ManualClock>,
}

const SECRET: &str = "tes_test";

async fn setup() -> T {
    setup_with(Limits::default()).await
}

async fn setup_with(limits: Limits) -> T {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let keys = Keys::new(
        "ca".into(),
        ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
        SECRET,
    );
    let clock = ManualClock::new(1_700_000_000_000);
    let state = AppState::new(store, clock.clone(), keys, limits)
        .await
        .unwrap();
    let admin = crate::users::tokens::operator_token(&state.store, 1, "admin", Role::Admin)
        .await
        .unwrap();
    T {
        _dir: dir,
        state,
        admin,
        clock,
    }
}

impl T {
    fn app(&self) -> Router {
        super::app(self.state.clone())
    }

    async fn token(&self, role: Role, name: &str) -> String {
        crate::users::tokens::operator_token(&self.state.store, 1, name, role)
            .await
            .unwrap()
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
        let json = if bytes.is_empty() && status == StatusCode::NO_CONTENT {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("non-JSON body for {status}: {bytes:?}"))
        };
        (status, json)
    }

    /// A check-in by `token` that must succeed; its answer.
    async fn checkin_ok(&self, token: &str, body: serde_json::Value) -> serde_json::Value {
        let (s, v) = self
            .call(
                Method::POST,
                "/api/v1/checkin",
                Some(token),
                Some(body.to_string()),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }

    async fn enroll(&self, hw: &str, serial: Option<&str>) -> serde_json::Value {
        let (status, v) = self.enroll_with(hw, serial, serde_json::Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }

    /// Enrolls with extra fields merged into the request (`proof`, `device_key`…).
    async fn enroll_with(
        &self,
        hw: &str,
        serial: Option<&str>,
        extra: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let mut body = serde_json::json!({
            "enroll_secret": SECRET,
            "agent_version": "0.1.0",
            "identity": {"hardware_uuid": hw, "serial": serial, "hostname": format!("host-{hw}"), "platform": "linux"}
        });
        if let serde_json::Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        self.call(Method::POST, "/api/v1/enroll", None, Some(body.to_string()))
            .await
    }
}

/// One request with extra headers, from `addr` (a socket address) when given: status,
/// headers and the JSON body (`null` when there is none).
async fn send_from(
    t: &T,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
    addr: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(a) = addr {
        req = req.extension(axum::extract::ConnectInfo(
            a.parse::<std::net::SocketAddr>().unwrap(),
        ));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let resp = t.app().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, headers, json)
}

/// [`send_from`] with no client address.
async fn send(
    t: &T,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    send_from(t, method, path, headers, body, None).await
}

/// `name` (holding `token`) gets `password` the only way there is: a reset code it
/// issues for itself, redeemed with the new password. The redeem's answer.
async fn give_password(
    t: &T,
    token: &str,
    name: &str,
    password: &str,
) -> (StatusCode, serde_json::Value) {
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/api/v1/users/{name}/password-reset"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, v) = send(
        t,
        Method::POST,
        "/api/v1/password-reset",
        &[],
        Some(serde_json::json!({"name": name, "code": v["code"], "password": password})),
    )
    .await;
    (s, v)
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
    let t = setup().await;
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
    let t = setup().await;
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
    let audit = audit["items"].clone();
    let e = &audit.as_array().unwrap()[0];
    assert_eq!(e["outcome"], "denied");
    assert_eq!(e["detail"]["hardware_uuid"], "U1");
}

#[tokio::test]
async fn roles_are_enforced_and_refusals_audited() {
    let t = setup().await;
    let viewer = t.token(Role::Viewer, "vera").await;
    let analyst = t.token(Role::Analyst, "ana").await;
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
    let audit = audit["items"].clone();
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
        denied.contains(&("user:vera".into(), "asset.create".into())),
        "{denied:?}"
    );
    assert!(
        denied.contains(&("user:ana".into(), "audit.read".into())),
        "{denied:?}"
    );
    assert!(
        denied.contains(&("user:ana".into(), "policy.update".into())),
        "{denied:?}"
    );
    // successful analyst actions are audited too
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"] == "user:ana"
            && e["action"] == "asset.create"
            && e["outcome"] == "success"));
}

#[tokio::test]
async fn oversized_bodies_are_413_with_json() {
    let t = setup().await;
    let big = format!(r#"{{"enroll_secret":"{}"}}"#, "x".repeat(2 << 20));
    let (s, v) = t
        .call(Method::POST, "/api/v1/enroll", None, Some(big))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&v, "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let t = setup().await;
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
