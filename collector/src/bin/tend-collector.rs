//! `tend-collector`: serve, make enrollment bundles, create tokens, or run the demo.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use tend_collector::clock::SystemClock;
use tend_collector::config::CollectorConfig;
use tend_collector::state::Limits;
use tend_collector::Collector;
use tend_shared::api::Role;

/// mimalloc: per-thread free lists; glibc malloc/free was ~20 % of a check-in's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tend-collector",
    version,
    about = "Tend collector: enrollment, check-ins, assets and the analyst API over HTTPS"
)]
struct Cli {
    /// Log lines as text (for a terminal and the journal) or as one JSON object each
    /// (for a log shipper).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "TEND_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: tend_client::docs::Shell },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
    /// Serve HTTPS until SIGINT/SIGTERM.
    Serve {
        #[command(flatten)]
        flags: tend_collector::config::ServeFlags,
    },
    /// Prepare a PostgreSQL database for collectors: apply the schema, store this data
    /// dir's identity (CA, signing key, enroll secret) sealed with the cluster key, and
    /// create the first admin. Copy the cluster key to every other collector.
    Init {
        #[command(flatten)]
        at: StoreArgs,
    },
    /// Copy a sled store (a stopped collector's data dir) into an empty PostgreSQL
    /// database, verify it, and store the identity there: then serve with --database.
    Migrate {
        /// The data dir of the sled collector.
        #[arg(long = "from-sled")]
        from_sled: PathBuf,
        /// The PostgreSQL database.
        #[arg(long)]
        to: String,
        #[arg(long)]
        database_ca: Option<PathBuf>,
        /// [default: <from-sled>/cluster.key]
        #[arg(long)]
        cluster_key: Option<PathBuf>,
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
    /// Back up the sled store and the identity files of a data dir into one file
    /// (with a manifest: layout, counts, SHA-256), consistent as of one moment; taken
    /// from the running collector while it serves, or from a stopped store.
    Backup {
        #[arg(long, default_value = "/var/lib/tend/collector")]
        data: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a new, empty data dir (refuses one that holds anything,
    /// and a damaged backup, before writing in place).
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[arg(long, default_value = "/var/lib/tend/collector")]
        data: PathBuf,
    },
    /// Print the enrollment bundle (JSON) for agents.
    Bundle {
        #[arg(long, default_value = "/var/lib/tend/collector")]
        data: PathBuf,
        /// URL agents use to reach this collector, e.g. https://tend.example.com:8443
        #[arg(long)]
        server: String,
        /// The company certificate chain the collector serves (`serve --tls-cert`):
        /// agents then pin the chain that issued it instead of the data dir's CA.
        #[arg(long)]
        tls_cert: Option<PathBuf>,
    },
    /// Create a user with an API token on a stopped collector. Users created here
    /// have no creator: two of them count as two people for the two-person rule
    /// (through the API an admin can only create users of its own lineage).
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Mint a token for a user (created if missing) on a stopped collector.
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Demo: collector on ./tend-data with this machine's agent enrolled.
    Demo {
        /// Data dir (relative paths are taken from the current folder).
        #[arg(long, default_value = "tend-data")]
        data: PathBuf,
        /// Address to listen on; when the default is taken, a free port is used.
        #[arg(long, env = "TEND_DEMO_LISTEN", default_value = tend_collector::demo::DEFAULT_LISTEN)]
        listen: String,
        /// The tend-agent binary [default: the one beside this executable].
        #[arg(long)]
        agent_bin: Option<PathBuf>,
    },
}

const DEFAULT_CONFIG: &str = "/etc/tend/collector.toml";

/// Which store an operator command works on: the data dir's sled store (the
/// collector must be stopped), or a PostgreSQL database (works beside running
/// collectors).
#[derive(clap::Args, Clone)]
struct StoreArgs {
    #[arg(long, default_value = "/var/lib/tend/collector")]
    data: PathBuf,
    #[arg(long, env = "TEND_DATABASE")]
    database: Option<String>,
    #[arg(long)]
    database_ca: Option<PathBuf>,
    #[arg(long)]
    cluster_key: Option<PathBuf>,
    /// Extra DNS names or IPs for the server certificate (init).
    #[arg(long = "san")]
    sans: Vec<String>,
}

impl StoreArgs {
    fn config(&self) -> CollectorConfig {
        CollectorConfig {
            data: absolute(self.data.clone()),
            database: self.database.clone(),
            database_ca: self.database_ca.clone(),
            cluster_key: self.cluster_key.clone(),
            sans: self.sans.clone(),
            ..CollectorConfig::default()
        }
    }

    async fn open(&self) -> anyhow::Result<tend_collector::store::Store> {
        let cfg = self.config();
        Ok(tend_collector::admin::open_store(&cfg.data, &cfg.backend()).await?)
    }
}

#[derive(Subcommand)]
enum ReleaseCmd {
    /// Store an agent binary as release VERSION for PLATFORM.
    Add {
        #[command(flatten)]
        at: StoreArgs,
        #[arg(long)]
        version: String,
        /// linux-x86_64, linux-aarch64 or macos-universal
        #[arg(long)]
        platform: tend_shared::releases::ReleasePlatform,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create the user and print its first API token.
    Add {
        #[command(flatten)]
        at: StoreArgs,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    Create {
        #[command(flatten)]
        at: StoreArgs,
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

/// `p` made absolute against the current folder (state paths are absolute from start-up on).
fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=warn,sled=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

/// `tend-collector validate`: the file, then the keys in its data dir if they exist.
fn validate(config: &std::path::Path) -> anyhow::Result<()> {
    let cfg = CollectorConfig::load(config, true)?;
    if cfg.data.join("ca.pem").exists() {
        tend_collector::pki::bundle(&cfg.data, "https://validate.invalid")
            .with_context(|| format!("{}: the data dir's keys", cfg.data.display()))?;
    }
    print_out(&format!(
        "{}: ok (listen {}, data {})\n",
        config.display(),
        cfg.listen,
        cfg.data.display()
    ));
    Ok(())
}

async fn release_add(
    at: StoreArgs,
    version: String,
    platform: tend_shared::releases::ReleasePlatform,
    file: PathBuf,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let store = at.open().await?;
    let r = tend_collector::releases::add_artifact(
        &store,
        tend_shared::now_ms(),
        tend_collector::releases::Uploader {
            id: "",
            name: "operator",
        },
        &version,
        platform,
        &bytes,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    print_out(&format!(
        "release {} stored for {} (sha256 {}); a second admin approves it (`tendctl release approve {}`), then `tendctl release promote {} --percent N`\n",
        r.version,
        platform,
        tend_shared::signing::sha256_hex(&bytes),
        r.version,
        r.version
    ));
    Ok(())
}

/// `backup --out` (with `out`) or `restore --from` (with `from`) of data dir `data`.
async fn backup_or_restore(
    out: Option<PathBuf>,
    from: Option<PathBuf>,
    data: PathBuf,
) -> anyhow::Result<()> {
    let data = absolute(data);
    let m = match (out, from) {
        (Some(out), _) => tend_collector::admin::backup(&data, &out).await?,
        (_, Some(from)) => tend_collector::admin::restore(&from, &data).await?,
        _ => anyhow::bail!("backup needs --out, restore --from"),
    };
    eprintln!("{}", m.summary());
    print_out(&format!("{}\n", serde_json::to_string_pretty(&m)?));
    Ok(())
}

async fn serve(cfg: CollectorConfig) -> anyhow::Result<()> {
    let backend = cfg.backend();
    let limits = Limits {
        body_limit_bytes: cfg.body_limit,
        event_retention: std::time::Duration::from_secs(cfg.event_retention_days * 86_400),
        allow_http_loopback_webhooks: cfg.allow_http_loopback_webhooks,
        trusted_proxies: cfg.trusted_proxies.clone(),
        rates: cfg.rates(),
        ..Limits::default()
    };
    let (data, listen) = (cfg.data.clone(), cfg.listen.clone());
    let collector = Collector::open_with(&data, &cfg.sans, Arc::new(SystemClock), limits, &backend)
        .await
        .with_context(|| format!("opening data dir {}", data.display()))?;
    let mut collector = collector;
    collector.own_cert = cfg.own_cert();
    collector.state.store.set_min_free(cfg.min_free_mb << 20);
    let listener =
        std::net::TcpListener::bind(&listen).with_context(|| format!("binding {listen}"))?;
    let stop = shutdown_signal();
    let addr = listener.local_addr()?;
    if let Some(t) = &collector.initial_admin_token {
        print_out(&format!("admin token (shown once, store it now): {t}\n"));
    }
    print_out(&format!("listening on https://{addr}\n"));
    tracing::info!(%addr, data = %data.display(), store = collector.state.store.engine().as_str(), "collector serving");
    collector.run(listener, stop).await?;
    tracing::info!("collector stopped cleanly");
    Ok(())
}

async fn demo(data: PathBuf, listen: String, agent_bin: Option<PathBuf>) -> anyhow::Result<()> {
    let stop = shutdown_signal();
    let agent_bin = match agent_bin {
        Some(b) => b,
        None => {
            tend_collector::demo::build_companions()?;
            tend_collector::demo::default_agent_bin()
        }
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let opts = tend_collector::demo::DemoOptions {
        data,
        listen,
        agent_bin: agent_bin.clone(),
    };
    let (info, done) = tend_collector::demo::start(opts, rx).await?;
    let bin_dir = std::path::absolute(&agent_bin)
        .ok()
        .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default();
    let mut text = format!(
        "\nTend demo is running (data in {}).\n",
        info.data.display()
    );
    if let Some(from) = &info.moved_from {
        text += &format!("  ({from} is taken; listening on another port)\n");
    }
    text += &format!(
        "  console:        {url}/
                  sign in as demo-admin, password {pw}
                  (demo-admin-2 approves what demo-admin submits; demo-analyst works
                  tickets; all three use this password)
  CA certificate: {ca}
  analyst token:  {analyst}   (works tickets, runs diagnostics and approved scripts)
  admin token:    {admin}   (submits scripts, changes the policy)
  second admin:   {admin2}   (approves what the first admin submitted)
  local device:   {device} ({host})
  agent:          state {state}, log {log}

Use the CLI from any folder (TEND_TOKEN is the analyst; $ADMIN and $ADMIN2 are the two admins):
  export PATH=\"{bin}:$PATH\" TEND_SERVER={url} TEND_CA=\"{ca}\" TEND_TOKEN={analyst} ADMIN={admin} ADMIN2={admin2} TEND_AGENT_STATE=\"{state}\" TEND_AGENT_SOCKET=\"{state}.sock\"
  tendctl devices
Ctrl-C stops it; running it again reuses the data.
",
        url = info.url,
        ca = info.ca_path.display(),
        analyst = info.analyst_token,
        admin = info.admin_token,
        admin2 = info.second_admin_token,
        pw = info.console_password,
        device = info.device_id,
        host = info.hostname,
        state = info.agent_state.display(),
        log = info.agent_log.display(),
        bin = bin_dir.display(),
    );
    print_out(&text);
    stop.await;
    let _ = tx.send(true);
    let _ = done.await;
    Ok(())
}

/// `tend-collector init`: the first collector on a database.
async fn init(at: StoreArgs) -> anyhow::Result<()> {
    let cfg = at.config();
    let tend_collector::server::Backend::Postgres { cluster_key, .. } = cfg.backend() else {
        anyhow::bail!("init prepares a PostgreSQL database: pass --database postgres://…");
    };
    let store = at.open().await?;
    let first = tend_collector::cluster::join(&store, &cfg.data, &cluster_key).await?;
    tend_collector::pki::load_or_create(&cfg.data, &cfg.sans)?;
    let admin =
        tend_collector::users::tokens::create_initial_admin(&store, tend_shared::now_ms()).await?;
    if first {
        print_out(&format!(
            "stored this collector's identity in the database, sealed with {}\n",
            cluster_key.display()
        ));
    } else {
        print_out("the database already had an identity; this data dir now holds it\n");
    }
    if let Some(t) = admin {
        print_out(&format!("admin token (shown once, store it now): {t}\n"));
    }
    print_out(&format!(
        "add a collector: copy {} to it, then `tend-collector serve --database … --cluster-key <copy>`\n",
        cluster_key.display()
    ));
    Ok(())
}

/// `tend-collector migrate`: a stopped sled collector's records into PostgreSQL.
async fn migrate(
    from: PathBuf,
    to: String,
    database_ca: Option<PathBuf>,
    cluster_key: Option<PathBuf>,
) -> anyhow::Result<()> {
    let from = absolute(from);
    let key = cluster_key
        .map(absolute)
        .unwrap_or_else(|| from.join("cluster.key"));
    let options = tend_collector::store::PgOptions {
        ca_file: database_ca,
        ..tend_collector::store::PgOptions::new(&to)
    };
    let m = tend_collector::admin::migrate(&from, &options, &key).await?;
    print_out(&format!(
        "copied {} keys: {} devices, {} tickets, {} jobs, {} audit entries, {} events; counts verified\n\
         the identity is stored in the database, sealed with {}\n\
         serve with: tend-collector serve --data {} --database '{}'\n",
        m.keys,
        m.devices,
        m.tickets,
        m.jobs,
        m.audit,
        m.events,
        key.display(),
        from.display(),
        to
    ));
    Ok(())
}

/// Prints to stdout; a closed pipe (`| head`) ends the program quietly, as SIGPIPE would.
fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("tend-collector: writing to stdout: {e}");
        std::process::exit(1);
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    tend_collector::server::install_crypto_provider();
    let result = match cli.cmd {
        Cmd::Completions { shell } => {
            tend_client::cli::print(&tend_client::docs::completions(Cli::command(), shell));
            Ok(())
        }
        Cmd::Man => {
            tend_client::cli::print(&tend_client::docs::man(Cli::command()));
            Ok(())
        }
        Cmd::Serve { flags } => match flags.config(std::path::Path::new(DEFAULT_CONFIG)) {
            Ok(cfg) => serve(cfg).await,
            Err(e) => Err(e.into()),
        },
        Cmd::Init { at } => init(at).await,
        Cmd::Migrate {
            from_sled,
            to,
            database_ca,
            cluster_key,
        } => migrate(from_sled, to, database_ca, cluster_key).await,
        Cmd::Validate { config } => validate(&config),
        Cmd::Release {
            cmd:
                ReleaseCmd::Add {
                    at,
                    version,
                    platform,
                    file,
                },
        } => release_add(at, version, platform, file).await,
        Cmd::Backup { data, out } => backup_or_restore(Some(out), None, data).await,
        Cmd::Restore { from, data } => backup_or_restore(None, Some(from), data).await,
        Cmd::Bundle {
            data,
            server,
            tls_cert,
        } => tend_collector::pki::bundle(&absolute(data), &server)
            .context("reading the collector identity")
            .and_then(|mut b| {
                if let Some(cert) = tls_cert {
                    let pem = std::fs::read_to_string(&cert)
                        .with_context(|| format!("reading {}", cert.display()))?;
                    b.ca_pem = tend_collector::server::tls::issuing_chain(&pem)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", cert.display()))?;
                }
                Ok(b)
            })
            .map(|b| {
                print_out(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&b).expect("bundle serializes")
                ))
            }),
        Cmd::User {
            cmd: UserCmd::Add { at, name, role },
        } => {
            async {
                let store = at.open().await?;
                let (_, token) = tend_collector::users::tokens::create_user(
                    &store,
                    tend_shared::now_ms(),
                    tend_collector::users::tokens::Creator::System,
                    &name,
                    role,
                )
                .await?;
                print_out(&format!("{token}\n"));
                anyhow::Ok(())
            }
            .await
        }
        Cmd::Token {
            cmd: TokenCmd::Create { at, role, name },
        } => {
            async {
                let store = at.open().await?;
                let token = tend_collector::users::tokens::operator_token(
                    &store,
                    tend_shared::now_ms(),
                    &name,
                    role,
                )
                .await?;
                print_out(&format!("{token}\n"));
                anyhow::Ok(())
            }
            .await
        }
        Cmd::Demo {
            data,
            listen,
            agent_bin,
        } => demo(data, listen, agent_bin).await,
    };
    if let Err(e) = result {
        eprintln!("tend-collector: {e:#}");
        std::process::exit(1);
    }
}
