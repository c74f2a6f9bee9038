//! Enrollment state: expiring, use-limited enrollment tokens (by hash, with an id
//! index) and re-enrollment requests waiting for an analyst, keyed by hardware UUID.

use tend_shared::enroll::EnrollTokenInfo;

use super::{from_json, to_json, token_hash, Store, StoreError};

/// A known device asked to enroll again without proving it is that device.
pub use tend_shared::enroll::ReenrollRequest;

/// Why an enrollment token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Unknown,
    Expired,
    UsedUp,
    Revoked,
}

impl Store {
    pub fn put_enroll_token(&self, token: &str, t: &EnrollTokenInfo) -> Result<(), StoreError> {
        let hash = token_hash(token);
        self.enroll_tokens.insert(hash, to_json(t))?;
        self.enroll_token_ids.insert(t.id.as_bytes(), &hash)?;
        Ok(())
    }

    /// Whether an enrollment token could be used now (takes nothing).
    pub fn peek_enroll_token(
        &self,
        token: &str,
        now_ms: u64,
    ) -> Result<Result<EnrollTokenInfo, TokenUse>, StoreError> {
        let Some(v) = self.enroll_tokens.get(token_hash(token))? else {
            return Ok(Err(TokenUse::Unknown));
        };
        let t: EnrollTokenInfo = from_json("enroll_tokens", &v)?;
        Ok(if t.revoked {
            Err(TokenUse::Revoked)
        } else if t.expires_at_ms <= now_ms {
            Err(TokenUse::Expired)
        } else if t.uses >= t.max_uses {
            Err(TokenUse::UsedUp)
        } else {
            Ok(t)
        })
    }

    /// Takes one use of an enrollment token, atomically (compare-and-swap), if it is
    /// known, live and not used up.
    pub fn use_enroll_token(
        &self,
        token: &str,
        now_ms: u64,
    ) -> Result<Result<EnrollTokenInfo, TokenUse>, StoreError> {
        let hash = token_hash(token);
        loop {
            let Some(old) = self.enroll_tokens.get(hash)? else {
                return Ok(Err(TokenUse::Unknown));
            };
            let mut t: EnrollTokenInfo = from_json("enroll_tokens", &old)?;
            if t.revoked {
                return Ok(Err(TokenUse::Revoked));
            }
            if t.expires_at_ms <= now_ms {
                return Ok(Err(TokenUse::Expired));
            }
            if t.uses >= t.max_uses {
                return Ok(Err(TokenUse::UsedUp));
            }
            t.uses += 1;
            if self
                .enroll_tokens
                .compare_and_swap(hash, Some(old), Some(to_json(&t)))?
                .is_ok()
            {
                return Ok(Ok(t));
            }
        }
    }

    /// Every enrollment token, in id order.
    pub fn enroll_tokens(&self) -> Result<Vec<EnrollTokenInfo>, StoreError> {
        let mut out = Vec::new();
        for item in self.enroll_token_ids.iter() {
            let (_, hash) = item?;
            if let Some(v) = self.enroll_tokens.get(&hash)? {
                out.push(from_json("enroll_tokens", &v)?);
            }
        }
        Ok(out)
    }

    /// Marks an enrollment token revoked; `None` when there is no such id.
    pub fn revoke_enroll_token(&self, id: &str) -> Result<Option<EnrollTokenInfo>, StoreError> {
        let Some(hash) = self.enroll_token_ids.get(id.as_bytes())? else {
            return Ok(None);
        };
        let Some(v) = self.enroll_tokens.get(&hash)? else {
            return Ok(None);
        };
        let mut t: EnrollTokenInfo = from_json("enroll_tokens", &v)?;
        t.revoked = true;
        self.enroll_tokens.insert(&hash, to_json(&t))?;
        Ok(Some(t))
    }

    pub fn reenroll_request(
        &self,
        hardware_uuid: &str,
    ) -> Result<Option<ReenrollRequest>, StoreError> {
        self.reenroll_requests
            .get(hardware_uuid.as_bytes())?
            .map(|v| from_json("reenroll_requests", &v))
            .transpose()
    }

    pub fn put_reenroll_request(&self, r: &ReenrollRequest) -> Result<(), StoreError> {
        self.reenroll_requests
            .insert(r.hardware_uuid.as_bytes(), to_json(r))?;
        Ok(())
    }

    pub fn remove_reenroll_request(&self, hardware_uuid: &str) -> Result<(), StoreError> {
        self.reenroll_requests.remove(hardware_uuid.as_bytes())?;
        Ok(())
    }
}
