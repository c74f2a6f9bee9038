//! `tend-collector migrate`: a sled collector with devices, tickets, jobs and an audit
//! log moves into a real PostgreSQL database; served from there, the API answers the
//! same, and the agent enrolled before carries on (same CA, same token).

use std::process::Command;
use std::time::Duration;

use tend_e2e::{bin, wait_for, AgentProc, CollectorProc};
use tend_shared::api::{AuditEntry, Page};
use tend_shared::devices::{DeviceDetail, DeviceSummary};
use tend_shared::jobs::JobView;
use tend_shared::tickets::{Ticket, TicketDetail};

/// What an analyst sees, without the parts that move with time (SLA clocks, the
/// device's last check-in).
async fn snapshot(api: &tend_client::Client, dev: &str, job: &str) -> serde_json::Value {
    let devices: Page<DeviceSummary> = api.get("/api/v1/devices").await.unwrap();
    let detail: DeviceDetail = api.get(&format!("/api/v1/devices/{dev}")).await.unwrap();
    let tickets: Page<Ticket> = api.get("/api/v1/tickets").await.unwrap();
    let t1: TicketDetail = api.get("/api/v1/tickets/T-1").await.unwrap();
    let audit: Page<AuditEntry> = api.get("/api/v1/audit?limit=1000").await.unwrap();
    let job: JobView = api.get(&format!("/api/v1/jobs/{job}")).await.unwrap();
    let mut v = serde_json::json!({
        "devices": devices.items.iter().map(|d| (&d.id, &d.hostname, &d.serial, &d.asset_id)).collect::<Vec<_>>(),
        "events": detail.events,
        "health": detail.health,
        "asset": detail.asset,
        "tickets": tickets.items.iter().map(|t| (&t.id, &t.status, &t.problem_key, t.occurrences, t.reopen_count)).collect::<Vec<_>>(),
        "timeline": t1.timeline,
        "audit": audit.items,
        "job": job,
    });
    v["ticket1"] = serde_json::to_value(&t1.ticket).unwrap();
    v["ticket1"]["sla"] = serde_json::Value::Null;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_store_moves_into_postgres_and_answers_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("c");
    let collector = CollectorProc::start(&data, 0);
    let admin = collector.admin_token.clone().unwrap();
    let api = collector.client(&admin);
    let (state, dev) = collector.enroll_agent(tmp.path(), "agent", "HW-MIGRATE-1");
    let agent = AgentProc::start(&state, Some("HW-MIGRATE-1"));
    wait_for(
        "the agent's first check-in",
        Duration::from_secs(60),
        || async {
            let d: DeviceDetail = api.get(&format!("/api/v1/devices/{dev}")).await.ok()?;
            (d.device.last_seen_ms > 0 && !d.health.is_empty()).then_some(())
        },
    )
    .await;
    // a ticket, an analyst's change, a job
    let _: Ticket = api
        .post(
            "/api/v1/tickets",
            &serde_json::json!({"request_id": "m1", "device_id": dev, "problem_key": "vpn.broken", "summary": "VPN drops every hour"}),
        )
        .await
        .unwrap();
    let _: Ticket = api
        .patch(
            "/api/v1/tickets/T-1",
            &serde_json::json!({"status": "in_progress", "assignee": "ann", "comment": "on it"}),
        )
        .await
        .unwrap();
    let job: JobView = api
        .post(
            &format!("/api/v1/devices/{dev}/diagnostics"),
            &serde_json::json!({"name": "interfaces"}),
        )
        .await
        .unwrap();
    wait_for("the job's result", Duration::from_secs(60), || async {
        let j: JobView = api.get(&format!("/api/v1/jobs/{}", job.id)).await.ok()?;
        j.state.is_final().then_some(())
    })
    .await;
    agent.stop();
    let before = snapshot(&api, &dev, &job.id).await;
    drop(api);
    collector.stop();

    // the copy
    let url = tend_pgtest::database();
    let out = Command::new(bin("tend-collector"))
        .args(["migrate", "--from-sled"])
        .arg(&data)
        .args(["--to", &url])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "migrate: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("1 devices") && said.contains("counts verified"),
        "{said}"
    );
    // a second copy into the same database is refused
    let again = Command::new(bin("tend-collector"))
        .args(["migrate", "--from-sled"])
        .arg(&data)
        .args(["--to", &url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds"));

    // served from PostgreSQL: the same answers, and the agent carries on
    let collector = CollectorProc::start_args(&data, 0, &["--database", &url]);
    assert!(collector.admin_token.is_none(), "the users came along");
    let api = collector.client(&admin);
    let after = snapshot(&api, &dev, &job.id).await;
    assert_eq!(before, after);
    let health: serde_json::Value = api.get("/healthz").await.unwrap();
    assert_eq!(health["store"], "postgres");
    assert_eq!(health["devices"], 1);
    let seen_before: DeviceDetail = api.get(&format!("/api/v1/devices/{dev}")).await.unwrap();
    let mut creds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("credentials.json")).unwrap()).unwrap();
    creds["server_url"] = collector.url.clone().into();
    std::fs::write(state.join("credentials.json"), creds.to_string()).unwrap();
    let agent = AgentProc::start(&state, Some("HW-MIGRATE-1"));
    wait_for(
        "a check-in to the PostgreSQL collector",
        Duration::from_secs(60),
        || async {
            let d: DeviceDetail = api.get(&format!("/api/v1/devices/{dev}")).await.ok()?;
            (d.device.last_seen_ms > seen_before.device.last_seen_ms).then_some(())
        },
    )
    .await;
    // new ticket numbers continue after the copied ones
    let t2: Ticket = api
        .post(
            "/api/v1/tickets",
            &serde_json::json!({"request_id": "m2", "device_id": dev, "problem_key": "printer.jam", "summary": "the printer jams"}),
        )
        .await
        .unwrap();
    let number = |id: &str| id.trim_start_matches("T-").parse::<u64>().unwrap();
    let copied = before["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| number(t[0].as_str().unwrap()))
        .max()
        .unwrap();
    assert!(number(&t2.id) > copied, "{} after T-{copied}", t2.id);
    // new audit entries sort after the copied ones
    let copied_seq = before["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .max()
        .unwrap();
    let audit: Page<AuditEntry> = api.get("/api/v1/audit?limit=1").await.unwrap();
    assert!(audit.items[0].seq > copied_seq);
    agent.stop();
    collector.stop();
}
