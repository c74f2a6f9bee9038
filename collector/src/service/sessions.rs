//! Console sign-in: named users with argon2id passwords, sessions held in a cookie
//! (`HttpOnly; Secure; SameSite=Strict`) with idle and absolute expiry, a CSRF token
//! every state-changing request must echo, and throttled failures (per source address
//! and per user name: five, then one every two minutes — a correct password does not
//! get through a closed bucket). Every sign-in, refusal and sign-out is audited.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tend_shared::api::{AuditOutcome, User};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::SessionRecord;

/// The session cookie's name.
pub const COOKIE: &str = "tend_session";
/// A session unused this long ends.
pub const IDLE_MS: u64 = 30 * 60_000;
/// A session ends this long after sign-in, used or not.
pub const ABSOLUTE_MS: u64 = 12 * 3_600_000;
/// Shortest accepted password.
pub const MIN_PASSWORD: usize = 12;

/// argon2id (the crate's defaults: 19 MiB, 2 passes) over a random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(&crate::pki::random_bytes::<16>())
        .map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing: {e}")))
}

fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Sets `user_id`'s password (the caller checked who may).
pub async fn set_password(state: &AppState, user_id: &str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD || password.len() > 1024 {
        return Err(ApiError::BadRequest(format!(
            "a password has {MIN_PASSWORD} to 1024 characters"
        )));
    }
    let pw = password.to_string();
    let phc = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))??;
    crate::atomic!(state.store, tx => {
        if tx.user(user_id).await?.is_none() {
            return Err(ApiError::NotFound(format!("no user {user_id}")));
        }
        tx.put_password_hash(user_id, &phc);
        Ok(())
    })?;
    state.store.flush().await?;
    Ok(())
}

/// A new session: the cookie value (shown once) and the record.
pub struct SignedIn {
    pub cookie: String,
    pub session: SessionRecord,
    pub user: User,
}

/// Checks `name`/`password` from `source`; a new session, or 401/429 (audited).
pub async fn sign_in(
    state: &AppState,
    name: &str,
    password: &str,
    source: &str,
) -> Result<SignedIn, ApiError> {
    let now = state.now_ms();
    let name_key = format!("name:{}", name.to_ascii_lowercase());
    let source_key = format!("addr:{source}");
    for k in [&source_key, &name_key] {
        if let Err(wait) = state.rates.sign_in_failures.peek(k, now) {
            state
                .audit(
                    "anonymous",
                    "session.sign_in",
                    name,
                    AuditOutcome::Denied,
                    serde_json::json!({"reason": "throttled", "source": source}),
                )
                .await?;
            return Err(ApiError::rate_limited("failed sign-ins", wait));
        }
    }
    let (user, phc) = {
        let mut r = state.store.read();
        match r.user_by_name(name).await? {
            Some(u) => {
                let phc = r.password_hash(&u.id).await?;
                (Some(u), phc)
            }
            None => (None, None),
        }
    };
    // verify even for an unknown name, so timing does not tell which names exist
    let pw = password.to_string();
    let phc_or_dummy = phc.clone().unwrap_or_else(dummy_hash);
    let good = tokio::task::spawn_blocking(move || verify(&pw, &phc_or_dummy))
        .await
        .map_err(|e| ApiError::Internal(format!("verify task: {e}")))?;
    let user = match user {
        Some(u) if good && phc.is_some() && !u.disabled => u,
        other => {
            let _ = state.rates.sign_in_failures.check(&source_key, now);
            let _ = state.rates.sign_in_failures.check(&name_key, now);
            let reason = match other {
                Some(u) if u.disabled => "user disabled",
                Some(_) if phc.is_none() => "no password set",
                _ => "wrong name or password",
            };
            state
                .audit(
                    "anonymous",
                    "session.sign_in",
                    name,
                    AuditOutcome::Denied,
                    serde_json::json!({"reason": reason, "source": source}),
                )
                .await?;
            return Err(ApiError::Unauthorized("wrong name or password".into()));
        }
    };
    let cookie = hex::encode(crate::pki::random_bytes::<32>());
    let session = SessionRecord {
        user_id: user.id.clone(),
        csrf: hex::encode(crate::pki::random_bytes::<32>()),
        created_at_ms: now,
        last_seen_ms: now,
        source: source.to_string(),
    };
    crate::atomic!(state.store, tx => {
        tx.put_session(&cookie, &session);
        state
            .audit_in(
                &mut tx,
                &format!("user:{}", user.name),
                "session.sign_in",
                &user.id,
                AuditOutcome::Success,
                serde_json::json!({"source": source}),
            )
            .await?;
        Ok::<_, ApiError>(())
    })?;
    state.store.flush().await?;
    Ok(SignedIn {
        cookie,
        session,
        user,
    })
}

/// A fixed hash to verify against when the name is unknown.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
        .clone()
}

/// The live session for `cookie` at `now`, or why not. Moves `last_seen_ms` at most
/// once a minute (one write per minute per active browser).
pub async fn current(
    state: &AppState,
    cookie: &str,
) -> Result<Result<SessionRecord, &'static str>, ApiError> {
    let now = state.now_ms();
    let Some(mut s) = state.store.read().session(cookie).await? else {
        return Ok(Err("signed out or unknown session"));
    };
    if now.saturating_sub(s.last_seen_ms) > IDLE_MS
        || now.saturating_sub(s.created_at_ms) > ABSOLUTE_MS
    {
        crate::atomic!(state.store, tx => {
            tx.delete_session(cookie);
            Ok::<_, ApiError>(())
        })?;
        return Ok(Err("session expired; sign in again"));
    }
    if now.saturating_sub(s.last_seen_ms) > 60_000 {
        s.last_seen_ms = now;
        crate::atomic!(state.store, tx => {
            tx.put_session(cookie, &s);
            Ok::<_, ApiError>(())
        })?;
    }
    Ok(Ok(s))
}

/// Ends the session (audited).
pub async fn sign_out(state: &AppState, cookie: &str, actor: &str) -> Result<(), ApiError> {
    crate::atomic!(state.store, tx => {
        tx.delete_session(cookie);
        state
            .audit_in(&mut tx, actor, "session.sign_out", "", AuditOutcome::Success, serde_json::Value::Null)
            .await?;
        Ok::<_, ApiError>(())
    })?;
    state.store.flush().await?;
    Ok(())
}
