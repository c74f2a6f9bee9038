//! API and device tokens, stored only as SHA-256 hashes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tend_shared::api::Role;

use super::{from_json, to_json, Store, StoreError};

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TokenKind {
    Device { device_id: String },
    Api { role: Role, name: String },
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
    /// Stores a token's hash.
    pub fn put_token(&self, token: &str, record: &TokenRecord) -> Result<(), StoreError> {
        self.tokens.insert(token_hash(token), to_json(record))?;
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
        self.tokens.remove(hash)?;
        Ok(())
    }

    /// Number of API (analyst/admin) tokens.
    pub fn api_token_count(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.tokens.iter() {
            let (_, v) = item?;
            if let TokenKind::Api { .. } = from_json::<TokenRecord>("tokens", &v)?.kind {
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashes_are_stored() {
        let (_d, store) = crate::store::temp_store();
        let t = new_token("tak_");
        let rec = TokenRecord {
            kind: TokenKind::Api {
                role: Role::Admin,
                name: "root".into(),
            },
            created_at_ms: 1,
        };
        store.put_token(&t, &rec).unwrap();
        assert_eq!(store.token(&t).unwrap(), Some(rec));
        assert_eq!(store.token("tak_nope").unwrap(), None);
        for item in store.tokens.iter() {
            let (k, v) = item.unwrap();
            assert!(!String::from_utf8_lossy(&k).contains(&t));
            assert!(!String::from_utf8_lossy(&v).contains(&t));
        }
        assert_eq!(store.api_token_count().unwrap(), 1);
    }
}
