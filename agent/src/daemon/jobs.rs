//! Jobs from the long-poll: `inventory-refresh` and `health-now` act on the agent's
//! own state; every other diagnostic and every script runs in a task of its own and
//! posts its result (retried while the collector is unreachable).

use tend_shared::jobs::{Job, JobResult, JobSpec, JobState};

use super::{backoff, Agent};
use crate::transport::Client;

async fn post_result(client: &Client, job_id: &str, r: &JobResult) {
    for attempt in 1..=10u32 {
        match client
            .post::<_, serde_json::Value>(&format!("/api/v1/jobs/{job_id}/result"), r)
            .await
        {
            Ok(_) => return,
            Err(e) if !e.retryable() => {
                tracing::warn!(job = job_id, error = %e, "job result refused");
                return;
            }
            Err(e) => {
                tracing::warn!(job = job_id, error = %e, attempt, "posting job result failed; retrying");
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
    }
}

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

impl Agent {
    /// Runs the jobs; returns true when a report should go out now.
    pub(crate) async fn handle_jobs(&mut self, jobs: Vec<Job>) -> bool {
        let mut report_now = false;
        for job in jobs {
            let client = self.client.clone();
            match job.spec {
                JobSpec::Diagnostic { ref name, .. } if name == "inventory-refresh" => {
                    self.refresh_inventory(true).await;
                    self.sent_inventory_hash = None;
                    let hash = self.inventory.as_ref().map(|i| i.content_hash());
                    post_result(
                        &client,
                        &job.id,
                        &result(
                            JobState::Succeeded,
                            serde_json::json!({"inventory_hash": hash}),
                        ),
                    )
                    .await;
                    report_now = true;
                }
                JobSpec::Diagnostic { ref name, .. } if name == "health-now" => {
                    if let Some(c) = self.cache.as_mut() {
                        c.clear();
                    }
                    self.evaluate().await;
                    post_result(
                        &client,
                        &job.id,
                        &result(JobState::Succeeded, serde_json::json!(self.health)),
                    )
                    .await;
                    report_now = true;
                }
                JobSpec::Diagnostic { name, args } => {
                    tokio::spawn(async move {
                        post_result(&client, &job.id, &running()).await;
                        let r = tokio::task::spawn_blocking(move || {
                            crate::jobs::diagnostics::run(&name, &args)
                        })
                        .await
                        .unwrap_or_else(|e| {
                            crate::jobs::exec::rejected(format!("diagnostic task failed: {e}"))
                        });
                        post_result(&client, &job.id, &r).await;
                    });
                }
                JobSpec::Script(s) => {
                    let (key, work) = (self.signing_key.clone(), self.work_dir.clone());
                    tokio::spawn(async move {
                        if let Err(why) = crate::jobs::exec::verify(&s, &key) {
                            tracing::warn!(job = %job.id, reason = %why, "script refused");
                            return post_result(
                                &client,
                                &job.id,
                                &crate::jobs::exec::rejected(why),
                            )
                            .await;
                        }
                        post_result(&client, &job.id, &running()).await;
                        let id = job.id.clone();
                        let r = tokio::task::spawn_blocking(move || {
                            crate::jobs::exec::run_script(&s, &key, &work, &id)
                        })
                        .await
                        .unwrap_or_else(|e| {
                            crate::jobs::exec::rejected(format!("script task failed: {e}"))
                        });
                        post_result(&client, &job.id, &r).await;
                    });
                }
            }
        }
        report_now
    }
}
