//! Router tests for console sign-in (issue 15, first part): passwords set by an admin
//! or the user, argon2id-verified sign-in with a hardened cookie, CSRF on every
//! state-changing request made with the cookie, idle expiry, sign-out, throttled
//! failures, and every refusal audited.

use super::*;
use axum::http::HeaderMap;

async fn sign_in(t: &T, password: &str) -> (StatusCode, HeaderMap, serde_json::Value) {
    send(
        t,
        Method::POST,
        "/api/v1/session",
        &[],
        Some(serde_json::json!({"name": "admin", "password": password})),
    )
    .await
}

#[tokio::test]
async fn sign_in_sessions_csrf_expiry_and_sign_out() {
    let t = setup().await;
    let (s, v) = give_password(&t, &t.admin, "admin", "short").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = give_password(&t, &t.admin, "admin", "correct horse battery").await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // a wrong password: 401 with the JSON body, audited
    let (s, _, v) = sign_in(&t, "wrong password here").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert_error(&v, "unauthorized");

    // the right one: a hardened cookie and the CSRF token
    let (s, h, v) = sign_in(&t, "correct horse battery").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let set = h[header::SET_COOKIE].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    let csrf = v["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(v["user"]["name"], "admin");

    // reads work with the cookie alone
    let (s, _, v) = send(
        &t,
        Method::GET,
        "/api/v1/devices",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, v) = send(
        &t,
        Method::GET,
        "/api/v1/session",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(
        (s, v["csrf_token"].as_str()),
        (StatusCode::OK, Some(csrf.as_str()))
    );

    // a change without the CSRF token is refused (and audited); with it, it goes
    let create = serde_json::json!({"name": "bob", "role": "analyst"});
    let (s, _, v) = send(
        &t,
        Method::POST,
        "/api/v1/users",
        &[("cookie", &cookie)],
        Some(create.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = send(
        &t,
        Method::POST,
        "/api/v1/users",
        &[("cookie", &cookie), ("x-csrf-token", "0000")],
        Some(create.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = send(
        &t,
        Method::POST,
        "/api/v1/users",
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        Some(create),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // the audit log has the sign-in, the refusals and the CSRF refusal
    let (_, v) = t
        .call(
            Method::GET,
            "/api/v1/audit?limit=1000",
            Some(&t.admin),
            None,
        )
        .await;
    let text = v.to_string();
    for want in ["session.sign_in", "session.csrf", "wrong name or password"] {
        assert!(text.contains(want), "{want} not audited: {text}");
    }

    // idle for longer than the idle timeout: signed out
    t.clock.advance_ms(crate::users::sessions::IDLE_MS + 1);
    let (s, _, v) = send(
        &t,
        Method::GET,
        "/api/v1/devices",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");

    // sign in again, then out: the cookie is dead and cleared
    let (_, h, v) = sign_in(&t, "correct horse battery").await;
    let cookie = h[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = v["csrf_token"].as_str().unwrap().to_string();
    let (s, h, _) = send(
        &t,
        Method::DELETE,
        "/api/v1/session",
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(h[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let (s, _, _) = send(
        &t,
        Method::GET,
        "/api/v1/devices",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_even_for_the_right_password() {
    let t = setup().await;
    let (s, v) = give_password(&t, &t.admin, "admin", "correct horse battery").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for _ in 0..5 {
        let (s, _, _) = sign_in(&t, "guess guess guess").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, h, v) = sign_in(&t, "correct horse battery").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_error(&v, "rate_limited");
    assert!(h.contains_key(header::RETRY_AFTER));
    // once the bucket refills, the right password works again
    t.clock.advance_ms(121_000);
    let (s, _, v) = sign_in(&t, "correct horse battery").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // a name with no password cannot sign in at all
    let (s, _, _) = send(
        &t,
        Method::POST,
        "/api/v1/session",
        &[],
        Some(serde_json::json!({"name": "nobody", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
