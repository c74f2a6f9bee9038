//! Issue 5 end to end with real processes: diagnostics through `tendctl diagnose
//! --wait`; a script approved by a second admin runs; scripts altered in sled after
//! approval, signed by another key, or never signed are refused by the agent; timeouts
//! kill the whole group; output is capped; jobs survive a collector restart; bulk
//! actions; and self-healing (deflected with no ticket, or one ticket carrying the
//! remediation output).

use std::time::{Duration, Instant};

use tend_collector::store::{Store, StoreError};
use tend_e2e::{wait_for, AgentProc, CollectorProc};
use tend_shared::api::Page;
use tend_shared::jobs::{JobState, JobView, Script, ScriptStatus, SignedScript};
use tend_shared::policy::{Policy, Remediation};
use tend_shared::tickets::Ticket;

async fn job_done(api: &tend_client::Client, id: &str) -> JobView {
    wait_for("the job to finish", Duration::from_secs(30), || async {
        let j: JobView = api.get(&format!("/api/v1/jobs/{id}?wait=5")).await.ok()?;
        j.state.is_final().then_some(j)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_scripts_signatures_and_self_healing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("collector");
    let collector = CollectorProc::start_with_admins(&data, 0, &["admin", "second-admin"]);
    let port = collector.port;
    let admin = collector.admins[0].clone();
    let admin2 = collector.admins[1].clone();
    let ana: tend_shared::api::UserCreated = serde_json::from_str(&collector.tendctl(
        &admin,
        &["--json", "user", "add", "ana", "--role", "analyst"],
    ))
    .unwrap();
    let analyst = ana.token;
    let api = collector.client(&admin);
    let api2 = collector.client(&admin2);
    let mut p: Policy = api.get("/api/v1/policy").await.unwrap();
    for c in p.checks.values_mut() {
        c.enabled = false;
    }
    p.evaluation_interval_s = 1;
    let _: Policy = api.put("/api/v1/policy", &p).await.unwrap();

    let (state, dev) = collector.enroll_agent(tmp.path(), "agent", "E2E-JOBS-1");
    let mut agent_proc = AgentProc::start(&state, Some("E2E-JOBS-1"));
    wait_for("the agent's long-poll", Duration::from_secs(20), || async {
        let d: Vec<tend_shared::devices::DeviceSummary> = api
            .get::<Page<tend_shared::devices::DeviceSummary>>("/api/v1/devices")
            .await
            .ok()?
            .items;
        d.first().filter(|d| d.last_seen_ms > 0).map(|_| ())
    })
    .await;

    // a diagnostic, queued and answered through tendctl
    let du = tmp.path().join("du");
    std::fs::create_dir_all(du.join("sub")).unwrap();
    std::fs::write(du.join("sub/blob"), vec![0u8; 4096]).unwrap();
    let du_path = std::fs::canonicalize("/tmp")
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let start = Instant::now();
    let out = collector.tendctl(
        &analyst,
        &[
            "--json",
            "diagnose",
            &dev,
            "disk-usage",
            &du_path,
            "--wait",
            "10",
        ],
    );
    let took = start.elapsed();
    eprintln!("tendctl diagnose disk-usage /tmp --wait: {took:?}");
    let j: JobView = serde_json::from_str(&out).unwrap();
    assert_eq!(j.state, JobState::Succeeded, "{out}");
    assert!(j.result.unwrap().output["total_bytes"].as_u64().is_some());
    assert!(
        took < Duration::from_secs(1),
        "queued → result took {took:?}"
    );
    // bad arguments: 400 at the collector
    let bad = api
        .post::<_, JobView>(
            &format!("/api/v1/devices/{dev}/diagnostics"),
            &serde_json::json!({"name": "ping", "args": ["x; reboot"]}),
        )
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(400));

    // scripts: the submitter cannot approve; a second admin can
    let submit = |name: &str, body: &str, timeout: u64| serde_json::json!({"name": name, "interpreter": "sh", "body": body, "timeout_s": timeout});
    let hello: Script = api
        .post(
            "/api/v1/scripts",
            &submit("hello", "echo hello from $TEND_JOB_ID; id -u", 30),
        )
        .await
        .unwrap();
    let own = api
        .post::<_, Script>(
            &format!("/api/v1/scripts/{}/approve", hello.id),
            &serde_json::json!({}),
        )
        .await
        .unwrap_err();
    assert_eq!(own.status(), Some(403));
    let approved: Script = api2
        .post(
            &format!("/api/v1/scripts/{}/approve", hello.id),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    assert_eq!(approved.status, ScriptStatus::Approved);
    let out = collector.tendctl(
        &analyst,
        &["--json", "run", &dev, &hello.id, "--wait", "20"],
    );
    let j: JobView = serde_json::from_str(&out).unwrap();
    assert_eq!(j.state, JobState::Succeeded, "{out}");
    assert!(
        j.result
            .as_ref()
            .unwrap()
            .stdout
            .starts_with("hello from j_"),
        "{out}"
    );

    // timeout kills the group; 10 MB of output comes back capped
    let marker = tmp.path().join("survivor");
    let sleeper: Script = api
        .post(
            "/api/v1/scripts",
            &submit(
                "sleeper",
                &format!("(sleep 3; touch {}) & sleep 60", marker.display()),
                1,
            ),
        )
        .await
        .unwrap();
    let loud: Script = api
        .post(
            "/api/v1/scripts",
            &submit("loud", "head -c 10000000 /dev/zero | tr '\\0' x", 60),
        )
        .await
        .unwrap();
    for s in [&sleeper, &loud] {
        let _: Script = api2
            .post(
                &format!("/api/v1/scripts/{}/approve", s.id),
                &serde_json::json!({}),
            )
            .await
            .unwrap();
    }
    let q = |id: &str| serde_json::json!({"script_id": id});
    let js: JobView = api
        .post(&format!("/api/v1/devices/{dev}/scripts"), &q(&sleeper.id))
        .await
        .unwrap();
    let jl: JobView = api
        .post(&format!("/api/v1/devices/{dev}/scripts"), &q(&loud.id))
        .await
        .unwrap();
    let js = job_done(&api, &js.id).await;
    assert_eq!(js.state, JobState::TimedOut);
    let jl = job_done(&api, &jl.id).await;
    let r = jl.result.unwrap();
    assert_eq!((r.stdout.len(), r.stdout_truncated), (64 * 1024, true));
    // the background child would still be running (its `touch` pending): no process
    // of the killed group may be left holding the marker path
    let marker_s = marker.display().to_string();
    let survivors: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&marker_s))
        .collect();
    assert!(
        survivors.is_empty() && !marker.exists(),
        "the timed-out script's child was killed with its group: {survivors:?}"
    );

    // tamper with sled while the collector is down: three scripts the agent must refuse
    let bodyswap: Script = api
        .post("/api/v1/scripts", &submit("bodyswap", "echo original", 30))
        .await
        .unwrap();
    let foreign: Script = api
        .post("/api/v1/scripts", &submit("foreign", "echo foreign", 30))
        .await
        .unwrap();
    for s in [&bodyswap, &foreign] {
        let _: Script = api2
            .post(
                &format!("/api/v1/scripts/{}/approve", s.id),
                &serde_json::json!({}),
            )
            .await
            .unwrap();
    }
    agent_proc.stop();
    // a job queued while the agent is away must survive the collector restart
    let waiting: JobView = api
        .post(
            &format!("/api/v1/devices/{dev}/diagnostics"),
            &serde_json::json!({"name": "interfaces"}),
        )
        .await
        .unwrap();
    drop((api, api2));
    collector.stop();
    {
        let store = Store::open(&data.join("db")).unwrap();
        // new bytes with a matching hash: only the signature can catch it
        edit(&store, &bodyswap, &|s| {
            s.body = "echo pwned".into();
            s.body_sha256 = tend_shared::signing::sha256_hex(b"echo pwned");
        })
        .await;
        // a valid-looking signature from a key the agent never pinned
        edit(&store, &foreign, &|s| {
            let other = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
            let m = tend_shared::signing::script_manifest(
                &s.id,
                s.version,
                &s.body_sha256,
                &s.interpreter,
                s.timeout_s,
                s.run_as.as_str(),
            );
            s.signature = Some(tend_shared::signing::sign_b64(&other, &m));
        })
        .await;
        // a script nobody signed, forced into the registry and a queue
        let unsigned = Script {
            id: "s_unsigned".into(),
            name: "unsigned".into(),
            version: 1,
            status: ScriptStatus::Approved,
            signature: None,
            approved_by: None,
            approved_at_ms: None,
            ..bodyswap.clone()
        };
        let spec = SignedScript {
            script_id: unsigned.id.clone(),
            version: 1,
            interpreter: "sh".into(),
            body: unsigned.body.clone(),
            body_sha256: unsigned.body_sha256.clone(),
            timeout_s: 30,
            run_as: "root".into(),
            name: String::new(),
            submitted_by: String::new(),
            approved_by: String::new(),
            signature: String::new(),
        };
        let job = JobView {
            id: "j_unsigned".into(),
            device_id: dev.clone(),
            state: JobState::Queued,
            spec: tend_shared::jobs::JobSpec::Script(spec),
            created_by: "test".into(),
            created_at_ms: tend_shared::now_ms(),
            expires_at_ms: tend_shared::now_ms() + 3_600_000,
            delivered_at_ms: None,
            deliveries: 0,
            started_at_ms: None,
            finished_at_ms: None,
            result: None,
            bulk_id: None,
            ticket_id: None,
        };
        tend_collector::atomic!(store, tx: StoreError => {
            tx.put_script(&unsigned).await?;
            tx.put_job(&job).await
        })
        .unwrap();
        store.flush().await.unwrap();
    }
    let collector = CollectorProc::start(&data, port);
    let api = collector.client(&admin);
    let jb: JobView = api
        .post(&format!("/api/v1/devices/{dev}/scripts"), &q(&bodyswap.id))
        .await
        .unwrap();
    let jf: JobView = api
        .post(&format!("/api/v1/devices/{dev}/scripts"), &q(&foreign.id))
        .await
        .unwrap();
    agent_proc = AgentProc::start(&state, Some("E2E-JOBS-1"));
    assert_eq!(
        job_done(&api, &waiting.id).await.state,
        JobState::Succeeded,
        "queued before the restart, run after it"
    );
    for (id, why) in [
        (&jb.id, "signature"),
        (&jf.id, "signature"),
        (&"j_unsigned".to_string(), "signature"),
    ] {
        let j = job_done(&api, id).await;
        assert_eq!(j.state, JobState::Rejected, "{id}: {j:?}");
        let reason = j.result.unwrap().reason.unwrap_or_default();
        assert!(reason.contains(why), "{id}: {reason}");
    }

    // bulk: one diagnostic for every Linux device, progress by state
    let b: tend_shared::jobs::BulkStatus = api.post("/api/v1/bulk", &serde_json::json!({"platform": "linux", "action": {"type": "diagnostic", "name": "routes"}})).await.unwrap();
    assert_eq!(b.job_ids.len(), 1);
    job_done(&api, &b.job_ids[0]).await;
    let progress = collector.tendctl(&admin, &["bulk", "status", &b.id]);
    assert!(
        progress.contains("1 of 1 job(s) finished") && progress.contains("succeeded"),
        "{progress}"
    );

    // self-healing: a missing process that the approved remediation starts
    let m = tmp.path().join(format!("tmh{}", std::process::id()));
    std::fs::copy("/bin/sleep", &m).unwrap();
    let mname = m.file_name().unwrap().to_string_lossy().into_owned();
    let api2 = collector.client(&admin2);
    let fix: Script = api
        .post(
            "/api/v1/scripts",
            &submit(
                "start-marker",
                &format!("nohup {} 600 >/dev/null 2>&1 &\necho started", m.display()),
                30,
            ),
        )
        .await
        .unwrap();
    let nofix: Script = api
        .post(
            "/api/v1/scripts",
            &submit(
                "cannot-fix",
                "echo tried restarting the service; exit 1",
                30,
            ),
        )
        .await
        .unwrap();
    for s in [&fix, &nofix] {
        let _: Script = api2
            .post(
                &format!("/api/v1/scripts/{}/approve", s.id),
                &serde_json::json!({}),
            )
            .await
            .unwrap();
    }
    let mut p: Policy = api.get("/api/v1/policy").await.unwrap();
    p.checks.get_mut("process.required").unwrap().enabled = true;
    p.required_processes = vec![mname.clone()];
    p.remediations.insert(
        "process.required".into(),
        Remediation {
            script_id: fix.id.clone(),
            max_attempts: 1,
            cooldown_s: 0,
        },
    );
    let _: Policy = api.put("/api/v1/policy", &p).await.unwrap();
    let path = format!("/api/v1/devices/{dev}");
    wait_for("a deflected incident", Duration::from_secs(30), || async {
        let d: tend_shared::devices::DeviceDetail = api.get(&path).await.ok()?;
        d.events
            .iter()
            .any(|e| e.kind == "remediation.deflected")
            .then_some(())
    })
    .await;
    let tickets = api
        .get::<Page<Ticket>>("/api/v1/tickets?problem_key=process.required")
        .await
        .unwrap()
        .items;
    assert!(tickets.is_empty(), "fixed by remediation: no ticket");
    let report: tend_shared::tickets::SlaReport = api.get("/api/v1/reports/sla").await.unwrap();
    assert_eq!(report.deflected, 1);

    // now a remediation that cannot fix it: exactly one ticket, carrying its output
    p.remediations.insert(
        "process.required".into(),
        Remediation {
            script_id: nofix.id.clone(),
            max_attempts: 1,
            cooldown_s: 0,
        },
    );
    let _: Policy = api.put("/api/v1/policy", &p).await.unwrap();
    let _ = std::process::Command::new("pkill")
        .args(["-x", &mname])
        .status();
    let t = wait_for(
        "a ticket after the failed remediation",
        Duration::from_secs(30),
        || async {
            let v: Page<Ticket> = api
                .get("/api/v1/tickets?problem_key=process.required")
                .await
                .ok()?;
            v.items.into_iter().next()
        },
    )
    .await;
    let rem = &t.evidence["remediation"];
    assert_eq!(rem["script_id"], nofix.id);
    assert!(
        rem["stdout"]
            .as_str()
            .unwrap()
            .contains("tried restarting the service"),
        "{rem}"
    );
    assert_eq!(rem["exit_code"], 1);
    // one more full evaluation (health-now) and the report that follows it: a second
    // ticket request would have been spooled and filed by then
    let now_job: JobView = api
        .post(
            &format!("/api/v1/devices/{dev}/diagnostics"),
            &serde_json::json!({"name": "health-now"}),
        )
        .await
        .unwrap();
    let now_job = job_done(&api, &now_job.id).await;
    wait_for(
        "the report after health-now",
        Duration::from_secs(30),
        || async {
            let d: tend_shared::devices::DeviceDetail =
                api.get(&format!("/api/v1/devices/{dev}")).await.ok()?;
            (d.device.last_seen_ms >= now_job.finished_at_ms.unwrap_or(u64::MAX)).then_some(())
        },
    )
    .await;
    let v = api
        .get::<Page<Ticket>>("/api/v1/tickets?problem_key=process.required")
        .await
        .unwrap()
        .items;
    assert_eq!(v.len(), 1);
    agent_proc.stop();
    drop((api, api2));
    collector.stop();
}

/// Rewrites one stored script version behind the collector's back (it is stopped).
async fn edit(store: &Store, s: &Script, f: &dyn Fn(&mut Script)) {
    let mut cur = store
        .read()
        .script_versions(&s.id)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.version == s.version)
        .unwrap();
    f(&mut cur);
    tend_collector::atomic!(store, tx: StoreError => tx.put_script(&cur).await).unwrap();
}
