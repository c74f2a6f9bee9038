//! `tendctl`: the analyst's command line. Talks to the collector's API over HTTPS,
//! trusting only the collector CA given by `--ca`/`TEND_CA`; prints tables, or JSON
//! with `--json` on every command.
//!
//! `args` is the command line, `run` dispatches it, `ctl` is the connected client,
//! `fmt` the shared text formatting, and one module per area renders its views.

pub mod args;
pub mod ctl;
pub mod fmt;

mod devices;
mod diag;
mod jobs;
mod releases;
mod tickets;

use anyhow::Context;
use args::{BulkCmd, Cli, Cmd, PolicyCmd, ReleaseCmd, ReportCmd, ScriptCmd, TokenCmd};
pub use ctl::{explain, Ctl, Output};
use fmt::{encode, query};
use tend_shared::policy::Policy;

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<Output> {
    let ca = std::fs::read_to_string(&cli.ca).with_context(|| {
        format!(
            "reading the CA certificate {} (--ca / TEND_CA)",
            cli.ca.display()
        )
    })?;
    let ctl = Ctl::new(&cli.server, &cli.token, &ca, cli.json)?;
    let text = match cli.cmd {
        Cmd::Devices {
            platform,
            health,
            offline_for,
            search,
        } => {
            let q = query(&[
                ("platform", platform),
                ("health", health),
                ("last_seen_older_than_s", offline_for.map(|s| s.to_string())),
                ("q", search),
            ]);
            ctl.devices(&q).await?
        }
        Cmd::Device { device } => ctl.device(&device).await?,
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
            let device = match device {
                Some(d) => Some(ctl.resolve_device(&d).await?),
                None => None,
            };
            let q = query(&[
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
        } => return ctl.diagnose(&device, &name, &args, wait).await,
        Cmd::Run {
            device,
            script,
            wait,
        } => return ctl.run_script(&device, &script, wait).await,
        Cmd::Job { id } => ctl.job(&id).await?,
        Cmd::Scripts { cmd } => scripts(&ctl, cmd).await?,
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
                    serde_json::json!({"type": "script", "script_id": ctl.resolve_script(&script_id).await?}),
                ),
                BulkCmd::Status { .. } => unreachable!("handled above"),
            };
            let req = serde_json::json!({"platform": platform, "health": health, "problem_key": problem_key, "action": action});
            ctl.bulk_create(&req).await?
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
            ctl.show(&stored, |p| format!("policy version {} stored", p.version))
        }
        Cmd::Policy {
            cmd:
                PolicyCmd::SetCheck {
                    kind,
                    warn,
                    fail,
                    enabled,
                },
        } => {
            let mut p: Policy = ctl.client.get("/api/v1/policy").await?;
            anyhow::ensure!(
                tend_shared::policy::checks::ALL.contains(&kind.as_str()),
                "unknown check kind {kind:?} ({})",
                tend_shared::policy::checks::ALL.join(", ")
            );
            let mut c = p.check(&kind);
            c.warn = warn.or(c.warn);
            c.fail = fail.or(c.fail);
            c.enabled = enabled.unwrap_or(c.enabled);
            p.checks.insert(kind.clone(), c);
            let stored: Policy = ctl.client.put("/api/v1/policy", &p).await?;
            ctl.show(&stored, |p| {
                let c = p.check(&kind);
                format!(
                    "policy version {} stored: {} {} ({})",
                    p.version,
                    kind,
                    if c.enabled { "enabled" } else { "disabled" },
                    tend_shared::policy::threshold_words(
                        &kind,
                        &serde_json::json!({"warn": c.warn, "fail": c.fail})
                    )
                )
            })
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
            ctl.show(&v, |v| v["token"].as_str().unwrap_or_default().to_string())
        }
    };
    Ok(Output::ok(text))
}

async fn scripts(ctl: &Ctl, cmd: Option<ScriptCmd>) -> anyhow::Result<String> {
    Ok(match cmd {
        None => ctl.scripts().await?,
        Some(ScriptCmd::Submit {
            name,
            interpreter,
            timeout,
            run_as,
            file,
        }) => {
            let body = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let req = serde_json::json!({"name": name, "interpreter": interpreter, "timeout_s": timeout, "run_as": run_as, "body": body});
            ctl.script_action("/api/v1/scripts", &req, |s| {
                format!(
                    "script {} ({}) v{} submitted by {}; a different admin approves it with `tendctl scripts approve {}`",
                    s.name, s.id, s.version, s.submitted_by, s.id
                )
            })
            .await?
        }
        Some(ScriptCmd::Approve { script }) => {
            let id = ctl.resolve_script(&script).await?;
            ctl.script_action(
                &format!("/api/v1/scripts/{}/approve", encode(&id)),
                &serde_json::json!({}),
                |s| {
                    format!(
                        "script {} ({}) v{} approved by {} and signed; run it with `tendctl run DEVICE {}`",
                        s.name,
                        s.id,
                        s.version,
                        s.approved_by.as_deref().unwrap_or("-"),
                        s.name
                    )
                },
            )
            .await?
        }
        Some(ScriptCmd::Revoke { script }) => {
            let id = ctl.resolve_script(&script).await?;
            ctl.script_action(
                &format!("/api/v1/scripts/{}/revoke", encode(&id)),
                &serde_json::json!({}),
                |s| {
                    format!(
                        "script {} ({}) revoked; queued runs are rejected",
                        s.name, s.id
                    )
                },
            )
            .await?
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
