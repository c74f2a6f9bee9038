//! Agent releases: the release records (rollout state included) and the artifact
//! bytes, one sled value per (version, platform).

use tend_shared::releases::{Release, ReleasePlatform};

use super::{from_json, to_json, Store, StoreError};

fn artifact_key(version: &str, platform: ReleasePlatform) -> Vec<u8> {
    let mut k = version.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(platform.as_str().as_bytes());
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
        self.release_artifacts
            .insert(artifact_key(version, platform), bytes)?;
        Ok(())
    }

    pub fn release_artifact(
        &self,
        version: &str,
        platform: ReleasePlatform,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .release_artifacts
            .get(artifact_key(version, platform))?
            .map(|v| v.to_vec()))
    }
}
