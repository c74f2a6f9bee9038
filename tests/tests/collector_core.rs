//! Issue 2 end to end: the real `tend-collector serve` binary on 127.0.0.1 with a temp
//! data dir; bundle; two devices enrolled by the real agent over HTTPS verified against
//! the bundle's CA; check-ins; reads through the analyst API and `tendctl`; then a
//! restart (clean) and a crash (SIGKILL), with everything still there.

use std::time::Duration;

use tend_e2e::{agent, wait_for, AgentProc, CollectorProc};
use tend_shared::api::AuditEntry;
use tend_shared::devices::{DeviceDetail, DeviceSummary};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_checkin_read_back_and_survive_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("collector");
    let collector = CollectorProc::start(&data, 0);
    let admin = collector
        .admin_token
        .clone()
        .expect("first start prints the admin token");
    let bundle = tmp.path().join("bundle.json");
    collector.bundle(&bundle);

    // the key files are private
    #[cfg(unix)]
    for f in ["ca.key", "server.key", "signing.key", "enroll.secret"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }

    // two devices enrolled with the real agent binary
    let ids: Vec<String> = ["E2E-HW-0001", "E2E-HW-0002"]
        .iter()
        .enumerate()
        .map(|(i, hw)| {
            collector
                .enroll_agent(tmp.path(), &format!("agent{i}"), hw)
                .1
        })
        .collect();
    assert_ne!(ids[0], ids[1]);

    // a bundle whose CA is not this collector's is refused by TLS verification
    let mut forged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    forged["ca_pem"] = serde_json::Value::String({
        let other = CollectorProc::start(&tmp.path().join("other"), 0);
        let pem = other.ca_pem();
        other.stop();
        pem
    });
    let forged_path = tmp.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let out = agent(
        &[
            "enroll",
            "--bundle",
            forged_path.to_str().unwrap(),
            "--state",
            tmp.path().join("x").to_str().unwrap(),
        ],
        Some("E2E-HW-X"),
    );
    assert!(
        !out.status.success(),
        "enrollment must fail against an untrusted CA"
    );

    // both agents check in
    let agents: Vec<AgentProc> = ["E2E-HW-0001", "E2E-HW-0002"]
        .iter()
        .enumerate()
        .map(|(i, hw)| AgentProc::start(&tmp.path().join(format!("agent{i}")), Some(hw)))
        .collect();
    let api = collector.client(&admin);
    let devices: Vec<DeviceSummary> = wait_for(
        "both devices to check in",
        Duration::from_secs(20),
        || async {
            let d: Vec<DeviceSummary> = api
                .get::<tend_shared::api::Page<DeviceSummary>>("/api/v1/devices")
                .await
                .ok()?
                .items;
            (d.len() == 2 && d.iter().all(|d| d.last_seen_ms > 0)).then_some(d)
        },
    )
    .await;
    for a in agents {
        a.stop();
    }
    let hw: Vec<&str> = devices.iter().map(|d| d.hardware_uuid.as_str()).collect();
    assert!(
        hw.contains(&"E2E-HW-0001") && hw.contains(&"E2E-HW-0002"),
        "{hw:?}"
    );
    let detail: DeviceDetail = api
        .get(&format!("/api/v1/devices/{}", ids[0]))
        .await
        .unwrap();
    let inv = detail.inventory.expect("inventory stored");
    assert!(inv.memory.total_bytes > 0);
    assert!(
        !inv.software.is_empty(),
        "this Debian machine has dpkg packages"
    );
    assert!(inv.disks.iter().any(|d| d.mount == "/"));
    assert_eq!(
        detail.asset.as_ref().map(|a| a.state),
        Some(tend_shared::assets::AssetState::Deployed)
    );

    // tendctl reads the same
    let table = collector.tendctl(&admin, &["devices"]);
    assert!(
        table.contains(&ids[0]) && table.contains(&ids[1]),
        "{table}"
    );
    let json: Vec<DeviceSummary> =
        serde_json::from_str(&collector.tendctl(&admin, &["--json", "devices"])).unwrap();
    assert_eq!(json.len(), 2);
    let one = collector.tendctl(&admin, &["device", &ids[1]]);
    assert!(
        one.contains("E2E-HW-0002") && one.contains("deployed"),
        "{one}"
    );
    let audit = collector.tendctl(&admin, &["audit"]);
    assert!(audit.contains("device.enroll"), "{audit}");

    // clean restart on the same port: everything is still there, the agent's token works
    let port = collector.port;
    drop(api); // close keep-alive connections so the graceful stop need not wait for them
    collector.stop();
    let collector = CollectorProc::start(&data, port);
    assert!(
        collector.admin_token.is_none(),
        "the admin token is created once"
    );
    let api = collector.client(&admin);
    let after: Vec<DeviceSummary> = api
        .get::<tend_shared::api::Page<DeviceSummary>>("/api/v1/devices")
        .await
        .unwrap()
        .items;
    assert_eq!(after.len(), 2);
    let out = agent(
        &[
            "enroll",
            "--bundle",
            bundle.to_str().unwrap(),
            "--state",
            tmp.path().join("agent0").to_str().unwrap(),
        ],
        Some("E2E-HW-0001"),
    );
    assert!(out.status.success());
    let after: Vec<DeviceSummary> = api
        .get::<tend_shared::api::Page<DeviceSummary>>("/api/v1/devices")
        .await
        .unwrap()
        .items;
    assert_eq!(
        after.len(),
        2,
        "re-enrolling the same hardware UUID adds no device"
    );

    // crash (SIGKILL) right after acknowledged writes: nothing acknowledged is lost
    let created: tend_shared::assets::Asset = api
        .post(
            "/api/v1/assets",
            &serde_json::json!({"serial": "CRASH-SAFE-1", "owner": "kim"}),
        )
        .await
        .unwrap();
    collector.kill();
    let collector = CollectorProc::start(&data, port);
    let api = collector.client(&admin);
    let asset: tend_shared::assets::Asset = api
        .get(&format!("/api/v1/assets/{}", created.id))
        .await
        .unwrap();
    assert_eq!(asset.owner.as_deref(), Some("kim"));
    let audit: Vec<AuditEntry> = api
        .get::<tend_shared::api::Page<AuditEntry>>("/api/v1/audit?action=asset.create")
        .await
        .unwrap()
        .items;
    assert_eq!(audit.len(), 1);
    drop(api);
    collector.stop();
}
