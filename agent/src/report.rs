//! Text output of `tend-agent health` and `tend-agent status`.

use std::fmt::Write;

use tend_shared::health::CheckResult;

use crate::spool::Spool;
use crate::state::{StateDir, StateError};

/// Check results as an aligned table.
pub fn health_table(results: &[CheckResult]) -> String {
    let w = results.iter().map(|r| r.id.len()).max().unwrap_or(5).max(5);
    let mut out = format!("{:<w$}  {:<6}  {}\n", "CHECK", "STATUS", "MESSAGE");
    for r in results {
        let _ = writeln!(out, "{:<w$}  {:<6}  {}", r.id, r.status.as_str(), r.message);
    }
    out
}

fn when(ms: u64) -> String {
    if ms == 0 {
        return "never".into();
    }
    let ago = tend_shared::now_ms().saturating_sub(ms) / 1000;
    format!("{ago}s ago")
}

/// Enrollment, last check-in, last error and spool depth of the state dir at `path`.
/// Reads only: a missing state dir is reported, never created.
pub fn status_text(path: &std::path::Path) -> Result<String, StateError> {
    let mut out = String::new();
    let Some(st) = StateDir::existing(path) else {
        let _ = writeln!(
            out,
            "enrolled:        no — there is no state dir at {} \
             (point --state or TEND_AGENT_STATE at the agent's state dir; the demo prints it)",
            path.display()
        );
        return Ok(out);
    };
    let _ = writeln!(out, "state dir:       {}", path.display());
    match st.credentials() {
        Ok(c) => {
            let _ = writeln!(
                out,
                "enrolled:        yes, device {} at {}",
                c.device_id, c.server_url
            );
        }
        Err(StateError::NotEnrolled(_)) => {
            let _ = writeln!(
                out,
                "enrolled:        no credentials in {} (run `tend-agent enroll --bundle FILE`)",
                path.display()
            );
        }
        Err(e) => return Err(e),
    }
    let s = st.status()?;
    let _ = writeln!(out, "last check-in:   {}", when(s.last_checkin_ms));
    let _ = writeln!(out, "policy version:  {}", st.policy()?.version);
    if let Some(e) = &s.last_error {
        let _ = writeln!(
            out,
            "last error:      {e} ({}, {} failure(s) in a row)",
            when(s.last_error_ms),
            s.consecutive_failures
        );
    }
    let (events, reports, tickets) = Spool::depths(&st.spool_dir());
    let _ = writeln!(
        out,
        "spool:           {events} event(s), {reports} snapshot(s), {tickets} ticket request(s) waiting"
    );
    Ok(out)
}
