//! Where the collectors under test keep their records, and the `lists` scenario.
//!
//! `--engine sled` (default) runs one collector on its embedded store; `--engine
//! postgres` starts a durable throwaway PostgreSQL cluster (fsync on, defaults
//! otherwise; or uses `--database URL`) and `--collectors N` collectors on it, the
//! first storing the shared identity and the others joining with its cluster key.
//! `--collector-cpus` / `--postgres-cpus` pin them (`taskset -c`), so on a small
//! machine the load generator (pinned by the caller) does not starve them.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::proc::{Collector, Launch};
use crate::sim::{Device, Stats};

/// The store options of a run.
#[derive(Debug, Clone, clap::Args)]
pub struct Backend {
    /// sled | postgres
    #[arg(long, global = true, default_value = "sled")]
    pub engine: String,
    /// Collectors sharing the database (postgres only).
    #[arg(long, global = true, default_value_t = 1)]
    pub collectors: usize,
    /// An existing PostgreSQL database instead of a throwaway cluster.
    #[arg(long, global = true)]
    pub database: Option<String>,
    /// CPUs for the collectors (`taskset -c`, e.g. `1`).
    #[arg(long, global = true)]
    pub collector_cpus: Option<String>,
    /// CPUs for PostgreSQL (a throwaway cluster only).
    #[arg(long, global = true)]
    pub postgres_cpus: Option<String>,
}

/// A throwaway PostgreSQL for the run.
pub struct Pg {
    pub cluster: Option<tend_pgtest::Cluster>,
    pub db: String,
}

impl Pg {
    /// CPU seconds of the whole server so far.
    pub fn cpu_s(&self) -> f64 {
        self.cluster
            .as_ref()
            .and_then(|c| c.pid())
            .map_or(0.0, crate::proc::tree_cpu_s)
    }

    /// Bytes of the run's database.
    pub fn bytes(&self) -> u64 {
        self.cluster
            .as_ref()
            .and_then(|c| {
                c.sql(&self.db, "SELECT pg_database_size(current_database())")
                    .ok()
            })
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// Starts the collectors (and PostgreSQL) a run asks for.
pub fn start(bin: &Path, b: &Backend, dir: &Path) -> anyhow::Result<(Vec<Collector>, Option<Pg>)> {
    let launch = |args: Vec<String>| Launch {
        args,
        cpus: b.collector_cpus.clone(),
    };
    match b.engine.as_str() {
        "sled" => {
            anyhow::ensure!(
                b.collectors == 1,
                "several collectors need --engine postgres"
            );
            Ok((
                vec![Collector::spawn(
                    bin,
                    &dir.join("c0"),
                    0,
                    &launch(Vec::new()),
                )?],
                None,
            ))
        }
        "postgres" => {
            let pg = match &b.database {
                Some(url) => Pg {
                    cluster: None,
                    db: url.clone(),
                },
                None => {
                    let cluster = tend_pgtest::Cluster::start(&tend_pgtest::Options {
                        durable: true,
                        cpus: b.postgres_cpus.clone(),
                        settings: vec![("max_connections".into(), "300".into())],
                        ..Default::default()
                    })
                    .map_err(|e| anyhow::anyhow!(e))?;
                    cluster
                        .sql("postgres", "CREATE DATABASE bench")
                        .map_err(|e| anyhow::anyhow!(e))?;
                    Pg {
                        db: "bench".into(),
                        cluster: Some(cluster),
                    }
                }
            };
            let url = match &pg.cluster {
                Some(c) => c.url(&pg.db),
                None => pg.db.clone(),
            };
            let first = Collector::spawn(
                bin,
                &dir.join("c0"),
                0,
                &launch(vec!["--database".into(), url.clone()]),
            )?;
            let key = dir.join("c0/cluster.key");
            let mut all = vec![first];
            for i in 1..b.collectors.max(1) {
                let mut c = Collector::spawn(
                    bin,
                    &dir.join(format!("c{i}")),
                    0,
                    &launch(vec![
                        "--database".into(),
                        url.clone(),
                        "--cluster-key".into(),
                        key.display().to_string(),
                    ]),
                )?;
                c.admin_token = all[0].admin_token.clone();
                all.push(c);
            }
            Ok((all, Some(pg)))
        }
        other => anyhow::bail!("unknown engine {other:?} (sled|postgres)"),
    }
}

async fn timed<T: serde::de::DeserializeOwned>(
    admin: &tend_client::Client,
    path: &str,
    n: usize,
) -> (serde_json::Value, Option<T>) {
    let s = Stats::default();
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        match admin
            .get_with_timeout::<T>(path, Duration::from_secs(120))
            .await
        {
            Ok(v) => {
                s.ok(t);
                last = Some(v);
            }
            Err(e) => s.err(e),
        }
    }
    (s.summary(), last)
}

/// `lists`: a large fleet with a ticket per device, then the analyst's reads: device
/// pages (all, by health, platform, silence, search, the second page), ticket pages
/// (newest, open, by priority, by due time), the SLA report, `/healthz`, `/metrics`.
pub async fn lists(
    admin: tend_client::Client,
    devs: &[Device],
    tickets_per_device: u32,
) -> anyhow::Result<serde_json::Value> {
    // every device files tickets of its own (problem keys spread over 50 kinds)
    let stats = Arc::new(Stats::default());
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = Vec::new();
    for d in devs {
        for t in 0..tickets_per_device {
            let p = sem.clone().acquire_owned().await?;
            let (d, stats) = (d.clone(), stats.clone());
            tasks.push(tokio::spawn(async move {
                let req = serde_json::json!({"request_id": format!("lists-{}-{t}", d.n), "problem_key": format!("bench.problem:{}", (d.n + t) % 50), "severity": if d.n % 4 == 0 { "high" } else { "medium" }, "summary": "simulated problem"});
                let t0 = Instant::now();
                match d.client.post::<_, serde_json::Value>("/api/v1/tickets", &req).await {
                    Ok(_) => stats.ok(t0),
                    Err(e) => stats.err(e),
                }
                drop(p);
            }));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let filing =
        serde_json::json!({"seconds": start.elapsed().as_secs_f64(), "latency": stats.summary()});
    type P = tend_shared::api::Page<serde_json::Value>;
    let mut out = serde_json::Map::new();
    for q in [
        "/api/v1/devices?limit=100",
        "/api/v1/devices?limit=100&health=failing",
        "/api/v1/devices?limit=100&platform=linux",
        "/api/v1/devices?limit=100&last_seen_older_than_s=0",
        "/api/v1/devices?limit=100&q=sim-0012",
        "/api/v1/tickets?limit=100",
        "/api/v1/tickets?limit=100&status=open",
        "/api/v1/tickets?limit=100&sort=priority&open=true",
        "/api/v1/tickets?limit=100&sort=due",
        "/api/v1/tickets?limit=100&problem_key=bench.problem:7",
        "/api/v1/audit?limit=100",
    ] {
        let (s, page) = timed::<P>(&admin, q, 20).await;
        let mut s = s;
        s["rows"] = serde_json::json!(page.as_ref().map_or(0, |p| p.items.len()));
        out.insert(q.to_string(), s);
        // the second page, through the cursor
        if let Some(next) = page.and_then(|p| p.next) {
            let second = format!("{q}&cursor={next}");
            let (s, _) = timed::<P>(&admin, &second, 20).await;
            out.insert(format!("{q} (page 2)"), s);
        }
    }
    let (sla, _) = timed::<serde_json::Value>(&admin, "/api/v1/reports/sla", 5).await;
    out.insert("/api/v1/reports/sla".into(), sla);
    let (h, _) = timed::<serde_json::Value>(&admin, "/healthz", 20).await;
    out.insert("/healthz".into(), h);
    // what the web console's pages request (a page waits for its slowest request)
    let device = devs.first().map(|d| d.id.clone()).unwrap_or_default();
    let mut console = serde_json::Map::new();
    for q in [
        "/api/v1/reports/overview".to_string(),
        "/api/v1/reports/overview?days=90".into(),
        "/api/v1/devices".into(),
        "/api/v1/devices?q=sim-0012".into(),
        format!("/api/v1/devices/{device}"),
        format!("/api/v1/devices/{device}/jobs?limit=20"),
        "/api/v1/diagnostics".into(),
        "/api/v1/scripts".into(),
        "/api/v1/tickets?open=true".into(),
        "/api/v1/tickets?open=true&assignee=none".into(),
        "/api/v1/tickets?open=true&sort=due".into(),
        "/api/v1/tickets/T-1".into(),
        "/api/v1/problems?limit=200".into(),
        "/api/v1/releases".into(),
        "/api/v1/policy".into(),
        "/api/v1/audit".into(),
        "/api/v1/assets".into(),
    ] {
        let (s, _) = timed::<serde_json::Value>(&admin, &q, 10).await;
        console.insert(q, s);
    }
    out.insert("console".into(), console.into());
    Ok(serde_json::json!({"tickets_filed": filing, "reads": out}))
}
