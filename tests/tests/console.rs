//! The web console in a real headless Chromium (issue 15), against a real collector
//! with a real agent over real HTTPS: sign-in (a wrong password refused), finding the
//! device by hostname, `disk-usage /tmp` run from the device page with its result on
//! the page, working a ticket (assign to me, comment, resolve), a script submitted by
//! one admin that the same admin cannot approve, approved by a second admin and run on
//! the device with its output shown, the overview's fleet counts and created/resolved
//! chart, a CSRF-less change refused, and the queue usable at 800 px. Every page is
//! saved as a screenshot under `target/console-screenshots/`.

use std::time::Duration;

use tend_e2e::browser::Browser;
use tend_e2e::{wait_for, AgentProc, CollectorProc};

const PASSWORD: &str = "correct horse battery staple";

async fn set_password(http: &reqwest::Client, url: &str, token: &str, name: &str) {
    tend_e2e::give_own_password(http, url, token, name, PASSWORD).await;
}

async fn sign_in(b: &Browser, url: &str, name: &str) {
    b.go(&format!("{url}/#/overview")).await;
    b.fill("#signin-name", name).await;
    b.fill("#signin-password", PASSWORD).await;
    b.click("#signin-submit").await;
    b.wait_text("#who-name", name).await;
}

async fn sign_out(b: &Browser) {
    b.click("#sign-out").await;
    b.el("#signin-form").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_work_devices_tickets_and_scripts_in_a_real_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CollectorProc::start_with_admins(&tmp.path().join("data"), 0, &["alice", "bob"]);
    let (alice, bob) = (c.admins[0].clone(), c.admins[1].clone());
    tend_client::install_crypto_provider();
    let http = tend_client::pinned_client(&c.ca_pem(), Duration::from_secs(30)).unwrap();
    set_password(&http, &c.url, &alice, "alice").await;
    set_password(&http, &c.url, &bob, "bob").await;

    let (state, device_id) = c.enroll_agent(tmp.path(), "laptop", "hw-console-1");
    let _agent = AgentProc::start(&state, Some("hw-console-1"));
    let api = |path: &str| format!("{}{path}", c.url);
    // the agent has checked in with its health
    let device: serde_json::Value =
        wait_for("the first check-in", Duration::from_secs(60), || async {
            let d: serde_json::Value = http
                .get(api(&format!("/api/v1/devices/{device_id}")))
                .bearer_auth(&alice)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (d["device"]["health"] != "unknown").then_some(d)
        })
        .await;
    let hostname = device["device"]["hostname"].as_str().unwrap().to_string();
    // a ticket for the queue, filed by an analyst for the device
    let r = http
        .post(api("/api/v1/tickets"))
        .bearer_auth(&alice)
        .json(&serde_json::json!({
            "request_id": "console-test-1", "device_id": device_id, "problem_key": "printer.jam",
            "summary": "The printer on floor 3 jams", "severity": "medium",
            "evidence": {"printer": "floor-3", "jams_today": 4}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let ticket: serde_json::Value = r.json().await.unwrap();
    let ticket_id = ticket["id"].as_str().unwrap().to_string();

    let b = Browser::start(1280, 1000).await;
    // sign-in: a wrong password is refused, the right one lands on the overview
    b.go(&format!("{}/", c.url)).await;
    b.fill("#signin-name", "alice").await;
    b.fill("#signin-password", "not the password").await;
    b.click("#signin-submit").await;
    b.wait_text("#signin-form .form-err", "Wrong user name or password")
        .await;
    b.shot("01-sign-in-refused").await;
    sign_in(&b, &c.url, "alice").await;

    // the overview: fleet counts and the created/resolved chart
    b.wait_text("#fleet", "healthy").await;
    let tiles = b
        .js("return Object.fromEntries([...document.querySelectorAll('#fleet .tile')].map(t => [t.children[1].textContent.split(' ')[0], Number(t.children[0].textContent)]))")
        .await;
    let health = device["device"]["health"].as_str().unwrap();
    assert_eq!(tiles[health], 1, "the device counts as {health}: {tiles}");
    assert_eq!(tiles["offline"], 0, "{tiles}");
    assert_eq!(tiles["unknown"], 0, "{tiles}");
    b.wait_text("#backlog", "open P").await;
    let bars = b
        .js("return document.querySelectorAll('#chart-volume svg rect').length")
        .await;
    assert_eq!(
        bars,
        serde_json::json!(60),
        "30 days × created and resolved"
    );
    let created_today = b
        .js("const r = [...document.querySelectorAll('#chart-volume tbody tr')].pop(); return r.children[1].textContent")
        .await;
    // the agent may have filed tickets of its own for this machine's failing checks
    let o: serde_json::Value = http
        .get(api("/api/v1/reports/overview"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let today = o["daily"].as_array().unwrap().last().unwrap()["created"].clone();
    assert!(today.as_u64().unwrap() >= 1, "{o}");
    assert_eq!(created_today, serde_json::json!(today.to_string()));
    b.shot("02-overview").await;

    // find the device by hostname and run disk-usage /tmp on it
    b.go(&format!("{}/#/devices", c.url)).await;
    b.fill("#device-q", &hostname).await;
    b.click("#device-search button").await;
    let link = format!("a[href='#/device/{device_id}']");
    b.click(&link).await;
    b.wait_text("#device-title", &hostname).await;
    b.el("#diag-name")
        .await
        .select_by_value("disk-usage")
        .await
        .unwrap();
    b.fill("#arg-disk-usage-path", "/tmp").await;
    b.click("#diag-run").await;
    let result = b
        .wait_text("#diag-result .result[data-state=succeeded]", "/tmp:")
        .await;
    assert!(result.contains("entries"), "{result}");
    assert!(!result.contains("{\""), "readable, not raw JSON: {result}");
    b.wait_text("#job-history", "disk-usage /tmp").await;
    b.shot("03-device-disk-usage").await;

    // work the ticket: from the unassigned queue, assign to me, comment, resolve
    b.go(&format!("{}/#/tickets?open=true&assignee=none", c.url))
        .await;
    b.click(&format!("a[href='#/ticket/{ticket_id}']")).await;
    b.wait_text("#ticket-title", "printer on floor 3").await;
    b.wait_text("#evidence", "jams today").await;
    b.click("#assign-me").await;
    b.wait_text("#ticket-assignee", "alice").await;
    b.fill("#comment", "Replaced the pickup roller").await;
    b.click("#comment-form button").await;
    b.wait_text("#timeline", "Replaced the pickup roller").await;
    // only the allowed moves are offered: from new, start work, pending or resolved
    let moves = b
        .js("return [...document.querySelectorAll('button.move')].map(b => b.dataset.status).join(',')")
        .await;
    assert_eq!(moves, serde_json::json!("in_progress,pending,resolved"));
    b.click("button.move[data-status=resolved]").await;
    b.wait_text("#ticket-status", "resolved").await;
    b.shot("04-ticket-resolved").await;

    // a change without the CSRF token is refused, even with the session cookie
    let status = b
        .js(&format!(
            "return fetch('/api/v1/tickets/{ticket_id}/comments', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify({{text: 'forged'}})}}).then(r => r.status)"
        ))
        .await;
    assert_eq!(status, serde_json::json!(403));

    // a script: alice submits it and may not approve it herself
    b.go(&format!("{}/#/scripts", c.url)).await;
    b.fill("#submit-script input[name=name]", "console-hello")
        .await;
    b.fill("#script-body", "echo hello from the console").await;
    b.click("#submit-script button[type=submit]").await;
    b.wait_text("#script-title", "console-hello").await;
    b.wait_text("#approve-note", "cannot approve").await;
    assert!(!b.el("#approve").await.is_enabled().await.unwrap());
    b.shot("05-script-submitted").await;
    let script_id = b
        .js("return location.hash.split('/')[2]")
        .await
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .post(api(&format!("/api/v1/scripts/{script_id}/approve")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the server refuses it too");

    // bob, a second independent admin, approves it, then runs it on the device
    sign_out(&b).await;
    sign_in(&b, &c.url, "bob").await;
    b.go(&format!("{}/#/script/{script_id}", c.url)).await;
    b.wait_text("#approve-note", "Submitted by alice").await;
    b.click("#approve").await;
    b.wait_text("#script-title", "approved").await;
    b.shot("06-script-approved").await;
    b.go(&format!("{}/#/device/{device_id}", c.url)).await;
    b.wait_text("#script-id", "console-hello").await;
    b.click("#script-run").await;
    let out = b
        .wait_text(
            "#script-result .result[data-state=succeeded]",
            "hello from the console",
        )
        .await;
    assert!(out.contains("exit code 0"), "{out}");
    b.shot("07-script-output").await;

    // the overview shows the resolved ticket
    b.go(&format!("{}/#/overview", c.url)).await;
    wait_for("the resolved ticket in the chart", Duration::from_secs(30), || async {
        let v = b
            .js("const r = [...document.querySelectorAll('#chart-volume tbody tr')].pop(); return r ? r.children[2].textContent : ''")
            .await;
        (v.as_str().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) >= 1).then_some(())
    })
    .await;
    b.shot("08-overview-after").await;

    // policy: an invalid value is refused with the error beside its field
    b.go(&format!("{}/#/policy", c.url)).await;
    b.fill("#pf-checkin_interval_s", "1").await;
    b.click("#policy-save").await;
    b.wait_text("[data-err='checkin_interval_s']", "between 5 and 86400")
        .await;
    b.shot("09-policy-error").await;
    b.fill("#pf-checkin_interval_s", "60").await;
    b.click("#policy-save").await;
    b.wait_text("#policy-ok", "Saved as version").await;

    // the audit log, filtered by actor, shows what alice did
    b.go(&format!("{}/#/audit?actor=user:alice", c.url)).await;
    b.wait_text("main table", "script.submit").await;
    b.shot("10-audit").await;

    // an asset's owner, location and lifecycle state
    let asset = device["device"]["asset_id"].as_str().unwrap().to_string();
    b.go(&format!("{}/#/asset/{asset}", c.url)).await;
    b.fill("#asset-form input[name=owner]", "dana@example.com")
        .await;
    b.fill("#asset-form input[name=location]", "Berlin, floor 3")
        .await;
    b.click("#asset-form button[type=submit]").await;
    b.wait_text("#asset-ok", "Saved").await;
    let a: serde_json::Value = http
        .get(api(&format!("/api/v1/assets/{asset}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["owner"], "dana@example.com");
    assert_eq!(a["location"], "Berlin, floor 3");
    b.shot("11-asset").await;
    // the knowledge base: an article added in the browser shows on matching tickets
    b.go(&format!("{}/#/kb", c.url)).await;
    b.fill(
        "#kb-form input[name=title]",
        "Printer jams: clear the pickup roller",
    )
    .await;
    b.fill("#kb-form input[name=keys]", "printer.jam").await;
    b.fill(
        "#kb-body",
        "Open tray 2, lift the green lever, remove the sheet.",
    )
    .await;
    b.click("#kb-form button[type=submit]").await;
    b.wait_text("main table", "Printer jams").await;
    b.go(&format!("{}/#/ticket/{ticket_id}", c.url)).await;
    b.wait_text("#ticket-kb", "clear the pickup roller").await;
    b.shot("12-ticket-kb").await;
    for (page, heading) in [("releases", "Agent releases"), ("problems", "Problems")] {
        b.go(&format!("{}/#/{page}", c.url)).await;
        b.wait_text("main h2", heading).await;
    }

    // at 800 px the queue is usable: nothing but the tables' own scroller is wider
    b.client.set_window_size(800, 900).await.unwrap();
    b.go(&format!("{}/#/tickets?status=resolved", c.url)).await;
    b.wait_text("main", &ticket_id).await;
    let wide = b
        .js("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(wide, serde_json::json!(true));
    b.shot("13-tickets-800px").await;
    b.close().await;
}
