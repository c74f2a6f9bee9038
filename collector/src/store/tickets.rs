//! Tickets, their timelines, the open-ticket and idempotency indexes, problems, and
//! the webhook outbox.

use serde::{Deserialize, Serialize};
use tend_shared::tickets::{Problem, Ticket, TimelineEntry};

use super::{from_json, to_json, Store, StoreError};

/// What the store keeps per ticket: the wire ticket plus engine bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRecord {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Set while the ticket is pending.
    #[serde(default)]
    pub pending_since_ms: Option<u64>,
    /// Completed pending periods.
    #[serde(default)]
    pub pending_total_ms: u64,
    /// Consecutive passing reports of the problem's check.
    #[serde(default)]
    pub passes: u32,
    #[serde(default)]
    pub own_breach_noted: bool,
    #[serde(default)]
    pub resolve_breach_noted: bool,
}

impl TicketRecord {
    /// A fresh record around `ticket`: not pending, no passes, no breach noted.
    pub fn new(ticket: Ticket) -> TicketRecord {
        TicketRecord {
            ticket,
            pending_since_ms: None,
            pending_total_ms: 0,
            passes: 0,
            own_breach_noted: false,
            resolve_breach_noted: false,
        }
    }
}

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

fn pair(a: &str, b: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(a.len() + b.len() + 1);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k.extend_from_slice(b.as_bytes());
    k
}

const TICKET_COUNTER: &str = "ticket_counter";

impl Store {
    /// The next ticket number: consecutive (T-1, T-2, …), atomic under concurrent
    /// callers. A store from before the counter continues after its highest number.
    pub fn next_ticket_number(&self) -> Result<u64, StoreError> {
        if self.meta.get(TICKET_COUNTER)?.is_none() {
            let mut max = 0u64;
            for item in self.tickets.iter() {
                let (k, _) = item?;
                if let Some(n) = std::str::from_utf8(&k)
                    .ok()
                    .and_then(|k| k.strip_prefix("T-"))
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    max = max.max(n);
                }
            }
            // another caller may have started it meanwhile: keep theirs
            let _ = self.meta.compare_and_swap(
                TICKET_COUNTER,
                None::<&[u8]>,
                Some(&max.to_be_bytes()),
            )?;
        }
        let next = self.meta.update_and_fetch(TICKET_COUNTER, |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        Ok(next
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map_or(1, u64::from_be_bytes))
    }

    pub fn ticket(&self, id: &str) -> Result<Option<TicketRecord>, StoreError> {
        self.tickets
            .get(id)?
            .map(|v| from_json("tickets", &v))
            .transpose()
    }

    /// Writes a ticket and keeps the open and last-ticket indexes in step.
    pub fn put_ticket(&self, t: &TicketRecord) -> Result<(), StoreError> {
        let k = pair(&t.ticket.device_id, &t.ticket.problem_key);
        self.tickets.insert(t.ticket.id.as_bytes(), to_json(t))?;
        self.ticket_last.insert(&k, t.ticket.id.as_bytes())?;
        if t.ticket.status.is_open() {
            self.ticket_open.insert(&k, t.ticket.id.as_bytes())?;
        } else if self.ticket_open.get(&k)?.as_deref() == Some(t.ticket.id.as_bytes()) {
            self.ticket_open.remove(&k)?;
        }
        Ok(())
    }

    /// The open ticket for (device, problem key).
    pub fn open_ticket(
        &self,
        device_id: &str,
        problem_key: &str,
    ) -> Result<Option<TicketRecord>, StoreError> {
        match self.ticket_open.get(pair(device_id, problem_key))? {
            Some(id) => self.ticket(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// The most recent ticket for (device, problem key), whatever its status.
    pub fn last_ticket(
        &self,
        device_id: &str,
        problem_key: &str,
    ) -> Result<Option<TicketRecord>, StoreError> {
        match self.ticket_last.get(pair(device_id, problem_key))? {
            Some(id) => self.ticket(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// Open tickets of one device.
    pub fn open_tickets_of(&self, device_id: &str) -> Result<Vec<TicketRecord>, StoreError> {
        let mut out = Vec::new();
        let mut prefix = device_id.as_bytes().to_vec();
        prefix.push(0);
        for item in self.ticket_open.scan_prefix(prefix) {
            let (_, id) = item?;
            if let Some(t) = self.ticket(&String::from_utf8_lossy(&id))? {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// True when the device has any open ticket (cheap: one prefix probe).
    pub fn has_open_tickets(&self, device_id: &str) -> Result<bool, StoreError> {
        let mut prefix = device_id.as_bytes().to_vec();
        prefix.push(0);
        Ok(self
            .ticket_open
            .scan_prefix(prefix)
            .next()
            .transpose()?
            .is_some())
    }

    pub fn all_tickets(&self) -> Result<Vec<TicketRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.tickets.iter() {
            let (_, v) = item?;
            out.push(from_json("tickets", &v)?);
        }
        Ok(out)
    }

    /// The ticket a client request id already produced.
    pub fn ticket_for_request(
        &self,
        scope: &str,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .ticket_requests
            .get(pair(scope, request_id))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn put_ticket_request(
        &self,
        scope: &str,
        request_id: &str,
        ticket_id: &str,
    ) -> Result<(), StoreError> {
        self.ticket_requests
            .insert(pair(scope, request_id), ticket_id.as_bytes())?;
        Ok(())
    }

    pub fn append_timeline(&self, ticket_id: &str, e: &TimelineEntry) -> Result<(), StoreError> {
        let mut k = pair(ticket_id, "");
        k.extend_from_slice(&self.next_id()?.to_be_bytes());
        self.ticket_timeline.insert(k, to_json(e))?;
        Ok(())
    }

    pub fn timeline(&self, ticket_id: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        let mut out = Vec::new();
        for item in self.ticket_timeline.scan_prefix(pair(ticket_id, "")) {
            let (_, v) = item?;
            out.push(from_json("ticket_timeline", &v)?);
        }
        Ok(out)
    }

    pub fn problem(&self, id: &str) -> Result<Option<Problem>, StoreError> {
        self.problems
            .get(id)?
            .map(|v| from_json("problems", &v))
            .transpose()
    }

    pub fn put_problem(&self, p: &Problem) -> Result<(), StoreError> {
        self.problems.insert(p.id.as_bytes(), to_json(p))?;
        Ok(())
    }

    pub fn problems(&self) -> Result<Vec<Problem>, StoreError> {
        let mut out = Vec::new();
        for item in self.problems.iter() {
            let (_, v) = item?;
            out.push(from_json("problems", &v)?);
        }
        Ok(out)
    }

    pub fn put_webhook(&self, w: &WebhookRecord) -> Result<(), StoreError> {
        self.webhooks.insert(w.id.as_bytes(), to_json(w))?;
        Ok(())
    }

    pub fn remove_webhook(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.webhooks.remove(id)?.is_some())
    }

    pub fn webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.webhooks.iter() {
            let (_, v) = item?;
            out.push(from_json("webhooks", &v)?);
        }
        Ok(out)
    }

    /// Queues a delivery; returns its id.
    pub fn enqueue_delivery(&self, mut d: Delivery) -> Result<u64, StoreError> {
        d.id = self.next_id()?;
        self.outbox.insert(d.id.to_be_bytes(), to_json(&d))?;
        Ok(d.id)
    }

    pub fn put_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        self.outbox.insert(d.id.to_be_bytes(), to_json(d))?;
        Ok(())
    }

    pub fn remove_delivery(&self, id: u64) -> Result<(), StoreError> {
        self.outbox.remove(id.to_be_bytes())?;
        Ok(())
    }

    /// Every queued delivery, oldest first.
    pub fn deliveries(&self) -> Result<Vec<Delivery>, StoreError> {
        let mut out = Vec::new();
        for item in self.outbox.iter() {
            let (_, v) = item?;
            out.push(from_json("webhook_outbox", &v)?);
        }
        Ok(out)
    }

    /// Records a deflected incident (fixed by remediation, no ticket) at `at_ms`.
    pub fn record_deflection(
        &self,
        at_ms: u64,
        device_id: &str,
        problem_key: &str,
    ) -> Result<(), StoreError> {
        let mut k = at_ms.to_be_bytes().to_vec();
        k.extend_from_slice(&self.next_id()?.to_be_bytes());
        self.deflections
            .insert(k, to_json(&(device_id, problem_key)))?;
        Ok(())
    }

    /// Deflected incidents recorded in `[from_ms, to_ms)`.
    pub fn deflections_between(&self, from_ms: u64, to_ms: u64) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self
            .deflections
            .range(from_ms.to_be_bytes()..to_ms.to_be_bytes())
        {
            item?;
            n += 1;
        }
        Ok(n)
    }
}
