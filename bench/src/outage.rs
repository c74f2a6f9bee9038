//! `storm --same-problem`: a fleet-wide outage. Every device checks in once healthy,
//! then all of them at once report the same failing check and file its ticket, as
//! agents do when a shared service breaks. Measured: the time until every device has
//! its ticket, the filing rate of the first and the last thousand (filing must not
//! slow down as the problem grows), ticket latency, 503s (each retried, as the
//! agent's spool does), duplicates, and how many problems link the tickets.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tend_shared::api::Page;
use tend_shared::tickets::Ticket;

use crate::sim::for_all;
use crate::sim::{self, Stats};
use crate::{collector_figures, phase, Cli, Env};

/// The problem key every device reports.
const KEY: &str = "service.running:corp-vpn";

pub async fn run(cli: &Cli, devices: u32) -> anyhow::Result<serde_json::Value> {
    let env = Env::start(cli)?;
    let (devs, enroll) = env.enroll(devices, 0.0).await?;
    let warm = Arc::new(Stats::default());
    let w = warm.clone();
    for_all(&devs, 512, move |d| {
        let s = w.clone();
        async move {
            sim::checkin(&d, 1_000_000, &s).await;
        }
    })
    .await;
    phase("fleet healthy; the outage starts");
    let failing: Vec<_> = devs
        .iter()
        .cloned()
        .map(|mut d| {
            d.failing = true;
            d
        })
        .collect();
    let checkins = Arc::new(Stats::default());
    let tickets = Arc::new(Stats::default());
    let unavailable = Arc::new(AtomicU64::new(0));
    let done_at = Arc::new(Mutex::new(Vec::with_capacity(failing.len())));
    let cpu0 = env.cpu_s();
    let start = Instant::now();
    let (c2, t2, u2, d2) = (
        checkins.clone(),
        tickets.clone(),
        unavailable.clone(),
        done_at.clone(),
    );
    let took = for_all(&failing, failing.len(), move |d| {
        let (c, t, u, done) = (c2.clone(), t2.clone(), u2.clone(), d2.clone());
        async move {
            sim::checkin(&d, 1_000_000, &c).await;
            file_until_done(&d, &t, &u).await;
            done.lock()
                .expect("done")
                .push(start.elapsed().as_secs_f64());
        }
    })
    .await;
    let secs = took.as_secs_f64();
    phase("every device answered");
    let figures = collector_figures(&env, failing.len(), cpu0, secs);
    let mut done = done_at.lock().expect("done").clone();
    done.sort_by(f64::total_cmp);
    let (first, last) = thousand_rates(&done);
    let (filed, problems) = tally(&env).await?;
    let out = serde_json::json!({
        "scenario": "storm --same-problem", "devices": failing.len(), "enroll": enroll,
        "all_ticketed_s": done.last(), "answered_s": secs,
        "tickets_per_second_first_1000": first, "tickets_per_second_last_1000": last,
        "last_over_first": last / first.max(f64::MIN_POSITIVE),
        "checkin_latency": checkins.summary(), "ticket_latency": tickets.summary(),
        "answered_503": unavailable.load(Ordering::Relaxed),
        "tickets_of_the_key": filed, "duplicates": filed.saturating_sub(failing.len() as u64),
        "problems": problems,
        "collector": figures,
    });
    env.stop();
    Ok(out)
}

/// Files the device's ticket, again after each 503 (as the agent's spool does).
async fn file_until_done(d: &sim::Device, t: &Stats, u: &AtomicU64) {
    let req = serde_json::json!({"request_id": format!("outage-{}", d.n), "problem_key": KEY,
        "severity": "high", "summary": "corp-vpn is not running"});
    let mut delay = Duration::from_millis(200);
    loop {
        let t0 = Instant::now();
        match d
            .client
            .post::<_, serde_json::Value>("/api/v1/tickets", &req)
            .await
        {
            Ok(_) => return t.ok(t0),
            Err(e) if e.status() == Some(503) => {
                u.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return t.err(e),
        }
    }
}

/// Tickets per second over the first and the last thousand completions (or a tenth
/// of them on a smaller run).
fn thousand_rates(done: &[f64]) -> (f64, f64) {
    let n = done.len();
    let k = 1000.min(n / 10).max(1);
    if n < 2 * k {
        return (0.0, 0.0);
    }
    let first = k as f64 / (done[k - 1] - done[0]).max(1e-6);
    let last = k as f64 / (done[n - 1] - done[n - k]).max(1e-6);
    (first, last)
}

/// Tickets of the key (all pages) and the problems with their ticket counts.
async fn tally(env: &Env) -> anyhow::Result<(u64, serde_json::Value)> {
    let admin = env.admin();
    let mut filed = 0u64;
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/tickets?problem_key={KEY}&limit=1000");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: Page<Ticket> = admin.get(&path).await?;
        filed += page.items.len() as u64;
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    // read loosely: the previous build's problems listed ids instead of counting them
    let problems: Page<serde_json::Value> = admin.get("/api/v1/problems?limit=100").await?;
    let count = |p: &serde_json::Value, n: &str, ids: &str| {
        p[n].as_u64()
            .or_else(|| p[ids].as_array().map(|a| a.len() as u64))
    };
    let list: Vec<serde_json::Value> = problems
        .items
        .iter()
        .filter(|p| p["problem_key"] == KEY)
        .map(|p| {
            serde_json::json!({"id": p["id"], "tickets": count(p, "ticket_count", "ticket_ids"),
            "devices": count(p, "device_count", "device_ids")})
        })
        .collect();
    Ok((filed, serde_json::json!(list)))
}
