//! Agent releases and staged rollouts.
//!
//! - An admin uploads one artifact per (version, platform); the collector stores the
//!   bytes and their SHA-256, and signs an offer (`signing::release_manifest`, with a
//!   7-day expiry) each time it hands one to a device.
//! - Rings: a device is in a release's rollout when the hash bucket of its id
//!   (`bucket`, 0..10,000, stable across releases) is below `percent × 100`, so the
//!   canaries of one release are the canaries of the next, and widening only adds
//!   devices.
//! - The agent reports `update.*` events; each one updates the device's update state
//!   and the current stage's counters. When failures in the current stage reach the
//!   release's threshold (after `min_sample` attempts) the rollout halts by itself
//!   and says why; an admin resuming it clears the halt.

pub mod routes;
mod store;

pub use store::{stage_counter, ARTIFACT_CHUNK};

use std::cmp::Ordering;

use sha2::{Digest, Sha256};
use tend_shared::api::AuditOutcome;
use tend_shared::checkin::AgentEvent;
use tend_shared::releases::{
    validate_version, version_cmp, DeviceUpdate, Release, ReleaseArtifact, ReleaseOffer,
    ReleasePlatform, Rollout, RolloutPatch, RolloutStage, UpdateState,
};

use crate::error::ApiError;
use crate::fleet::DeviceRecord;
use crate::state::AppState;
use crate::store::{Store, StoreError};

/// Largest artifact accepted (a stripped agent is ~5 MB; universal macOS ~12 MB).
pub const MAX_ARTIFACT_BYTES: usize = 256 << 20;
/// How long a signed offer stays valid.
pub const OFFER_TTL_MS: u64 = 7 * 86_400_000;

/// The rollout bucket of a device, 0..10,000, from a hash of its id alone.
pub fn bucket(device_id: &str) -> u32 {
    let h = Sha256::new()
        .chain_update(b"tend-rollout\0")
        .chain_update(device_id.as_bytes())
        .finalize();
    let n = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
    (n % 10_000) as u32
}

/// True when `device_id` falls in the first `percent` of devices.
pub fn in_ring(device_id: &str, percent: u8) -> bool {
    bucket(device_id) < u32::from(percent.min(100)) * 100
}

/// Who uploads an artifact: a user (`id`, `name`), or the operator on the server.
#[derive(Debug, Clone, Copy)]
pub struct Uploader<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// Stores an uploaded artifact and creates the release if it is new. Re-uploading
/// the same bytes is a no-op; different bytes for an existing (version, platform)
/// are a 409 (a version names one build forever). A new artifact clears an earlier
/// approval: nothing is offered until a second admin approves what is there now.
pub async fn add_artifact(
    store: &Store,
    now_ms: u64,
    uploader: Uploader<'_>,
    version: &str,
    platform: ReleasePlatform,
    bytes: &[u8],
) -> Result<Release, ApiError> {
    validate_version(version).map_err(ApiError::BadRequest)?;
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("the artifact is empty".into()));
    }
    if bytes.len() > MAX_ARTIFACT_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "artifact is {} bytes; the limit is {MAX_ARTIFACT_BYTES}",
            bytes.len()
        )));
    }
    let sha256 = tend_shared::signing::sha256_hex(bytes);
    let actor = if uploader.id.is_empty() {
        "system".to_string()
    } else {
        format!("user:{}", uploader.name)
    };
    let release = crate::commit!(store, tx => {
        add_in(&mut tx, now_ms, uploader, &actor, version, platform, bytes, &sha256).await
    })?;
    Ok(release)
}

#[allow(clippy::too_many_arguments)]
async fn add_in(
    tx: &mut crate::store::Tx,
    now_ms: u64,
    uploader: Uploader<'_>,
    actor: &str,
    version: &str,
    platform: ReleasePlatform,
    bytes: &[u8],
    sha256: &str,
) -> Result<Release, ApiError> {
    let mut release = tx.release(version).await?.unwrap_or_else(|| Release {
        version: version.to_string(),
        created_at_ms: now_ms,
        created_by: uploader.name.to_string(),
        artifacts: Vec::new(),
        rollout: Rollout::default(),
        approved_by: None,
        approved_by_id: None,
        approved_at_ms: None,
    });
    if let Some(a) = release.artifacts.iter().find(|a| a.platform == platform) {
        if a.sha256 == sha256 {
            return Ok(release);
        }
        return Err(ApiError::Conflict(format!(
            "release {version} already has a different {platform} artifact (sha256 {}); publish a new version",
            a.sha256
        )));
    }
    release.artifacts.push(ReleaseArtifact {
        platform,
        sha256: sha256.to_string(),
        size: bytes.len() as u64,
        uploaded_at_ms: now_ms,
        uploaded_by: uploader.name.to_string(),
        uploaded_by_id: uploader.id.to_string(),
    });
    release.artifacts.sort_by_key(|a| a.platform);
    // new bytes need a new second look
    release.approved_by = None;
    release.approved_by_id = None;
    release.approved_at_ms = None;
    tx.put_release_artifact(version, platform, bytes);
    tx.put_release(&release);
    tx.signal("releases");
    tx.append_audit(
        now_ms,
        actor,
        "release.add",
        version,
        AuditOutcome::Success,
        serde_json::json!({"platform": platform, "sha256": sha256_of(&release, platform), "size": bytes.len()}),
    )
    .await?;
    Ok(release)
}

fn sha256_of(r: &Release, p: ReleasePlatform) -> String {
    r.artifacts
        .iter()
        .find(|a| a.platform == p)
        .map(|a| a.sha256.clone())
        .unwrap_or_default()
}

/// Widens, pauses or resumes a rollout (audited by the caller).
pub async fn patch_rollout(
    state: &AppState,
    actor: &str,
    version: &str,
    patch: &RolloutPatch,
) -> Result<Release, ApiError> {
    let r =
        crate::commit!(state.store, tx => patch_in(state, &mut tx, actor, version, patch).await)?;
    Ok(r)
}

async fn patch_in(
    state: &AppState,
    tx: &mut crate::store::Tx,
    actor: &str,
    version: &str,
    patch: &RolloutPatch,
) -> Result<Release, ApiError> {
    let mut r = tx
        .release(version)
        .await?
        .ok_or_else(|| ApiError::not_found("release", version))?;
    if let Some(p) = patch.percent {
        if p > 100 {
            return Err(ApiError::BadRequest("percent must be 0..=100".into()));
        }
        if p > 0 && r.artifacts.is_empty() {
            return Err(ApiError::Conflict(format!(
                "release {version} has no artifact yet"
            )));
        }
        if p > 0 && r.approved_by.is_none() {
            return Err(ApiError::Conflict(format!(
                "release {version} is not approved: a second admin approves it first (`tendctl release approve {version}`)"
            )));
        }
        if p != r.rollout.percent {
            r.rollout.percent = p;
            r.rollout.stages.push(RolloutStage {
                percent: p,
                started_at_ms: state.now_ms(),
                ..Default::default()
            });
        }
    }
    if let Some(t) = patch.failure_threshold_pct {
        if t == 0 || t > 100 {
            return Err(ApiError::BadRequest(
                "failure_threshold_pct must be 1..=100".into(),
            ));
        }
        r.rollout.failure_threshold_pct = t;
    }
    if let Some(m) = patch.min_sample {
        r.rollout.min_sample = m.max(1);
    }
    if let Some(rb) = patch.rollback {
        r.rollout.rollback = rb;
    }
    if let Some(paused) = patch.paused {
        r.rollout.paused = paused;
        if !paused {
            r.rollout.halted = false;
            r.rollout.halt_reason = None;
        }
    }
    tx.put_release(&r);
    tx.signal("releases");
    state
        .audit_in(
            tx,
            actor,
            "release.rollout",
            version,
            AuditOutcome::Success,
            serde_json::json!({"patch": patch, "rollout": {"percent": r.rollout.percent, "paused": r.rollout.paused, "halted": r.rollout.halted}}),
        )
        .await?;
    Ok(r)
}

/// Approves a release's artifacts: an admin independent of every uploader, who
/// existed before the last upload (the two-person rule, as for scripts).
pub async fn approve(
    state: &AppState,
    user: &crate::users::auth::ApiUser,
    version: &str,
) -> Result<Release, ApiError> {
    let r = state
        .store
        .read()
        .release(version)
        .await?
        .ok_or_else(|| ApiError::not_found("release", version))?;
    if r.artifacts.is_empty() {
        return Err(ApiError::Conflict(format!(
            "release {version} has no artifact to approve"
        )));
    }
    for a in &r.artifacts {
        let check = crate::jobs::scripts::second_person(
            state,
            user,
            &a.uploaded_by_id,
            &a.uploaded_by,
            a.uploaded_at_ms,
        )
        .await?;
        if let Err(why) = check {
            state
                .audit(
                    &user.actor(),
                    "release.approve",
                    version,
                    AuditOutcome::Denied,
                    serde_json::json!({"reason": why, "platform": a.platform}),
                )
                .await?;
            return Err(ApiError::Forbidden(format!(
                "two-person rule: {why}; a release is approved by an admin other than the one who uploaded it"
            )));
        }
    }
    let approved_at = state.now_ms();
    let r = crate::commit!(state.store, tx => {
        // the record as it is now: an upload meanwhile means a new look is needed
        let mut current = tx
            .release(version)
            .await?
            .ok_or_else(|| ApiError::not_found("release", version))?;
        if current.artifacts != r.artifacts {
            return Err(ApiError::Conflict(format!(
                "release {version} changed while it was being approved; look again"
            )));
        }
        current.approved_by = Some(user.name.clone());
        current.approved_by_id = Some(user.id.clone());
        current.approved_at_ms = Some(approved_at);
        tx.put_release(&current);
        tx.signal("releases");
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "release.approve",
                version,
                AuditOutcome::Success,
                serde_json::json!({"artifacts": current.artifacts.iter().map(|a| (&a.platform, &a.sha256)).collect::<Vec<_>>()}),
            )
            .await?;
        Ok(current)
    })?;
    Ok(r)
}

/// Releases, newest version first.
pub async fn list(store: &Store) -> Result<Vec<Release>, StoreError> {
    let mut all = store.read().releases().await?;
    all.sort_by(|a, b| version_cmp(&b.version, &a.version));
    Ok(all)
}

/// The signed offer for `device`, if a release newer than what it runs has reached
/// its ring and has not failed on it before.
pub async fn offer_for(
    state: &AppState,
    device: &DeviceRecord,
    running: &str,
    platform: Option<ReleasePlatform>,
) -> Result<Option<ReleaseOffer>, StoreError> {
    let Some(platform) = platform else {
        return Ok(None);
    };
    let releases = state.releases_for_offers().await?;
    let best = releases
        .iter()
        .filter(|r| r.approved_by.is_some())
        .filter(|r| r.rollout.active() && in_ring(&device.id, r.rollout.percent))
        .filter(|r| match version_cmp(&r.version, running) {
            Ordering::Greater => true,
            Ordering::Less => r.rollout.rollback,
            Ordering::Equal => false,
        })
        .filter(|r| !device.failed_versions.contains(&r.version))
        .filter_map(|r| {
            let a = r.artifacts.iter().find(|a| a.platform == platform)?.clone();
            Some((r.version.clone(), a))
        })
        .max_by(|a, b| version_cmp(&a.0, &b.0));
    Ok(best.map(|(version, a)| {
        let rollback = version_cmp(&version, running) == Ordering::Less;
        let key = format!("{version}\0{}\0{}\0{rollback}", a.platform, a.sha256);
        state.signed_offer(key, state.now_ms() + OFFER_TTL_MS / 2, || {
            sign_offer(state, &version, &a, rollback)
        })
    }))
}

fn sign_offer(
    state: &AppState,
    version: &str,
    a: &ReleaseArtifact,
    rollback: bool,
) -> ReleaseOffer {
    let expires_at_ms = state.now_ms() + OFFER_TTL_MS;
    let msg = tend_shared::signing::release_manifest(
        version,
        a.platform.as_str(),
        &a.sha256,
        a.size,
        expires_at_ms,
        rollback,
    );
    ReleaseOffer {
        version: version.to_string(),
        platform: a.platform,
        sha256: a.sha256.clone(),
        size: a.size,
        expires_at_ms,
        signature: tend_shared::signing::sign_b64(&state.keys.signing_key, &msg),
        url: format!("/api/v1/releases/{version}/{}/artifact", a.platform),
        rollback,
    }
}

/// Applies one `update.*` agent event: the device's update state, the stage
/// counters, and the automatic halt. Called inside check-in ingest (which flushes).
///
/// A device counts once per stage (its start once, its outcome once), and only when
/// the stage's ring includes it: one device cannot halt a rollout by repeating an
/// event or naming a release it was never offered.
pub async fn on_update_event(
    state: &AppState,
    tx: &mut crate::store::Tx,
    device: &DeviceRecord,
    e: &AgentEvent,
) -> Result<Option<DeviceUpdate>, StoreError> {
    let Some(st) = UpdateState::from_event_kind(&e.kind) else {
        return Ok(None);
    };
    let text = |k: &str| {
        e.data
            .get(k)
            .and_then(|v| v.as_str())
            .map(|s| s.chars().take(64).collect::<String>())
            .unwrap_or_default()
    };
    let update = DeviceUpdate {
        state: st,
        target_version: text("to"),
        from_version: text("from"),
        message: e.message.clone(),
        at_ms: e.at_ms,
    };
    if let Some(mut r) = tx.release(&update.target_version).await? {
        let stage = r.rollout.stages.len().saturating_sub(1);
        let offered = r.approved_by.is_some()
            && r.rollout
                .stages
                .last()
                .is_some_and(|s| in_ring(&device.id, s.percent));
        let kind = if st == UpdateState::Installing {
            "start"
        } else {
            "outcome"
        };
        if offered
            && tx
                .claim_rollout_outcome(&r.version, stage, &device.id, kind)
                .await?
        {
            let before = r.rollout.halted;
            for (field, n) in count(&mut r.rollout, st) {
                tx.count_add(
                    &crate::releases::stage_counter(&r.version, stage, field),
                    &device.id,
                    n,
                )
                .await?;
            }
            if r.rollout.halted && !before {
                tracing::warn!(release = %r.version, reason = ?r.rollout.halt_reason, "rollout halted");
                state
                    .audit_in(
                        tx,
                        "system",
                        "release.halted",
                        &r.version,
                        AuditOutcome::Success,
                        serde_json::json!({"reason": r.rollout.halt_reason, "device": device.id}),
                    )
                    .await?;
                // the record changes only when the rollout halts: the counts are
                // counters, so concurrent reports never rewrite one hot record
                tx.put_release(&r);
                tx.signal("releases");
            }
        }
    }
    Ok(Some(update))
}

/// Counts one outcome in the current stage and halts past the threshold; returns
/// the counter changes `(field, delta)` to store.
fn count(rollout: &mut Rollout, st: UpdateState) -> Vec<(&'static str, i64)> {
    let Some(stage) = rollout.stages.last_mut() else {
        return Vec::new();
    };
    let changes: Vec<(&'static str, i64)> = match st {
        UpdateState::Installing => vec![("attempted", 1)],
        UpdateState::Succeeded => vec![("succeeded", 1)],
        // a refusal happens instead of a start
        UpdateState::Refused => vec![("attempted", 1), ("failed", 1)],
        UpdateState::Failed | UpdateState::RolledBack => vec![("failed", 1)],
    };
    for (field, n) in &changes {
        let n = *n as u64;
        match *field {
            "attempted" => stage.attempted += n,
            "succeeded" => stage.succeeded += n,
            _ => stage.failed += n,
        }
    }
    let attempted = stage.attempted.max(stage.failed + stage.succeeded);
    if !rollout.halted
        && attempted >= rollout.min_sample
        && stage.failed * 100 >= u64::from(rollout.failure_threshold_pct) * attempted
    {
        rollout.halted = true;
        rollout.halt_reason = Some(format!(
            "{} of {} updates failed at {} % (threshold {} %)",
            stage.failed, attempted, stage.percent, rollout.failure_threshold_pct
        ));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_selection_is_stable_and_matches_the_percentage() {
        let ids: Vec<String> = (0..10_000)
            .map(|i| crate::store::random_hex_id::<8>() + &i.to_string())
            .collect();
        for pct in [1u8, 5, 10, 25, 50, 90] {
            let n = ids.iter().filter(|id| in_ring(id, pct)).count();
            let expected = 100.0 * f64::from(pct);
            // binomial σ = sqrt(n p (1-p)) ≤ 50; allow 4σ
            assert!(
                (n as f64 - expected).abs() <= 200.0,
                "{pct} %: {n} of 10,000"
            );
        }
        // stable: the same answer every time, and widening only adds devices
        for id in &ids {
            assert_eq!(bucket(id), bucket(id));
            if in_ring(id, 10) {
                assert!(in_ring(id, 25));
            }
        }
        assert!(ids.iter().all(|id| in_ring(id, 100)));
        assert!(!ids.iter().any(|id| in_ring(id, 0)));
    }

    #[test]
    fn rollout_halts_when_a_stage_fails_too_often() {
        let mut r = Rollout {
            percent: 10,
            failure_threshold_pct: 60,
            min_sample: 4,
            stages: vec![RolloutStage {
                percent: 10,
                ..Default::default()
            }],
            ..Default::default()
        };
        count(&mut r, UpdateState::Installing);
        count(&mut r, UpdateState::RolledBack);
        count(&mut r, UpdateState::Installing);
        count(&mut r, UpdateState::Succeeded);
        assert!(!r.halted, "one failure in two is below min_sample");
        count(&mut r, UpdateState::Refused);
        assert!(!r.halted, "2 of 3");
        count(&mut r, UpdateState::Installing);
        assert!(!r.halted, "2 of 4 is below 60 %");
        count(&mut r, UpdateState::Failed);
        assert!(r.halted, "3 of 4 ≥ 60 %");
        assert!(r.halt_reason.as_deref().unwrap().contains("3 of 4"));
        assert!(!r.active());
    }
}

#[cfg(test)]
mod http_tests;
