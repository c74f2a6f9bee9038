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
    /// List tickets.
    Tickets {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        priority: Option<String>,
        #[arg(long)]
        device: Option<String>,
        #[arg(long)]
        problem_key: Option<String>,
        #[arg(long)]
        assignee: Option<String>,
        /// Only tickets that breached an SLA target.
        #[arg(long)]
        breached: bool,
        /// Only open tickets.
        #[arg(long)]
        open: bool,
        /// created | updated | priority | due
        #[arg(long)]
        sort: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show one ticket; with options, change it first.
    Ticket {
        id: String,
        #[arg(long)]
        status: Option<tend_shared::tickets::TicketStatus>,
        #[arg(long)]
        assignee: Option<String>,
        #[arg(long)]
        priority: Option<tend_shared::tickets::Priority>,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Fleet-wide problems (one problem key on many devices).
    Problems,
    /// Queue a built-in diagnostic on a device.
    Diagnose {
        device: String,
        /// ping, dns, http, disk-usage, top-processes, interfaces, routes,
        /// listening-ports, log-tail, inventory-refresh, health-now
        name: String,
        args: Vec<String>,
        /// Wait up to this many seconds for the result.
        #[arg(long, num_args = 0..=1, default_missing_value = "30")]
        wait: Option<u64>,
    },
    /// Approved scripts: list, submit, approve, revoke.
    Scripts {
        #[command(subcommand)]
        cmd: Option<ScriptCmd>,
    },
    /// Run an approved script on a device.
    Run {
        device: String,
        script_id: String,
        #[arg(long, num_args = 0..=1, default_missing_value = "60")]
        wait: Option<u64>,
    },
    /// Show one job.
    Job { id: String },
    /// Queue a diagnostic or script on every matching device, or show progress.
    Bulk {
        #[command(subcommand)]
        cmd: BulkCmd,
    },
    /// Reports.
    Report {
        #[command(subcommand)]
        cmd: ReportCmd,
    },
    /// Manage API tokens (admin).
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Agent releases and their rollout (list without a subcommand).
    Release {
        #[command(subcommand)]
        cmd: Option<ReleaseCmd>,
    },
}

#[derive(Subcommand)]
enum ReleaseCmd {
    /// List releases with their rollout state.
    List,
    /// One release: artifacts and rollout stages with their outcomes.
    Show { version: String },
    /// Upload an agent binary (admin); the collector signs what it offers.
    Add {
        #[arg(long)]
        version: String,
        /// linux-x86_64, linux-aarch64 or macos-universal
        #[arg(long)]
        platform: tend_shared::releases::ReleasePlatform,
        file: PathBuf,
    },
    /// Offer the release to this share of devices (stable by device id).
    Promote {
        version: String,
        #[arg(long)]
        percent: u8,
        /// Halt automatically when this share of a stage fails.
        #[arg(long)]
        failure_threshold: Option<u8>,
        /// Attempts a stage needs before it can halt.
        #[arg(long)]
        min_sample: Option<u64>,
    },
    /// Stop offering the release.
    Pause { version: String },
    /// Offer it again (also clears an automatic halt).
    Resume { version: String },
}

#[derive(Subcommand)]
enum ScriptCmd {
    /// Submit a script file (admin); a second admin approves it.
    Submit {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "sh")]
        interpreter: String,
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// root | console_user
        #[arg(long, default_value = "root")]
        run_as: String,
        file: PathBuf,
    },
    Approve {
        id: String,
    },
    Revoke {
        id: String,
    },
}

#[derive(Subcommand)]
enum BulkCmd {
    /// Queue a diagnostic on every matching device.
    Diagnose {
        #[arg(long)]
        platform: Option<String>,
        #[arg(long)]
        health: Option<String>,
        #[arg(long)]
        problem_key: Option<String>,
        name: String,
        args: Vec<String>,
    },
    /// Queue an approved script on every matching device.
    Run {
        #[arg(long)]
        platform: Option<String>,
        #[arg(long)]
        health: Option<String>,
        #[arg(long)]
        problem_key: Option<String>,
        script_id: String,
    },
    /// Progress of a bulk action by job state.
    Status { id: String },
}

#[derive(Subcommand)]
enum ReportCmd {
    /// Volume, time to own/resolve, backlog aging, breach/reopen rates, deflection.
    Sla {
        /// The last N days (default 30).
        #[arg(long, default_value_t = 30)]
        days: u64,
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
            let q = tend_collector::ctl::query(&[
                ("platform", platform),
                ("health", health),
                ("last_seen_older_than_s", offline_for.map(|s| s.to_string())),
            ]);
            ctl.devices(&q).await?
        }
        Cmd::Device { id } => ctl.device(&id).await?,
        Cmd::Assets => ctl.assets().await?,
        Cmd::Tickets {
            status,
            priority,
            device,
            problem_key,
            assignee,
            breached,
            open,
            sort,
            limit,
        } => {
            let q = tend_collector::ctl::query(&[
                ("status", status),
                ("priority", priority),
                ("device", device),
                ("problem_key", problem_key),
                ("assignee", assignee),
                ("sort", sort),
                ("limit", limit.map(|l| l.to_string())),
                ("breached", breached.then(|| "true".into())),
                ("open", open.then(|| "true".into())),
            ]);
            ctl.tickets(&q).await?
        }
        Cmd::Ticket {
            id,
            status,
            assignee,
            priority,
            comment,
        } => {
            let changes =
                status.is_some() || assignee.is_some() || priority.is_some() || comment.is_some();
            let patch = changes.then_some(tend_shared::tickets::TicketPatch {
                status,
                assignee,
                priority,
                comment,
            });
            ctl.ticket(&id, patch).await?
        }
        Cmd::Problems => ctl.problems().await?,
        Cmd::Diagnose {
            device,
            name,
            args,
            wait,
        } => ctl.diagnose(&device, &name, &args, wait).await?,
        Cmd::Run {
            device,
            script_id,
            wait,
        } => ctl.run_script(&device, &script_id, wait).await?,
        Cmd::Job { id } => ctl.job(&id).await?,
        Cmd::Scripts { cmd: None } => ctl.scripts().await?,
        Cmd::Scripts {
            cmd:
                Some(ScriptCmd::Submit {
                    name,
                    interpreter,
                    timeout,
                    run_as,
                    file,
                }),
        } => {
            let body = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let req = serde_json::json!({"name": name, "interpreter": interpreter, "timeout_s": timeout, "run_as": run_as, "body": body});
            let s: tend_shared::jobs::Script = ctl.client.post("/api/v1/scripts", &req).await?;
            format!(
                "script {} v{} submitted; awaiting approval by another admin",
                s.id, s.version
            )
        }
        Cmd::Scripts {
            cmd: Some(ScriptCmd::Approve { id }),
        } => {
            let s: tend_shared::jobs::Script = ctl
                .client
                .post(
                    &format!("/api/v1/scripts/{id}/approve"),
                    &serde_json::json!({}),
                )
                .await?;
            format!("script {} v{} approved and signed", s.id, s.version)
        }
        Cmd::Scripts {
            cmd: Some(ScriptCmd::Revoke { id }),
        } => {
            let v: Vec<tend_shared::jobs::Script> = ctl
                .client
                .post(
                    &format!("/api/v1/scripts/{id}/revoke"),
                    &serde_json::json!({}),
                )
                .await?;
            format!("script {id} revoked ({} version(s))", v.len())
        }
        Cmd::Bulk {
            cmd: BulkCmd::Status { id },
        } => ctl.bulk_status(&id).await?,
        Cmd::Bulk { cmd } => {
            let (platform, health, problem_key, action) = match cmd {
                BulkCmd::Diagnose {
                    platform,
                    health,
                    problem_key,
                    name,
                    args,
                } => (
                    platform,
                    health,
                    problem_key,
                    serde_json::json!({"type": "diagnostic", "name": name, "args": args}),
                ),
                BulkCmd::Run {
                    platform,
                    health,
                    problem_key,
                    script_id,
                } => (
                    platform,
                    health,
                    problem_key,
                    serde_json::json!({"type": "script", "script_id": script_id}),
                ),
                BulkCmd::Status { .. } => unreachable!("handled above"),
            };
            let req = serde_json::json!({"platform": platform, "health": health, "problem_key": problem_key, "action": action});
            let b: tend_shared::jobs::BulkStatus = ctl.client.post("/api/v1/bulk", &req).await?;
            format!(
                "bulk {} queued {} job(s); `tendctl bulk status {}` shows progress",
                b.id,
                b.job_ids.len(),
                b.id
            )
        }
        Cmd::Report {
            cmd: ReportCmd::Sla { days },
        } => {
            let to = tend_shared::now_ms() + 1;
            ctl.sla_report(&format!(
                "?from={}&to={to}",
                to.saturating_sub(days * 86_400_000)
            ))
            .await?
        }
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
        Cmd::Release { cmd } => release(&ctl, cmd).await?,
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

async fn release(ctl: &Ctl, cmd: Option<ReleaseCmd>) -> anyhow::Result<String> {
    use tend_shared::releases::RolloutPatch;
    Ok(match cmd.unwrap_or(ReleaseCmd::List) {
        ReleaseCmd::List => ctl.releases().await?,
        ReleaseCmd::Show { version } => ctl.release(&version).await?,
        ReleaseCmd::Add {
            version,
            platform,
            file,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            ctl.release_add(&version, platform, bytes).await?
        }
        ReleaseCmd::Promote {
            version,
            percent,
            failure_threshold,
            min_sample,
        } => {
            let patch = RolloutPatch {
                percent: Some(percent),
                failure_threshold_pct: failure_threshold,
                min_sample,
                ..Default::default()
            };
            ctl.release_rollout(&version, &patch).await?
        }
        ReleaseCmd::Pause { version } => {
            let patch = RolloutPatch {
                paused: Some(true),
                ..Default::default()
            };
            ctl.release_rollout(&version, &patch).await?
        }
        ReleaseCmd::Resume { version } => {
            let patch = RolloutPatch {
                paused: Some(false),
                ..Default::default()
            };
            ctl.release_rollout(&version, &patch).await?
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
