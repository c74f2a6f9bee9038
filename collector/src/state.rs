//! `AppState`: what every handler and service shares. No globals, so tests can run
//! as many collectors side by side as they like.

use std::sync::{Arc, RwLock};

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use tend_shared::api::{AuditEntry, AuditOutcome};
use tend_shared::policy::Policy;
use tend_shared::tickets::TicketSettings;

use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// Secrets and keys loaded from the data dir.
pub struct Keys {
    pub ca_pem: String,
    pub signing_key: SigningKey,
    enroll_secret_hash: [u8; 32],
    /// The cluster key (PostgreSQL): secrets the collector must use again (webhook
    /// signing secrets) are stored sealed under it.
    cluster_key: Option<[u8; 32]>,
}

const SEALED_PREFIX: &str = "sealed1:";
const SEALED_MAGIC: &[u8] = b"tend-secret-v1";

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

impl Keys {
    pub fn new(ca_pem: String, signing_key: SigningKey, enroll_secret: &str) -> Keys {
        Keys {
            ca_pem,
            signing_key,
            enroll_secret_hash: Sha256::digest(enroll_secret.as_bytes()).into(),
            cluster_key: None,
        }
    }

    /// Seals stored secrets under `key` from now on.
    pub fn with_cluster_key(mut self, key: [u8; 32]) -> Keys {
        self.cluster_key = Some(key);
        self
    }

    /// What to store for a secret: sealed under the cluster key when there is one.
    pub fn seal_secret(&self, plain: &str) -> String {
        match &self.cluster_key {
            Some(k) => format!(
                "{SEALED_PREFIX}{}",
                hex::encode(crate::cluster::seal_with(k, SEALED_MAGIC, plain.as_bytes()))
            ),
            None => plain.to_string(),
        }
    }

    /// A stored secret in the clear (stored before sealing, or without a key: as is;
    /// sealed under another key: empty, so nothing is signed with a wrong secret).
    pub fn open_secret(&self, stored: &str) -> String {
        let Some(hexed) = stored.strip_prefix(SEALED_PREFIX) else {
            return stored.to_string();
        };
        self.cluster_key
            .as_ref()
            .and_then(|k| crate::cluster::open_with(k, SEALED_MAGIC, &hex::decode(hexed).ok()?))
            .and_then(|v| String::from_utf8(v).ok())
            .unwrap_or_default()
    }

    /// Compares a presented enroll secret by hash, in constant time.
    pub fn enroll_secret_matches(&self, presented: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        h.iter()
            .zip(self.enroll_secret_hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    pub fn signing_public_key(&self) -> String {
        tend_shared::signing::public_key_b64(&self.signing_key)
    }
}

/// A device's long-poll slot: at most one poll waits in it; a newer poll takes the
/// slot and the older one answers at once (a device cannot hold many open).
#[derive(Debug, Default)]
pub struct LongPoll {
    pub notify: tokio::sync::Notify,
    generation: std::sync::atomic::AtomicU64,
}

impl LongPoll {
    /// Takes the slot: the previous holder (if any) is woken and will see it lost it.
    pub fn take(&self) -> u64 {
        use std::sync::atomic::Ordering::SeqCst;
        let mine = self.generation.fetch_add(1, SeqCst) + 1;
        self.notify.notify_waiters();
        mine
    }

    /// Whether `generation` still holds the slot.
    pub fn holds(&self, generation: u64) -> bool {
        self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation
    }
}

/// Tunables that are not part of the policy.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Events returned with a device detail.
    pub device_events: usize,
    /// How often the ticket sweep (offline devices, SLA breaches) runs.
    pub sweep_every: std::time::Duration,
    /// First webhook retry delay (doubles per failure).
    pub webhook_retry_base: std::time::Duration,
    /// Rate limits per source address and per device.
    pub rates: crate::limits::RateConfig,
    /// Requests served at once (long-polls aside); past it, a request waits for a
    /// slot (a burst such as a fleet-wide outage is absorbed), up to `max_queued`
    /// of them for at most `queue_wait`; past that, 503 at once.
    pub max_in_flight: usize,
    /// Requests that may wait for a slot at once.
    pub max_queued: usize,
    /// The longest a request waits for a slot before it is answered 503.
    pub queue_wait: std::time::Duration,
    /// Longest any request may take (long-polls wait at most 60 s).
    pub request_timeout: std::time::Duration,
    /// Device events older than this are deleted by the sweep.
    pub event_retention: std::time::Duration,
    /// Accept `http://` webhook URLs to loopback addresses (tests, a local relay);
    /// every other webhook must be https.
    pub allow_http_loopback_webhooks: bool,
    /// Proxies whose `X-Forwarded-For` names the client (see `auth::client_addr`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_limit_bytes: 1 << 20,
            device_events: 50,
            sweep_every: std::time::Duration::from_secs(30),
            webhook_retry_base: std::time::Duration::from_secs(2),
            rates: crate::limits::RateConfig::default(),
            max_in_flight: 4096,
            max_queued: 16_384,
            queue_wait: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(90),
            event_retention: std::time::Duration::from_secs(90 * 86_400),
            allow_http_loopback_webhooks: false,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Shared state of one collector: one pointer, so handing it to every layer of every
/// request is a reference count, not a dozen.
#[derive(Clone, Debug)]
pub struct AppState(Arc<StateInner>);

impl std::ops::Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.0
    }
}

/// What [`AppState`] points to.
#[derive(Debug)]
pub struct StateInner {
    pub store: Store,
    pub clock: SharedClock,
    pub keys: Arc<Keys>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    pub rates: Arc<crate::limits::RateLimits>,
    /// Load shedding: permits for requests in flight.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    /// Requests waiting for an `in_flight` slot.
    pub queued: Arc<tokio::sync::Semaphore>,
    policy: Arc<RwLock<Arc<Policy>>>,
    policy_version: tokio::sync::watch::Sender<u64>,
    shutting_down: tokio::sync::watch::Sender<bool>,
    ticket_settings: Arc<RwLock<TicketSettings>>,
    /// Wakes the webhook worker when a delivery is queued.
    pub webhook_wakeup: Arc<tokio::sync::Notify>,
    /// One long-poll slot per device that has polled.
    job_wakeups: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<LongPoll>>>>,
    /// Wakes analysts waiting on job results.
    pub job_results: Arc<tokio::sync::Notify>,
    /// Approved releases (offers read them on every check-in; any collector's change
    /// to a release invalidates it through the `releases` signal).
    releases: Arc<ReleaseCache>,
}

/// The releases offers are made from, and a generation that changes on every
/// invalidation (a load that raced an invalidation is not kept).
#[derive(Debug, Default)]
struct ReleaseCache {
    cached: RwLock<Option<Arc<Vec<tend_shared::releases::Release>>>>,
    generation: std::sync::atomic::AtomicU64,
    /// Signed offers by (version, platform, sha256, rollback), reused while more than
    /// half their lifetime remains: a device inside a rollout ring costs no ed25519
    /// signature per check-in.
    signed:
        std::sync::Mutex<std::collections::HashMap<String, tend_shared::releases::ReleaseOffer>>,
}

const POLICY_KEY: &str = "policy";
const TICKET_SETTINGS_KEY: &str = "ticket_settings";

impl AppState {
    /// Builds the state, loading the stored policy (or the built-in default), and
    /// starts following the store's signals (other collectors' changes included).
    pub async fn new(
        store: Store,
        clock: SharedClock,
        keys: Keys,
        limits: Limits,
    ) -> Result<AppState, StoreError> {
        let mut r = store.read();
        let policy = r.meta_get::<Policy>(POLICY_KEY).await?.unwrap_or_default();
        let settings = r
            .meta_get::<TicketSettings>(TICKET_SETTINGS_KEY)
            .await?
            .unwrap_or_default();
        let (policy_version, _) = tokio::sync::watch::channel(policy.version);
        let state = AppState(Arc::new(StateInner {
            policy_version,
            shutting_down: tokio::sync::watch::channel(false).0,
            ticket_settings: Arc::new(RwLock::new(settings)),
            webhook_wakeup: Arc::new(tokio::sync::Notify::new()),
            job_wakeups: Arc::default(),
            job_results: Arc::new(tokio::sync::Notify::new()),
            releases: Arc::default(),
            store,
            clock,
            keys: Arc::new(keys),
            metrics: Arc::new(Metrics::default()),
            rates: Arc::new(crate::limits::RateLimits::new(&limits.rates)),
            in_flight: Arc::new(tokio::sync::Semaphore::new(limits.max_in_flight.max(1))),
            queued: Arc::new(tokio::sync::Semaphore::new(limits.max_queued)),
            limits,
            policy: Arc::new(RwLock::new(Arc::new(policy))),
        }));
        tokio::spawn(follow_signals(state.clone(), state.store.subscribe()));
        Ok(state)
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The current policy (shared: a check-in reads it without copying it).
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.read().expect("policy lock poisoned").clone()
    }

    /// Stores a new policy (the caller bumped the version and validated it) in the
    /// caller's unit of work; every collector reloads it once committed.
    pub fn set_policy(&self, tx: &mut crate::store::Tx, policy: &Policy) {
        tx.meta_put(POLICY_KEY, policy);
        tx.signal("policy");
    }

    /// Ticket engine settings (SLA targets, problem detection).
    pub fn ticket_settings(&self) -> TicketSettings {
        self.ticket_settings
            .read()
            .expect("settings lock poisoned")
            .clone()
    }

    /// Stores new ticket settings in the caller's unit; every collector reloads them.
    pub fn set_ticket_settings(&self, tx: &mut crate::store::Tx, s: &TicketSettings) {
        tx.meta_put(TICKET_SETTINGS_KEY, s);
        tx.signal("settings");
    }

    /// Re-reads the policy and settings from the store (after a signal, and right
    /// after this collector committed a change to them).
    pub async fn reload(&self) -> Result<(), StoreError> {
        let mut r = self.store.read();
        if let Some(p) = r.meta_get::<Policy>(POLICY_KEY).await? {
            let version = p.version;
            *self.policy.write().expect("policy lock poisoned") = Arc::new(p);
            self.policy_version.send_if_modified(|v| {
                let changed = *v != version;
                *v = version;
                changed
            });
        }
        if let Some(s) = r.meta_get::<TicketSettings>(TICKET_SETTINGS_KEY).await? {
            *self
                .ticket_settings
                .write()
                .expect("settings lock poisoned") = s;
        }
        Ok(())
    }

    /// Approved, active-or-not releases as offers need them (cached).
    /// A signed offer for `key` still valid until at least `fresh_until_ms`, or a new
    /// one from `sign` (kept for the next check-ins).
    pub fn signed_offer(
        &self,
        key: String,
        fresh_until_ms: u64,
        sign: impl FnOnce() -> tend_shared::releases::ReleaseOffer,
    ) -> tend_shared::releases::ReleaseOffer {
        let mut m = self.releases.signed.lock().expect("offer cache");
        if let Some(o) = m.get(&key).filter(|o| o.expires_at_ms > fresh_until_ms) {
            return o.clone();
        }
        let o = sign();
        if m.len() >= 256 {
            m.clear();
        }
        m.insert(key, o.clone());
        o
    }

    pub async fn releases_for_offers(
        &self,
    ) -> Result<Arc<Vec<tend_shared::releases::Release>>, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if let Some(r) = self.releases.cached.read().expect("cache lock").clone() {
            return Ok(r);
        }
        let generation = self.releases.generation.load(SeqCst);
        let loaded = Arc::new(self.store.read().releases_bare().await?);
        if self.releases.generation.load(SeqCst) == generation {
            *self.releases.cached.write().expect("cache lock") = Some(loaded.clone());
        }
        Ok(loaded)
    }

    fn forget_releases(&self) {
        self.releases
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *self.releases.cached.write().expect("cache lock") = None;
    }

    /// Takes one token of a per-device limit: a 429 with `Retry-After` when spent.
    pub fn device_rate(
        &self,
        limiter: &crate::limits::RateLimiter,
        what: &str,
        device_id: &str,
    ) -> Result<(), crate::error::ApiError> {
        limiter.check(device_id, self.now_ms()).map_err(|wait| {
            crate::error::ApiError::rate_limited(&format!("{what} from this device"), wait)
        })
    }

    /// The long-poll slot of a device (what queued jobs and replacing polls wake).
    pub fn job_wakeup(&self, device_id: &str) -> Arc<LongPoll> {
        self.job_wakeups
            .lock()
            .expect("wakeups lock poisoned")
            .entry(device_id.to_string())
            .or_default()
            .clone()
    }

    /// Marks the collector as stopping: open long-polls answer at once.
    pub fn begin_shutdown(&self) {
        self.shutting_down.send_replace(true);
    }

    /// Resolves once `begin_shutdown` was called.
    pub fn shutdown_signal(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutting_down.subscribe();
        async move {
            let _ = rx.wait_for(|v| *v).await;
        }
    }

    /// Watches the policy version (long-polls wake on a change).
    pub fn watch_policy_version(&self) -> tokio::sync::watch::Receiver<u64> {
        self.policy_version.subscribe()
    }

    /// Appends to the audit log at the current time, in a unit of its own (refusals,
    /// and actions whose change committed already), durable before it returns: a
    /// refusal the caller answers is on disk.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        outcome: AuditOutcome,
        detail: serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        let at = self.now_ms();
        crate::commit!(self.store, tx: StoreError => {
            tx.append_audit(at, actor, action, target, outcome, detail.clone()).await
        })
    }

    /// Appends to the audit log inside the caller's unit of work (committed with the
    /// change it records, or not at all).
    pub async fn audit_in(
        &self,
        tx: &mut crate::store::Tx,
        actor: &str,
        action: &str,
        target: &str,
        outcome: AuditOutcome,
        detail: serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        tx.append_audit(self.now_ms(), actor, action, target, outcome, detail)
            .await
    }
}

/// Applies the store's signals to this collector: wakes long-polls and result
/// waiters, reloads the policy and settings, forgets cached releases.
async fn follow_signals(state: AppState, mut rx: tokio::sync::broadcast::Receiver<String>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let signal = match rx.recv().await {
            Ok(s) => s,
            // missed some: act as if everything changed
            Err(RecvError::Lagged(_)) => "*".to_string(),
            Err(RecvError::Closed) => return,
        };
        let all = signal == "*";
        if let Some(device) = signal.strip_prefix("job:") {
            let poll = state
                .job_wakeups
                .lock()
                .expect("wakeups lock poisoned")
                .get(device)
                .cloned();
            if let Some(p) = poll {
                p.notify.notify_waiters();
            }
        }
        if all {
            let polls: Vec<Arc<LongPoll>> = state
                .job_wakeups
                .lock()
                .expect("wakeups lock poisoned")
                .values()
                .cloned()
                .collect();
            for p in polls {
                p.notify.notify_waiters();
            }
        }
        if all || signal == "results" {
            state.job_results.notify_waiters();
        }
        if all || signal == "webhooks" {
            state.webhook_wakeup.notify_one();
        }
        if all || signal == "releases" {
            state.forget_releases();
        }
        if all || signal == "policy" || signal == "settings" {
            if let Err(e) = state.reload().await {
                tracing::error!(error = %e, "reloading the policy failed");
            }
        }
    }
}
