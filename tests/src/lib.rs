//! Shared helpers for the end-to-end tests: find the workspace binaries, start a real
//! `tend-collector serve` on 127.0.0.1, run agents, and wait on conditions with a
//! deadline (never sleep-as-synchronisation).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tend_client::Client;

pub mod browser;
pub mod demo;
pub mod jsscan;
pub mod shape;

static BUILD: Mutex<bool> = Mutex::new(false);

fn newest_source_mtime(dir: &Path) -> std::time::SystemTime {
    let mut newest = std::time::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return newest;
    };
    for e in entries.flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            newest_source_mtime(&p)
        } else {
            e.metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH)
        };
        newest = newest.max(t);
    }
    newest
}

/// Every binary the end-to-end tests run.
pub const BINARIES: [&str; 5] = [
    "tend-collector",
    "tend-agent",
    "tend",
    "tendctl",
    "tend-bench",
];

/// The workspace members the binaries are built from: every member but the test
/// crates (read from the workspace manifest, so a new crate is never forgotten and an
/// edit to any of them — `client` included — rebuilds every binary before a test runs).
pub fn binary_crates(root: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("workspace Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("workspace members");
    line.split('"')
        .skip(1)
        .step_by(2)
        .filter(|m| !matches!(*m, "tests" | "pgtest"))
        .map(str::to_string)
        .collect()
}

/// Path of a workspace binary. `cargo build --workspace --bins` (the README's test
/// command runs it first) builds them; if one is missing or older than the sources,
/// that same command runs here once, so features resolve the same way and nothing
/// is rebuilt twice.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    let path = dir.join(name);
    let mut checked = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if !*checked {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root");
        let sources = binary_crates(root)
            .iter()
            .map(|c| newest_source_mtime(&root.join(c)))
            .chain(["Cargo.lock", "Cargo.toml"].map(|f| newest_source_mtime(&root.join(f))))
            .max()
            .unwrap_or(std::time::UNIX_EPOCH);
        let stale = BINARIES.iter().any(|b| {
            std::fs::metadata(dir.join(b))
                .and_then(|m| m.modified())
                .map_or(true, |t| t < sources)
        });
        if stale {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--quiet", "--workspace", "--bins"])
                .current_dir(root)
                .status()
                .expect("running cargo build");
            assert!(status.success(), "building the binaries failed");
        }
        *checked = true;
    }
    path
}

/// Polls `f` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `prog` run as local user `uid` through `setpriv` (util-linux; no passwd entry
/// needed): how the tests act as unprivileged employees.
pub fn as_user(uid: u32, prog: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        &format!("--reuid={uid}"),
        &format!("--regid={uid}"),
        "--clear-groups",
    ])
    .arg(prog);
    c
}

/// Gives `name` a first console password the way an admin's own account gets one: the
/// user's admin token issues a reset code for itself, and the code is redeemed with
/// `password` (nobody sets another user's password, and tokens never set one directly).
pub async fn give_own_password(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    name: &str,
    password: &str,
) {
    let r = http
        .post(format!("{url}/api/v1/users/{name}/password-reset"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "reset for {name}");
    let issued: serde_json::Value = r.json().await.unwrap();
    let r = http
        .post(format!("{url}/api/v1/password-reset"))
        .json(&serde_json::json!({"name": name, "code": issued["code"], "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// Sends a signal to a child (`TERM`, `KILL`...).
pub fn signal(child: &Child, sig: &str) {
    let _ = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status();
}

/// A running `tend-collector serve`, killed on drop.
pub struct CollectorProc {
    pub child: Child,
    pub url: String,
    pub port: u16,
    pub data: PathBuf,
    /// Printed on the first start only (or the first of `admins`).
    pub admin_token: Option<String>,
    /// Independent admins created by the operator before the first start
    /// (`start_with_admins`): two of them satisfy the two-person rule.
    pub admins: Vec<String>,
}

impl CollectorProc {
    /// Creates `names` as operator-made admins (`tend-collector user add`) on a fresh
    /// data dir, then starts the collector.
    pub fn start_with_admins(data: &Path, port: u16, names: &[&str]) -> CollectorProc {
        let admins: Vec<String> = names
            .iter()
            .map(|name| {
                let out = Command::new(bin("tend-collector"))
                    .args(["user", "add", "--role", "admin", "--name", name, "--data"])
                    .arg(data)
                    .env("RUST_LOG", "warn")
                    .output()
                    .expect("tend-collector user add");
                assert!(
                    out.status.success(),
                    "user add: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8(out.stdout).unwrap().trim().to_string()
            })
            .collect();
        let mut c = CollectorProc::start(data, port);
        c.admin_token = admins.first().cloned();
        c.admins = admins;
        c
    }

    /// Starts the collector on `data`, on `port` (0 = any free port).
    pub fn start(data: &Path, port: u16) -> CollectorProc {
        CollectorProc::start_args(data, port, &[])
    }

    /// `start` with more `serve` arguments (`--database URL`, `--config FILE`, …).
    pub fn start_args(data: &Path, port: u16, extra: &[&str]) -> CollectorProc {
        let mut child = Command::new(bin("tend-collector"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting tend-collector");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut admin_token = None;
        let url = loop {
            let line = lines
                .next()
                .expect("collector exited before listening")
                .expect("reading stdout");
            if let Some(t) = line.strip_prefix("admin token (shown once, store it now): ") {
                admin_token = Some(t.trim().to_string());
            }
            if let Some(u) = line.strip_prefix("listening on ") {
                break u.trim().to_string();
            }
        };
        // keep draining stdout so the child never blocks on a full pipe
        std::thread::spawn(move || for _ in lines {});
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in url");
        CollectorProc {
            child,
            url,
            port,
            data: data.to_owned(),
            admin_token,
            admins: Vec::new(),
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) {
        signal(&self.child, "TERM");
        let status = self.child.wait().expect("waiting for the collector");
        assert!(status.success(), "collector exited with {status}");
    }

    /// SIGKILL (a crash).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.data.join("ca.pem")).expect("ca.pem")
    }

    /// Writes the enrollment bundle (made by the real `bundle` command) to `path`.
    pub fn bundle(&self, path: &Path) {
        let out = Command::new(bin("tend-collector"))
            .args(["bundle", "--data"])
            .arg(&self.data)
            .args(["--server", &self.url])
            .output()
            .expect("tend-collector bundle");
        assert!(
            out.status.success(),
            "bundle failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(path, &out.stdout).expect("writing bundle");
    }

    /// Enrolls a real agent (`tend-agent enroll` with a fresh bundle) into
    /// `dir/<name>` under hardware UUID `hw`; returns the state dir and device id.
    pub fn enroll_agent(&self, dir: &Path, name: &str, hw: &str) -> (PathBuf, String) {
        let bundle = dir.join(format!("{name}.bundle.json"));
        self.bundle(&bundle);
        let state = dir.join(name);
        let out = agent(
            &[
                "enroll",
                "--bundle",
                bundle.to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
            ],
            Some(hw),
        );
        assert!(
            out.status.success(),
            "enroll: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let creds: serde_json::Value = serde_json::from_slice(
            &std::fs::read(state.join("credentials.json")).expect("credentials"),
        )
        .expect("json");
        (
            state,
            creds["device_id"].as_str().expect("device_id").to_string(),
        )
    }

    /// An API client with `token`, trusting only the collector's CA.
    pub fn client(&self, token: &str) -> Client {
        tend_client::install_crypto_provider();
        Client::new(&self.url, &self.ca_pem(), Some(token.to_string())).expect("client")
    }

    /// Runs `tendctl` against this collector; returns stdout (asserting success).
    pub fn tendctl(&self, token: &str, args: &[&str]) -> String {
        let out = Command::new(bin("tendctl"))
            .args(args)
            .env("TEND_SERVER", &self.url)
            .env("TEND_TOKEN", token)
            .env("TEND_CA", self.data.join("ca.pem"))
            .output()
            .expect("running tendctl");
        assert!(
            out.status.success(),
            "tendctl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

impl Drop for CollectorProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a `tend-agent` subcommand to completion with an optional hardware-UUID override.
pub fn agent(args: &[&str], hardware_uuid: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(bin("tend-agent"));
    cmd.args(args).env("RUST_LOG", "warn");
    if let Some(hw) = hardware_uuid {
        cmd.env(tend_agent::identity::HARDWARE_UUID_ENV, hw);
    }
    cmd.output().expect("running tend-agent")
}

/// Starts `tend-agent run` in the background (killed on drop of the returned child guard).
pub struct AgentProc(pub Child);

impl AgentProc {
    pub fn start(state: &Path, hardware_uuid: Option<&str>) -> AgentProc {
        AgentProc::start_env(state, hardware_uuid, &[])
    }

    /// `start` with extra environment variables.
    pub fn start_env(
        state: &Path,
        hardware_uuid: Option<&str>,
        env: &[(&str, &Path)],
    ) -> AgentProc {
        let mut cmd = Command::new(bin("tend-agent"));
        cmd.envs(env.iter().map(|(k, v)| (*k, *v)));
        cmd.args(["run", "--state"])
            .arg(state)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(hw) = hardware_uuid {
            cmd.env(tend_agent::identity::HARDWARE_UUID_ENV, hw);
        }
        AgentProc(cmd.spawn().expect("starting tend-agent run"))
    }

    pub fn stop(mut self) {
        signal(&self.0, "TERM");
        let status = self.0.wait().expect("waiting for the agent");
        assert!(status.success(), "agent exited with {status}");
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `tend-agent run` started from `exe` (a copy the test may let it replace) with a
/// config file; stderr goes to `log`. Killed on drop, including whatever process
/// the state dir's PID file names by then (an update may have replaced the process).
pub struct InstalledAgent {
    pub child: Child,
    pub exe: PathBuf,
    pub state: PathBuf,
}

impl InstalledAgent {
    pub fn start(exe: &Path, state: &Path, config: &Path, hw: &str, log: &Path) -> InstalledAgent {
        let child = Command::new(exe)
            .args(["run", "--state"])
            .arg(state)
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "info,tend_agent=info")
            .env(tend_agent::identity::HARDWARE_UUID_ENV, hw)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("agent log"))
            .spawn()
            .expect("starting the installed agent");
        InstalledAgent {
            child,
            exe: exe.to_owned(),
            state: state.to_owned(),
        }
    }

    /// The PID the agent last wrote.
    pub fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.state.join("agent.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }
}

impl Drop for InstalledAgent {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies `from` to `to` (creating folders), executable.
pub fn install_copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    std::fs::copy(from, to).expect("copying the binary");
}

/// Hex SHA-256 of a file.
pub fn file_sha256(p: &Path) -> String {
    tend_shared::signing::sha256_hex(&std::fs::read(p).expect("reading file"))
}
