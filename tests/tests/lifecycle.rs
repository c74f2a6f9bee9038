//! Config reload and crash reports with a real agent and collector: a changed check
//! threshold in the watched config applies live, a broken config is rejected and the
//! old one kept, a crash report dropped into a watched folder is an event at the
//! collector within 2 s, and three crashes of one app make a ticket.

use std::time::{Duration, Instant};

use tend_e2e::{bin, install_copy, wait_for, CollectorProc, InstalledAgent};
use tend_shared::devices::DeviceDetail;
use tend_shared::health::CheckStatus;
use tend_shared::policy::Policy;

fn config(state: &std::path::Path, crash: &std::path::Path, disk_fail: Option<f64>) -> String {
    let mut s = format!(
        "state_dir = {state:?}\n[update]\nenabled = false\n[crash]\ndirs = [{crash:?}]\ndebounce_ms = 200\n"
    );
    if let Some(f) = disk_fail {
        s.push_str(&format!(
            "[checks.\"disk.free\"]\nfail = {f:.1}\nwarn = {f:.1}\n"
        ));
    }
    s
}

fn disk_status(d: &DeviceDetail) -> Option<CheckStatus> {
    d.health
        .iter()
        .find(|c| c.id.starts_with("disk.free"))
        .map(|c| c.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_reloads_live_and_crashes_become_events_and_tickets() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = CollectorProc::start(&tmp.path().join("collector"), 0);
    let admin = collector.admin_token.clone().unwrap();
    let api = collector.client(&admin);
    let mut policy: Policy = api.get("/api/v1/policy").await.unwrap();
    for c in policy.checks.values_mut() {
        c.enabled = false;
    }
    let disk = policy.checks.get_mut("disk.free").unwrap();
    disk.enabled = true;
    disk.fail = Some(0.0);
    disk.warn = Some(0.0);
    policy.evaluation_interval_s = 1;
    let _: Policy = api.put("/api/v1/policy", &policy).await.unwrap();

    let (state, dev) = collector.enroll_agent(tmp.path(), "agent", "HW-LIFE-1");
    let crash_dir = tmp.path().join("crash");
    std::fs::create_dir_all(&crash_dir).unwrap();
    let cfg = tmp.path().join("etc/agent.toml");
    std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    std::fs::write(&cfg, config(&state, &crash_dir, None)).unwrap();
    let exe = tmp.path().join("bin/tend-agent");
    install_copy(&bin("tend-agent"), &exe);
    let log = tmp.path().join("agent.log");
    let mut agent = InstalledAgent::start(&exe, &state, &cfg, "HW-LIFE-1", &log);
    let path = format!("/api/v1/devices/{dev}");
    wait_for("disk.free passing", Duration::from_secs(20), || async {
        let d: DeviceDetail = api.get(&path).await.unwrap();
        (disk_status(&d) == Some(CheckStatus::Pass)).then_some(())
    })
    .await;

    // a local threshold of 100 % free makes the check fail, without a restart
    let t = Instant::now();
    std::fs::write(&cfg, config(&state, &crash_dir, Some(100.0))).unwrap();
    wait_for(
        "the changed threshold applied",
        Duration::from_secs(10),
        || async {
            let d: DeviceDetail = api.get(&path).await.unwrap();
            (disk_status(&d) == Some(CheckStatus::Fail)).then_some(())
        },
    )
    .await;
    println!(
        "config edit -> failing check at the collector: {:?}",
        t.elapsed()
    );

    // a broken file is rejected with a clear log line; the agent keeps the old config
    std::fs::write(&cfg, "[checks.\"disk.free\"\nfail = ").unwrap();
    wait_for("the rejection logged", Duration::from_secs(10), || async {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.contains("config change rejected").then_some(())
    })
    .await;
    assert!(agent.child.try_wait().unwrap().is_none(), "still running");
    let out = std::process::Command::new(&exe)
        .args(["validate", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("agent.toml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: DeviceDetail = api.get(&path).await.unwrap();
    assert_eq!(disk_status(&d), Some(CheckStatus::Fail), "old config kept");

    // a crash report dropped into the watched folder: an event within 2 s
    let t = Instant::now();
    std::fs::write(
        crash_dir.join("_usr_bin_gedit.1000.crash"),
        "ProblemType: Crash\nExecutablePath: /usr/bin/gedit\nSignal: 11\n",
    )
    .unwrap();
    let ev = wait_for("the crash event", Duration::from_secs(2), || async {
        let d: DeviceDetail = api.get(&path).await.unwrap();
        d.events.into_iter().find(|e| e.kind == "crash")
    })
    .await;
    println!(
        "crash report written -> event at the collector: {:?}",
        t.elapsed()
    );
    assert_eq!(ev.data["process"], "gedit");
    assert_eq!(ev.data["signal"], "SIGSEGV");

    // two more crashes of gedit within 24 h: one ticket
    for n in 2..=3 {
        std::fs::write(
            crash_dir.join(format!("_usr_bin_gedit.100{n}.crash")),
            "ProblemType: Crash\nExecutablePath: /usr/bin/gedit\nSignal: 6\n",
        )
        .unwrap();
    }
    let tickets = wait_for("the crash ticket", Duration::from_secs(10), || async {
        let d: DeviceDetail = api.get(&path).await.unwrap();
        let t: Vec<_> = d
            .tickets
            .into_iter()
            .filter(|t| t.problem_key == "crash:gedit")
            .collect();
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert_eq!(tickets.len(), 1);
    assert!(
        tickets[0].summary.contains("3 times"),
        "{}",
        tickets[0].summary
    );
    drop(agent);
    collector.stop();
}
