//! Webhooks are no SSRF (issue 23 #7): loopback, link-local, private and ULA targets
//! are refused at registration and again at connection time, redirects are never
//! followed, and with a cluster key the signing secret is stored sealed.

use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::webhooks::WebhookRecord;

/// A plain-HTTP receiver on 127.0.0.1: answers `status` (with `Location: location`),
/// counts calls, keeps the last (signature, body).
async fn receiver(
    status: u16,
    location: Option<String>,
) -> (String, Arc<AtomicU32>, Arc<Mutex<Option<(String, String)>>>) {
    use axum::routing::post;
    let calls = Arc::new(AtomicU32::new(0));
    let last: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let (c, l) = (calls.clone(), last.clone());
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let (c, l, location) = (c.clone(), l.clone(), location.clone());
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                let sig = headers
                    .get("x-tend-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                *l.lock().unwrap() = Some((sig, body));
                let mut r = axum::http::Response::builder().status(status);
                if let Some(to) = location {
                    r = r.header("location", to);
                }
                r.body(axum::body::Body::empty()).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls, last)
}

const SECRET: &str = "0123456789abcdef-secret";

#[tokio::test]
async fn internal_targets_are_refused_at_registration() {
    let e = env_with(Limits::default(), None).await;
    for url in [
        "https://127.0.0.1:8443/x",
        "https://localhost/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/x",
        "https://192.168.1.10/x",
        "https://[fd12::1]/x",
        "http://93.184.215.14/x",
    ] {
        let r = webhooks::register(&e.state, "user:admin", url, SECRET, vec![]).await;
        assert!(
            matches!(r, Err(crate::error::ApiError::BadRequest(_))),
            "{url}: {r:?}"
        );
    }
    webhooks::register(
        &e.state,
        "user:admin",
        "https://93.184.215.14/hook",
        SECRET,
        vec![],
    )
    .await
    .expect("a public address");
    // an admin allows private targets (an on-premises ITSM), audited
    let admin = crate::users::auth::ApiUser {
        id: "u_admin".into(),
        name: "admin".into(),
        role: tend_shared::api::Role::Admin,
        token_id: String::new(),
        session_csrf: None,
    };
    crate::accounts::put_security_settings(
        &e.state,
        &admin,
        &tend_shared::accounts::SecuritySettings {
            allow_private_targets: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    webhooks::register(
        &e.state,
        "user:admin",
        "https://10.0.0.1/itsm",
        SECRET,
        vec![],
    )
    .await
    .expect("private allowed now");
    for url in ["https://169.254.169.254/", "https://localhost/x"] {
        let r = webhooks::register(&e.state, "user:admin", url, SECRET, vec![]).await;
        assert!(r.is_err(), "{url} stays refused");
    }
}

#[tokio::test]
async fn a_name_that_resolves_inside_is_refused_when_delivering() {
    // registered while it pointed elsewhere (DNS changes); now it resolves to loopback
    let e = env_with(Limits::default(), None).await;
    let (url, calls, _) = receiver(200, None).await;
    let url = url.replace("127.0.0.1", "localhost");
    crate::atomic!(e.state.store, tx => {
        tx.put_webhook(&WebhookRecord {
            id: "wh_dns".into(),
            url: url.clone(),
            secret: SECRET.into(),
            events: vec![],
            created_at_ms: T0,
        });
        Ok::<_, crate::error::ApiError>(())
    })
    .unwrap();
    let d = e.device(1).await;
    e.file(&d, "a", "disk.free:/").await;
    let sender = webhooks::Sender::new(std::time::Duration::from_secs(5)).unwrap();
    webhooks::deliver_due(&e.state, &sender, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing reached loopback");
    let pending = e.state.store.read().deliveries(10).await.unwrap();
    let why = pending[0].last_error.clone().unwrap_or_default();
    assert!(why.contains("loopback"), "{why}");
}

#[tokio::test]
async fn redirects_are_not_followed_and_secrets_are_sealed() {
    let limits = Limits {
        allow_http_loopback_webhooks: true,
        ..Limits::default()
    };
    let e = env_with(limits, Some([7; 32])).await;
    let (inner, inner_calls, _) = receiver(200, None).await;
    let (outer, outer_calls, _) = receiver(302, Some(inner)).await;
    let (good, _, good_last) = receiver(200, None).await;
    webhooks::register(&e.state, "user:admin", &outer, SECRET, vec![])
        .await
        .unwrap();
    webhooks::register(&e.state, "user:admin", &good, SECRET, vec![])
        .await
        .unwrap();
    let stored = e.state.store.read().webhooks().await.unwrap();
    assert!(
        stored
            .iter()
            .all(|w| w.secret.starts_with("sealed1:") && !w.secret.contains(SECRET)),
        "{stored:?}"
    );
    let d = e.device(1).await;
    e.file(&d, "a", "disk.free:/").await;
    let sender = webhooks::Sender::new(std::time::Duration::from_secs(5)).unwrap();
    webhooks::deliver_due(&e.state, &sender, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(outer_calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        inner_calls.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
    let pending = e.state.store.read().deliveries(10).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let why = pending[0].last_error.clone().unwrap_or_default();
    assert!(why.contains("302") && why.contains("redirect"), "{why}");
    // the sealed secret still signs: the receiver checks with the plain one
    let (sig, body) = good_last.lock().unwrap().clone().expect("delivered");
    assert_eq!(sig, webhooks::signature(SECRET, body.as_bytes()));
}
