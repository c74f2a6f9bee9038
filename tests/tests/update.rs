//! Self-update end to end, with real binaries: version A (this build) and version B
//! (the same source built with `TEND_AGENT_VERSION=0.9.0-e2e`), a real collector
//! serving signed offers, and agents running from copies they may replace.
//!
//! 1. B's artifact tampered in the store → the agent refuses it and A keeps running.
//! 2. The genuine B → the agent swaps, restarts into B, and B confirms.
//! 3. A release that cannot check in (it hangs) → the guard restores B within the
//!    grace period, B reports the rollback, and the rollout halts by itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tend_e2e::{bin, file_sha256, install_copy, wait_for, CollectorProc, InstalledAgent};
use tend_shared::devices::DeviceDetail;
use tend_shared::policy::Policy;
use tend_shared::releases::{Release, ReleasePlatform, UpdateState};

const B: &str = "0.9.0-e2e";
const BROKEN: &str = "0.9.1-e2e";

/// Builds B from this source with another version string, in its own target dir.
fn build_b() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = root.join("target").join("e2e-version-b");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "-p",
            "tend-agent",
            "--bin",
            "tend-agent",
        ])
        .arg("--target-dir")
        .arg(&target)
        .env("TEND_AGENT_VERSION", B)
        .current_dir(root)
        .status()
        .expect("cargo build for version B");
    assert!(status.success(), "building version B failed");
    let exe = target.join("debug").join("tend-agent");
    let out = Command::new(&exe).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("tend-agent {B}")
    );
    exe
}

fn write_config(path: &Path, state: &Path, crash: &Path) {
    std::fs::create_dir_all(crash).unwrap();
    std::fs::write(
        path,
        format!(
            "state_dir = {:?}\n[update]\ngrace_period_s = 4\nrestart = \"exec\"\n[crash]\ndirs = [{:?}]\n",
            state, crash
        ),
    )
    .unwrap();
}

async fn device(api: &tend_client::Client, id: &str) -> DeviceDetail {
    api.get(&format!("/api/v1/devices/{id}")).await.unwrap()
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_updates_refuses_tampering_and_rolls_back() {
    if ReleasePlatform::current() != Some(ReleasePlatform::LinuxX86_64)
        && ReleasePlatform::current() != Some(ReleasePlatform::LinuxAarch64)
    {
        panic!("this test needs a Linux release platform");
    }
    let platform = ReleasePlatform::current().unwrap().to_string();
    let a_exe = bin("tend-agent");
    let b_exe = build_b();
    let a_version = tend_agent::VERSION;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("collector");
    let mut collector = CollectorProc::start_with_admins(&data, 0, &["admin", "admin-2"]);
    let port = collector.port;
    let admin = collector.admins[0].clone();
    let admin2 = collector.admins[1].clone();
    let api = collector.client(&admin);

    // quick check-ins, no slow probes
    let mut policy: Policy = api.get("/api/v1/policy").await.unwrap();
    for c in policy.checks.values_mut() {
        c.enabled = false;
    }
    policy.checks.get_mut("disk.free").unwrap().enabled = true;
    policy.checkin_interval_s = 5;
    policy.evaluation_interval_s = 1;
    let _: Policy = api.put("/api/v1/policy", &policy).await.unwrap();

    let b_path = b_exe.to_str().unwrap();
    collector.tendctl(
        &admin,
        &[
            "release",
            "add",
            "--version",
            B,
            "--platform",
            &platform,
            b_path,
        ],
    );
    // two-person rule: the uploader cannot approve, a second admin does
    collector.tendctl(&admin2, &["release", "approve", B]);
    let shown = collector.tendctl(
        &admin,
        &[
            "release",
            "promote",
            B,
            "--percent",
            "100",
            "--failure-threshold",
            "60",
            "--min-sample",
            "2",
        ],
    );
    assert!(shown.contains("rolling out at 100 %"), "{shown}");

    // 1. tampered artifact: one byte flipped in the store, the signed digest unchanged
    collector.stop();
    let genuine = std::fs::read(&b_exe).unwrap();
    {
        let store = tend_collector::store::Store::open(&data.join("db")).unwrap();
        let mut bytes = genuine.clone();
        bytes[4096] ^= 0xff;
        put_artifact(&store, &bytes).await;
    }
    collector = CollectorProc::start(&data, port);
    let (state1, dev1) = collector.enroll_agent(tmp.path(), "agent1", "HW-UPD-1");
    let exe1 = tmp.path().join("agent1-bin/tend-agent");
    install_copy(&a_exe, &exe1);
    let cfg1 = tmp.path().join("agent1.toml");
    write_config(&cfg1, &state1, &tmp.path().join("crash1"));
    let mut agent1 = InstalledAgent::start(
        &exe1,
        &state1,
        &cfg1,
        "HW-UPD-1",
        &tmp.path().join("agent1.log"),
    );
    let refused = wait_for(
        "the tampered artifact refused",
        Duration::from_secs(60),
        || async {
            device(&api, &dev1)
                .await
                .device
                .update
                .filter(|u| u.state == UpdateState::Refused)
        },
    )
    .await;
    assert!(refused.message.contains("hashes to"), "{}", refused.message);
    assert!(
        agent1.child.try_wait().unwrap().is_none(),
        "A must keep running"
    );
    assert_eq!(
        file_sha256(&exe1),
        file_sha256(&a_exe),
        "nothing was installed"
    );
    let d1 = device(&api, &dev1).await;
    assert_eq!(d1.device.agent_version, a_version);
    drop(agent1);

    // 2. the genuine artifact: A updates itself to B, which confirms
    collector.stop();
    {
        let store = tend_collector::store::Store::open(&data.join("db")).unwrap();
        put_artifact(&store, &genuine).await;
    }
    collector = CollectorProc::start(&data, port);
    let (state2, dev2) = collector.enroll_agent(tmp.path(), "agent2", "HW-UPD-2");
    let exe2 = tmp.path().join("agent2-bin/tend-agent");
    install_copy(&a_exe, &exe2);
    let cfg2 = tmp.path().join("agent2.toml");
    write_config(&cfg2, &state2, &tmp.path().join("crash2"));
    let mut agent2 = InstalledAgent::start(
        &exe2,
        &state2,
        &cfg2,
        "HW-UPD-2",
        &tmp.path().join("agent2.log"),
    );
    let started = std::time::Instant::now();
    wait_for("the agent to report B", Duration::from_secs(60), || async {
        let d = device(&api, &dev2).await;
        (d.device.agent_version == B
            && d.device
                .update
                .as_ref()
                .is_some_and(|u| u.state == UpdateState::Succeeded))
        .then_some(())
    })
    .await;
    println!(
        "offer -> B confirmed at the collector: {:?}",
        started.elapsed()
    );
    assert_eq!(file_sha256(&exe2), file_sha256(&b_exe), "B is installed");
    assert_eq!(
        file_sha256(&state2.join("update/previous")),
        file_sha256(&a_exe),
        "A is kept"
    );
    assert!(
        agent2.child.try_wait().unwrap().is_none(),
        "restarted in place"
    );
    let r: Release = api.get(&format!("/api/v1/releases/{B}")).await.unwrap();
    let stage = r.rollout.stages.last().unwrap();
    assert_eq!((stage.succeeded, stage.failed), (1, 1), "{stage:?}");

    // 3. a release that cannot check in: it hangs; the guard restores B
    let broken = tmp.path().join("broken-agent");
    std::fs::write(&broken, "#!/bin/sh\nexec sleep 600\n").unwrap();
    collector.tendctl(
        &admin,
        &[
            "release",
            "add",
            "--version",
            BROKEN,
            "--platform",
            &platform,
            broken.to_str().unwrap(),
        ],
    );
    collector.tendctl(&admin2, &["release", "approve", BROKEN]);
    collector.tendctl(
        &admin,
        &[
            "release",
            "promote",
            BROKEN,
            "--percent",
            "100",
            "--min-sample",
            "1",
            "--failure-threshold",
            "50",
        ],
    );
    let rolled = wait_for(
        "the broken release rolled back",
        Duration::from_secs(60),
        || async {
            let d = device(&api, &dev2).await;
            d.device
                .update
                .filter(|u| u.state == UpdateState::RolledBack && u.target_version == BROKEN)
                .map(|u| (u, d.device.agent_version))
        },
    )
    .await;
    assert_eq!(rolled.1, B, "B runs again");
    assert!(
        rolled.0.message.contains("did not check in"),
        "{}",
        rolled.0.message
    );
    assert_eq!(
        file_sha256(&exe2),
        file_sha256(&b_exe),
        "B is installed again"
    );
    let pid = agent2.pid().unwrap();
    assert!(alive(pid), "the restored agent runs (pid {pid})");
    let _ = agent2.child.try_wait();
    let r: Release = api
        .get(&format!("/api/v1/releases/{BROKEN}"))
        .await
        .unwrap();
    assert!(
        r.rollout.halted,
        "one failure of one halts at 50 %: {:?}",
        r.rollout
    );
    let listed = collector.tendctl(&admin, &["release", "list"]);
    assert!(
        listed.contains(BROKEN) && listed.contains("halted"),
        "{listed}"
    );
    let audit = collector.tendctl(&admin, &["audit"]);
    assert!(
        audit.contains("release.halted") && audit.contains("release.rollout"),
        "{audit}"
    );
    drop(agent2);
    collector.stop();
}

/// Overwrites release B's stored artifact behind the (stopped) collector's back.
async fn put_artifact(store: &tend_collector::store::Store, bytes: &[u8]) {
    tend_collector::atomic!(store, tx: tend_collector::store::StoreError => {
        tx.put_release_artifact(B, ReleasePlatform::current().unwrap(), bytes);
        Ok(())
    })
    .unwrap();
    store.flush().await.unwrap();
}
