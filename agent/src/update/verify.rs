//! Pure checks on a release offer and its download: platform, expiry, the ed25519
//! signature against the key pinned at enrollment, size and SHA-256.

use tend_shared::releases::{ReleaseOffer, ReleasePlatform};
use tend_shared::signing::{release_manifest, verify_b64};

use super::UpdateError;

/// Checks an offer before anything is downloaded: for this platform, not expired,
/// signed by the pinned key, and newer than `running` — an older version only when the
/// offer is a signed rollback.
pub fn verify_offer(
    offer: &ReleaseOffer,
    pinned_key: &str,
    platform: Option<ReleasePlatform>,
    now_ms: u64,
    running: &str,
) -> Result<(), UpdateError> {
    if Some(offer.platform) != platform {
        return Err(UpdateError::Refused(format!(
            "offer is for {}, this agent runs on {}",
            offer.platform,
            platform.map_or("an unsupported platform", |p| p.as_str())
        )));
    }
    tend_shared::releases::validate_version(&offer.version).map_err(UpdateError::Refused)?;
    if offer.expires_at_ms <= now_ms {
        // transient: a fresh offer comes with the next check-in (or the clock is off)
        return Err(UpdateError::Failed(format!(
            "offer for {} expired at {} ms (now {now_ms} ms)",
            offer.version, offer.expires_at_ms
        )));
    }
    let msg = release_manifest(
        &offer.version,
        offer.platform.as_str(),
        &offer.sha256,
        offer.size,
        offer.expires_at_ms,
        offer.rollback,
    );
    verify_b64(pinned_key, &msg, &offer.signature)
        .map_err(|e| UpdateError::Refused(format!("offer for {}: {e}", offer.version)))?;
    let newer =
        tend_shared::releases::version_cmp(&offer.version, running) == std::cmp::Ordering::Greater;
    if !newer && !offer.rollback {
        return Err(UpdateError::Refused(format!(
            "offer for {} is not newer than {running} and not a signed rollback",
            offer.version
        )));
    }
    Ok(())
}

/// Checks a downloaded artifact against the signed size and digest.
pub fn verify_artifact(offer: &ReleaseOffer, size: u64, sha256: &str) -> Result<(), UpdateError> {
    if size != offer.size {
        return Err(UpdateError::Refused(format!(
            "artifact for {} is {size} bytes; the signed size is {}",
            offer.version, offer.size
        )));
    }
    if !sha256.eq_ignore_ascii_case(&offer.sha256) {
        return Err(UpdateError::Refused(format!(
            "artifact for {} hashes to {sha256}; the signed digest is {}",
            offer.version, offer.sha256
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use tend_shared::signing::{public_key_b64, sha256_hex, sign_b64};

    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn offer(key: &SigningKey, body: &[u8], expires: u64) -> ReleaseOffer {
        let sha = sha256_hex(body);
        let p = ReleasePlatform::LinuxX86_64;
        let sig = sign_b64(
            key,
            &release_manifest("0.2.0", p.as_str(), &sha, body.len() as u64, expires, false),
        );
        ReleaseOffer {
            version: "0.2.0".into(),
            platform: p,
            sha256: sha,
            size: body.len() as u64,
            expires_at_ms: expires,
            signature: sig,
            url: "/x".into(),
            rollback: false,
        }
    }

    #[test]
    fn good_offers_pass_and_every_tamper_is_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let pk = public_key_b64(&key);
        let linux = Some(ReleasePlatform::LinuxX86_64);
        let o = offer(&key, b"binary", NOW + 1000);
        verify_offer(&o, &pk, linux, NOW, "0.1.0").unwrap();
        verify_artifact(&o, 6, &sha256_hex(b"binary")).unwrap();

        let refused = |r: Result<(), UpdateError>, says: &str| {
            let e = r.unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        };
        // signed by another key
        let other = offer(&SigningKey::from_bytes(&[4; 32]), b"binary", NOW + 1000);
        refused(
            verify_offer(&other, &pk, linux, NOW, "0.1.0"),
            "does not verify",
        );
        // a field changed after signing
        let mut bumped = o.clone();
        bumped.version = "0.3.0".into();
        refused(
            verify_offer(&bumped, &pk, linux, NOW, "0.1.0"),
            "does not verify",
        );
        let mut resized = o.clone();
        resized.size += 1;
        refused(
            verify_offer(&resized, &pk, linux, NOW, "0.1.0"),
            "does not verify",
        );
        // expired, unsigned, wrong platform
        refused(
            verify_offer(&offer(&key, b"binary", NOW - 1), &pk, linux, NOW, "0.1.0"),
            "expired",
        );
        let mut unsigned = o.clone();
        unsigned.signature = String::new();
        refused(
            verify_offer(&unsigned, &pk, linux, NOW, "0.1.0"),
            "signature",
        );
        refused(
            verify_offer(&o, &pk, Some(ReleasePlatform::MacosUniversal), NOW, "0.1.0"),
            "macos-universal",
        );
        // no downgrade without a signed rollback marker
        refused(
            verify_offer(&o, &pk, linux, NOW, "0.3.0"),
            "not newer than 0.3.0",
        );
        let mut forged = o.clone();
        forged.rollback = true;
        refused(
            verify_offer(&forged, &pk, linux, NOW, "0.3.0"),
            "does not verify",
        );
        let mut back = o.clone();
        back.rollback = true;
        back.signature = sign_b64(
            &key,
            &release_manifest(
                "0.2.0",
                "linux-x86_64",
                &o.sha256,
                o.size,
                o.expires_at_ms,
                true,
            ),
        );
        verify_offer(&back, &pk, linux, NOW, "0.3.0").unwrap();
        // the download differs from what was signed
        refused(verify_artifact(&o, 6, &sha256_hex(b"binarx")), "hashes to");
        refused(verify_artifact(&o, 7, &o.sha256), "signed size");
    }
}
