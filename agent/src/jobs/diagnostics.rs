//! The built-in, read-only diagnostics. Arguments are validated again here (the
//! collector already did) and nothing goes through a shell.

use std::time::{Duration, Instant};

use sysinfo::{Networks, ProcessRefreshKind, ProcessesToUpdate, System};
use tend_shared::diagnostics::{
    validate, Diagnostic, DnsAnswer, HttpAnswer, Interface, ProcessRow, TopProcesses,
};
use tend_shared::jobs::{JobResult, JobState};

use super::exec::{rejected, OUTPUT_CAP};
use crate::platform;

fn done(
    state: JobState,
    start: Instant,
    output: serde_json::Value,
    stdout: String,
    reason: Option<String>,
) -> JobResult {
    let mut stdout = stdout;
    let stdout_truncated = tend_shared::text::clip_in_place(&mut stdout, OUTPUT_CAP);
    JobResult {
        state,
        exit_code: None,
        duration_ms: start.elapsed().as_millis() as u64,
        stdout,
        stderr: String::new(),
        stdout_truncated,
        stderr_truncated: false,
        output,
        reason,
    }
}

fn ok(start: Instant, output: serde_json::Value) -> JobResult {
    done(JobState::Succeeded, start, output, String::new(), None)
}

fn fail(start: Instant, why: impl Into<String>) -> JobResult {
    done(
        JobState::Failed,
        start,
        serde_json::Value::Null,
        String::new(),
        Some(why.into()),
    )
}

/// How long `top-processes` measures CPU use.
const CPU_INTERVAL: Duration = Duration::from_millis(500);

/// The busiest processes (threads are not processes), CPU measured over an interval.
fn top_processes() -> TopProcesses {
    let mut sys = System::new();
    let kind = ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .without_tasks();
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    std::thread::sleep(CPU_INTERVAL);
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    let mut procs: Vec<ProcessRow> = sys
        .processes()
        .values()
        .filter(|p| p.thread_kind().is_none())
        .map(|p| ProcessRow {
            pid: p.pid().as_u32(),
            name: p.name().to_string_lossy().into_owned(),
            cpu_percent: p.cpu_usage(),
            memory_bytes: p.memory(),
        })
        .collect();
    let processes = procs.len() as u64;
    procs.sort_by(|a, b| b.cpu_percent.total_cmp(&a.cpu_percent));
    let by_cpu = procs.iter().take(15).cloned().collect();
    procs.sort_by_key(|p| std::cmp::Reverse(p.memory_bytes));
    procs.truncate(15);
    TopProcesses {
        by_cpu,
        by_memory: procs,
        processes,
        interval_ms: CPU_INTERVAL.as_millis() as u64,
    }
}

fn interfaces() -> Vec<Interface> {
    let nets = Networks::new_with_refreshed_list();
    let mut v: Vec<Interface> = nets
        .iter()
        .map(|(name, d)| Interface {
            name: name.clone(),
            mac: d.mac_address().to_string(),
            addresses: d
                .ip_networks()
                .iter()
                .map(|n| format!("{}/{}", n.addr, n.prefix))
                .collect(),
            rx_bytes: d.total_received(),
            tx_bytes: d.total_transmitted(),
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// A result carrying a typed output.
fn ok_with<T: serde::Serialize>(start: Instant, v: &T) -> JobResult {
    ok(start, serde_json::to_value(v).unwrap_or_default())
}

/// Why the `http` diagnostic does not connect to `ip`: link-local addresses are cloud
/// metadata services (169.254.169.254), and unspecified, multicast and reserved ones
/// serve nothing. Loopback and private addresses are allowed: a laptop's own service
/// or the office intranet is what an analyst checks.
fn refused(ip: std::net::IpAddr) -> Option<String> {
    use tend_shared::net::{classify, IpClass};
    match classify(ip) {
        c @ (IpClass::LinkLocal | IpClass::Unusable) => Some(format!(
            "{ip} is a {} address: the http diagnostic does not go there",
            c.as_str()
        )),
        _ => None,
    }
}

/// Resolves like the system does, then refuses what [`refused`] refuses.
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if let Some(why) = addrs.iter().find_map(|a| refused(a.ip())) {
                return Err(format!("{}: {why}", name.as_str()).into());
            }
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

fn http(url: &str) -> JobResult {
    let start = Instant::now();
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return rejected(format!("url: {e}")),
    };
    let literal = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(why) = literal.and_then(refused) {
        return rejected(why);
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(start, e.to_string()),
    };
    let res = rt.block_on(async {
        // a redirect is reported, never followed: it could point anywhere
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(std::sync::Arc::new(GuardedResolver))
            .build()?;
        let resp = client.get(parsed).send().await?;
        let header = |h: reqwest::header::HeaderName| {
            resp.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(|v| tend_shared::text::clip(v, 2048).to_string())
        };
        Ok::<_, reqwest::Error>((
            resp.status().as_u16(),
            resp.url().to_string(),
            header(reqwest::header::SERVER),
            header(reqwest::header::LOCATION).filter(|_| resp.status().is_redirection()),
        ))
    });
    match res {
        Ok((status, final_url, server, location)) => ok_with(
            start,
            &HttpAnswer {
                status,
                final_url,
                server,
                elapsed_ms: start.elapsed().as_millis() as u64,
                location,
            },
        ),
        Err(e) => fail(start, tend_client::error_chain(&e)),
    }
}

/// Runs a catalogue diagnostic (everything except `inventory-refresh` and
/// `health-now`, which the daemon handles). Blocking.
pub fn run(name: &str, args: &[String]) -> JobResult {
    let start = Instant::now();
    let diag = match validate(name, args) {
        Ok(d) => d,
        Err(why) => return rejected(why),
    };
    match diag {
        Diagnostic::Ping { host } => {
            let args = platform::ping_args(&host);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            match platform::run_command("ping", &argv, Duration::from_secs(15)) {
                Some(o) => {
                    let state = if o.code == Some(0) {
                        JobState::Succeeded
                    } else {
                        JobState::Failed
                    };
                    done(
                        state,
                        start,
                        serde_json::json!({"exit_code": o.code}),
                        o.stdout + &o.stderr,
                        None,
                    )
                }
                None => fail(start, "ping is not installed or did not finish"),
            }
        }
        Diagnostic::Dns { host } => {
            use std::net::ToSocketAddrs;
            match (host.as_str(), 0).to_socket_addrs() {
                Ok(addrs) => {
                    let mut v: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
                    v.sort();
                    v.dedup();
                    ok_with(
                        start,
                        &DnsAnswer {
                            host,
                            addresses: v,
                            elapsed_ms: start.elapsed().as_millis() as u64,
                        },
                    )
                }
                Err(e) => fail(start, format!("resolving {host}: {e}")),
            }
        }
        Diagnostic::Http { url } => http(&url),
        Diagnostic::DiskUsage { path } => {
            // judged by where the opened directory really is, and walked from there
            use super::walk::{disk_usage, WalkError};
            match disk_usage(&path, 200_000, tend_shared::diagnostics::valid_disk_path) {
                Ok(d) => ok_with(start, &d),
                Err(WalkError::Refused(why)) => rejected(why),
                Err(WalkError::Failed(why)) => fail(start, why),
            }
        }
        Diagnostic::TopProcesses => ok_with(start, &top_processes()),
        Diagnostic::Interfaces => ok_with(start, &interfaces()),
        Diagnostic::Routes => match platform::routes() {
            Ok(v) => ok(start, v),
            Err(e) => fail(start, e),
        },
        Diagnostic::ListeningPorts => match platform::listening_ports() {
            Ok(v) => ok(start, v),
            Err(e) => fail(start, e),
        },
        Diagnostic::LogTail { source, lines } => match platform::log_tail(source, lines) {
            Ok(text) => done(
                JobState::Succeeded,
                start,
                serde_json::json!({"lines": text.lines().count()}),
                text,
                None,
            ),
            Err(e) => fail(start, e),
        },
        Diagnostic::InventoryRefresh | Diagnostic::HealthNow => {
            fail(start, "handled by the daemon")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn disk_usage_of_a_temp_tree() {
        let dir = tempfile::Builder::new()
            .prefix("tend-du")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::create_dir(dir.path().join("big")).unwrap();
        std::fs::write(dir.path().join("big/f"), vec![0u8; 50_000]).unwrap();
        std::fs::write(dir.path().join("small"), vec![0u8; 10]).unwrap();
        let r = run("disk-usage", &args(&[dir.path().to_str().unwrap()]));
        assert_eq!(r.state, JobState::Succeeded, "{r:?}");
        assert_eq!(r.output["total_bytes"], 50_010);
        assert!(r.output["largest"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("/big"));
    }

    #[test]
    fn bad_arguments_are_rejected_here_too() {
        for (n, a) in [
            ("ping", vec!["x; reboot"]),
            ("disk-usage", vec!["/etc"]),
            ("log-tail", vec!["auth"]),
            ("rm", vec![]),
        ] {
            assert_eq!(run(n, &args(&a)).state, JobState::Rejected, "{n} {a:?}");
        }
        // a symlink out of an allowed root is caught after canonicalising
        let dir = tempfile::Builder::new()
            .prefix("tend-ln")
            .tempdir_in("/tmp")
            .unwrap();
        let link = dir.path().join("etc");
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        assert_eq!(
            run("disk-usage", &args(&[link.to_str().unwrap()])).state,
            JobState::Rejected
        );
    }

    #[test]
    fn top_processes_lists_processes_not_threads() {
        // a thread of our own that would show up if threads were listed
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::Builder::new()
            .name("tend-test-thread".into())
            .spawn(move || {
                let _ = rx.recv();
            })
            .unwrap();
        let r = run("top-processes", &[]);
        let _ = tx.send(());
        t.join().unwrap();
        let top: TopProcesses = serde_json::from_value(r.output).unwrap();
        assert!(top.processes > 0 && top.interval_ms >= 200);
        for p in top.by_cpu.iter().chain(&top.by_memory) {
            let status = std::fs::read_to_string(format!("/proc/{}/status", p.pid));
            // a process that exited meanwhile has no status; every other is a group leader
            if let Ok(status) = status {
                let tgid = status
                    .lines()
                    .find_map(|l| l.strip_prefix("Tgid:"))
                    .map(|v| v.trim().to_string());
                assert_eq!(tgid, Some(p.pid.to_string()), "{} is a thread", p.name);
            }
            assert_ne!(p.name, "tend-test-thread");
        }
    }

    #[test]
    fn http_reports_a_redirect_without_following_it_and_refuses_metadata() {
        use std::io::{Read, Write};
        let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        target.set_nonblocking(true).unwrap();
        let to = format!("http://{}/", target.local_addr().unwrap());
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", first.local_addr().unwrap());
        let reply = format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let server = std::thread::spawn(move || {
            let (mut c, _) = first.accept().unwrap();
            let mut buf = [0u8; 2048];
            let _ = c.read(&mut buf);
            c.write_all(reply.as_bytes()).unwrap();
        });
        let r = run("http", &args(&[&url]));
        server.join().unwrap();
        assert_eq!(r.state, JobState::Succeeded, "{r:?}");
        assert_eq!(r.output["status"], 302);
        assert_eq!(r.output["location"], to.as_str());
        assert!(target.accept().is_err(), "the redirect was followed");
        // cloud metadata is never asked, by address or by a name that resolves there
        let r = run("http", &args(&["http://169.254.169.254/latest/meta-data/"]));
        assert_eq!(r.state, JobState::Rejected, "{r:?}");
        assert!(r.reason.unwrap_or_default().contains("link-local"));
    }

    #[test]
    fn local_diagnostics_run() {
        assert_eq!(run("top-processes", &[]).state, JobState::Succeeded);
        let i = run("interfaces", &[]);
        assert!(i.output.as_array().is_some_and(|a| !a.is_empty()));
        assert_eq!(run("routes", &[]).state, JobState::Succeeded);
        assert_eq!(run("listening-ports", &[]).state, JobState::Succeeded);
        let d = run("dns", &args(&["localhost"]));
        assert_eq!(d.state, JobState::Succeeded, "{d:?}");
    }
}
