//! Offboarding a laptop: collect → wipe → retire, each step audited and only in that
//! order; retiring decommissions the device (token refused, open tickets closed).

use axum::http::{Method, StatusCode};

use super::*;

#[tokio::test]
async fn offboarding_goes_collect_wipe_retire_and_retiring_decommissions() {
    let t = setup().await;
    let ana = t.token(Role::Analyst, "ana").await;
    let d = t.enroll("hw-leaver", Some("SN-LEAVER")).await;
    let (dev, token) = (
        d["device_id"].as_str().unwrap().to_string(),
        d["device_token"].as_str().unwrap().to_string(),
    );
    let (_, dv) = t
        .call(
            Method::GET,
            &format!("/api/v1/devices/{dev}"),
            Some(&ana),
            None,
        )
        .await;
    let asset = dv["asset"]["id"].as_str().unwrap().to_string();
    assert_eq!(dv["asset"]["state"], "deployed");
    let (s, ticket) = t
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&ana),
            Some(
                serde_json::json!({"request_id": "r",
            "device_id": dev, "problem_key": "x", "summary": "x"})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let step = |s: &str| serde_json::json!({"step": s, "note": "leaver: dana"}).to_string();
    let path = format!("/api/v1/assets/{asset}/offboard");
    for early in ["wipe", "retire"] {
        let (s, v) = t
            .call(Method::POST, &path, Some(&ana), Some(step(early)))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{early}: {v}");
    }
    let (s, v) = t
        .call(Method::POST, &path, Some(&ana), Some(step("shred")))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    for (st, state) in [("collect", "collecting"), ("wipe", "wiping")] {
        let (s, v) = t
            .call(Method::POST, &path, Some(&ana), Some(step(st)))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["state"], state);
        // still a working device until it is retired
        t.checkin_ok(&token, serde_json::json!({"agent_version": "1", "inventory_hash": "", "health": [], "observed_at_ms": 1})).await;
    }
    let (s, v) = t
        .call(Method::POST, &path, Some(&ana), Some(step("retire")))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "retired");
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/checkin",
            Some(&token),
            Some(
                serde_json::json!({"agent_version": "1", "health": [], "observed_at_ms": 2})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the retired laptop's token is revoked"
    );
    let (_, tk) = t
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(tk["status"], "closed");
    let (_, audit) = t
        .call(
            Method::GET,
            "/api/v1/audit?action=asset.offboard",
            Some(&t.admin),
            None,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "asset.offboard.retire",
            "asset.offboard.wipe",
            "asset.offboard.collect"
        ]
    );
}
