//! Backup and restore of a sled collector (issue 26 §2), with the real binaries: a
//! backup taken over the control socket while tickets are being filed, a damaged
//! copy and a live data dir refused by `restore`, the restored data dir served by a
//! new collector with every device, ticket and event and the same CA, its counters
//! agreeing with its records (one consistent moment), and an offline backup of the
//! stopped store.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tend_client::Client;
use tend_e2e::{bin, CollectorProc};

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin("tend-collector"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("running tend-collector")
}

fn manifest(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("manifest JSON")
}

async fn ticket(admin: &Client, device: &str, n: u64) -> Option<String> {
    let body = serde_json::json!({"request_id": format!("bk-{n}"), "device_id": device,
        "problem_key": format!("backup-{n}"), "summary": "filed around a backup", "severity": "low"});
    let t: serde_json::Value = admin.post("/api/v1/tickets", &body).await.ok()?;
    t["id"].as_str().map(str::to_string)
}

async fn all(admin: &Client, path: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &next {
            Some(c) => format!("{path}{sep}limit=500&cursor={c}"),
            None => format!("{path}{sep}limit=500"),
        };
        let page: tend_shared::api::Page<serde_json::Value> = admin.get(&url).await.unwrap();
        out.extend(page.items);
        match page.next {
            Some(c) => next = Some(c),
            None => return out,
        }
    }
}

fn str_arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A damaged copy is refused and creates nothing; a live data dir is refused.
fn refusals(tmp: &Path, file: &Path, data: &Path) {
    let mut bytes = std::fs::read(file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    let damaged = tmp.join("damaged.backup");
    std::fs::write(&damaged, &bytes).unwrap();
    let target = tmp.join("from-damaged");
    let out = run(&[
        "restore",
        "--from",
        str_arg(&damaged),
        "--data",
        str_arg(&target),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("damaged"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!target.exists(), "a refused restore leaves nothing behind");
    let out = run(&["restore", "--from", str_arg(file), "--data", str_arg(data)]);
    assert!(!out.status.success(), "restore over a live store");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a store"));
}

#[tokio::test]
async fn an_online_backup_restores_every_record_and_refuses_what_it_must() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let c = CollectorProc::start(&data, 0);
    let token = c.admin_token.clone().unwrap();
    let admin = c.client(&token);
    let mut devices = Vec::new();
    for i in 0..3 {
        let (state, id) = c.enroll_agent(tmp.path(), &format!("a{i}"), &format!("HW-BK-{i}"));
        let creds: serde_json::Value =
            serde_json::from_slice(&std::fs::read(state.join("credentials.json")).unwrap())
                .unwrap();
        let dev = c.client(creds["device_token"].as_str().unwrap());
        let inv = tend_shared::inventory::Inventory {
            hostname: format!("lap-{i}"),
            ..Default::default()
        };
        let body = serde_json::json!({"agent_version": "0.1.0", "inventory_hash": inv.content_hash(),
            "inventory": inv, "health": [], "policy_version": 0,
            "events": [{"seq": 1, "at_ms": 5, "kind": "agent.started", "message": "hello"}]});
        let _: serde_json::Value = dev.post("/api/v1/checkin", &body).await.unwrap();
        devices.push(id);
    }
    let mut before = Vec::new();
    for n in 0..30 {
        before.push(ticket(&admin, &devices[n as usize % 3], n).await.unwrap());
    }

    // filing goes on while the backup is taken
    let stop = Arc::new(AtomicBool::new(false));
    let (a2, d2, s2) = (admin.clone(), devices[0].clone(), stop.clone());
    let writer = tokio::spawn(async move {
        let mut n = 1000;
        while !s2.load(Ordering::Relaxed) {
            n += 1;
            ticket(&a2, &d2, n).await;
        }
        n - 1000
    });
    let file = tmp.path().join("tend.backup");
    let (d, f) = (data.clone(), file.clone());
    let out = tokio::task::spawn_blocking(move || {
        run(&["backup", "--data", str_arg(&d), "--out", str_arg(&f)])
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    let filed_during = writer.await.unwrap();
    let m = manifest(&out);
    assert_eq!(m["counts"]["devices"], 3, "{m}");
    assert!(m["counts"]["tickets"].as_u64().unwrap() >= 30, "{m}");
    assert!(m["counts"]["events"].as_u64().unwrap() >= 3, "{m}");
    assert!(
        m["files"].as_array().unwrap().iter().any(|f| f == "ca.key"),
        "{m}"
    );
    assert!(filed_during > 0, "the collector kept taking writes");

    refusals(tmp.path(), &file, &data);
    c.stop();

    // the restored data dir serves every record, with the same CA
    let restored = tmp.path().join("restored");
    let r = manifest(&run(&[
        "restore",
        "--from",
        str_arg(&file),
        "--data",
        str_arg(&restored),
    ]));
    assert_eq!(r["sha256"], m["sha256"]);
    assert_eq!(
        std::fs::read(restored.join("ca.pem")).unwrap(),
        std::fs::read(data.join("ca.pem")).unwrap()
    );
    let c = CollectorProc::start(&restored, 0);
    let admin = c.client(&token);
    let devs = all(&admin, "/api/v1/devices").await;
    assert_eq!(devs.len(), 3);
    for d in &devices {
        let ev = all(&admin, &format!("/api/v1/devices/{d}/events")).await;
        assert!(
            ev.iter().any(|e| e["message"] == "hello"),
            "events of {d}: {ev:?}"
        );
    }
    let tickets = all(&admin, "/api/v1/tickets").await;
    assert_eq!(
        tickets.len() as u64,
        m["counts"]["tickets"].as_u64().unwrap()
    );
    for id in &before {
        assert!(tickets.iter().any(|t| t["id"] == id.as_str()), "{id}");
    }
    // one moment: the counters kept beside the records agree with them
    let open = tickets.iter().filter(|t| t["status"] == "new").count();
    let metrics = tend_client::pinned_client(&c.ca_pem(), std::time::Duration::from_secs(10))
        .unwrap()
        .get(format!("{}/metrics", c.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!("tend_tickets_open {open}\n")),
        "{open} open tickets; metrics:\n{metrics}"
    );
    c.stop();

    // offline: the stopped store, straight from disk
    let offline = tmp.path().join("offline.backup");
    let o = manifest(&run(&[
        "backup",
        "--data",
        str_arg(&restored),
        "--out",
        str_arg(&offline),
    ]));
    for kind in ["devices", "tickets", "events", "users"] {
        assert_eq!(o["counts"][kind], m["counts"][kind], "{kind}");
    }
}
