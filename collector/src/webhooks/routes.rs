//! Webhook endpoints (admins): create, list, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tend_shared::api::{AuditOutcome, Role};

use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;
use crate::users::auth::Auth;

#[derive(Debug, Deserialize)]
pub struct WebhookCreate {
    url: String,
    secret: String,
    #[serde(default)]
    events: Vec<String>,
}

pub async fn create_webhook(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(w): ApiJson<WebhookCreate>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let user = auth.require(&state, Role::Admin, "webhook.create").await?;
    let rec = crate::webhooks::register(&state, &user.actor(), &w.url, &w.secret, w.events).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            serde_json::json!({"id": rec.id, "url": rec.url, "events": rec.events, "created_at_ms": rec.created_at_ms}),
        ),
    ))
}

pub async fn list_webhooks(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    auth.require(&state, Role::Admin, "webhook.list").await?;
    // secrets are never shown again
    Ok(Json(state.store.read().webhooks().await?.into_iter().map(|w| serde_json::json!({"id": w.id, "url": w.url, "events": w.events, "created_at_ms": w.created_at_ms})).collect()))
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
