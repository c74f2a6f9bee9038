//! The collector's identity in its data dir: CA, server certificate, script-signing key
//! and enroll secret. Created on first start; key files are mode 0600.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Failures while creating or loading the identity files.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{action} {path}: {error}")]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("generating certificates: {0}")]
    Rcgen(rcgen::Error),
    #[error("{0} is corrupt")]
    Corrupt(PathBuf),
}

/// Everything the server needs from its data dir.
pub struct Identity {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub signing_key: SigningKey,
    pub enroll_secret: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        PkiError::Rcgen(e)
    }
}

const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";
const SERVER_CERT: &str = "server.pem";
const SERVER_KEY: &str = "server.key";
const SERVER_SANS: &str = "server.sans";
const SIGNING_KEY: &str = "signing.key";
const ENROLL_SECRET: &str = "enroll.secret";

fn read(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|source| PkiError::Io {
        action: "reading",
        path: path.to_owned(),
        error: source,
    })
}

/// Writes a file readable only by its owner, atomically (temp file + rename).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), PkiError> {
    tend_shared::files::write_private(path, contents).map_err(|source| PkiError::Io {
        action: "writing",
        path: path.to_owned(),
        error: source,
    })
}

/// Random bytes from the OS.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("OS random source unavailable");
    b
}

fn ca_params() -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name
        .push(DnType::CommonName, "Tend collector CA");
    p.distinguished_name.push(DnType::OrganizationName, "Tend");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2049, 12, 31);
    Ok(p)
}

/// The SANs the server certificate carries: localhost, 127.0.0.1, ::1, this host's
/// name, and any extra ones, sorted and deduplicated.
pub fn server_sans(extra: &[String]) -> Vec<String> {
    let mut sans = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if let Ok(h) = fs::read_to_string("/proc/sys/kernel/hostname") {
        let h = h.trim();
        if !h.is_empty() {
            sans.push(h.to_string());
        }
    }
    sans.extend(extra.iter().cloned());
    sans.sort();
    sans.dedup();
    sans
}

/// Loads the identity from `dir`, creating whatever is missing. The server certificate
/// is re-issued by the same CA when the SAN list changed (agents keep trusting the CA).
pub fn load_or_create(dir: &Path, extra_sans: &[String]) -> Result<Identity, PkiError> {
    fs::create_dir_all(dir).map_err(|source| PkiError::Io {
        action: "creating",
        path: dir.to_owned(),
        error: source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    }
    let p = |name: &str| dir.join(name);

    // CA
    let ca_key = if p(CA_KEY).exists() {
        KeyPair::from_pem(&read(&p(CA_KEY))?).map_err(|_| PkiError::Corrupt(p(CA_KEY)))?
    } else {
        let key = KeyPair::generate()?;
        let cert = ca_params()?.self_signed(&key)?;
        write_private(&p(CA_KEY), key.serialize_pem().as_bytes())?;
        write_private(&p(CA_CERT), cert.pem().as_bytes())?;
        // a fresh CA invalidates any older server certificate
        let _ = fs::remove_file(p(SERVER_SANS));
        key
    };
    let ca_pem = read(&p(CA_CERT))?;

    // server certificate
    let sans = server_sans(extra_sans);
    let wanted = sans.join("\n");
    let current = fs::read_to_string(p(SERVER_SANS)).unwrap_or_default();
    if current != wanted || !p(SERVER_CERT).exists() || !p(SERVER_KEY).exists() {
        let issuer = Issuer::new(ca_params()?, ca_key);
        let mut params = CertificateParams::new(sans.clone())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "Tend collector");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        write_private(&p(SERVER_KEY), key.serialize_pem().as_bytes())?;
        write_private(&p(SERVER_CERT), cert.pem().as_bytes())?;
        write_private(&p(SERVER_SANS), wanted.as_bytes())?;
    }

    // signing key
    let signing_key = if p(SIGNING_KEY).exists() {
        let raw = hex::decode(read(&p(SIGNING_KEY))?.trim())
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| PkiError::Corrupt(p(SIGNING_KEY)))?;
        SigningKey::from_bytes(&raw)
    } else {
        let seed = random_bytes::<32>();
        write_private(&p(SIGNING_KEY), hex::encode(seed).as_bytes())?;
        SigningKey::from_bytes(&seed)
    };

    // enroll secret
    let enroll_secret = if p(ENROLL_SECRET).exists() {
        read(&p(ENROLL_SECRET))?.trim().to_string()
    } else {
        let s = format!("tes_{}", hex::encode(random_bytes::<24>()));
        write_private(&p(ENROLL_SECRET), s.as_bytes())?;
        s
    };

    Ok(Identity {
        ca_pem,
        server_cert_pem: read(&p(SERVER_CERT))?,
        server_key_pem: read(&p(SERVER_KEY))?,
        signing_key,
        enroll_secret,
    })
}

/// Builds the enrollment bundle from an existing data dir, without touching the
/// store or re-issuing anything (safe while the collector runs).
pub fn bundle(
    dir: &Path,
    server_url: &str,
) -> Result<tend_shared::bundle::EnrollmentBundle, PkiError> {
    let ca_pem = read(&dir.join(CA_CERT))?;
    let enroll_secret = read(&dir.join(ENROLL_SECRET))?.trim().to_string();
    let raw = hex::decode(read(&dir.join(SIGNING_KEY))?.trim())
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| PkiError::Corrupt(dir.join(SIGNING_KEY)))?;
    Ok(tend_shared::bundle::EnrollmentBundle {
        server_url: server_url.trim_end_matches('/').to_string(),
        ca_pem,
        enroll_secret,
        signing_public_key: tend_shared::signing::public_key_b64(&SigningKey::from_bytes(&raw)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_and_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path(), &[]).unwrap();
        let b = load_or_create(dir.path(), &[]).unwrap();
        assert_eq!(a.ca_pem, b.ca_pem);
        assert_eq!(a.server_cert_pem, b.server_cert_pem);
        assert_eq!(a.enroll_secret, b.enroll_secret);
        assert_eq!(a.signing_key.to_bytes(), b.signing_key.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [CA_KEY, SERVER_KEY, SIGNING_KEY, ENROLL_SECRET] {
                let mode = fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
        // a new SAN re-issues the server cert under the same CA
        let c = load_or_create(dir.path(), &["tend.example.com".into()]).unwrap();
        assert_eq!(a.ca_pem, c.ca_pem);
        assert_ne!(a.server_cert_pem, c.server_cert_pem);
    }
}
