//! The OS-specific layer: one front per capability, the implementation in `linux.rs`
//! or `macos.rs`. These functions run commands and read files; parsing lives in
//! `crate::parse`, pure and tested against fixtures.

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod imp;
#[cfg(target_os = "macos")]
#[path = "macos.rs"]
mod imp;
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
#[path = "other.rs"]
mod imp;

pub use imp::*;

use std::process::Command;
use std::time::Duration;

/// Runs a command with no shell and a clean, minimal environment; returns stdout when
/// it ran (whatever the exit code), `None` when it could not start or timed out.
pub fn run_command(program: &str, args: &[&str], timeout: Duration) -> Option<CommandOutput> {
    use std::io::Read;
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let mut stderr = child.stderr.take()?;
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.by_ref().take(16 << 20).read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.by_ref().take(1 << 20).read_to_end(&mut buf);
        buf
    });
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let status = status?;
    Some(CommandOutput {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// What a finished command printed.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// True when `program` is on the standard PATH.
pub fn has_command(program: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]
        .iter()
        .any(|d| std::path::Path::new(d).join(program).exists())
}

/// The last `n` lines of the file at `path`, read backwards from its end in blocks
/// (at most 8 MiB read, whatever the file's size).
pub fn tail(path: &std::path::Path, n: usize) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    const BLOCK: u64 = 64 * 1024;
    const MAX: u64 = 8 << 20;
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut start = len;
    let mut buf: Vec<u8> = Vec::new();
    while start > 0 && (len - start) < MAX {
        let step = BLOCK.min(start);
        start -= step;
        f.seek(SeekFrom::Start(start))?;
        let mut block = vec![0u8; step as usize];
        f.read_exact(&mut block)?;
        block.extend_from_slice(&buf);
        buf = block;
        // one more newline than lines wanted: the first line is then whole
        if buf.iter().filter(|b| **b == b'\n').count() > n {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(n)..].join("\n"))
}
