//! `tendctl`'s command line (clap). Where a command takes a DEVICE, an id, a unique id
//! prefix, a hostname or a serial number all work.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tend_shared::api::Role;

#[derive(Debug, Parser)]
#[command(name = "tendctl", version, about = "Tend analyst CLI")]
pub struct Cli {
    /// Collector URL.
    #[arg(long, env = "TEND_SERVER")]
    pub server: String,
    /// API token.
    #[arg(long, env = "TEND_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The collector's CA certificate (PEM file) to trust alone; without it the
    /// system's roots are trusted (`SSL_CERT_FILE` honoured), for a collector serving a
    /// publicly trusted or company-deployed certificate.
    #[arg(long, env = "TEND_CA")]
    pub ca: Option<PathBuf>,
    /// Print JSON instead of tables (every command).
    #[arg(long, global = true)]
    pub json: bool,
    /// Print device output and text byte for byte, terminal control characters
    /// included (otherwise they are shown as visible escapes such as `\x1b`).
    #[arg(long, global = true)]
    pub raw: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// How much of a list to show.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct PageArgs {
    /// Show at most this many (the collector pages through its indexes).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Show every one, however many pages.
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

impl PageArgs {
    /// The most to fetch (`None`: all).
    pub fn max(&self) -> Option<usize> {
        (!self.all).then_some(self.limit.max(1))
    }
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: tend_client::docs::Shell },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
    /// List devices.
    Devices {
        /// linux | macos
        #[arg(long)]
        platform: Option<String>,
        /// healthy | warning | failing | unknown
        #[arg(long)]
        health: Option<String>,
        /// Only devices silent for at least this many seconds.
        #[arg(long)]
        offline_for: Option<u64>,
        /// Hostname, serial, owner or id prefix.
        #[arg(long)]
        search: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one device: inventory, checks, asset, tickets, recent events.
    Device {
        /// Id, unique id prefix, hostname or serial.
        device: String,
        /// Admit its waiting re-enrollment (a reinstalled laptop without its old
        /// credentials); only the installation that asked gets in, within a day.
        #[arg(long)]
        approve_reenroll: bool,
        /// Revoke its token, retire its asset, close its open tickets (a stolen or
        /// returned laptop).
        #[arg(long, conflicts_with = "approve_reenroll")]
        decommission: bool,
    },
    /// Enrollment tokens for MDM pushes: expiring and use-limited, instead of the
    /// fleet-wide secret (admin).
    EnrollToken {
        #[command(subcommand)]
        cmd: EnrollTokenCmd,
    },
    /// Offboard a laptop, one step at a time: collect, then wipe, then retire
    /// (retiring revokes its device and closes its open tickets).
    Offboard {
        /// The asset id.
        asset: String,
        /// collect, wipe or retire.
        step: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List assets.
    Assets {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show the audit log, newest first (admin).
    Audit {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show or replace the health policy.
    Policy {
        #[command(subcommand)]
        cmd: PolicyCmd,
    },
    /// List tickets (the service desk queue).
    Tickets {
        /// new, in_progress, pending, resolved, closed — comma-separated — or `open`
        /// (new, in_progress and pending).
        #[arg(long)]
        status: Option<String>,
        /// P1, P2, P3 or P4.
        #[arg(long)]
        priority: Option<String>,
        /// Id, unique id prefix, hostname or serial.
        #[arg(long)]
        device: Option<String>,
        #[arg(long)]
        problem_key: Option<String>,
        /// A name, or `me` for the token's own user.
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
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one ticket; with options, change it first.
    Ticket {
        id: String,
        /// in_progress, pending, resolved or closed (only the moves the lifecycle allows).
        #[arg(long)]
        status: Option<tend_shared::tickets::TicketStatus>,
        /// A name, `me` for yourself, or "" to unassign.
        #[arg(long)]
        assignee: Option<String>,
        #[arg(long)]
        priority: Option<tend_shared::tickets::Priority>,
        #[arg(long)]
        comment: Option<String>,
        /// The comment is a reply the requester sees (`tend status`), not an internal note.
        #[arg(long, requires = "comment")]
        reply: bool,
    },
    /// Fleet-wide problems (one problem key on many devices).
    Problems,
    /// Queue a built-in diagnostic on a device.
    Diagnose {
        /// Id, unique id prefix, hostname or serial.
        device: String,
        /// ping HOST, dns HOST, http URL, disk-usage PATH, top-processes, interfaces,
        /// routes, listening-ports, log-tail journal|syslog|unified N, inventory-refresh,
        /// health-now
        name: String,
        args: Vec<String>,
        /// Wait up to this many seconds for the result (default 30); a diagnostic that
        /// did not succeed exits 1.
        #[arg(long, num_args = 0..=1, default_missing_value = "30")]
        wait: Option<u64>,
        #[command(flatten)]
        queue: QueueArgs,
    },
    /// Approved scripts: list, submit, approve, revoke.
    Scripts {
        #[command(subcommand)]
        cmd: Option<ScriptCmd>,
    },
    /// Run an approved script on a device.
    Run {
        /// Id, unique id prefix, hostname or serial.
        device: String,
        /// The script's id or name.
        script: String,
        /// Wait up to this many seconds for the result (default 60); a script that did
        /// not succeed exits 1.
        #[arg(long, num_args = 0..=1, default_missing_value = "60")]
        wait: Option<u64>,
        #[command(flatten)]
        queue: QueueArgs,
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
    /// API tokens: your own (admins see and revoke everyone's).
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Users (admin): add, list, disable.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Agent releases and their rollout (list without a subcommand).
    Release {
        #[command(subcommand)]
        cmd: Option<ReleaseCmd>,
    },
    /// Knowledge-base articles `tend help` shows before a request is filed.
    Kb {
        #[command(subcommand)]
        cmd: Option<KbCmd>,
        /// List the articles for this request category.
        #[arg(long)]
        category: Option<String>,
        /// List the articles for this problem key (`disk.free:/`).
        #[arg(long)]
        problem_key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KbCmd {
    /// Add an article from a markdown file (analyst).
    Add {
        #[arg(long)]
        title: String,
        /// A request category it answers (repeatable).
        #[arg(long = "category")]
        categories: Vec<String>,
        /// A problem key or prefix it answers (repeatable).
        #[arg(long = "problem-key")]
        problem_keys: Vec<String>,
        /// The body, markdown.
        file: std::path::PathBuf,
    },
    /// Show one article.
    Show { id: String },
    /// Remove an article (analyst).
    Rm { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCmd {
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
        /// The way back from a bad release: offer this (older) version to devices
        /// running a newer one too (the offer says so, signed).
        #[arg(long)]
        rollback: bool,
    },
    /// Approve the uploaded artifacts (an admin other than the uploader); nothing is
    /// offered before.
    Approve { version: String },
    /// Stop offering the release.
    Pause { version: String },
    /// Offer it again (also clears an automatic halt).
    Resume { version: String },
}

#[derive(Debug, Subcommand)]
pub enum ScriptCmd {
    /// Submit a script file (admin); a second, different admin approves it.
    Submit {
        #[arg(long)]
        name: String,
        /// sh, bash, zsh or python3.
        #[arg(long, default_value = "sh")]
        interpreter: String,
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// root | console_user
        #[arg(long, default_value = "root")]
        run_as: String,
        file: PathBuf,
    },
    /// Approve the version awaiting approval (admin, not the one who submitted it).
    Approve {
        /// The script's id or name.
        script: String,
    },
    /// Revoke every version; queued runs are rejected.
    Revoke {
        /// The script's id or name.
        script: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BulkCmd {
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

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Volume, time to own/resolve, backlog aging, breach/reopen rates, deflection.
    Sla {
        /// The last N days (default 30).
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// First-contact resolution, CSAT, deflection, MTTR and volume per week, category
    /// and assignee, laptop delivery time against the 21-day target.
    ServiceDesk {
        /// The last N days (default 90).
        #[arg(long, default_value_t = 90)]
        days: u64,
        /// Print one table as CSV: weeks, categories, assignees, delivery or late.
        #[arg(long)]
        csv: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    Show,
    /// Replace the policy with a JSON file (version is assigned by the collector).
    Set {
        file: PathBuf,
    },
    /// Change one check kind's thresholds (admin); the rest of the policy is kept.
    SetCheck {
        /// disk.free, memory.available, cpu.load, swap.used, battery.health,
        /// uptime.days, os.updates, disk.encryption, firewall.enabled, clock.sync,
        /// process.required or crash.recent
        kind: String,
        #[arg(long)]
        warn: Option<f64>,
        #[arg(long)]
        fail: Option<f64>,
        #[arg(long)]
        enabled: Option<bool>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// A new token for yourself (or for a user you created).
    Create {
        /// At most your own role [default: your role].
        #[arg(long)]
        role: Option<Role>,
        /// What it is for, shown in `token list`.
        #[arg(long)]
        label: Option<String>,
        /// Lifetime: 90m, 12h, 30d… [default: until revoked].
        #[arg(long, value_parser = parse_duration_s)]
        expires: Option<u64>,
        /// A user you created (name or id) [default: you].
        #[arg(long)]
        user: Option<String>,
    },
    /// Your tokens (admins: everyone's).
    List,
    /// Revoke a token by its id (`tk_…`, from `token list`).
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum EnrollTokenCmd {
    /// Create one; prints it (shown once), or writes a ready bundle with `--bundle`.
    Create {
        /// Lifetime: 12h, 7d… (at most 90 days).
        #[arg(long, value_parser = parse_duration_s, default_value = "7d")]
        expires: u64,
        /// Enrollments it admits.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        #[arg(long, default_value = "")]
        label: String,
        /// Write an enrollment bundle (server URL, CA, this token, signing key) here.
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    List,
    /// Re-enrollments waiting for approval and the last day's refused enrollments by
    /// source address (admin).
    Pending,
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user; prints its first token (give it to them).
    Add {
        name: String,
        /// viewer | analyst | admin
        #[arg(long)]
        role: Role,
    },
    List,
    /// Change your own console password: standard input holds the current password on
    /// its first line and the new one (at least 12 characters) on the second. With
    /// --code, the first line is instead a reset code an admin gave you. Nobody sets
    /// another user's password.
    Password {
        /// Your user name.
        user: String,
        /// The first line of standard input is a one-time reset code (`user reset`).
        #[arg(long)]
        code: bool,
    },
    /// Reset a user's password (admin): its old password, sessions and session tokens
    /// end, and a one-time code (24 h) lets its owner set a new one. Audited, and every
    /// admin is told; the user approves nothing until it sets its own password.
    Reset {
        /// Name or id.
        user: String,
    },
    /// Disable a user (its tokens stop working at once).
    Disable {
        /// Name or id.
        user: String,
    },
}

/// `90m`, `12h`, `30d`, `3600s` (or plain seconds) → seconds.
/// How long a job may wait for an offline device, and the ticket it is for.
#[derive(Debug, Clone, clap::Args)]
pub struct QueueArgs {
    /// Wait this long for an offline device (`90m`, `3d`, up to `14d`; default 1 day).
    #[arg(long, value_parser = parse_duration_s)]
    pub ttl: Option<u64>,
    /// Attach the result to this ticket of the device (`T-12`).
    #[arg(long)]
    pub ticket: Option<String>,
}

impl QueueArgs {
    /// The request fields.
    pub fn fields(&self) -> serde_json::Value {
        serde_json::json!({"ttl_s": self.ttl, "ticket_id": self.ticket})
    }
}

pub fn parse_duration_s(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30d, 12h or 90m"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => return Err(format!("unknown unit {other:?} (s, m, h, d, w)")),
    };
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{s:?} is out of range"))
}
