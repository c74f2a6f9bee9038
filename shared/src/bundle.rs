//! The enrollment bundle: the one file an MDM pushes beside the agent package.

use serde::{Deserialize, Serialize};

/// Everything an agent needs to enroll and to trust the collector afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentBundle {
    /// Base URL, e.g. `https://tend.example.com:8443`.
    pub server_url: String,
    /// The collector's CA certificate (PEM); the agent trusts nothing else.
    pub ca_pem: String,
    /// Shared secret that admits a new device.
    pub enroll_secret: String,
    /// The collector's ed25519 script-signing public key, base64.
    pub signing_public_key: String,
}
