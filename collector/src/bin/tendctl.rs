//! `tendctl`: the analyst CLI (`devices`, `device ID`, `assets`, `audit`, `policy`, `token`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tend_collector::ctl::Ctl;
use tend_shared::api::Role;
use tend_shared::policy::Policy;

#[derive(Parser)]
#[command(name = "tendctl", version, about = "Tend analyst CLI")]
struct Cli {
    /// Collector URL.
    #[arg(long, env = "TEND_SERVER")]
    server: String,
    /// API token.
    #[arg(long, env = "TEND_TOKEN", hide_env_values = true)]
    token: String,
    /// The collector's CA certificate (PEM file).
    #[arg(long, env = "TEND_CA")]
    ca: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List devices.
    Devices {
        #[arg(long)]
        platform: Option<String>,
        #[arg(long)]
        health: Option<String>,
        /// Only devices silent for at least this many seconds.
        #[arg(long)]
        offline_for: Option<u64>,
    },
    /// Show one device.
    Device { id: String },
    /// List assets.
    Assets,
    /// Show the audit log (admin).
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show or replace the health policy.
    Policy {
        #[command(subcommand)]
        cmd: PolicyCmd,
    },
    /// Manage API tokens (admin).
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
}

#[derive(Subcommand)]
enum PolicyCmd {
    Show,
    /// Replace the policy with a JSON file (version is assigned by the collector).
    Set {
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    Create {
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: String,
    },
}

async fn run(cli: Cli) -> anyhow::Result<String> {
    let ca = std::fs::read_to_string(&cli.ca)
        .with_context(|| format!("reading CA {}", cli.ca.display()))?;
    let ctl = Ctl::new(&cli.server, &cli.token, &ca, cli.json)?;
    Ok(match cli.cmd {
        Cmd::Devices {
            platform,
            health,
            offline_for,
        } => {
            let mut q = Vec::new();
            if let Some(p) = platform {
                q.push(format!("platform={p}"));
            }
            if let Some(h) = health {
                q.push(format!("health={h}"));
            }
            if let Some(s) = offline_for {
                q.push(format!("last_seen_older_than_s={s}"));
            }
            let query = if q.is_empty() {
                String::new()
            } else {
                format!("?{}", q.join("&"))
            };
            ctl.devices(&query).await?
        }
        Cmd::Device { id } => ctl.device(&id).await?,
        Cmd::Assets => ctl.assets().await?,
        Cmd::Audit { limit } => ctl.audit(limit).await?,
        Cmd::Policy {
            cmd: PolicyCmd::Show,
        } => {
            let p: Policy = ctl.client.get("/api/v1/policy").await?;
            serde_json::to_string_pretty(&p)?
        }
        Cmd::Policy {
            cmd: PolicyCmd::Set { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let p: Policy = serde_json::from_str(&text).context("parsing the policy file")?;
            let stored: Policy = ctl.client.put("/api/v1/policy", &p).await?;
            format!("policy version {} stored", stored.version)
        }
        Cmd::Token {
            cmd: TokenCmd::Create { role, name },
        } => {
            let v: serde_json::Value = ctl
                .client
                .post(
                    "/api/v1/tokens",
                    &serde_json::json!({"role": role, "name": name}),
                )
                .await?;
            v["token"].as_str().unwrap_or_default().to_string()
        }
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(out) => print!("{}{}", out, if out.ends_with('\n') { "" } else { "\n" }),
        Err(e) => {
            eprintln!("tendctl: {e:#}");
            std::process::exit(1);
        }
    }
}
