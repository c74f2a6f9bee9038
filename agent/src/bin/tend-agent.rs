//! `tend-agent`: enroll, run the daemon, or print inventory, health and status.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use tend_agent::config::AgentConfig;
use tend_agent::daemon::RunOptions;
use tend_agent::state::StateDir;
use tend_agent::transport::cli;

#[derive(Parser)]
#[command(name = "tend-agent", version = tend_agent::VERSION, about = "Tend endpoint agent")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: tend_client::docs::Shell },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
    /// Enroll with a collector using an enrollment bundle.
    Enroll {
        #[arg(long)]
        bundle: PathBuf,
        /// State directory [default: the config's state_dir, /var/lib/tend/agent].
        #[arg(long, env = "TEND_AGENT_STATE")]
        state: Option<PathBuf>,
        /// Do nothing when this state dir is already enrolled with the bundle's collector.
        #[arg(long)]
        if_needed: bool,
    },
    /// Run the daemon until SIGTERM.
    Run {
        /// State directory [default: the config's state_dir, /var/lib/tend/agent].
        #[arg(long, env = "TEND_AGENT_STATE")]
        state: Option<PathBuf>,
        /// Config file, watched and reloaded live. Missing is fine unless given.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The socket `tend` (the employee's command) talks to [default:
        /// /run/tend/agent.sock for the default state dir, else `<state>.sock`].
        #[arg(long, env = "TEND_AGENT_SOCKET")]
        socket: Option<PathBuf>,
    },
    /// Check the config file (and the state dir it names); non-zero on error.
    Validate {
        #[arg(long, default_value = tend_agent::config::DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Internal: started by an update to roll it back if it does not confirm.
    #[command(hide = true)]
    UpdateGuard {
        #[arg(long)]
        state: PathBuf,
        #[arg(long)]
        until_ms: u64,
        /// The trial (its start, ms) this guard watches; another one is left alone.
        #[arg(long)]
        trial: Option<u64>,
        #[arg(long)]
        restart: String,
        #[arg(last = true)]
        agent_args: Vec<std::ffi::OsString>,
    },
    /// Print this machine's inventory as JSON.
    Inventory,
    /// Evaluate the health checks now and print the results.
    Health {
        /// State directory whose policy to use [default: the config's state_dir].
        #[arg(long, env = "TEND_AGENT_STATE")]
        state: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show enrollment, the last check-in and the spool depth (reads only).
    Status {
        /// State directory [default: the config's state_dir, /var/lib/tend/agent].
        #[arg(long, env = "TEND_AGENT_STATE")]
        state: Option<PathBuf>,
    },
}

/// Registers SIGINT/SIGTERM handlers now and returns the future resolving on either.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
}

/// `p` made absolute against the current folder: the daemon changes into job folders,
/// so every state path is absolute from start-up on.
fn abs(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// The bundle's enroll secret has served: take it off the disk (warn when we cannot).
fn scrub(bundle: &Path) {
    if let Err(e) = tend_agent::enroll::scrub_bundle_secret(bundle) {
        eprintln!(
            "tend-agent: warning: could not remove the enroll secret from {}: {e}",
            bundle.display()
        );
    }
}

/// `--state` (or `TEND_AGENT_STATE`), else the packaged config's `state_dir`, absolute.
fn state_dir(flag: Option<PathBuf>) -> PathBuf {
    let dir = flag.unwrap_or_else(|| {
        AgentConfig::load(Path::new(tend_agent::config::DEFAULT_CONFIG), false)
            .map(|c| c.state_dir)
            .unwrap_or_else(|_| AgentConfig::default().state_dir)
    });
    abs(&dir)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.cmd {
        Cmd::Completions { shell } => {
            cli::print(&tend_client::docs::completions(Cli::command(), shell));
        }
        Cmd::Man => cli::print(&tend_client::docs::man(Cli::command())),
        Cmd::Enroll {
            bundle,
            state,
            if_needed,
        } => {
            let b = tend_agent::enroll::read_bundle(&bundle)?;
            let st = StateDir::open(&state_dir(state))?;
            if if_needed {
                if let Some(id) = tend_agent::enroll::already_enrolled(&b, &st)? {
                    scrub(&bundle);
                    cli::println(&format!("already enrolled as device {id}"));
                    return Ok(());
                }
            }
            let resp = tend_agent::enroll::enroll(&b, &st)
                .await
                .context("enrolling")?;
            scrub(&bundle);
            cli::println(&format!(
                "enrolled as device {}{}",
                resp.device_id,
                if resp.reenrolled {
                    " (re-enrolled)"
                } else {
                    ""
                }
            ));
        }
        Cmd::Run {
            state,
            config,
            socket,
        } => {
            let path = abs(&config
                .clone()
                .unwrap_or_else(|| tend_agent::config::DEFAULT_CONFIG.into()));
            let cfg = AgentConfig::load(&path, config.is_some())?;
            let state = abs(&state.unwrap_or_else(|| cfg.state_dir.clone()));
            let st = StateDir::open(&state)?;
            // what an update restarts us with: the same command, absolute paths
            let mut agent_args: Vec<std::ffi::OsString> =
                vec!["run".into(), "--state".into(), state.clone().into()];
            if config.is_some() {
                agent_args.extend(["--config".into(), path.clone().into()]);
            }
            let opts = RunOptions {
                config: cfg,
                config_path: Some(path),
                socket: Some(
                    socket.map_or_else(|| tend_agent::local::socket_for(&state), |p| abs(&p)),
                ),
                agent_args,
                allow_update: true,
            };
            tend_agent::daemon::run_with(st, opts, shutdown_signal()).await?;
        }
        Cmd::Validate { config } => {
            let cfg = AgentConfig::load(&config, true)?;
            if cfg.state_dir.join("credentials.json").exists() {
                StateDir::open(&cfg.state_dir)?
                    .credentials()
                    .context("the state dir's credentials")?;
            }
            cli::println(&format!(
                "{}: ok (state {}, update {}, grace {} s)",
                config.display(),
                cfg.state_dir.display(),
                if cfg.update.enabled { "on" } else { "off" },
                cfg.update.grace_period_s
            ));
        }
        Cmd::UpdateGuard {
            state,
            until_ms,
            trial,
            restart,
            agent_args,
        } => {
            let restart = tend_agent::update::install::Restart::parse(&restart)
                .context("--restart must be systemd, launchd or exec")?;
            tend_agent::update::guard::run(&abs(&state), until_ms, trial, restart, &agent_args)?;
        }
        Cmd::Inventory => {
            let inv = tend_agent::inventory::collect();
            cli::println(&serde_json::to_string_pretty(&inv)?);
        }
        Cmd::Health { state, json } => {
            // the policy last received from the collector, else the built-in one
            let policy = StateDir::existing(&state_dir(state))
                .and_then(|s| s.policy().ok())
                .unwrap_or_default();
            let m = tend_agent::checks::measure::measure(&policy, &mut Default::default());
            let results = tend_agent::checks::evaluate(&policy, &m);
            if json {
                cli::println(&serde_json::to_string_pretty(&results)?);
            } else {
                cli::print(&tend_agent::report::health_table(&results));
            }
        }
        Cmd::Status { state } => {
            cli::print(&tend_agent::report::status_text(&state_dir(state))?);
        }
    }
    Ok(())
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    tend_agent::transport::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run(Cli::parse())) {
        eprintln!("tend-agent: {e:#}");
        std::process::exit(1);
    }
}
