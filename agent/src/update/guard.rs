//! `tend-agent update-guard`: started from the kept previous binary right before a
//! swap. It sleeps past the trial deadline; if the new version has not confirmed by
//! then (it is hung, crash-looping, or cannot reach the collector) the guard puts
//! the previous binary back, stops whatever runs, and starts the agent again.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use super::install::{roll_back, Restart};
use super::{UpdateDir, UpdateError};
use crate::state::StateDir;

/// The PID file the daemon writes at start.
pub const PID_FILE: &str = "agent.pid";

fn pid_alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// Stops the running agent (whatever binary it is now) by its PID file.
fn stop_agent(state: &Path) {
    let Some(pid) = std::fs::read_to_string(state.join(PID_FILE))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|p| *p > 1 && *p != std::process::id() as i32)
    else {
        return;
    };
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    for _ in 0..50 {
        if !pid_alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs the guard; returns when the update confirmed, or after restarting the
/// previous version (with `Restart::Exec` this process becomes the agent).
pub fn run(
    state: &Path,
    until_ms: u64,
    trial: Option<u64>,
    restart: Restart,
    agent_args: &[OsString],
) -> Result<(), UpdateError> {
    let now = tend_shared::now_ms();
    if until_ms > now {
        std::thread::sleep(Duration::from_millis(until_ms - now));
    }
    let st = StateDir::open(state)?;
    let dir = UpdateDir::new(&st)?;
    let Some(p) = dir.pending()? else {
        return Ok(()); // confirmed (or rolled back by the new version itself)
    };
    if trial.is_some_and(|t| t != p.started_ms) {
        // a later update's trial: not ours to judge (its own guard will)
        tracing::info!(to = %p.to, "a newer update is on trial; this guard leaves it alone");
        return Ok(());
    }
    tracing::warn!(to = %p.to, "update did not confirm in time; rolling back");
    let reason = format!(
        "{} did not check in within {} s; {} restored by the update guard",
        p.to,
        p.deadline_ms.saturating_sub(p.started_ms) / 1000,
        p.from
    );
    roll_back(&dir, &p, &reason)?;
    stop_agent(state);
    let err = match restart {
        Restart::Systemd => std::process::Command::new("systemctl")
            .args(["restart", "tend-agent.service"])
            .status()
            .err(),
        Restart::Launchd => std::process::Command::new("launchctl")
            .args(["kickstart", "-k", "system/com.tend.agent"])
            .status()
            .err(),
        Restart::Exec => Some(super::install::restart(
            Restart::Exec,
            &p.installed,
            agent_args,
        )),
    };
    match err {
        Some(e) => Err(UpdateError::Failed(format!("restarting the agent: {e}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update::Pending;

    #[test]
    fn a_guard_leaves_a_later_trial_alone() {
        let dir = tempfile::tempdir().unwrap();
        let st = StateDir::open(&dir.path().join("state")).unwrap();
        let updates = UpdateDir::new(&st).unwrap();
        let installed = dir.path().join("tend-agent");
        std::fs::write(&installed, b"the second update").unwrap();
        std::fs::write(updates.previous(), b"the first update").unwrap();
        // the second update's trial; this guard was started for the first (t = 1000)
        let second = Pending {
            from: "0.2.0".into(),
            to: "0.3.0".into(),
            installed: installed.clone(),
            started_ms: 2_000,
            deadline_ms: 3_000,
        };
        updates.set_pending(&second).unwrap();
        run(st.path(), 0, Some(1_000), Restart::Exec, &[]).unwrap();
        assert_eq!(updates.pending().unwrap(), Some(second), "left on trial");
        assert_eq!(std::fs::read(&installed).unwrap(), b"the second update");
        assert!(updates.take_outcome().is_none(), "no rollback recorded");
    }
}
