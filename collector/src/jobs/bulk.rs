//! Bulk actions: one diagnostic or approved script for every device matching a filter,
//! with progress counted by job state.

use std::collections::BTreeMap;

use tend_shared::api::AuditOutcome;
use tend_shared::jobs::{BulkAction, BulkRequest, BulkStatus, JobSpec};

use crate::error::ApiError;
use crate::fleet::DeviceFilter;
use crate::jobs::BulkRecord;
use crate::state::AppState;
use crate::store::random_hex_id;
use crate::users::auth::ApiUser;

/// Most devices one bulk action reaches.
pub const MAX_DEVICES: usize = 50_000;

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
    let mut devices = state.store.read().devices_all(&filter).await?;
    if devices.len() > MAX_DEVICES {
        return Err(ApiError::BadRequest(format!(
            "{} devices match; a bulk action reaches at most {MAX_DEVICES} (narrow the filter)",
            devices.len()
        )));
    }
    if let Some(key) = &req.problem_key {
        let mut r = state.store.read();
        let mut keep = Vec::new();
        for d in devices {
            if r.open_ticket(&d.id, key).await?.is_some() {
                keep.push(d);
            }
        }
        devices = keep;
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
                    super::QueueOptions::bulk(Some(id.clone())),
                )
                .await
            }
            BulkAction::Script { script_id } => {
                super::queue_script(
                    state,
                    d,
                    script_id,
                    &actor,
                    super::QueueOptions::bulk(Some(id.clone())),
                )
                .await
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
    crate::commit!(state.store, tx => {
        tx.put_bulk(&rec);
        state
            .audit_in(
                &mut tx,
                &actor,
                "bulk.create",
                &id,
                AuditOutcome::Success,
                serde_json::json!({"jobs": rec.job_ids.len()}),
            )
            .await?;
        Ok(())
    })?;
    status(state, &id).await
}

/// Progress of a bulk action.
pub async fn status(state: &AppState, id: &str) -> Result<BulkStatus, ApiError> {
    let mut r = state.store.read();
    let b = r
        .bulk(id)
        .await?
        .ok_or_else(|| ApiError::not_found("bulk action", id))?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let keys: Vec<Vec<u8>> = b
        .job_ids
        .iter()
        .map(|j| crate::store::keys::k1("jb/", j))
        .collect();
    for j in r
        .get_json_many::<tend_shared::jobs::JobView>("jobs", &keys)
        .await?
    {
        {
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
