//! Console sign-in end to end (issue 15, first part), real collector over real HTTPS:
//! `tendctl user reset` + `user password --code` give the admin its first password and
//! `tendctl user password` changes it with the current one, from standard input; a browser
//! stand-in (reqwest, pinned to the collector CA) signs in, reads with the cookie,
//! is refused a change without the CSRF token, makes it with the token, signs out.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use tend_e2e::{bin, CollectorProc};

#[tokio::test]
async fn an_admin_signs_in_with_a_password_and_the_cookie_needs_csrf_to_change_things() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CollectorProc::start(&tmp.path().join("data"), 0);
    let admin = c.admin_token.clone().expect("admin token");
    let tendctl = |args: &[&str], stdin: &str| {
        let mut child = Command::new(bin("tendctl"))
            .args(args)
            .env("TEND_SERVER", &c.url)
            .env("TEND_TOKEN", &admin)
            .env("TEND_CA", c.data.join("ca.pem"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "tendctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // the admin's first password: a reset code it issues for itself, then redeemed
    let issued: serde_json::Value =
        serde_json::from_str(&tendctl(&["--json", "user", "reset", "admin"], "")).unwrap();
    let code = issued["code"].as_str().expect("a reset code");
    let out = tendctl(
        &["user", "password", "admin", "--code"],
        &format!("{code}\na first long passphrase\n"),
    );
    assert!(out.contains("password set for user admin"), "{out}");
    // and then its own change: signed in with the current password, from a session
    let out = tendctl(
        &["user", "password", "admin"],
        "a first long passphrase\na long enough passphrase\n",
    );
    assert!(out.contains("password changed for user admin"), "{out}");

    tend_client::install_crypto_provider();
    let http = tend_client::pinned_client(&c.ca_pem(), Duration::from_secs(30)).unwrap();
    let url = |p: &str| format!("{}{p}", c.url);
    let r = http
        .post(url("/api/v1/session"))
        .json(&serde_json::json!({"name": "admin", "password": "wrong wrong wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(url("/api/v1/session"))
        .json(&serde_json::json!({"name": "admin", "password": "a long enough passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let info: serde_json::Value = r.json().await.unwrap();
    let csrf = info["csrf_token"].as_str().unwrap().to_string();

    let r = http
        .get(url("/api/v1/devices"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = serde_json::json!({"name": "carol", "role": "viewer"});
    let r = http
        .post(url("/api/v1/users"))
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a CSRF-less POST is refused");
    let r = http
        .post(url("/api/v1/users"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .delete(url("/api/v1/session"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http
        .get(url("/api/v1/devices"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "signed out");
}
