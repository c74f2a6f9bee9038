//! Several collectors, one identity: how collectors sharing a PostgreSQL database
//! share the CA, the script-signing key and the enroll secret.
//!
//! The first collector on a database (`tend-collector init --database …`, or simply
//! the first `serve --database …`) stores those secrets in the database, sealed with
//! ChaCha20-Poly1305 under a 32-byte cluster key kept in a file (`cluster.key` in its
//! data dir, mode 0600). Every other collector gets a copy of that file (it is the one
//! secret an operator copies) and, at start, unseals the identity into its own data
//! dir. Each collector then issues its own server certificate from the shared CA for
//! its own names, so agents trust every collector behind the load balancer.
//!
//! The database alone is not enough to impersonate the collector: without the key
//! file the sealed identity is noise. A data dir that already holds a different
//! identity is refused rather than overwritten.

use std::path::{Path, PathBuf};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};

use crate::store::{Store, StoreError};

/// The files that make a collector's identity shared (the server certificate is not:
/// each collector issues its own from the CA).
pub const SHARED_FILES: [&str; 4] = ["ca.pem", "ca.key", "signing.key", "enroll.secret"];
const MAGIC: &[u8] = b"tend-identity-v1";
const META_KEY: &str = "cluster_identity";

/// Why a collector cannot join.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the database holds a collector identity but {0} is missing: copy cluster.key from a collector that has it (see README, \"Several collectors\")")]
    MissingKey(PathBuf),
    #[error("{0} is not a cluster key (64 hex characters)")]
    BadKey(PathBuf),
    #[error("the cluster key {0} does not open the identity in the database (a key from another cluster?)")]
    WrongKey(PathBuf),
    #[error("{0} holds a different collector identity than the database; use an empty data dir for a collector joining this database")]
    Mismatch(PathBuf),
    #[error("{0}")]
    Pki(#[from] crate::pki::PkiError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError + '_ {
    move |error| ClusterError::Io {
        path: path.to_owned(),
        error,
    }
}

/// The cluster key in `path`, if the file exists.
pub(crate) fn read_key(path: &Path) -> Result<Option<[u8; 32]>, ClusterError> {
    match std::fs::read_to_string(path) {
        Ok(s) => hex::decode(s.trim())
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| ClusterError::BadKey(path.to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn seal(key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
    seal_with(key, MAGIC, plain)
}

fn open(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    open_with(key, MAGIC, sealed)
}

/// ChaCha20-Poly1305 under `key`: `magic ‖ nonce ‖ ciphertext ‖ tag`, `magic` also
/// the associated data (a value sealed for one purpose does not open for another).
pub(crate) fn seal_with(key: &[u8; 32], magic: &[u8], plain: &[u8]) -> Vec<u8> {
    let k = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key).expect("32-byte key"));
    let nonce = crate::pki::random_bytes::<12>();
    let mut buf = plain.to_vec();
    k.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(magic),
        &mut buf,
    )
    .expect("sealing cannot fail for small inputs");
    let mut out = magic.to_vec();
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buf);
    out
}

/// Opens what [`seal_with`] sealed with the same key and magic.
pub(crate) fn open_with(key: &[u8; 32], magic: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let rest = sealed.strip_prefix(magic)?;
    let (nonce, ct) = (rest.get(..12)?, rest.get(12..)?);
    let k = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key).ok()?);
    let mut buf = ct.to_vec();
    let plain = k
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).ok()?,
            Aad::from(magic),
            &mut buf,
        )
        .ok()?;
    Some(plain.to_vec())
}

fn read_files(dir: &Path) -> Result<Option<Vec<(String, String)>>, ClusterError> {
    let mut out = Vec::new();
    for f in SHARED_FILES {
        let p = dir.join(f);
        match std::fs::read_to_string(&p) {
            Ok(s) => out.push((f.to_string(), s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&p)(e)),
        }
    }
    Ok(Some(out))
}

/// Makes `data` hold the identity this database's collectors share (storing this
/// data dir's identity there when the database has none yet). `key_file` is the
/// cluster key (created when the database has no identity and the file is missing).
/// Returns true when this call stored the identity (the first collector).
pub async fn join(store: &Store, data: &Path, key_file: &Path) -> Result<bool, ClusterError> {
    std::fs::create_dir_all(data).map_err(io(data))?;
    let mut first = false;
    // identity files this call made (replaced if another collector stored first)
    let mut made_here = false;
    for _ in 0..2 {
        let stored: Option<String> = store.read().meta_get(META_KEY).await?;
        if let Some(sealed_hex) = stored {
            let key =
                read_key(key_file)?.ok_or_else(|| ClusterError::MissingKey(key_file.to_owned()))?;
            let sealed = hex::decode(sealed_hex.trim()).unwrap_or_default();
            let plain =
                open(&key, &sealed).ok_or_else(|| ClusterError::WrongKey(key_file.to_owned()))?;
            let files: Vec<(String, String)> = serde_json::from_slice(&plain)
                .map_err(|_| ClusterError::WrongKey(key_file.to_owned()))?;
            match read_files(data)? {
                Some(have) if have == files => {}
                Some(_) if !made_here => return Err(ClusterError::Mismatch(data.to_owned())),
                _ => {
                    for (name, contents) in &files {
                        crate::pki::write_private(&data.join(name), contents.as_bytes())?;
                    }
                    // a server certificate issued by another CA is re-issued
                    let _ = std::fs::remove_file(data.join("server.sans"));
                }
            }
            return Ok(first);
        }
        // no identity in the database yet: this data dir's (made now if it has none)
        made_here = read_files(data)?.is_none();
        crate::pki::load_or_create(data, &[])?;
        let files = read_files(data)?.expect("load_or_create wrote every file");
        let key = match read_key(key_file)? {
            Some(k) => k,
            None => {
                let k = crate::pki::random_bytes::<32>();
                crate::pki::write_private(key_file, hex::encode(k).as_bytes())?;
                k
            }
        };
        let sealed = hex::encode(seal(
            &key,
            &serde_json::to_vec(&files).expect("plain strings"),
        ));
        first = crate::commit!(store, tx: StoreError => {
            if tx.meta_get::<String>(META_KEY).await?.is_some() {
                return Ok(false); // another collector got there first
            }
            tx.meta_put(META_KEY, &sealed);
            Ok(true)
        })?;
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_identity_opens_only_with_its_key() {
        let k = crate::pki::random_bytes::<32>();
        let sealed = seal(&k, b"secret");
        assert_eq!(open(&k, &sealed).as_deref(), Some(&b"secret"[..]));
        let other = crate::pki::random_bytes::<32>();
        assert!(open(&other, &sealed).is_none());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(open(&k, &tampered).is_none());
    }
}
