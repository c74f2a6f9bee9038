//! Router tests for the security findings (issue 12): device takeover by
//! re-enrollment, the two-person rule by independent users, enrollment tokens,
//! refused enrollments that cannot fill the disk, bounded metric labels, token
//! revocation and expiry, and device decommissioning.

use ed25519_dalek::SigningKey;
use tend_shared::signing::{public_key_b64, reenroll_message, sign_b64};

use super::*;

fn signed_proof(key: &SigningKey, hw: &str, at_ms: u64) -> serde_json::Value {
    serde_json::json!({
        "device_key": public_key_b64(key),
        "proof": {"signature": sign_b64(key, &reenroll_message(hw, at_ms)), "signed_at_ms": at_ms},
    })
}

#[tokio::test]
async fn the_enroll_secret_alone_never_moves_a_known_device() {
    let t = setup().await;
    let now = t.state.now_ms();
    let real = SigningKey::from_bytes(&[7; 32]);
    let (s, first) = t
        .enroll_with("HW-VICTIM", None, signed_proof(&real, "HW-VICTIM", now))
        .await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let id = first["device_id"].as_str().unwrap().to_string();
    let real_token = first["device_token"].as_str().unwrap().to_string();

    // a colleague's laptop with the fleet secret and the victim's hardware UUID
    let thief = SigningKey::from_bytes(&[9; 32]);
    let (s, v) = t
        .enroll_with("HW-VICTIM", None, signed_proof(&thief, "HW-VICTIM", now))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_error(&v, "reenroll_needs_approval");
    let (s, _) = t
        .enroll_with("HW-VICTIM", None, serde_json::json!({}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // the real agent is not locked out
    let checkin = r#"{"agent_version":"0.1.0","inventory_hash":""}"#.to_string();
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some(&real_token),
            Some(checkin.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // an analyst sees the waiting request on the device
    let (_, d) = t
        .call(
            Method::GET,
            &format!("/api/v1/devices/{id}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(d["reenroll_request"]["device_id"], id.as_str());

    // the real device proves itself with its key (a stale signature does not count)
    let stale = now - 3_600_000;
    let (s, _) = t
        .enroll_with("HW-VICTIM", None, signed_proof(&real, "HW-VICTIM", stale))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an old signature is no proof");
    let (s, v) = t
        .enroll_with("HW-VICTIM", None, signed_proof(&real, "HW-VICTIM", now))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["device_id"], id.as_str());

    // a reinstalled laptop (new key, no token) gets in once an analyst approves it
    let reinstalled = SigningKey::from_bytes(&[11; 32]);
    let (s, _) = t
        .enroll_with(
            "HW-VICTIM",
            None,
            signed_proof(&reinstalled, "HW-VICTIM", now),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let analyst = t.token(Role::Analyst, "ana").await;
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/api/v1/devices/{id}/reenroll/approve"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // the approval admits only the key that asked
    let (s, _) = t
        .enroll_with("HW-VICTIM", None, signed_proof(&thief, "HW-VICTIM", now))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = t
        .enroll_with(
            "HW-VICTIM",
            None,
            signed_proof(&reinstalled, "HW-VICTIM", now),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["device_id"], id.as_str());
    let (_, audit) = t
        .call(
            Method::GET,
            "/api/v1/audit?action=device.reenroll",
            Some(&t.admin),
            None,
        )
        .await;
    let audit = audit["items"].clone();
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["outcome"] == "denied"));
}

#[tokio::test]
async fn enrollment_tokens_expire_run_out_and_can_be_revoked() {
    let t = setup().await;
    let make = |uses: u32, s: u64| {
        serde_json::json!({"expires_in_s": s, "uses": uses, "label": "mdm"}).to_string()
    };
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/enroll-tokens",
            Some(&t.admin),
            Some(make(2, 3600)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let tok = v["token"].as_str().unwrap().to_string();
    assert!(tok.starts_with("tet_"));
    let t = &t;
    let with = |hw: &'static str, secret: String| async move {
        let body = serde_json::json!({"enroll_secret": secret, "agent_version": "1",
            "identity": {"hardware_uuid": hw, "hostname": hw, "platform": "linux"}});
        t.call(Method::POST, "/api/v1/enroll", None, Some(body.to_string()))
            .await
            .0
    };
    assert_eq!(with("ET-1", tok.clone()).await, StatusCode::OK);
    assert_eq!(with("ET-2", tok.clone()).await, StatusCode::OK);
    assert_eq!(
        with("ET-3", tok.clone()).await,
        StatusCode::UNAUTHORIZED,
        "used up"
    );
    // expiry
    let (_, v) = t
        .call(
            Method::POST,
            "/api/v1/enroll-tokens",
            Some(&t.admin),
            Some(make(5, 60)),
        )
        .await;
    let short = v["token"].as_str().unwrap().to_string();
    t.clock.advance_ms(61_000);
    assert_eq!(
        with("ET-4", short).await,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
    // revocation
    let (_, v) = t
        .call(
            Method::POST,
            "/api/v1/enroll-tokens",
            Some(&t.admin),
            Some(make(5, 3600)),
        )
        .await;
    let (rev, rid) = (
        v["token"].as_str().unwrap().to_string(),
        v["info"]["id"].as_str().unwrap().to_string(),
    );
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/enroll-tokens/{rid}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(with("ET-5", rev).await, StatusCode::UNAUTHORIZED, "revoked");
    let (_, list) = t
        .call(Method::GET, "/api/v1/enroll-tokens", Some(&t.admin), None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    // analysts cannot mint them
    let analyst = t.token(Role::Analyst, "ana").await;
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/enroll-tokens",
            Some(&analyst),
            Some(make(1, 3600)),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn refused_enrollments_are_rate_limited_and_cannot_fill_the_disk() {
    let t = setup().await;
    let huge = "x".repeat(100_000);
    // garbage is a 400 before anything is written
    let body = serde_json::json!({"enroll_secret": "nope", "agent_version": "1",
        "identity": {"hardware_uuid": huge, "hostname": huge, "platform": "linux"}});
    let (s, _) = t
        .call(Method::POST, "/api/v1/enroll", None, Some(body.to_string()))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let mut limited = 0;
    for i in 0..60 {
        let body = serde_json::json!({"enroll_secret": "wrong", "agent_version": "1",
            "identity": {"hardware_uuid": format!("HW-{i}"), "hostname": "h", "platform": "linux"}});
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/enroll")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = t.app().oneshot(req).await.unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
            assert!(resp.headers().contains_key(header::RETRY_AFTER));
        } else {
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        }
    }
    assert!(limited >= 45, "only {limited} of 60 were limited");
    let (_, audit) = t
        .call(
            Method::GET,
            "/api/v1/audit?action=device.enroll&limit=1000",
            Some(&t.admin),
            None,
        )
        .await;
    let audit = audit["items"].clone();
    let denied = audit.as_array().unwrap().len();
    assert!(denied <= 15, "{denied} audit entries for one address");
}

#[tokio::test]
async fn approvals_need_an_independent_second_admin() {
    let t = setup().await;
    let alice = t.admin.clone();
    // the old bypass: alice mints an admin token "named bob" — it is still alice
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&alice),
            Some(r#"{"role":"admin","name":"bob"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let also_alice = v["token"].as_str().unwrap().to_string();
    // or creates a user bob herself
    let (_, v) = t
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&alice),
            Some(r#"{"name":"bob","role":"admin"}"#.into()),
        )
        .await;
    let bob = v["token"].as_str().unwrap().to_string();
    let submit =
        serde_json::json!({"name": "fix", "interpreter": "sh", "body": "echo hi"}).to_string();
    let (s, v) = t
        .call(Method::POST, "/api/v1/scripts", Some(&alice), Some(submit))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["id"].as_str().unwrap().to_string();
    let approve = format!("/api/v1/scripts/{sid}/approve");
    for (who, token) in [
        ("alice", &alice),
        ("alice's second token", &also_alice),
        ("bob", &bob),
    ] {
        let (s, v) = t.call(Method::POST, &approve, Some(token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {v}");
    }
    // a bob that bob makes is still alice's lineage
    let (_, v) = t
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&bob),
            Some(r#"{"name":"carl","role":"admin"}"#.into()),
        )
        .await;
    let carl = v["token"].as_str().unwrap().to_string();
    let (s, _) = t.call(Method::POST, &approve, Some(&carl), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // nor can alice mint a token for an independent admin
    let dora = t.token(Role::Admin, "dora").await;
    let (_, users) = t
        .call(Method::GET, "/api/v1/users", Some(&alice), None)
        .await;
    let dora_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "dora")
        .unwrap()["id"]
        .clone();
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&alice),
            Some(serde_json::json!({"user_id": dora_id}).to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // but dora (operator-made, created before the submission) approves
    let (s, v) = t.call(Method::POST, &approve, Some(&dora), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["approved_by"], "dora");
}

#[tokio::test]
async fn tokens_are_listed_revoked_and_expire() {
    let t = setup().await;
    let ana = t.token(Role::Analyst, "ana").await;
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&ana),
            Some(r#"{"label":"ci","expires_in_s":60,"role":"viewer"}"#.into()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let short = v["token"].as_str().unwrap().to_string();
    assert_eq!(v["info"]["role"], "viewer");
    let (s, _) = t
        .call(Method::GET, "/api/v1/tickets", Some(&short), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    t.clock.advance_ms(61_000);
    let (s, v) = t
        .call(Method::GET, "/api/v1/tickets", Some(&short), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"]["message"].as_str().unwrap().contains("expired"));
    // ana lists her own tokens only; the admin revokes one of them
    let (_, mine) = t
        .call(Method::GET, "/api/v1/tokens", Some(&ana), None)
        .await;
    assert!(mine
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["user_name"] == "ana"));
    let (_, all) = t
        .call(Method::GET, "/api/v1/tokens", Some(&t.admin), None)
        .await;
    let ana_first = all
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["user_name"] == "ana" && x["label"] != "ci")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{ana_first}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t
        .call(Method::GET, "/api/v1/tickets", Some(&ana), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "revoked at once");
    let (_, audit) = t
        .call(
            Method::GET,
            "/api/v1/audit?action=token.revoke",
            Some(&t.admin),
            None,
        )
        .await;
    let audit = audit["items"].clone();
    assert_eq!(audit.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn decommissioning_revokes_retires_and_closes() {
    let t = setup().await;
    let d = t.enroll("HW-STOLEN", Some("SN-STOLEN")).await;
    let (id, tok) = (
        d["device_id"].as_str().unwrap(),
        d["device_token"].as_str().unwrap(),
    );
    let analyst = t.token(Role::Analyst, "ana").await;
    let ticket =
        serde_json::json!({"request_id": "r1", "problem_key": "disk.free:/", "summary": "full"});
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(tok),
            Some(ticket.to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/api/v1/devices/{id}/decommission"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["decommissioned_at_ms"].as_u64().is_some());
    let checkin = r#"{"agent_version":"0.1.0","inventory_hash":""}"#.to_string();
    let (s, _) = t
        .call(Method::POST, "/api/v1/checkin", Some(tok), Some(checkin))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, detail) = t
        .call(
            Method::GET,
            &format!("/api/v1/devices/{id}"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(detail["asset"]["state"], "retired");
    assert!(detail["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "closed"));
    // the stolen laptop cannot come back with its old credentials
    let (s, _) = t
        .enroll_with(
            "HW-STOLEN",
            Some("SN-STOLEN"),
            serde_json::json!({"proof": {"previous_token": tok}}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn metric_labels_stay_bounded_whatever_the_method() {
    let t = setup().await;
    for i in 0..300 {
        let req = Request::builder()
            .method(Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap())
            .uri(format!("/nothing/{i}"))
            .body(Body::empty())
            .unwrap();
        let resp = t.app().oneshot(req).await.unwrap();
        assert!(resp.status().is_client_error());
    }
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = t.app().oneshot(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains("MADEUP"), "raw methods became labels");
    assert!(body.len() < 16_000, "/metrics grew to {} bytes", body.len());
}

#[tokio::test]
async fn refusals_are_audited_up_to_a_rate() {
    let t = setup().await;
    for _ in 0..40 {
        let (s, _) = t
            .call(
                Method::GET,
                "/api/v1/devices",
                Some("tak_stolen_or_made_up"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, _) = t.call(Method::GET, "/api/v1/devices", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // an analyst token on a device endpoint
    let ana = t.token(Role::Analyst, "ana").await;
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some(&ana),
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
    let entries = audit.as_array().unwrap();
    let refused = entries
        .iter()
        .filter(|e| e["action"] == "auth.refused")
        .count();
    assert!((10..=25).contains(&refused), "{refused} refusals audited");
    assert!(entries.iter().any(|e| e["action"] == "device.checkin"
        && e["actor"] == "user:ana"
        && e["outcome"] == "denied"));
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let body = t
        .app()
        .oneshot(req)
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let unaudited: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tend_refusals_unaudited_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(unaudited >= 15, "{unaudited}");
}
