//! Webhook subscriptions and their outbox, and deflections
//! (incidents fixed by remediation without a ticket, for the SLA report).

use serde::{Deserialize, Serialize};

use crate::store::keys::{k1, Key};
use crate::store::kv::{Order, Range, Tx};
use crate::store::StoreError;

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookRecord {
    pub id: String,
    pub url: String,
    /// HMAC-SHA256 key.
    pub secret: String,
    /// Event names it wants (`ticket.created`, `ticket.updated`, `ticket.resolved`); empty = all.
    #[serde(default)]
    pub events: Vec<String>,
    pub created_at_ms: u64,
}

impl WebhookRecord {
    /// What the API shows of it (never the secret).
    pub fn view(&self) -> tend_shared::webhooks::Webhook {
        tend_shared::webhooks::Webhook {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events.clone(),
            created_at_ms: self.created_at_ms,
        }
    }
}

/// One pending delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    pub webhook_id: String,
    pub event: String,
    pub body: String,
    pub attempts: u32,
    pub next_attempt_ms: u64,
    #[serde(default)]
    pub last_error: Option<String>,
}

impl Tx {
    pub fn put_webhook(&mut self, w: &WebhookRecord) {
        self.put_json(k1("wh/", &w.id), w);
    }

    pub async fn remove_webhook(&mut self, id: &str) -> Result<bool, StoreError> {
        let k = k1("wh/", id);
        let found = self.get(&k).await?.is_some();
        self.delete(k);
        Ok(found)
    }

    pub async fn webhooks(&mut self) -> Result<Vec<WebhookRecord>, StoreError> {
        self.all_json("webhooks", "wh/").await
    }

    /// Queues a delivery (committed with the unit that caused it); returns its id.
    pub async fn enqueue_delivery(&mut self, mut d: Delivery) -> Result<u64, StoreError> {
        d.id = self.next_id().await?;
        self.put_json(Key::new("ob/").n(d.id).build(), &d);
        self.signal("webhooks");
        Ok(d.id)
    }

    pub fn put_delivery(&mut self, d: &Delivery) {
        self.put_json(Key::new("ob/").n(d.id).build(), d);
    }

    pub fn remove_delivery(&mut self, id: u64) {
        self.delete(Key::new("ob/").n(id).build());
    }

    /// Queued deliveries, oldest first (at most `max`).
    pub async fn deliveries(&mut self, max: usize) -> Result<Vec<Delivery>, StoreError> {
        let rows = self.scan(&Range::prefix(b"ob/"), Order::Asc, max).await?;
        rows.iter()
            .map(|(_, v)| crate::store::from_json("webhook outbox", v))
            .collect()
    }

    pub async fn delivery(&mut self, id: u64) -> Result<Option<Delivery>, StoreError> {
        self.get_json("webhook outbox", &Key::new("ob/").n(id).build())
            .await
    }

    /// Records a deflected incident (fixed by remediation, no ticket) at `at_ms`.
    pub async fn record_deflection(
        &mut self,
        at_ms: u64,
        device_id: &str,
        problem_key: &str,
    ) -> Result<(), StoreError> {
        let seq = self.next_id().await?;
        self.put_json(
            Key::new("df/").n(at_ms).n(seq).build(),
            &(device_id, problem_key),
        );
        Ok(())
    }

    /// Deflected incidents recorded in `[from_ms, to_ms)`.
    pub async fn deflections_between(
        &mut self,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<u64, StoreError> {
        let range = Range {
            start: Key::new("df/").n(from_ms).build(),
            end: Key::new("df/").n(to_ms).build(),
        };
        self.count_keys(&range).await
    }
}
