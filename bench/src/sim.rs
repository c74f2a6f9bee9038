//! Simulated agents: realistic payloads (≈300 packages, 12 check results), one HTTPS
//! client per connection slot shared by its devices (HTTP/2 reuse, as real agents keep
//! one connection), and latency recording.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tend_client::Client;
use tend_shared::checkin::{CheckinRequest, CheckinResponse};
use tend_shared::enroll::{EnrollRequest, EnrollResponse, HardwareIdentity, Platform};
use tend_shared::health::{CheckResult, CheckStatus, Severity};
use tend_shared::inventory::{Disk, Inventory, Package};

/// One simulated device.
#[derive(Debug, Clone)]
pub struct Device {
    pub n: u32,
    pub id: String,
    pub client: Client,
    pub failing: bool,
    pub checkins: Arc<AtomicU64>,
    /// The inventory hash of the current generation (the generator builds the
    /// inventory only when it sends it, as an agent would).
    pub inventory_hash: Arc<Mutex<(u32, String)>>,
    /// The health hash the collector acknowledged (heartbeats build on it); the
    /// generator sends every result when `FULL_HEALTH` is set (an older agent).
    pub health_acked: Arc<Mutex<Option<String>>>,
}

/// Simulate agents from before heartbeats: every check-in carries every result.
pub static FULL_HEALTH: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The two health sets the simulated devices report, and their hashes, built once.
fn health_sets() -> &'static [(Vec<CheckResult>, String); 2] {
    static SETS: std::sync::OnceLock<[(Vec<CheckResult>, String); 2]> = std::sync::OnceLock::new();
    SETS.get_or_init(|| {
        [false, true].map(|failing| {
            let h = health(failing);
            let hash = tend_shared::health::results_hash(&h);
            (h, hash)
        })
    })
}

/// Request latencies and errors.
#[derive(Debug, Default)]
pub struct Stats {
    pub micros: Mutex<Vec<u32>>,
    pub errors: AtomicU64,
    pub first_error: Mutex<Option<String>>,
}

impl Stats {
    pub fn ok(&self, since: Instant) {
        let us = since.elapsed().as_micros().min(u32::MAX as u128) as u32;
        self.micros.lock().expect("stats").push(us);
    }
    pub fn err(&self, e: impl std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.first_error
            .lock()
            .expect("stats")
            .get_or_insert_with(|| e.to_string());
    }
    /// (count, p50, p95, p99, max) in milliseconds.
    pub fn summary(&self) -> serde_json::Value {
        let mut v = self.micros.lock().expect("stats").clone();
        v.sort_unstable();
        let q = |p: f64| {
            v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
                .map(|us| *us as f64 / 1000.0)
        };
        serde_json::json!({
            "count": v.len(), "errors": self.errors.load(Ordering::Relaxed),
            "p50_ms": q(0.50), "p95_ms": q(0.95), "p99_ms": q(0.99), "max_ms": v.last().map(|us| *us as f64 / 1000.0),
            "first_error": self.first_error.lock().expect("stats").clone(),
        })
    }
}

/// A stable inventory of about 300 packages; `generation` bumps some versions.
pub fn inventory(n: u32, generation: u32) -> Inventory {
    let software = (0..300)
        .map(|i| Package {
            name: format!("pkg-{i:03}"),
            version: format!("1.{}.{}", i % 7, if i < 5 { generation } else { 0 }),
            source: "dpkg".into(),
        })
        .collect();
    Inventory {
        collected_at_ms: tend_shared::now_ms(),
        hostname: format!("sim-{n:06}"),
        disks: vec![Disk {
            mount: "/".into(),
            device: "/dev/nvme0n1p2".into(),
            filesystem: "ext4".into(),
            total_bytes: 512 << 30,
            free_bytes: 100 << 30,
            removable: false,
        }],
        software,
        agent_version: "bench".into(),
        ..Default::default()
    }
}

/// Twelve check results; a failing device fails `disk.free:/`.
pub fn health(failing: bool) -> Vec<CheckResult> {
    tend_shared::policy::checks::ALL
        .iter()
        .map(|k| {
            let id = if *k == "disk.free" {
                "disk.free:/".to_string()
            } else {
                k.to_string()
            };
            let fail = failing && *k == "disk.free";
            CheckResult {
                id,
                status: if fail {
                    CheckStatus::Fail
                } else {
                    CheckStatus::Pass
                },
                value: serde_json::json!(if fail { 2.0 } else { 40.0 }),
                threshold: serde_json::json!({"warn": 15.0, "fail": 5.0}),
                message: if fail {
                    "Disk / is 98% full: 10.7 GB free of 549.8 GB".into()
                } else {
                    "ok".into()
                },
                severity: Severity::Medium,
            }
        })
        .collect()
}

/// Builds `connections` pinned connection pools.
pub fn pools(ca: &str, connections: usize) -> anyhow::Result<Vec<reqwest::Client>> {
    (0..connections.max(1))
        .map(|_| Ok(tend_client::pinned_client(ca, Duration::from_secs(90))?))
        .collect()
}

/// Enrolls device `n` (hardware UUID `bench-n`).
pub async fn enroll(
    pool: &reqwest::Client,
    url: &str,
    secret: &str,
    n: u32,
) -> anyhow::Result<EnrollResponse> {
    let c = Client::with_http(pool.clone(), url, None);
    let req = EnrollRequest {
        device_key: None,
        proof: None,
        enroll_secret: secret.into(),
        agent_version: "bench".into(),
        identity: HardwareIdentity {
            hardware_uuid: format!("bench-{n:07}"),
            serial: Some(format!("BN{n:07}")),
            hostname: format!("sim-{n:06}"),
            platform: Platform::Linux,
            vendor: None,
            model: None,
        },
    };
    Ok(c.post("/api/v1/enroll", &req).await?)
}

/// One check-in: full inventory on first contact and every `k`-th one, else the hash.
pub async fn checkin(d: &Device, k: u64, stats: &Stats) -> Option<CheckinResponse> {
    let count = d.checkins.fetch_add(1, Ordering::Relaxed);
    let generation = (count / k.max(1)) as u32;
    let send_inventory = count == 0 || count.is_multiple_of(k.max(1));
    let cached = {
        let c = d.inventory_hash.lock().expect("hash cache");
        (c.0 == generation && !c.1.is_empty()).then(|| c.1.clone())
    };
    let (inventory_hash, inv) = match (cached, send_inventory) {
        (Some(h), false) => (h, None),
        _ => {
            let inv = inventory(d.n, generation);
            let h = inv.content_hash();
            *d.inventory_hash.lock().expect("hash cache") = (generation, h.clone());
            (h, send_inventory.then_some(inv))
        }
    };
    let (set, set_hash) = &health_sets()[usize::from(d.failing)];
    let old_agent = FULL_HEALTH.load(Ordering::Relaxed);
    let acked = d.health_acked.lock().expect("health ack").clone();
    let heartbeat = !old_agent && acked.as_deref() == Some(set_hash.as_str());
    let req = CheckinRequest {
        agent_version: "bench".into(),
        inventory_hash,
        inventory: inv,
        health: if heartbeat { Vec::new() } else { set.clone() },
        health_hash: (!old_agent).then(|| set_hash.clone()),
        health_partial: heartbeat,
        events: Vec::new(),
        policy_version: 1,
        observed_at_ms: tend_shared::now_ms(),
        release_platform: None,
    };
    let start = Instant::now();
    match d
        .client
        .post::<_, CheckinResponse>("/api/v1/checkin", &req)
        .await
    {
        Ok(r) => {
            stats.ok(start);
            if !old_agent {
                *d.health_acked.lock().expect("health ack") =
                    r.health_hash.clone().filter(|_| !r.need_health);
            }
            Some(r)
        }
        Err(e) => {
            stats.err(e);
            None
        }
    }
}

/// Runs `f` over all devices with at most `inflight` at once; returns the elapsed time.
pub async fn for_all<F, Fut>(devices: &[Device], inflight: usize, f: F) -> Duration
where
    F: Fn(Device) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(inflight));
    let mut tasks = Vec::new();
    for d in devices {
        let p = sem.clone().acquire_owned().await.expect("semaphore");
        let fut = f(d.clone());
        tasks.push(tokio::spawn(async move {
            fut.await;
            drop(p);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    start.elapsed()
}
