//! What the agent does for the person at the device (`tend`, through `crate::local`):
//! `help` files a user ticket with the evidence that fits its category (spooled, so it
//! works offline), `status` says this device's health in words, lists the asking
//! user's tickets with the analysts' public replies, and shows what IT ran here; `rate`
//! sends the requester's CSAT. The records behind it (`user-tickets.json`,
//! `ran-here.json`) are the agent's own, in its private state dir.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tend_shared::health::CheckStatus;
use tend_shared::local::{
    HealthLine, KbChoice, LocalRequest, LocalResponse, LocalStatus, RanHere, UserTicket,
    MAX_HELP_TEXT,
};
use tend_shared::tickets::{RequesterView, TicketRequest, USER_CATEGORIES};

use super::Agent;
use crate::local::LocalCall;
use crate::state::{write_private, StateDir};

/// Entries each record keeps.
const KEPT: usize = 200;
/// Help requests one user may file per hour.
const HELP_PER_HOUR: usize = 5;

/// A ticket filed for a local user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Filed {
    pub request_id: String,
    pub uid: u32,
    pub user: String,
    pub summary: String,
    pub filed_at_ms: u64,
    #[serde(default)]
    pub ticket: Option<String>,
    /// Public replies the user was told about.
    #[serde(default)]
    pub replies_seen: usize,
    /// The user was told it is resolved (it is no longer followed).
    #[serde(default)]
    pub done: bool,
}

/// A bounded JSON list in the state dir (newest last).
#[derive(Debug)]
pub struct Record<T> {
    path: std::path::PathBuf,
    pub items: Vec<T>,
}

impl<T: Serialize + for<'de> Deserialize<'de>> Record<T> {
    pub fn open(state: &StateDir, name: &str) -> Record<T> {
        let path = state.path().join(name);
        let items = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Record { path, items }
    }

    pub fn push(&mut self, item: T) {
        self.items.push(item);
        let over = self.items.len().saturating_sub(KEPT);
        self.items.drain(..over);
        self.save();
    }

    pub fn save(&self) {
        if let Ok(b) = serde_json::to_vec(&self.items) {
            if let Err(e) = write_private(&self.path, &b) {
                tracing::warn!(error = %e, file = %self.path.display(), "saving a local record");
            }
        }
    }
}

fn error(message: impl Into<String>) -> LocalResponse {
    LocalResponse::Error {
        message: message.into(),
    }
}

/// The diagnostics whose results go with a help request of `category`.
fn diagnostics_for(category: &str, user: &str, server: &str) -> Vec<(String, Vec<String>)> {
    // https://host:port/… → host (an IPv6 literal keeps no brackets)
    let authority = server
        .split_once("://")
        .map_or(server, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or("").to_string(),
        None => authority.split(':').next().unwrap_or("").to_string(),
    };
    let d = |name: &str, args: &[&str]| {
        (
            name.to_string(),
            args.iter().map(|a| a.to_string()).collect(),
        )
    };
    match category {
        "network" => vec![
            d("interfaces", &[]),
            d("routes", &[]),
            d("dns", &[&host]),
            d(
                "http",
                &[&format!("{}/healthz", server.trim_end_matches('/'))],
            ),
        ],
        "disk" => {
            let home = format!("/home/{user}");
            if std::path::Path::new(&home).is_dir() {
                vec![d("disk-usage", &[&home])]
            } else {
                vec![d("disk-usage", &["/tmp"])]
            }
        }
        "performance" => vec![d("top-processes", &[])],
        _ => Vec::new(),
    }
}

impl Agent {
    /// Answers one local request.
    pub(crate) async fn on_local(&mut self, call: LocalCall) {
        let r = match call.request {
            LocalRequest::Help { text, category, kb } => match kb {
                KbChoice::Ask => match self.suggestions(&category).await {
                    Some(articles) => LocalResponse::Suggest { articles },
                    None => self.help(call.uid, &call.user, &text, &category).await,
                },
                KbChoice::File => self.help(call.uid, &call.user, &text, &category).await,
                KbChoice::Withdraw { article } => self.withdraw(&article).await,
            },
            LocalRequest::Status => self.local_status(call.uid).await,
            LocalRequest::Rate {
                ticket,
                score,
                comment,
            } => {
                self.rate(call.uid, &call.user, &ticket, score, &comment)
                    .await
            }
        };
        let _ = call.reply.send(r);
    }

    async fn help(&mut self, uid: u32, user: &str, text: &str, category: &str) -> LocalResponse {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_HELP_TEXT {
            return error(format!(
                "say what is wrong in 1 to {MAX_HELP_TEXT} characters"
            ));
        }
        if !USER_CATEGORIES.contains(&category) {
            return error(format!("category is one of {}", USER_CATEGORIES.join(", ")));
        }
        let now = tend_shared::now_ms();
        let recent = self
            .user_tickets
            .items
            .iter()
            .filter(|f| f.uid == uid && now.saturating_sub(f.filed_at_ms) < 3_600_000)
            .count();
        if recent >= HELP_PER_HOUR {
            return error("you asked for help 5 times this hour; IT has those requests");
        }
        let server = self
            .state
            .credentials()
            .map(|c| c.server_url)
            .unwrap_or_default();
        let mut diagnostics = serde_json::Map::new();
        for (name, args) in diagnostics_for(category, user, &server) {
            let (n, a) = (name.clone(), args.clone());
            let r = tokio::task::spawn_blocking(move || crate::jobs::diagnostics::run(&n, &a))
                .await
                .unwrap_or_else(|e| crate::jobs::exec::rejected(format!("{e}")));
            let mut out = r.stdout;
            tend_shared::text::clip_in_place(&mut out, 4096);
            diagnostics.insert(
                format!("{name} {}", args.join(" ")).trim().to_string(),
                serde_json::json!({"state": r.state, "output": r.output, "text": out, "reason": r.reason}),
            );
        }
        let health: Vec<_> = self
            .health
            .iter()
            .map(|c| serde_json::json!({"check": c.id, "status": c.status, "message": c.message}))
            .collect();
        let hostname = self
            .inventory
            .as_ref()
            .map_or("this device", |i| i.hostname.as_str())
            .to_string();
        let summary: String = text
            .lines()
            .next()
            .unwrap_or(text)
            .chars()
            .take(120)
            .collect();
        let mut id = [0u8; 12];
        let _ = getrandom::getrandom(&mut id);
        let req = TicketRequest {
            request_id: format!("help-{}", hex::encode(id)),
            device_id: None,
            problem_key: format!("help.{category}"),
            severity: tend_shared::health::Severity::Medium,
            summary: summary.clone(),
            description: format!("{text}\n\nAsked by {user} on {hostname} with `tend help`."),
            check: None,
            evidence: serde_json::json!({
                "requested_by": user, "category": category, "health": health,
                "diagnostics": diagnostics, "agent_version": crate::VERSION,
            }),
            observed_at_ms: now,
            requester: Some(user.to_string()),
            category: Some(category.to_string()),
        };
        if let Err(e) = self.spool.push_ticket(&req) {
            return error(format!("could not keep the request: {e}"));
        }
        self.user_tickets.push(Filed {
            request_id: req.request_id.clone(),
            uid,
            user: user.to_string(),
            summary,
            filed_at_ms: now,
            ticket: None,
            replies_seen: 0,
            done: false,
        });
        // file it now if the collector is there; it waits in the spool otherwise
        let _ = self.file_tickets().await;
        let ticket = self
            .user_tickets
            .items
            .iter()
            .find(|f| f.request_id == req.request_id)
            .and_then(|f| f.ticket.clone());
        match &ticket {
            Some(t) => self.notifier.send(
                uid,
                &format!("Your request is {t}"),
                &format!("IT has it, with this laptop's details: {text}"),
            ),
            None => self.notifier.send(
                uid,
                "Your request is saved",
                "It goes to IT as soon as this laptop is back online.",
            ),
        }
        let message = match &ticket {
            Some(t) => format!(
                "Filed as {t}. IT has the details of this device; `tend status` shows replies."
            ),
            None => {
                "Saved; it is filed as soon as this device reaches IT (`tend status` shows it)."
                    .into()
            }
        };
        LocalResponse::Filed {
            request_id: req.request_id,
            ticket,
            message,
        }
    }

    /// Knowledge-base articles for a request of `category` and this device's failing
    /// checks; `None` when there are none or IT cannot be reached (then it is filed).
    async fn suggestions(&mut self, category: &str) -> Option<Vec<tend_shared::kb::Article>> {
        let failing: Vec<String> = self
            .health
            .iter()
            .filter(|c| c.status != CheckStatus::Pass)
            .map(|c| c.id.clone())
            .collect();
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        let path = format!(
            "/api/v1/device/kb?category={}&problem_key={}",
            enc(category),
            enc(&failing.join(","))
        );
        let articles: Vec<tend_shared::kb::Article> = self
            .client
            .get_with_timeout(&path, Duration::from_secs(5))
            .await
            .ok()?;
        (!articles.is_empty()).then_some(articles)
    }

    async fn withdraw(&mut self, article: &str) -> LocalResponse {
        let safe: String = article
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        match self
            .client
            .post::<_, serde_json::Value>(&format!("/api/v1/device/kb/{safe}/withdrawn"), &serde_json::json!({}))
            .await
        {
            Ok(_) => LocalResponse::Withdrawn {
                message: "Glad that helped. Nothing was sent to IT; `tend help` is there if it comes back.".into(),
            },
            Err(e) => error(format!("{e}")),
        }
    }

    /// After a check-in, at most every 5 minutes and for 5 s at most: tells each user
    /// about IT's new replies on their open requests and about resolutions (with the
    /// CSAT prompt). A handful of requests per pass; the agent loop waits on nothing
    /// longer.
    pub(crate) async fn follow_user_tickets(&mut self) {
        if self
            .followed_at
            .is_some_and(|t| t.elapsed() < Duration::from_secs(300))
        {
            return;
        }
        self.followed_at = Some(tokio::time::Instant::now());
        let _ = tokio::time::timeout(Duration::from_secs(5), self.follow_pass()).await;
    }

    async fn follow_pass(&mut self) {
        let now = tend_shared::now_ms();
        let open: Vec<(usize, String)> = self
            .user_tickets
            .items
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.done && now.saturating_sub(f.filed_at_ms) < 30 * 86_400_000)
            .filter_map(|(i, f)| f.ticket.clone().map(|t| (i, t)))
            .take(10)
            .collect();
        let mut changed = false;
        for (i, t) in open {
            let Ok(v) = self
                .client
                .get_with_timeout::<RequesterView>(
                    &format!("/api/v1/device/tickets/{t}"),
                    Duration::from_secs(5),
                )
                .await
            else {
                continue;
            };
            let f = &mut self.user_tickets.items[i];
            let uid = f.uid;
            if v.replies.len() > f.replies_seen {
                let last = v
                    .replies
                    .last()
                    .map(|r| format!("{}: {}", r.by, r.text))
                    .unwrap_or_default();
                f.replies_seen = v.replies.len();
                changed = true;
                self.notifier
                    .send(uid, &format!("IT replied on {t}"), &last);
            }
            let f = &mut self.user_tickets.items[i];
            if matches!(v.status.as_str(), "resolved" | "closed") {
                f.done = true;
                changed = true;
                self.notifier.send(
                    uid,
                    &format!("{t} is resolved"),
                    &format!("How did we do? tend rate {t} 1..5"),
                );
            }
        }
        if changed {
            self.user_tickets.save();
        }
    }

    /// Records the ticket a user's request became (called when it was filed).
    pub(crate) fn user_ticket_filed(&mut self, request_id: &str, ticket: &str) {
        if let Some(f) = self
            .user_tickets
            .items
            .iter_mut()
            .find(|f| f.request_id == request_id)
        {
            f.ticket = Some(ticket.to_string());
            self.user_tickets.save();
        }
    }

    async fn local_status(&mut self, uid: u32) -> LocalResponse {
        let problems: Vec<HealthLine> = self
            .health
            .iter()
            .filter(|c| c.status != CheckStatus::Pass)
            .map(|c| HealthLine {
                check: c.id.clone(),
                status: c.status.as_str().to_string(),
                message: c.message.clone(),
            })
            .collect();
        let health = tend_shared::health::HealthStatus::from_results(&self.health);
        let mut online = true;
        let mut tickets = Vec::new();
        let mine: Vec<Filed> = self
            .user_tickets
            .items
            .iter()
            .filter(|f| f.uid == uid)
            .rev()
            .take(20)
            .cloned()
            .collect();
        for f in mine {
            let mut view = None;
            if let (Some(t), true) = (&f.ticket, online) {
                match self
                    .client
                    .get_with_timeout::<RequesterView>(
                        &format!("/api/v1/device/tickets/{t}"),
                        Duration::from_secs(5),
                    )
                    .await
                {
                    Ok(v) => view = Some(v),
                    Err(e) if e.status().is_none() => online = false,
                    Err(_) => {}
                }
            }
            tickets.push(UserTicket {
                request_id: f.request_id,
                summary: f.summary,
                filed_at_ms: f.filed_at_ms,
                ticket: f.ticket,
                status: view.as_ref().map(|v| v.status),
                view,
            });
        }
        let ran_here = self
            .ran_here
            .lock()
            .map(|l| l.items.iter().rev().take(50).cloned().collect())
            .unwrap_or_default();
        LocalResponse::Status(Box::new(LocalStatus {
            hostname: self
                .inventory
                .as_ref()
                .map(|i| i.hostname.clone())
                .unwrap_or_default(),
            health: health.as_str().to_string(),
            problems,
            tickets,
            ran_here,
            online,
        }))
    }

    async fn rate(
        &mut self,
        uid: u32,
        user: &str,
        ticket: &str,
        score: u8,
        comment: &str,
    ) -> LocalResponse {
        let mine = self
            .user_tickets
            .items
            .iter()
            .any(|f| f.uid == uid && f.ticket.as_deref() == Some(ticket));
        if !mine {
            return error(format!(
                "{ticket} is not one of your tickets on this device"
            ));
        }
        if !(1..=5).contains(&score) {
            return error("a rating is 1 (bad) to 5 (great)");
        }
        let body = tend_shared::tickets::CsatRequest {
            requester: user.to_string(),
            score,
            comment: comment.chars().take(2000).collect(),
        };
        match self
            .client
            .post::<_, RequesterView>(&format!("/api/v1/tickets/{ticket}/csat"), &body)
            .await
        {
            Ok(_) => LocalResponse::Rated {
                ticket: ticket.to_string(),
            },
            Err(e) => error(format!("{e}")),
        }
    }
}

/// The transparency log, shared with the tasks that run jobs.
pub type RanLog = std::sync::Arc<std::sync::Mutex<Record<RanHere>>>;

/// A job about to run, to be noted in the transparency log when it ends.
pub struct Note {
    log: RanLog,
    entry: RanHere,
}

impl Note {
    pub fn new(log: &RanLog, job: &tend_shared::jobs::Job) -> Note {
        use tend_shared::jobs::JobSpec;
        let (kind, what, submitted_by, approved_by) = match &job.spec {
            JobSpec::Diagnostic { name, args } => (
                "diagnostic",
                format!("{name} {}", args.join(" ")).trim().to_string(),
                String::new(),
                String::new(),
            ),
            JobSpec::Script(s) => (
                "script",
                format!(
                    "{} v{}",
                    if s.name.is_empty() {
                        &s.script_id
                    } else {
                        &s.name
                    },
                    s.version
                ),
                s.submitted_by.clone(),
                s.approved_by.clone(),
            ),
        };
        Note {
            log: log.clone(),
            entry: RanHere {
                at_ms: tend_shared::now_ms(),
                kind: kind.into(),
                what,
                queued_by: job
                    .created_by
                    .strip_prefix("user:")
                    .unwrap_or(&job.created_by)
                    .to_string(),
                submitted_by,
                approved_by,
                state: String::new(),
                exit_code: None,
            },
        }
    }

    /// Notes how it ended.
    pub fn done(mut self, r: &tend_shared::jobs::JobResult) {
        self.entry.state = serde_json::to_value(r.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.entry.exit_code = r.exit_code;
        if let Ok(mut log) = self.log.lock() {
            log.push(self.entry);
        }
    }
}
