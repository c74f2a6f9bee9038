//! `tendctl` job views: diagnostics (optionally waiting for the result), scripts,
//! running an approved script, bulk actions and their progress.

use std::fmt::Write;

use tend_agent::transport::TransportError;
use tend_shared::jobs::{BulkStatus, JobState, JobView, Script};

use crate::ctl::{fmt_ms, table, Ctl};

fn job_text(j: &JobView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "job {} on {}: {:?}", j.id, j.device_id, j.state);
    if let Some(r) = &j.result {
        if let Some(code) = r.exit_code {
            let _ = writeln!(out, "exit code {code}, {} ms", r.duration_ms);
        }
        if let Some(reason) = &r.reason {
            let _ = writeln!(out, "reason: {reason}");
        }
        if !r.output.is_null() {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&r.output).unwrap_or_default()
            );
        }
        if !r.stdout.is_empty() {
            let _ = writeln!(
                out,
                "--- stdout{} ---\n{}",
                if r.stdout_truncated {
                    " (truncated)"
                } else {
                    ""
                },
                r.stdout.trim_end()
            );
        }
        if !r.stderr.is_empty() {
            let _ = writeln!(
                out,
                "--- stderr{} ---\n{}",
                if r.stderr_truncated {
                    " (truncated)"
                } else {
                    ""
                },
                r.stderr.trim_end()
            );
        }
    }
    out
}

impl Ctl {
    fn show_job(&self, j: &JobView) -> String {
        if self.json {
            serde_json::to_string_pretty(j).unwrap_or_default()
        } else {
            job_text(j)
        }
    }

    /// Polls `GET /api/v1/jobs/{id}?wait=` until the job is final or `wait_s` ran out.
    pub async fn wait_job(&self, id: &str, wait_s: u64) -> Result<JobView, TransportError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait_s);
        loop {
            let left = deadline
                .saturating_duration_since(std::time::Instant::now())
                .as_secs()
                .clamp(1, 60);
            let j: JobView = self
                .client
                .get_with_timeout(
                    &format!("/api/v1/jobs/{id}?wait={left}"),
                    std::time::Duration::from_secs(left + 10),
                )
                .await?;
            if j.state.is_final() || std::time::Instant::now() >= deadline {
                return Ok(j);
            }
        }
    }

    /// `tendctl diagnose DEVICE NAME [ARGS] [--wait]`.
    pub async fn diagnose(
        &self,
        device: &str,
        name: &str,
        args: &[String],
        wait: Option<u64>,
    ) -> Result<String, TransportError> {
        let j: JobView = self
            .client
            .post(
                &format!("/api/v1/devices/{device}/diagnostics"),
                &serde_json::json!({"name": name, "args": args}),
            )
            .await?;
        let j = match wait {
            Some(s) => self.wait_job(&j.id, s).await?,
            None => j,
        };
        Ok(self.show_job(&j))
    }

    /// `tendctl run DEVICE SCRIPT_ID [--wait]`.
    pub async fn run_script(
        &self,
        device: &str,
        script_id: &str,
        wait: Option<u64>,
    ) -> Result<String, TransportError> {
        let j: JobView = self
            .client
            .post(
                &format!("/api/v1/devices/{device}/scripts"),
                &serde_json::json!({"script_id": script_id}),
            )
            .await?;
        let j = match wait {
            Some(s) => self.wait_job(&j.id, s).await?,
            None => j,
        };
        Ok(self.show_job(&j))
    }

    /// `tendctl job ID`.
    pub async fn job(&self, id: &str) -> Result<String, TransportError> {
        let j: JobView = self.client.get(&format!("/api/v1/jobs/{id}")).await?;
        Ok(self.show_job(&j))
    }

    /// `tendctl scripts`.
    pub async fn scripts(&self) -> Result<String, TransportError> {
        let list: Vec<Script> = self.client.get("/api/v1/scripts").await?;
        if self.json {
            return Ok(serde_json::to_string_pretty(&list).unwrap_or_default());
        }
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.name.clone(),
                    s.version.to_string(),
                    format!("{:?}", s.status).to_lowercase(),
                    s.interpreter.clone(),
                    s.submitted_by.clone(),
                    s.approved_by.clone().unwrap_or_else(|| "-".into()),
                    fmt_ms(s.submitted_at_ms),
                ]
            })
            .collect();
        Ok(table(
            &[
                "id",
                "name",
                "version",
                "status",
                "interpreter",
                "submitted by",
                "approved by",
                "submitted",
            ],
            &rows,
        ))
    }

    /// `tendctl bulk status ID`.
    pub async fn bulk_status(&self, id: &str) -> Result<String, TransportError> {
        let b: BulkStatus = self.client.get(&format!("/api/v1/bulk/{id}")).await?;
        if self.json {
            return Ok(serde_json::to_string_pretty(&b).unwrap_or_default());
        }
        let done = b.counts.iter().filter(|(k, _)| {
            serde_json::from_value::<JobState>(serde_json::Value::String((*k).clone()))
                .is_ok_and(|s| s.is_final())
        });
        let finished: u64 = done.map(|(_, v)| v).sum();
        let mut out = format!(
            "bulk {}: {} of {} job(s) finished\n",
            b.id,
            finished,
            b.job_ids.len()
        );
        for (state, n) in &b.counts {
            let _ = writeln!(out, "  {state:<10} {n}");
        }
        Ok(out)
    }
}
