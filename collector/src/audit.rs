//! The audit log's analyst endpoint (admins): filtered, paged, newest first.

use axum::extract::State;
use axum::Json;
use tend_shared::api::{AuditEntry, Page, Role};

use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;
use crate::store::paging;
use crate::store::AuditFilter;
use crate::users::auth::Auth;
use tend_shared::query::AuditQuery;

/// The audit log, newest first, a page at a time.
pub async fn audit(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    auth.require(&state, Role::Admin, "audit.read").await?;
    let f = AuditFilter {
        actor: q.actor,
        action_prefix: q.action,
        target: q.target,
        before_seq: q.before,
        from_ms: q.from_ms,
        to_ms: q.to_ms,
    };
    let cursor = paging::cursor(q.cursor.as_deref()).map_err(ApiError::BadRequest)?;
    let page = state
        .store
        .read()
        .audit_page(&f, cursor.as_ref(), paging::limit(q.limit))
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(Json(page))
}
