//! Release endpoints: upload (admin), list and show (viewer), rollout changes (admin,
//! audited), and for devices the signed offer and the artifact download.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tend_shared::api::Role;
use tend_shared::releases::{LatestRelease, Release, ReleasePlatform, RolloutPatch};

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::releases;
use crate::state::AppState;
use crate::users::auth::{Auth, Principal};
use tend_shared::query::LatestQuery;

fn platform(p: &str) -> Result<ReleasePlatform, ApiError> {
    p.parse().map_err(ApiError::BadRequest)
}

pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((version, p)): ApiPath<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Release>), ApiError> {
    let user = auth.require(&state, Role::Admin, "release.add").await?;
    let p = platform(&p)?;
    let r = releases::add_artifact(
        &state.store,
        state.now_ms(),
        releases::Uploader {
            id: &user.id,
            name: &user.name,
        },
        &version,
        p,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<Release>>, ApiError> {
    auth.require(&state, Role::Viewer, "release.list").await?;
    Ok(Json(releases::list(&state.store).await?))
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(version): ApiPath<String>,
) -> Result<Json<Release>, ApiError> {
    auth.require(&state, Role::Viewer, "release.read").await?;
    state
        .store
        .read()
        .release(&version)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("release", &version))
}

pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(version): ApiPath<String>,
) -> Result<Json<Release>, ApiError> {
    let user = auth.require(&state, Role::Admin, "release.approve").await?;
    releases::approve(&state, &user, &version).await.map(Json)
}

pub async fn rollout(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(version): ApiPath<String>,
    ApiJson(patch): ApiJson<RolloutPatch>,
) -> Result<Json<Release>, ApiError> {
    let user = auth.require(&state, Role::Admin, "release.rollout").await?;
    releases::patch_rollout(&state, &user.actor(), &version, &patch)
        .await
        .map(Json)
}

/// The signed offer for the calling device (`{"release": null}` when none);
/// `?platform=linux-x86_64` names the build, `?version=` what it runs.
pub async fn latest(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<LatestQuery>,
) -> Result<Json<LatestRelease>, ApiError> {
    let device = auth.device(&state, "release.offer").await?;
    // a Mac has one universal build; a Linux device must say its architecture
    let p = match q.platform.as_deref() {
        Some(p) => Some(platform(p)?),
        None if device.platform == tend_shared::enroll::Platform::Macos => {
            Some(ReleasePlatform::MacosUniversal)
        }
        None => None,
    };
    let running = q.version.unwrap_or_else(|| device.agent_version.clone());
    Ok(Json(LatestRelease {
        release: releases::offer_for(&state, &device, &running, p).await?,
    }))
}

/// The artifact bytes, for enrolled devices and viewers.
pub async fn artifact(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((version, p)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    if !matches!(auth.0, Principal::Device(_)) {
        auth.require(&state, Role::Viewer, "release.download")
            .await?;
    }
    let p = platform(&p)?;
    let release = state
        .store
        .read()
        .release(&version)
        .await?
        .ok_or_else(|| ApiError::not_found("artifact", &format!("{version}/{p}")))?;
    // the two-person rule: nothing one admin uploaded alone is handed out
    if release.approved_by.is_none() {
        return Err(ApiError::Conflict(format!(
            "release {version} is not approved: a second admin approves it before anyone downloads it"
        )));
    }
    let size = release
        .artifacts
        .into_iter()
        .find(|a| a.platform == p)
        .map(|a| a.size)
        .ok_or_else(|| ApiError::not_found("artifact", &format!("{version}/{p}")))?;
    // streamed chunk by chunk: a download holds one chunk in memory, not the binary
    let store = state.store.clone();
    let chunks = futures_util::stream::unfold(0u32, move |i| {
        let (store, version) = (store.clone(), version.clone());
        async move {
            match store.read().release_artifact_chunk(&version, p, i).await {
                Ok(Some(c)) => Some((Ok(c), i + 1)),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), u32::MAX)),
            }
        }
    });
    Ok((
        [
            // never rendered by a browser: a download, whatever its bytes are
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"tend-agent-{p}\""),
            ),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
}
