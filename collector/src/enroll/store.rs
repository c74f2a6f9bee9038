//! Enrollment state: expiring, use-limited enrollment tokens (by hash, with an id
//! index) and re-enrollment requests waiting for an analyst, keyed by hardware UUID.

use tend_shared::enroll::EnrollTokenInfo;

use crate::store::keys::{k1, Key};
use crate::store::kv::Tx;
use crate::store::StoreError;
use crate::users::token_hash;

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

fn hash_key(token: &str) -> Vec<u8> {
    Key::new("et/").raw(&token_hash(token)).build()
}

fn judge(t: EnrollTokenInfo, now_ms: u64) -> Result<EnrollTokenInfo, TokenUse> {
    if t.revoked {
        Err(TokenUse::Revoked)
    } else if t.expires_at_ms <= now_ms {
        Err(TokenUse::Expired)
    } else if t.uses >= t.max_uses {
        Err(TokenUse::UsedUp)
    } else {
        Ok(t)
    }
}

impl Tx {
    pub fn put_enroll_token(&mut self, token: &str, t: &EnrollTokenInfo) {
        let k = hash_key(token);
        self.put(k1("et.id/", &t.id), k.clone());
        self.put_json(k, t);
    }

    /// Whether an enrollment token could be used now (takes nothing).
    pub async fn peek_enroll_token(
        &mut self,
        token: &str,
        now_ms: u64,
    ) -> Result<Result<EnrollTokenInfo, TokenUse>, StoreError> {
        Ok(
            match self
                .get_json::<EnrollTokenInfo>("enroll tokens", &hash_key(token))
                .await?
            {
                None => Err(TokenUse::Unknown),
                Some(t) => judge(t, now_ms),
            },
        )
    }

    /// Takes one use of an enrollment token if it is known, live and not used up
    /// (two units taking the last use conflict; one retries and finds it used up).
    pub async fn use_enroll_token(
        &mut self,
        token: &str,
        now_ms: u64,
    ) -> Result<Result<EnrollTokenInfo, TokenUse>, StoreError> {
        let k = hash_key(token);
        let Some(t) = self
            .get_json::<EnrollTokenInfo>("enroll tokens", &k)
            .await?
        else {
            return Ok(Err(TokenUse::Unknown));
        };
        let mut t = match judge(t, now_ms) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        t.uses += 1;
        self.put_json(k, &t);
        Ok(Ok(t))
    }

    /// Every enrollment token, in id order.
    pub async fn enroll_tokens(&mut self) -> Result<Vec<EnrollTokenInfo>, StoreError> {
        let ids = self
            .scan(
                &crate::store::kv::Range::prefix(b"et.id/"),
                crate::store::kv::Order::Asc,
                usize::MAX,
            )
            .await?;
        let keys: Vec<Vec<u8>> = ids.iter().map(|(_, h)| h.to_vec()).collect();
        self.get_json_many("enroll tokens", &keys).await
    }

    /// Marks an enrollment token revoked; `None` when there is no such id.
    pub async fn revoke_enroll_token(
        &mut self,
        id: &str,
    ) -> Result<Option<EnrollTokenInfo>, StoreError> {
        let Some(k) = self.get(&k1("et.id/", id)).await? else {
            return Ok(None);
        };
        let Some(mut t) = self
            .get_json::<EnrollTokenInfo>("enroll tokens", &k)
            .await?
        else {
            return Ok(None);
        };
        t.revoked = true;
        self.put_json(k.to_vec(), &t);
        Ok(Some(t))
    }

    pub async fn reenroll_request(
        &mut self,
        hardware_uuid: &str,
    ) -> Result<Option<ReenrollRequest>, StoreError> {
        self.get_json("reenroll requests", &k1("rr/", hardware_uuid))
            .await
    }

    /// Every stored re-enrollment request (approved ones included).
    pub async fn reenroll_requests(
        &mut self,
        max: usize,
    ) -> Result<Vec<ReenrollRequest>, StoreError> {
        let rows = self
            .scan(
                &crate::store::kv::Range::prefix(b"rr/"),
                crate::store::kv::Order::Asc,
                max,
            )
            .await?;
        rows.iter()
            .map(|(_, v)| crate::store::from_json("reenroll requests", v))
            .collect()
    }

    pub fn put_reenroll_request(&mut self, r: &ReenrollRequest) {
        self.put_json(k1("rr/", &r.hardware_uuid), r);
    }

    pub fn remove_reenroll_request(&mut self, hardware_uuid: &str) {
        self.delete(k1("rr/", hardware_uuid));
    }
}
