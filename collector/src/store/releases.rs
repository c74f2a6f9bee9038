//! Agent releases: the release records (rollout state included) and the artifact
//! bytes, in 1 MiB chunks per (version, platform) so a download streams them one by
//! one instead of holding the whole binary in memory.

use tend_shared::releases::{Release, ReleasePlatform};

use super::{from_json, to_json, Store, StoreError};

fn artifact_key(version: &str, platform: ReleasePlatform) -> Vec<u8> {
    let mut k = version.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(platform.as_str().as_bytes());
    k
}

/// Size of one stored artifact chunk.
pub const ARTIFACT_CHUNK: usize = 1 << 20;

fn chunk_key(version: &str, platform: ReleasePlatform, i: u32) -> Vec<u8> {
    let mut k = artifact_key(version, platform);
    k.push(0);
    k.extend_from_slice(&i.to_be_bytes());
    k
}

impl Store {
    pub fn put_release(&self, r: &Release) -> Result<(), StoreError> {
        self.releases.insert(r.version.as_bytes(), to_json(r))?;
        Ok(())
    }

    pub fn release(&self, version: &str) -> Result<Option<Release>, StoreError> {
        self.releases
            .get(version.as_bytes())?
            .map(|v| from_json("releases", &v))
            .transpose()
    }

    /// Every release, in key order (callers sort by version).
    pub fn releases(&self) -> Result<Vec<Release>, StoreError> {
        self.releases
            .iter()
            .map(|item| {
                let (_, v) = item?;
                from_json("releases", &v)
            })
            .collect()
    }

    /// Claims the one count a device gets per (release, stage, kind: start or
    /// outcome): true the first time, false after (compare-and-swap).
    pub fn claim_rollout_outcome(
        &self,
        version: &str,
        stage: usize,
        device_id: &str,
        kind: &str,
    ) -> Result<bool, StoreError> {
        let key = format!("{version}\0{stage}\0{kind}\0{device_id}");
        Ok(self
            .rollout_outcomes
            .compare_and_swap(key.as_bytes(), None::<&[u8]>, Some(&[1u8][..]))?
            .is_ok())
    }

    pub fn put_release_artifact(
        &self,
        version: &str,
        platform: ReleasePlatform,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        for (i, chunk) in bytes.chunks(ARTIFACT_CHUNK).enumerate() {
            self.release_artifacts
                .insert(chunk_key(version, platform, i as u32), chunk)?;
        }
        Ok(())
    }

    /// Chunk `i` of an artifact (`None` past the end). A store from before chunking
    /// holds the whole artifact as chunk 0.
    pub fn release_artifact_chunk(
        &self,
        version: &str,
        platform: ReleasePlatform,
        i: u32,
    ) -> Result<Option<bytes::Bytes>, StoreError> {
        if let Some(c) = self
            .release_artifacts
            .get(chunk_key(version, platform, i))?
        {
            return Ok(Some(bytes::Bytes::from_owner(c)));
        }
        if i == 0 {
            return Ok(self
                .release_artifacts
                .get(artifact_key(version, platform))?
                .map(bytes::Bytes::from_owner));
        }
        Ok(None)
    }
}
