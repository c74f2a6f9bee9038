//! Who may change a password, and how a lost one comes back.
//!
//! - A user changes its own password only from a console session, proving the
//!   current one; API tokens never change passwords (a token capped at `viewer` must
//!   not become its owner's full role).
//! - Nobody sets another user's password. An admin *resets* it: the old password and
//!   every session and session-minted token of the user end at once, and a one-time
//!   code (24 h, stored hashed) lets its holder set a new one. The admin who issued it
//!   is recorded on the user (`reset_by`): it could have used the code itself, so it
//!   never counts as independent of that user again, and the user approves nothing
//!   until it sets its own password from a session. Every reset is audited, sent as
//!   the `user.password_reset` webhook event and shown to every admin as a notice.
//! - A password change or reset moves the user's `credentials_version`: sessions and
//!   session-minted tokens carry the version they were made under, so they all end in
//!   the same unit of work (the session that made the change is carried over).

pub mod routes;

use tend_shared::accounts::{PasswordResetIssued, SecurityNotice, SecuritySettings};
use tend_shared::api::{AuditOutcome, User};

use crate::error::ApiError;
use crate::state::AppState;
use crate::users::auth::ApiUser;
use crate::users::sessions::{hash_new_password, replace_password, verify_current};
use crate::users::ResetRecord;
use crate::users::NOTICE_MS;

/// How long a reset code works.
pub const RESET_MS: u64 = 24 * 3_600_000;
use crate::settings::SECURITY_SETTINGS_KEY;

/// Saves new security settings (the caller checked the admin role), audited with
/// what changed.
pub async fn put_security_settings(
    state: &AppState,
    me: &ApiUser,
    s: &SecuritySettings,
) -> Result<(), ApiError> {
    s.validate().map_err(ApiError::BadRequest)?;
    crate::commit!(state.store, tx => {
        let old = tx.meta_get::<SecuritySettings>(SECURITY_SETTINGS_KEY).await?.unwrap_or_default();
        tx.meta_put(SECURITY_SETTINGS_KEY, s);
        state
            .audit_in(&mut tx, &me.actor(), "settings.security", "", AuditOutcome::Success,
                serde_json::json!({"before": old, "after": s}))
            .await?;
        Ok::<_, ApiError>(())
    })
}

/// A user by id or name.
pub async fn find_user(state: &AppState, id: &str) -> Result<User, ApiError> {
    let mut r = state.store.read();
    match r.user(id).await? {
        Some(u) => Ok(u),
        None => r
            .user_by_name(id)
            .await?
            .ok_or_else(|| ApiError::not_found("user", id)),
    }
}

/// The signed-in user changes its own password: from a session (`session_cookie`),
/// with the current password. Its other sessions and session-minted tokens end; the
/// session that asked goes on.
pub async fn change_own(
    state: &AppState,
    me: &ApiUser,
    session_cookie: &str,
    current: &str,
    new: &str,
) -> Result<User, ApiError> {
    if !verify_current(state, &me.id, current).await? {
        state
            .audit(
                &me.actor(),
                "user.password",
                &me.id,
                AuditOutcome::Denied,
                serde_json::json!({"reason": "wrong current password"}),
            )
            .await?;
        return Err(ApiError::Forbidden(
            "current_password is not this user's password".into(),
        ));
    }
    let phc = hash_new_password(new).await?;
    let user = crate::commit!(state.store, tx => {
        let mut user = tx.user(&me.id).await?.ok_or_else(|| ApiError::not_found("user", &me.id))?;
        let mut session = tx
            .session(session_cookie)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("signed out".into()))?;
        replace_password(&mut tx, &mut user, Some(&phc));
        let was_reset = std::mem::take(&mut user.must_set_password);
        tx.put_user(&user);
        session.credentials_version = user.credentials_version;
        tx.put_session(session_cookie, &session);
        state
            .audit_in(&mut tx, &me.actor(), "user.password", &user.id, AuditOutcome::Success,
                serde_json::json!({"own": true, "after_reset": was_reset}))
            .await?;
        Ok::<_, ApiError>(user)
    })?;
    Ok(user)
}

/// An admin resets `target`'s password: see the module doc.
pub async fn issue_reset(
    state: &AppState,
    me: &ApiUser,
    target: &str,
) -> Result<PasswordResetIssued, ApiError> {
    let user = find_user(state, target).await?;
    let code = hex::encode(crate::pki::random_bytes::<24>());
    let now = state.now_ms();
    let expires_at_ms = now + RESET_MS;
    let user = crate::commit!(state.store, tx => {
        let mut user = tx.user(&user.id).await?.ok_or_else(|| ApiError::not_found("user", target))?;
        let had_password = tx.password_hash(&user.id).await?.is_some();
        replace_password(&mut tx, &mut user, None);
        if user.id != me.id {
            if !user.reset_by.contains(&me.id) {
                user.reset_by.push(me.id.clone());
            }
            user.must_set_password |= had_password;
        }
        tx.put_user(&user);
        tx.put_reset_code(&user.id, &ResetRecord {
            code_sha256: tend_shared::signing::sha256_hex(code.as_bytes()),
            expires_at_ms,
            issued_by: me.id.clone(),
        });
        let message = format!(
            "{} reset the password of {} ({}); {} cannot approve what {} submits",
            me.name, user.name, user.role.as_str(), user.name, me.name
        );
        tx.add_notice(&SecurityNotice {
            at_ms: now,
            kind: "user.password_reset".into(),
            actor: me.actor(),
            user: user.name.clone(),
            message: message.clone(),
        })
        .await?;
        state
            .audit_in(&mut tx, &me.actor(), "user.password_reset", &user.id, AuditOutcome::Success,
                serde_json::json!({"name": user.name, "had_password": had_password, "expires_at_ms": expires_at_ms}))
            .await?;
        crate::webhooks::enqueue_about(state, &mut tx, "user.password_reset", "user",
            serde_json::json!({"id": user.id, "name": user.name, "role": user.role, "by": me.name, "message": message}))
            .await?;
        Ok::<_, ApiError>(user)
    })?;
    state.webhook_wakeup.notify_one();
    Ok(PasswordResetIssued {
        user,
        code,
        expires_at_ms,
    })
}

/// The holder of a reset code sets the password (no token: the code is the proof).
/// Throttled like sign-in failures.
pub async fn redeem(
    state: &AppState,
    name: &str,
    code: &str,
    password: &str,
    source: &str,
) -> Result<User, ApiError> {
    let now = state.now_ms();
    let key = format!("reset|{source}");
    if let Err(wait) = state.rates.sign_in_failures.peek(&key, now) {
        return Err(ApiError::rate_limited("failed reset codes", wait));
    }
    let phc = hash_new_password(password).await?;
    let want = tend_shared::signing::sha256_hex(code.trim().as_bytes());
    let done = crate::commit!(state.store, tx => {
        let Some(mut user) = tx.user_by_name(name).await? else { return Ok(None) };
        let Some(r) = tx.reset_code(&user.id).await? else { return Ok(None) };
        if r.expires_at_ms <= now || !crate::users::auth::same(r.code_sha256.as_bytes(), want.as_bytes()) || user.disabled {
            return Ok(None);
        }
        tx.delete_reset_code(&user.id);
        replace_password(&mut tx, &mut user, Some(&phc));
        tx.put_user(&user);
        tx.add_notice(&SecurityNotice {
            at_ms: now,
            kind: "user.password_redeem".into(),
            actor: format!("user:{}", user.name),
            user: user.name.clone(),
            message: format!("a reset code set the password of {} (from {source})", user.name),
        })
        .await?;
        state
            .audit_in(&mut tx, &format!("user:{}", user.name), "user.password_redeem", &user.id,
                AuditOutcome::Success, serde_json::json!({"source": source, "issued_by": r.issued_by}))
            .await?;
        Ok::<_, ApiError>(Some(user))
    })?;
    match done {
        Some(u) => Ok(u),
        None => {
            let _ = state.rates.sign_in_failures.check(&key, now);
            state
                .audit(
                    "anonymous",
                    "user.password_redeem",
                    name,
                    AuditOutcome::Denied,
                    serde_json::json!({"reason": "unknown, used or expired code", "source": source}),
                )
                .await?;
            Err(ApiError::Forbidden(
                "that reset code is unknown, used or expired; ask an admin for a new one".into(),
            ))
        }
    }
}

/// Notices for the console banner: admins see the last week's.
pub async fn notices_for(state: &AppState, user: &User) -> Result<Vec<SecurityNotice>, ApiError> {
    if user.role != tend_shared::api::Role::Admin {
        return Ok(Vec::new());
    }
    let since = state.now_ms().saturating_sub(NOTICE_MS);
    Ok(state.store.read().notices(since).await?)
}
