//! Router tests for security round 3 (issue 23): nobody sets another user's
//! password and tokens never set one (#1, #2); a reset never makes a second approver
//! (#1); a password change ends the other sessions and their tokens, which have a
//! bounded lifetime (#5); nobody locks the owner out of sign-in and repeated
//! refusals collapse (#6); multi-byte job output survives the 8 KiB cut (#8);
//! scripts go only to the devices they are queued for (#14); lifecycle states are
//! not PATCHed (#16); `tend help` has its own budget (#18); headers (#13).

use std::net::SocketAddr;

use axum::extract::ConnectInfo;

use super::*;

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn redeem(t: &T, name: &str, code: &str, password: &str) {
    let (s, _, v) = send_from(
        t,
        Method::POST,
        "/api/v1/password-reset",
        &[],
        Some(serde_json::json!({"name": name, "code": code, "password": password})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// A console session: (cookie, csrf token, the sign-in answer).
async fn session(t: &T, name: &str, password: &str) -> (String, String, serde_json::Value) {
    let (s, h, v) = send_from(
        t,
        Method::POST,
        "/api/v1/session",
        &[],
        Some(serde_json::json!({"name": name, "password": password})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{name}: {v}");
    let cookie = h[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (cookie, v["csrf_token"].as_str().unwrap().to_string(), v)
}

async fn sign_in_status(t: &T, name: &str, password: &str, addr: &str) -> StatusCode {
    send_from(
        t,
        Method::POST,
        "/api/v1/session",
        &[],
        Some(serde_json::json!({"name": name, "password": password})),
        Some(addr),
    )
    .await
    .0
}

async fn audit(t: &T, action: &str) -> Vec<serde_json::Value> {
    let (_, v) = t
        .call(
            Method::GET,
            &format!("/api/v1/audit?action={action}&limit=1000"),
            Some(&t.admin),
            None,
        )
        .await;
    v["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn nobody_sets_another_users_password_and_tokens_never_set_one() {
    let t = setup().await;
    let bob = t.token(Role::Admin, "bob").await;
    let alice = t.admin.clone();
    let body = || Some(serde_json::json!({"password": "a new long passphrase"}));
    // #1: an admin does not set another admin's password
    let (s, _, v) = send_from(
        &t,
        Method::PUT,
        "/api/v1/users/bob/password",
        &[("authorization", &bearer(&alice))],
        body(),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("reset"));
    // #2: a viewer-capped token of bob's does not become bob's full role
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&bob),
            Some(r#"{"role":"viewer","label":"dashboard"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let viewer = v["token"].as_str().unwrap().to_string();
    for (who, token) in [("bob's viewer token", &viewer), ("bob's admin token", &bob)] {
        let (s, _, v) = send_from(
            &t,
            Method::PUT,
            "/api/v1/users/bob/password",
            &[("authorization", &bearer(token))],
            Some(serde_json::json!({"password": "a new long passphrase",
                "current_password": "anything at all"})),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {v}");
    }
    let (s, _, _) = send_from(
        &t,
        Method::POST,
        "/api/v1/users/bob/password-reset",
        &[("authorization", &bearer(&viewer))],
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a viewer issues no reset codes");
    // bob has no password: nobody signs in as bob
    let (s, _, _) = send_from(
        &t,
        Method::POST,
        "/api/v1/session",
        &[],
        Some(serde_json::json!({"name": "bob", "password": "a new long passphrase"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let denied = audit(&t, "user.password").await;
    assert!(denied.len() >= 3, "every refusal audited: {denied:?}");
    assert!(denied.iter().all(|e| e["outcome"] == "denied"));
}

#[tokio::test]
async fn a_reset_password_never_makes_a_second_approver() {
    let t = setup().await;
    let alice = t.admin.clone();
    let bob = t.token(Role::Admin, "bob").await;
    let dora = t.token(Role::Admin, "dora").await;
    let (s, v) = give_password(&t, &bob, "bob", "bob's own passphrase").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = give_password(&t, &alice, "admin", "alice's own passphrase").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let submit = serde_json::json!({"name": "fix", "interpreter": "sh", "body": "id"}).to_string();
    let (s, v) = t
        .call(Method::POST, "/api/v1/scripts", Some(&alice), Some(submit))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let approve = format!("/api/v1/scripts/{}/approve", v["id"].as_str().unwrap());

    // alice resets bob's password: bob's password and sessions end
    let (bob_cookie, bob_csrf, _) = session(&t, "bob", "bob's own passphrase").await;
    let (s, _, issued) = send_from(
        &t,
        Method::POST,
        "/api/v1/users/bob/password-reset",
        &[("authorization", &bearer(&alice))],
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    assert_eq!(issued["user"]["must_set_password"], true);
    let (s, _, _) = send_from(
        &t,
        Method::GET,
        "/api/v1/devices",
        &[("cookie", &bob_cookie)],
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "bob's session ended");
    assert_eq!(
        sign_in_status(&t, "bob", "bob's own passphrase", "10.1.1.1:1").await,
        StatusCode::UNAUTHORIZED
    );
    // audited, and every admin is told on sign-in
    let resets = audit(&t, "user.password_reset").await;
    assert!(
        resets.iter().any(|e| e["outcome"] == "success"),
        "{resets:?}"
    );
    let (s, v) = give_password(&t, &dora, "dora", "dora's own passphrase").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, info) = session(&t, "dora", "dora's own passphrase").await;
    let notices = info["notices"].as_array().cloned().unwrap_or_default();
    assert!(
        notices
            .iter()
            .any(|n| n["kind"] == "user.password_reset" && n["user"] == "bob"),
        "{info}"
    );

    // alice uses the code herself and signs in as bob: that session approves nothing
    redeem(
        &t,
        "bob",
        issued["code"].as_str().unwrap(),
        "alice holds bob now",
    )
    .await;
    let (cookie, csrf, _) = session(&t, "bob", "alice holds bob now").await;
    let as_bob = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let (s, _, v) = send_from(&t, Method::POST, &approve, &as_bob, None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // nor after "bob" sets its own password: whoever reset bob is never independent
    let (s, _, v) = send_from(
        &t,
        Method::PUT,
        "/api/v1/users/bob/password",
        &as_bob,
        Some(serde_json::json!({"password": "bob again, or alice", "current_password": "alice holds bob now"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_ne!(v["must_set_password"], true, "{v}");
    let (s, _, v) = send_from(&t, Method::POST, &approve, &as_bob, None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not independent"));
    // bob's own old session token stays dead, bob's old session did not come back
    let (s, _, _) = send_from(
        &t,
        Method::POST,
        &approve,
        &[("cookie", &bob_cookie), ("x-csrf-token", &bob_csrf)],
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // an admin independent of both still approves
    let (s, v) = t.call(Method::POST, &approve, Some(&dora), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn get(t: &T, header: &str, value: &str) -> StatusCode {
    send_from(
        t,
        Method::GET,
        "/api/v1/devices",
        &[(header, value)],
        None,
        None,
    )
    .await
    .0
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_their_tokens() {
    let t = setup().await;
    let (s, v) = give_password(&t, &t.admin, "admin", "the first passphrase").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (c1, x1, _) = session(&t, "admin", "the first passphrase").await;
    let (c2, _, _) = session(&t, "admin", "the first passphrase").await;
    let s1 = [("cookie", c1.as_str()), ("x-csrf-token", x1.as_str())];
    // a token minted from a session: bounded (90 days by default, never more)
    let (s, _, v) = send_from(
        &t,
        Method::POST,
        "/api/v1/tokens",
        &s1,
        Some(serde_json::json!({"label": "cli"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let minted = v["token"].as_str().unwrap().to_string();
    let now = t.state.now_ms();
    let expires = v["info"]["expires_at_ms"]
        .as_u64()
        .or_else(|| v["expires_at_ms"].as_u64())
        .expect("a session token expires");
    assert_eq!(expires, now + 90 * 86_400_000, "{v}");
    let (s, _, v) = send_from(
        &t,
        Method::POST,
        "/api/v1/tokens",
        &s1,
        Some(serde_json::json!({"expires_in_s": 91 * 86_400})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // the admin lowers the maximum
    let (s, _, v) = send_from(
        &t,
        Method::PUT,
        "/api/v1/settings/security",
        &s1,
        Some(serde_json::json!({"session_token_max_days": 7})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, v) = send_from(
        &t,
        Method::POST,
        "/api/v1/tokens",
        &s1,
        Some(serde_json::json!({})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let seven = v["info"]["expires_at_ms"]
        .as_u64()
        .or_else(|| v["expires_at_ms"].as_u64())
        .unwrap();
    assert_eq!(seven, now + 7 * 86_400_000);

    // a change needs the current password
    let change = |current: Option<&str>| {
        let mut b = serde_json::json!({"password": "the second passphrase"});
        if let Some(c) = current {
            b["current_password"] = c.into();
        }
        b
    };
    let path = "/api/v1/users/admin/password";
    let (s, _, _) = send_from(&t, Method::PUT, path, &s1, Some(change(None)), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = send_from(
        &t,
        Method::PUT,
        path,
        &s1,
        Some(change(Some("not it at all"))),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, v) = send_from(
        &t,
        Method::PUT,
        path,
        &s1,
        Some(change(Some("the first passphrase"))),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // the session that changed it goes on; the other session and the minted token end
    assert_eq!(get(&t, "cookie", &c1).await, StatusCode::OK);
    assert_eq!(get(&t, "cookie", &c2).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(&t, "authorization", &bearer(&minted)).await,
        StatusCode::UNAUTHORIZED
    );
    // the operator's token was not minted from a session: it goes on
    assert_eq!(
        get(&t, "authorization", &bearer(&t.admin)).await,
        StatusCode::OK
    );
    assert_eq!(
        sign_in_status(&t, "admin", "the first passphrase", "10.2.2.2:1").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn guessing_from_one_address_never_locks_the_owner_out() {
    let t = setup().await;
    let (s, v) = give_password(&t, &t.admin, "admin", "the owner's passphrase").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let attacker = "203.0.113.9:4000";
    for _ in 0..5 {
        assert_eq!(
            sign_in_status(&t, "admin", "a wrong guess", attacker).await,
            StatusCode::UNAUTHORIZED
        );
    }
    // the attacker is throttled, even with the right password …
    for _ in 0..10 {
        assert_eq!(
            sign_in_status(&t, "admin", "the owner's passphrase", attacker).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    // … the owner, elsewhere, is not
    assert_eq!(
        sign_in_status(&t, "admin", "the owner's passphrase", "198.51.100.7:5000").await,
        StatusCode::OK
    );
    // one address guessing many names is throttled as a whole
    let sprayer = "203.0.113.10:4000";
    let mut limited = 0;
    for i in 0..40 {
        let s = sign_in_status(&t, &format!("user{i}"), "a wrong guess", sprayer).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited >= 9, "{limited} of 40 spray attempts throttled");
    // ten throttled tries are one audit entry, and the next window's says how many
    let throttled = |v: &[serde_json::Value]| {
        v.iter()
            .filter(|e| {
                e["detail"]["reason"] == "throttled" && e["detail"]["source"] == "203.0.113.9"
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(throttled(&audit(&t, "session.sign_in").await).len(), 1);
    t.clock.advance_ms(61_000);
    assert_eq!(
        sign_in_status(&t, "admin", "a wrong guess", attacker).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let entries = throttled(&audit(&t, "session.sign_in").await);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        entries.iter().any(|e| e["detail"]["repeated"] == 9),
        "{entries:?}"
    );
}

#[test]
fn the_client_address_comes_from_trusted_proxies_only() {
    let parts = |peer: &str, xff: Option<&str>| {
        let mut b = Request::builder().extension(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        if let Some(x) = xff {
            b = b.header("x-forwarded-for", x);
        }
        b.body(()).unwrap().into_parts().0
    };
    let lb: std::net::IpAddr = "10.0.0.2".parse().unwrap();
    let addr = crate::users::auth::client_addr;
    // anyone else's X-Forwarded-For is ignored
    assert_eq!(
        addr(&parts("203.0.113.5:1", Some("1.2.3.4")), &[lb]),
        "203.0.113.5"
    );
    // the balancer's is believed, its rightmost untrusted entry
    assert_eq!(
        addr(&parts("10.0.0.2:1", Some("1.2.3.4, 198.51.100.9")), &[lb]),
        "198.51.100.9"
    );
    assert_eq!(addr(&parts("10.0.0.2:1", None), &[lb]), "10.0.0.2");
}
