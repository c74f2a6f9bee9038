//! Users (named principals with unique ids) and the unique-name index.

use tend_shared::api::User;

use super::{from_json, to_json, Store, StoreError};

/// The user record is the wire `User` itself.
pub type UserRecord = User;

impl Store {
    pub fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.users
            .get(id)?
            .map(|v| from_json("users", &v))
            .transpose()
    }

    pub fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        match self.user_names.get(name.to_ascii_lowercase())? {
            Some(id) => self.user(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// Writes a new user; false (nothing written) when the name is taken. Names are
    /// unique case-insensitively, claimed with a compare-and-swap.
    pub fn insert_user(&self, u: &UserRecord) -> Result<bool, StoreError> {
        let claimed = self
            .user_names
            .compare_and_swap(
                u.name.to_ascii_lowercase(),
                None::<&[u8]>,
                Some(u.id.as_bytes()),
            )?
            .is_ok();
        if claimed {
            self.users.insert(u.id.as_bytes(), to_json(u))?;
        }
        Ok(claimed)
    }

    /// Rewrites an existing user (disable); the name never changes.
    pub fn put_user(&self, u: &UserRecord) -> Result<(), StoreError> {
        self.users.insert(u.id.as_bytes(), to_json(u))?;
        Ok(())
    }

    /// Every user, in id order.
    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.users
            .iter()
            .map(|item| {
                let (_, v) = item?;
                from_json("users", &v)
            })
            .collect()
    }

    /// Number of users.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }
}
