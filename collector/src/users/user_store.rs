//! Users (named principals with unique ids) and the unique-name index.

use tend_shared::api::User;

use crate::store::keys::k1;
use crate::store::kv::{Order, Range, Tx};
use crate::store::StoreError;

/// The user record is the wire `User` itself.
pub type UserRecord = User;

impl Tx {
    pub async fn user(&mut self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.get_json("users", &k1("usr/", id)).await
    }

    pub async fn user_by_name(&mut self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        match self
            .get(&k1("usr.name/", &name.to_ascii_lowercase()))
            .await?
        {
            Some(id) => self.user(&String::from_utf8_lossy(&id)).await,
            None => Ok(None),
        }
    }

    /// Writes a new user; false (nothing written) when the name is taken. Names are
    /// unique case-insensitively: two units claiming one name conflict on its key.
    pub async fn insert_user(&mut self, u: &UserRecord) -> Result<bool, StoreError> {
        let name = k1("usr.name/", &u.name.to_ascii_lowercase());
        if self.get(&name).await?.is_some() {
            return Ok(false);
        }
        self.put(name, u.id.clone().into_bytes());
        self.put_json(k1("usr/", &u.id), u);
        Ok(true)
    }

    /// Rewrites an existing user (disable); the name never changes.
    pub fn put_user(&mut self, u: &UserRecord) {
        self.put_json(k1("usr/", &u.id), u);
    }

    /// Every user, in id order.
    pub async fn users(&mut self) -> Result<Vec<UserRecord>, StoreError> {
        self.all_json("users", "usr/").await
    }

    /// Whether any user exists.
    pub async fn has_users(&mut self) -> Result<bool, StoreError> {
        Ok(!self
            .scan(&Range::prefix(b"usr/"), Order::Asc, 1)
            .await?
            .is_empty())
    }
}
