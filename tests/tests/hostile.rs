//! Issue 12's hostile-input run: thousands of generated malformed requests against the
//! real `tend-collector serve` over HTTPS — truncated and deeply nested JSON, wrong
//! types, huge and negative numbers and timestamps, 100k-element arrays, control
//! characters and 1 MB strings in every string field, `../` and `%00` in path
//! parameters, wrong methods, missing and wrong tokens, device tokens on analyst
//! routes and analyst tokens on device routes. Every answer must be a 4xx with the
//! `{"error": {"code", "message"}}` body (or a success), the collector must stay
//! healthy with bounded memory, and a real agent must still check in afterwards.

use std::sync::Arc;
use std::time::Duration;

use tend_e2e::{wait_for, AgentProc, CollectorProc};

/// Every route: method, path with `{}` for its parameters, and who it is for.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/api/v1/enroll"),
    ("POST", "/api/v1/checkin"),
    ("GET", "/api/v1/jobs/next"),
    ("GET", "/api/v1/devices"),
    ("GET", "/api/v1/devices/{}"),
    ("GET", "/api/v1/devices/{}/events"),
    ("POST", "/api/v1/devices/{}/diagnostics"),
    ("POST", "/api/v1/devices/{}/scripts"),
    ("GET", "/api/v1/devices/{}/jobs"),
    ("POST", "/api/v1/devices/{}/reenroll/approve"),
    ("POST", "/api/v1/devices/{}/decommission"),
    ("GET", "/api/v1/assets"),
    ("POST", "/api/v1/assets"),
    ("GET", "/api/v1/assets/{}"),
    ("PATCH", "/api/v1/assets/{}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/policy"),
    ("PUT", "/api/v1/policy"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{}"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/users/{}/disable"),
    ("GET", "/api/v1/enroll-tokens"),
    ("POST", "/api/v1/enroll-tokens"),
    ("DELETE", "/api/v1/enroll-tokens/{}"),
    ("GET", "/api/v1/tickets"),
    ("POST", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets/{}"),
    ("PATCH", "/api/v1/tickets/{}"),
    ("POST", "/api/v1/tickets/{}/comments"),
    ("GET", "/api/v1/problems"),
    ("GET", "/api/v1/reports/sla"),
    ("GET", "/api/v1/settings/tickets"),
    ("PUT", "/api/v1/settings/tickets"),
    ("GET", "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks"),
    ("DELETE", "/api/v1/webhooks/{}"),
    ("GET", "/api/v1/scripts"),
    ("POST", "/api/v1/scripts"),
    ("GET", "/api/v1/scripts/{}"),
    ("POST", "/api/v1/scripts/{}/approve"),
    ("POST", "/api/v1/scripts/{}/revoke"),
    ("GET", "/api/v1/scripts/{}/signed"),
    ("GET", "/api/v1/jobs/{}"),
    ("POST", "/api/v1/jobs/{}/result"),
    ("POST", "/api/v1/bulk"),
    ("GET", "/api/v1/bulk/{}"),
    ("GET", "/api/v1/releases"),
    ("GET", "/api/v1/releases/latest"),
    ("GET", "/api/v1/releases/{}"),
    ("POST", "/api/v1/releases/{}/rollout"),
    ("POST", "/api/v1/releases/{}/approve"),
    ("PUT", "/api/v1/releases/{}/{}"),
    ("GET", "/api/v1/releases/{}/{}/artifact"),
];

/// Field names of every request type, to put bad values in.
const FIELDS: &[&str] = &[
    "enroll_secret",
    "identity",
    "hardware_uuid",
    "hostname",
    "platform",
    "agent_version",
    "inventory_hash",
    "inventory",
    "health",
    "events",
    "seq",
    "at_ms",
    "kind",
    "data",
    "policy_version",
    "observed_at_ms",
    "request_id",
    "problem_key",
    "summary",
    "description",
    "severity",
    "status",
    "assignee",
    "priority",
    "comment",
    "text",
    "url",
    "secret",
    "name",
    "role",
    "script_id",
    "args",
    "interpreter",
    "body",
    "timeout_s",
    "run_as",
    "platforms",
    "percent",
    "paused",
    "expires_in_s",
    "uses",
    "label",
    "user_id",
    "serial",
    "owner",
    "state",
    "action",
    "checkin_interval_s",
    "offline_threshold_s",
    "checks",
    "sla",
    "device_key",
    "proof",
    "exit_code",
    "output",
    "stdout",
];

/// A small deterministic generator (the run is the same every time).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.next() as usize % v.len()]
    }
}

fn bad_values(big: &str) -> Vec<serde_json::Value> {
    use serde_json::json;
    vec![
        json!(null),
        json!(-1),
        json!(-9_223_372_036_854_775_808i64),
        json!(18_446_744_073_709_551_615u64),
        json!(1e308),
        json!(true),
        json!([]),
        json!({}),
        json!("\u{0}\u{1b}[31m\n\r\t"),
        json!("../../../etc/passwd"),
        json!("%00"),
        json!(big),
        json!(vec![0u8; 100_000]),
        json!([{"seq": -1, "at_ms": "x"}]),
        json!({"nested": {"deeper": [1, "two", null]}}),
    ]
}

fn bodies(rng: &mut Lcg, big: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"{\"name\": \"x\"".to_vec(),
        b"not json at all".to_vec(),
        b"\x00\xff\xfe".to_vec(),
        "[".repeat(100_000).into_bytes(),
        format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)).into_bytes(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"12345678901234567890123456789".to_vec(),
    ];
    // every field with every bad value, a few fields at a time
    let values = bad_values(big);
    for v in &values {
        let mut m = serde_json::Map::new();
        for _ in 0..6 {
            m.insert((*rng.pick(FIELDS)).to_string(), v.clone());
        }
        out.push(serde_json::to_vec(&m).unwrap());
    }
    // random garbage
    for _ in 0..3 {
        let n = (rng.next() % 2000) as usize;
        out.push((0..n).map(|_| rng.next() as u8).collect());
    }
    out
}

fn params(rng: &mut Lcg) -> Vec<String> {
    let mut v = vec![
        "..%2F..%2Fetc".to_string(),
        "%00".into(),
        "x%00y".into(),
        "%2e%2e".into(),
        "a".repeat(5_000),
        "%FF%FE".into(),
        "T-1".into(),
        "%E2%80%AE".into(),
    ];
    v.push(format!("{}", rng.next()));
    v
}

fn fill(path: &str, p: &str) -> String {
    path.replace("{}", p)
}

/// One request to send: method, path, token, body.
type Shot = (String, String, Option<String>, Option<Vec<u8>>);

struct Tally {
    sent: usize,
    bad: Vec<String>,
    /// Answers by status (0: the connection was closed on the request).
    statuses: std::collections::BTreeMap<u16, usize>,
}

async fn fire(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
    tally: &Arc<std::sync::Mutex<Tally>>,
) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = client.request(m, format!("{base}{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.header("content-type", "application/json").body(b);
    }
    let mut code = 0;
    let outcome = match rb.send().await {
        Ok(r) => {
            let status = r.status();
            code = status.as_u16();
            let bytes = r.bytes().await.unwrap_or_default();
            if status.is_server_error() {
                Some(format!("{method} {path}: {status}"))
            } else if status.is_client_error() {
                let v: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
                let ok = v.as_ref().is_some_and(|v| {
                    v["error"]["code"].is_string() && v["error"]["message"].is_string()
                });
                (!ok).then(|| {
                    format!(
                        "{method} {path}: {status} without the error body: {:?}",
                        String::from_utf8_lossy(&bytes)
                            .chars()
                            .take(200)
                            .collect::<String>()
                    )
                })
            } else {
                None
            }
        }
        // a connection the server closed on garbage is fine; a hang is not
        Err(e) if e.is_timeout() => Some(format!("{method} {path}: timed out")),
        Err(_) => None,
    };
    let mut t = tally.lock().unwrap();
    t.sent += 1;
    *t.statuses.entry(code).or_default() += 1;
    if let Some(b) = outcome {
        t.bad.push(b);
    }
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_malformed_requests_never_break_the_collector() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = CollectorProc::start(&tmp.path().join("collector"), 0);
    let admin = collector.admin_token.clone().unwrap();
    let ca = collector.ca_pem();
    let secret = std::fs::read_to_string(tmp.path().join("collector/enroll.secret")).unwrap();
    let api = collector.client(&admin);
    let dev: serde_json::Value = api
        .post(
            "/api/v1/enroll",
            &serde_json::json!({"enroll_secret": secret.trim(), "agent_version": "1",
                "identity": {"hardware_uuid": "HW-HOSTILE", "hostname": "h", "platform": "linux"}}),
        )
        .await
        .unwrap();
    let device_token = dev["device_token"].as_str().unwrap().to_string();
    let rss_before = rss_kb(collector.child.id());

    let client = tend_client::pinned_client(&ca, Duration::from_secs(30)).unwrap();
    let tally = Arc::new(std::sync::Mutex::new(Tally {
        sent: 0,
        bad: Vec::new(),
        statuses: Default::default(),
    }));
    let big = "x".repeat(1_000_000);
    let mut rng = Lcg(0x7e4d);
    let tokens: [Option<&str>; 4] = [
        Some(&admin),
        Some(&device_token),
        None,
        Some("tak_0000000000000000000000000000000000000000000000000000000000000000"),
    ];
    let mut requests: Vec<Shot> = Vec::new();
    for (method, path) in ROUTES {
        let bodies = bodies(&mut rng, &big);
        let ps = params(&mut rng);
        // bad bodies, with the token the route is for and the wrong one
        for (i, b) in bodies.iter().enumerate() {
            let p = fill(path, ps[i % ps.len()].as_str());
            let token = tokens[i % 2].map(str::to_string);
            requests.push((method.to_string(), p, token, Some(b.clone())));
        }
        // bad path parameters, every kind of token
        for p in &ps {
            for t in &tokens {
                requests.push((
                    method.to_string(),
                    fill(path, p),
                    t.map(str::to_string),
                    None,
                ));
            }
        }
        // wrong methods and made-up ones
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW"] {
            if m != *method {
                requests.push((m.to_string(), fill(path, "x"), Some(admin.clone()), None));
            }
        }
        // odd query strings
        for q in [
            "?limit=-1",
            "?limit=99999999999999999999",
            "?wait=100000&x=%00",
            "?status=%FF",
            "?from=9&to=1",
        ] {
            requests.push((
                method.to_string(),
                format!("{}{q}", fill(path, "x")),
                Some(admin.clone()),
                None,
            ));
        }
    }
    assert!(requests.len() >= 2_000, "only {} requests", requests.len());
    let base = collector.url.clone();
    let sem = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = Vec::new();
    for (m, p, t, b) in requests {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (client, base, tally) = (client.clone(), base.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            fire(&client, &base, &m, &p, t.as_deref(), b, &tally).await;
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let t = std::mem::replace(
        &mut *tally.lock().unwrap(),
        Tally {
            sent: 0,
            bad: Vec::new(),
            statuses: Default::default(),
        },
    );
    eprintln!(
        "{} malformed requests sent; answers by status: {:?}",
        t.sent, t.statuses
    );
    let dropped = t.statuses.get(&0).copied().unwrap_or(0);
    assert!(
        dropped * 20 < t.sent,
        "{dropped} connections closed without an answer"
    );
    assert!(
        t.bad.is_empty(),
        "{} bad answers:\n{}",
        t.bad.len(),
        t.bad
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    // still healthy, memory bounded
    let h: serde_json::Value = api.get("/healthz").await.unwrap();
    assert_eq!(h["status"], "ok");
    let rss_after = rss_kb(collector.child.id());
    eprintln!("collector RSS {rss_before} kB before, {rss_after} kB after");
    assert!(rss_after < 400 * 1024, "RSS grew to {rss_after} kB");

    // and a real agent still enrolls and checks in
    let (state, id) = collector.enroll_agent(tmp.path(), "agent", "HW-AFTER-HOSTILE");
    let _agent = AgentProc::start(&state, Some("HW-AFTER-HOSTILE"));
    wait_for("the agent's check-in", Duration::from_secs(30), || async {
        let d: tend_shared::devices::DeviceDetail =
            api.get(&format!("/api/v1/devices/{id}")).await.ok()?;
        (d.device.last_seen_ms > 0).then_some(())
    })
    .await;
}
