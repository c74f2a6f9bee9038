//! Jobs run once, and their results are not lost: the ledger remembers the last
//! thousand job ids this agent started (a job the collector delivers again — the
//! answer carrying it was lost — is not run twice), and every result is written to
//! `spool/results/<job>.json` before it is posted and deleted only once the collector
//! has it. Results left behind (collector down, agent killed) go with the next report.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use tend_shared::jobs::JobResult;

use crate::state::{write_private, StateDir};
use crate::transport::{Client, TransportError};

/// Job ids remembered.
const REMEMBERED: usize = 1000;

/// The jobs this agent has started.
#[derive(Debug)]
pub struct JobLedger {
    path: PathBuf,
    seen: VecDeque<String>,
}

impl JobLedger {
    pub fn open(state: &StateDir) -> JobLedger {
        let path = state.path().join("jobs-seen.json");
        let seen = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        JobLedger { path, seen }
    }

    /// True the first time `id` is seen (and remembers it, durably).
    pub fn first_delivery(&mut self, id: &str) -> bool {
        if self.seen.iter().any(|s| s == id) {
            return false;
        }
        self.seen.push_back(id.to_string());
        while self.seen.len() > REMEMBERED {
            self.seen.pop_front();
        }
        if let Ok(b) = serde_json::to_vec(&self.seen) {
            if let Err(e) = write_private(&self.path, &b) {
                tracing::warn!(error = %e, "saving the job ledger");
            }
        }
        true
    }
}

/// The folder results wait in.
pub fn results_dir(state: &StateDir) -> PathBuf {
    state.spool_dir().join("results")
}

fn file(dir: &Path, job_id: &str) -> PathBuf {
    let safe: String = job_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .take(80)
        .collect();
    dir.join(format!("{safe}.json"))
}

/// Keeps a result on disk until the collector has it.
pub fn keep(dir: &Path, job_id: &str, r: &JobResult) {
    let _ = std::fs::create_dir_all(dir);
    let body = serde_json::json!({"job_id": job_id, "result": r});
    if let Err(e) = write_private(&file(dir, job_id), body.to_string().as_bytes()) {
        tracing::error!(job = job_id, error = %e, "result not saved; posting it anyway");
    }
}

/// Posts a result; the file goes once the collector has it (or can never take it).
pub async fn post(
    client: &Client,
    dir: &Path,
    job_id: &str,
    r: &JobResult,
) -> Result<(), TransportError> {
    let res = client
        .post::<_, serde_json::Value>(&format!("/api/v1/jobs/{job_id}/result"), r)
        .await;
    match &res {
        Ok(_) => {}
        // unknown job, already settled, or malformed: sending it again cannot help
        Err(e) if matches!(e.status(), Some(400 | 404 | 409 | 422)) => {
            tracing::warn!(job = job_id, error = %e, "job result refused; dropped");
        }
        Err(_) => return res.map(|_| ()),
    }
    let _ = std::fs::remove_file(file(dir, job_id));
    Ok(())
}

/// Results still waiting, oldest first.
pub fn pending(dir: &Path) -> Vec<(String, JobResult)> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .map(|e| {
                    let t = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    (t, e.path())
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, p)| {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).ok()?).ok()?;
            Some((
                v["job_id"].as_str()?.to_string(),
                serde_json::from_value(v["result"].clone()).ok()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_id_runs_once_and_results_wait_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let st = StateDir::open(&dir.path().join("s")).unwrap();
        let mut l = JobLedger::open(&st);
        assert!(l.first_delivery("j_1"));
        assert!(!l.first_delivery("j_1"));
        // remembered across a restart
        let mut l = JobLedger::open(&st);
        assert!(!l.first_delivery("j_1"));
        assert!(l.first_delivery("j_2"));
        let rd = results_dir(&st);
        keep(
            &rd,
            "j_1",
            &JobResult::new(tend_shared::jobs::JobState::Succeeded),
        );
        keep(&rd, "../evil", &JobResult::rejected("x"));
        let p = pending(&rd);
        assert_eq!(p.len(), 2);
        assert!(rd.join("evil.json").exists(), "ids cannot leave the folder");
    }
}
