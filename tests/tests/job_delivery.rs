//! Issue 12 (item 12) end to end: a script's result survives the collector being
//! killed while the script runs — the agent keeps it on disk and delivers it once the
//! collector is back — and the job ends succeeded with its output, never stuck.

use std::time::Duration;

use tend_e2e::{wait_for, AgentProc, CollectorProc};
use tend_shared::jobs::{JobState, JobView, Script};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_outlives_a_collector_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("collector");
    let collector = CollectorProc::start_with_admins(&data, 0, &["admin", "admin-2"]);
    let port = collector.port;
    let (admin, admin2) = (collector.admins[0].clone(), collector.admins[1].clone());
    let api = collector.client(&admin);
    let mut p: tend_shared::policy::Policy = api.get("/api/v1/policy").await.unwrap();
    for c in p.checks.values_mut() {
        c.enabled = false;
    }
    let _: tend_shared::policy::Policy = api.put("/api/v1/policy", &p).await.unwrap();
    let (state, dev) = collector.enroll_agent(tmp.path(), "agent", "HW-RESULTS-1");
    let _agent = AgentProc::start(&state, Some("HW-RESULTS-1"));

    // a script that outlives the collector
    let gate = tmp.path().join("gate");
    let body = format!(
        "while [ ! -e {} ]; do sleep 0.1; done; echo finished",
        gate.display()
    );
    let s: Script = api
        .post(
            "/api/v1/scripts",
            &serde_json::json!({"name": "slow", "interpreter": "sh", "body": body, "timeout_s": 120}),
        )
        .await
        .unwrap();
    let _: Script = collector
        .client(&admin2)
        .post(
            &format!("/api/v1/scripts/{}/approve", s.id),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    let job: JobView = api
        .post(
            &format!("/api/v1/devices/{dev}/scripts"),
            &serde_json::json!({"script_id": s.id}),
        )
        .await
        .unwrap();
    wait_for("the script to start", Duration::from_secs(30), || async {
        let j: JobView = api.get(&format!("/api/v1/jobs/{}", job.id)).await.ok()?;
        (j.state == JobState::Running).then_some(())
    })
    .await;

    // the collector dies; the script finishes meanwhile; its result waits on disk
    collector.kill();
    std::fs::write(&gate, b"").unwrap();
    let spool = state.join("spool/results");
    wait_for(
        "the result kept in the spool",
        Duration::from_secs(30),
        || async {
            std::fs::read_dir(&spool)
                .ok()?
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .then_some(())
        },
    )
    .await;

    // back on the same port: the result arrives and the spool empties
    let collector = CollectorProc::start(&data, port);
    let api = collector.client(&admin);
    let done = wait_for(
        "the result after the restart",
        Duration::from_secs(90),
        || async {
            let j: JobView = api
                .get(&format!("/api/v1/jobs/{}?wait=5", job.id))
                .await
                .ok()?;
            j.state.is_final().then_some(j)
        },
    )
    .await;
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.result.unwrap().stdout, "finished\n");
    wait_for("the spool to empty", Duration::from_secs(30), || async {
        let left = std::fs::read_dir(&spool).ok()?.flatten().count();
        (left == 0).then_some(())
    })
    .await;
}
