//! Outgoing webhooks: ticket created/updated/resolved, signed with HMAC-SHA256
//! (`X-Tend-Signature: sha256=<hex>` over the body), queued in the store's outbox in
//! the same unit of work as the change they announce (so deliveries survive restarts
//! and exist exactly when the change does), and sent by a background worker with
//! exponential backoff: never on the ingest path. With several collectors one worker
//! delivers at a time (a cluster-wide lock), so each event is sent once. Targets are
//! https (plain http only to loopback, and only when the collector allows it) and
//! pass `targets` (no SSRF: resolved and checked at registration and at every
//! connection, no redirects); each target's queue is sent on its own, so one dead
//! target never delays the others. With a cluster key (PostgreSQL) the signing secrets
//! are stored sealed under it.

pub mod routes;
mod store;
pub mod targets;

pub use store::{Delivery, WebhookRecord};

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tend_shared::api::AuditOutcome;
use tend_shared::tickets::Ticket;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{random_hex_id, Tx};

/// Event names a webhook can subscribe to.
pub const EVENTS: [&str; 4] = [
    "ticket.created",
    "ticket.updated",
    "ticket.resolved",
    "user.password_reset",
];
/// Attempts before a delivery is given up (and audited).
pub const MAX_ATTEMPTS: u32 = 12;

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Registers a webhook (admin).
pub async fn register(
    state: &AppState,
    actor: &str,
    url: &str,
    secret: &str,
    events: Vec<String>,
) -> Result<WebhookRecord, ApiError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| ApiError::BadRequest(format!("url: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback && state.limits.allow_http_loopback_webhooks => {}
        "http" => {
            return Err(ApiError::BadRequest(
                "webhook urls must be https (the body carries ticket details)".into(),
            ))
        }
        _ => return Err(ApiError::BadRequest("url must be https".into())),
    }
    if url.len() > 2048 {
        return Err(ApiError::BadRequest("url is longer than 2048 bytes".into()));
    }
    // where it resolves to now; deliveries check again at every connection
    crate::webhooks::targets::check_url(&parsed, crate::webhooks::targets::current(state).await)
        .await
        .map_err(|why| ApiError::BadRequest(format!("url: {why}")))?;
    if secret.len() < 16 {
        return Err(ApiError::BadRequest(
            "secret must be at least 16 characters".into(),
        ));
    }
    if let Some(e) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "unknown event {e:?} ({})",
            EVENTS.join("|")
        )));
    }
    let w = WebhookRecord {
        id: format!("wh_{}", random_hex_id::<6>()),
        url: url.to_string(),
        secret: state.keys.seal_secret(secret),
        events,
        created_at_ms: state.now_ms(),
    };
    crate::commit!(state.store, tx => {
        tx.put_webhook(&w);
        state
            .audit_in(
                &mut tx,
                actor,
                "webhook.create",
                &w.id,
                AuditOutcome::Success,
                serde_json::json!({"url": w.url, "events": w.events}),
            )
            .await?;
        Ok(())
    })?;
    Ok(w)
}

/// Queues `event` for every webhook that wants it, in the caller's unit of work.
pub async fn enqueue(
    state: &AppState,
    tx: &mut Tx,
    event: &str,
    ticket: &Ticket,
) -> Result<(), ApiError> {
    enqueue_about(state, tx, event, "ticket", serde_json::json!(ticket)).await
}

/// Queues `event` (`{"event", "at_ms", what: value}`) for every webhook that wants
/// it, in the caller's unit of work.
pub async fn enqueue_about(
    state: &AppState,
    tx: &mut Tx,
    event: &str,
    what: &str,
    value: serde_json::Value,
) -> Result<(), ApiError> {
    let hooks = tx.webhooks().await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let now = state.now_ms();
    let mut body = serde_json::json!({"event": event, "at_ms": now});
    body[what] = value;
    let body = body.to_string();
    for w in hooks
        .iter()
        .filter(|w| w.events.is_empty() || w.events.iter().any(|e| e == event))
    {
        tx.enqueue_delivery(Delivery {
            id: 0,
            webhook_id: w.id.clone(),
            event: event.to_string(),
            body: body.clone(),
            attempts: 0,
            next_attempt_ms: now,
            last_error: None,
        })
        .await?;
    }
    Ok(())
}

/// Delay before attempt `n + 1` after `n` failures: base × 2^(n-1), capped at 1 h.
pub fn retry_delay(base: Duration, failures: u32) -> Duration {
    base.saturating_mul(1u32 << failures.saturating_sub(1).min(20))
        .min(Duration::from_secs(3600))
}

/// The webhook HTTP client: no redirects, no proxies from the environment, and a
/// resolver that refuses what the target policy refuses at connection time.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    resolver: crate::webhooks::targets::GuardedResolver,
}

impl Sender {
    pub fn new(timeout: Duration) -> Result<Sender, String> {
        let resolver = crate::webhooks::targets::GuardedResolver::default();
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(resolver.clone()))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Sender { client, resolver })
    }
}

async fn deliver(
    sender: &Sender,
    policy: crate::webhooks::targets::TargetPolicy,
    w: &WebhookRecord,
    secret: &str,
    d: &Delivery,
) -> Result<(), String> {
    let url = reqwest::Url::parse(&w.url).map_err(|e| format!("url: {e}"))?;
    // a literal address never reaches the resolver: check it here
    if let Some(ip) = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    } {
        policy.check(ip)?;
    }
    let resp = sender
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("x-tend-event", &d.event)
        .header("x-tend-delivery", d.id.to_string())
        .header("x-tend-signature", signature(secret, d.body.as_bytes()))
        .body(d.body.clone())
        .send()
        .await
        .map_err(|e| tend_client::error_chain(&e))?;
    let status = resp.status();
    if status.is_success() {
        Ok(())
    } else if status.is_redirection() {
        let to = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?");
        Err(format!(
            "HTTP {}: a redirect to {} (webhooks never follow redirects)",
            status.as_u16(),
            tend_shared::text::clip(to, 300)
        ))
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

/// Sends due deliveries once — each target's queue in order, the targets side by side
/// — and returns when the next one is due (ms epoch), if any.
pub async fn deliver_due(
    state: &AppState,
    sender: &Sender,
    base: Duration,
) -> Result<Option<u64>, ApiError> {
    let policy = crate::webhooks::targets::current(state).await;
    *sender
        .resolver
        .policy
        .write()
        .unwrap_or_else(|p| p.into_inner()) = policy;
    let now = state.now_ms();
    let mut r = state.store.read();
    let hooks = r.webhooks().await?;
    let mut per_hook: std::collections::BTreeMap<String, Vec<Delivery>> = Default::default();
    let mut orphans = Vec::new();
    for d in r.deliveries(10_000).await? {
        if hooks.iter().any(|w| w.id == d.webhook_id) {
            per_hook.entry(d.webhook_id.clone()).or_default().push(d);
        } else {
            orphans.push(d.id);
        }
    }
    if !orphans.is_empty() {
        crate::atomic!(state.store, tx => {
            for id in &orphans {
                tx.remove_delivery(*id);
            }
            Ok(())
        })?;
    }
    let runs = per_hook.into_iter().map(|(id, queue)| {
        let w = hooks.iter().find(|w| w.id == id).cloned();
        async move {
            match w {
                Some(w) => deliver_queue(state, sender, policy, base, &w, queue, now).await,
                None => Ok(None),
            }
        }
    });
    let mut next: Option<u64> = None;
    for r in futures_util::future::join_all(runs).await {
        if let Some(n) = r? {
            next = Some(next.map_or(n, |m| m.min(n)));
        }
    }
    state.store.flush().await?;
    Ok(next)
}

/// One target's due deliveries, oldest first; a failure leaves the rest of its queue
/// for the retry (order kept).
async fn deliver_queue(
    state: &AppState,
    sender: &Sender,
    policy: crate::webhooks::targets::TargetPolicy,
    base: Duration,
    w: &WebhookRecord,
    queue: Vec<Delivery>,
    now: u64,
) -> Result<Option<u64>, ApiError> {
    let secret = state.keys.open_secret(&w.secret);
    for mut d in queue {
        if d.next_attempt_ms > now {
            return Ok(Some(d.next_attempt_ms));
        }
        match deliver(sender, policy, w, &secret, &d).await {
            Ok(()) => {
                // durable before the next one goes out: a restart never sends it again
                crate::commit!(state.store, tx => {
                    tx.remove_delivery(d.id);
                    Ok(())
                })?;
            }
            Err(e) => {
                d.attempts += 1;
                d.last_error = Some(e.clone());
                if d.attempts >= MAX_ATTEMPTS {
                    crate::atomic!(state.store, tx => {
                        tx.remove_delivery(d.id);
                        state
                            .audit_in(
                                &mut tx,
                                "system",
                                "webhook.give_up",
                                &w.id,
                                AuditOutcome::Failure,
                                serde_json::json!({"event": d.event, "error": e, "attempts": d.attempts}),
                            )
                            .await?;
                        Ok(())
                    })?;
                    tracing::error!(webhook = %w.id, error = %e, "webhook delivery given up");
                    continue;
                }
                d.next_attempt_ms =
                    state.now_ms() + retry_delay(base, d.attempts).as_millis() as u64;
                crate::atomic!(state.store, tx => {
                    tx.put_delivery(&d);
                    Ok(())
                })?;
                tracing::warn!(webhook = %w.id, error = %e, attempts = d.attempts, "webhook delivery failed; will retry");
                return Ok(Some(d.next_attempt_ms));
            }
        }
    }
    Ok(None)
}

/// The delivery worker: runs until `stop` resolves.
pub async fn run(state: AppState, base: Duration, stop: impl std::future::Future<Output = ()>) {
    let sender = match Sender::new(Duration::from_secs(10)) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client unavailable; webhooks disabled");
            return;
        }
    };
    tokio::pin!(stop);
    loop {
        // one collector delivers at a time; the others look again shortly, so one
        // takes over when the deliverer stops
        let pass = state
            .store
            .exclusive("webhooks", deliver_due(&state, &sender, base))
            .await;
        let next = match pass {
            Ok(Some(Ok(n))) => n,
            Ok(None) => Some(state.now_ms() + 5_000),
            Ok(Some(Err(e))) => {
                tracing::error!(error = %e, "webhook worker");
                Some(state.now_ms() + 5_000)
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook worker");
                Some(state.now_ms() + 5_000)
            }
        };
        let wait = next.map_or(Duration::from_secs(3600), |n| {
            Duration::from_millis(n.saturating_sub(state.now_ms()))
        });
        tokio::select! {
            _ = &mut stop => return,
            _ = state.webhook_wakeup.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_a_known_vector() {
        // RFC 4231 test case 2
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retry_delays_double_and_cap() {
        let b = Duration::from_secs(1);
        assert_eq!(retry_delay(b, 1), Duration::from_secs(1));
        assert_eq!(retry_delay(b, 3), Duration::from_secs(4));
        assert_eq!(retry_delay(b, 30), Duration::from_secs(3600));
    }
}
