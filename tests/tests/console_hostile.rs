//! A laptop cannot reach an analyst's browser (issue 23 #3), in a real headless
//! Chromium against a real collector over real HTTPS: a device token alone files a
//! ticket whose evidence strings are markup (a `<meta http-equiv=refresh>` to a fake
//! sign-in page, an `<iframe srcdoc>` loading a release artifact as a script, an
//! `<img onerror>`) and answers a diagnostic with hostile path names and output.
//! Numbers that are not numbers are refused with a 400 before anything is stored;
//! the strings render as text: no element is injected, the page does not navigate and
//! no script runs; `tendctl job` prints the device's terminal escapes as visible text.

use std::time::Duration;

use tend_e2e::browser::Browser;
use tend_e2e::{wait_for, CollectorProc};

const PASSWORD: &str = "a hostile world passphrase";
const META: &str = "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/signin\">";
const FRAME: &str =
    "<iframe srcdoc=\"<script src=/api/v1/releases/9.9.9/linux-x86_64/artifact></script>\"></iframe>";
const IMG: &str = "<img src=x onerror=\"window.__pwned=1\">";

/// Nothing the device sent became an element, the page stayed where it was and no
/// script set `__pwned`.
async fn nothing_ran(b: &Browser, url_before: &str) {
    let v = b
        .js("return {href: location.href, pwned: window.__pwned === undefined ? null : window.__pwned, \
             injected: document.querySelectorAll('main meta, main iframe, main img, main script, main object').length}")
        .await;
    assert_eq!(v["href"], url_before, "the page navigated: {v}");
    assert!(v["pwned"].is_null(), "a script ran: {v}");
    assert_eq!(v["injected"], 0, "markup was injected: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_evidence_and_results_render_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CollectorProc::start_with_admins(&tmp.path().join("data"), 0, &["alice"]);
    let alice = c.admins[0].clone();
    tend_client::install_crypto_provider();
    let http = tend_client::pinned_client(&c.ca_pem(), Duration::from_secs(30)).unwrap();
    tend_e2e::give_own_password(&http, &c.url, &alice, "alice", PASSWORD).await;
    let api = |p: &str| format!("{}{p}", c.url);

    // a device, with nothing but the enroll secret
    let secret = std::fs::read_to_string(c.data.join("enroll.secret")).unwrap();
    let enrolled: serde_json::Value = http
        .post(api("/api/v1/enroll"))
        .json(&serde_json::json!({"enroll_secret": secret.trim(), "agent_version": "0.1.0",
            "identity": {"hardware_uuid": "HW-HOSTILE", "hostname": "evil-laptop", "platform": "linux"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (dev, tok) = (
        enrolled["device_id"].as_str().unwrap().to_string(),
        enrolled["device_token"].as_str().unwrap().to_string(),
    );
    let file = |evidence: serde_json::Value| {
        http.post(api("/api/v1/tickets"))
            .bearer_auth(&tok)
            .json(&serde_json::json!({
            "request_id": "hostile-1", "problem_key": "disk.free:/", "severity": "high",
            "summary": format!("disk {IMG}"), "description": META, "evidence": evidence}))
    };
    // a number that is markup does not fit the evidence's shape: refused, nothing kept
    let r =
        file(serde_json::json!({"disks": [{"mount": "/", "free_bytes": META, "total_bytes": 1}]}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    let r = file(serde_json::json!({
        "disks": [{"mount": META, "free_bytes": 1, "total_bytes": 4}],
        "os": {"name": FRAME, "version": IMG, "kernel": "6"},
        "agent_version": IMG,
        "note": {"left": META, "list": [FRAME, IMG]},
    }))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let ticket: serde_json::Value = r.json().await.unwrap();
    let tid = ticket["id"].as_str().unwrap().to_string();

    // a diagnostic answered with markup for a count (refused), then with hostile names
    let job: serde_json::Value = http
        .post(api(&format!("/api/v1/devices/{dev}/diagnostics")))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"name": "disk-usage", "args": ["/tmp"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jid = job["id"].as_str().unwrap().to_string();
    let polled: serde_json::Value = http
        .get(api("/api/v1/jobs/next?wait=0"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["jobs"][0]["id"], jid.as_str());
    let result = |entries: serde_json::Value| {
        http.post(api(&format!("/api/v1/jobs/{jid}/result")))
            .bearer_auth(&tok)
            .json(
                &serde_json::json!({"state": "succeeded", "exit_code": 0, "duration_ms": 5,
                "stdout": format!("{META}\n\u{1b}]52;c;cm0gLXJmIH4K\u{7}"),
                "output": {"path": FRAME, "total_bytes": 10, "entries_scanned": entries,
                    "largest": [{"path": IMG, "bytes": 10}]}}),
            )
    };
    let r = result(serde_json::json!(META)).send().await.unwrap();
    assert_eq!(r.status(), 400, "entries_scanned must be a number");
    let r = result(serde_json::json!(3)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // the analyst's terminal gets the device's output as text: no OSC 52 clipboard
    // write, no escape at all unless asked for with --raw (#9)
    let tendctl = |extra: &[&str]| {
        let out = std::process::Command::new(tend_e2e::bin("tendctl"))
            .args(extra)
            .args(["job", &jid])
            .env("TEND_SERVER", &c.url)
            .env("TEND_TOKEN", &alice)
            .env("TEND_CA", c.data.join("ca.pem"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let shown = tendctl(&[]);
    assert!(
        !shown.contains(&0x1b) && !shown.contains(&0x07),
        "a raw escape reached the terminal"
    );
    assert!(
        String::from_utf8_lossy(&shown).contains("\\x1b]52;c;"),
        "{}",
        String::from_utf8_lossy(&shown)
    );
    assert!(tendctl(&["--raw"]).windows(4).any(|w| w == b"\x1b]52"));

    // an admin resets another user's password: every admin sees it on every page
    let r = http
        .post(api("/api/v1/users"))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"name": "carol", "role": "analyst"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .post(api("/api/v1/users/carol/password-reset"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let b = Browser::start(1280, 900).await;
    b.go(&format!("{}/#/overview", c.url)).await;
    b.fill("#signin-name", "alice").await;
    b.fill("#signin-password", PASSWORD).await;
    b.click("#signin-submit").await;
    b.wait_text("#who-name", "alice").await;
    b.wait_text("#notices", "reset the password of carol").await;

    let page = format!("{}/#/ticket/{tid}", c.url);
    b.go(&page).await;
    let text = b.wait_text("#evidence", "http-equiv").await;
    for s in [
        "<meta http-equiv=\"refresh\"",
        "<iframe srcdoc=",
        "<img src=x onerror=",
    ] {
        assert!(text.contains(s), "{s} is not shown as text in {text}");
    }
    b.wait_text("#ticket-title", "<img src=x").await;
    b.shot("hostile-ticket").await;
    nothing_ran(&b, &page).await;

    let page = format!("{}/#/job/{jid}", c.url);
    b.go(&page).await;
    let text = b.wait_text("main", "onerror").await;
    assert!(text.contains("<iframe srcdoc="), "{text}");
    b.shot("hostile-job").await;
    // still there a moment later: the page did not navigate away
    wait_for(
        "the job page to settle",
        Duration::from_secs(10),
        || async {
            b.js("return document.querySelector('.result') ? true : null")
                .await
                .as_bool()
        },
    )
    .await;
    nothing_ran(&b, &page).await;
    b.close().await;
}
