//! The `longpoll` scenario: agents hold long-polls open while an analyst queues
//! diagnostics; the time from queueing to the result.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sim::Stats;
use crate::{collector_figures, spawn_longpolls, Cli, Env};

pub async fn run(cli: &Cli, devices: u32, diagnostics: u32) -> anyhow::Result<serde_json::Value> {
    let env = Env::start(cli)?;
    let (devs, enroll) = env.enroll(devices, 0.0).await?;
    let stop = Arc::new(AtomicU64::new(0));
    spawn_longpolls(&devs, stop.clone(), true);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let admin = env.admin();
    let stats = Arc::new(Stats::default());
    let cpu0 = env.cpu_s();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..diagnostics {
        let d = devs[(i as usize * 7919) % devs.len()].clone();
        let (admin, stats) = (admin.clone(), stats.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let j: Result<tend_shared::jobs::JobView, _> = admin
                .post(
                    &format!("/api/v1/devices/{}/diagnostics", d.id),
                    &serde_json::json!({"name": "interfaces"}),
                )
                .await;
            let Ok(j) = j else {
                return stats.err("queue failed");
            };
            match admin
                .get_with_timeout::<tend_shared::jobs::JobView>(
                    &format!("/api/v1/jobs/{}?wait=30", j.id),
                    Duration::from_secs(45),
                )
                .await
            {
                Ok(v) if v.state.is_final() => stats.ok(t),
                Ok(v) => stats.err(format!("still {:?}", v.state)),
                Err(e) => stats.err(e),
            }
        }));
        // spread the queueing over time, like analysts clicking
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(1, Ordering::Relaxed);
    let out = serde_json::json!({
        "scenario": "longpoll", "devices": devs.len(), "longpolls_open": devs.len(), "enroll": enroll,
        "queue_to_result": stats.summary(),
        "collector": collector_figures(&env, devs.len(), cpu0, secs),
    });
    env.stop();
    Ok(out)
}
