//! Console page-load times in a real headless Chromium against a running collector
//! (e.g. `tend-bench lists --devices 100000 --hold`): signs in as `admin` (setting
//! its password with the admin token first), then for each page measures, inside the
//! page, the time from navigation to the page's content being drawn: a full load of
//! the URL ("cold": HTML, modules, session, the page's API calls) and an in-app
//! navigation ("warm"). Prints a JSON summary.
//!
//! `TEND_SERVER=https://127.0.0.1:PORT TEND_TOKEN=tak_… TEND_CA=…/ca.pem \
//!  TEND_DEVICE=<id> cargo run --release -p tend-e2e --example console_timing`

use std::time::Duration;

use tend_e2e::browser::Browser;

const RUNS: usize = 7;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Resolves with `performance.now()` once `marker` is in the page.
fn until(marker: &str) -> String {
    format!(
        "return new Promise(res => {{ const tick = () => document.querySelector({marker:?}) ? res(performance.now()) : requestAnimationFrame(tick); tick(); }})"
    )
}

#[tokio::main]
async fn main() {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
    let (url, token, ca) = (env("TEND_SERVER"), env("TEND_TOKEN"), env("TEND_CA"));
    let device = env("TEND_DEVICE");
    tend_client::install_crypto_provider();
    let http = tend_client::pinned_client(
        &std::fs::read_to_string(&ca).expect("CA"),
        Duration::from_secs(30),
    )
    .unwrap();
    let password = "console timing password";
    tend_e2e::give_own_password(&http, &url, &token, "admin", password).await;

    let b = Browser::start(1280, 1000).await;
    b.go(&format!("{url}/")).await;
    b.fill("#signin-name", "admin").await;
    b.fill("#signin-password", password).await;
    b.click("#signin-submit").await;
    b.wait_text("#who-name", "admin").await;

    let pages: Vec<(String, &str)> = vec![
        ("#/overview".into(), "#chart-volume svg"),
        ("#/devices".into(), "main table"),
        ("#/devices?q=sim-0012".into(), "main table"),
        (format!("#/device/{device}"), "#diag-name option"),
        ("#/tickets?open=true".into(), "main table"),
        ("#/tickets?open=true&sort=due".into(), "main table"),
        ("#/ticket/T-1".into(), "#timeline"),
        ("#/problems".into(), "main h2"),
        ("#/scripts".into(), "#submit-script"),
        ("#/releases".into(), "main h2"),
        ("#/policy".into(), "#policy-json"),
        ("#/audit".into(), "main table"),
        ("#/assets".into(), "main table"),
    ];
    let mut out = serde_json::Map::new();
    for (hash, marker) in &pages {
        eprintln!("{hash}");
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        for _ in 0..RUNS {
            // a full load: navigation start → content drawn (from another document, so
            // it is never just a fragment change)
            b.go("about:blank").await;
            b.go(&format!("{url}/{hash}")).await;
            match b.client.execute(&until(marker), vec![]).await {
                Ok(v) => cold.push(v.as_f64().unwrap()),
                Err(e) => {
                    b.shot("timing-failed").await;
                    panic!("{hash}: {marker} never appeared: {e}");
                }
            }
            // in the app: hash change → content drawn
            b.go(&format!("{url}/#/audit?actor=nobody")).await;
            b.el("#audit-filter").await;
            let warm_ms = b
                .js(&format!(
                    "const t0 = performance.now(); document.getElementById('main').innerHTML = ''; location.hash = {hash:?}; {}",
                    until(marker).replace("res(performance.now())", "res(performance.now() - t0)")
                ))
                .await;
            warm.push(warm_ms.as_f64().unwrap());
        }
        out.insert(
            hash.clone(),
            serde_json::json!({
                "cold_ms_p50": median(cold.clone()),
                "cold_ms_max": cold.iter().cloned().fold(0.0, f64::max),
                "warm_ms_p50": median(warm.clone()),
                "warm_ms_max": warm.iter().cloned().fold(0.0, f64::max),
            }),
        );
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
    b.close().await;
}
