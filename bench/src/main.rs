//! `tend-bench`: simulated agents against the real `tend-collector serve` on loopback
//! over real HTTPS. Scenarios: `steady` (check-ins at a rate, long-polls held open,
//! failing devices filing tickets), `enrolled` (a large enrolled fleet: storage, start-up
//! time, device-list latency), `storm` (every agent back at once after an outage;
//! `--same-problem`: every agent filing the same ticket at once),
//! `longpoll` (agents holding long-polls while diagnostics are queued). Prints JSON.

mod fleet;
mod longpoll;
mod outage;
mod proc;
mod sim;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use sim::{for_all, Device, Stats};
use tend_client::Client;
use tend_shared::jobs::{JobResult, JobState, JobsNextResponse};

#[derive(Parser)]
#[command(name = "tend-bench", about = "Load generator for the Tend collector")]
struct Cli {
    /// The collector binary (default: beside this one).
    #[arg(long, global = true)]
    collector_bin: Option<std::path::PathBuf>,
    /// Simulate agents from before heartbeats: every check-in carries all 12 results.
    #[arg(long, global = true)]
    full_health: bool,
    /// Connection pools shared by the simulated devices (HTTP/2 multiplexed).
    #[arg(long, global = true, default_value_t = 256)]
    connections: usize,
    #[command(flatten)]
    backend: fleet::Backend,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sustained check-ins at a target rate.
    Steady {
        #[arg(long, default_value_t = 10_000)]
        devices: u32,
        /// Check-ins per second to offer.
        #[arg(long, default_value_t = 5_000)]
        rate: u64,
        #[arg(long, default_value_t = 30)]
        duration: u64,
        /// Full inventory on every k-th check-in of a device.
        #[arg(long, default_value_t = 20)]
        k: u64,
        /// Share of devices with a failing check that file a ticket.
        #[arg(long, default_value_t = 0.02)]
        fail_share: f64,
        /// Do not hold long-polls open.
        #[arg(long)]
        no_longpolls: bool,
    },
    /// A large enrolled fleet: storage per device, restart time, device-list latency.
    Enrolled {
        #[arg(long, default_value_t = 100_000)]
        devices: u32,
    },
    /// All agents return at once after an outage; with `--same-problem`, all of them
    /// report the same failing check and file its ticket at once instead.
    Storm {
        #[arg(long, default_value_t = 10_000)]
        devices: u32,
        #[arg(long)]
        same_problem: bool,
    },
    /// A large fleet with tickets: device and ticket pages, the SLA report.
    Lists {
        #[arg(long, default_value_t = 100_000)]
        devices: u32,
        #[arg(long, default_value_t = 1)]
        tickets_per_device: u32,
        /// Keep the collector running after the reads (its URL, admin token and data
        /// dir on stderr) until Ctrl-C: for measuring the console in a browser.
        #[arg(long)]
        hold: bool,
    },
    /// Agents hold long-polls while diagnostics are queued.
    Longpoll {
        #[arg(long, default_value_t = 1_000)]
        devices: u32,
        #[arg(long, default_value_t = 500)]
        diagnostics: u32,
    },
}

struct Env {
    /// The first collector (the admin's); `others` share its database.
    collector: proc::Collector,
    others: Vec<proc::Collector>,
    pg: Option<fleet::Pg>,
    pools: Vec<reqwest::Client>,
    _tmp: tempfile::TempDir,
}

impl Env {
    fn start(cli: &Cli) -> anyhow::Result<Env> {
        tend_client::install_crypto_provider();
        sim::FULL_HEALTH.store(cli.full_health, Ordering::Relaxed);
        let bin = cli.collector_bin.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .expect("exe")
                .with_file_name("tend-collector")
        });
        let tmp = tempfile::tempdir()?;
        let (mut all, pg) = fleet::start(&bin, &cli.backend, tmp.path())?;
        let collector = all.remove(0);
        let pools = sim::pools(&collector.ca_pem, cli.connections)?;
        Ok(Env {
            collector,
            others: all,
            pg,
            pools,
            _tmp: tmp,
        })
    }

    /// The URL device `i` talks to (devices spread over the collectors).
    fn url_for(&self, i: usize) -> String {
        let n = 1 + self.others.len();
        match i % n {
            0 => self.collector.url.clone(),
            k => self.others[k - 1].url.clone(),
        }
    }

    /// CPU seconds of every collector, and of PostgreSQL.
    fn cpu_s(&self) -> (f64, f64) {
        let c = self.collector.cpu_s() + self.others.iter().map(|o| o.cpu_s()).sum::<f64>();
        (c, self.pg.as_ref().map_or(0.0, fleet::Pg::cpu_s))
    }

    /// Store flushes so far, summed over the collectors (`tend_store_flushes_total`).
    async fn flushes(&self) -> u64 {
        let mut n = 0;
        let urls = std::iter::once(&self.collector.url).chain(self.others.iter().map(|o| &o.url));
        for url in urls {
            let Ok(r) = self.pools[0].get(format!("{url}/metrics")).send().await else {
                continue;
            };
            let text = r.text().await.unwrap_or_default();
            n += text
                .lines()
                .find_map(|l| l.strip_prefix("tend_store_flushes_total "))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
        n
    }

    fn stop(self) {
        for o in self.others {
            o.stop();
        }
        self.collector.stop();
    }

    fn admin(&self) -> Client {
        Client::with_http(
            self.pools[0].clone(),
            &self.collector.url,
            Some(self.collector.admin_token.clone()),
        )
    }

    /// Enrolls `n` devices with 128 requests in flight.
    async fn enroll(
        &self,
        n: u32,
        fail_share: f64,
    ) -> anyhow::Result<(Vec<Device>, serde_json::Value)> {
        let stats = Arc::new(Stats::default());
        let start = Instant::now();
        let sem = Arc::new(tokio::sync::Semaphore::new(128));
        let mut tasks = Vec::new();
        for i in 0..n {
            let pool = self.pools[i as usize % self.pools.len()].clone();
            let (url, secret, stats, sem) = (
                self.url_for(i as usize),
                self.collector.enroll_secret.clone(),
                stats.clone(),
                sem.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let _p = sem.acquire_owned().await.expect("semaphore");
                let t = Instant::now();
                match sim::enroll(&pool, &url, &secret, i).await {
                    Ok(r) => {
                        stats.ok(t);
                        Some(Device {
                            n: i,
                            id: r.device_id,
                            client: Client::with_http(pool, &url, Some(r.device_token)),
                            failing: (i as f64) < n as f64 * fail_share,
                            checkins: Arc::new(AtomicU64::new(0)),
                            inventory_hash: Arc::default(),
                            health_acked: Arc::default(),
                        })
                    }
                    Err(e) => {
                        stats.err(e);
                        None
                    }
                }
            }));
        }
        let mut devices = Vec::new();
        for t in tasks {
            if let Some(d) = t.await? {
                devices.push(d);
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let mut s = stats.summary();
        s["per_second"] = serde_json::json!(devices.len() as f64 / secs);
        s["seconds"] = serde_json::json!(secs);
        Ok((devices, s))
    }
}

/// Progress on stderr with the time since start.
fn phase(what: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let t = START.get_or_init(Instant::now);
    eprintln!("[{:>7.2}s] {what}", t.elapsed().as_secs_f64());
}

fn spawn_longpolls(devices: &[Device], stop: Arc<AtomicU64>, answer_jobs: bool) {
    for d in devices {
        let (client, stop) = (d.client.clone(), stop.clone());
        tokio::spawn(async move {
            while stop.load(Ordering::Relaxed) == 0 {
                match client
                    .get_with_timeout::<JobsNextResponse>(
                        "/api/v1/jobs/next?wait=30&policy_version=1",
                        Duration::from_secs(45),
                    )
                    .await
                {
                    Ok(r) if answer_jobs => {
                        for j in r.jobs {
                            let res = JobResult {
                                output: serde_json::json!({"simulated": true}),
                                ..JobResult::new(JobState::Succeeded)
                            };
                            let _ = client
                                .post::<_, serde_json::Value>(
                                    &format!("/api/v1/jobs/{}/result", j.id),
                                    &res,
                                )
                                .await;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
        });
    }
}

fn collector_figures(env: &Env, devices: usize, cpu0: (f64, f64), secs: f64) -> serde_json::Value {
    let bytes = match &env.pg {
        Some(pg) => pg.bytes(),
        None => env.collector.store_bytes(),
    };
    let (c, p) = env.cpu_s();
    serde_json::json!({
        "engine": if env.pg.is_some() { "postgres" } else { "sled" },
        "collectors": 1 + env.others.len(),
        "rss_mib": env.collector.rss_kib() as f64 / 1024.0,
        "cpu_percent_of_one_core": (c - cpu0.0) / secs * 100.0,
        "postgres_cpu_percent_of_one_core": (p - cpu0.1) / secs * 100.0,
        "store_bytes": bytes,
        "store_bytes_per_device": if devices > 0 { bytes / devices as u64 } else { 0 },
    })
}

async fn steady(
    cli: &Cli,
    devices: u32,
    rate: u64,
    duration: u64,
    k: u64,
    fail_share: f64,
    longpolls: bool,
) -> anyhow::Result<serde_json::Value> {
    let env = Env::start(cli)?;
    phase("enrolling");
    let (devs, enroll) = env.enroll(devices, fail_share).await?;
    phase("enrolled; first contact");
    let stop = Arc::new(AtomicU64::new(0));
    if longpolls {
        spawn_longpolls(&devs, stop.clone(), false);
    }
    // first contact: every device sends its full inventory once
    let first = Arc::new(Stats::default());
    let f2 = first.clone();
    let first_took = for_all(&devs, 512, move |d| {
        let s = f2.clone();
        async move {
            sim::checkin(&d, k, &s).await;
        }
    })
    .await;

    phase("first contact done; tickets");
    // failing devices file their ticket; time from the failing check-in to visible
    let admin = env.admin();
    let mut visible_ms = Vec::new();
    for d in devs.iter().filter(|d| d.failing).take(20) {
        let t0 = Instant::now();
        let s = Stats::default();
        sim::checkin(d, k, &s).await;
        let req = serde_json::json!({"request_id": format!("bench-{}", d.n), "problem_key": "disk.free:/", "severity": "high", "summary": "Disk / is 98% full"});
        let _ = d
            .client
            .post::<_, serde_json::Value>("/api/v1/tickets", &req)
            .await;
        loop {
            let v: Vec<serde_json::Value> = admin
                .get::<tend_shared::api::Page<serde_json::Value>>(&format!(
                    "/api/v1/tickets?device={}",
                    d.id
                ))
                .await
                .map(|p| p.items)
                .unwrap_or_default();
            if !v.is_empty() || t0.elapsed() > Duration::from_secs(10) {
                break;
            }
        }
        visible_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    visible_ms.sort_by(|a, b| a.total_cmp(b));

    phase("sustained phase");
    // the sustained phase
    let stats = Arc::new(Stats::default());
    let sem = Arc::new(tokio::sync::Semaphore::new(4096));
    let flushes0 = env.flushes().await;
    let cpu0 = env.cpu_s();
    let start = Instant::now();
    let end = start + Duration::from_secs(duration);
    let mut sent = 0u64;
    let mut i = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while Instant::now() < end {
        tick.tick().await;
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent < due {
            let d = devs[i % devs.len()].clone();
            i += 1;
            sent += 1;
            let (s, p) = (
                stats.clone(),
                sem.clone().acquire_owned().await.expect("semaphore"),
            );
            tokio::spawn(async move {
                sim::checkin(&d, k, &s).await;
                drop(p);
            });
        }
    }
    let _ = sem.acquire_many(4096).await;
    let secs = start.elapsed().as_secs_f64();
    stop.store(1, Ordering::Relaxed);
    let summary = stats.summary();
    let done = summary["count"].as_u64().unwrap_or(0);
    let (c1, p1) = env.cpu_s();
    let flushes = env.flushes().await - flushes0;
    let per = |cpu: f64| {
        if done > 0 {
            cpu * 1000.0 / done as f64
        } else {
            0.0
        }
    };
    let out = serde_json::json!({
        "scenario": "steady", "devices": devs.len(), "offered_per_second": rate, "duration_s": secs,
        "longpolls_open": if longpolls { devs.len() } else { 0 }, "connections": cli.connections,
        "enroll": enroll,
        "first_contact": {"seconds": first_took.as_secs_f64(), "latency": first.summary()},
        "checkins": {"completed": done, "per_second": done as f64 / secs, "latency": summary,
            "cpu_ms_per_checkin": {"collectors": per(c1 - cpu0.0), "postgres": per(p1 - cpu0.1)},
            "store_flushes": flushes, "checkins_per_flush": if flushes > 0 { done as f64 / flushes as f64 } else { 0.0 }},
        "ticket_visible_ms": {"samples": visible_ms.len(), "p50": visible_ms.get(visible_ms.len() / 2), "max": visible_ms.last()},
        "collector": collector_figures(&env, devs.len(), cpu0, secs),
    });
    env.stop();
    Ok(out)
}

async fn lists(
    cli: &Cli,
    devices: u32,
    per_device: u32,
    hold: bool,
) -> anyhow::Result<serde_json::Value> {
    let env = Env::start(cli)?;
    phase("enrolling");
    let (devs, enroll) = env.enroll(devices, 0.1).await?;
    phase("first contact");
    let first = Arc::new(Stats::default());
    let f2 = first.clone();
    // health only (the lists do not read inventories): count the inventory as sent
    for d in &devs {
        d.checkins.store(1, Ordering::Relaxed);
    }
    let took = for_all(&devs, 512, move |d| {
        let s = f2.clone();
        async move {
            sim::checkin(&d, 1_000_000, &s).await;
        }
    })
    .await;
    phase("tickets and reads");
    let reads = fleet::lists(env.admin(), &devs, per_device).await?;
    let out = serde_json::json!({
        "scenario": "lists", "devices": devs.len(), "enroll": enroll,
        "first_contact": {"seconds": took.as_secs_f64(), "latency": first.summary()},
        "lists": reads,
        "collector": collector_figures(&env, devs.len(), env.cpu_s(), 1.0),
    });
    if hold {
        println!("{}", serde_json::to_string_pretty(&out)?);
        eprintln!(
            "holding: url={} admin_token={} data={} (Ctrl-C stops)",
            env.collector.url,
            env.collector.admin_token,
            env.collector.data.display()
        );
        tokio::signal::ctrl_c().await?;
    }
    env.stop();
    Ok(out)
}

async fn enrolled(cli: &Cli, devices: u32) -> anyhow::Result<serde_json::Value> {
    let mut env = Env::start(cli)?;
    let (devs, enroll) = env.enroll(devices, 0.0).await?;
    let first = Arc::new(Stats::default());
    let f2 = first.clone();
    let took = for_all(&devs, 512, move |d| {
        let s = f2.clone();
        async move {
            sim::checkin(&d, 1_000_000, &s).await;
        }
    })
    .await;
    let store_before = env.collector.store_bytes();
    // restart: time until it serves again with this store
    let startup_ms = env.collector.restart()?.as_secs_f64() * 1000.0;
    let admin = env.admin();
    let mut lists = serde_json::Map::new();
    for q in [
        "",
        "?platform=linux",
        "?health=failing",
        "?last_seen_older_than_s=3600",
        "?health=healthy&limit=100",
    ] {
        let s = Stats::default();
        let mut len = 0;
        for _ in 0..5 {
            let t = Instant::now();
            match admin
                .get_with_timeout::<tend_shared::api::Page<serde_json::Value>>(
                    &format!("/api/v1/devices{q}"),
                    Duration::from_secs(120),
                )
                .await
            {
                Ok(v) => {
                    s.ok(t);
                    len = v.items.len();
                }
                Err(e) => s.err(e),
            }
        }
        let mut sum = s.summary();
        sum["rows"] = serde_json::json!(len);
        lists.insert(format!("GET /api/v1/devices{q}"), sum);
    }
    let out = serde_json::json!({
        "scenario": "enrolled", "devices": devs.len(), "enroll": enroll,
        "first_contact": {"seconds": took.as_secs_f64(), "latency": first.summary()},
        "store_bytes": store_before, "store_bytes_per_device": store_before / devs.len().max(1) as u64,
        "restart_to_listening_ms": startup_ms, "rss_mib_after_restart_and_lists": env.collector.rss_kib() as f64 / 1024.0,
        "device_list_latency": lists,
    });
    env.stop();
    Ok(out)
}

async fn storm(cli: &Cli, devices: u32) -> anyhow::Result<serde_json::Value> {
    let mut env = Env::start(cli)?;
    let (devs, enroll) = env.enroll(devices, 0.0).await?;
    let s0 = Arc::new(Stats::default());
    let s1 = s0.clone();
    for_all(&devs, 512, move |d| {
        let s = s1.clone();
        async move {
            sim::checkin(&d, 1_000_000, &s).await;
        }
    })
    .await;
    // outage: the collector stops and comes back on the same port
    env.collector.restart()?;
    let cpu0 = env.cpu_s();
    let stats = Arc::new(Stats::default());
    let s2 = stats.clone();
    // everyone at once: as many in flight as there are devices
    let took = for_all(&devs, devs.len(), move |d| {
        let s = s2.clone();
        async move {
            sim::checkin(&d, 1_000_000, &s).await;
        }
    })
    .await;
    let secs = took.as_secs_f64();
    let out = serde_json::json!({
        "scenario": "storm", "devices": devs.len(), "enroll": enroll,
        "all_checked_in_s": secs, "per_second": devs.len() as f64 / secs, "latency": stats.summary(),
        "collector": collector_figures(&env, devs.len(), cpu0, secs),
    });
    env.stop();
    Ok(out)
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let r = match &cli.cmd {
        Cmd::Steady {
            devices,
            rate,
            duration,
            k,
            fail_share,
            no_longpolls,
        } => {
            steady(
                &cli,
                *devices,
                *rate,
                *duration,
                *k,
                *fail_share,
                !no_longpolls,
            )
            .await
        }
        Cmd::Enrolled { devices } => enrolled(&cli, *devices).await,
        Cmd::Storm {
            devices,
            same_problem: true,
        } => outage::run(&cli, *devices).await,
        Cmd::Storm { devices, .. } => storm(&cli, *devices).await,
        Cmd::Lists {
            devices,
            tickets_per_device,
            hold,
        } => lists(&cli, *devices, *tickets_per_device, *hold).await,
        Cmd::Longpoll {
            devices,
            diagnostics,
        } => longpoll::run(&cli, *devices, *diagnostics).await,
    };
    match r {
        Ok(v) => println!("{}", serde_json::to_string_pretty(&v).expect("json")),
        Err(e) => {
            eprintln!("tend-bench: {e:#}");
            std::process::exit(1);
        }
    }
}
