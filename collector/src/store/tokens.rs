//! API and device tokens, stored only as SHA-256 hashes, with an id index so a token
//! can be listed and revoked without ever being shown again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tend_shared::api::Role;

use super::{from_json, to_json, Store, StoreError};

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
    format!("{prefix}{}", super::random_hex_id::<32>())
}

impl Store {
    /// Stores a token's hash (and its id, for user tokens).
    pub fn put_token(&self, token: &str, record: &TokenRecord) -> Result<(), StoreError> {
        let hash = token_hash(token);
        self.tokens.insert(hash, to_json(record))?;
        if let TokenKind::User { id, .. } = &record.kind {
            self.token_ids.insert(id.as_bytes(), &hash)?;
        }
        Ok(())
    }

    /// Looks a presented token up by hash.
    pub fn token(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.tokens
            .get(token_hash(token))?
            .map(|v| from_json("tokens", &v))
            .transpose()
    }

    /// Removes a token by its hash (re-enrollment replaces the device token).
    pub fn remove_token_hash(&self, hash: &[u8]) -> Result<(), StoreError> {
        if let Some(v) = self.tokens.remove(hash)? {
            if let Ok(TokenRecord {
                kind: TokenKind::User { id, .. },
                ..
            }) = from_json::<TokenRecord>("tokens", &v)
            {
                self.token_ids.remove(id.as_bytes())?;
            }
        }
        Ok(())
    }

    /// A user token by its id.
    pub fn token_by_id(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        match self.token_ids.get(id.as_bytes())? {
            Some(hash) => self
                .tokens
                .get(&hash)?
                .map(|v| from_json("tokens", &v))
                .transpose(),
            None => Ok(None),
        }
    }

    /// Revokes a user token by its id; false when there is none.
    pub fn revoke_token_id(&self, id: &str) -> Result<bool, StoreError> {
        match self.token_ids.get(id.as_bytes())? {
            Some(hash) => {
                self.remove_token_hash(&hash)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Every user token.
    pub fn user_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.token_ids.iter() {
            let (_, hash) = item?;
            if let Some(v) = self.tokens.get(&hash)? {
                out.push(from_json("tokens", &v)?);
            }
        }
        Ok(out)
    }

    /// Legacy (pre-user) API tokens: their hashes and records.
    pub fn legacy_api_tokens(&self) -> Result<Vec<(Vec<u8>, TokenRecord)>, StoreError> {
        let mut out = Vec::new();
        for item in self.tokens.iter() {
            let (k, v) = item?;
            let r: TokenRecord = from_json("tokens", &v)?;
            if matches!(r.kind, TokenKind::Api { .. }) {
                out.push((k.to_vec(), r));
            }
        }
        Ok(out)
    }

    /// Rewrites the record under an existing hash (legacy migration).
    pub fn replace_token_record(
        &self,
        hash: &[u8],
        record: &TokenRecord,
    ) -> Result<(), StoreError> {
        self.tokens.insert(hash, to_json(record))?;
        if let TokenKind::User { id, .. } = &record.kind {
            self.token_ids.insert(id.as_bytes(), hash)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashes_are_stored_and_ids_revoke() {
        let (_d, store) = crate::store::temp_store();
        let t = new_token("tak_");
        let rec = TokenRecord {
            kind: TokenKind::User {
                id: "tk_1".into(),
                user_id: "u_1".into(),
                role: Role::Admin,
                label: String::new(),
                expires_at_ms: None,
            },
            created_at_ms: 1,
        };
        store.put_token(&t, &rec).unwrap();
        assert_eq!(store.token(&t).unwrap(), Some(rec.clone()));
        assert_eq!(store.token("tak_nope").unwrap(), None);
        for item in store.tokens.iter() {
            let (k, v) = item.unwrap();
            assert!(!String::from_utf8_lossy(&k).contains(&t));
            assert!(!String::from_utf8_lossy(&v).contains(&t));
        }
        assert_eq!(store.user_tokens().unwrap(), vec![rec.clone()]);
        assert_eq!(store.token_by_id("tk_1").unwrap(), Some(rec));
        assert!(store.revoke_token_id("tk_1").unwrap());
        assert_eq!(store.token(&t).unwrap(), None);
        assert!(!store.revoke_token_id("tk_1").unwrap());
    }
}
