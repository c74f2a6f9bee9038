//! The embedded engine: one sled tree holding every key (the default store, nothing
//! to install).
//!
//! A unit of work reads the tree directly and remembers what it read; at commit one
//! sled transaction checks that every value read is unchanged and applies the
//! buffered writes (optimistic concurrency: a changed value aborts with
//! `Conflict` and the unit runs again). A unit that read nothing commits as one
//! atomic batch. Durability is explicit: [`SledKv::flush`] (group commit) before
//! anything is acknowledged.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

use bytes::Bytes;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{Order, Range};
use crate::store::StoreError;

/// The tree every v2 key lives in.
pub const TREE: &str = "kv2";

/// A sled database and its key tree.
#[derive(Clone)]
pub struct SledKv {
    pub(crate) db: sled::Db,
    pub(crate) tree: sled::Tree,
    flusher: Arc<Flusher>,
}

/// Group-commit bookkeeping for `flush`.
#[derive(Debug, Default)]
struct Flusher {
    /// Calls registered (each after its writes).
    requested: AtomicU64,
    /// Highest registration number a completed flush covers.
    completed: AtomicU64,
    /// One flush at a time.
    lock: tokio::sync::Mutex<()>,
}

fn bytes(v: sled::IVec) -> Bytes {
    Bytes::from_owner(v)
}

impl SledKv {
    /// Opens (or creates) the database under `dir`.
    pub fn open(dir: &std::path::Path) -> Result<SledKv, StoreError> {
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
        Ok(SledKv {
            db,
            tree,
            flusher: Arc::default(),
        })
    }

    pub(crate) fn tx(&self, read_only: bool) -> SledTx {
        SledTx {
            db: self.db.clone(),
            tree: self.tree.clone(),
            reads: Vec::new(),
            validate: !read_only,
        }
    }

    /// A fresh, strictly increasing id (survives restarts).
    pub fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Makes everything committed so far durable.
    ///
    /// Group commit: callers that arrive while a flush runs share the next one, so a
    /// burst of N requests costs about two fsyncs, not N. A caller returns once a flush
    /// that *started after its call* has completed, which covers its writes.
    ///
    /// Not `sled::Db::flush_async`: in sled 0.34 it runs on sled's own small thread
    /// pool and waits there for a log write queued on that same pool, so a handful of
    /// concurrent callers deadlock it for good. The synchronous flush on tokio's
    /// blocking pool leaves sled's pool free to write.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let f = &self.flusher;
        let mine = f.requested.fetch_add(1, SeqCst) + 1;
        let _turn = f.lock.lock().await;
        if f.completed.load(SeqCst) >= mine {
            return Ok(());
        }
        let covers = f.requested.load(SeqCst);
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Transaction(format!("flush task: {e}")))??;
        f.completed.fetch_max(covers, SeqCst);
        Ok(())
    }

    /// Synchronous flush, for commands outside an async context.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// A sled unit of work: reads straight from the tree, validated at commit.
pub(crate) struct SledTx {
    db: sled::Db,
    tree: sled::Tree,
    reads: Vec<(Vec<u8>, Option<sled::IVec>)>,
    validate: bool,
}

impl SledTx {
    pub(crate) fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    pub(crate) fn get(&mut self, k: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let v = self.tree.get(k)?;
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
            .tree
            .range(range.start.as_slice()..range.end.as_slice())
            .keys()
        {
            k?;
            n += 1;
        }
        Ok(n)
    }

    pub(crate) fn commit(self, writes: Vec<(Vec<u8>, Option<Bytes>)>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        if self.reads.is_empty() {
            let mut batch = sled::Batch::default();
            for (k, v) in writes {
                match v {
                    Some(v) => batch.insert(k, v.as_ref()),
                    None => batch.remove(k),
                }
            }
            self.tree.apply_batch(batch)?;
            return Ok(());
        }
        let reads = self.reads;
        let result = self.tree.transaction(|t| {
            for (k, seen) in &reads {
                if t.get(k)? != *seen {
                    return Err(ConflictableTransactionError::Abort(()));
                }
            }
            for (k, v) in &writes {
                match v {
                    Some(v) => {
                        t.insert(k.as_slice(), v.as_ref())?;
                    }
                    None => {
                        t.remove(k.as_slice())?;
                    }
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(())) => Err(StoreError::Conflict),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }
}
