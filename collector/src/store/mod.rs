//! Storage: typed records, indexes and counters over one ordered key-value boundary
//! (`kv`) with two engines, sled (embedded, the default) and PostgreSQL (shared by
//! several collectors). Everything above calls the typed methods on [`Tx`] (a unit of
//! work) through [`Store::read`] or the [`atomic!`](crate::atomic) macro, so a logical
//! change (ticket + indexes + timeline + audit) commits all or nothing on either
//! engine, and conflicting units retry instead of holding a lock.
//!
//! Durability is explicit: callers `flush` before they acknowledge anything (sled
//! fsyncs with group commit; on PostgreSQL a commit is already durable).

pub mod audit;
pub mod backup;
pub mod counters;
pub mod keys;
pub mod kv;
mod legacy;
pub use legacy::LAYOUT;
pub mod paging;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
pub(crate) use fixtures::{device as conformance_device, ticket as conformance_ticket};

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use audit::AuditFilter;
pub use counters::Counts;
pub use kv::pg::PgOptions;
pub use kv::Tx;
pub use legacy::dump_batch;
pub use paging::{Cursor, Page};

use kv::Kv;

/// Storage failures. Handlers map conflicts and an unreachable database to 503, the
/// rest to 500, and log the detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(sled::Error),
    #[error("database: {0}")]
    Pg(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Another process holds the embedded store.
    #[error("the store {0} is in use by another process")]
    InUse(String),
    #[error("database schema: {0}")]
    Schema(String),
    /// Another unit of work changed what this one read; run it again.
    #[error("conflicting concurrent change; try again")]
    Conflict,
    #[error("corrupt record in {what}: {error}")]
    Corrupt {
        what: &'static str,
        error: serde_json::Error,
    },
    #[error("transaction: {0}")]
    Transaction(String),
    /// The store's disk (or quota) is full: writes wait until space is back.
    #[error("the store's disk is full: {0}")]
    DiskFull(String),
}

// the message carries the cause, so it is not also a `source` (no repeated text)
impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match &e {
            sled::Error::Io(io) if is_disk_full(io) => StoreError::DiskFull(io.to_string()),
            _ => StoreError::Sled(e),
        }
    }
}

/// Whether `e` says the disk or the user's quota is full (ENOSPC, EDQUOT).
pub fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28 | 122))
        // sled keeps the first I/O error and hands out copies that only keep its text
        || e.to_string().contains("No space left on device")
}

/// An error a unit of work may end with: conflicts make it run again.
pub trait Retryable {
    fn is_conflict(&self) -> bool;
}

impl Retryable for StoreError {
    fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict)
    }
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Sled,
    Postgres,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Sled => "sled",
            EngineKind::Postgres => "postgres",
        }
    }
}

/// The store: an engine plus the signal fan-out.
#[derive(Clone)]
pub struct Store {
    kv: Kv,
    signals: tokio::sync::broadcast::Sender<String>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("engine", &self.engine().as_str())
            .finish_non_exhaustive()
    }
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("serializing a store record cannot fail")
}

pub(crate) fn from_json<T: DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        what,
        error: source,
    })
}

/// How many times a unit of work runs before a conflict is reported (503).
const MAX_ATTEMPTS: u32 = 64;

/// What [`Store::settle`] decided.
pub enum Settled<T> {
    Done(T),
    Again,
}

impl Store {
    fn with(kv: Kv) -> Store {
        Store {
            kv,
            signals: tokio::sync::broadcast::channel(4096).0,
        }
    }

    /// Opens (or creates) the sled store under `dir`, upgrading a store from before
    /// the single key space in place.
    pub fn open(dir: &std::path::Path) -> Result<Store, StoreError> {
        let kv = kv::sled_kv::SledKv::open(dir)?;
        legacy::upgrade(&kv)?;
        Ok(Store::with(Kv::Sled(kv)))
    }

    /// Connects to PostgreSQL (migrating its schema) and starts listening for other
    /// collectors' signals.
    pub async fn connect(opts: &PgOptions) -> Result<Store, StoreError> {
        let pg = kv::pg::PgKv::connect(opts).await?;
        let store = Store::with(Kv::Pg(Box::new(pg.clone())));
        let tx = store.signals.clone();
        tokio::spawn(async move { pg.listen(tx).await });
        Ok(store)
    }

    pub fn engine(&self) -> EngineKind {
        match self.kv {
            Kv::Sled(_) => EngineKind::Sled,
            Kv::Pg(_) => EngineKind::Postgres,
        }
    }

    /// A read-only view of the latest committed data.
    pub fn read(&self) -> Tx {
        self.kv.read()
    }

    /// A unit of work; prefer [`atomic!`](crate::atomic), which commits and retries.
    pub fn begin(&self) -> Tx {
        self.kv.begin()
    }

    /// Ends one run of a unit of work: commits when it succeeded, rolls back when it
    /// failed; `Again` when it should run again (a conflict, with a short random
    /// back-off growing with the attempt).
    pub async fn settle<T, E>(&self, tx: Tx, r: Result<T, E>, attempt: u32) -> Settled<Result<T, E>>
    where
        E: From<StoreError> + Retryable,
    {
        let conflict = match r {
            Ok(v) => match tx.commit().await {
                Ok(signals) => {
                    self.publish(signals);
                    return Settled::Done(Ok(v));
                }
                Err(e) if e.is_conflict() => e,
                Err(e) => return Settled::Done(Err(e.into())),
            },
            Err(e) => {
                tx.rollback().await;
                if !e.is_conflict() {
                    return Settled::Done(Err(e));
                }
                StoreError::Conflict
            }
        };
        if attempt + 1 >= MAX_ATTEMPTS {
            return Settled::Done(Err(conflict.into()));
        }
        let spread = 1u64 << attempt.min(6);
        let jitter = u64::from(crate::pki::random_bytes::<1>()[0]) % spread;
        if jitter > 0 {
            tokio::time::sleep(std::time::Duration::from_micros(jitter * 250)).await;
        } else {
            tokio::task::yield_now().await;
        }
        Settled::Again
    }

    /// Publishes signals in this process (PostgreSQL also carries them to the other
    /// collectors, and echoes them back here: receivers treat them as idempotent).
    pub fn publish(&self, signals: Vec<String>) {
        for s in signals {
            let _ = self.signals.send(s);
        }
    }

    /// Signals from every collector (`job:<device>`, `results`, `policy`, …; `*` after
    /// a listener reconnect: re-check everything).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.signals.subscribe()
    }

    /// Makes everything committed so far durable. Call before acknowledging.
    pub async fn flush(&self) -> Result<(), StoreError> {
        match &self.kv {
            Kv::Sled(s) => s.flush().await,
            Kv::Pg(_) => Ok(()),
        }
    }

    /// Gives back the ticket numbers leased but not used (sled; at a clean stop), so
    /// numbering goes on without a gap after a restart.
    pub async fn release_numbers(&self) -> Result<(), StoreError> {
        match &self.kv {
            Kv::Sled(s) => s.release_numbers().await,
            Kv::Pg(_) => Ok(()),
        }
    }

    /// Flushes run so far (sled group commit; PostgreSQL commits need none).
    pub fn flushes(&self) -> u64 {
        match &self.kv {
            Kv::Sled(s) => s.flushes(),
            Kv::Pg(_) => 0,
        }
    }

    /// Synchronous flush, for CLI commands outside the runtime's async context.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        match &self.kv {
            Kv::Sled(s) => s.flush_blocking(),
            Kv::Pg(_) => Ok(()),
        }
    }

    /// A fresh id, unique and increasing per collector (audit seqs, timeline keys).
    pub async fn next_id(&self) -> Result<u64, StoreError> {
        match &self.kv {
            Kv::Sled(s) => s.next_id(),
            Kv::Pg(p) => p.next_id().await,
        }
    }

    /// Why the store cannot take writes right now, if it cannot (`/healthz`).
    pub fn degraded(&self) -> Option<&'static str> {
        match &self.kv {
            Kv::Sled(s) if s.disk_full() => Some("disk full"),
            _ => None,
        }
    }

    /// Refuse writes while less than `bytes` are free on the sled store's filesystem.
    pub fn set_min_free(&self, bytes: u64) {
        if let Kv::Sled(s) = &self.kv {
            s.set_min_free(bytes);
        }
    }

    /// Reopens a store whose disk was full once space is back; `true` when it did.
    pub async fn recover(&self) -> Result<bool, StoreError> {
        match &self.kv {
            Kv::Sled(s) => s.recover().await,
            Kv::Pg(_) => Ok(false),
        }
    }

    /// Bytes the store occupies on disk (sled; 0 on PostgreSQL).
    pub fn size_on_disk(&self) -> u64 {
        match &self.kv {
            Kv::Sled(s) => s.size_on_disk(),
            Kv::Pg(_) => 0,
        }
    }

    /// Runs `f` unless another collector is running the task `name` right now
    /// (PostgreSQL advisory lock; a sled store has one collector). `None` when skipped.
    pub async fn exclusive<T>(
        &self,
        name: &str,
        f: impl std::future::Future<Output = T>,
    ) -> Result<Option<T>, StoreError> {
        match &self.kv {
            Kv::Sled(_) => Ok(Some(f.await)),
            Kv::Pg(p) => {
                let h = sha2::Digest::finalize(sha2::Digest::chain_update(
                    <sha2::Sha256 as sha2::Digest>::new(),
                    name.as_bytes(),
                ));
                let key = i64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
                p.exclusive(key, f).await
            }
        }
    }

    /// The engine (migration and conformance tests).
    pub fn kv(&self) -> &Kv {
        &self.kv
    }
}

/// Runs a unit of work against a [`Store`], committing it, and running it again when
/// it conflicted with another one. The body is an expression evaluating to
/// `Result<T, E>` (`ApiError` unless named) and may use `?`:
///
/// ```text
/// let n = atomic!(state.store, tx => {
///     let d = tx.device(id).await?;
///     tx.put_device(&d)?;
///     Ok(d)
/// })?;
/// ```
#[macro_export]
macro_rules! atomic {
    ($store:expr, $tx:ident => $body:expr) => {
        $crate::atomic!($store, $tx: $crate::error::ApiError => $body)
    };
    ($store:expr, $tx:ident : $err:ty => $body:expr) => {{
        let store: &$crate::store::Store = &$store;
        let mut attempt = 0u32;
        loop {
            #[allow(unused_mut)]
            let mut $tx = store.begin();
            let r: ::std::result::Result<_, $err> = async { $body }.await;
            match store.settle($tx, r, attempt).await {
                $crate::store::Settled::Done(v) => break v,
                $crate::store::Settled::Again => attempt += 1,
            }
        }
    }};
}

/// The one way a change is made and acknowledged: [`atomic!`](crate::atomic) (commit,
/// retrying on conflict), then [`Store::flush`] so the change is durable before the
/// caller answers. Same forms and result as `atomic!`:
///
/// ```text
/// let d = commit!(state.store, tx => {
///     tx.put_device(&d)?;
///     state.audit_in(&mut tx, actor, "device.rename", &d.id, Success, detail).await?;
///     Ok(d)
/// })?;
/// ```
#[macro_export]
macro_rules! commit {
    ($store:expr, $tx:ident => $body:expr) => {
        $crate::commit!($store, $tx: $crate::error::ApiError => $body)
    };
    ($store:expr, $tx:ident : $err:ty => $body:expr) => {{
        let durable: &$crate::store::Store = &$store;
        match $crate::atomic!(*durable, $tx: $err => $body) {
            Ok(v) => match durable.flush().await {
                Ok(()) => Ok(v),
                Err(e) => Err(<$err>::from(e)),
            },
            Err(e) => Err(e),
        }
    }};
}

impl Tx {
    /// A JSON record.
    pub async fn get_json<T: DeserializeOwned>(
        &mut self,
        what: &'static str,
        k: &[u8],
    ) -> Result<Option<T>, StoreError> {
        self.get(k).await?.map(|v| from_json(what, &v)).transpose()
    }

    /// JSON records under `keys`, in order, missing ones skipped.
    pub async fn get_json_many<T: DeserializeOwned>(
        &mut self,
        what: &'static str,
        keys: &[Vec<u8>],
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for v in self.get_many(keys).await?.into_iter().flatten() {
            out.push(from_json(what, &v)?);
        }
        Ok(out)
    }

    pub fn put_json<T: Serialize>(&mut self, k: Vec<u8>, v: &T) {
        self.put(k, to_json(v));
    }

    /// Every JSON record under `prefix`, in key order (small collections only).
    pub async fn all_json<T: DeserializeOwned>(
        &mut self,
        what: &'static str,
        prefix: &str,
    ) -> Result<Vec<T>, StoreError> {
        let rows = self
            .scan(
                &kv::Range::prefix(prefix.as_bytes()),
                kv::Order::Asc,
                usize::MAX,
            )
            .await?;
        rows.iter().map(|(_, v)| from_json(what, v)).collect()
    }

    /// Reads a small JSON value from `meta/`.
    pub async fn meta_get<T: DeserializeOwned>(
        &mut self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get_json("meta", &keys::k1("meta/", key)).await
    }

    /// Writes a small JSON value to `meta/`.
    pub fn meta_put<T: Serialize>(&mut self, key: &str, value: &T) {
        self.put_json(keys::k1("meta/", key), value);
    }
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
