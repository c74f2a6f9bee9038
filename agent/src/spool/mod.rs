//! The offline spool: a bounded on-disk queue in the state dir that survives kill -9
//! and reboots.
//!
//! - Events get a strictly increasing seq (persisted) and one file each; they are
//!   deleted only once the collector acknowledges a seq at or above theirs, so each
//!   reaches it exactly once (the collector ignores seqs it already holds).
//! - Health snapshots taken while the collector is unreachable are kept in order and
//!   replayed; when the spool is full the oldest snapshot goes first.
//! - Events are never dropped silently: past the cap new ones are refused, counted,
//!   and the count is itself reported as a `spool.overflow` event once room returns.
//!
//! Every file is written to a temp name, fsynced, renamed, and the folder fsynced.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tend_shared::checkin::AgentEvent;
use tend_shared::health::CheckResult;

/// Spool failures.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {action} {path}: {error}")]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("spool is full ({0} events waiting); event refused and counted")]
    Full(usize),
}

/// A health snapshot taken while offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpooledReport {
    pub observed_at_ms: u64,
    pub health: Vec<CheckResult>,
}

/// Caps of the spool.
#[derive(Debug, Clone, Copy)]
pub struct SpoolLimits {
    pub max_events: usize,
    pub max_reports: usize,
    /// Ticket requests waiting; past it new ones are refused (and said so in an event).
    pub max_tickets: usize,
}

impl Default for SpoolLimits {
    fn default() -> Self {
        SpoolLimits {
            max_events: 10_000,
            max_reports: 500,
            max_tickets: 500,
        }
    }
}

/// The spool folder.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    limits: SpoolLimits,
    last_seq: u64,
    events: Vec<u64>,
    reports: Vec<u64>,
    dropped: u64,
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> SpoolError + 'a {
    move |source| SpoolError::Io {
        action,
        path: path.to_owned(),
        error: source,
    }
}

fn write_durable(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), SpoolError> {
    let path = dir.join(name);
    tend_shared::files::write_private(&path, bytes).map_err(io("writing", &path))
}

fn numbered_files(dir: &Path) -> Result<Vec<u64>, SpoolError> {
    let mut v: Vec<u64> = fs::read_dir(dir)
        .map_err(io("listing", dir))?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
        .collect();
    v.sort_unstable();
    Ok(v)
}

fn read_number(path: &Path) -> u64 {
    fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

impl Spool {
    /// Opens (creating) the spool under `dir`, recovering its state from the files.
    pub fn open(dir: &Path, limits: SpoolLimits) -> Result<Spool, SpoolError> {
        for sub in ["events", "reports", "tickets"] {
            let d = dir.join(sub);
            fs::create_dir_all(&d).map_err(io("creating", &d))?;
            // leftovers of writes interrupted by a crash
            for e in fs::read_dir(&d).map_err(io("listing", &d))?.flatten() {
                if e.file_name().to_string_lossy().ends_with(".tmp") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let events = numbered_files(&dir.join("events"))?;
        let reports = numbered_files(&dir.join("reports"))?;
        let last_seq = read_number(&dir.join("seq")).max(events.last().copied().unwrap_or(0));
        Ok(Spool {
            dir: dir.to_owned(),
            limits,
            last_seq,
            events,
            reports,
            dropped: read_number(&dir.join("dropped")),
        })
    }

    /// (events, snapshots, tickets) waiting under `dir`, read without creating or
    /// repairing anything (for `tend-agent status`).
    pub fn depths(dir: &Path) -> (usize, usize, usize) {
        let count = |sub: &str| {
            fs::read_dir(dir.join(sub))
                .map(|d| {
                    d.flatten()
                        .filter(|e| {
                            let n = e.file_name();
                            let n = n.to_string_lossy();
                            n.ends_with(".json") && !n.starts_with('.')
                        })
                        .count()
                })
                .unwrap_or(0)
        };
        (count("events"), count("reports"), count("tickets"))
    }

    fn file(seq: u64) -> String {
        format!("{seq:020}.json")
    }

    /// Events waiting for acknowledgement.
    pub fn event_depth(&self) -> usize {
        self.events.len()
    }

    /// Snapshots waiting to be replayed.
    pub fn report_depth(&self) -> usize {
        self.reports.len()
    }

    /// Ticket requests waiting to be filed.
    pub fn ticket_depth(&self) -> usize {
        fs::read_dir(self.dir.join("tickets"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Keeps a ticket request until the collector accepts it. Past `max_tickets`
    /// waiting, a new one is refused and a `ticket.refused` event says which problem
    /// went unfiled (never silently).
    pub fn push_ticket(
        &mut self,
        req: &tend_shared::tickets::TicketRequest,
    ) -> Result<(), SpoolError> {
        let waiting = self.ticket_depth();
        if waiting >= self.limits.max_tickets {
            let _ = self.push_event(
                "ticket.refused",
                Some(req.problem_key.clone()),
                format!(
                    "{waiting} ticket requests are waiting; {} was not queued",
                    req.problem_key
                ),
                serde_json::json!({"problem_key": req.problem_key}),
            );
            return Err(SpoolError::Full(waiting));
        }
        // the request id is the client's choice: keep only safe characters in the name
        let safe: String = req
            .request_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(64)
            .collect();
        let name = format!("{:020}_{safe}.json", tend_shared::now_ms());
        write_durable(
            &self.dir.join("tickets"),
            &name,
            &serde_json::to_vec(req).expect("ticket serializes"),
        )
    }

    /// Waiting ticket requests, oldest first, with their file names.
    pub fn pending_tickets(
        &self,
    ) -> Result<Vec<(String, tend_shared::tickets::TicketRequest)>, SpoolError> {
        let dir = self.dir.join("tickets");
        let mut names: Vec<String> = fs::read_dir(&dir)
            .map_err(io("listing", &dir))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for n in names {
            let path = dir.join(&n);
            let bytes = fs::read(&path).map_err(io("reading", &path))?;
            match serde_json::from_slice(&bytes) {
                Ok(r) => out.push((n, r)),
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "corrupt spooled ticket skipped")
                }
            }
        }
        Ok(out)
    }

    /// Removes a filed ticket request.
    pub fn remove_ticket(&mut self, name: &str) {
        let _ = fs::remove_file(self.dir.join("tickets").join(name));
    }

    /// Events refused because the spool was full and not yet reported.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn store_event(
        &mut self,
        kind: &str,
        check_id: Option<String>,
        message: String,
        data: serde_json::Value,
    ) -> Result<u64, SpoolError> {
        let seq = self.last_seq + 1;
        let ev = AgentEvent {
            seq,
            at_ms: tend_shared::now_ms(),
            kind: kind.to_string(),
            check_id,
            message,
            data,
        };
        // the seq file first: a crash between the two leaves a gap, never a reuse
        write_durable(&self.dir, "seq", seq.to_string().as_bytes())?;
        self.last_seq = seq;
        write_durable(
            &self.dir.join("events"),
            &Self::file(seq),
            &serde_json::to_vec(&ev).expect("event serializes"),
        )?;
        self.events.push(seq);
        Ok(seq)
    }

    /// Appends an event durably; returns its seq.
    pub fn push_event(
        &mut self,
        kind: &str,
        check_id: Option<String>,
        message: String,
        data: serde_json::Value,
    ) -> Result<u64, SpoolError> {
        if self.events.len() >= self.limits.max_events {
            self.dropped += 1;
            write_durable(&self.dir, "dropped", self.dropped.to_string().as_bytes())?;
            return Err(SpoolError::Full(self.events.len()));
        }
        if self.dropped > 0 && self.events.len() + 1 < self.limits.max_events {
            let n = self.dropped;
            self.store_event(
                "spool.overflow",
                None,
                format!("{n} event(s) were refused while the spool was full"),
                serde_json::json!({"dropped": n}),
            )?;
            self.dropped = 0;
            write_durable(&self.dir, "dropped", b"0")?;
        }
        self.store_event(kind, check_id, message, data)
    }

    /// The check states the waiting (unsent) transition events end in, oldest first
    /// so the latest wins.
    pub fn pending_check_states(
        &self,
    ) -> std::collections::BTreeMap<String, tend_shared::health::CheckStatus> {
        use tend_shared::health::CheckStatus;
        let mut out = std::collections::BTreeMap::new();
        for e in self.pending_events(usize::MAX).unwrap_or_default() {
            let Some(id) = e.check_id else { continue };
            let status = match e.data.get("to").and_then(|t| t.as_str()) {
                Some("pass") => CheckStatus::Pass,
                Some("warn") => CheckStatus::Warn,
                Some("error") => CheckStatus::Error,
                Some("fail") => CheckStatus::Fail,
                _ => continue,
            };
            out.insert(id, status);
        }
        out
    }

    /// Up to `limit` waiting events, oldest first.
    pub fn pending_events(&self, limit: usize) -> Result<Vec<AgentEvent>, SpoolError> {
        let dir = self.dir.join("events");
        let mut out = Vec::new();
        for seq in self.events.iter().take(limit) {
            let path = dir.join(Self::file(*seq));
            let bytes = fs::read(&path).map_err(io("reading", &path))?;
            match serde_json::from_slice(&bytes) {
                Ok(ev) => out.push(ev),
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "corrupt spooled event skipped")
                }
            }
        }
        Ok(out)
    }

    /// Sets the oldest waiting event aside (the collector refused the check-in that
    /// carried it, and would again): its file moves to `rejected/` (the newest 100
    /// kept), and a `spool.rejected` event says so. Nothing is dropped silently.
    pub fn quarantine_oldest(&mut self, why: &str) -> Result<Option<u64>, SpoolError> {
        let Some(&seq) = self.events.first() else {
            return Ok(None);
        };
        let rejected = self.dir.join("rejected");
        fs::create_dir_all(&rejected).map_err(io("creating", &rejected))?;
        let from = self.dir.join("events").join(Self::file(seq));
        let to = rejected.join(Self::file(seq));
        fs::rename(&from, &to).map_err(io("moving", &from))?;
        self.events.remove(0);
        let kept = numbered_files(&rejected)?;
        for old in kept.iter().take(kept.len().saturating_sub(100)) {
            let _ = fs::remove_file(rejected.join(Self::file(*old)));
        }
        let why: String = why.chars().take(500).collect();
        self.store_event(
            "spool.rejected",
            None,
            format!("event {seq} was refused by the collector and set aside: {why}"),
            serde_json::json!({"seq": seq, "file": to.display().to_string()}),
        )?;
        Ok(Some(seq))
    }

    /// Deletes every event with a seq at or below `acked`.
    pub fn ack_events(&mut self, acked: u64) -> Result<(), SpoolError> {
        let dir = self.dir.join("events");
        while let Some(&seq) = self.events.first() {
            if seq > acked {
                break;
            }
            let path = dir.join(Self::file(seq));
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(SpoolError::Io {
                        action: "removing",
                        path,
                        error: source,
                    })
                }
            }
            self.events.remove(0);
        }
        Ok(())
    }

    /// Keeps a snapshot for later replay, dropping the oldest when full.
    pub fn push_report(&mut self, report: &SpooledReport) -> Result<(), SpoolError> {
        let dir = self.dir.join("reports");
        while self.reports.len() >= self.limits.max_reports {
            let oldest = self.reports.remove(0);
            let _ = fs::remove_file(dir.join(Self::file(oldest)));
        }
        let id = self
            .reports
            .last()
            .copied()
            .unwrap_or(0)
            .max(report.observed_at_ms)
            + 1;
        write_durable(
            &dir,
            &Self::file(id),
            &serde_json::to_vec(report).expect("report serializes"),
        )?;
        self.reports.push(id);
        Ok(())
    }

    /// The oldest waiting snapshot and its id.
    pub fn oldest_report(&self) -> Result<Option<(u64, SpooledReport)>, SpoolError> {
        let Some(&id) = self.reports.first() else {
            return Ok(None);
        };
        let path = self.dir.join("reports").join(Self::file(id));
        let bytes = fs::read(&path).map_err(io("reading", &path))?;
        Ok(serde_json::from_slice(&bytes).ok().map(|r| (id, r)))
    }

    /// Removes a replayed (or unreadable) snapshot.
    pub fn remove_report(&mut self, id: u64) {
        let _ = fs::remove_file(self.dir.join("reports").join(Self::file(id)));
        self.reports.retain(|r| *r != id);
    }
}

#[cfg(test)]
mod tests;
