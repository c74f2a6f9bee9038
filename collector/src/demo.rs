//! `tend-collector demo`: a collector on an embedded store in `./tend-data` with this
//! machine's real agent enrolled — the `tend-agent` binary, run as a child process
//! (the server links none of the agent), so the demo exercises exactly what ships.
//!
//! Every path is made absolute first: the agent changes into job folders, and the
//! printed CA path must work from any folder.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tend_shared::api::Role;

use crate::clock::SystemClock;
use crate::server::{Collector, ServeError};
use crate::state::Limits;

/// The demo's default listen address; a free port is used when it is taken.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

/// How to start the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Data dir (made absolute here).
    pub data: PathBuf,
    pub listen: String,
    /// The `tend-agent` binary to run.
    pub agent_bin: PathBuf,
}

/// What the demo prints once it is up.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    pub url: String,
    pub data: PathBuf,
    pub ca_path: PathBuf,
    pub analyst_token: String,
    /// Submits scripts and releases.
    pub admin_token: String,
    /// A second, distinct admin: approves what the first one submitted.
    pub second_admin_token: String,
    /// The console password of the three demo users (demo-admin, demo-admin-2,
    /// demo-analyst), kept in `demo-console.password`.
    pub console_password: String,
    pub device_id: String,
    pub hostname: String,
    pub agent_state: PathBuf,
    pub agent_log: PathBuf,
    /// Set when the requested address was taken and another port was used.
    pub moved_from: Option<String>,
}

/// Demo failures.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("binding {addr}: {error}")]
    Bind { addr: String, error: std::io::Error },
    #[error("{0}")]
    Agent(String),
    #[error("{0}")]
    Other(String),
}

/// The `tend-agent` beside this executable (where cargo and the packages put it).
pub fn default_agent_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("tend-agent")))
        .unwrap_or_else(|| PathBuf::from("tend-agent"))
}

/// When started by `cargo run -p tend-collector`, builds the companions the demo and
/// the tour use (`tend-agent`, `tendctl`) with the same profile, so the README's first
/// command works on a fresh checkout. A no-op for installed binaries.
pub fn build_companions() -> Result<(), DemoError> {
    let (Some(cargo), Some(manifest)) = (
        std::env::var_os("CARGO"),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) else {
        return Ok(());
    };
    if std::env::var("CARGO_PKG_NAME").as_deref() != Ok("tend-collector") {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| DemoError::Other(e.to_string()))?;
    let profile = exe
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or("debug")
        .to_string();
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "tend-agent", "-p", "tendctl"])
        .current_dir(manifest);
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    eprintln!("building tend-agent and tendctl ({profile}) for the demo…");
    let status = cmd
        .status()
        .map_err(|e| DemoError::Other(format!("running cargo build: {e}")))?;
    if !status.success() {
        return Err(DemoError::Other(format!(
            "cargo build of tend-agent and tendctl failed ({status})"
        )));
    }
    Ok(())
}

/// Reads a demo token from `file`, creating it (and the principal) on the first run.
async fn demo_token(
    collector: &Collector,
    data: &Path,
    file: &str,
    role: Role,
    name: &str,
) -> Result<String, DemoError> {
    let path = data.join(file);
    if let Ok(t) = std::fs::read_to_string(&path) {
        if collector
            .state
            .store
            .read()
            .token(t.trim())
            .await
            .ok()
            .flatten()
            .is_some()
        {
            return Ok(t.trim().to_string());
        }
    }
    let t = crate::users::tokens::operator_token(
        &collector.state.store,
        collector.state.now_ms(),
        name,
        role,
    )
    .await
    .map_err(|e| DemoError::Other(e.to_string()))?;
    crate::pki::write_private(&path, t.as_bytes()).map_err(ServeError::from)?;
    Ok(t)
}

/// The demo users' console password: read from `demo-console.password`, or made up,
/// set on the three demo users and written there on the first run.
async fn demo_password(collector: &Collector, data: &Path) -> Result<String, DemoError> {
    let path = data.join("demo-console.password");
    let users = ["demo-admin", "demo-admin-2", "demo-analyst"];
    let other = |e: crate::error::ApiError| DemoError::Other(e.to_string());
    let mut ids = Vec::new();
    let mut missing = false;
    for name in users {
        let mut tx = collector.state.store.read();
        let Some(u) = tx.user_by_name(name).await.map_err(ServeError::from)? else {
            continue;
        };
        missing |= tx
            .password_hash(&u.id)
            .await
            .map_err(ServeError::from)?
            .is_none();
        ids.push(u.id);
    }
    if let Ok(pw) = std::fs::read_to_string(&path) {
        if !missing && !pw.trim().is_empty() {
            return Ok(pw.trim().to_string());
        }
    }
    let mut raw = [0u8; 9];
    getrandom::getrandom(&mut raw).map_err(|e| DemoError::Other(e.to_string()))?;
    let pw = format!("tend-{}", hex::encode(raw));
    for id in &ids {
        crate::users::sessions::set_password(&collector.state, id, &pw)
            .await
            .map_err(other)?;
    }
    crate::pki::write_private(&path, pw.as_bytes()).map_err(ServeError::from)?;
    Ok(pw)
}

/// Binds `listen`; the default address falls back to a free port when it is taken.
fn bind(listen: &str) -> Result<(std::net::TcpListener, Option<String>), DemoError> {
    match std::net::TcpListener::bind(listen) {
        Ok(l) => Ok((l, None)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && listen == DEFAULT_LISTEN => {
            let l =
                std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| DemoError::Bind {
                    addr: "127.0.0.1:0".into(),
                    error: source,
                })?;
            Ok((l, Some(listen.to_string())))
        }
        Err(source) => Err(DemoError::Bind {
            addr: listen.into(),
            error: source,
        }),
    }
}

/// Stops an agent a previous demo run left behind on the same state dir.
fn stop_stale_agent(agent_state: &Path) {
    let Some(pid) = std::fs::read_to_string(agent_state.join("agent.pid"))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|p| *p > 1)
    else {
        return;
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    if cmdline.contains("tend-agent") && cmdline.contains(&*agent_state.to_string_lossy()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Runs `tend-agent` with `args` to completion; its stderr becomes the error.
async fn agent_cmd(bin: &Path, args: &[&std::ffi::OsStr]) -> Result<String, DemoError> {
    let out = tokio::process::Command::new(bin)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .map_err(|e| DemoError::Agent(format!("running {}: {e}", bin.display())))?;
    if !out.status.success() {
        return Err(DemoError::Agent(format!(
            "{} {:?} failed: {}",
            bin.display(),
            args,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The last lines of the agent's log, for an error message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// Starts the collector and the agent; returns once the agent has checked in.
/// `shutdown` stops both.
pub async fn start(
    opts: DemoOptions,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(DemoInfo, tokio::task::JoinHandle<()>), DemoError> {
    let data = std::path::absolute(&opts.data).map_err(|e| DemoError::Other(e.to_string()))?;
    if !opts.agent_bin.is_file() {
        return Err(DemoError::Agent(format!(
            "tend-agent not found at {} (build it with `cargo build --release -p tend-agent`, or pass --agent-bin)",
            opts.agent_bin.display()
        )));
    }
    let collector = Collector::open(&data, &[], Arc::new(SystemClock), Limits::default()).await?;
    let (listener, moved_from) = bind(&opts.listen)?;
    let port = listener
        .local_addr()
        .map_err(|source| DemoError::Bind {
            addr: opts.listen.clone(),
            error: source,
        })?
        .port();
    let url = format!("https://127.0.0.1:{port}");
    let analyst = demo_token(
        &collector,
        &data,
        "demo-analyst.token",
        Role::Analyst,
        "demo-analyst",
    )
    .await?;
    let admin = demo_token(
        &collector,
        &data,
        "demo-admin.token",
        Role::Admin,
        "demo-admin",
    )
    .await?;
    let admin2 = demo_token(
        &collector,
        &data,
        "demo-admin-2.token",
        Role::Admin,
        "demo-admin-2",
    )
    .await?;
    let console_password = demo_password(&collector, &data).await?;
    collector
        .state
        .store
        .flush()
        .await
        .map_err(ServeError::from)?;
    // the local agent enrolls with a one-use, one-hour enrollment token, never with
    // the fleet secret (what the docs tell a real deployment to do too)
    let mut bundle = crate::pki::bundle(&data, &url).map_err(ServeError::from)?;
    let operator = crate::users::auth::ApiUser {
        id: String::new(),
        name: "demo".into(),
        role: Role::Admin,
        token_id: String::new(),
        session_csrf: None,
    };
    bundle.enroll_secret = crate::enroll::tokens::create_enroll_token(
        &collector.state,
        &operator,
        tend_shared::enroll::EnrollTokenCreate {
            expires_in_s: 3600,
            uses: 1,
            label: "tend-collector demo: the local agent".into(),
        },
    )
    .await
    .map_err(|e| DemoError::Agent(format!("an enrollment token for the local agent: {e}")))?
    .token;
    let bundle_path = data.join("agent-bundle.json");
    crate::pki::write_private(
        &bundle_path,
        &serde_json::to_vec_pretty(&bundle).expect("bundle serializes"),
    )
    .map_err(ServeError::from)?;
    let state = collector.state.clone();

    let mut rx = shutdown.clone();
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|v| *v).await;
        };
        if let Err(e) = collector.run(listener, stop).await {
            tracing::error!(error = %e, "collector stopped");
        }
    });

    // the real agent binary: enroll (again only if the collector changed), then run
    let agent_state = data.join("agent");
    let agent_config = data.join("agent.toml");
    let agent_log = data.join("agent.log");
    stop_stale_agent(&agent_state);
    crate::pki::write_private(
        &agent_config,
        format!(
            "# written by `tend-collector demo`: the demo's agent never self-updates\nstate_dir = {:?}\n\n[update]\nenabled = false\n",
            agent_state.display().to_string()
        )
        .as_bytes(),
    )
    .map_err(ServeError::from)?;
    agent_cmd(
        &opts.agent_bin,
        &[
            "enroll".as_ref(),
            "--if-needed".as_ref(),
            "--bundle".as_ref(),
            bundle_path.as_os_str(),
            "--state".as_ref(),
            agent_state.as_os_str(),
        ],
    )
    .await?;
    let creds: serde_json::Value = std::fs::read(agent_state.join("credentials.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| DemoError::Agent("the agent wrote no credentials".into()))?;
    let device_id = creds["device_id"].as_str().unwrap_or_default().to_string();
    let log = std::fs::File::create(&agent_log)
        .map_err(|e| DemoError::Agent(format!("creating {}: {e}", agent_log.display())))?;
    let mut child = tokio::process::Command::new(&opts.agent_bin)
        .arg("run")
        .arg("--state")
        .arg(&agent_state)
        .arg("--config")
        .arg(&agent_config)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| DemoError::Agent(format!("starting {}: {e}", opts.agent_bin.display())))?;

    // wait for its first check-in, so the printed tour works at once
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let hostname = loop {
        if let Some(d) = state.store.read().device(&device_id).await.ok().flatten() {
            if d.last_seen_ms > 0 {
                break d.hostname;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(DemoError::Agent(format!(
                "the agent exited ({status}) before checking in; {}:\n{}",
                agent_log.display(),
                log_tail(&agent_log)
            )));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(DemoError::Agent(format!(
                "the agent did not check in within 90 s; {}:\n{}",
                agent_log.display(),
                log_tail(&agent_log)
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let mut rx = shutdown.clone();
    let both = tokio::spawn(async move {
        let _ = rx.wait_for(|v| *v).await;
        if let Some(pid) = child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
        let _ = server.await;
    });
    Ok((
        DemoInfo {
            url,
            ca_path: data.join("ca.pem"),
            data,
            analyst_token: analyst,
            admin_token: admin,
            second_admin_token: admin2,
            console_password,
            device_id,
            hostname,
            agent_state,
            agent_log,
            moved_from,
        },
        both,
    ))
}
