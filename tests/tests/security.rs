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

fn agent_config(state: &std::path::Path, crash: &std::path::Path) -> String {
    format!(
        "state_dir = {state:?}\n[update]\nenabled = false\n[crash]\ndirs = [{crash:?}]\ndebounce_ms = 100\n"
    )
}

/// Agent events of `dev` stored at the collector, by kind.
async fn kinds(api: &tend_client::Client, dev: &str) -> Vec<String> {
    let d: DeviceDetail = api.get(&format!("/api/v1/devices/{dev}")).await.unwrap();
    d.events.into_iter().map(|e| e.kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_state_dir_and_a_hostile_crash_file_lose_nothing() {
    use tend_e2e::{bin, install_copy, InstalledAgent};
    let tmp = tempfile::tempdir().unwrap();
    let collector = CollectorProc::start(&tmp.path().join("collector"), 0);
    let admin = collector.admin_token.clone().unwrap();
    let api = collector.client(&admin);
    let mut policy: tend_shared::policy::Policy = api.get("/api/v1/policy").await.unwrap();
    for c in policy.checks.values_mut() {
        c.enabled = false;
    }
    let _: tend_shared::policy::Policy = api.put("/api/v1/policy", &policy).await.unwrap();
    let (state, dev) = collector.enroll_agent(tmp.path(), "agent", "HW-RESTORE-1");
    let crash = tmp.path().join("crash");
    std::fs::create_dir_all(&crash).unwrap();
    let cfg = tmp.path().join("agent.toml");
    std::fs::write(&cfg, agent_config(&state, &crash)).unwrap();
    let exe = tmp.path().join("bin/tend-agent");
    install_copy(&bin("tend-agent"), &exe);

    // a snapshot of the state dir (a backup), then life goes on: events 2.. reach it
    let backup = tmp.path().join("backup");
    copy_dir(&state, &backup);
    let starts = |api: tend_client::Client, dev: String, n: usize| async move {
        wait_for("agent.started events", Duration::from_secs(30), || {
            let (api, dev) = (api.clone(), dev.clone());
            async move {
                let k = kinds(&api, &dev).await;
                (k.iter().filter(|k| *k == "agent.started").count() >= n).then_some(())
            }
        })
        .await
    };
    for _ in 0..2 {
        let a = InstalledAgent::start(
            &exe,
            &state,
            &cfg,
            "HW-RESTORE-1",
            &tmp.path().join("a.log"),
        );
        let before = kinds(&api, &dev).await.len();
        wait_for("a new event", Duration::from_secs(30), || async {
            (kinds(&api, &dev).await.len() > before).then_some(())
        })
        .await;
        drop(a);
    }
    starts(api.clone(), dev.clone(), 2).await;

    // the laptop is restored from the backup: its numbering starts over below the
    // collector's — and a local user drops a hostile crash report
    std::fs::remove_dir_all(&state).unwrap();
    copy_dir(&backup, &state);
    let evil = crash.join(format!("_tmp_{}\u{1b}[2J.1000.crash", "x".repeat(200)));
    std::fs::write(
        &evil,
        "ProblemType: Crash\nExecutablePath: /tmp/\u{7}evil\nSignal: 11\n",
    )
    .unwrap();
    let _a = InstalledAgent::start(
        &exe,
        &state,
        &cfg,
        "HW-RESTORE-1",
        &tmp.path().join("b.log"),
    );
    // the restored agent's events arrive (a third start), the regression is recorded,
    // and the crash with its odd name is an event — check-ins never stopped
    starts(api.clone(), dev.clone(), 3).await;
    wait_for(
        "the crash and the regression note",
        Duration::from_secs(30),
        || async {
            let k = kinds(&api, &dev).await;
            (k.iter().any(|k| k == "crash") && k.iter().any(|k| k == "agent.events_regressed"))
                .then_some(())
        },
    )
    .await;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}
