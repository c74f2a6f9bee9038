//! File watching (`notify`): the agent's config file and the crash-report folders.
//!
//! notify's thread forwards raw events to a tokio task that debounces them per path
//! (a report is written in several chunks; editors replace a config by rename) and
//! then emits one `Change`: `Config` when the config file settled, `Crash` with the
//! parsed report for each new crash file. A file is reported once: the daemon records
//! each one it turned into an event (`CrashLedger`, in the state dir), so reports
//! written while the agent was down — or seen but not yet spooled when it was killed —
//! are reported when it starts, if they are from the last day.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::parse::crash::{parse_crash_report, CrashInfo};

/// Largest crash report read (the fields we need are at the top).
const MAX_REPORT_BYTES: u64 = 1 << 20;
/// At most this many crash events per hour (a crash loop must not flood the spool).
const MAX_CRASHES_PER_HOUR: usize = 120;

/// Reports older than this when the agent starts are left to the `crash.recent` check.
const STARTUP_LOOKBACK_MS: u64 = 86_400_000;

/// What the daemon is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The config file changed and has not changed again for the debounce time.
    Config,
    /// A new crash report: what it says, when it was seen (ms epoch), and the file and
    /// its modification time (ms) for the ledger.
    Crash(CrashInfo, u64, PathBuf, u64),
}

/// The modification time of `p` in ms since the epoch (0 when unknown).
pub fn modified_ms(p: &Path) -> u64 {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64)
}

/// Crash reports already turned into events, by (file, modification time), kept in
/// the state dir (the newest 5,000).
#[derive(Debug)]
pub struct CrashLedger {
    path: PathBuf,
    entries: std::collections::VecDeque<(PathBuf, u64)>,
}

impl CrashLedger {
    pub fn open(state: &Path) -> CrashLedger {
        let path = state.join("crash-reported.json");
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        CrashLedger { path, entries }
    }

    pub fn reported(&self) -> HashSet<(PathBuf, u64)> {
        self.entries.iter().cloned().collect()
    }

    /// Records a report whose event is spooled.
    pub fn record(&mut self, file: PathBuf, modified_ms: u64) {
        self.entries.push_back((file, modified_ms));
        while self.entries.len() > 5_000 {
            self.entries.pop_front();
        }
        if let Ok(b) = serde_json::to_vec(&self.entries) {
            let _ = crate::state::write_private(&self.path, &b);
        }
    }
}

/// A running watch; dropping it stops watching.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
    pub changes: mpsc::Receiver<Change>,
    /// Folders that are actually watched (missing ones are skipped).
    pub watched: Vec<PathBuf>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("watched", &self.watched)
            .finish_non_exhaustive()
    }
}

fn existing_files(dir: &Path) -> HashSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn read_report(path: &Path) -> Option<CrashInfo> {
    use std::io::Read;
    let name = path.file_name()?.to_string_lossy().to_string();
    let mut buf = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(MAX_REPORT_BYTES).read_to_end(&mut buf);
    }
    parse_crash_report(&name, &String::from_utf8_lossy(&buf))
}

/// Starts watching `config` (its folder, so a rename into place is seen) and
/// `crash_dirs`. Must be called inside a tokio runtime.
pub fn start(
    config: Option<&Path>,
    crash_dirs: &[PathBuf],
    debounce: Duration,
    reported: HashSet<(PathBuf, u64)>,
) -> Result<Watch, notify::Error> {
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else { return };
        if matches!(
            ev.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Any
        ) {
            for p in ev.paths {
                let _ = raw_tx.send(p);
            }
        }
    })?;
    let mut watched = Vec::new();
    let config = config.map(|c| std::path::absolute(c).unwrap_or_else(|_| c.to_path_buf()));
    if let Some(dir) = config.as_ref().and_then(|c| c.parent()) {
        if dir.is_dir() {
            watcher.watch(dir, RecursiveMode::NonRecursive)?;
            watched.push(dir.to_path_buf());
        }
    }
    let mut seen = HashSet::new();
    let mut crash_set = HashSet::new();
    let mut due: HashMap<PathBuf, Instant> = HashMap::new();
    let now_ms = tend_shared::now_ms();
    for d in crash_dirs {
        if !d.is_dir() {
            tracing::debug!(dir = %d.display(), "crash folder missing; not watched");
            continue;
        }
        match watcher.watch(d, RecursiveMode::NonRecursive) {
            Ok(()) => {
                for f in existing_files(d) {
                    let m = modified_ms(&f);
                    let recent = now_ms.saturating_sub(m) <= STARTUP_LOOKBACK_MS;
                    if recent && !reported.contains(&(f.clone(), m)) {
                        // arrived while the agent was down (or was never spooled)
                        due.insert(f, Instant::now() + debounce);
                    } else {
                        seen.insert(f);
                    }
                }
                crash_set.insert(d.clone());
                watched.push(d.clone());
            }
            Err(e) => tracing::warn!(dir = %d.display(), error = %e, "cannot watch crash folder"),
        }
    }
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        let mut window_start = Instant::now();
        let mut in_window = 0usize;
        loop {
            let next = due.values().min().copied();
            tokio::select! {
                p = raw_rx.recv() => match p {
                    Some(p) => {
                        let is_config = config.as_ref().is_some_and(|c| &p == c);
                        let is_crash = p.parent().is_some_and(|d| crash_set.contains(d))
                            && !seen.contains(&p);
                        if is_config || is_crash {
                            due.insert(p, Instant::now() + debounce);
                        }
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                    let now = Instant::now();
                    let ready: Vec<PathBuf> = due.iter().filter(|(_, t)| **t <= now).map(|(p, _)| p.clone()).collect();
                    for p in ready {
                        due.remove(&p);
                        let change = if config.as_ref().is_some_and(|c| &p == c) {
                            Change::Config
                        } else {
                            if !p.is_file() || !seen.insert(p.clone()) {
                                continue;
                            }
                            if window_start.elapsed() > Duration::from_secs(3600) {
                                window_start = now;
                                in_window = 0;
                            }
                            in_window += 1;
                            if in_window > MAX_CRASHES_PER_HOUR {
                                tracing::warn!(file = %p.display(), "crash report not reported: more than {MAX_CRASHES_PER_HOUR} this hour");
                                continue;
                            }
                            match tokio::task::spawn_blocking({ let p = p.clone(); move || read_report(&p) }).await {
                                Ok(Some(info)) => {
                                    let m = modified_ms(&p);
                                    Change::Crash(info, tend_shared::now_ms(), p.clone(), m)
                                }
                                _ => continue,
                            }
                        };
                        if tx.send(change).await.is_err() {
                            return;
                        }
                    }
                    if seen.len() > 50_000 {
                        seen.clear();
                    }
                }
            }
        }
    });
    Ok(Watch {
        _watcher: watcher,
        changes: rx,
        watched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn new_crash_reports_and_config_changes_are_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let crashes = dir.path().join("crash");
        std::fs::create_dir(&crashes).unwrap();
        let old = crashes.join("_usr_bin_old.0.crash");
        std::fs::write(&old, "ProblemType: Crash\n").unwrap();
        let cfg = dir.path().join("agent.toml");
        std::fs::write(&cfg, "").unwrap();
        // the old report was reported before this start
        let reported = HashSet::from([(old.clone(), modified_ms(&old))]);
        let mut w = start(
            Some(&cfg),
            std::slice::from_ref(&crashes),
            Duration::from_millis(100),
            reported,
        )
        .unwrap();
        assert_eq!(w.watched.len(), 2);

        // written in two chunks: one event after the debounce
        let f = crashes.join("_usr_bin_gedit.1000.crash");
        std::fs::write(&f, "ProblemType: Crash\nExecutablePath: /usr/bin/gedit\n").unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        std::fs::write(
            &f,
            "ProblemType: Crash\nExecutablePath: /usr/bin/gedit\nSignal: 11\n",
        )
        .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), w.changes.recv())
            .await
            .unwrap()
            .unwrap();
        match got {
            Change::Crash(info, _, _, _) => {
                assert_eq!(info.process, "gedit");
                assert_eq!(info.signal.as_deref(), Some("SIGSEGV"));
            }
            other => panic!("{other:?}"),
        }
        // touching it again does not report it twice; the config edit comes through
        std::fs::write(&f, "ProblemType: Crash\n").unwrap();
        std::fs::write(&cfg, "[update]\ngrace_period_s = 5\n").unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), w.changes.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, Change::Config);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_report_written_while_the_agent_was_down_is_reported_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let crashes = dir.path().join("crash");
        std::fs::create_dir(&crashes).unwrap();
        let f = crashes.join("_usr_bin_vim.1000.crash");
        std::fs::write(
            &f,
            "ProblemType: Crash\nExecutablePath: /usr/bin/vim\nSignal: 6\n",
        )
        .unwrap();
        let mut ledger = CrashLedger::open(dir.path());
        let mut w = start(
            None,
            std::slice::from_ref(&crashes),
            Duration::from_millis(50),
            ledger.reported(),
        )
        .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), w.changes.recv())
            .await
            .unwrap()
            .unwrap();
        let Change::Crash(info, _, file, m) = got else {
            panic!("{got:?}")
        };
        assert_eq!(info.process, "vim");
        // once recorded, the next start does not report it again
        ledger.record(file, m);
        drop(w);
        let ledger = CrashLedger::open(dir.path());
        let mut w = start(
            None,
            std::slice::from_ref(&crashes),
            Duration::from_millis(50),
            ledger.reported(),
        )
        .unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(500), w.changes.recv())
                .await
                .is_err(),
            "reported twice"
        );
    }
}
