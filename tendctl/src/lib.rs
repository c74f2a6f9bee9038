//! `tendctl`: the analyst's command line. Talks to the collector's API over HTTPS,
//! trusting only the collector CA given by `--ca`/`TEND_CA`; prints tables, or JSON
//! with `--json` on every command.
//!
//! `args` is the command line, `run` dispatches it, `ctl` is the connected client,
//! `fmt` the shared text formatting, and one module per area renders its views.

pub mod args;
pub mod ctl;
pub mod fmt;

mod desk;
mod devices;
mod diag;
mod jobs;
mod kb;
mod releases;
mod tickets;
mod users;

use anyhow::Context;
use args::{
    BulkCmd, Cli, Cmd, EnrollTokenCmd, KbCmd, PolicyCmd, ReleaseCmd, ReportCmd, ScriptCmd,
    TokenCmd, UserCmd,
};
pub use ctl::{explain, Ctl, Output};
use fmt::{encode, query};
use tend_shared::policy::Policy;

/// The CA to trust alone (`--ca` / `TEND_CA`), or none: the system's roots.
fn ca_pem(path: Option<&std::path::Path>) -> anyhow::Result<Option<String>> {
    path.map(|p| {
        std::fs::read_to_string(p).with_context(|| {
            format!(
                "reading the CA certificate {} (--ca / TEND_CA)",
                p.display()
            )
        })
    })
    .transpose()
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<Output> {
    let ca = ca_pem(cli.ca.as_deref())?;
    let ctl = Ctl::new(&cli.server, &cli.token, ca.as_deref(), cli.json)?;
    let text = match cli.cmd {
        // answered before parsing by `main` (they need no server); here for completeness
        Cmd::Completions { shell } => {
            tend_client::docs::completions(<Cli as clap::CommandFactory>::command(), shell)
        }
        Cmd::Man => tend_client::docs::man(<Cli as clap::CommandFactory>::command()),
        Cmd::Devices {
            platform,
            health,
            offline_for,
            search,
            page,
        } => {
            let q = query(&[
                ("platform", platform),
                ("health", health),
                ("last_seen_older_than_s", offline_for.map(|s| s.to_string())),
                ("q", search),
            ]);
            ctl.devices(&q, page.max()).await?
        }
        Cmd::Device {
            device,
            approve_reenroll,
            decommission,
        } => {
            if approve_reenroll || decommission {
                ctl.device_action(&device, approve_reenroll).await?
            } else {
                ctl.device(&device).await?
            }
        }
        Cmd::EnrollToken { cmd } => enroll_token(&ctl, &cli.server, cmd).await?,
        Cmd::Assets { page } => ctl.assets(page.max()).await?,
        Cmd::Tickets {
            status,
            priority,
            device,
            problem_key,
            assignee,
            breached,
            open,
            sort,
            page,
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
                ("breached", breached.then(|| "true".into())),
                ("open", open.then(|| "true".into())),
            ]);
            ctl.tickets(&q, page.max()).await?
        }
        Cmd::Ticket {
            id,
            status,
            assignee,
            priority,
            comment,
            reply,
        } => {
            let changes =
                status.is_some() || assignee.is_some() || priority.is_some() || comment.is_some();
            let patch = changes.then_some(tend_shared::tickets::TicketPatch {
                status,
                assignee,
                priority,
                comment,
                public: reply,
            });
            ctl.ticket(&id, patch).await?
        }
        Cmd::Problems => ctl.problems().await?,
        Cmd::Diagnose {
            device,
            name,
            args,
            wait,
            queue,
        } => return ctl.diagnose(&device, &name, &args, wait, &queue).await,
        Cmd::Run {
            device,
            script,
            wait,
            queue,
        } => return ctl.run_script(&device, &script, wait, &queue).await,
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
            cmd: ReportCmd::ServiceDesk { days, csv },
        } => ctl.service_desk(days, csv.as_deref()).await?,
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
        Cmd::Audit { page } => ctl.audit(page.max()).await?,
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
            cmd:
                TokenCmd::Create {
                    role,
                    label,
                    expires,
                    user,
                },
        } => {
            let req = tend_shared::api::TokenCreate {
                user_id: user,
                role,
                label,
                expires_in_s: expires,
            };
            ctl.token_create(&req).await?
        }
        Cmd::Offboard { asset, step, note } => {
            let a: tend_shared::assets::Asset = ctl
                .client
                .post(
                    &format!("/api/v1/assets/{}/offboard", encode(&asset)),
                    &tend_shared::assets::Offboard { step, note },
                )
                .await?;
            ctl.show(&a, |a| {
                format!(
                    "{} ({}) is now {}\n",
                    a.id,
                    a.serial,
                    a.state.as_str().replace('_', " ")
                )
            })
        }
        Cmd::Kb {
            cmd,
            category,
            problem_key,
        } => match cmd {
            None => {
                ctl.kb_list(category.as_deref(), problem_key.as_deref())
                    .await?
            }
            Some(KbCmd::Add {
                title,
                categories,
                problem_keys,
                file,
            }) => {
                let body = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let w = tend_shared::kb::ArticleWrite {
                    title,
                    body,
                    problem_keys,
                    categories,
                };
                ctl.kb_add(&w).await?
            }
            Some(KbCmd::Show { id }) => ctl.kb_show(&id).await?,
            Some(KbCmd::Rm { id }) => ctl.kb_remove(&id).await?,
        },
        Cmd::Token {
            cmd: TokenCmd::List,
        } => ctl.tokens().await?,
        Cmd::Token {
            cmd: TokenCmd::Revoke { id },
        } => ctl.token_revoke(&id).await?,
        Cmd::User {
            cmd: UserCmd::Add { name, role },
        } => ctl.user_add(&name, role).await?,
        Cmd::User { cmd: UserCmd::List } => ctl.users().await?,
        Cmd::User {
            cmd: UserCmd::Disable { user },
        } => ctl.user_disable(&user).await?,
        Cmd::User {
            cmd: UserCmd::Password { user, code },
        } => {
            let mut lines = std::io::stdin().lines();
            let mut next = |what: &str| -> anyhow::Result<String> {
                lines
                    .next()
                    .with_context(|| format!("standard input ended before {what}"))?
                    .with_context(|| format!("reading {what} from standard input"))
            };
            let first = next(if code {
                "the reset code"
            } else {
                "the current password"
            })?;
            let new = next("the new password")?;
            if code {
                ctl.user_redeem(&user, first.trim(), &new).await?
            } else {
                ctl.user_password(&user, &first, &new).await?
            }
        }
        Cmd::User {
            cmd: UserCmd::Reset { user },
        } => ctl.user_reset(&user).await?,
    };
    Ok(Output::ok(text))
}

async fn enroll_token(ctl: &Ctl, server: &str, cmd: EnrollTokenCmd) -> anyhow::Result<String> {
    use tend_shared::enroll::{EnrollTokenCreated, EnrollTokenInfo};
    Ok(match cmd {
        EnrollTokenCmd::Create {
            expires,
            uses,
            label,
            bundle,
        } => {
            let c: EnrollTokenCreated = ctl
                .client
                .post(
                    "/api/v1/enroll-tokens",
                    &serde_json::json!({"expires_in_s": expires, "uses": uses, "label": label}),
                )
                .await?;
            if let Some(path) = &bundle {
                let b = tend_shared::bundle::EnrollmentBundle {
                    server_url: server.trim_end_matches('/').to_string(),
                    ca_pem: c.ca_pem.clone(),
                    enroll_secret: c.token.clone(),
                    signing_public_key: c.signing_public_key.clone(),
                };
                std::fs::write(path, serde_json::to_vec_pretty(&b)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            ctl.show(&c, |c| match &bundle {
                Some(p) => format!(
                    "enrollment token {} ({} use(s), expires {}) written into the bundle {}",
                    c.info.id,
                    c.info.max_uses,
                    fmt::fmt_ms(c.info.expires_at_ms),
                    p.display()
                ),
                None => c.token.clone(),
            })
        }
        EnrollTokenCmd::List => {
            let list: Vec<EnrollTokenInfo> = ctl.client.get("/api/v1/enroll-tokens").await?;
            ctl.show(&list, |l| {
                let rows: Vec<Vec<String>> = l
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            t.label.clone(),
                            format!("{}/{}", t.uses, t.max_uses),
                            fmt::fmt_ms(t.expires_at_ms),
                            if t.revoked { "revoked" } else { "live" }.into(),
                            t.created_by.clone(),
                        ]
                    })
                    .collect();
                fmt::table_or(
                    "enrollment tokens",
                    &["id", "label", "used", "expires", "state", "created by"],
                    &rows,
                )
            })
        }
        EnrollTokenCmd::Pending => {
            let v: tend_shared::enroll::EnrollmentsView =
                ctl.client.get("/api/v1/enrollments").await?;
            ctl.show(&v, |v| {
                let pending: Vec<Vec<String>> = v
                    .pending
                    .iter()
                    .map(|p| {
                        vec![
                            p.device_id.clone(),
                            p.hostname.clone(),
                            p.source.clone(),
                            fmt::fmt_ms(p.requested_at_ms),
                        ]
                    })
                    .collect();
                let refused: Vec<Vec<String>> = v
                    .refused
                    .iter()
                    .map(|r| {
                        vec![
                            r.source.clone(),
                            r.attempts.to_string(),
                            fmt::fmt_ms(r.last_at_ms),
                            r.reasons.join(", "),
                        ]
                    })
                    .collect();
                format!(
                    "{}\n{}",
                    fmt::table_or(
                        "re-enrollments waiting (tendctl device ID --approve-reenroll)",
                        &["device", "hostname", "from", "asked"],
                        &pending
                    ),
                    fmt::table_or(
                        "refused enrollments in the last 24 h",
                        &["from", "attempts", "last", "why"],
                        &refused
                    )
                )
            })
        }
        EnrollTokenCmd::Revoke { id } => {
            let t: EnrollTokenInfo = ctl
                .client
                .delete_json(&format!("/api/v1/enroll-tokens/{}", encode(&id)))
                .await?;
            ctl.show(&t, |t| {
                format!("enrollment token {} revoked after {} use(s)", t.id, t.uses)
            })
        }
    })
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
            rollback,
        } => {
            let patch = RolloutPatch {
                percent: Some(percent),
                failure_threshold_pct: failure_threshold,
                min_sample,
                rollback: rollback.then_some(true),
                ..Default::default()
            };
            ctl.release_rollout(&version, &patch).await?
        }
        ReleaseCmd::Approve { version } => ctl.release_approve(&version).await?,
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
