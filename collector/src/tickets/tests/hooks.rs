//! Ticket engine tests: webhook signing and retries against a local receiver, and
//! tickets of checks the policy no longer runs.

use super::*;
#[tokio::test]
async fn webhooks_are_signed_and_retried() {
    use axum::routing::post;
    let e = env().await;
    let received: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let (r2, c2) = (received.clone(), calls.clone());
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let (r, c) = (r2.clone(), c2.clone());
            async move {
                // the first two deliveries fail
                if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                let h = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                r.lock()
                    .unwrap()
                    .push((h("x-tend-event"), h("x-tend-signature"), body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let secret = "0123456789abcdef-secret";
    webhooks::register(&e.state, "user:admin", &url, secret, vec![])
        .await
        .unwrap();
    assert!(
        webhooks::register(&e.state, "user:admin", &url, "short", vec![])
            .await
            .is_err()
    );
    let d = e.device(1).await;
    e.file(&d, "a", "disk.free:/").await;
    crate::server::install_crypto_provider();
    let client = webhooks::Sender::new(std::time::Duration::from_secs(30)).unwrap();
    let base = std::time::Duration::from_secs(1);
    // attempt 1 fails; the retry is not due until the clock moves
    let next = webhooks::deliver_due(&e.state, &client, base)
        .await
        .unwrap();
    assert_eq!(next, Some(T0 + 1000));
    assert_eq!(
        webhooks::deliver_due(&e.state, &client, base)
            .await
            .unwrap(),
        Some(T0 + 1000)
    );
    e.clock.advance_ms(1000);
    let next = webhooks::deliver_due(&e.state, &client, base)
        .await
        .unwrap();
    assert_eq!(next, Some(T0 + 1000 + 2000), "backoff doubles");
    e.clock.advance_ms(2000);
    assert_eq!(
        webhooks::deliver_due(&e.state, &client, base)
            .await
            .unwrap(),
        None
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (event, sig, body) = &got[0];
    assert_eq!(event, "ticket.created");
    assert_eq!(sig, &webhooks::signature(secret, body.as_bytes()));
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["ticket"]["problem_key"], "disk.free:/");
    assert!(e
        .state
        .store
        .read()
        .deliveries(10_000)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_check_the_policy_disables_resolves_its_ticket_and_numbers_stay_consecutive() {
    let e = env().await;
    let d = e.device(1).await;
    let (fw, _) = e.file(&d, "a", "firewall.enabled").await;
    let (disk, _) = e.file(&d, "b", "disk.free:/data").await;
    let (crash, _) = e.file(&d, "c", "crash:gedit").await;
    assert_eq!(
        [fw.id.as_str(), disk.id.as_str(), crash.id.as_str()],
        ["T-1", "T-2", "T-3"]
    );
    // a report without those checks while the policy still runs them changes nothing
    on_checkin(&e.state, &d.id, &[result("cpu.load", CheckStatus::Pass)])
        .await
        .unwrap();
    assert!(e
        .state
        .store
        .read()
        .ticket("T-1")
        .await
        .unwrap()
        .unwrap()
        .ticket
        .status
        .is_open());
    // the firewall check disabled, /data no longer watched
    let mut p = (*e.state.policy()).clone();
    p.checks.get_mut("firewall.enabled").unwrap().enabled = false;
    p.disk_mounts = vec!["/".into()];
    crate::atomic!(e.state.store, tx => {
        e.state.set_policy(&mut tx, &p);
        Ok(())
    })
    .unwrap();
    e.state.reload().await.unwrap();
    on_checkin(&e.state, &d.id, &[result("cpu.load", CheckStatus::Pass)])
        .await
        .unwrap();
    for id in ["T-1", "T-2"] {
        let t = e
            .state
            .store
            .read()
            .ticket(id)
            .await
            .unwrap()
            .unwrap()
            .ticket;
        assert_eq!(t.status, TicketStatus::Resolved, "{id}");
        assert!(t.auto_resolved);
        let why = e
            .state
            .store
            .read()
            .timeline(id)
            .await
            .unwrap()
            .last()
            .unwrap()
            .message
            .clone();
        assert!(why.contains("disabled by policy"), "{why}");
    }
    // not a policy check: left alone
    assert!(e
        .state
        .store
        .read()
        .ticket("T-3")
        .await
        .unwrap()
        .unwrap()
        .ticket
        .status
        .is_open());
    let (next, _) = e.file(&d, "d", "os.updates").await;
    assert_eq!(next.id, "T-4");
}

#[tokio::test]
async fn webhooks_are_https_and_a_dead_target_does_not_stall_the_others() {
    let e = env().await;
    let secret = "0123456789abcdef-secret";
    // plain http only to loopback, and only when allowed
    for bad in ["http://hooks.example.com/x", "ftp://127.0.0.1/x"] {
        assert!(
            webhooks::register(&e.state, "user:admin", bad, secret, vec![])
                .await
                .is_err()
        );
    }
    // a target that accepts and never answers, and one that works
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/hook", dead.local_addr().unwrap());
    let got: Arc<Mutex<Vec<std::time::Instant>>> = Arc::default();
    let g2 = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let g = g2.clone();
            async move {
                g.lock().unwrap().push(std::time::Instant::now());
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let live_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    webhooks::register(&e.state, "user:admin", &dead_url, secret, vec![])
        .await
        .unwrap();
    webhooks::register(&e.state, "user:admin", &live_url, secret, vec![])
        .await
        .unwrap();
    let d = e.device(1).await;
    e.file(&d, "a", "disk.free:/").await;
    crate::server::install_crypto_provider();
    let client = webhooks::Sender::new(std::time::Duration::from_secs(2)).unwrap();
    let started = std::time::Instant::now();
    let next = webhooks::deliver_due(&e.state, &client, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    let done = std::time::Instant::now();
    // the live target got its delivery while the dead one was still timing out (2 s);
    // taken one after the other, it would have come after that
    let at = got
        .lock()
        .unwrap()
        .first()
        .copied()
        .expect("delivered to the live target");
    assert!(
        done.duration_since(at) >= std::time::Duration::from_secs(1),
        "delivered {:?} after the start, the round took {:?}",
        at.duration_since(started),
        done.duration_since(started)
    );
    assert!(
        next.is_some(),
        "the dead target's delivery waits for its retry"
    );
    assert_eq!(
        e.state.store.read().deliveries(10_000).await.unwrap().len(),
        1
    );
    drop(dead);
}
