//! `tend-agent enroll`: read the bundle, verify the collector against the bundle's CA
//! only, exchange the enroll secret for credentials, and store them (0600).

use std::path::Path;

use tend_shared::bundle::EnrollmentBundle;
use tend_shared::enroll::{EnrollProof, EnrollRequest, EnrollResponse};

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
    #[error("the bundle's enroll secret was used and removed after a successful enrollment; get a fresh bundle or an enrollment token (`tendctl enroll-token create`)")]
    SecretUsed,
    #[error("{0}")]
    NeedsApproval(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    State(#[from] StateError),
}

/// Removes the enroll secret from a bundle file once it has served (it is a fleet
/// credential; a laptop keeps only its own). The rest of the file stays readable.
pub fn scrub_bundle_secret(path: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut v: serde_json::Value = serde_json::from_str(&text).map_err(std::io::Error::other)?;
    if v["enroll_secret"].as_str().is_none_or(str::is_empty) {
        return Ok(());
    }
    v["enroll_secret"] = serde_json::Value::String(String::new());
    let pretty = serde_json::to_vec_pretty(&v).map_err(std::io::Error::other)?;
    crate::state::write_private(path, &pretty).map_err(|e| std::io::Error::other(e.to_string()))
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
    if bundle.enroll_secret.trim().is_empty() {
        return Err(EnrollError::SecretUsed);
    }
    let client = Client::new(&bundle.server_url, &bundle.ca_pem, None)?;
    let identity = tokio::task::spawn_blocking(crate::identity::detect)
        .await
        .unwrap_or_else(|_| crate::identity::detect());
    // prove which device this is: the token it holds, and a signature by its own key
    let key = state.device_key()?;
    let now = tend_shared::now_ms();
    let msg = tend_shared::signing::reenroll_message(&identity.hardware_uuid, now);
    let proof = EnrollProof {
        previous_token: state.credentials().ok().map(|c| c.device_token),
        signature: Some(tend_shared::signing::sign_b64(&key, &msg)),
        signed_at_ms: now,
    };
    let req = EnrollRequest {
        enroll_secret: bundle.enroll_secret.clone(),
        identity,
        agent_version: crate::VERSION.to_string(),
        device_key: Some(tend_shared::signing::public_key_b64(&key)),
        proof: Some(proof),
    };
    let resp: EnrollResponse = match client.post("/api/v1/enroll", &req).await {
        Ok(r) => r,
        Err(TransportError::Status { code, message, .. }) if code == "reenroll_needs_approval" => {
            return Err(EnrollError::NeedsApproval(message))
        }
        Err(e) => return Err(e.into()),
    };
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
