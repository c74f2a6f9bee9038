//! ed25519 signing helpers shared by the collector (signs) and the agent (verifies).
//!
//! Keys travel as base64 of the raw 32-byte key; signatures as base64 of 64 bytes.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// Why a signature did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("public key is not 32 bytes of base64")]
    BadKey,
    #[error("signature is not 64 bytes of base64")]
    BadSignature,
    #[error("signature does not verify against the pinned key")]
    Mismatch,
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Base64 of the public half of `key`.
pub fn public_key_b64(key: &SigningKey) -> String {
    B64.encode(key.verifying_key().to_bytes())
}

/// Signs `msg`, returning base64.
pub fn sign_b64(key: &SigningKey, msg: &[u8]) -> String {
    B64.encode(key.sign(msg).to_bytes())
}

/// Verifies a base64 signature over `msg` with a base64 public key.
pub fn verify_b64(public_key: &str, msg: &[u8], signature: &str) -> Result<(), SignatureError> {
    let key_bytes: [u8; 32] = B64
        .decode(public_key.trim())
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(SignatureError::BadKey)?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| SignatureError::BadKey)?;
    let sig_bytes: [u8; 64] = B64
        .decode(signature.trim())
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(SignatureError::BadSignature)?;
    key.verify(msg, &Signature::from_bytes(&sig_bytes))
        .map_err(|_| SignatureError::Mismatch)
}

/// The canonical bytes an approved script's signature covers: one `key=value` per
/// line in a fixed order, so both sides build exactly the same message.
pub fn script_manifest(
    script_id: &str,
    version: u32,
    body_sha256: &str,
    interpreter: &str,
    timeout_s: u64,
    run_as: &str,
) -> Vec<u8> {
    format!(
        "tend-script-v1\nid={script_id}\nversion={version}\nsha256={body_sha256}\ninterpreter={interpreter}\ntimeout_s={timeout_s}\nrun_as={run_as}\n"
    )
    .into_bytes()
}

/// The canonical bytes a re-enrolling agent signs with its device key.
pub fn reenroll_message(hardware_uuid: &str, signed_at_ms: u64) -> Vec<u8> {
    format!("tend-reenroll-v1\nhardware_uuid={hardware_uuid}\nsigned_at_ms={signed_at_ms}\n")
        .into_bytes()
}

/// The canonical bytes a release offer's signature covers. A rollback offer (an
/// older version an admin marked as the way back) signs one more line, so an ordinary
/// offer cannot be passed off as one — and agents that predate the line refuse it.
pub fn release_manifest(
    version: &str,
    platform: &str,
    sha256: &str,
    size: u64,
    expires_at_ms: u64,
    rollback: bool,
) -> Vec<u8> {
    let mut m = format!(
        "tend-release-v1\nversion={version}\nplatform={platform}\nsha256={sha256}\nsize={size}\nexpires_at_ms={expires_at_ms}\n"
    );
    if rollback {
        m.push_str("rollback=1\n");
    }
    m.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let pk = public_key_b64(&key);
        let sig = sign_b64(&key, b"hello");
        assert_eq!(verify_b64(&pk, b"hello", &sig), Ok(()));
        assert_eq!(
            verify_b64(&pk, b"hellp", &sig),
            Err(SignatureError::Mismatch)
        );
        let other = public_key_b64(&SigningKey::from_bytes(&[8u8; 32]));
        assert_eq!(
            verify_b64(&other, b"hello", &sig),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_b64("!!", b"hello", &sig),
            Err(SignatureError::BadKey)
        );
        assert_eq!(
            verify_b64(&pk, b"hello", "AAAA"),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn manifest_is_canonical() {
        let m = script_manifest("s1", 2, "ab", "sh", 30, "root");
        assert_eq!(
            String::from_utf8(m).unwrap(),
            "tend-script-v1\nid=s1\nversion=2\nsha256=ab\ninterpreter=sh\ntimeout_s=30\nrun_as=root\n"
        );
    }
}
