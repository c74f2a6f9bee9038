//! `tend-collector`: serve, make enrollment bundles, create tokens, or run the demo.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tend_collector::clock::SystemClock;
use tend_collector::config::CollectorConfig;
use tend_collector::state::Limits;
use tend_collector::Collector;
use tend_shared::api::Role;

#[derive(Parser)]
#[command(
    name = "tend-collector",
    version,
    about = "Tend collector: enrollment, check-ins, assets and the analyst API over HTTPS"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve HTTPS until SIGINT/SIGTERM.
    Serve {
        /// Config file (TOML); flags below override it. Missing is fine unless given.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (keys, certificates, sled store) [default: /var/lib/tend/collector].
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on [default: 0.0.0.0:8443].
        #[arg(long)]
        listen: Option<String>,
        /// Extra DNS names or IPs for the server certificate (repeatable).
        #[arg(long = "san")]
        sans: Vec<String>,
        /// Largest accepted request body in bytes [default: 1048576].
        #[arg(long)]
        body_limit: Option<usize>,
    },
    /// Check the config file (and the data dir's keys, if present); non-zero on error.
    Validate {
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Agent releases on a stopped collector (use `tendctl release add` on a running one).
    Release {
        #[command(subcommand)]
        cmd: ReleaseCmd,
    },
    /// Print the enrollment bundle (JSON) for agents.
    Bundle {
        #[arg(long, default_value = "/var/lib/tend/collector")]
        data: PathBuf,
        /// URL agents use to reach this collector, e.g. https://tend.example.com:8443
        #[arg(long)]
        server: String,
    },
    /// Manage API tokens on a stopped collector (use `tendctl token create` on a running one).
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Demo: collector on ./tend-data with this machine's agent enrolled.
    Demo {
        #[arg(long, default_value = "tend-data")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
    },
}

const DEFAULT_CONFIG: &str = "/etc/tend/collector.toml";

#[derive(Subcommand)]
enum ReleaseCmd {
    /// Store an agent binary as release VERSION for PLATFORM.
    Add {
        #[arg(long, default_value = "/var/lib/tend/collector")]
        data: PathBuf,
        #[arg(long)]
        version: String,
        /// linux-x86_64, linux-aarch64 or macos-universal
        #[arg(long)]
        platform: tend_shared::releases::ReleasePlatform,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    Create {
        #[arg(long, default_value = "/var/lib/tend/collector")]
        data: PathBuf,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: String,
    },
}

/// Registers SIGINT/SIGTERM handlers now (so a signal that arrives during start-up is
/// not fatal) and returns the future that resolves on the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .expect("SIGINT handler");
    async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn,sled=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// The config file overlaid with command-line flags, validated.
fn serve_config(
    config: Option<PathBuf>,
    data: Option<PathBuf>,
    listen: Option<String>,
    sans: Vec<String>,
    body_limit: Option<usize>,
) -> anyhow::Result<CollectorConfig> {
    let path = config.clone().unwrap_or_else(|| DEFAULT_CONFIG.into());
    let mut cfg = CollectorConfig::load(&path, config.is_some())?;
    if let Some(d) = data {
        cfg.data = std::path::absolute(&d).unwrap_or(d);
    }
    cfg.listen = listen.unwrap_or(cfg.listen);
    cfg.sans.extend(sans);
    cfg.body_limit = body_limit.unwrap_or(cfg.body_limit);
    cfg.validate(&path)?;
    Ok(cfg)
}

/// `tend-collector validate`: the file, then the keys in its data dir if they exist.
fn validate(config: &std::path::Path) -> anyhow::Result<()> {
    let cfg = CollectorConfig::load(config, true)?;
    if cfg.data.join("ca.pem").exists() {
        tend_collector::pki::bundle(&cfg.data, "https://validate.invalid")
            .with_context(|| format!("{}: the data dir's keys", cfg.data.display()))?;
    }
    println!(
        "{}: ok (listen {}, data {})",
        config.display(),
        cfg.listen,
        cfg.data.display()
    );
    Ok(())
}

async fn release_add(
    data: PathBuf,
    version: String,
    platform: tend_shared::releases::ReleasePlatform,
    file: PathBuf,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let store = tend_collector::store::Store::open(&data.join("db"))
        .context("opening the store (stop the collector first, or use `tendctl release add`)")?;
    let r = tend_collector::releases::add_artifact(
        &store,
        tend_shared::now_ms(),
        "cli",
        &version,
        platform,
        &bytes,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "release {} stored for {} (sha256 {}); offer it with `tendctl release promote {} --percent N`",
        r.version,
        platform,
        tend_shared::signing::sha256_hex(&bytes),
        r.version
    );
    Ok(())
}

async fn serve(cfg: CollectorConfig) -> anyhow::Result<()> {
    let CollectorConfig {
        data,
        listen,
        sans,
        body_limit,
    } = cfg;
    let limits = Limits {
        body_limit_bytes: body_limit,
        ..Limits::default()
    };
    let collector = Collector::open(&data, &sans, Arc::new(SystemClock), limits)
        .with_context(|| format!("opening data dir {}", data.display()))?;
    let listener =
        std::net::TcpListener::bind(&listen).with_context(|| format!("binding {listen}"))?;
    let stop = shutdown_signal();
    let addr = listener.local_addr()?;
    if let Some(t) = &collector.initial_admin_token {
        println!("admin token (shown once, store it now): {t}");
    }
    println!("listening on https://{addr}");
    tracing::info!(%addr, data = %data.display(), "collector serving");
    collector.run(listener, stop).await?;
    tracing::info!("collector stopped cleanly");
    Ok(())
}

async fn demo(data: PathBuf, listen: String) -> anyhow::Result<()> {
    let stop = shutdown_signal();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (info, done) = tend_collector::demo::start(&data, &listen, rx).await?;
    let tendctl = format!(
        "TEND_SERVER={} TEND_TOKEN={} TEND_CA={} cargo run -q -p tend-collector --bin tendctl -- devices",
        info.url,
        info.analyst_token,
        info.ca_path.display()
    );
    println!("\nTend demo is running (data in {}).", data.display());
    println!("  dashboard:      {}/", info.url);
    println!("  analyst token:  {}", info.analyst_token);
    if let Some(admin) = &info.admin_token {
        println!("  admin token:    {admin}   (shown once)");
    }
    println!("  CA certificate: {}", info.ca_path.display());
    println!("  local device:   {}", info.device_id);
    println!("  try:            {tendctl}");
    println!("Ctrl-C stops it; running it again reuses the data.\n");
    stop.await;
    let _ = tx.send(true);
    let _ = done.await;
    Ok(())
}

#[tokio::main]
async fn main() {
    init_tracing();
    tend_collector::server::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Serve {
            config,
            data,
            listen,
            sans,
            body_limit,
        } => match serve_config(config, data, listen, sans, body_limit) {
            Ok(cfg) => serve(cfg).await,
            Err(e) => Err(e),
        },
        Cmd::Validate { config } => validate(&config),
        Cmd::Release {
            cmd:
                ReleaseCmd::Add {
                    data,
                    version,
                    platform,
                    file,
                },
        } => release_add(data, version, platform, file).await,
        Cmd::Bundle { data, server } => tend_collector::pki::bundle(&data, &server)
            .with_context(|| format!("reading the collector identity in {}", data.display()))
            .map(|b| {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&b).expect("bundle serializes")
                )
            }),
        Cmd::Token {
            cmd: TokenCmd::Create { data, role, name },
        } => (|| {
            let store = tend_collector::store::Store::open(&data.join("db")).context(
                "opening the store (stop the collector first, or use `tendctl token create`)",
            )?;
            let token = tend_collector::service::tokens::create(
                &store,
                tend_shared::now_ms(),
                role,
                &name,
                "cli",
            )?;
            store.flush_blocking()?;
            println!("{token}");
            anyhow::Ok(())
        })(),
        Cmd::Demo { data, listen } => demo(data, listen).await,
    };
    if let Err(e) = result {
        eprintln!("tend-collector: {e:#}");
        std::process::exit(1);
    }
}
