//! Console sign-in: named users with argon2id passwords, sessions held in a cookie
//! (`HttpOnly; Secure; SameSite=Strict`) with idle and absolute expiry, a CSRF token
//! every state-changing request must echo, and throttled failures (per name and
//! source address: five, then one every two minutes — a correct password does not get
//! through a closed bucket; per source address; a name failing from everywhere is
//! slowed down, never locked). Every sign-in and sign-out is audited, and refusals
//! once a minute per kind with a count.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tend_shared::api::{AuditOutcome, User};

use crate::error::ApiError;
use crate::state::AppState;
use crate::users::SessionRecord;

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

/// Checks a new password's length.
pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD || password.len() > 1024 {
        return Err(ApiError::BadRequest(format!(
            "a password has {MIN_PASSWORD} to 1024 characters"
        )));
    }
    Ok(())
}

/// argon2id of a new password, off the async threads.
pub async fn hash_new_password(password: &str) -> Result<String, ApiError> {
    check_new_password(password)?;
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))?
}

/// Whether `password` is `user_id`'s current one.
pub async fn verify_current(
    state: &AppState,
    user_id: &str,
    password: &str,
) -> Result<bool, ApiError> {
    let Some(phc) = state.store.read().password_hash(user_id).await? else {
        return Ok(false);
    };
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || verify(&pw, &phc))
        .await
        .map_err(|e| ApiError::Internal(format!("verify task: {e}")))
}

/// Sets `user_id`'s password as the server operator (the demo, `tend-collector`
/// commands): every session and session-minted token of the user ends.
/// Replaces `user`'s password (`None`: removes it) in the caller's unit and moves its
/// `credentials_version`, which ends every session and session-minted token made
/// under the old one: the one place a password changes. The caller puts `user`.
pub(crate) fn replace_password(tx: &mut crate::store::Tx, user: &mut User, phc: Option<&str>) {
    match phc {
        Some(phc) => tx.put_password_hash(&user.id, phc),
        None => tx.delete_password_hash(&user.id),
    }
    user.credentials_version += 1;
}

pub async fn set_password(state: &AppState, user_id: &str, password: &str) -> Result<(), ApiError> {
    let phc = hash_new_password(password).await?;
    crate::commit!(state.store, tx => {
        let Some(mut user) = tx.user(user_id).await? else {
            return Err(ApiError::NotFound(format!("no user {user_id}")));
        };
        replace_password(&mut tx, &mut user, Some(&phc));
        tx.put_user(&user);
        Ok(())
    })?;
    Ok(())
}

/// A new session: the cookie value (shown once) and the record.
pub struct SignedIn {
    pub cookie: String,
    pub session: SessionRecord,
    pub user: User,
}

/// A refused sign-in, audited at most once a minute per reason, name and source
/// (the entry counts the ones left out), so guessing cannot fill the audit log.
async fn refuse_audited(
    state: &AppState,
    name: &str,
    source: &str,
    reason: &str,
) -> Result<(), ApiError> {
    let key = format!("{reason}|{}|{source}", name.to_ascii_lowercase());
    if let Some(left_out) = state.rates.refusal_collapse.note(&key, state.now_ms()) {
        state
            .audit(
                "anonymous",
                "session.sign_in",
                name,
                AuditOutcome::Denied,
                serde_json::json!({"reason": reason, "source": source, "repeated": left_out}),
            )
            .await?;
    }
    Ok(())
}

/// Checks `name`/`password` from `source`; a new session, or 401/429 (audited).
///
/// Failures are throttled per (name, source) — five, then one every two minutes,
/// the right password included — and per source whatever the name; a name that fails
/// from everywhere is slowed down (a growing delay), never locked, so nobody can keep
/// its owner out by guessing.
pub async fn sign_in(
    state: &AppState,
    name: &str,
    password: &str,
    source: &str,
) -> Result<SignedIn, ApiError> {
    let now = state.now_ms();
    let lname = name.to_ascii_lowercase();
    let pair_key = format!("{lname}|{source}");
    let source_key = format!("addr:{source}");
    let limited = state
        .rates
        .sign_in_failures
        .peek(&pair_key, now)
        .and_then(|()| state.rates.sign_in_sources.peek(&source_key, now));
    if let Err(wait) = limited {
        refuse_audited(state, name, source, "throttled").await?;
        return Err(ApiError::rate_limited("failed sign-ins", wait));
    }
    let delay = state.rates.sign_in_names.delay(&lname, now);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
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
            let _ = state.rates.sign_in_failures.check(&pair_key, now);
            let _ = state.rates.sign_in_sources.check(&source_key, now);
            state.rates.sign_in_names.fail(&lname, now);
            let reason = match other {
                Some(u) if u.disabled => "user disabled",
                Some(_) if phc.is_none() => "no password set",
                _ => "wrong name or password",
            };
            refuse_audited(state, name, source, reason).await?;
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
        credentials_version: user.credentials_version,
    };
    crate::commit!(state.store, tx => {
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
    crate::commit!(state.store, tx => {
        tx.delete_session(cookie);
        state
            .audit_in(&mut tx, actor, "session.sign_out", "", AuditOutcome::Success, serde_json::Value::Null)
            .await?;
        Ok::<_, ApiError>(())
    })?;
    Ok(())
}
