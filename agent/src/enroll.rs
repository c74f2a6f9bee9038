//! `tend-agent enroll`: read the bundle, verify the collector against the bundle's CA
//! only, exchange the enroll secret for credentials, and store them (0600).

use std::path::Path;

use tend_shared::bundle::EnrollmentBundle;
use tend_shared::enroll::{EnrollRequest, EnrollResponse};

use crate::state::{Credentials, StateDir, StateError};
use crate::transport::{Client, TransportError};

/// Enrollment failures.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("reading the bundle {path}: {error}")]
    Bundle {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("the bundle is not valid JSON: {0}")]
    BundleJson(serde_json::Error),
    #[error("the bundle's server_url must start with https://")]
    NotHttps,
    #[error("the collector's signing key differs from the bundle's (possible impersonation)")]
    KeyMismatch,
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    State(#[from] StateError),
}

/// Reads and sanity-checks a bundle file.
pub fn read_bundle(path: &Path) -> Result<EnrollmentBundle, EnrollError> {
    let text = std::fs::read_to_string(path).map_err(|source| EnrollError::Bundle {
        path: path.to_owned(),
        error: source,
    })?;
    let bundle: EnrollmentBundle = serde_json::from_str(&text).map_err(EnrollError::BundleJson)?;
    if !bundle.server_url.starts_with("https://") {
        return Err(EnrollError::NotHttps);
    }
    Ok(bundle)
}

/// The device id when `state` already holds credentials from the collector that made
/// `bundle` (same CA and signing key); a collector that moved to another URL is
/// followed. `None` when this state dir needs enrolling.
pub fn already_enrolled(
    bundle: &EnrollmentBundle,
    state: &StateDir,
) -> Result<Option<String>, EnrollError> {
    if !state.is_enrolled() {
        return Ok(None);
    }
    let mut c = state.credentials()?;
    if c.ca_pem.trim() != bundle.ca_pem.trim() || c.signing_public_key != bundle.signing_public_key
    {
        return Ok(None);
    }
    if c.server_url != bundle.server_url {
        c.server_url = bundle.server_url.clone();
        state.save_credentials(&c)?;
    }
    Ok(Some(c.device_id))
}

/// Enrolls this machine and saves the credentials and policy in `state`.
pub async fn enroll(
    bundle: &EnrollmentBundle,
    state: &StateDir,
) -> Result<EnrollResponse, EnrollError> {
    let client = Client::new(&bundle.server_url, &bundle.ca_pem, None)?;
    let identity = tokio::task::spawn_blocking(crate::identity::detect)
        .await
        .unwrap_or_else(|_| crate::identity::detect());
    let req = EnrollRequest {
        enroll_secret: bundle.enroll_secret.clone(),
        identity,
        agent_version: crate::VERSION.to_string(),
    };
    let resp: EnrollResponse = client.post("/api/v1/enroll", &req).await?;
    if resp.signing_public_key != bundle.signing_public_key {
        return Err(EnrollError::KeyMismatch);
    }
    state.save_credentials(&Credentials {
        server_url: bundle.server_url.clone(),
        device_id: resp.device_id.clone(),
        device_token: resp.device_token.clone(),
        ca_pem: bundle.ca_pem.clone(),
        signing_public_key: bundle.signing_public_key.clone(),
        enrolled_at_ms: tend_shared::now_ms(),
    })?;
    state.save_policy(&resp.policy)?;
    Ok(resp)
}
