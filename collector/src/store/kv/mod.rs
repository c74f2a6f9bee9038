//! The ordered key-value boundary under the store, and its unit of work.
//!
//! Two engines implement it: `sled` (embedded, one process) and `pg` (PostgreSQL,
//! shared by any number of collectors). Everything above (`store::*`) is written once
//! against [`Tx`]: point reads, ordered range scans, buffered writes, and an atomic
//! commit that fails with [`StoreError::Conflict`] when something the unit of work
//! read was changed by another one meanwhile; [`super::Store::atomically`] then runs
//! the unit again.
//!
//! The isolation both engines give, and what the layers above rely on:
//! - every key read with [`Tx::get`]/[`Tx::get_many`] and then written, and every key
//!   two units both write, is protected: one of two conflicting units retries
//!   (sled validates the values it read at commit; PostgreSQL runs `REPEATABLE READ`
//!   and reports a serialization failure);
//! - range scans are not protected against phantoms; a rule that must hold across
//!   units (one open ticket per device and problem, consecutive ticket numbers,
//!   counters) is written as a point key both units read and write;
//! - writes are buffered in the unit and sent in one batch at commit, so no lock is
//!   held while the caller computes, and none across a flush.

pub mod pg;
mod pg_tx;
pub mod sled_kv;
pub(crate) mod sled_snapshot;
mod sled_writer;

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;

use super::StoreError;

/// An engine.
#[derive(Clone)]
pub enum Kv {
    Sled(sled_kv::SledKv),
    Pg(Box<pg::PgKv>),
}

impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kv::Sled(_) => "Kv::Sled",
            Kv::Pg(_) => "Kv::Pg",
        })
    }
}

/// One ordered range: `[start, end)`.
#[derive(Debug, Clone)]
pub struct Range {
    pub start: Vec<u8>,
    pub end: Vec<u8>,
}

impl Range {
    /// Every key starting with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Range {
        Range {
            start: prefix.to_vec(),
            end: successor(prefix),
        }
    }

    fn contains(&self, k: &[u8]) -> bool {
        k >= self.start.as_slice() && k < self.end.as_slice()
    }
}

/// The first key after every key that starts with `prefix`.
pub fn successor(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0xff; 9] // the whole keyspace (keys are short ASCII-led strings)
}

/// A named number sequence kept without a hot key: `seq/<name>` holds the end of the
/// last block the sled store leased (a clean stop gives the unused rest back), and
/// on PostgreSQL the sequence `pg` draws them (non-transactional, so concurrent
/// units never conflict on it).
#[derive(Debug, Clone, Copy)]
pub struct Sequence {
    pub name: &'static str,
    pub pg: &'static str,
}

/// The number a `seq/<name>` value holds (8 bytes, big-endian; 0 when absent).
pub fn sequence_value(v: Option<&[u8]>) -> u64 {
    v.and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Ticket numbers (T-1, T-2, …).
pub const TICKET_NUMBERS: Sequence = Sequence {
    name: "ticket",
    pg: "tend_ticket_numbers",
};

/// Scan direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

pub(crate) enum TxEngine {
    Sled(sled_kv::SledTx),
    Pg(Box<pg_tx::PgTx>),
}

/// A unit of work. Reads see the unit's own writes; writes reach the engine only at
/// [`Tx::commit`], all or nothing. A read-only unit ([`Kv::read`]) reads the latest
/// committed data with no transaction around it.
pub struct Tx {
    engine: TxEngine,
    writes: BTreeMap<Vec<u8>, Option<Bytes>>,
    /// Values this unit read (a repeated read costs nothing; on PostgreSQL it would
    /// return the same snapshot anyway).
    cache: std::collections::HashMap<Vec<u8>, Option<Bytes>>,
    /// Wake-up signals published once the unit commits (long-polls, reloads).
    signals: Vec<String>,
    read_only: bool,
    /// A number an earlier run of the same unit drew (handed out again instead of a
    /// new one), and the one this run drew (see [`Tx::next_number`]).
    number_hint: Option<u64>,
    drawn: Option<u64>,
}

impl Kv {
    /// A unit of work that may write.
    pub fn begin(&self) -> Tx {
        self.tx(false)
    }

    /// A read-only view of the latest committed data (no transaction, cheapest).
    pub fn read(&self) -> Tx {
        self.tx(true)
    }

    fn tx(&self, read_only: bool) -> Tx {
        Tx {
            engine: match self {
                Kv::Sled(s) => TxEngine::Sled(s.tx(read_only)),
                Kv::Pg(p) => TxEngine::Pg(Box::new(pg_tx::PgTx::new((**p).clone(), read_only))),
            },
            writes: BTreeMap::new(),
            cache: std::collections::HashMap::new(),
            signals: Vec::new(),
            read_only,
            number_hint: None,
            drawn: None,
        }
    }
}

impl Tx {
    /// The value under `k`.
    pub async fn get(&mut self, k: &[u8]) -> Result<Option<Bytes>, StoreError> {
        if let Some(w) = self.writes.get(k) {
            return Ok(w.clone());
        }
        if let Some(v) = self.cache.get(k) {
            return Ok(v.clone());
        }
        let v = match &mut self.engine {
            TxEngine::Sled(t) => t.get(k)?,
            TxEngine::Pg(t) => t.get(k).await?,
        };
        if !self.read_only {
            self.cache.insert(k.to_vec(), v.clone());
        }
        Ok(v)
    }

    /// A fresh id, unique and increasing per collector.
    pub async fn next_id(&mut self) -> Result<u64, StoreError> {
        match &mut self.engine {
            TxEngine::Sled(t) => t.next_id(),
            TxEngine::Pg(t) => t.next_id().await,
        }
    }

    /// The next number of `seq`: unique and increasing. One sequence per unit: a
    /// unit that ran again reuses its earlier number when told to
    /// ([`Tx::reuse_number`]); numbers drawn by a unit that failed or leased before a
    /// crash are skipped.
    pub async fn next_number(&mut self, seq: Sequence) -> Result<u64, StoreError> {
        if let Some(n) = self.number_hint.take() {
            self.drawn = Some(n);
            return Ok(n);
        }
        let n = match &mut self.engine {
            TxEngine::Sled(t) => t.kv().next_number(&super::keys::k1("seq/", seq.name)).await,
            TxEngine::Pg(t) => t.nextval(seq.pg).await,
        }?;
        self.drawn = Some(n);
        Ok(n)
    }

    /// Hands out `n` (a number an earlier run of this unit drew and did not use, as
    /// it conflicted) before drawing a new one: a conflict then leaves no gap.
    pub fn reuse_number(&mut self, n: Option<u64>) {
        self.number_hint = n;
    }

    /// The number this run drew, if any (or the reused one).
    pub fn drawn_number(&self) -> Option<u64> {
        self.drawn
    }

    /// The values under `keys`, in the same order (one round trip on PostgreSQL).
    pub async fn get_many(&mut self, keys: &[Vec<u8>]) -> Result<Vec<Option<Bytes>>, StoreError> {
        let missing: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| {
                !self.writes.contains_key(k.as_slice()) && !self.cache.contains_key(k.as_slice())
            })
            .cloned()
            .collect();
        let mut fetched = match &mut self.engine {
            TxEngine::Sled(t) => t.get_many(&missing)?,
            TxEngine::Pg(t) => t.get_many(&missing).await?,
        }
        .into_iter();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(w) = self.writes.get(k.as_slice()) {
                out.push(w.clone());
            } else if let Some(c) = self.cache.get(k.as_slice()) {
                out.push(c.clone());
            } else {
                let v = fetched.next().flatten();
                if !self.read_only {
                    self.cache.insert(k.clone(), v.clone());
                }
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Up to `limit` entries of `range` in `order`, this unit's writes included.
    pub async fn scan(
        &mut self,
        range: &Range,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        if limit == 0 || range.start >= range.end {
            return Ok(Vec::new());
        }
        let pending: Vec<(&Vec<u8>, &Option<Bytes>)> = self
            .writes
            .range::<Vec<u8>, _>((Bound::Included(&range.start), Bound::Excluded(&range.end)))
            .collect();
        // deleted keys may hide engine rows: fetch enough to still fill the page
        let hidden = pending.iter().filter(|(_, v)| v.is_none()).count();
        let fetch = limit.saturating_add(hidden);
        let rows = match &mut self.engine {
            TxEngine::Sled(t) => t.scan(range, order, fetch)?,
            TxEngine::Pg(t) => t.scan(range, order, fetch).await?,
        };
        if pending.is_empty() {
            return Ok(rows);
        }
        let mut merged: BTreeMap<Bytes, Bytes> = rows.into_iter().collect();
        for (k, v) in pending {
            match v {
                Some(v) => merged.insert(Bytes::copy_from_slice(k), v.clone()),
                None => merged.remove(k.as_slice()),
            };
        }
        let out: Vec<(Bytes, Bytes)> = match order {
            Order::Asc => merged.into_iter().take(limit).collect(),
            Order::Desc => merged.into_iter().rev().take(limit).collect(),
        };
        Ok(out)
    }

    /// How many keys `range` holds (committed data; for read-only views and reports).
    pub async fn count_keys(&mut self, range: &Range) -> Result<u64, StoreError> {
        debug_assert!(self.writes.is_empty(), "count in a unit with writes");
        if range.start >= range.end {
            return Ok(0);
        }
        match &mut self.engine {
            TxEngine::Sled(t) => t.count(range),
            TxEngine::Pg(t) => t.count(range).await,
        }
    }

    /// Writes `v` under `k` at commit.
    pub fn put(&mut self, k: Vec<u8>, v: impl Into<Bytes>) {
        debug_assert!(!self.read_only, "write in a read-only unit");
        self.writes.insert(k, Some(v.into()));
    }

    /// Deletes `k` at commit.
    pub fn delete(&mut self, k: Vec<u8>) {
        debug_assert!(!self.read_only, "write in a read-only unit");
        self.writes.insert(k, None);
    }

    /// Publishes `signal` to every collector once this unit commits.
    pub fn signal(&mut self, signal: impl Into<String>) {
        let s = signal.into();
        if !self.signals.contains(&s) {
            self.signals.push(s);
        }
    }

    /// Whether the unit has writes to commit.
    pub fn is_dirty(&self) -> bool {
        !self.writes.is_empty()
    }

    /// Commits every write atomically; returns the signals to publish locally.
    pub async fn commit(self) -> Result<Vec<String>, StoreError> {
        if self.read_only && !self.writes.is_empty() {
            return Err(StoreError::Transaction("writes in a read-only unit".into()));
        }
        let writes: Vec<(Vec<u8>, Option<Bytes>)> = self.writes.into_iter().collect();
        match self.engine {
            TxEngine::Sled(t) => t.commit(writes).await?,
            TxEngine::Pg(t) => (*t).commit(writes, &self.signals).await?,
        }
        Ok(self.signals)
    }

    /// Ends the unit without writing anything.
    pub async fn rollback(self) {
        if let TxEngine::Pg(t) = self.engine {
            (*t).rollback().await;
        }
    }

    /// Whether `k` falls in `range` (used by callers that page over index ranges).
    pub fn in_range(range: &Range, k: &[u8]) -> bool {
        range.contains(k)
    }
}

#[cfg(test)]
pub(crate) mod tests;
