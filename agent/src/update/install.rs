//! The update's side effects: download into the update folder while hashing, keep
//! the previous binary, swap with `self_update::self_replace`, start the guard, and
//! restart (exit for systemd/launchd, `exec` otherwise).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tend_shared::releases::{ReleaseOffer, ReleasePlatform, UpdateState};

use super::verify::{verify_artifact, verify_offer};
use super::{Outcome, Pending, UpdateDir, UpdateError};
use crate::config::RestartMode;
use crate::transport::Client;

/// How the agent gets started again after a swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    Systemd,
    Launchd,
    Exec,
}

impl Restart {
    pub fn as_str(self) -> &'static str {
        match self {
            Restart::Systemd => "systemd",
            Restart::Launchd => "launchd",
            Restart::Exec => "exec",
        }
    }

    pub fn parse(s: &str) -> Option<Restart> {
        [Restart::Systemd, Restart::Launchd, Restart::Exec]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// From the config and the environment the service manager gave us.
    pub fn detect(mode: RestartMode) -> Restart {
        let systemd = std::env::var_os("INVOCATION_ID").is_some();
        let launchd = std::env::var("XPC_SERVICE_NAME").is_ok_and(|v| !v.is_empty() && v != "0");
        match mode {
            RestartMode::Exec => Restart::Exec,
            _ if systemd => Restart::Systemd,
            _ if launchd => Restart::Launchd,
            RestartMode::Exit if cfg!(target_os = "macos") => Restart::Launchd,
            RestartMode::Exit => Restart::Systemd,
            RestartMode::Auto => Restart::Exec,
        }
    }
}

/// A verified download, ready to swap in.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub offer: ReleaseOffer,
    pub file: PathBuf,
}

struct Hashing {
    file: std::fs::File,
    hash: Sha256,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> UpdateError {
    UpdateError::Failed(format!("{what}: {e}"))
}

/// Verifies the offer, downloads the artifact over the pinned connection and checks
/// its size and digest. Nothing outside the update folder is touched.
pub async fn prepare(
    client: &Client,
    dir: &UpdateDir,
    offer: &ReleaseOffer,
    pinned_key: &str,
) -> Result<Prepared, UpdateError> {
    verify_offer(
        offer,
        pinned_key,
        ReleasePlatform::current(),
        tend_shared::now_ms(),
        crate::VERSION,
    )?;
    let file = dir.path().join(format!("download-{}", offer.version));
    let mut out = Hashing {
        file: std::fs::File::create(&file).map_err(|e| failed("creating the download", e))?,
        hash: Sha256::new(),
    };
    let got = client
        .download(&offer.url, &mut out, offer.size, Duration::from_secs(600))
        .await;
    let n = match got {
        Ok(n) => n,
        Err(crate::transport::TransportError::Decode(m)) if m.contains("exceeds") => {
            let _ = std::fs::remove_file(&file);
            return Err(UpdateError::Refused(format!(
                "artifact for {} is larger than the signed {} bytes",
                offer.version, offer.size
            )));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&file);
            return Err(failed("downloading", e));
        }
    };
    out.file
        .sync_all()
        .map_err(|e| failed("writing the download (disk full?)", e))?;
    let digest = hex::encode(out.hash.finalize());
    if let Err(e) = verify_artifact(offer, n, &digest) {
        let _ = std::fs::remove_file(&file);
        return Err(e);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| failed("marking the download executable", e))?;
    }
    Ok(Prepared {
        offer: offer.clone(),
        file,
    })
}

/// Copies `from` to `to` durably (temp file + fsync + rename), executable.
fn copy_durable(from: &Path, to: &Path) -> Result<(), UpdateError> {
    let tmp = to.with_extension("tmp");
    std::fs::copy(from, &tmp).map_err(|e| failed("keeping the previous binary", e))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed("keeping the previous binary", e))?;
    std::fs::rename(&tmp, to).map_err(|e| failed("keeping the previous binary", e))
}

/// Keeps the running binary, records the trial, swaps the new one in and starts the
/// guard. On error nothing is left half-done: the old binary stays installed.
pub fn install(
    dir: &UpdateDir,
    prepared: &Prepared,
    installed: &Path,
    running: &str,
    grace: Duration,
    restart: Restart,
    agent_args: &[OsString],
) -> Result<Pending, UpdateError> {
    copy_durable(installed, &dir.previous())?;
    let now = tend_shared::now_ms();
    let pending = Pending {
        from: running.to_string(),
        to: prepared.offer.version.clone(),
        installed: installed.to_path_buf(),
        started_ms: now,
        deadline_ms: now + grace.as_millis() as u64,
    };
    dir.set_pending(&pending)?;
    if let Err(e) = self_update::self_replace::self_replace(&prepared.file) {
        dir.clear_pending();
        return Err(failed("swapping the binary", e));
    }
    let _ = std::fs::remove_file(&prepared.file);
    if let Err(e) = spawn_guard(dir, &pending, restart, agent_args) {
        // the new version still rolls itself back if it cannot check in
        tracing::warn!(error = %e, "could not start the update guard");
    }
    Ok(pending)
}

/// Starts the previous binary as `update-guard`, outside the agent's process group
/// (and, under systemd, outside its cgroup) so a restart does not take it down.
fn spawn_guard(
    dir: &UpdateDir,
    p: &Pending,
    restart: Restart,
    agent_args: &[OsString],
) -> std::io::Result<()> {
    let state = dir
        .path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut args: Vec<OsString> = vec![
        "update-guard".into(),
        "--state".into(),
        state.into(),
        "--until-ms".into(),
        (p.deadline_ms + super::GUARD_MARGIN_MS).to_string().into(),
        "--trial".into(),
        p.started_ms.to_string().into(),
        "--restart".into(),
        restart.as_str().into(),
        "--".into(),
    ];
    args.extend(agent_args.iter().cloned());
    let mut cmd = if restart == Restart::Systemd {
        let mut c = Command::new("systemd-run");
        c.args(["--quiet", "--collect", "--unit"])
            .arg(format!("tend-agent-update-guard-{}", p.started_ms))
            .arg("--")
            .arg(dir.previous());
        c
    } else {
        Command::new(dir.previous())
    };
    cmd.args(&args).stdin(std::process::Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.spawn().map(|_| ())
}

/// Puts the kept previous binary back in place (the new one is running or hung).
pub fn restore_previous(dir: &UpdateDir, installed: &Path) -> Result<(), UpdateError> {
    let prev = dir.previous();
    let parent = installed.parent().unwrap_or(Path::new("/"));
    let staged = parent.join(".tend-agent.rollback");
    std::fs::copy(&prev, &staged).map_err(|e| failed("staging the previous binary", e))?;
    self_update::Move::from_source(&staged)
        .replace_using_temp(&parent.join(".tend-agent.replaced"))
        .to_dest(installed)
        .map_err(|e| failed("restoring the previous binary", e))?;
    let _ = std::fs::remove_file(parent.join(".tend-agent.replaced"));
    Ok(())
}

/// The trial ran out inside the new version: restore, record, restart.
pub fn roll_back(dir: &UpdateDir, p: &Pending, reason: &str) -> Result<(), UpdateError> {
    restore_previous(dir, &p.installed)?;
    dir.set_outcome(&Outcome {
        state: UpdateState::RolledBack,
        from: p.from.clone(),
        to: p.to.clone(),
        message: reason.to_string(),
    })?;
    dir.add_failed(&p.to);
    dir.clear_pending();
    Ok(())
}

/// Starts the installed binary again: exits for a service manager to restart it, or
/// replaces this process. Returns only if `exec` failed.
pub fn restart(restart: Restart, installed: &Path, agent_args: &[OsString]) -> std::io::Error {
    match restart {
        Restart::Systemd | Restart::Launchd => {
            tracing::info!(
                via = restart.as_str(),
                "exiting so the service manager restarts the agent"
            );
            std::process::exit(75)
        }
        Restart::Exec => {
            tracing::info!(binary = %installed.display(), "restarting in place");
            #[cfg(unix)]
            {
                use std::os::unix::process::CommandExt;
                Command::new(installed).args(agent_args).exec()
            }
            #[cfg(not(unix))]
            {
                std::io::Error::other("exec restart needs unix")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StateDir;

    #[test]
    fn roll_back_restores_the_kept_binary_and_records_why() {
        let tmp = tempfile::tempdir().unwrap();
        let st = StateDir::open(&tmp.path().join("state")).unwrap();
        let dir = UpdateDir::new(&st).unwrap();
        let bin_dir = tmp.path().join("bin");
        std::fs::create_dir_all(&bin_dir).unwrap();
        let installed = bin_dir.join("tend-agent");
        std::fs::write(&installed, b"new version").unwrap();
        std::fs::write(dir.previous(), b"old version").unwrap();
        let p = Pending {
            from: "0.1.0".into(),
            to: "0.2.0".into(),
            installed: installed.clone(),
            started_ms: 1,
            deadline_ms: 2,
        };
        dir.set_pending(&p).unwrap();
        roll_back(&dir, &p, "0.2.0 did not check in").unwrap();
        assert_eq!(std::fs::read(&installed).unwrap(), b"old version");
        assert_eq!(
            std::fs::read(dir.previous()).unwrap(),
            b"old version",
            "still kept"
        );
        assert!(dir.pending().unwrap().is_none());
        assert_eq!(dir.failed_versions(), vec!["0.2.0".to_string()]);
        let o = dir.take_outcome().unwrap();
        assert_eq!((o.state, o.to.as_str()), (UpdateState::RolledBack, "0.2.0"));
        // no temp files left next to the binary
        let left: Vec<_> = std::fs::read_dir(&bin_dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }

    #[test]
    fn restart_mode_follows_config_and_service_manager() {
        assert_eq!(Restart::detect(RestartMode::Exec), Restart::Exec);
        assert_eq!(Restart::parse("launchd"), Some(Restart::Launchd));
        assert_eq!(Restart::parse("reboot"), None);
    }
}
