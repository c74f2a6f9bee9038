//! The agent's state dir: credentials (0600), the pinned CA and signing key, the
//! current policy, last check-in status, and the spool folder.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tend_shared::policy::Policy;

/// Failures reading or writing the state dir.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{action} {path}: {error}")]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is corrupt: {error}")]
    Corrupt {
        path: PathBuf,
        error: serde_json::Error,
    },
    #[error(
        "not enrolled: {0} has no credentials (run `tend-agent enroll --bundle FILE --state DIR`)"
    )]
    NotEnrolled(PathBuf),
}

/// What enrollment leaves behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub server_url: String,
    pub device_id: String,
    pub device_token: String,
    pub ca_pem: String,
    /// The collector's script-signing key, pinned at enrollment (base64 ed25519).
    pub signing_public_key: String,
    pub enrolled_at_ms: u64,
}

/// What `tend-agent status` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    pub last_checkin_ms: u64,
    pub last_error: Option<String>,
    pub last_error_ms: u64,
    pub consecutive_failures: u32,
    pub policy_version: u64,
}

/// A state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

const CREDENTIALS: &str = "credentials.json";
const POLICY: &str = "policy.json";
const STATUS: &str = "status.json";

/// Writes a file only its owner can read, atomically (temp + fsync + rename).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), StateError> {
    tend_shared::files::write_private(path, contents).map_err(|source| StateError::Io {
        action: "writing",
        path: path.to_owned(),
        error: source,
    })
}

impl StateDir {
    /// Opens `root`, creating it with mode 0700.
    pub fn open(root: &Path) -> Result<StateDir, StateError> {
        fs::create_dir_all(root).map_err(|source| StateError::Io {
            action: "creating",
            path: root.to_owned(),
            error: source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(root, fs::Permissions::from_mode(0o700));
        }
        Ok(StateDir {
            root: root.to_owned(),
        })
    }

    /// Opens `root` for reading only: creates nothing (read-only commands such as
    /// `status` must leave no trace). `None` when it does not exist.
    pub fn existing(root: &Path) -> Option<StateDir> {
        root.is_dir().then(|| StateDir {
            root: root.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.root.join("spool")
    }

    pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StateError> {
        let path = self.root.join(name);
        match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| StateError::Corrupt {
                        path,
                        error: source,
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StateError::Io {
                action: "reading",
                path,
                error: source,
            }),
        }
    }

    pub(crate) fn write_json<T: Serialize>(&self, name: &str, v: &T) -> Result<(), StateError> {
        let bytes = serde_json::to_vec_pretty(v).expect("state serializes");
        write_private(&self.root.join(name), &bytes)
    }

    pub fn credentials(&self) -> Result<Credentials, StateError> {
        self.read_json(CREDENTIALS)?
            .ok_or_else(|| StateError::NotEnrolled(self.root.clone()))
    }

    pub fn is_enrolled(&self) -> bool {
        self.root.join(CREDENTIALS).exists()
    }

    pub fn save_credentials(&self, c: &Credentials) -> Result<(), StateError> {
        self.write_json(CREDENTIALS, c)?;
        write_private(&self.root.join("ca.pem"), c.ca_pem.as_bytes())
    }

    /// The last policy received, or the built-in default.
    pub fn policy(&self) -> Result<Policy, StateError> {
        Ok(self.read_json(POLICY)?.unwrap_or_default())
    }

    pub fn save_policy(&self, p: &Policy) -> Result<(), StateError> {
        self.write_json(POLICY, p)
    }

    pub fn status(&self) -> Result<Status, StateError> {
        Ok(self.read_json(STATUS)?.unwrap_or_default())
    }

    pub fn save_status(&self, s: &Status) -> Result<(), StateError> {
        self.write_json(STATUS, s)
    }
}

const DEVICE_KEY: &str = "device.key";

impl StateDir {
    /// This device's own ed25519 key (0600), made on first use: it signs
    /// re-enrollments, so the collector knows the device without its token.
    pub fn device_key(&self) -> Result<ed25519_dalek::SigningKey, StateError> {
        let path = self.root.join(DEVICE_KEY);
        if let Ok(text) = fs::read_to_string(&path) {
            if let Some(seed) = hex::decode(text.trim())
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
            {
                return Ok(ed25519_dalek::SigningKey::from_bytes(&seed));
            }
        }
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| StateError::Io {
            action: "generating",
            path: path.clone(),
            error: std::io::Error::other(e.to_string()),
        })?;
        write_private(&path, hex::encode(seed).as_bytes())?;
        Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
    }
}

const CHECK_STATES: &str = "checks.json";

impl StateDir {
    /// The last status of every check (to report only real transitions across restarts).
    pub fn check_states(
        &self,
    ) -> Result<std::collections::BTreeMap<String, tend_shared::health::CheckStatus>, StateError>
    {
        Ok(self.read_json(CHECK_STATES)?.unwrap_or_default())
    }

    pub fn save_check_states(
        &self,
        s: &std::collections::BTreeMap<String, tend_shared::health::CheckStatus>,
    ) -> Result<(), StateError> {
        self.write_json(CHECK_STATES, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_private() {
        let dir = tempfile::tempdir().unwrap();
        let st = StateDir::open(&dir.path().join("s")).unwrap();
        assert!(matches!(st.credentials(), Err(StateError::NotEnrolled(_))));
        let c = Credentials {
            server_url: "https://x".into(),
            device_id: "d".into(),
            device_token: "t".into(),
            ca_pem: "pem".into(),
            signing_public_key: "k".into(),
            enrolled_at_ms: 1,
        };
        st.save_credentials(&c).unwrap();
        assert_eq!(st.credentials().unwrap(), c);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(st.path().join(CREDENTIALS))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(st.path().join(POLICY), b"{not json").unwrap();
        assert!(matches!(st.policy(), Err(StateError::Corrupt { .. })));
    }

    #[test]
    fn errors_say_their_cause_once() {
        // under a regular file: fails even for root
        let file = tempfile::NamedTempFile::new().unwrap();
        let missing = file.path().join("state");
        let missing = missing.as_path();
        let e = StateDir::open(missing).unwrap_err();
        // anyhow's `{:#}` walks `source()`; the cause is in the message, not repeated
        let text = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(text.matches("os error").count(), 1, "{text}");
        assert!(text.contains(&*missing.to_string_lossy()), "{text}");
        let e =
            crate::spool::Spool::open(missing, crate::spool::SpoolLimits::default()).unwrap_err();
        let text = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(text.matches("os error").count(), 1, "{text}");
    }
}
