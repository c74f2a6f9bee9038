//! Jobs from the command line: diagnostics and approved scripts on one device
//! (optionally waiting for the result, which sets the exit status), the script
//! registry, bulk actions and their progress.

use std::fmt::Write;

use tend_client::TransportError;
use tend_shared::jobs::{BulkStatus, JobSpec, JobState, JobView, Script};

use crate::ctl::{Ctl, Output};
use crate::diag;
use crate::fmt::{fmt_ms, table_or};

fn job_text(j: &JobView) -> String {
    let mut out = String::new();
    let what = match &j.spec {
        JobSpec::Diagnostic { name, args } if args.is_empty() => name.clone(),
        JobSpec::Diagnostic { name, args } => format!("{name} {}", args.join(" ")),
        JobSpec::Script(s) => format!("script {} v{}", s.script_id, s.version),
    };
    let took = j
        .result
        .as_ref()
        .filter(|r| r.duration_ms > 0)
        .map(|r| format!(" in {} ms", r.duration_ms))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{what} on {}: {}{took} (job {})",
        j.device_id,
        j.state.label(),
        j.id
    );
    let Some(r) = &j.result else {
        if !j.state.is_final() {
            let _ = writeln!(
                out,
                "not finished yet; `tendctl job {}` shows it later",
                j.id
            );
        }
        return out;
    };
    if let Some(code) = r.exit_code {
        let _ = writeln!(out, "exit code {code}");
    }
    if let Some(reason) = &r.reason {
        let _ = writeln!(out, "reason: {reason}");
    }
    if let JobSpec::Diagnostic { name, .. } = &j.spec {
        out.push_str(&diag::render(name, r));
        return out;
    }
    for (name, text, cut) in [
        ("stdout", &r.stdout, r.stdout_truncated),
        ("stderr", &r.stderr, r.stderr_truncated),
    ] {
        if !text.is_empty() {
            let _ = writeln!(
                out,
                "--- {name}{} ---\n{}",
                if cut { " (truncated at 64 KiB)" } else { "" },
                text.trim_end()
            );
        }
    }
    out
}

fn scripts_text(list: &[Script]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                s.name.clone(),
                s.version.to_string(),
                s.status.label().into(),
                s.interpreter.clone(),
                s.submitted_by.clone(),
                s.approved_by.clone().unwrap_or_else(|| "-".into()),
                fmt_ms(s.submitted_at_ms),
            ]
        })
        .collect();
    table_or(
        "scripts",
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
    )
}

fn bulk_text(b: &BulkStatus) -> String {
    let finished: u64 = b
        .counts
        .iter()
        .filter(|(k, _)| {
            serde_json::from_value::<JobState>(serde_json::Value::String((*k).clone()))
                .is_ok_and(|s| s.is_final())
        })
        .map(|(_, v)| v)
        .sum();
    let mut out = format!(
        "bulk {}: {} of {} job(s) finished\n",
        b.id,
        finished,
        b.job_ids.len()
    );
    for (state, n) in &b.counts {
        let _ = writeln!(out, "  {state:<10} {n}");
    }
    out
}

impl Ctl {
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

    /// Shows a job; with `wait`, the exit status says whether it succeeded.
    async fn finish(&self, j: JobView, wait: Option<u64>) -> Result<Output, TransportError> {
        let j = match wait {
            Some(s) => self.wait_job(&j.id, s).await?,
            None => j,
        };
        Ok(Output {
            text: self.show(&j, job_text),
            success: wait.is_none() || j.state == JobState::Succeeded,
        })
    }

    /// `tendctl diagnose DEVICE NAME [ARGS] [--wait]`.
    pub async fn diagnose(
        &self,
        device: &str,
        name: &str,
        args: &[String],
        wait: Option<u64>,
        queue: &crate::args::QueueArgs,
    ) -> anyhow::Result<Output> {
        let id = self.resolve_device(device).await?;
        let mut body = queue.fields();
        body["name"] = name.into();
        body["args"] = serde_json::json!(args);
        let j: JobView = self
            .client
            .post(&format!("/api/v1/devices/{id}/diagnostics"), &body)
            .await?;
        Ok(self.finish(j, wait).await?)
    }

    /// The id of the script `query` names (an id or a name).
    pub async fn resolve_script(&self, query: &str) -> anyhow::Result<String> {
        let list: Vec<Script> = self.client.get("/api/v1/scripts").await?;
        list.iter()
            .find(|s| s.id == query)
            .or_else(|| list.iter().find(|s| s.name == query))
            .map(|s| s.id.clone())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no script has the id or name {query:?} (`tendctl scripts` lists them)"
                )
            })
    }

    /// `tendctl run DEVICE SCRIPT [--wait]`.
    pub async fn run_script(
        &self,
        device: &str,
        script: &str,
        wait: Option<u64>,
        queue: &crate::args::QueueArgs,
    ) -> anyhow::Result<Output> {
        let id = self.resolve_device(device).await?;
        let script_id = self.resolve_script(script).await?;
        let mut body = queue.fields();
        body["script_id"] = script_id.into();
        let j: JobView = self
            .client
            .post(&format!("/api/v1/devices/{id}/scripts"), &body)
            .await?;
        Ok(self.finish(j, wait).await?)
    }

    /// `tendctl job ID`.
    pub async fn job(&self, id: &str) -> Result<String, TransportError> {
        self.get_show(&format!("/api/v1/jobs/{id}"), job_text).await
    }

    /// `tendctl scripts`.
    pub async fn scripts(&self) -> Result<String, TransportError> {
        self.get_show("/api/v1/scripts", |l: &Vec<_>| scripts_text(l))
            .await
    }

    /// `tendctl scripts submit|approve|revoke` — the script as stored afterwards.
    pub async fn script_action(
        &self,
        path: &str,
        body: &serde_json::Value,
        done: impl FnOnce(&Script) -> String,
    ) -> Result<String, TransportError> {
        let v: serde_json::Value = self.client.post(path, body).await?;
        // revoke answers every version; the others one
        let latest: Option<Script> = match &v {
            serde_json::Value::Array(a) => a
                .last()
                .and_then(|s| serde_json::from_value(s.clone()).ok()),
            other => serde_json::from_value(other.clone()).ok(),
        };
        Ok(self.show(&v, |_| latest.as_ref().map(done).unwrap_or_default()))
    }

    /// `tendctl bulk status ID`.
    pub async fn bulk_status(&self, id: &str) -> Result<String, TransportError> {
        self.get_show(&format!("/api/v1/bulk/{id}"), bulk_text)
            .await
    }

    /// `tendctl bulk diagnose|run`.
    pub async fn bulk_create(&self, req: &serde_json::Value) -> Result<String, TransportError> {
        let b: BulkStatus = self.client.post("/api/v1/bulk", req).await?;
        Ok(self.show(&b, |b| {
            format!(
                "bulk {} queued {} job(s); `tendctl bulk status {}` shows progress",
                b.id,
                b.job_ids.len(),
                b.id
            )
        }))
    }
}
