//! Router tests for security round 3 (issue 23), the device side: multi-byte job
//! output survives the 8 KiB cut (#8), a script body goes only to the device it is
//! queued for (#14), an asset PATCH cannot skip offboarding (#16), `tend help` has a
//! budget of its own (#18), enrollments are rate-limited per source (#17) and every
//! API answer carries the hardening headers (#13).

use super::*;

async fn ticket(t: &T, analyst: &str, device: &str) -> String {
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(analyst),
            Some(
                serde_json::json!({"request_id": "r3", "device_id": device,
                    "problem_key": "disk.full", "severity": "low", "summary": "full"})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_result_cut_inside_a_character_is_kept_whole_to_the_char() {
    let t = setup().await;
    let d = t.enroll("HW-UTF8", None).await;
    let (dev, tok) = (
        d["device_id"].as_str().unwrap(),
        d["device_token"].as_str().unwrap(),
    );
    let ana = t.token(Role::Analyst, "ana").await;
    let tid = ticket(&t, &ana, dev).await;
    let (s, job) = t
        .call(
            Method::POST,
            &format!("/api/v1/devices/{dev}/diagnostics"),
            Some(&ana),
            Some(serde_json::json!({"name": "routes", "ticket_id": tid}).to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{job}");
    let jid = job["id"].as_str().unwrap();
    let (_, polled) = t
        .call(Method::GET, "/api/v1/jobs/next?wait=0", Some(tok), None)
        .await;
    assert_eq!(polled["jobs"][0]["id"], jid);
    // 8192 is not a multiple of 3: the cut falls inside a "€"
    let stdout = "€".repeat(4000);
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{jid}/result"),
            Some(tok),
            Some(
                serde_json::json!({"state": "succeeded", "exit_code": 0, "stdout": stdout})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, view) = t
        .call(
            Method::GET,
            &format!("/api/v1/jobs/{jid}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(view["state"], "succeeded");
    assert_eq!(view["result"]["stdout"], stdout, "the job keeps it all");
    let (_, tk) = t
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{tid}"),
            Some(&ana),
            None,
        )
        .await;
    let entry = tk["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "job.result")
        .cloned()
        .unwrap_or_else(|| panic!("no job.result on {tk}"));
    let kept = entry["data"]["stdout"].as_str().unwrap();
    assert_eq!(kept.len(), 8190, "clipped to the last whole character");
    assert!(kept.chars().all(|c| c == '€'));
}

#[tokio::test]
async fn a_script_body_goes_only_to_the_device_it_is_queued_for() {
    let t = setup().await;
    let alice = t.admin.clone();
    let bob = t.token(Role::Admin, "bob").await;
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/scripts",
            Some(&alice),
            Some(serde_json::json!({"name": "fix", "interpreter": "sh", "body": "id"}).to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["id"].as_str().unwrap().to_string();
    let (s, _) = t
        .call(
            Method::POST,
            &format!("/api/v1/scripts/{sid}/approve"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let a = t.enroll("HW-A", None).await;
    let b = t.enroll("HW-B", None).await;
    let (s, v) = t
        .call(
            Method::POST,
            &format!(
                "/api/v1/devices/{}/scripts",
                a["device_id"].as_str().unwrap()
            ),
            Some(&alice),
            Some(serde_json::json!({"script_id": sid}).to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let path = format!("/api/v1/scripts/{sid}/signed");
    let (s, v) = t
        .call(Method::GET, &path, a["device_token"].as_str(), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["body"], "id");
    let (s, v) = t
        .call(Method::GET, &path, b["device_token"].as_str(), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn an_asset_patch_cannot_skip_offboarding() {
    let t = setup().await;
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/assets",
            Some(&t.admin),
            Some(r#"{"serial":"SER-1","model":"laptop","state":"deployed"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    for status in ["retired", "collecting", "wiping"] {
        let (s, v) = t
            .call(
                Method::PATCH,
                &format!("/api/v1/assets/{id}"),
                Some(&t.admin),
                Some(serde_json::json!({"state": status}).to_string()),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{status}: {v}");
    }
    let (_, v) = t
        .call(
            Method::GET,
            &format!("/api/v1/assets/{id}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(v["state"], "deployed", "{v}");
}

#[tokio::test]
async fn tend_help_has_a_budget_of_its_own() {
    let t = setup().await;
    let d = t.enroll("HW-BUDGET", None).await;
    let (dev, tok) = (
        d["device_id"].as_str().unwrap(),
        d["device_token"].as_str().unwrap(),
    );
    let file = |i: usize, requester: Option<&str>| {
        let body = serde_json::json!({"request_id": format!("b{i}"), "device_id": dev,
            "problem_key": format!("check.{i}"), "severity": "low", "summary": "s",
            "requester": requester});
        t.call(
            Method::POST,
            "/api/v1/tickets",
            Some(tok),
            Some(body.to_string()),
        )
    };
    let mut automatic = 0;
    for i in 0..40 {
        let (s, _) = file(i, None).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        automatic += 1;
    }
    assert!(automatic < 40, "the automatic budget ran out");
    // the person at the laptop still gets through
    let (s, v) = file(100, Some("erin")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn enrollments_are_rate_limited_per_source() {
    let mut limits = Limits::default();
    limits.rates.enrollments = crate::limits::Rate {
        burst: 3.0,
        per_s: 1.0 / 3600.0,
    };
    let t = setup_with(limits).await;
    let mut codes = Vec::new();
    for i in 0..5 {
        let (s, _) = t
            .enroll_with(&format!("HW-E{i}"), None, serde_json::Value::Null)
            .await;
        codes.push(s);
    }
    assert_eq!(&codes[..3], &[StatusCode::OK; 3]);
    assert_eq!(&codes[3..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
}

#[tokio::test]
async fn every_api_answer_carries_the_hardening_headers() {
    let t = setup().await;
    for (path, token) in [
        ("/api/v1/devices", Some(t.admin.as_str())),
        ("/api/v1/devices", None),
        ("/api/v1/nowhere", Some(t.admin.as_str())),
    ] {
        let mut req = Request::builder().uri(path);
        if let Some(tok) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {tok}"));
        }
        let resp = t
            .app()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key(header::STRICT_TRANSPORT_SECURITY), "{path}");
        if token.is_some() {
            assert_eq!(h[header::CACHE_CONTROL], "no-store", "{path}");
        }
    }
}

#[tokio::test]
async fn admins_see_pending_and_refused_enrollments() {
    let t = setup().await;
    t.enroll("HW-KNOWN", None).await;
    // the same hardware again, without its credentials: waits for an analyst
    let (s, _) = t
        .enroll_with("HW-KNOWN", None, serde_json::Value::Null)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // a stranger with a wrong secret, twice
    for _ in 0..2 {
        let body = serde_json::json!({"enroll_secret": "guess", "agent_version": "1",
            "identity": {"hardware_uuid": "HW-STRANGER", "hostname": "h", "platform": "linux"}});
        let (s, _) = t
            .call(Method::POST, "/api/v1/enroll", None, Some(body.to_string()))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let analyst = t.token(Role::Analyst, "ana").await;
    let (s, _) = t
        .call(Method::GET, "/api/v1/enrollments", Some(&analyst), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "admins only");
    let (s, v) = t
        .call(Method::GET, "/api/v1/enrollments", Some(&t.admin), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["pending"][0]["hardware_uuid"], "HW-KNOWN", "{v}");
    let refused = v["refused"].as_array().unwrap();
    let attempts: u64 = refused
        .iter()
        .map(|r| r["attempts"].as_u64().unwrap())
        .sum();
    assert_eq!(attempts, 3, "{v}");
}
