//! Storage: the only module that touches sled. Everything above it (services, handlers)
//! calls these typed methods, so a second backend can replace this folder alone.
//!
//! Values are JSON; keys are big-endian so range scans come out in time order.
//! Callers flush (`Store::flush`) before they acknowledge anything that must survive.

mod assets;
mod audit;
mod devices;
mod enrollment;
mod events;
mod jobs;
mod releases;
mod tickets;
mod tokens;
mod users;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use assets::{normalize_serial, AssetRecord};
pub use audit::AuditFilter;
pub use devices::{DeviceFilter, DeviceRecord};
pub use enrollment::{ReenrollRequest, TokenUse};
pub use jobs::BulkRecord;
pub use releases::ARTIFACT_CHUNK;
pub use tickets::{Delivery, TicketRecord, WebhookRecord};
pub use tokens::{new_token, token_hash, TokenKind, TokenRecord};
pub use users::UserRecord;

/// Storage failures. Handlers map these to 500 and log the detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(sled::Error),
    #[error("corrupt record in {tree}: {error}")]
    Corrupt {
        tree: &'static str,
        error: serde_json::Error,
    },
    #[error("transaction: {0}")]
    Transaction(String),
}

// the message carries the cause, so it is not also a `source` (no repeated text)
impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Sled(e)
    }
}

/// Typed access to every sled tree.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    devices: sled::Tree,
    hw_index: sled::Tree,
    inventory: sled::Tree,
    health: sled::Tree,
    events: sled::Tree,
    events_by_time: sled::Tree,
    assets: sled::Tree,
    serial_index: sled::Tree,
    audit: sled::Tree,
    tokens: sled::Tree,
    token_ids: sled::Tree,
    users: sled::Tree,
    user_names: sled::Tree,
    enroll_tokens: sled::Tree,
    enroll_token_ids: sled::Tree,
    reenroll_requests: sled::Tree,
    meta: sled::Tree,
    tickets: sled::Tree,
    ticket_open: sled::Tree,
    ticket_last: sled::Tree,
    ticket_requests: sled::Tree,
    ticket_timeline: sled::Tree,
    problems: sled::Tree,
    webhooks: sled::Tree,
    outbox: sled::Tree,
    deflections: sled::Tree,
    flusher: std::sync::Arc<Flusher>,
    scripts: sled::Tree,
    script_names: sled::Tree,
    jobs: sled::Tree,
    job_queue: sled::Tree,
    job_open: sled::Tree,
    device_jobs: sled::Tree,
    bulk: sled::Tree,
    releases: sled::Tree,
    release_artifacts: sled::Tree,
    rollout_outcomes: sled::Tree,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("serializing a store record cannot fail")
}

pub(crate) fn from_json<T: DeserializeOwned>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        tree,
        error: source,
    })
}

impl Store {
    /// Opens (or creates) the store under `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(64 << 20)
            .flush_every_ms(Some(500))
            .open()?;
        Store {
            devices: db.open_tree("devices")?,
            hw_index: db.open_tree("devices_by_hw")?,
            inventory: db.open_tree("inventory")?,
            health: db.open_tree("health")?,
            events: db.open_tree("events")?,
            events_by_time: db.open_tree("events_by_time")?,
            assets: db.open_tree("assets")?,
            serial_index: db.open_tree("assets_by_serial")?,
            audit: db.open_tree("audit")?,
            tokens: db.open_tree("tokens")?,
            token_ids: db.open_tree("token_ids")?,
            users: db.open_tree("users")?,
            user_names: db.open_tree("user_names")?,
            enroll_tokens: db.open_tree("enroll_tokens")?,
            enroll_token_ids: db.open_tree("enroll_token_ids")?,
            reenroll_requests: db.open_tree("reenroll_requests")?,
            meta: db.open_tree("meta")?,
            tickets: db.open_tree("tickets")?,
            ticket_open: db.open_tree("tickets_open")?,
            ticket_last: db.open_tree("tickets_last")?,
            ticket_requests: db.open_tree("ticket_requests")?,
            ticket_timeline: db.open_tree("ticket_timeline")?,
            problems: db.open_tree("problems")?,
            webhooks: db.open_tree("webhooks")?,
            outbox: db.open_tree("webhook_outbox")?,
            deflections: db.open_tree("deflections")?,
            flusher: std::sync::Arc::default(),
            scripts: db.open_tree("scripts")?,
            script_names: db.open_tree("script_names")?,
            jobs: db.open_tree("jobs")?,
            job_queue: db.open_tree("job_queue")?,
            job_open: db.open_tree("job_open")?,
            device_jobs: db.open_tree("device_jobs")?,
            bulk: db.open_tree("bulk")?,
            releases: db.open_tree("releases")?,
            release_artifacts: db.open_tree("release_artifacts")?,
            rollout_outcomes: db.open_tree("rollout_outcomes")?,
            db,
        }
        .backfilled()
    }

    fn backfilled(self) -> Result<Store, StoreError> {
        self.backfill()?;
        Ok(self)
    }

    /// Makes everything written so far durable. Call after writing, before
    /// acknowledging.
    ///
    /// Group commit: callers that arrive while a flush runs share the next one, so a
    /// burst of N requests costs about two fsyncs, not N. A caller returns once a flush
    /// that *started after its call* has completed, which covers its writes.
    ///
    /// Not `sled::Db::flush_async`: in sled 0.34 it runs on sled's own small thread
    /// pool and waits there for a log write queued on that same pool, so a handful of
    /// concurrent callers (e.g. 40 enrollments at once) deadlock it for good. The
    /// synchronous flush on tokio's blocking pool leaves sled's pool free to write.
    pub async fn flush(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        let f = &self.flusher;
        let mine = f.requested.fetch_add(1, SeqCst) + 1;
        let _turn = f.lock.lock().await;
        if f.completed.load(SeqCst) >= mine {
            return Ok(());
        }
        // every call registered so far wrote before registering: this flush covers them
        let covers = f.requested.load(SeqCst);
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Transaction(format!("flush task: {e}")))??;
        f.completed.fetch_max(covers, SeqCst);
        Ok(())
    }

    /// One-time index backfills for stores from before an index existed.
    fn backfill(&self) -> Result<(), StoreError> {
        if self.meta.get("job_open_indexed")?.is_none() {
            for item in self.jobs.iter() {
                let (_, v) = item?;
                let j: tend_shared::jobs::JobView = from_json("jobs", &v)?;
                if !j.state.is_final() {
                    let mut k = j.device_id.as_bytes().to_vec();
                    k.push(0);
                    k.extend_from_slice(j.id.as_bytes());
                    self.job_open.insert(k, &[])?;
                }
            }
            self.meta.insert("job_open_indexed", &[1u8])?;
        }
        Ok(())
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// A fresh, strictly increasing id (survives restarts).
    pub fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// Reads a small JSON value from the meta tree.
    pub fn meta_get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.meta
            .get(key)?
            .map(|v| from_json("meta", &v))
            .transpose()
    }

    /// Writes a small JSON value to the meta tree.
    pub fn meta_put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        self.meta.insert(key, to_json(value))?;
        Ok(())
    }
}

/// Group-commit bookkeeping for `Store::flush`.
#[derive(Debug, Default)]
pub struct Flusher {
    /// Calls registered (each after its writes).
    requested: std::sync::atomic::AtomicU64,
    /// Highest registration number a completed flush covers.
    completed: std::sync::atomic::AtomicU64,
    /// One flush at a time.
    lock: tokio::sync::Mutex<()>,
}

/// A random lowercase hex id of `2 * N` characters.
pub fn random_hex_id<const N: usize>() -> String {
    hex::encode(crate::pki::random_bytes::<N>())
}

#[cfg(test)]
pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    (dir, store)
}

impl Store {
    /// Synchronous flush, for CLI commands outside the runtime's async context.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
