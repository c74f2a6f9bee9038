//! Passwords and console sessions. A user's password is stored as an argon2id PHC
//! string under its own key (never in the user record the API shows); a session is
//! stored under the SHA-256 of its cookie value, so the store never holds a usable
//! cookie.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use tend_shared::accounts::SecurityNotice;

use crate::store::keys::{k1, Key};
use crate::store::kv::{Order, Range, Tx};
use crate::store::StoreError;

/// How long an admin notice stays on the console's banner.
pub const NOTICE_MS: u64 = 7 * 86_400_000;

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
    /// The user's `credentials_version` at sign-in: a password change or reset moves
    /// it, and every session made under an older one ends.
    #[serde(default)]
    pub credentials_version: u64,
}

/// A one-time password reset code waiting for its holder (stored as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRecord {
    pub code_sha256: String,
    pub expires_at_ms: u64,
    /// The admin who issued it.
    pub issued_by: String,
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

    pub fn delete_password_hash(&mut self, user_id: &str) {
        self.delete(k1("usr.pw/", user_id));
    }

    /// The user's pending reset code, if any.
    pub async fn reset_code(&mut self, user_id: &str) -> Result<Option<ResetRecord>, StoreError> {
        self.get_json("resets", &k1("usr.reset/", user_id)).await
    }

    pub fn put_reset_code(&mut self, user_id: &str, r: &ResetRecord) {
        self.put_json(k1("usr.reset/", user_id), r);
    }

    pub fn delete_reset_code(&mut self, user_id: &str) {
        self.delete(k1("usr.reset/", user_id));
    }

    /// Records a notice for every admin (kept [`NOTICE_MS`]; older ones are removed
    /// as new ones arrive).
    pub async fn add_notice(&mut self, n: &SecurityNotice) -> Result<(), StoreError> {
        let old = self
            .scan(
                &Range {
                    start: b"notice/".to_vec(),
                    end: Key::new("notice/")
                        .n(n.at_ms.saturating_sub(NOTICE_MS))
                        .build(),
                },
                Order::Asc,
                100,
            )
            .await?;
        for (k, _) in old {
            self.delete(k.to_vec());
        }
        let key = Key::new("notice/")
            .n(n.at_ms)
            .raw(&crate::store::random_hex_id::<4>().into_bytes())
            .build();
        self.put_json(key, n);
        Ok(())
    }

    /// The newest notices since `since_ms`, newest first (at most 20).
    pub async fn notices(&mut self, since_ms: u64) -> Result<Vec<SecurityNotice>, StoreError> {
        let range = Range {
            start: Key::new("notice/").n(since_ms).build(),
            end: Range::prefix(b"notice/").end,
        };
        let mut out = Vec::new();
        for (_, v) in self.scan(&range, Order::Desc, 20).await? {
            out.push(crate::store::from_json("notices", &v)?);
        }
        Ok(out)
    }
}
