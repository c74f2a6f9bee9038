//! Issue 3 end to end: a real `tend-agent run` process enrolled from a bundle against a
//! real collector; a policy change reaches it through the long-poll and the new check
//! state is visible at the collector within 2 s; and the offline spool survives a
//! collector outage plus an agent SIGKILL, delivering every event exactly once, in order.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use tend_e2e::{agent, wait_for, AgentProc, CollectorProc};
use tend_shared::devices::{DeviceDetail, EventSource};
use tend_shared::health::CheckStatus;
use tend_shared::policy::Policy;

fn status_of(d: &DeviceDetail, id: &str) -> Option<CheckStatus> {
    d.health.iter().find(|c| c.id == id).map(|c| c.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_change_reaches_the_collector_within_two_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = CollectorProc::start(&tmp.path().join("collector"), 0);
    let admin = collector.admin_token.clone().unwrap();
    let api = collector.client(&admin);
    // the apt simulation takes seconds on a cold cache; it is not what this test is about
    let mut policy: Policy = api.get("/api/v1/policy").await.unwrap();
    policy.checks.get_mut("os.updates").unwrap().enabled = false;
    // passing whatever this machine's disk holds: the failure below is the policy's doing
    let disk = policy.checks.get_mut("disk.free").unwrap();
    disk.warn = Some(0.0);
    disk.fail = Some(0.0);
    let _: Policy = api.put("/api/v1/policy", &policy).await.unwrap();

    let (_, id) = collector.enroll_agent(tmp.path(), "agent", "E2E-POLICY-1");
    let agent_proc = AgentProc::start(&tmp.path().join("agent"), Some("E2E-POLICY-1"));
    let path = format!("/api/v1/devices/{id}");
    let detail: DeviceDetail = wait_for("the first report", Duration::from_secs(30), || async {
        let d: DeviceDetail = api.get(&path).await.ok()?;
        (status_of(&d, "disk.free:/") == Some(CheckStatus::Pass) && d.inventory.is_some())
            .then_some(d)
    })
    .await;
    assert!(detail.inventory.as_ref().unwrap().memory.total_bytes > 0);
    assert!(detail.health.iter().any(|c| c.id == "memory.available"));

    // a free-space threshold above what this machine really has
    let mut policy: Policy = api.get("/api/v1/policy").await.unwrap();
    policy.checks.get_mut("disk.free").unwrap().fail = Some(100.0);
    let start = Instant::now();
    let stored: Policy = api.put("/api/v1/policy", &policy).await.unwrap();
    let d: DeviceDetail = wait_for(
        "disk.free:/ to fail at the collector",
        Duration::from_secs(2),
        || async {
            let d: DeviceDetail = api.get(&path).await.ok()?;
            (status_of(&d, "disk.free:/") == Some(CheckStatus::Fail)).then_some(d)
        },
    )
    .await;
    eprintln!(
        "policy change -> failing check visible at the collector: {:?}",
        start.elapsed()
    );
    let check = d.health.iter().find(|c| c.id == "disk.free:/").unwrap();
    assert!(check.message.starts_with("Disk / is "), "{}", check.message);
    assert!(d.events.iter().any(|e| e.kind == "check.failed"
        && e.check_id.as_deref() == Some("disk.free:/")
        && e.source == EventSource::Agent));
    assert_eq!(d.device.health, tend_shared::health::HealthStatus::Failing);
    let st: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("agent/policy.json")).unwrap())
            .unwrap();
    assert_eq!(st["version"], stored.version);

    // status shows the enrollment and an empty spool
    let out = agent(
        &[
            "status",
            "--state",
            tmp.path().join("agent").to_str().unwrap(),
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&id) && text.contains("0 event(s)"), "{text}");
    agent_proc.stop();
    drop(api);
    collector.stop();
}

/// A copy of `sleep` under a unique name: a real process the `process.required` check
/// can look for.
struct Marker {
    exe: std::path::PathBuf,
    child: Option<Child>,
}

impl Marker {
    fn new(dir: &Path) -> Marker {
        let exe = dir.join(format!("tmk{}", std::process::id()));
        std::fs::copy("/bin/sleep", &exe).unwrap();
        Marker { exe, child: None }
    }
    fn name(&self) -> String {
        self.exe.file_name().unwrap().to_string_lossy().into_owned()
    }
    fn start(&mut self) {
        self.child = Some(Command::new(&self.exe).arg("600").spawn().unwrap());
    }
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spooled_events(state: &Path) -> usize {
    std::fs::read_dir(state.join("spool/events"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spool_survives_outage_and_sigkill_exactly_once_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("collector");
    let collector = CollectorProc::start(&data, 0);
    let port = collector.port;
    let admin = collector.admin_token.clone().unwrap();
    let api = collector.client(&admin);
    let mut marker = Marker::new(tmp.path());

    // only process.required, evaluated every second, so the events are exactly ours
    let mut policy: Policy = api.get("/api/v1/policy").await.unwrap();
    for c in policy.checks.values_mut() {
        c.enabled = false;
    }
    policy.checks.get_mut("process.required").unwrap().enabled = true;
    policy.required_processes = vec![marker.name()];
    policy.evaluation_interval_s = 1;
    let _: Policy = api.put("/api/v1/policy", &policy).await.unwrap();

    let (_, id) = collector.enroll_agent(tmp.path(), "agent", "E2E-SPOOL-1");
    let state = tmp.path().join("agent");
    let mut agent_proc = AgentProc::start(&state, Some("E2E-SPOOL-1"));
    let path = format!("/api/v1/devices/{id}");
    wait_for(
        "the marker to be reported missing",
        Duration::from_secs(30),
        || async {
            let d: DeviceDetail = api.get(&path).await.ok()?;
            (status_of(&d, "process.required") == Some(CheckStatus::Fail)).then_some(())
        },
    )
    .await;
    drop(api);
    collector.stop();

    // offline: the agent keeps evaluating and spooling
    marker.start();
    wait_for(
        "check.recovered to be spooled",
        Duration::from_secs(20),
        || async { (spooled_events(&state) >= 1).then_some(()) },
    )
    .await;
    marker.stop();
    wait_for(
        "check.failed to be spooled",
        Duration::from_secs(20),
        || async { (spooled_events(&state) >= 2).then_some(()) },
    )
    .await;
    // a crash of the agent itself, then a restart while still offline
    let _ = agent_proc.0.kill();
    let _ = agent_proc.0.wait();
    agent_proc = AgentProc::start(&state, Some("E2E-SPOOL-1"));
    wait_for(
        "agent.started to be spooled",
        Duration::from_secs(20),
        || async { (spooled_events(&state) >= 3).then_some(()) },
    )
    .await;
    marker.start();
    wait_for(
        "a second check.recovered",
        Duration::from_secs(20),
        || async { (spooled_events(&state) >= 4).then_some(()) },
    )
    .await;
    let snapshots = std::fs::read_dir(state.join("spool/reports"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(
        snapshots >= 1,
        "health snapshots taken offline are spooled too"
    );

    // the collector comes back on the same address
    let collector = CollectorProc::start(&data, port);
    let api = collector.client(&admin);
    let events = wait_for(
        "the spool to drain into the collector",
        Duration::from_secs(60),
        || async {
            let d: DeviceDetail = api.get(&path).await.ok()?;
            let mut agent_events: Vec<_> = d
                .events
                .into_iter()
                .filter(|e| e.source == EventSource::Agent)
                .collect();
            agent_events.sort_by_key(|e| e.seq);
            (agent_events.len() >= 6 && spooled_events(&state) == 0).then_some(agent_events)
        },
    )
    .await;
    let seqs: Vec<u64> = events.iter().map(|e| e.seq.unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6], "every event exactly once");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "agent.started",
            "check.failed",
            "check.recovered",
            "check.failed",
            "agent.started",
            "check.recovered"
        ]
    );
    let times: Vec<u64> = events.iter().map(|e| e.at_ms).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in order: {times:?}"
    );
    agent_proc.stop();
    drop(api);
    collector.stop();
}
