//! Actions for offline laptops (issue 16): a diagnostic queued from a ticket while the
//! laptop's agent is down waits for it (a time to live chosen per job, up to 14 days),
//! runs when the agent comes back, and its result lands on the ticket's timeline;
//! then the laptop is offboarded (collect, wipe, retire) and its device decommissioned.

use std::process::Command;
use std::time::Duration;

use tend_e2e::{bin, wait_for, AgentProc, CollectorProc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diagnostic_queued_for_an_offline_laptop_runs_when_it_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CollectorProc::start_with_admins(&tmp.path().join("data"), 0, &["alice"]);
    let alice = c.admins[0].clone();
    let (state, device) = c.enroll_agent(tmp.path(), "laptop", "hw-offline-1");
    let agent = AgentProc::start(&state, Some("hw-offline-1"));
    let api = c.client(&alice);
    wait_for("the first check-in", Duration::from_secs(60), || async {
        let d: serde_json::Value = api.get(&format!("/api/v1/devices/{device}")).await.ok()?;
        (d["device"]["last_seen_ms"].as_u64()? > 0).then_some(())
    })
    .await;
    agent.stop();

    let t: serde_json::Value = api
        .post(
            "/api/v1/tickets",
            &serde_json::json!({"request_id": "offline-1", "device_id": device,
                "problem_key": "user.report", "summary": "laptop is slow", "severity": "low"}),
        )
        .await
        .unwrap();
    let ticket = t["id"].as_str().unwrap().to_string();
    let out = c.tendctl(
        &alice,
        &[
            "--json",
            "diagnose",
            &device,
            "disk-usage",
            "/tmp",
            "--ttl",
            "7d",
            "--ticket",
            &ticket,
        ],
    );
    let job: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(job["state"], "queued");
    assert_eq!(job["ticket_id"], ticket.as_str());
    let ttl = job["expires_at_ms"].as_u64().unwrap() - job["created_at_ms"].as_u64().unwrap();
    assert_eq!(ttl, 7 * 86_400_000);
    let id = job["id"].as_str().unwrap().to_string();

    // more than 14 days, or another device's ticket, is refused
    for extra in [vec!["--ttl", "30d"], vec!["--ticket", "T-999"]] {
        let mut args = vec!["diagnose", device.as_str(), "interfaces"];
        args.extend(extra);
        let out = Command::new(bin("tendctl"))
            .args(&args)
            .env("TEND_SERVER", &c.url)
            .env("TEND_TOKEN", &alice)
            .env("TEND_CA", c.data.join("ca.pem"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }

    // the laptop comes back: the job runs and the ticket shows its result
    let _agent = AgentProc::start(&state, Some("hw-offline-1"));
    wait_for("the queued job to run", Duration::from_secs(90), || async {
        let j: serde_json::Value = api.get(&format!("/api/v1/jobs/{id}")).await.ok()?;
        (j["state"] == "succeeded").then_some(())
    })
    .await;
    let t: serde_json::Value = api.get(&format!("/api/v1/tickets/{ticket}")).await.unwrap();
    let entry = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "job.result")
        .unwrap_or_else(|| panic!("no job result on {ticket}: {t}"));
    assert!(
        entry["message"]
            .as_str()
            .unwrap()
            .contains("disk-usage /tmp: succeeded"),
        "{entry}"
    );
    assert_eq!(entry["data"]["output"]["path"], "/tmp");

    // the employee leaves: the laptop is collected, wiped and retired, which
    // decommissions the device
    let d: serde_json::Value = api.get(&format!("/api/v1/devices/{device}")).await.unwrap();
    let asset = d["device"]["asset_id"].as_str().unwrap().to_string();
    for (step, state) in [
        ("collect", "collecting"),
        ("wipe", "wiping"),
        ("retire", "retired"),
    ] {
        let out = c.tendctl(&alice, &["offboard", &asset, step, "--note", "leaver"]);
        assert!(out.contains(&format!("is now {state}")), "{out}");
    }
    let d: serde_json::Value = api.get(&format!("/api/v1/devices/{device}")).await.unwrap();
    assert!(
        d["device"]["decommissioned_at_ms"].as_u64().is_some(),
        "{d}"
    );
}
