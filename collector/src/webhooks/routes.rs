//! Webhook endpoints (admins): create, list, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_shared::api::{AuditOutcome, Role};
use tend_shared::webhooks::{Webhook, WebhookCreate};

use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;
use crate::users::auth::Auth;
use crate::webhooks::WebhookRecord;

pub async fn create_webhook(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(w): ApiJson<WebhookCreate>,
) -> Result<(StatusCode, Json<Webhook>), ApiError> {
    let user = auth.require(&state, Role::Admin, "webhook.create").await?;
    let rec = crate::webhooks::register(&state, &user.actor(), &w.url, &w.secret, w.events).await?;
    Ok((StatusCode::CREATED, Json(rec.view())))
}

pub async fn list_webhooks(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    auth.require(&state, Role::Admin, "webhook.list").await?;
    // secrets are never shown again
    let all = state.store.read().webhooks().await?;
    Ok(Json(all.iter().map(WebhookRecord::view).collect()))
}

pub async fn delete_webhook(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let user = auth.require(&state, Role::Admin, "webhook.delete").await?;
    crate::commit!(state.store, tx => {
        if !tx.remove_webhook(&id).await? {
            return Err(ApiError::not_found("webhook", &id));
        }
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "webhook.delete",
                &id,
                AuditOutcome::Success,
                serde_json::Value::Null,
            )
            .await?;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}
