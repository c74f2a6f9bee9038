//! A full disk (issue 26 §3): the real collector's data dir on a small tmpfs, filled
//! by the test, twice. Nearly full (less than `min_free_mb` left): writes answer 507
//! `insufficient_storage` with `Retry-After` before sled sees them, `/healthz`
//! answers 503 `degraded` / `disk full`, reads are served, and writes resume on their
//! own once space is freed. Completely full with the margin off (`--min-free-mb 0`):
//! sled itself meets ENOSPC and keeps the error; writes answer 507 (never 500) and
//! once space is freed the store reopens in place and writes resume, no restart.
//! Every acknowledged ticket is there at the end, also after a clean restart.
//!
//! Needs root to mount the tmpfs (CI runs as root); without it the test fails and
//! says so rather than skipping.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tend_client::{Client, TransportError};
use tend_e2e::{wait_for, CollectorProc};

/// A mounted tmpfs, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test mounts a small tmpfs to fill: run it as root (CI does)"
        );
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .expect("running mount")
            .success();
        assert!(ok, "mount -t tmpfs failed");
        Tmpfs(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes `path` until the filesystem has `leave` bytes or fewer free.
fn fill(path: &Path, leave: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![7u8; 256 << 10];
    loop {
        let st = nix::sys::statvfs::statvfs(path).unwrap();
        let free = st.blocks_available() * st.fragment_size();
        if free <= leave || f.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = f.sync_all();
}

async fn file_ticket(admin: &Client, device: &str, n: u32) -> Result<String, TransportError> {
    let body = serde_json::json!({"request_id": format!("df-{n}"), "device_id": device,
        "problem_key": format!("disk-test-{n}"), "summary": "a ticket while the disk fills",
        "description": "x".repeat(4000), "severity": "low"});
    let t: serde_json::Value = admin.post("/api/v1/tickets", &body).await?;
    Ok(t["id"].as_str().unwrap_or_default().to_string())
}

async fn healthz(c: &CollectorProc) -> (u16, serde_json::Value) {
    let http = tend_client::pinned_client(&c.ca_pem(), Duration::from_secs(10)).unwrap();
    let r = http.get(format!("{}/healthz", c.url)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Files tickets until one is refused; the acknowledged ones go to `acked`.
async fn file_until_refused(
    admin: &Client,
    device: &str,
    n: &mut u32,
    acked: &mut Vec<String>,
) -> TransportError {
    for _ in 0..5000 {
        *n += 1;
        match file_ticket(admin, device, *n).await {
            Ok(id) => acked.push(id),
            Err(e) => return e,
        }
    }
    panic!("5000 tickets filed on a full disk");
}

fn assert_507(e: &TransportError) {
    let TransportError::Status {
        status,
        code,
        retry_after_s,
        ..
    } = e
    else {
        panic!("not an answer: {e}");
    };
    assert_eq!(
        (*status, code.as_str()),
        (507, "insufficient_storage"),
        "a full disk is not a server bug: {e}"
    );
    assert!(retry_after_s.is_some_and(|s| s > 0), "Retry-After: {e}");
}

async fn resumes(admin: &Client, device: &str, n: &mut u32, acked: &mut Vec<String>) {
    let start = *n;
    let mut k = 0;
    let id = wait_for(
        "writes to resume once space is back",
        Duration::from_secs(60),
        || {
            k += 1;
            let (admin, device, m) = (admin.clone(), device.to_string(), start + k);
            async move { file_ticket(&admin, &device, m).await.ok() }
        },
    )
    .await;
    *n = start + k;
    acked.push(id);
}

#[tokio::test]
async fn a_full_disk_answers_507_says_degraded_and_recovers_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(&tmp.path().join("fs"), "160m");
    let data = fs.0.join("data");
    let filler = fs.0.join("filler");
    let c = CollectorProc::start(&data, 0);
    let token = c.admin_token.clone().unwrap();
    let admin = c.client(&token);
    let (_, device) = c.enroll_agent(tmp.path(), "a", "HW-DISKFULL");
    let mut acked = vec![file_ticket(&admin, &device, 0).await.unwrap()];
    let mut n = 0;

    // nearly full: refused before sled sees the write
    fill(&filler, 16 << 20);
    let e = file_until_refused(&admin, &device, &mut n, &mut acked).await;
    assert_507(&e);
    let (status, h) = healthz(&c).await;
    assert_eq!(status, 503, "{h}");
    assert_eq!(
        (h["status"].as_str(), h["reason"].as_str()),
        (Some("degraded"), Some("disk full"))
    );
    let t: serde_json::Value = admin
        .get(&format!("/api/v1/tickets/{}", acked[0]))
        .await
        .expect("reads while the disk is nearly full");
    assert_eq!(t["id"], acked[0].as_str());
    std::fs::remove_file(&filler).unwrap();
    resumes(&admin, &device, &mut n, &mut acked).await;
    let (status, h) = healthz(&c).await;
    assert_eq!((status, h["status"].as_str()), (200, Some("ok")), "{h}");
    c.stop();

    // completely full, no margin: sled meets ENOSPC and the store reopens in place
    let c = CollectorProc::start_args(&data, 0, &["--min-free-mb", "0"]);
    let admin = c.client(&token);
    fill(&filler, 0);
    let e = file_until_refused(&admin, &device, &mut n, &mut acked).await;
    assert_507(&e);
    let (status, _) = healthz(&c).await;
    assert_eq!(status, 503);
    match admin
        .get::<serde_json::Value>(&format!("/api/v1/tickets/{}", acked[0]))
        .await
    {
        Ok(_) => {}
        // sled may need to write to serve a read once it holds the error
        Err(e) => assert_507(&e),
    }
    std::fs::remove_file(&filler).unwrap();
    resumes(&admin, &device, &mut n, &mut acked).await;
    let (status, h) = healthz(&c).await;
    assert_eq!((status, h["status"].as_str()), (200, Some("ok")), "{h}");
    for id in &acked {
        let t: serde_json::Value = admin
            .get(&format!("/api/v1/tickets/{id}"))
            .await
            .unwrap_or_else(|e| panic!("acknowledged {id} is gone: {e}"));
        assert_eq!(t["id"], id.as_str());
    }
    c.stop();

    // and after a start
    let c = CollectorProc::start(&data, 0);
    let admin = c.client(&token);
    for id in &acked {
        admin
            .get::<serde_json::Value>(&format!("/api/v1/tickets/{id}"))
            .await
            .unwrap_or_else(|e| panic!("acknowledged {id} is gone after a restart: {e}"));
    }
    c.stop();
}
