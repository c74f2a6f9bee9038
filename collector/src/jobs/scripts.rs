//! The script registry: submit (admin), approve (a *different* admin; the collector
//! signs the canonical manifest), revoke (stops it everywhere), and the signed form
//! agents verify.

use tend_shared::api::AuditOutcome;
use tend_shared::enroll::Platform;
use tend_shared::jobs::{JobState, Script, ScriptStatus, ScriptSubmit, SignedScript, INTERPRETERS};
use tend_shared::signing::{script_manifest, sha256_hex, sign_b64};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::random_hex_id;
use crate::users::auth::ApiUser;

/// Largest script body accepted.
pub const MAX_BODY: usize = 256 * 1024;

/// The manifest-bearing form of an approved version.
pub fn signed(s: &Script) -> Option<SignedScript> {
    Some(SignedScript {
        script_id: s.id.clone(),
        version: s.version,
        interpreter: s.interpreter.clone(),
        body: s.body.clone(),
        body_sha256: s.body_sha256.clone(),
        timeout_s: s.timeout_s,
        run_as: s.run_as.as_str().to_string(),
        name: s.name.clone(),
        submitted_by: s.submitted_by.clone(),
        approved_by: s.approved_by.clone().unwrap_or_default(),
        signature: s.signature.clone()?,
    })
}

/// Stores a new version awaiting approval.
pub async fn submit(
    state: &AppState,
    user: &ApiUser,
    req: ScriptSubmit,
) -> Result<Script, ApiError> {
    let name = req.name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ApiError::BadRequest(
            "name: 1-64 of letters, digits, '-', '_', '.'".into(),
        ));
    }
    if !INTERPRETERS.contains(&req.interpreter.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "interpreter must be one of {}",
            INTERPRETERS.join(", ")
        )));
    }
    if req.body.trim().is_empty() || req.body.len() > MAX_BODY {
        return Err(ApiError::BadRequest(format!(
            "body must be 1..={MAX_BODY} bytes"
        )));
    }
    if !(1..=3600).contains(&req.timeout_s) {
        return Err(ApiError::BadRequest("timeout_s must be 1..=3600".into()));
    }
    let platforms = if req.platforms.is_empty() {
        vec![Platform::Linux, Platform::Macos]
    } else {
        req.platforms.clone()
    };
    let s = crate::commit!(state.store, tx => {
        submit_in(state, &mut tx, user, name, &req, &platforms).await
    })?;
    Ok(s)
}

async fn submit_in(
    state: &AppState,
    tx: &mut crate::store::Tx,
    user: &ApiUser,
    name: &str,
    req: &ScriptSubmit,
    platforms: &[Platform],
) -> Result<Script, ApiError> {
    let id = tx
        .script_id_by_name(name)
        .await?
        .unwrap_or_else(|| format!("s_{}", random_hex_id::<5>()));
    let versions = tx.script_versions(&id).await?;
    if versions
        .iter()
        .any(|v| v.status == ScriptStatus::PendingApproval)
    {
        return Err(ApiError::Conflict(format!(
            "script {name} already has a version awaiting approval"
        )));
    }
    let s = Script {
        id,
        name: name.to_string(),
        version: versions.last().map_or(1, |v| v.version + 1),
        interpreter: req.interpreter.clone(),
        body_sha256: sha256_hex(req.body.as_bytes()),
        body: req.body.clone(),
        platforms: platforms.to_vec(),
        timeout_s: req.timeout_s,
        run_as: req.run_as,
        description: req.description.clone(),
        status: ScriptStatus::PendingApproval,
        submitted_by: user.name.clone(),
        submitted_by_id: user.id.clone(),
        submitted_at_ms: state.now_ms(),
        approved_by: None,
        approved_by_id: None,
        approved_at_ms: None,
        signature: None,
    };
    tx.put_script(&s).await?;
    state
        .audit_in(
            tx,
            &user.actor(),
            "script.submit",
            &s.id,
            AuditOutcome::Success,
            serde_json::json!({"name": s.name, "version": s.version, "sha256": s.body_sha256}),
        )
        .await?;
    Ok(s)
}

/// Approves the pending version: only an admin other than the submitter.
pub async fn approve(state: &AppState, user: &ApiUser, id: &str) -> Result<Script, ApiError> {
    let versions = state.store.read().script_versions(id).await?;
    let mut s = versions
        .iter()
        .rev()
        .find(|v| v.status == ScriptStatus::PendingApproval)
        .cloned()
        .ok_or_else(|| {
            if versions.is_empty() {
                ApiError::not_found("script", id)
            } else {
                ApiError::Conflict("no version awaits approval".into())
            }
        })?;
    if let Err(why) = second_person(
        state,
        user,
        &s.submitted_by_id,
        &s.submitted_by,
        s.submitted_at_ms,
    )
    .await?
    {
        state
            .audit(
                &user.actor(),
                "script.approve",
                id,
                AuditOutcome::Denied,
                serde_json::json!({"reason": why, "version": s.version, "submitted_by": s.submitted_by}),
            )
            .await?;
        return Err(ApiError::Forbidden(format!(
            "two-person rule: {why}; a script is approved by an admin other than the one who submitted it"
        )));
    }
    let manifest = script_manifest(
        &s.id,
        s.version,
        &s.body_sha256,
        &s.interpreter,
        s.timeout_s,
        s.run_as.as_str(),
    );
    s.signature = Some(sign_b64(&state.keys.signing_key, &manifest));
    s.status = ScriptStatus::Approved;
    s.approved_by = Some(user.name.clone());
    s.approved_by_id = Some(user.id.clone());
    s.approved_at_ms = Some(state.now_ms());
    crate::commit!(state.store, tx => {
        let now = tx.script_versions(id).await?;
        // what was judged is still what awaits approval
        if !now.iter().any(|v| v.version == s.version && v.status == ScriptStatus::PendingApproval && v.body_sha256 == s.body_sha256) {
            return Err(ApiError::Conflict("the script changed while it was being approved; look again".into()));
        }
        for mut old in now.into_iter().filter(|v| v.status == ScriptStatus::Approved) {
            old.status = ScriptStatus::Superseded;
            tx.put_script(&old).await?;
        }
        tx.put_script(&s).await?;
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "script.approve",
                id,
                AuditOutcome::Success,
                serde_json::json!({"version": s.version, "sha256": s.body_sha256, "submitted_by": s.submitted_by}),
            )
            .await?;
        Ok(())
    })?;
    Ok(s)
}

/// The two-person rule: `Ok(Err(why))` when `approver` may not approve what the user
/// `author_id` (`author_name` for records from before user ids) made at `made_at_ms`.
/// The approver must be independent of the author (neither created the other, even
/// through users it created) and must have existed before the thing was made.
pub async fn second_person(
    state: &AppState,
    approver: &ApiUser,
    author_id: &str,
    author_name: &str,
    made_at_ms: u64,
) -> Result<Result<(), String>, ApiError> {
    let mut r = state.store.read();
    let author = if author_id.is_empty() {
        r.user_by_name(author_name)
            .await?
            .map(|u| u.id)
            .unwrap_or_default()
    } else {
        author_id.to_string()
    };
    if approver.id == author || approver.name == author_name {
        return Ok(Err(format!("{} made it", approver.name)));
    }
    if !author.is_empty()
        && !crate::users::tokens::independent(&state.store, &approver.id, &author).await?
    {
        return Ok(Err(format!(
            "{} and {author_name} are not independent (one created the other or reset its password)",
            approver.name
        )));
    }
    let me = r.user(&approver.id).await?;
    if me.as_ref().is_some_and(|u| u.must_set_password) {
        return Ok(Err(format!(
            "another admin reset {}'s password; {} approves nothing until it sets its own (from a console session, with the current one)",
            approver.name, approver.name
        )));
    }
    let created = me.map_or(0, |u| u.created_at_ms);
    if created > made_at_ms {
        return Ok(Err(format!(
            "{} was created after it was submitted",
            approver.name
        )));
    }
    Ok(Ok(()))
}

/// Revokes every version and rejects queued jobs that would run it.
pub async fn revoke(state: &AppState, user: &ApiUser, id: &str) -> Result<Vec<Script>, ApiError> {
    let now = state.now_ms();
    let versions = crate::commit!(state.store, tx => {
        let mut versions = tx.script_versions(id).await?;
        if versions.is_empty() {
            return Err(ApiError::not_found("script", id));
        }
        for v in &mut versions {
            v.status = ScriptStatus::Revoked;
            tx.put_script(v).await?;
        }
        for mut j in tx.jobs_waiting_for_script(id).await? {
            j.state = JobState::Rejected;
            j.finished_at_ms = Some(now);
            j.result = Some(super::rejection("script revoked"));
            tx.put_job(&j).await?;
        }
        tx.signal("results");
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "script.revoke",
                id,
                AuditOutcome::Success,
                serde_json::Value::Null,
            )
            .await?;
        Ok(versions)
    })?;
    Ok(versions)
}

/// The approved version of a script, if any.
pub async fn approved(state: &AppState, id: &str) -> Result<Option<Script>, ApiError> {
    Ok(state
        .store
        .read()
        .script_versions(id)
        .await?
        .into_iter()
        .rev()
        .find(|v| v.status == ScriptStatus::Approved))
}
