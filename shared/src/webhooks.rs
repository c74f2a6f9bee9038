//! Outgoing webhooks on the wire: what an admin registers (`POST /api/v1/webhooks`) and
//! what the collector shows of one (never its secret).

use serde::{Deserialize, Serialize};

/// `POST /api/v1/webhooks` (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookCreate {
    pub url: String,
    /// The HMAC-SHA256 key the receiver checks `X-Tend-Signature` with.
    pub secret: String,
    /// Event names (`ticket.created`, `ticket.updated`, `ticket.resolved`,
    /// `user.password_reset`); empty means all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// A registered webhook as `GET /api/v1/webhooks` and the create answer show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at_ms: u64,
}
