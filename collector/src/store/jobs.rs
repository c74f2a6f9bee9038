//! Scripts (every version), jobs, per-device queues and histories, bulk actions.

use serde::{Deserialize, Serialize};
use tend_shared::jobs::{BulkAction, JobView, Script};

use super::{from_json, to_json, Store, StoreError};

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
    let mut k = id.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

fn pair(a: &str, b: &[u8]) -> Vec<u8> {
    let mut k = a.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(b);
    k
}

impl Store {
    pub fn put_script(&self, s: &Script) -> Result<(), StoreError> {
        self.scripts
            .insert(script_key(&s.id, s.version), to_json(s))?;
        self.script_names
            .insert(s.name.as_bytes(), s.id.as_bytes())?;
        Ok(())
    }

    pub fn script_id_by_name(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .script_names
            .get(name)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Every version of a script, oldest first.
    pub fn script_versions(&self, id: &str) -> Result<Vec<Script>, StoreError> {
        let mut out = Vec::new();
        for item in self.scripts.scan_prefix(pair(id, b"")) {
            let (_, v) = item?;
            out.push(from_json("scripts", &v)?);
        }
        Ok(out)
    }

    /// The latest version of every script.
    pub fn scripts_latest(&self) -> Result<Vec<Script>, StoreError> {
        let mut out: Vec<Script> = Vec::new();
        for item in self.scripts.iter() {
            let (_, v) = item?;
            let s: Script = from_json("scripts", &v)?;
            match out.last_mut() {
                Some(last) if last.id == s.id => *last = s,
                _ => out.push(s),
            }
        }
        Ok(out)
    }

    pub fn job(&self, id: &str) -> Result<Option<JobView>, StoreError> {
        self.jobs
            .get(id)?
            .map(|v| from_json("jobs", &v))
            .transpose()
    }

    /// Writes a job; keeps the device queue (queued, and delivered but not yet
    /// acknowledged by the device) and the open index (anything not final) in step.
    pub fn put_job(&self, j: &JobView) -> Result<(), StoreError> {
        use tend_shared::jobs::JobState;
        let fresh = self.jobs.insert(j.id.as_bytes(), to_json(j))?.is_none();
        let qk = pair(&j.device_id, j.id.as_bytes());
        if matches!(j.state, JobState::Queued | JobState::Delivered) {
            self.job_queue.insert(qk.clone(), &[])?;
        } else {
            self.job_queue.remove(qk.clone())?;
        }
        if j.state.is_final() {
            self.job_open.remove(qk)?;
        } else {
            self.job_open.insert(qk, &[])?;
        }
        if fresh {
            let mut hk = pair(&j.device_id, &j.created_at_ms.to_be_bytes());
            hk.extend_from_slice(j.id.as_bytes());
            self.device_jobs.insert(hk, j.id.as_bytes())?;
        }
        Ok(())
    }

    /// Queued and delivered-but-unacknowledged jobs of a device, oldest first.
    pub fn queued_jobs(&self, device_id: &str) -> Result<Vec<JobView>, StoreError> {
        let mut out = Vec::new();
        for item in self.job_queue.scan_prefix(pair(device_id, b"")) {
            let (k, _) = item?;
            let id = String::from_utf8_lossy(&k[device_id.len() + 1..]).into_owned();
            if let Some(j) = self.job(&id)? {
                out.push(j);
            }
        }
        out.sort_by_key(|j| j.created_at_ms);
        Ok(out)
    }

    /// Every job not yet final, of every device.
    pub fn open_jobs(&self) -> Result<Vec<JobView>, StoreError> {
        let mut out = Vec::new();
        for item in self.job_open.iter() {
            let (k, _) = item?;
            if let Some(pos) = k.iter().position(|b| *b == 0) {
                if let Some(j) = self.job(&String::from_utf8_lossy(&k[pos + 1..]))? {
                    out.push(j);
                }
            }
        }
        Ok(out)
    }

    /// A device's jobs, newest first.
    pub fn device_jobs(&self, device_id: &str, limit: usize) -> Result<Vec<JobView>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .device_jobs
            .scan_prefix(pair(device_id, b""))
            .rev()
            .take(limit)
        {
            let (_, id) = item?;
            if let Some(j) = self.job(&String::from_utf8_lossy(&id))? {
                out.push(j);
            }
        }
        Ok(out)
    }

    pub fn put_bulk(&self, b: &BulkRecord) -> Result<(), StoreError> {
        self.bulk.insert(b.id.as_bytes(), to_json(b))?;
        Ok(())
    }

    pub fn bulk(&self, id: &str) -> Result<Option<BulkRecord>, StoreError> {
        self.bulk
            .get(id)?
            .map(|v| from_json("bulk", &v))
            .transpose()
    }
}
