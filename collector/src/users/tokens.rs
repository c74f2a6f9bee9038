//! Users and their API tokens.
//!
//! Every analyst and admin is a user with a unique id; tokens belong to a user and
//! carry at most its role. The two-person rule goes by *independence*: two users are
//! independent when neither created the other, directly or through users it created
//! (`lineage`). So one admin cannot mint a second identity that counts as someone
//! else: whatever it creates is its own lineage. Users the server operator creates
//! (`tend-collector user add`, the first admin) have no creator.
//!
//! A token is minted for its own user, or by the user's creator (who could act as it
//! anyway); never for an independent user.

use tend_shared::api::{AuditOutcome, Role, TokenInfo, User};

use crate::error::ApiError;
use crate::store::{random_hex_id, Store, Tx};
use crate::text::check_text;
use crate::users::auth::ApiUser;
use crate::users::new_token;
use crate::users::TokenKind;
use crate::users::TokenRecord;
use crate::users::UserRecord;

/// Longest creation chain followed (a cycle cannot exist; this bounds a corrupt one).
const MAX_LINEAGE: usize = 64;

/// Who creates a user: the server operator, or a user through the API.
#[derive(Debug, Clone, Copy)]
pub enum Creator<'a> {
    System,
    User(&'a ApiUser),
}

impl Creator<'_> {
    fn id(&self) -> Option<String> {
        match self {
            Creator::System => None,
            Creator::User(u) => Some(u.id.clone()),
        }
    }

    fn actor(&self) -> String {
        match self {
            Creator::System => "system".into(),
            Creator::User(u) => u.actor(),
        }
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(ApiError::BadRequest(
            "user name: 1-64 of letters, digits, '-', '_', '.', '@'".into(),
        ));
    }
    Ok(())
}

/// Creates a user and its first token (returned once, to the creator).
pub async fn create_user(
    store: &Store,
    now_ms: u64,
    creator: Creator<'_>,
    name: &str,
    role: Role,
) -> Result<(UserRecord, String), ApiError> {
    crate::commit!(store, tx => create_user_in(&mut tx, now_ms, creator, name, role).await)
}

/// [`create_user`] inside a unit of work.
pub async fn create_user_in(
    tx: &mut Tx,
    now_ms: u64,
    creator: Creator<'_>,
    name: &str,
    role: Role,
) -> Result<(UserRecord, String), ApiError> {
    let name = name.trim();
    check_name(name)?;
    if let Creator::User(u) = creator {
        if role > u.role {
            return Err(ApiError::Forbidden(format!(
                "a {} cannot create a {} user",
                u.role.as_str(),
                role.as_str()
            )));
        }
    }
    let user = User {
        id: format!("u_{}", random_hex_id::<6>()),
        name: name.to_string(),
        role,
        created_by: creator.id(),
        created_at_ms: now_ms,
        disabled: false,
        reset_by: Vec::new(),
        must_set_password: false,
        credentials_version: 0,
    };
    if !tx.insert_user(&user).await? {
        return Err(ApiError::Conflict(format!("a user named {name} exists")));
    }
    tx.append_audit(
        now_ms,
        &creator.actor(),
        "user.create",
        &user.id,
        AuditOutcome::Success,
        serde_json::json!({"name": user.name, "role": role, "created_by": user.created_by}),
    )
    .await?;
    let (token, _) = mint_in(
        tx,
        now_ms,
        &user,
        NewToken::lasting(role, "first token"),
        &creator.actor(),
    )
    .await?;
    Ok((user, token))
}

/// What a new token is: its role (at most its user's), label, end, and — when it
/// was minted from a console session — the credentials version it dies with.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    pub role: Role,
    pub label: &'a str,
    pub expires_at_ms: Option<u64>,
    pub session_version: Option<u64>,
}

impl<'a> NewToken<'a> {
    /// A token that lives until revoked.
    pub fn lasting(role: Role, label: &'a str) -> NewToken<'a> {
        NewToken {
            role,
            label,
            expires_at_ms: None,
            session_version: None,
        }
    }
}

/// Mints a token for `user` (the caller checked who may) and records it.
pub async fn mint(
    store: &Store,
    now_ms: u64,
    user: &UserRecord,
    new: NewToken<'_>,
    actor: &str,
) -> Result<(String, TokenInfo), ApiError> {
    crate::commit!(store, tx => {
        mint_in(&mut tx, now_ms, user, new, actor).await
    })
}

/// [`mint`] inside a unit of work.
pub async fn mint_in(
    tx: &mut Tx,
    now_ms: u64,
    user: &UserRecord,
    new: NewToken<'_>,
    actor: &str,
) -> Result<(String, TokenInfo), ApiError> {
    let NewToken {
        role,
        label,
        expires_at_ms,
        session_version,
    } = new;
    check_text("label", label, 100)?;
    if role > user.role {
        return Err(ApiError::BadRequest(format!(
            "a token cannot have more than its user's role ({})",
            user.role.as_str()
        )));
    }
    let token = new_token("tak_");
    let id = format!("tk_{}", random_hex_id::<8>());
    let record = TokenRecord {
        kind: TokenKind::User {
            id: id.clone(),
            user_id: user.id.clone(),
            role,
            label: label.to_string(),
            expires_at_ms,
            session_version,
        },
        created_at_ms: now_ms,
    };
    tx.put_token(&token, &record);
    tx.append_audit(
        now_ms,
        actor,
        "token.create",
        &id,
        AuditOutcome::Success,
        serde_json::json!({"user": user.name, "role": role, "expires_at_ms": expires_at_ms}),
    )
    .await?;
    let info = info(user, &record).expect("a user token");
    Ok((token, info))
}

/// The listing form of a user token.
pub fn info(user: &UserRecord, r: &TokenRecord) -> Option<TokenInfo> {
    match &r.kind {
        TokenKind::User {
            id,
            role,
            label,
            expires_at_ms,
            ..
        } => Some(TokenInfo {
            id: id.clone(),
            user_id: user.id.clone(),
            user_name: user.name.clone(),
            role: *role,
            label: label.clone(),
            created_at_ms: r.created_at_ms,
            expires_at_ms: *expires_at_ms,
        }),
        _ => None,
    }
}

/// `id`, its creator, its creator's creator… (operator-created users end the chain).
pub async fn lineage(store: &Store, id: &str) -> Result<Vec<String>, ApiError> {
    let mut r = store.read();
    let mut out = vec![id.to_string()];
    let mut cur = r.user(id).await?.and_then(|u| u.created_by);
    while let Some(c) = cur {
        if out.contains(&c) || out.len() >= MAX_LINEAGE {
            break;
        }
        cur = r.user(&c).await?.and_then(|u| u.created_by);
        out.push(c);
    }
    Ok(out)
}

/// Everyone who could act as `id`: its lineage ([`lineage`]) and whoever reset the
/// credentials of any user in it (they held a code that set its password).
pub async fn controllers(store: &Store, id: &str) -> Result<Vec<String>, ApiError> {
    let chain = lineage(store, id).await?;
    let mut out = chain.clone();
    let mut r = store.read();
    for u in &chain {
        for x in r.user(u).await?.map(|u| u.reset_by).unwrap_or_default() {
            if !out.contains(&x) {
                out.push(x);
            }
        }
    }
    Ok(out)
}

/// Two different people as far as the collector can tell: distinct users neither of
/// which created the other (directly or through users it created) or reset the
/// other's credentials.
pub async fn independent(store: &Store, a: &str, b: &str) -> Result<bool, ApiError> {
    if a == b {
        return Ok(false);
    }
    let (ca, cb) = (controllers(store, a).await?, controllers(store, b).await?);
    Ok(!ca.iter().any(|x| x == b) && !cb.iter().any(|x| x == a))
}

/// The first admin on a fresh data dir, created by the operator (shown once).
pub async fn create_initial_admin(store: &Store, now_ms: u64) -> Result<Option<String>, ApiError> {
    crate::commit!(store, tx => {
        if tx.has_users().await? || !tx.legacy_api_tokens().await?.is_empty() {
            return Ok(None);
        }
        let (_, token) = create_user_in(&mut tx, now_ms, Creator::System, "admin", Role::Admin).await?;
        Ok(Some(token))
    })
}

/// Tokens from before named users (a free-text name and a role) become users: one per
/// token, operator-created, the token kept working. Returns how many moved.
pub async fn migrate_legacy_tokens(store: &Store, now_ms: u64) -> Result<usize, ApiError> {
    let legacy = store.read().legacy_api_tokens().await?;
    for (hash, rec) in &legacy {
        let TokenKind::Api { role, name } = &rec.kind else {
            continue;
        };
        let base: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
            .take(56)
            .collect();
        let base = if base.is_empty() { "user".into() } else { base };
        crate::atomic!(store, tx => {
            let mut user = User {
                id: format!("u_{}", random_hex_id::<6>()),
                name: base.clone(),
                role: *role,
                created_by: None,
                created_at_ms: rec.created_at_ms,
                disabled: false,
                reset_by: Vec::new(),
                must_set_password: false,
                credentials_version: 0,
            };
            let mut n = 1;
            while !tx.insert_user(&user).await? {
                n += 1;
                user.name = format!("{base}-{n}");
            }
            tx.put_token_hash(
                hash,
                &TokenRecord {
                    kind: TokenKind::User {
                        id: format!("tk_{}", random_hex_id::<8>()),
                        user_id: user.id.clone(),
                        role: *role,
                        label: "from a pre-user token".into(),
                        expires_at_ms: None,
                        session_version: None,
                    },
                    created_at_ms: rec.created_at_ms,
                },
            );
            tx.append_audit(
                now_ms,
                "system",
                "user.migrate",
                &user.id,
                AuditOutcome::Success,
                serde_json::json!({"name": user.name, "role": role}),
            )
            .await?;
            Ok(())
        })?;
    }
    Ok(legacy.len())
}

/// Creates (or finds) an operator-created user `name` and mints it a token: the
/// stopped-collector `tend-collector token create` and the demo.
pub async fn operator_token(
    store: &Store,
    now_ms: u64,
    name: &str,
    role: Role,
) -> Result<String, ApiError> {
    crate::commit!(store, tx => {
        match tx.user_by_name(name).await? {
            Some(u) if u.role >= role && !u.disabled => {
                Ok(mint_in(&mut tx, now_ms, &u, NewToken::lasting(role, "operator"), "system").await?.0)
            }
            Some(u) => Err(ApiError::Conflict(format!(
                "user {} exists as {}{}",
                u.name,
                u.role.as_str(),
                if u.disabled { " (disabled)" } else { "" }
            ))),
            None => Ok(create_user_in(&mut tx, now_ms, Creator::System, name, role).await?.1),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(u: &UserRecord) -> ApiUser {
        ApiUser {
            id: u.id.clone(),
            name: u.name.clone(),
            role: u.role,
            token_id: String::new(),
            session_csrf: None,
        }
    }

    #[tokio::test]
    async fn what_one_admin_creates_is_never_independent_of_it() {
        let (_d, store) = crate::store::temp_store();
        let (a, _) = create_user(&store, 1, Creator::System, "alice", Role::Admin)
            .await
            .unwrap();
        let (c, _) = create_user(&store, 1, Creator::System, "carol", Role::Admin)
            .await
            .unwrap();
        // alice makes "bob", and through bob, "eve"
        let (b, _) = create_user(&store, 2, Creator::User(&api(&a)), "bob", Role::Admin)
            .await
            .unwrap();
        let (e, _) = create_user(&store, 3, Creator::User(&api(&b)), "eve", Role::Admin)
            .await
            .unwrap();
        assert!(!independent(&store, &a.id, &a.id).await.unwrap());
        assert!(!independent(&store, &a.id, &b.id).await.unwrap());
        assert!(!independent(&store, &b.id, &a.id).await.unwrap());
        assert!(
            !independent(&store, &a.id, &e.id).await.unwrap(),
            "through bob"
        );
        assert!(independent(&store, &a.id, &c.id).await.unwrap());
        assert!(independent(&store, &c.id, &e.id).await.unwrap());
        // names are unique, case-insensitively
        let dup = create_user(&store, 4, Creator::System, "ALICE", Role::Viewer).await;
        assert!(matches!(dup, Err(ApiError::Conflict(_))));
        // an analyst cannot create an admin
        let (an, _) = create_user(&store, 5, Creator::System, "ana", Role::Analyst)
            .await
            .unwrap();
        let up = create_user(&store, 6, Creator::User(&api(&an)), "boss", Role::Admin).await;
        assert!(matches!(up, Err(ApiError::Forbidden(_))));
    }

    #[tokio::test]
    async fn legacy_tokens_become_users_and_keep_working() {
        let (_d, store) = crate::store::temp_store();
        for _ in 0..2 {
            crate::atomic!(store, tx: crate::store::StoreError => {
                tx.put_token(
                    &new_token("tak_"),
                    &TokenRecord {
                        kind: TokenKind::Api {
                            role: Role::Admin,
                            name: "bob".into(),
                        },
                        created_at_ms: 1,
                    },
                );
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(migrate_legacy_tokens(&store, 2).await.unwrap(), 2);
        let mut r = store.read();
        let mut names: Vec<String> = r
            .users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        names.sort();
        assert_eq!(names, ["bob", "bob-2"]);
        assert_eq!(r.user_tokens().await.unwrap().len(), 2);
        assert!(r.legacy_api_tokens().await.unwrap().is_empty());
    }
}
