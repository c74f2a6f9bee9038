//! Users and API tokens from the command line.

use tend_client::TransportError;
use tend_shared::api::{TokenCreate, TokenCreated, TokenInfo, User, UserCreated};

use crate::ctl::Ctl;
use crate::fmt::{encode, fmt_ms, table_or};

fn users_text(list: &[User]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|u| {
            vec![
                u.id.clone(),
                u.name.clone(),
                u.role.as_str().into(),
                if u.disabled { "disabled" } else { "active" }.into(),
                u.created_by.clone().unwrap_or_else(|| "operator".into()),
                fmt_ms(u.created_at_ms),
            ]
        })
        .collect();
    table_or(
        "users",
        &["id", "name", "role", "state", "created by", "created"],
        &rows,
    )
}

fn tokens_text(list: &[TokenInfo]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.user_name.clone(),
                t.role.as_str().into(),
                if t.label.is_empty() {
                    "-".into()
                } else {
                    t.label.clone()
                },
                fmt_ms(t.created_at_ms),
                t.expires_at_ms.map_or("never".into(), fmt_ms),
            ]
        })
        .collect();
    table_or(
        "tokens",
        &["id", "user", "role", "label", "created", "expires"],
        &rows,
    )
}

impl Ctl {
    pub async fn users(&self) -> Result<String, TransportError> {
        self.get_show("/api/v1/users", |l: &Vec<_>| users_text(l))
            .await
    }

    pub async fn user_add(
        &self,
        name: &str,
        role: tend_shared::api::Role,
    ) -> Result<String, TransportError> {
        let c: UserCreated = self
            .client
            .post(
                "/api/v1/users",
                &serde_json::json!({"name": name, "role": role}),
            )
            .await?;
        Ok(self.show(&c, |c| {
            format!(
                "user {} ({}, {}) created; their token (shown once):\n{}",
                c.user.name,
                c.user.id,
                c.user.role.as_str(),
                c.token
            )
        }))
    }

    pub async fn user_disable(&self, user: &str) -> Result<String, TransportError> {
        let u: User = self
            .client
            .post(
                &format!("/api/v1/users/{}/disable", encode(user)),
                &serde_json::json!({}),
            )
            .await?;
        Ok(self.show(&u, |u| format!("user {} ({}) disabled", u.name, u.id)))
    }

    /// Changes `user`'s own password the only way the collector allows: signed in
    /// with the current one, from that session, then signed out.
    pub async fn user_password(
        &self,
        user: &str,
        current: &str,
        new: &str,
    ) -> Result<String, TransportError> {
        let (headers, info): (_, tend_shared::api::SessionInfo) = self
            .client
            .call(
                tend_client::Method::POST,
                "/api/v1/session",
                Some(&tend_shared::api::SignIn {
                    name: user.to_string(),
                    password: current.to_string(),
                }),
                &[],
            )
            .await?;
        let cookie = headers
            .get_all(tend_client::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()
                    .filter(|c| c.starts_with("tend_session="))
            })
            .ok_or_else(|| {
                TransportError::Decode("sign-in answered without a session cookie".into())
            })?
            .to_string();
        let session = [("cookie", cookie), ("x-csrf-token", info.csrf_token)];
        let changed: Result<(_, User), _> = self
            .client
            .call(
                tend_client::Method::PUT,
                &format!("/api/v1/users/{}/password", encode(user)),
                Some(&tend_shared::api::PasswordSet {
                    password: new.to_string(),
                    current_password: Some(current.to_string()),
                }),
                &session,
            )
            .await;
        let _ = self
            .client
            .call::<(), serde_json::Value>(
                tend_client::Method::DELETE,
                "/api/v1/session",
                None,
                &session,
            )
            .await;
        let (_, u) = changed?;
        Ok(self.show(&u, |u| {
            format!(
                "password changed for user {} ({}); your other sessions ended",
                u.name, u.id
            )
        }))
    }

    /// Sets a password with a one-time reset code.
    pub async fn user_redeem(
        &self,
        user: &str,
        code: &str,
        new: &str,
    ) -> Result<String, TransportError> {
        let (_, u): (_, User) = self
            .client
            .call(
                tend_client::Method::POST,
                "/api/v1/password-reset",
                Some(&tend_shared::accounts::PasswordRedeem {
                    name: user.to_string(),
                    code: code.to_string(),
                    password: new.to_string(),
                }),
                &[],
            )
            .await?;
        Ok(self.show(&u, |u| {
            format!("password set for user {} ({})", u.name, u.id)
        }))
    }

    pub async fn user_reset(&self, user: &str) -> Result<String, TransportError> {
        let r: tend_shared::accounts::PasswordResetIssued = self
            .client
            .post(
                &format!("/api/v1/users/{}/password-reset", encode(user)),
                &serde_json::json!({}),
            )
            .await?;
        Ok(if self.json {
            serde_json::json!({"user": r.user, "code": r.code, "expires_at_ms": r.expires_at_ms})
                .to_string()
        } else {
            format!(
                "password of {} reset; its sessions ended. Give them this one-time code (valid until {}), \
                 for `tendctl user password {} --code`:\n{}",
                r.user.name,
                fmt_ms(r.expires_at_ms),
                r.user.name,
                r.code
            )
        })
    }

    pub async fn tokens(&self) -> Result<String, TransportError> {
        self.get_show("/api/v1/tokens", |l: &Vec<_>| tokens_text(l))
            .await
    }

    pub async fn token_create(&self, req: &TokenCreate) -> Result<String, TransportError> {
        let c: TokenCreated = self.client.post("/api/v1/tokens", req).await?;
        Ok(self.show(&c, |c| c.token.clone()))
    }

    pub async fn token_revoke(&self, id: &str) -> Result<String, TransportError> {
        self.client
            .delete(&format!("/api/v1/tokens/{}", encode(id)))
            .await?;
        Ok(if self.json {
            serde_json::json!({"revoked": id}).to_string()
        } else {
            format!("token {id} revoked")
        })
    }
}
