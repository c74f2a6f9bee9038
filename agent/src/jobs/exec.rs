//! Running an approved script: nothing runs unless the signature verifies against the
//! key pinned at enrollment and the body hashes to the signed value. Then: the body in
//! a private temp file, the named interpreter (no shell string building), a clean
//! environment, a working directory of its own, its own process group killed whole on
//! timeout, and stdout/stderr each capped at 64 KiB with a truncation flag.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tend_shared::jobs::{JobResult, JobState, SignedScript, INTERPRETERS};
use tend_shared::signing::{script_manifest, sha256_hex, verify_b64};

pub use super::capture::OUTPUT_CAP;

/// Where scripts get their private working directories: beside the state dir, not in
/// it (`/var/lib/tend/agent-work`). The state dir is 0700; a script run as the console
/// user changes into its job folder *after* dropping to that user, so the folders on
/// the way must be traversable (this one is 0711) and the job folder its own (0700).
pub fn work_root(state: &Path) -> PathBuf {
    let name = state
        .file_name()
        .map_or_else(|| "agent".into(), |n| n.to_string_lossy().into_owned());
    state.with_file_name(format!("{name}-work"))
}

/// A `rejected` result with the reason.
pub fn rejected(reason: impl Into<String>) -> JobResult {
    JobResult::rejected(reason)
}

/// Checks hash, interpreter and signature. `Err` is the rejection reason.
pub fn verify(s: &SignedScript, pinned_key: &str) -> Result<(), String> {
    if sha256_hex(s.body.as_bytes()) != s.body_sha256 {
        return Err("body does not match its signed SHA-256".into());
    }
    if !INTERPRETERS.contains(&s.interpreter.as_str()) {
        return Err(format!("interpreter {:?} is not allowed", s.interpreter));
    }
    if !(1..=3600).contains(&s.timeout_s) || !matches!(s.run_as.as_str(), "root" | "console_user") {
        return Err("timeout or run_as out of range".into());
    }
    let manifest = script_manifest(
        &s.script_id,
        s.version,
        &s.body_sha256,
        &s.interpreter,
        s.timeout_s,
        &s.run_as,
    );
    verify_b64(pinned_key, &manifest, &s.signature).map_err(|e| format!("signature rejected: {e}"))
}

fn find_interpreter(name: &str) -> Option<PathBuf> {
    ["/bin", "/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// The uid/gid of the user at the console, when the agent runs as root: on macOS the
/// owner of `/dev/console` (root at the login window).
#[cfg(target_os = "macos")]
fn console_user() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata("/dev/console").ok()?;
    (m.uid() != 0).then(|| (m.uid(), m.gid()))
}

/// The uid/gid of the user at the console, when the agent runs as root: on Linux the
/// user `who` shows on the graphical seat.
#[cfg(not(target_os = "macos"))]
fn console_user() -> Option<(u32, u32)> {
    let who = crate::platform::run_command("who", &[], Duration::from_secs(5))?;
    let user = who
        .stdout
        .lines()
        .find(|l| l.contains(" :0") || l.contains("tty7") || l.contains("seat0"))
        .and_then(|l| l.split_whitespace().next())?
        .to_string();
    let id = |flag: &str| {
        crate::platform::run_command("id", &[flag, &user], Duration::from_secs(5))
            .and_then(|o| o.stdout.trim().parse::<u32>().ok())
    };
    Some((id("-u")?, id("-g")?))
}

/// Verifies and runs `s` in a fresh directory under `work_root`. Blocking.
pub fn run_script(s: &SignedScript, pinned_key: &str, work_root: &Path, job_id: &str) -> JobResult {
    if let Err(why) = verify(s, pinned_key) {
        return rejected(why);
    }
    let Some(interpreter) = find_interpreter(&s.interpreter) else {
        return JobResult {
            reason: Some(format!("{} is not installed", s.interpreter)),
            ..JobResult::new(JobState::Failed)
        };
    };
    let safe_id: String = job_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let dir = work_root.join(format!("job-{safe_id}"));
    let _ = std::fs::remove_dir_all(&dir);
    let prepared = (|| -> std::io::Result<PathBuf> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::create_dir_all(work_root)?;
        std::fs::set_permissions(work_root, std::fs::Permissions::from_mode(0o711))?;
        std::fs::create_dir_all(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let path = dir.join("script");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        std::io::Write::write_all(&mut f, s.body.as_bytes())?;
        Ok(path)
    })();
    let script = match prepared {
        Ok(p) => p,
        Err(e) => {
            return JobResult {
                reason: Some(format!("preparing the work dir: {e}")),
                ..JobResult::new(JobState::Failed)
            }
        }
    };
    let mut cmd = Command::new(&interpreter);
    cmd.arg(&script)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("HOME", &dir)
        .env("TMPDIR", &dir)
        .env("LANG", "C.UTF-8")
        .env("TEND_JOB_ID", job_id)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        if s.run_as == "console_user" && nix::unistd::Uid::effective().is_root() {
            match console_user() {
                Some((uid, gid)) => {
                    use std::os::unix::fs::chown;
                    let _ = chown(&dir, Some(uid), Some(gid));
                    let _ = chown(&script, Some(uid), Some(gid));
                    cmd.uid(uid).gid(gid);
                }
                None => {
                    return rejected("run_as console_user, but nobody is logged in at the console")
                }
            }
        }
    }
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return JobResult {
                reason: Some(format!("starting {}: {e}", interpreter.display())),
                ..JobResult::new(JobState::Failed)
            }
        }
    };
    let pgid = child.id();
    let o = super::capture::run(&mut child, pgid, Duration::from_secs(s.timeout_s));
    let (status, timed_out) = (o.status, o.timed_out);
    let (stdout, stdout_truncated) = (o.stdout.text, o.stdout.truncated);
    let (stderr, stderr_truncated) = (o.stderr.text, o.stderr.truncated);
    let _ = std::fs::remove_dir_all(&dir);
    let code = status.and_then(|s| s.code());
    let state = if timed_out {
        JobState::TimedOut
    } else if code == Some(0) {
        JobState::Succeeded
    } else {
        JobState::Failed
    };
    JobResult {
        state,
        exit_code: code,
        duration_ms: start.elapsed().as_millis() as u64,
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
        output: serde_json::Value::Null,
        reason: timed_out.then(|| format!("killed after {} s (whole process group)", s.timeout_s)),
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use tend_shared::signing::{public_key_b64, sign_b64};

    use super::*;

    fn signed(body: &str, timeout_s: u64, key: &SigningKey) -> SignedScript {
        let sha = sha256_hex(body.as_bytes());
        let sig = sign_b64(
            key,
            &script_manifest("s1", 1, &sha, "sh", timeout_s, "root"),
        );
        SignedScript {
            script_id: "s1".into(),
            version: 1,
            interpreter: "sh".into(),
            body: body.into(),
            body_sha256: sha,
            timeout_s,
            run_as: "root".into(),
            name: "s1".into(),
            submitted_by: "alice".into(),
            approved_by: "bob".into(),
            signature: sig,
        }
    }

    #[test]
    fn runs_verified_scripts_in_a_clean_environment() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let dir = tempfile::tempdir().unwrap();
        let s = signed(
            "echo out; echo err >&2; echo \"$HOME|$SECRET_TOKEN|$(pwd)\"; exit 3",
            10,
            &key,
        );
        std::env::set_var("SECRET_TOKEN", "leak");
        let r = run_script(&s, &public_key_b64(&key), dir.path(), "j1");
        assert_eq!(r.state, JobState::Failed);
        assert_eq!(r.exit_code, Some(3));
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines[0], "out");
        let parts: Vec<&str> = lines[1].split('|').collect();
        assert_eq!(parts[1], "", "the agent's environment does not leak");
        assert_eq!(parts[0], parts[2], "HOME is the private work dir");
        assert_eq!(r.stderr, "err\n");
        assert!(!dir.path().join("job-j1").exists(), "work dir removed");
    }

    #[test]
    fn refuses_tampered_foreign_and_unsigned_scripts() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let pk = public_key_b64(&key);
        let dir = tempfile::tempdir().unwrap();
        let mut tampered = signed("echo ok", 10, &key);
        tampered.body = "echo pwned".into();
        assert!(run_script(&tampered, &pk, dir.path(), "a")
            .reason
            .unwrap()
            .contains("SHA-256"));
        let mut rehashed = tampered.clone();
        rehashed.body_sha256 = sha256_hex(b"echo pwned");
        assert!(run_script(&rehashed, &pk, dir.path(), "b")
            .reason
            .unwrap()
            .contains("signature"));
        let foreign = signed("echo ok", 10, &SigningKey::from_bytes(&[1; 32]));
        let r = run_script(&foreign, &pk, dir.path(), "c");
        assert_eq!(r.state, JobState::Rejected);
        let mut unsigned = signed("echo ok", 10, &key);
        unsigned.signature = String::new();
        assert_eq!(
            run_script(&unsigned, &pk, dir.path(), "d").state,
            JobState::Rejected
        );
        let mut longer = signed("echo ok", 10, &key);
        longer.timeout_s = 3000;
        assert_eq!(
            run_script(&longer, &pk, dir.path(), "e").state,
            JobState::Rejected,
            "the manifest covers the timeout"
        );
    }

    #[test]
    fn an_escaped_grandchild_holding_the_pipes_does_not_hold_the_result() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let dir = tempfile::tempdir().unwrap();
        // setsid leaves the process group (and its kill); the grandchild keeps stdout
        let body = "echo started; setsid sleep 30 & exit 0";
        let start = Instant::now();
        let r = run_script(
            &signed(body, 60, &key),
            &public_key_b64(&key),
            dir.path(),
            "esc",
        );
        assert_eq!(r.state, JobState::Succeeded, "{r:?}");
        assert_eq!(r.stdout, "started\n");
        // not a speed check: the grandchild holds the pipes for 30 s; a capture that
        // waited for it would take that long
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the result waited {:?} for the grandchild",
            start.elapsed()
        );
    }

    #[test]
    fn timeout_kills_the_whole_group_and_output_is_capped() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let pk = public_key_b64(&key);
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("child-alive");
        let body = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let start = Instant::now();
        let r = run_script(&signed(&body, 1, &key), &pk, dir.path(), "t");
        assert_eq!(r.state, JobState::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "the background child died with its group");
        let r = run_script(
            &signed("head -c 10000000 /dev/zero | tr '\\0' x", 30, &key),
            &pk,
            dir.path(),
            "big",
        );
        assert_eq!(r.state, JobState::Succeeded);
        assert_eq!(r.stdout.len(), OUTPUT_CAP);
        assert!(r.stdout_truncated && !r.stderr_truncated);
    }
}
