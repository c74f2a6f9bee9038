//! Issue 12 end to end, real binaries: a colleague's laptop with the fleet secret and
//! a victim's hardware UUID cannot take the victim's identity (the victim keeps
//! working, the thief is told an analyst must approve), the bundle's secret leaves the
//! disk after enrolling, the real agent re-enrolls with its own proof, and an
//! enrollment token from `tendctl --bundle` admits exactly as many laptops as it says.

use std::time::Duration;

use tend_e2e::{agent, wait_for, AgentProc, CollectorProc};
use tend_shared::devices::DeviceDetail;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_device_cannot_be_taken_over_by_re_enrolling() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = CollectorProc::start(&tmp.path().join("collector"), 0);
    let admin = collector.admin_token.clone().unwrap();
    let api = collector.client(&admin);
    let mut policy: tend_shared::policy::Policy = api.get("/api/v1/policy").await.unwrap();
    policy.checkin_interval_s = 5;
    let _: tend_shared::policy::Policy = api.put("/api/v1/policy", &policy).await.unwrap();
    let (victim_state, victim) = collector.enroll_agent(tmp.path(), "victim", "HW-VICTIM-1");
    // its bundle no longer holds the fleet secret
    let used: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("victim.bundle.json")).unwrap())
            .unwrap();
    assert_eq!(used["enroll_secret"], "");
    let victim_proc = AgentProc::start(&victim_state, Some("HW-VICTIM-1"));
    let seen = |api: &tend_client::Client| {
        let (api, id) = (api.clone(), victim.clone());
        async move {
            let d: DeviceDetail = api.get(&format!("/api/v1/devices/{id}")).await.ok()?;
            Some(d.device.last_seen_ms).filter(|s| *s > 0)
        }
    };
    let first = wait_for("the victim's check-in", Duration::from_secs(20), || {
        seen(&api)
    })
    .await;

    // the thief: another laptop, the fleet bundle, the victim's hardware UUID
    let bundle = tmp.path().join("thief.bundle.json");
    collector.bundle(&bundle);
    let out = agent(
        &[
            "enroll",
            "--bundle",
            bundle.to_str().unwrap(),
            "--state",
            tmp.path().join("thief").to_str().unwrap(),
        ],
        Some("HW-VICTIM-1"),
    );
    assert!(!out.status.success(), "the takeover must fail");
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains("--approve-reenroll") && why.contains(&victim),
        "{why}"
    );
    assert!(!tmp.path().join("thief/credentials.json").exists());

    // the victim is not locked out: it keeps checking in with its own token
    let api2 = api.clone();
    wait_for("a later victim check-in", Duration::from_secs(30), || {
        let api = api2.clone();
        let id = victim.clone();
        async move {
            let d: DeviceDetail = api.get(&format!("/api/v1/devices/{id}")).await.ok()?;
            (d.device.last_seen_ms > first).then_some(())
        }
    })
    .await;
    let d: DeviceDetail = api.get(&format!("/api/v1/devices/{victim}")).await.unwrap();
    assert!(
        d.reenroll_request.is_some(),
        "the attempt waits for an analyst"
    );
    victim_proc.stop();

    // the real agent enrolls again with its own state dir: its token and key prove it
    let again = tmp.path().join("again.bundle.json");
    collector.bundle(&again);
    let out = agent(
        &[
            "enroll",
            "--bundle",
            again.to_str().unwrap(),
            "--state",
            victim_state.to_str().unwrap(),
        ],
        Some("HW-VICTIM-1"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&victim));

    // an enrollment token for one laptop, written into a bundle by tendctl
    let token_bundle = tmp.path().join("mdm.bundle.json");
    collector.tendctl(
        &admin,
        &[
            "enroll-token",
            "create",
            "--expires",
            "1d",
            "--uses",
            "1",
            "--bundle",
            token_bundle.to_str().unwrap(),
        ],
    );
    let copy = tmp.path().join("mdm-copy.bundle.json");
    std::fs::copy(&token_bundle, &copy).unwrap();
    let new_laptop = |bundle: &std::path::Path, name: &str, hw: &str| {
        agent(
            &[
                "enroll",
                "--bundle",
                bundle.to_str().unwrap(),
                "--state",
                tmp.path().join(name).to_str().unwrap(),
            ],
            Some(hw),
        )
    };
    let ok = new_laptop(&token_bundle, "mdm-1", "HW-MDM-1");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let used_up = new_laptop(&copy, "mdm-2", "HW-MDM-2");
    assert!(!used_up.status.success());
    assert!(String::from_utf8_lossy(&used_up.stderr).contains("used up"));
    let listed = collector.tendctl(&admin, &["enroll-token", "list"]);
    assert!(listed.contains("1/1"), "{listed}");
}
