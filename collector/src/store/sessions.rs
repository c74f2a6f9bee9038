//! Passwords and console sessions. A user's password is stored as an argon2id PHC
//! string under its own key (never in the user record the API shows); a session is
//! stored under the SHA-256 of its cookie value, so the store never holds a usable
//! cookie.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::k1;
use super::kv::Tx;
use super::StoreError;

/// One signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user_id: String,
    /// The value state-changing requests must echo in `X-CSRF-Token`.
    pub csrf: String,
    pub created_at_ms: u64,
    /// Moved at most once a minute by requests (idle expiry counts from it).
    pub last_seen_ms: u64,
    /// The source address that signed in (for the audit log).
    #[serde(default)]
    pub source: String,
}

fn session_key(cookie: &str) -> Vec<u8> {
    k1("sess/", &hex::encode(Sha256::digest(cookie.as_bytes())))
}

impl Tx {
    /// The user's argon2id password hash (PHC string), if one was set.
    pub async fn password_hash(&mut self, user_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(&k1("usr.pw/", user_id))
            .await?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn put_password_hash(&mut self, user_id: &str, phc: &str) {
        self.put(k1("usr.pw/", user_id), phc.as_bytes().to_vec());
    }

    pub async fn session(&mut self, cookie: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.get_json("sessions", &session_key(cookie)).await
    }

    pub fn put_session(&mut self, cookie: &str, s: &SessionRecord) {
        self.put_json(session_key(cookie), s);
    }

    pub fn delete_session(&mut self, cookie: &str) {
        self.delete(session_key(cookie));
    }
}
