//! API and device tokens, stored only as SHA-256 hashes, with an id index so a token
//! can be listed and revoked without ever being shown again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tend_shared::api::Role;

use crate::store::keys::{k1, Key};
use crate::store::kv::{Order, Range, Tx};
use crate::store::StoreError;

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TokenKind {
    Device {
        device_id: String,
    },
    /// A user's API token.
    User {
        /// `tk_<hex>`.
        id: String,
        user_id: String,
        /// At most the user's role.
        role: Role,
        #[serde(default)]
        label: String,
        #[serde(default)]
        expires_at_ms: Option<u64>,
        /// Minted from a console session under this `credentials_version` of the
        /// user: it ends when the user's password changes or is reset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_version: Option<u64>,
    },
    /// Before named users: a token with a free-text name (migrated at start-up).
    Api {
        role: Role,
        name: String,
    },
}

/// What the store keeps for a token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    #[serde(flatten)]
    pub kind: TokenKind,
    pub created_at_ms: u64,
}

/// SHA-256 of a presented token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new random token with a recognisable prefix (`tdv_` device, `tak_` API).
pub fn new_token(prefix: &str) -> String {
    format!("{prefix}{}", crate::store::random_hex_id::<32>())
}

fn hash_key(hash: &[u8]) -> Vec<u8> {
    Key::new("tok/").raw(hash).build()
}

impl Tx {
    /// Stores a token's hash (and its id, for user tokens).
    pub fn put_token(&mut self, token: &str, record: &TokenRecord) {
        self.put_token_hash(&token_hash(token), record);
    }

    /// Writes the record under an existing hash (and its id index).
    pub fn put_token_hash(&mut self, hash: &[u8], record: &TokenRecord) {
        if let TokenKind::User { id, .. } = &record.kind {
            self.put(k1("tok.id/", id), hash.to_vec());
        }
        self.put_json(hash_key(hash), record);
    }

    /// Looks a presented token up by hash.
    pub async fn token(&mut self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.get_json("tokens", &hash_key(&token_hash(token))).await
    }

    /// Removes a token by its hash (re-enrollment replaces the device token).
    pub async fn remove_token_hash(&mut self, hash: &[u8]) -> Result<(), StoreError> {
        let k = hash_key(hash);
        if let Some(TokenRecord {
            kind: TokenKind::User { id, .. },
            ..
        }) = self.get_json::<TokenRecord>("tokens", &k).await?
        {
            self.delete(k1("tok.id/", &id));
        }
        self.delete(k);
        Ok(())
    }

    /// A user token by its id.
    pub async fn token_by_id(&mut self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        match self.get(&k1("tok.id/", id)).await? {
            Some(hash) => self.get_json("tokens", &hash_key(&hash)).await,
            None => Ok(None),
        }
    }

    /// Revokes a user token by its id; false when there is none.
    pub async fn revoke_token_id(&mut self, id: &str) -> Result<bool, StoreError> {
        match self.get(&k1("tok.id/", id)).await? {
            Some(hash) => {
                self.remove_token_hash(&hash).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Every user token.
    pub async fn user_tokens(&mut self) -> Result<Vec<TokenRecord>, StoreError> {
        let ids = self
            .scan(&Range::prefix(b"tok.id/"), Order::Asc, usize::MAX)
            .await?;
        let keys: Vec<Vec<u8>> = ids.iter().map(|(_, h)| hash_key(h)).collect();
        self.get_json_many("tokens", &keys).await
    }

    /// Legacy (pre-user) API tokens: their hashes and records.
    pub async fn legacy_api_tokens(&mut self) -> Result<Vec<(Vec<u8>, TokenRecord)>, StoreError> {
        let mut out = Vec::new();
        for (k, v) in self
            .scan(&Range::prefix(b"tok/"), Order::Asc, usize::MAX)
            .await?
        {
            let r: TokenRecord = crate::store::from_json("tokens", &v)?;
            if matches!(r.kind, TokenKind::Api { .. }) {
                out.push((k[b"tok/".len()..].to_vec(), r));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_hashes_are_stored_and_ids_revoke() {
        let (_d, store) = crate::store::temp_store();
        let t = new_token("tak_");
        let rec = TokenRecord {
            kind: TokenKind::User {
                id: "tk_1".into(),
                user_id: "u_1".into(),
                role: Role::Admin,
                label: String::new(),
                expires_at_ms: None,
                session_version: None,
            },
            created_at_ms: 1,
        };
        crate::atomic!(store, tx: StoreError => {
            tx.put_token(&t, &rec);
            Ok(())
        })
        .unwrap();
        let mut r = store.read();
        assert_eq!(r.token(&t).await.unwrap(), Some(rec.clone()));
        assert_eq!(r.token("tak_nope").await.unwrap(), None);
        for (k, v) in r
            .scan(&Range::prefix(b"tok"), Order::Asc, 100)
            .await
            .unwrap()
        {
            assert!(!String::from_utf8_lossy(&k).contains(&t));
            assert!(!String::from_utf8_lossy(&v).contains(&t));
        }
        assert_eq!(r.user_tokens().await.unwrap(), vec![rec.clone()]);
        assert_eq!(r.token_by_id("tk_1").await.unwrap(), Some(rec));
        let revoked =
            crate::atomic!(store, tx: StoreError => tx.revoke_token_id("tk_1").await).unwrap();
        assert!(revoked);
        let mut r = store.read();
        assert_eq!(r.token(&t).await.unwrap(), None);
        let again =
            crate::atomic!(store, tx: StoreError => tx.revoke_token_id("tk_1").await).unwrap();
        assert!(!again);
    }
}
