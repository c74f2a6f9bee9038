//! Scripts (every version), jobs with their indexes — the device queue (queued, and
//! delivered but not acknowledged), the expiry index (every job not final, by the
//! time it must be settled), waiting jobs per script, per-device history — and bulk
//! actions.

use serde::{Deserialize, Serialize};
use tend_shared::jobs::{BulkAction, JobSpec, JobState, JobView, Script};

use crate::store::keys::{k1, Key};
use crate::store::kv::{Order, Range, Tx};
use crate::store::paging::{Cursor, Page, Pager, Source};
use crate::store::StoreError;

/// A bulk action and the jobs it queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkRecord {
    pub id: String,
    pub created_at_ms: u64,
    pub created_by: String,
    pub action: BulkAction,
    pub job_ids: Vec<String>,
}

fn script_key(id: &str, version: u32) -> Vec<u8> {
    Key::new("sc/").s(id).n(u64::from(version)).build()
}

/// When an open job must be settled by: a queued one when it expires, a delivered or
/// running one at its run deadline.
fn deadline(j: &JobView) -> Option<u64> {
    match j.state {
        JobState::Queued => Some(j.expires_at_ms),
        JobState::Delivered | JobState::Running => crate::jobs::run_deadline(j),
        _ => None,
    }
}

fn index(j: &JobView) -> Vec<Vec<u8>> {
    let mut out = vec![Key::new("jb.dev/")
        .s(&j.device_id)
        .n(j.created_at_ms)
        .s(&j.id)
        .build()];
    let waiting = matches!(j.state, JobState::Queued | JobState::Delivered);
    if waiting {
        out.push(
            Key::new("jb.q/")
                .s(&j.device_id)
                .n(j.created_at_ms)
                .s(&j.id)
                .build(),
        );
        if let JobSpec::Script(s) = &j.spec {
            out.push(Key::new("jb.script/").s(&s.script_id).s(&j.id).build());
        }
    }
    if let Some(d) = deadline(j) {
        out.push(Key::new("jb.exp/").n(d).s(&j.id).build());
    }
    out
}

impl Tx {
    pub async fn put_script(&mut self, s: &Script) -> Result<(), StoreError> {
        self.put(k1("sc.name/", &s.name), s.id.clone().into_bytes());
        self.put_json(script_key(&s.id, s.version), s);
        Ok(())
    }

    pub async fn script_id_by_name(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(&k1("sc.name/", name))
            .await?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Every version of a script, oldest first.
    pub async fn script_versions(&mut self, id: &str) -> Result<Vec<Script>, StoreError> {
        let rows = self
            .scan(&Range::prefix(&k1("sc/", id)), Order::Asc, usize::MAX)
            .await?;
        rows.iter()
            .map(|(_, v)| crate::store::from_json("scripts", v))
            .collect()
    }

    /// The latest version of every script.
    pub async fn scripts_latest(&mut self) -> Result<Vec<Script>, StoreError> {
        let mut out: Vec<Script> = Vec::new();
        for s in self.all_json::<Script>("scripts", "sc/").await? {
            match out.last_mut() {
                Some(last) if last.id == s.id => *last = s,
                _ => out.push(s),
            }
        }
        Ok(out)
    }

    pub async fn job(&mut self, id: &str) -> Result<Option<JobView>, StoreError> {
        self.get_json("jobs", &k1("jb/", id)).await
    }

    /// Writes a job, keeping its indexes in step.
    pub async fn put_job(&mut self, j: &JobView) -> Result<(), StoreError> {
        let old = self.job(&j.id).await?;
        let new = index(j);
        let old = old.as_ref().map(index).unwrap_or_default();
        for k in &old {
            if !new.contains(k) {
                self.delete(k.clone());
            }
        }
        for k in new {
            if !old.contains(&k) {
                self.put(k, j.id.clone().into_bytes());
            }
        }
        self.put_json(k1("jb/", &j.id), j);
        Ok(())
    }

    async fn jobs_named(
        &mut self,
        rows: &[(bytes::Bytes, bytes::Bytes)],
    ) -> Result<Vec<JobView>, StoreError> {
        let keys: Vec<Vec<u8>> = rows
            .iter()
            .map(|(_, id)| k1("jb/", &String::from_utf8_lossy(id)))
            .collect();
        self.get_json_many("jobs", &keys).await
    }

    /// Queued and delivered-but-unacknowledged jobs of a device, oldest first.
    pub async fn queued_jobs(&mut self, device_id: &str) -> Result<Vec<JobView>, StoreError> {
        let rows = self
            .scan(&Range::prefix(&k1("jb.q/", device_id)), Order::Asc, 1000)
            .await?;
        self.jobs_named(&rows).await
    }

    /// Open jobs whose settle-by time is at or before `now_ms` (at most `max`).
    pub async fn jobs_due(&mut self, now_ms: u64, max: usize) -> Result<Vec<JobView>, StoreError> {
        let range = Range {
            start: Key::new("jb.exp/").build(),
            end: Key::new("jb.exp/").n(now_ms.saturating_add(1)).build(),
        };
        let rows = self.scan(&range, Order::Asc, max).await?;
        self.jobs_named(&rows).await
    }

    /// Jobs waiting (queued or delivered) to run script `id`.
    pub async fn jobs_waiting_for_script(&mut self, id: &str) -> Result<Vec<JobView>, StoreError> {
        let rows = self
            .scan(
                &Range::prefix(&k1("jb.script/", id)),
                Order::Asc,
                usize::MAX,
            )
            .await?;
        self.jobs_named(&rows).await
    }

    /// One page of a device's jobs, newest first.
    pub async fn device_jobs_page(
        &mut self,
        device_id: &str,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Result<Page<JobView>, String>, StoreError> {
        let range = Range::prefix(&k1("jb.dev/", device_id));
        let mut pager = match Pager::new(vec![Source::desc(range)], cursor, limit, false) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        while let Some((_, rows)) = pager.next_batch(self).await? {
            let jobs = self.jobs_named(&rows).await?;
            let mut by_id: std::collections::HashMap<String, JobView> =
                jobs.into_iter().map(|j| (j.id.clone(), j)).collect();
            for (k, id) in &rows {
                let j = by_id.remove(&*String::from_utf8_lossy(id));
                if !pager.take(k, j) {
                    break;
                }
            }
        }
        Ok(Ok(pager.finish()))
    }

    pub fn put_bulk(&mut self, b: &BulkRecord) {
        self.put_json(k1("bk/", &b.id), b);
    }

    pub async fn bulk(&mut self, id: &str) -> Result<Option<BulkRecord>, StoreError> {
        self.get_json("bulk", &k1("bk/", id)).await
    }
}
