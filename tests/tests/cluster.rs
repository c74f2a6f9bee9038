//! Two real `tend-collector serve` processes on one real PostgreSQL: a device
//! enrolled through A checks in through B; 25 concurrent reports of one problem over
//! both make one ticket; a diagnostic queued through A reaches an agent long-polling
//! B at once; each webhook event is delivered once; `kill -9` of A in the middle of
//! check-ins loses nothing A acknowledged (read back through B).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tend_e2e::{wait_for, AgentProc, CollectorProc};
use tend_shared::api::Page;
use tend_shared::devices::{DeviceDetail, DeviceEvent};
use tend_shared::jobs::{JobState, JobView};
use tend_shared::tickets::Ticket;

/// A collector config on the shared database (webhooks to this host allowed).
fn config(dir: &Path, db: &str) -> std::path::PathBuf {
    let path = dir.join("collector.toml");
    std::fs::write(
        &path,
        format!("database = \"{db}\"\nallow_http_loopback_webhooks = true\ndatabase_pool = 8\n"),
    )
    .unwrap();
    path
}

/// Deliveries a webhook receiver saw: (delivery id, event).
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A plain-HTTP webhook receiver on 127.0.0.1 that records each delivery and answers 200.
async fn receiver() -> (String, Seen) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let out = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let header = |name: &str| {
                        head.lines()
                            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                            .unwrap_or("")
                            .trim()
                            .to_string()
                    };
                    let len: usize = header("content-length").parse().unwrap_or(0);
                    if buf.len() < end + 4 + len {
                        continue;
                    }
                    seen.lock()
                        .unwrap()
                        .push((header("x-tend-delivery"), header("x-tend-event")));
                    let _ = s
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    return;
                }
            });
        }
    });
    (url, out)
}

fn checkin_body(seqs: std::ops::RangeInclusive<u64>) -> serde_json::Value {
    let now = tend_shared::now_ms();
    let events: Vec<serde_json::Value> = seqs
        .map(|seq| serde_json::json!({"seq": seq, "at_ms": now, "kind": "test.tick", "message": format!("tick {seq}")}))
        .collect();
    serde_json::json!({"agent_version": "0.1.0", "inventory_hash": "", "events": events, "policy_version": 0})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_collectors_on_one_postgres() {
    let db = tend_pgtest::database();
    let tmp = tempfile::tempdir().unwrap();
    let (da, db_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&da).unwrap();
    std::fs::create_dir_all(&db_dir).unwrap();
    let a = CollectorProc::start_args(&da, 0, &["--config", config(&da, &db).to_str().unwrap()]);
    let admin = a
        .admin_token
        .clone()
        .expect("the first collector makes the admin");
    // the second collector joins with a copy of the cluster key
    let key = tmp.path().join("b.cluster.key");
    std::fs::copy(da.join("cluster.key"), &key).unwrap();
    let b = CollectorProc::start_args(
        &db_dir,
        0,
        &[
            "--config",
            config(&db_dir, &db).to_str().unwrap(),
            "--cluster-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(b.admin_token.is_none(), "one admin for the cluster");
    assert_eq!(a.ca_pem(), b.ca_pem(), "one CA for every collector");
    let (api_a, api_b) = (a.client(&admin), b.client(&admin));

    // a real agent enrolls through A and then talks to B only
    let (state, dev) = a.enroll_agent(tmp.path(), "agent", "HW-CLUSTER-1");
    let creds_path = state.join("credentials.json");
    let mut creds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&creds_path).unwrap()).unwrap();
    let device_token = creds["device_token"].as_str().unwrap().to_string();
    creds["server_url"] = b.url.clone().into();
    std::fs::write(&creds_path, serde_json::to_vec_pretty(&creds).unwrap()).unwrap();
    let agent = AgentProc::start(&state, Some("HW-CLUSTER-1"));
    wait_for(
        "the agent's check-in through B, seen by A",
        Duration::from_secs(60),
        || async {
            let d: DeviceDetail = api_a.get(&format!("/api/v1/devices/{dev}")).await.ok()?;
            (d.device.last_seen_ms > 0).then_some(())
        },
    )
    .await;

    // a diagnostic queued through A wakes the agent's long-poll on B (NOTIFY): it
    // is answered well before the 30 s poll would come round again
    let t = Instant::now();
    let job: JobView = api_a
        .post(
            &format!("/api/v1/devices/{dev}/diagnostics"),
            &serde_json::json!({"name": "interfaces"}),
        )
        .await
        .unwrap();
    let done = wait_for(
        "the diagnostic answered through B",
        Duration::from_secs(10),
        || async {
            let j: JobView = api_a.get(&format!("/api/v1/jobs/{}", job.id)).await.ok()?;
            j.state.is_final().then_some(j)
        },
    )
    .await;
    assert_eq!(done.state, JobState::Succeeded, "{:?}", done.result);
    println!(
        "diagnostic queued through A answered via B in {} ms",
        t.elapsed().as_millis()
    );
    drop(agent);

    // a webhook, registered through A
    let (hook, seen) = receiver().await;
    let _: serde_json::Value = api_a
        .post(
            "/api/v1/webhooks",
            &serde_json::json!({"url": hook, "secret": "0123456789abcdef0123"}),
        )
        .await
        .unwrap();

    // 25 concurrent reports of one problem, spread over both collectors
    let dev_a = tend_client::Client::new(&a.url, &a.ca_pem(), Some(device_token.clone())).unwrap();
    let dev_b = tend_client::Client::new(&b.url, &b.ca_pem(), Some(device_token.clone())).unwrap();
    let mut tasks = Vec::new();
    for i in 0..25 {
        let c = if i % 2 == 0 {
            dev_a.clone()
        } else {
            dev_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            c.post::<_, Ticket>(
                "/api/v1/tickets",
                &serde_json::json!({"request_id": format!("r{i}"), "problem_key": "app.crash:editor", "severity": "high", "summary": "the editor crashes", "observed_at_ms": 1}),
            )
            .await
            .unwrap()
        }));
    }
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().id);
    }
    assert_eq!(ids.len(), 1, "one ticket for one problem: {ids:?}");
    let open: Page<Ticket> = api_b
        .get("/api/v1/tickets?problem_key=app.crash:editor&status=open")
        .await
        .unwrap();
    assert_eq!(open.items.len(), 1);
    assert_eq!(open.items[0].occurrences, 25);

    // 25 events (one created, 24 updated), each delivered once although both
    // collectors run a delivery worker; one more change through B makes it 26
    wait_for("25 webhook deliveries", Duration::from_secs(60), || async {
        (seen.lock().unwrap().len() >= 25).then_some(())
    })
    .await;
    let id = open.items[0].id.clone();
    let _: Ticket = api_b
        .patch(
            &format!("/api/v1/tickets/{id}"),
            &serde_json::json!({"comment": "looking"}),
        )
        .await
        .unwrap();
    wait_for("the 26th delivery", Duration::from_secs(60), || async {
        (seen.lock().unwrap().len() >= 26).then_some(())
    })
    .await;
    {
        let seen = seen.lock().unwrap();
        let distinct: BTreeSet<&String> = seen.iter().map(|(d, _)| d).collect();
        assert_eq!(seen.len(), 26, "no delivery twice: {seen:?}");
        assert_eq!(distinct.len(), 26, "{seen:?}");
        assert_eq!(
            seen.iter().filter(|(_, e)| e == "ticket.created").count(),
            1
        );
    }

    // kill -9 of A in the middle of check-ins: what A acknowledged is all in the
    // database, read back through B
    let secret = std::fs::read_to_string(da.join("enroll.secret")).unwrap();
    let anon = tend_client::Client::new(&a.url, &a.ca_pem(), None).unwrap();
    let mut devices = Vec::new();
    for n in 0..8 {
        let r: tend_shared::enroll::EnrollResponse = anon
            .post(
                "/api/v1/enroll",
                &serde_json::json!({"enroll_secret": secret.trim(), "agent_version": "0.1.0", "identity": {"hardware_uuid": format!("HW-KILL-{n}"), "hostname": format!("kill-{n}"), "platform": "linux"}}),
            )
            .await
            .unwrap();
        devices.push(r);
    }
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let mut load = Vec::new();
    for d in &devices {
        let c =
            tend_client::Client::new(&a.url, &a.ca_pem(), Some(d.device_token.clone())).unwrap();
        let (id, acked) = (d.device_id.clone(), acked.clone());
        load.push(tokio::spawn(async move {
            for round in 0..25u64 {
                let seqs = round * 4 + 1..=round * 4 + 4;
                match c
                    .post::<_, tend_shared::checkin::CheckinResponse>(
                        "/api/v1/checkin",
                        &checkin_body(seqs),
                    )
                    .await
                {
                    Ok(r) => acked.lock().unwrap().push((id.clone(), r.acked_event_seq)),
                    Err(_) => return, // A is gone
                }
            }
        }));
    }
    wait_for("check-ins under way", Duration::from_secs(60), || async {
        (acked.lock().unwrap().len() >= 40).then_some(())
    })
    .await;
    a.kill();
    for l in load {
        l.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    for d in &devices {
        let highest = acked
            .iter()
            .filter(|(id, _)| *id == d.device_id)
            .map(|(_, s)| *s)
            .max()
            .unwrap_or(0);
        let events: Page<DeviceEvent> = api_b
            .get(&format!(
                "/api/v1/devices/{}/events?limit=1000",
                d.device_id
            ))
            .await
            .unwrap();
        let stored: BTreeSet<u64> = events.items.iter().filter_map(|e| e.seq).collect();
        for seq in 1..=highest {
            assert!(
                stored.contains(&seq),
                "device {}: event {seq} was acknowledged by A but is not in the database",
                d.device_id
            );
        }
    }
    b.stop();
}
