//! `tendctl release …`: upload an artifact, list releases with their rollout stages,
//! widen, pause or resume a rollout.

use std::time::Duration;

use tend_client::TransportError;
use tend_shared::releases::{Release, ReleasePlatform, RolloutPatch};

use crate::ctl::Ctl;
use crate::fmt::{fmt_ms, human_bytes, table, table_or};

fn rollout_text(r: &Release) -> String {
    let ro = &r.rollout;
    let state = if ro.halted {
        "halted"
    } else if ro.paused {
        "paused"
    } else if ro.percent == 0 {
        "not started"
    } else {
        "rolling out"
    };
    format!("{state} at {} %", ro.percent)
}

fn release_text(r: &Release) -> String {
    let mut out = format!(
        "release {} ({}), created {} by {}\n",
        r.version,
        rollout_text(r),
        fmt_ms(r.created_at_ms),
        r.created_by
    );
    match &r.approved_by {
        Some(by) => out.push_str(&format!(
            "approved by {by} at {}\n",
            fmt_ms(r.approved_at_ms.unwrap_or(0))
        )),
        None => out.push_str(&format!(
            "not approved: nothing is offered until an admin other than the uploader runs `tendctl release approve {}`\n",
            r.version
        )),
    }
    if let Some(reason) = &r.rollout.halt_reason {
        out.push_str(&format!("halted: {reason}\n"));
    }
    out.push_str(&format!(
        "halts when {} % of a stage fails (after {} attempts)\n\n",
        r.rollout.failure_threshold_pct, r.rollout.min_sample
    ));
    let arts: Vec<Vec<String>> = r
        .artifacts
        .iter()
        .map(|a| {
            vec![
                a.platform.to_string(),
                human_bytes(a.size),
                a.sha256.clone(),
                a.uploaded_by.clone(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["platform", "size", "sha256", "uploaded by"],
        &arts,
    ));
    let stages: Vec<Vec<String>> = r
        .rollout
        .stages
        .iter()
        .map(|s| {
            vec![
                format!("{} %", s.percent),
                fmt_ms(s.started_at_ms),
                s.attempted.to_string(),
                s.succeeded.to_string(),
                s.failed.to_string(),
            ]
        })
        .collect();
    if !stages.is_empty() {
        out.push('\n');
        out.push_str(&table(
            &["stage", "started", "attempted", "succeeded", "failed"],
            &stages,
        ));
    }
    out
}

fn releases_text(list: &[Release]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|r| {
            let (ok, failed) = r
                .rollout
                .stages
                .iter()
                .fold((0, 0), |(a, b), s| (a + s.succeeded, b + s.failed));
            vec![
                r.version.clone(),
                rollout_text(r),
                r.artifacts
                    .iter()
                    .map(|a| a.platform.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                ok.to_string(),
                failed.to_string(),
                fmt_ms(r.created_at_ms),
            ]
        })
        .collect();
    table_or(
        "releases",
        &[
            "version",
            "rollout",
            "platforms",
            "updated",
            "failed",
            "created",
        ],
        &rows,
    )
}

impl Ctl {
    fn show_release(&self, r: &Release) -> String {
        self.show(r, release_text)
    }

    /// `tendctl release list`.
    pub async fn releases(&self) -> Result<String, TransportError> {
        self.get_show("/api/v1/releases", |l: &Vec<_>| releases_text(l))
            .await
    }

    /// `tendctl release show V`.
    pub async fn release(&self, version: &str) -> Result<String, TransportError> {
        let r: Release = self
            .client
            .get(&format!("/api/v1/releases/{version}"))
            .await?;
        Ok(self.show_release(&r))
    }

    /// `tendctl release add --version V --platform P FILE`.
    pub async fn release_add(
        &self,
        version: &str,
        platform: ReleasePlatform,
        bytes: Vec<u8>,
    ) -> Result<String, TransportError> {
        let r: Release = self
            .client
            .put_bytes(
                &format!("/api/v1/releases/{version}/{platform}"),
                bytes,
                Duration::from_secs(300),
            )
            .await?;
        Ok(self.show_release(&r))
    }

    /// `tendctl release approve V` (the two-person rule).
    pub async fn release_approve(&self, version: &str) -> Result<String, TransportError> {
        let r: Release = self
            .client
            .post(
                &format!("/api/v1/releases/{version}/approve"),
                &serde_json::json!({}),
            )
            .await?;
        Ok(self.show_release(&r))
    }

    /// `tendctl release promote|pause|resume`.
    pub async fn release_rollout(
        &self,
        version: &str,
        patch: &RolloutPatch,
    ) -> Result<String, TransportError> {
        let r: Release = self
            .client
            .post(&format!("/api/v1/releases/{version}/rollout"), patch)
            .await?;
        Ok(self.show_release(&r))
    }
}
