//! The collector under test: the real `tend-collector serve` binary on 127.0.0.1:0 with
//! a temp data dir, and its RSS and CPU read from /proc.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// How collectors are started: extra `serve` arguments and CPU pinning.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub args: Vec<String>,
    /// `taskset -c` list for the collector process.
    pub cpus: Option<String>,
}

/// A spawned collector.
pub struct Collector {
    pub child: Child,
    pub bin: PathBuf,
    pub launch: Launch,
    pub url: String,
    pub data: PathBuf,
    pub admin_token: String,
    pub ca_pem: String,
    pub enroll_secret: String,
}

impl Collector {
    /// Starts `bin serve` on a free loopback port.
    pub fn spawn(bin: &Path, data: &Path, port: u16, launch: &Launch) -> anyhow::Result<Collector> {
        let mut cmd = match &launch.cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        // every simulated laptop enrolls from 127.0.0.1: no per-address enrollment limit
        let config = data.with_extension("bench.toml");
        std::fs::write(&config, "enrollments_per_minute = 0\n")?;
        let mut child = cmd
            .args(["serve", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(&launch.args)
            .env(
                "RUST_LOG",
                std::env::var("TEND_BENCH_COLLECTOR_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut admin_token = String::new();
        let url = loop {
            let line = lines
                .next()
                .ok_or_else(|| anyhow::anyhow!("collector exited"))??;
            if let Some(t) = line.strip_prefix("admin token (shown once, store it now): ") {
                admin_token = t.trim().to_string();
            }
            if let Some(u) = line.strip_prefix("listening on ") {
                break u.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Ok(Collector {
            child,
            bin: bin.to_owned(),
            launch: launch.clone(),
            url,
            admin_token,
            ca_pem: std::fs::read_to_string(data.join("ca.pem"))?,
            enroll_secret: std::fs::read_to_string(data.join("enroll.secret"))?
                .trim()
                .to_string(),
            data: data.to_owned(),
        })
    }

    /// Resident set size in KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// User + system CPU seconds so far.
    pub fn cpu_s(&self) -> f64 {
        cpu_s(self.child.id(), false)
    }

    /// Bytes of the sled store on disk.
    pub fn store_bytes(&self) -> u64 {
        fn du(p: &Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => du(&e.path()),
                            Ok(m) => m.len(),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        du(&self.data.join("db"))
    }

    /// Stops it (SIGTERM) and starts it again on the same data dir and port; returns
    /// the time from the new process's start to it listening.
    pub fn restart(&mut self) -> anyhow::Result<std::time::Duration> {
        let port: u16 = self
            .url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let start = std::time::Instant::now();
        let fresh = Collector::spawn(
            &self.bin.clone(),
            &self.data.clone(),
            port,
            &self.launch.clone(),
        )?;
        let took = start.elapsed();
        let token = std::mem::take(&mut self.admin_token);
        let old = std::mem::replace(self, fresh);
        drop(old);
        self.admin_token = token;
        Ok(took)
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// User + system CPU seconds of process `pid` (and of its reaped children when
/// `children`), from /proc.
pub fn cpu_s(pid: u32, children: bool) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14-17 of /proc/pid/stat (utime, stime, cutime, cstime), counted after comm
    let own = ticks(11) + ticks(12);
    let reaped = if children { ticks(13) + ticks(14) } else { 0.0 };
    (own + reaped) / 100.0
}

/// CPU seconds of a process tree: `root` (with its reaped children) and every live
/// process whose parent is `root` (PostgreSQL: the postmaster and its backends).
pub fn tree_cpu_s(root: u32) -> f64 {
    let mut total = cpu_s(root, true);
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(root) {
            total += cpu_s(pid, false);
        }
    }
    total
}
