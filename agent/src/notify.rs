//! Desktop notifications for the person at the laptop: self-healing fixed something, a
//! ticket was filed, IT replied, a request was resolved (with the CSAT prompt). Linux:
//! the freedesktop notification service on the user's session bus (`dbus-send`, run
//! as that user); macOS: the user's notification centre (`osascript` in the user's
//! session). Quiet hours and a per-hour cap per user; sending runs in a task of its own
//! with a deadline, so a notification never blocks the agent.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the Linux session buses live (`<dir>/<uid>/bus`); `TEND_NOTIFY_BUS_DIR`
/// overrides it (tests start their own session bus).
const BUS_DIR: &str = "/run/user";
/// Notifications per user per hour, at most.
const PER_HOUR: usize = 6;
/// Local hours without notifications by default: from 22:00 to 07:00
/// (`TEND_NOTIFY_QUIET_HOURS=22-07`, or `off`).
const QUIET: (u32, u32) = (22, 7);

/// `22-07` → (22, 7); `off` → an empty window.
pub fn parse_quiet(s: &str) -> Option<(u32, u32)> {
    if s.trim() == "off" {
        return Some((0, 0));
    }
    let (a, b) = s.trim().split_once('-')?;
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    (a < 24 && b < 24).then_some((a, b))
}

/// Sends notifications, within quiet hours and the cap.
#[derive(Debug)]
pub struct Notifier {
    bus_dir: PathBuf,
    /// Seconds east of UTC (from `date +%z` at start).
    utc_offset_s: i64,
    quiet: (u32, u32),
    sent: HashMap<u32, VecDeque<Instant>>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier::new()
    }
}

/// `+0130` → 5400 s.
pub fn parse_offset(s: &str) -> Option<i64> {
    let s = s.trim();
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

/// Is `hour` (0..24, local) inside the quiet window `(from, to)` (which may wrap)?
pub fn quiet(hour: u32, (from, to): (u32, u32)) -> bool {
    if from <= to {
        (from..to).contains(&hour)
    } else {
        hour >= from || hour < to
    }
}

impl Notifier {
    pub fn new() -> Notifier {
        let utc_offset_s = std::process::Command::new("date")
            .arg("+%z")
            .output()
            .ok()
            .and_then(|o| parse_offset(&String::from_utf8_lossy(&o.stdout)))
            .unwrap_or(0);
        Notifier {
            bus_dir: std::env::var_os("TEND_NOTIFY_BUS_DIR")
                .map_or_else(|| PathBuf::from(BUS_DIR), PathBuf::from),
            utc_offset_s,
            quiet: std::env::var("TEND_NOTIFY_QUIET_HOURS")
                .ok()
                .and_then(|s| parse_quiet(&s))
                .unwrap_or(QUIET),
            sent: HashMap::new(),
        }
    }

    fn local_hour(&self) -> u32 {
        let now = tend_shared::now_ms() as i64 / 1000 + self.utc_offset_s;
        (now.rem_euclid(86_400) / 3600) as u32
    }

    /// Notifies local user `uid` (skipped in quiet hours, past the cap, or when the
    /// user has no desktop session).
    pub fn send(&mut self, uid: u32, summary: &str, body: &str) {
        if quiet(self.local_hour(), self.quiet) {
            return;
        }
        let window = self.sent.entry(uid).or_default();
        while window
            .front()
            .is_some_and(|t| t.elapsed() > Duration::from_secs(3600))
        {
            window.pop_front();
        }
        if window.len() >= PER_HOUR {
            tracing::debug!(uid, "notification cap reached");
            return;
        }
        window.push_back(Instant::now());
        let (summary, body) = (clip(summary, 120), clip(body, 600));
        if let Some(cmd) = platform_command(&self.bus_dir, uid, &summary, &body) {
            tokio::spawn(run(cmd));
        }
    }

    /// Notifies every local user named in `users` (the inventory's logged-in users).
    pub fn send_to_names(&mut self, users: &[String], summary: &str, body: &str) {
        for u in users {
            if let Ok(Some(user)) = nix::unistd::User::from_name(u) {
                self.send(user.uid.as_raw(), summary, body);
            }
        }
    }
}

fn clip(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    tend_shared::text::clip_chars(&clean, max).to_string()
}

async fn run(mut cmd: tokio::process::Command) {
    cmd.kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match cmd.spawn() {
        Ok(mut child) => {
            if tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .is_err()
            {
                tracing::warn!("a notification did not finish in 5 s; stopped");
            }
        }
        Err(e) => tracing::debug!(error = %e, "notification not sent"),
    }
}

/// The command that shows a notification in `uid`'s session, if it has one.
#[cfg(not(target_os = "macos"))]
fn platform_command(
    bus_dir: &std::path::Path,
    uid: u32,
    summary: &str,
    body: &str,
) -> Option<tokio::process::Command> {
    let bus = bus_dir.join(uid.to_string()).join("bus");
    if !bus.exists() {
        return None;
    }
    let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok()?;
    let gid = user.as_ref().map_or(uid, |u| u.gid.as_raw());
    let mut cmd = tokio::process::Command::new("dbus-send");
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", bus.display()),
        )
        .args([
            "--session",
            "--dest=org.freedesktop.Notifications",
            "--type=method_call",
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications.Notify",
            "string:Tend",
            "uint32:0",
            "string:",
        ])
        .arg(format!("string:{summary}"))
        .arg(format!("string:{body}"))
        .args(["array:string:", "dict:string:string:", "int32:-1"]);
    // as the user: a session bus only takes its own user's connections
    if nix::unistd::getuid().is_root() {
        cmd.uid(uid).gid(gid);
    } else if nix::unistd::getuid().as_raw() != uid {
        return None;
    }
    Some(cmd)
}

/// macOS: the user's notification centre, through their login session.
#[cfg(target_os = "macos")]
fn platform_command(
    _bus_dir: &std::path::Path,
    uid: u32,
    summary: &str,
    body: &str,
) -> Option<tokio::process::Command> {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let script = format!(
        "display notification \"{}\" with title \"Tend\" subtitle \"{}\"",
        quote(body),
        quote(summary)
    );
    let mut cmd = tokio::process::Command::new("launchctl");
    cmd.args(["asuser", &uid.to_string(), "osascript", "-e", &script]);
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_quiet_hours_and_clipping() {
        assert_eq!(parse_offset("+0130\n"), Some(5400));
        assert_eq!(parse_offset("-0800"), Some(-28_800));
        assert_eq!(parse_offset("CET"), None);
        assert!(quiet(23, (22, 7)) && quiet(3, (22, 7)) && !quiet(7, (22, 7)));
        assert!(quiet(13, (12, 14)) && !quiet(14, (12, 14)));
        assert_eq!(clip("a\u{7}b\nc", 10), "ab\nc");
        assert_eq!(parse_quiet("22-07"), Some((22, 7)));
        let off = parse_quiet("off").unwrap();
        assert!((0..24).all(|h| !quiet(h, off)));
        assert_eq!(parse_quiet("25-1"), None);
    }
}
