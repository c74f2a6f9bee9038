//! Bulk actions: one diagnostic or approved script for every device matching a filter,
//! with progress counted by job state.

use std::collections::BTreeMap;

use tend_shared::api::AuditOutcome;
use tend_shared::jobs::{BulkAction, BulkRequest, BulkStatus, JobSpec};

use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{random_hex_id, BulkRecord, DeviceFilter};

/// Queues the action on every matching device.
pub async fn create(
    state: &AppState,
    user: &ApiUser,
    req: BulkRequest,
) -> Result<BulkStatus, ApiError> {
    if let BulkAction::Diagnostic { name, args } = &req.action {
        tend_shared::diagnostics::validate(name, args).map_err(ApiError::BadRequest)?;
    }
    let filter = DeviceFilter {
        platform: req.platform,
        health: req.health,
        ..Default::default()
    };
    let mut devices = state.store.devices(&filter)?;
    if let Some(key) = &req.problem_key {
        devices.retain(|d| state.store.open_ticket(&d.id, key).ok().flatten().is_some());
    }
    let id = format!("b_{}", random_hex_id::<6>());
    let actor = user.actor();
    let mut job_ids = Vec::new();
    for d in &devices {
        let job = match &req.action {
            BulkAction::Diagnostic { name, args } => {
                super::queue(
                    state,
                    d,
                    JobSpec::Diagnostic {
                        name: name.clone(),
                        args: args.clone(),
                    },
                    &actor,
                    Some(id.clone()),
                )
                .await
            }
            BulkAction::Script { script_id } => {
                super::queue_script(state, d, script_id, &actor, Some(id.clone())).await
            }
        };
        match job {
            Ok(j) => job_ids.push(j.id),
            // a script for the other platform skips that device; anything else stops here
            Err(ApiError::BadRequest(m)) if m.contains("does not run on") => {}
            Err(e) => return Err(e),
        }
    }
    let rec = BulkRecord {
        id: id.clone(),
        created_at_ms: state.now_ms(),
        created_by: actor.clone(),
        action: req.action,
        job_ids,
    };
    state.store.put_bulk(&rec)?;
    state.audit(
        &actor,
        "bulk.create",
        &id,
        AuditOutcome::Success,
        serde_json::json!({"jobs": rec.job_ids.len()}),
    )?;
    state.store.flush().await?;
    status(state, &id)
}

/// Progress of a bulk action.
pub fn status(state: &AppState, id: &str) -> Result<BulkStatus, ApiError> {
    let b = state
        .store
        .bulk(id)?
        .ok_or_else(|| ApiError::not_found("bulk action", id))?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for jid in &b.job_ids {
        if let Some(j) = state.store.job(jid)? {
            let name = serde_json::to_value(j.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *counts.entry(name).or_default() += 1;
        }
    }
    Ok(BulkStatus {
        id: b.id,
        created_at_ms: b.created_at_ms,
        created_by: b.created_by,
        action: b.action,
        job_ids: b.job_ids,
        counts,
    })
}
