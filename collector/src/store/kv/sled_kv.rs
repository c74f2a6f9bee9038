//! The embedded engine: one sled tree holding every key (the default store, nothing
//! to install).
//!
//! A unit of work reads the tree directly and remembers what it read; at commit the
//! single writer thread (`sled_writer`) checks that every value read is unchanged and
//! applies the buffered writes with those of every other unit waiting, as one atomic
//! batch (optimistic concurrency: a changed value answers `Conflict` and the unit
//! runs again). Durability is explicit: [`SledKv::flush`] (group commit) before
//! anything is acknowledged.
//!
//! A full disk, in two steps:
//! - *Low on space* (less than `min_free_mb`, 64 MiB by default, on the store's filesystem,
//!   checked at most once a second): units that write are refused before sled sees
//!   them (507, `/healthz` degraded); reads go on, and writes resume by themselves
//!   once space is back. This keeps sled from ever meeting the end of the disk in
//!   the common case of a disk filling slowly.
//! - *Out of space* (something else filled the last bytes, and a sled write or flush
//!   failed with ENOSPC/EDQUOT): sled keeps that first I/O error for the life of the
//!   open database, so every later write fails, and reads that would reorganise a
//!   page fail too, even once space is back. [`SledKv::recover`] (called every few
//!   seconds) then probes for space and reopens the database in place: the units in
//!   flight finish on the old handle, it closes, the same directory opens again
//!   (sled recovers its log: everything acknowledged was flushed), and writes resume
//!   without a restart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;

use super::sled_writer::Writer;
use super::{Order, Range};
use crate::store::StoreError;

/// The tree every v2 key lives in.
pub const TREE: &str = "kv2";

/// A sled database and its key tree, reopened in place after a full disk.
#[derive(Clone)]
pub struct SledKv(Arc<Handle>);

/// What [`SledKv`] points to.
pub struct Handle {
    dir: PathBuf,
    /// `None` only while the database is being reopened.
    open: RwLock<Option<Arc<SledInner>>>,
    /// Leased number blocks: key → (last handed out, end of the block).
    numbers: tokio::sync::Mutex<HashMap<Vec<u8>, (u64, u64)>>,
    /// A sled write failed for want of space (the reopen clears it).
    disk_full: AtomicBool,
    /// The last free-space check found less than `MIN_FREE_BYTES`.
    low_space: AtomicBool,
    /// When free space was last checked (ms since the Unix epoch).
    space_checked_ms: AtomicU64,
    /// Free bytes below which writes are refused (0: never before the disk is full).
    min_free: AtomicU64,
}

/// One open database.
pub struct SledInner {
    pub(crate) db: sled::Db,
    pub(crate) tree: sled::Tree,
    writer: Writer,
}

/// Numbers leased at once (one writer round per block instead of a hot key per unit).
const NUMBER_BLOCK: u64 = 64;
/// Free space a probe must be able to write before a full store reopens.
const PROBE_BYTES: usize = 8 << 20;
/// Below this much free space on the store's filesystem, writes are refused (the
/// default; `set_min_free`).
pub const MIN_FREE_BYTES: u64 = 64 << 20;

fn bytes(v: sled::IVec) -> Bytes {
    Bytes::from_owner(v)
}

fn reopening() -> StoreError {
    StoreError::DiskFull("the store is reopening after a full disk".into())
}

fn open_inner(dir: &Path) -> Result<SledInner, StoreError> {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(64 << 20)
        .flush_every_ms(Some(500))
        .open()
        .map_err(|e| match e {
            sled::Error::Io(io) if io.to_string().contains("lock") => {
                StoreError::InUse(dir.display().to_string())
            }
            other => other.into(),
        })?;
    let tree = db.open_tree(TREE)?;
    Ok(SledInner {
        writer: Writer::start(db.clone(), tree.clone())?,
        db,
        tree,
    })
}

impl SledKv {
    /// Opens (or creates) the database under `dir`.
    pub fn open(dir: &Path) -> Result<SledKv, StoreError> {
        let inner = open_inner(dir)?;
        Ok(SledKv(Arc::new(Handle {
            dir: dir.to_path_buf(),
            open: RwLock::new(Some(Arc::new(inner))),
            numbers: tokio::sync::Mutex::default(),
            disk_full: AtomicBool::new(false),
            low_space: AtomicBool::new(false),
            space_checked_ms: AtomicU64::new(0),
            min_free: AtomicU64::new(MIN_FREE_BYTES),
        })))
    }

    /// The open database.
    pub(crate) fn inner(&self) -> Result<Arc<SledInner>, StoreError> {
        self.0
            .open
            .read()
            .map_err(|_| StoreError::Transaction("store handle poisoned".into()))?
            .clone()
            .ok_or_else(reopening)
    }

    pub(crate) fn tx(&self, read_only: bool) -> SledTx {
        SledTx {
            kv: self.clone(),
            inner: self.inner().ok(),
            reads: Vec::new(),
            validate: !read_only,
        }
    }

    /// Marks the store full when `r` says so; passes `r` on.
    fn note<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(StoreError::DiskFull(e)) = &r {
            if !self.0.disk_full.swap(true, Ordering::SeqCst) {
                tracing::error!(error = %e, dir = %self.0.dir.display(),
                    "the store's disk is full: writes are refused (507) until space is freed");
            }
        }
        r
    }

    /// Whether the store cannot take writes for want of space: a write found the disk
    /// full (and no reopen has cleared it yet), or the last check found it low.
    pub fn disk_full(&self) -> bool {
        self.0.disk_full.load(Ordering::SeqCst) || self.0.low_space.load(Ordering::SeqCst)
    }

    /// Refuse writes below `bytes` free (0: only when the disk is full).
    pub fn set_min_free(&self, bytes: u64) {
        self.0.min_free.store(bytes, Ordering::SeqCst);
        self.0.space_checked_ms.store(0, Ordering::SeqCst);
    }

    /// Checks free space when the last check is older than a second (`force`: now);
    /// `Err` when it is below `MIN_FREE_BYTES`.
    fn check_space(&self, force: bool) -> Result<(), StoreError> {
        let now = tend_shared::now_ms();
        let last = self.0.space_checked_ms.load(Ordering::Relaxed);
        if force || now.saturating_sub(last) >= 1000 {
            self.0.space_checked_ms.store(now, Ordering::Relaxed);
            if let Ok(st) = nix::sys::statvfs::statvfs(&self.0.dir) {
                let free = st.blocks_available() * st.fragment_size();
                let low = free < self.0.min_free.load(Ordering::SeqCst);
                if low && !self.0.low_space.swap(true, Ordering::SeqCst) {
                    tracing::error!(free_bytes = free, dir = %self.0.dir.display(),
                        "the store's disk is nearly full: writes are refused (507) until space is freed");
                } else if !low && self.0.low_space.swap(false, Ordering::SeqCst) {
                    tracing::info!(
                        free_bytes = free,
                        "space is back: the store takes writes again"
                    );
                }
            }
        }
        if self.0.low_space.load(Ordering::SeqCst) {
            return Err(StoreError::DiskFull(format!(
                "less than {} MiB free on the store's filesystem",
                self.0.min_free.load(Ordering::SeqCst) >> 20
            )));
        }
        Ok(())
    }

    /// When the disk was full and space is back, reopens the database so writes
    /// resume; `Ok(true)` when it did.
    pub async fn recover(&self) -> Result<bool, StoreError> {
        let _ = self.check_space(true);
        if !self.0.disk_full.load(Ordering::SeqCst)
            || self.0.low_space.load(Ordering::SeqCst)
            || !space_is_back(&self.0.dir)
        {
            return Ok(false);
        }
        let old = {
            let mut open = self.0.open.write().map_err(|_| reopening())?;
            open.take()
        };
        if let Some(old) = old {
            // units in flight finish on the old handle; then it closes (and its lock goes)
            for _ in 0..500 {
                if Arc::strong_count(&old) == 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if Arc::strong_count(&old) > 1 {
                *self.0.open.write().map_err(|_| reopening())? = Some(old);
                return Ok(false);
            }
            drop(old);
        }
        let mut last = None;
        for _ in 0..100 {
            match open_inner(&self.0.dir) {
                Ok(inner) => {
                    *self.0.open.write().map_err(|_| reopening())? = Some(Arc::new(inner));
                    self.0.disk_full.store(false, Ordering::SeqCst);
                    tracing::info!(dir = %self.0.dir.display(), "space is back: the store reopened and takes writes again");
                    return Ok(true);
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Err(last.unwrap_or_else(reopening))
    }

    /// A fresh, strictly increasing id (survives restarts).
    pub fn next_id(&self) -> Result<u64, StoreError> {
        let r = self.inner().and_then(|i| Ok(i.db.generate_id()?));
        self.note(r)
    }

    /// The next number under `key` (see `kv::Sequence`), from a block leased through
    /// the writer: the lease is applied before any unit that uses its numbers, so the
    /// flush that makes such a unit durable makes the lease durable too.
    pub(crate) async fn next_number(&self, key: &[u8]) -> Result<u64, StoreError> {
        let mut leases = self.0.numbers.lock().await;
        let lease = leases.entry(key.to_vec()).or_insert((0, 0));
        while lease.0 >= lease.1 {
            self.check_space(false)?;
            let inner = self.inner()?;
            let cur = inner.tree.get(key)?;
            let last = super::sequence_value(cur.as_deref());
            let end = last + NUMBER_BLOCK;
            let write = Bytes::copy_from_slice(&end.to_be_bytes());
            let r = inner
                .writer
                .commit(vec![(key.to_vec(), cur)], vec![(key.to_vec(), Some(write))])
                .await;
            match self.note(r) {
                Ok(()) => *lease = (last, end),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        lease.0 += 1;
        Ok(lease.0)
    }

    /// Gives the unused rest of every lease back (at a clean stop), so numbering goes
    /// on without a gap after a restart.
    pub(crate) async fn release_numbers(&self) -> Result<(), StoreError> {
        let inner = self.inner()?;
        let mut leases = self.0.numbers.lock().await;
        for (k, (last, end)) in leases.iter_mut() {
            let cur = inner.tree.get(k.as_slice())?;
            if *last >= *end || super::sequence_value(cur.as_deref()) != *end {
                continue;
            }
            let write = Bytes::copy_from_slice(&last.to_be_bytes());
            match inner
                .writer
                .commit(vec![(k.clone(), cur)], vec![(k.clone(), Some(write))])
                .await
            {
                Ok(()) | Err(StoreError::Conflict) => *end = *last,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.inner()
            .ok()
            .and_then(|i| i.db.size_on_disk().ok())
            .unwrap_or(0)
    }

    /// Makes everything committed so far durable (group commit on the writer thread:
    /// returns once a flush that started after this call has completed).
    ///
    /// Not `sled::Db::flush_async`: in sled 0.34 it runs on sled's own small thread
    /// pool and waits there for a log write queued on that same pool, so a handful of
    /// concurrent callers deadlock it for good.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let r = match self.inner() {
            Ok(i) => i.writer.flush().await,
            Err(e) => Err(e),
        };
        self.note(r)
    }

    /// Reads every key and value as of now, in key order, while writes go on (see
    /// `sled_snapshot`). Blocking: run it off the async runtime.
    pub fn snapshot(
        &self,
        f: impl FnMut(&[u8], &[u8]) -> std::io::Result<()>,
    ) -> Result<(), super::sled_snapshot::SnapshotError> {
        let inner = self.inner().map_err(|e| {
            super::sled_snapshot::SnapshotError::Io(std::io::Error::other(e.to_string()))
        })?;
        inner.writer.snapshots().read(&inner.tree, f)
    }

    /// Flushes run so far (far fewer than calls under load).
    pub fn flushes(&self) -> u64 {
        self.inner().map_or(0, |i| i.writer.flushes())
    }

    /// Synchronous flush, for commands outside an async context.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.inner()?.db.flush()?;
        Ok(())
    }
}

/// Whether `PROBE_BYTES` can be written (and synced) in `dir` again.
fn space_is_back(dir: &Path) -> bool {
    use std::io::Write;
    let probe = dir.join(".tend-space-probe");
    let ok = std::fs::File::create(&probe)
        .and_then(|mut f| {
            f.write_all(&vec![0u8; PROBE_BYTES])?;
            f.sync_all()
        })
        .is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

/// A sled unit of work: reads straight from the tree, validated at commit.
pub(crate) struct SledTx {
    kv: SledKv,
    /// The database this unit reads (`None`: it began while the store was reopening).
    inner: Option<Arc<SledInner>>,
    reads: Vec<(Vec<u8>, Option<sled::IVec>)>,
    validate: bool,
}

impl SledTx {
    pub(crate) fn kv(&self) -> &SledKv {
        &self.kv
    }

    fn db(&self) -> Result<&SledInner, StoreError> {
        self.inner.as_deref().ok_or_else(reopening)
    }

    pub(crate) fn next_id(&self) -> Result<u64, StoreError> {
        let r = self.db().and_then(|i| Ok(i.db.generate_id()?));
        self.kv.note(r)
    }

    pub(crate) fn get(&mut self, k: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let v = self.db()?.tree.get(k)?;
        if self.validate {
            self.reads.push((k.to_vec(), v.clone()));
        }
        Ok(v.map(bytes))
    }

    pub(crate) fn get_many(&mut self, keys: &[Vec<u8>]) -> Result<Vec<Option<Bytes>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    pub(crate) fn scan(
        &mut self,
        range: &Range,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        let iter = self
            .db()?
            .tree
            .range(range.start.as_slice()..range.end.as_slice());
        let mut out = Vec::new();
        let mut push = |item: sled::Result<(sled::IVec, sled::IVec)>| -> Result<bool, StoreError> {
            let (k, v) = item?;
            out.push((bytes(k), bytes(v)));
            Ok(out.len() < limit)
        };
        match order {
            Order::Asc => {
                for item in iter {
                    if !push(item)? {
                        break;
                    }
                }
            }
            Order::Desc => {
                for item in iter.rev() {
                    if !push(item)? {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn count(&mut self, range: &Range) -> Result<u64, StoreError> {
        let mut n = 0u64;
        for k in self
            .db()?
            .tree
            .range(range.start.as_slice()..range.end.as_slice())
            .keys()
        {
            k?;
            n += 1;
        }
        Ok(n)
    }

    /// Hands the unit to the writer thread: validated there against what it read
    /// (`Conflict` when something changed), applied atomically with the other units
    /// waiting at the time.
    pub(crate) async fn commit(
        self,
        writes: Vec<(Vec<u8>, Option<Bytes>)>,
    ) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.kv.check_space(false)?;
        let r = match &self.inner {
            Some(i) => i.writer.commit(self.reads, writes).await,
            None => Err(reopening()),
        };
        self.kv.note(r)
    }
}
