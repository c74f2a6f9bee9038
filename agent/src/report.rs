//! Text output of `tend-agent health` and `tend-agent status`.

use std::fmt::Write;

use tend_shared::health::CheckResult;

use crate::spool::{Spool, SpoolLimits};
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

/// Enrollment, last check-in, last error and spool depth.
pub fn status_text(st: &StateDir) -> Result<String, StateError> {
    let mut out = String::new();
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
                "enrolled:        no (run `tend-agent enroll --bundle FILE`)"
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
    match Spool::open(&st.spool_dir(), SpoolLimits::default()) {
        Ok(sp) => {
            let _ = writeln!(
                out,
                "spool:           {} event(s), {} snapshot(s) waiting",
                sp.event_depth(),
                sp.report_depth()
            );
        }
        Err(e) => {
            let _ = writeln!(out, "spool:           unreadable: {e}");
        }
    }
    Ok(out)
}
