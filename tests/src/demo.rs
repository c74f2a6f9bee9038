//! The newcomer's path as a test sees it: README.md's commands parsed out of the file
//! (so the two never drift apart), a running demo started exactly as printed there,
//! and shell lines run with the `export` line the demo prints.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The `sh` code blocks of README.md after the heading `heading`, up to the next `## `.
pub fn readme_blocks(heading: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = text
        .find(&format!("## {heading}\n"))
        .unwrap_or_else(|| panic!("README.md has no `## {heading}` section"));
    let section = &text[start + heading.len() + 4..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in section.lines() {
        let t = line.trim();
        match (&mut current, t) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().expect("open block")),
            (Some(b), _) => b.push(t.to_string()),
            (None, _) => {}
        }
    }
    blocks
}

/// README command 1 (run the demo) and command 2 (run the tests), verbatim.
pub fn readme_commands() -> (String, String) {
    let blocks = readme_blocks("The two commands");
    assert!(
        blocks.len() >= 2,
        "the two commands are two sh blocks: {blocks:?}"
    );
    let one = |b: &Vec<String>| {
        assert_eq!(b.len(), 1, "each command is one line: {b:?}");
        b[0].clone()
    };
    (one(&blocks[0]), one(&blocks[1]))
}

/// A running demo (its whole process group is stopped on drop).
pub struct Demo {
    pub child: Child,
    /// The `export …` line it printed.
    pub export: String,
    /// The variables that line sets.
    pub env: BTreeMap<String, String>,
    /// Everything it printed up to the export line.
    pub banner: String,
    pub cwd: PathBuf,
}

fn parse_export(line: &str) -> BTreeMap<String, String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{line}\nenv"))
        .output()
        .expect("sh");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Demo {
    /// Runs `command` with `sh -c` in `cwd` (its own process group) and waits up to
    /// `timeout` for the export line.
    pub fn start(command: &str, cwd: &Path, env: &[(&str, &str)], timeout: Duration) -> Demo {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starting the demo");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    // keep draining so the demo never blocks on a full pipe
                    continue;
                }
            }
        });
        let deadline = std::time::Instant::now() + timeout;
        let mut banner = String::new();
        let export = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    banner.push_str(&line);
                    banner.push('\n');
                    if line.trim_start().starts_with("export PATH=") {
                        break line.trim().to_string();
                    }
                }
                Err(_) => {
                    stop_group(&mut child);
                    panic!(
                        "the demo printed no export line within {timeout:?}; it printed:\n{banner}"
                    );
                }
            }
        };
        Demo {
            env: parse_export(&export),
            child,
            export,
            banner,
            cwd: cwd.to_owned(),
        }
    }

    /// Runs one shell line after the export line, in the demo's folder.
    pub fn sh(&self, line: &str) -> Output {
        Command::new("sh")
            .arg("-c")
            .arg(format!("{}\n{line}", self.export))
            .current_dir(&self.cwd)
            .output()
            .expect("sh")
    }

    /// Runs `line` and returns stdout, asserting it succeeded.
    pub fn ok(&self, line: &str) -> String {
        let out = self.sh(line);
        assert!(
            out.status.success(),
            "`{line}` failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn stop_group(child: &mut Child) {
    let pgid = child.id().to_string();
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{pgid}")])
        .status();
    for _ in 0..100 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

impl Drop for Demo {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}
