//! The embedded engine: one sled tree holding every key (the default store, nothing
//! to install).
//!
//! A unit of work reads the tree directly and remembers what it read; at commit the
//! single writer thread (`sled_writer`) checks that every value read is unchanged and
//! applies the buffered writes with those of every other unit waiting, as one atomic
//! batch (optimistic concurrency: a changed value answers `Conflict` and the unit
//! runs again). Durability is explicit: [`SledKv::flush`] (group commit) before
//! anything is acknowledged.

use std::sync::Arc;

use bytes::Bytes;

use super::sled_writer::Writer;
use super::{Order, Range};
use crate::store::StoreError;

/// The tree every v2 key lives in.
pub const TREE: &str = "kv2";

/// A sled database and its key tree (one pointer: a unit of work clones it once).
#[derive(Clone)]
pub struct SledKv(Arc<SledInner>);

/// What [`SledKv`] points to.
pub struct SledInner {
    pub(crate) db: sled::Db,
    pub(crate) tree: sled::Tree,
    writer: Writer,
}

impl std::ops::Deref for SledKv {
    type Target = SledInner;
    fn deref(&self) -> &SledInner {
        &self.0
    }
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
        Ok(SledKv(Arc::new(SledInner {
            writer: Writer::start(db.clone(), tree.clone())?,
            db,
            tree,
        })))
    }

    pub(crate) fn tx(&self, read_only: bool) -> SledTx {
        SledTx {
            kv: self.clone(),
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

    /// Makes everything committed so far durable (group commit on the writer thread:
    /// returns once a flush that started after this call has completed).
    ///
    /// Not `sled::Db::flush_async`: in sled 0.34 it runs on sled's own small thread
    /// pool and waits there for a log write queued on that same pool, so a handful of
    /// concurrent callers deadlock it for good.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.writer.flush().await
    }

    /// Flushes run so far (far fewer than calls under load).
    pub fn flushes(&self) -> u64 {
        self.writer.flushes()
    }

    /// Synchronous flush, for commands outside an async context.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// A sled unit of work: reads straight from the tree, validated at commit.
pub(crate) struct SledTx {
    kv: SledKv,
    reads: Vec<(Vec<u8>, Option<sled::IVec>)>,
    validate: bool,
}

impl SledTx {
    pub(crate) fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.kv.db.generate_id()?)
    }

    pub(crate) fn get(&mut self, k: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let v = self.kv.tree.get(k)?;
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
            .kv
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
            .kv
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
        self.kv.writer.commit(self.reads, writes).await
    }
}
