//! Agent releases: the release records (rollout state), the per-stage outcome
//! counters, the once-per-device outcome claims, and the artifact bytes in 1 MiB
//! chunks per (version, platform) so a download streams them one by one.
//!
//! Stage counts live in sharded counters (`ctr/rl.<version>.<stage>.<field>`), not in
//! the release record: thousands of devices reporting at once each add to a shard
//! instead of rewriting one hot record. [`Tx::release`] fills them in;
//! [`Tx::put_release`] never stores them.

use tend_shared::releases::{Release, ReleasePlatform};

use crate::store::keys::{k1, Key};
use crate::store::kv::Tx;
use crate::store::StoreError;

/// Size of one stored artifact chunk.
pub const ARTIFACT_CHUNK: usize = 1 << 20;

fn chunk_key(version: &str, platform: ReleasePlatform, i: u32) -> Vec<u8> {
    Key::new("rl.art/")
        .s(version)
        .s(platform.as_str())
        .n(u64::from(i))
        .build()
}

/// The counter of one stage field (`attempted`, `succeeded`, `failed`).
pub fn stage_counter(version: &str, stage: usize, field: &str) -> String {
    format!("rl.{version}.{stage}.{field}")
}

impl Tx {
    /// Writes a release (its stage counts stay in the counters).
    pub fn put_release(&mut self, r: &Release) {
        let mut stored = r.clone();
        for s in &mut stored.rollout.stages {
            s.attempted = 0;
            s.succeeded = 0;
            s.failed = 0;
        }
        self.put_json(k1("rl/", &r.version), &stored);
    }

    async fn with_counts(&mut self, mut r: Release) -> Result<Release, StoreError> {
        for (i, s) in r.rollout.stages.iter_mut().enumerate() {
            s.attempted = self
                .count(&stage_counter(&r.version, i, "attempted"))
                .await?
                .max(0) as u64;
            s.succeeded = self
                .count(&stage_counter(&r.version, i, "succeeded"))
                .await?
                .max(0) as u64;
            s.failed = self
                .count(&stage_counter(&r.version, i, "failed"))
                .await?
                .max(0) as u64;
        }
        Ok(r)
    }

    /// A release with its stage counts.
    pub async fn release(&mut self, version: &str) -> Result<Option<Release>, StoreError> {
        match self
            .get_json::<Release>("releases", &k1("rl/", version))
            .await?
        {
            Some(r) => Ok(Some(self.with_counts(r).await?)),
            None => Ok(None),
        }
    }

    /// Every release without its stage counts (offers need none).
    pub async fn releases_bare(&mut self) -> Result<Vec<Release>, StoreError> {
        self.all_json("releases", "rl/").await
    }

    /// Every release with its stage counts.
    pub async fn releases(&mut self) -> Result<Vec<Release>, StoreError> {
        let mut out = Vec::new();
        for r in self.releases_bare().await? {
            out.push(self.with_counts(r).await?);
        }
        Ok(out)
    }

    /// Claims the one count a device gets per (release, stage, kind: start or
    /// outcome): true the first time, false after.
    pub async fn claim_rollout_outcome(
        &mut self,
        version: &str,
        stage: usize,
        device_id: &str,
        kind: &str,
    ) -> Result<bool, StoreError> {
        let k = Key::new("rl.out/")
            .s(version)
            .n(stage as u64)
            .s(kind)
            .s(device_id)
            .build();
        if self.get(&k).await?.is_some() {
            return Ok(false);
        }
        self.put(k, vec![1u8]);
        Ok(true)
    }

    pub fn put_release_artifact(&mut self, version: &str, platform: ReleasePlatform, bytes: &[u8]) {
        for (i, chunk) in bytes.chunks(ARTIFACT_CHUNK).enumerate() {
            self.put(chunk_key(version, platform, i as u32), chunk.to_vec());
        }
    }

    /// Chunk `i` of an artifact (`None` past the end).
    pub async fn release_artifact_chunk(
        &mut self,
        version: &str,
        platform: ReleasePlatform,
        i: u32,
    ) -> Result<Option<bytes::Bytes>, StoreError> {
        self.get(&chunk_key(version, platform, i)).await
    }
}
