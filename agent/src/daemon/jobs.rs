//! Jobs from the long-poll: `inventory-refresh` and `health-now` act on the agent's
//! own state; every other diagnostic and every script runs in a task of its own. A
//! job id runs once (the collector may deliver a job again when the answer carrying
//! it was lost), and every result is kept on disk until the collector has it
//! (`results`), so a result survives an outage or a kill.

use tend_shared::jobs::{Job, JobResult, JobSpec, JobState};

use super::{Agent, DaemonError};
use crate::results;
use crate::transport::Client;

fn result(state: JobState, output: serde_json::Value) -> JobResult {
    JobResult {
        state,
        output,
        reason: None,
        ..crate::jobs::exec::rejected("")
    }
}

fn running() -> JobResult {
    result(JobState::Running, serde_json::Value::Null)
}

/// Keeps the result, then tries to post it (a failure leaves it for the next report).
async fn finish(client: &Client, dir: &std::path::Path, job_id: &str, r: &JobResult) {
    results::keep(dir, job_id, r);
    if let Err(e) = results::post(client, dir, job_id, r).await {
        tracing::warn!(job = job_id, error = %e, "posting the job result failed; it waits in the spool");
    }
}

impl Agent {
    /// Runs the jobs; returns true when a report should go out now.
    pub(crate) async fn handle_jobs(&mut self, jobs: Vec<Job>) -> bool {
        let mut report_now = false;
        let dir = results::results_dir(&self.state);
        for job in jobs {
            if !self.ledger_jobs.first_delivery(&job.id) {
                // delivered again: it ran (or runs) here already; its result, if any,
                // waits in the spool and goes with the next report
                tracing::info!(job = %job.id, "job delivered again; not running it twice");
                report_now = true;
                continue;
            }
            let client = self.client.clone();
            let note = super::user::Note::new(&self.ran_here, &job);
            match job.spec {
                JobSpec::Diagnostic { ref name, .. } if name == "inventory-refresh" => {
                    self.refresh_inventory(true).await;
                    self.sent_inventory_hash = None;
                    let hash = self.inventory.as_ref().map(|i| i.content_hash());
                    let r = result(
                        JobState::Succeeded,
                        serde_json::json!({"inventory_hash": hash}),
                    );
                    finish(&client, &dir, &job.id, &r).await;
                    note.done(&r);
                    report_now = true;
                }
                JobSpec::Diagnostic { ref name, .. } if name == "health-now" => {
                    if let Some(c) = self.cache.as_mut() {
                        c.clear();
                    }
                    self.evaluate().await;
                    let r = result(JobState::Succeeded, serde_json::json!(self.health));
                    finish(&client, &dir, &job.id, &r).await;
                    note.done(&r);
                    report_now = true;
                }
                JobSpec::Diagnostic { name, args } => {
                    let dir = dir.clone();
                    tokio::spawn(async move {
                        let _ = results::post(&client, &dir, &job.id, &running()).await;
                        let r = tokio::task::spawn_blocking(move || {
                            crate::jobs::diagnostics::run(&name, &args)
                        })
                        .await
                        .unwrap_or_else(|e| {
                            crate::jobs::exec::rejected(format!("diagnostic task failed: {e}"))
                        });
                        finish(&client, &dir, &job.id, &r).await;
                        note.done(&r);
                    });
                }
                JobSpec::Script(s) => {
                    let (key, work, dir) =
                        (self.signing_key.clone(), self.work_dir.clone(), dir.clone());
                    tokio::spawn(async move {
                        if let Err(why) = crate::jobs::exec::verify(&s, &key) {
                            tracing::warn!(job = %job.id, reason = %why, "script refused");
                            let r = crate::jobs::exec::rejected(why);
                            finish(&client, &dir, &job.id, &r).await;
                            return note.done(&r);
                        }
                        let _ = results::post(&client, &dir, &job.id, &running()).await;
                        let id = job.id.clone();
                        let r = tokio::task::spawn_blocking(move || {
                            crate::jobs::exec::run_script(&s, &key, &work, &id)
                        })
                        .await
                        .unwrap_or_else(|e| {
                            crate::jobs::exec::rejected(format!("script task failed: {e}"))
                        });
                        finish(&client, &dir, &job.id, &r).await;
                        note.done(&r);
                    });
                }
            }
        }
        report_now
    }

    /// Posts the results still waiting on disk (oldest first).
    pub(crate) async fn file_results(&mut self) -> Result<(), DaemonError> {
        let dir = results::results_dir(&self.state);
        for (id, r) in results::pending(&dir) {
            results::post(&self.client, &dir, &id, &r).await?;
        }
        Ok(())
    }
}
