//! Cursor paging over index ranges, the same on both engines.
//!
//! A list reads one or more index ranges ("sources", in order) in batches; the caller
//! fetches the records a batch names, keeps the ones its remaining filters accept,
//! and tells the [`Pager`] about every entry it looked at. The page ends when it is
//! full, when the sources run out, or when a scan budget is spent (a filter that
//! matches rarely cannot make one request read the whole store); the `next` cursor
//! is the position of the last entry looked at. Cursors are positions in key order,
//! so rows inserted meanwhile never make a page repeat or skip an existing row.

use base64::Engine as _;
use bytes::Bytes;

use super::kv::{successor, Order, Range, Tx};
use super::StoreError;

/// Largest page a client may ask for.
pub const MAX_LIMIT: usize = 1000;
/// Page size when the client names none.
pub const DEFAULT_LIMIT: usize = 100;

/// One page of a list and where the next one starts.
pub use tend_shared::api::Page;

/// A position in a list: which source, and the last key looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub source: u8,
    pub key: Vec<u8>,
}

impl Cursor {
    /// The opaque text form clients pass back (`?cursor=`).
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(self.key.len() + 2);
        b.push(1);
        b.push(self.source);
        b.extend_from_slice(&self.key);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    pub fn decode(s: &str) -> Result<Cursor, String> {
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| "cursor is not one this collector issued".to_string())?;
        match b.as_slice() {
            [1, source, key @ ..] if key.len() <= 4096 => Ok(Cursor {
                source: *source,
                key: key.to_vec(),
            }),
            _ => Err("cursor is not one this collector issued".into()),
        }
    }
}

/// The page size a client asked for, bounded.
pub fn limit(asked: Option<usize>) -> usize {
    asked.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// The `cursor` a list request gave, decoded (`Err`: why it is not a cursor).
pub fn cursor(asked: Option<&str>) -> Result<Option<Cursor>, String> {
    asked.map(Cursor::decode).transpose()
}

/// One index range to read.
#[derive(Debug, Clone)]
pub struct Source {
    pub range: Range,
    pub order: Order,
}

impl Source {
    pub fn asc(range: Range) -> Source {
        Source {
            range,
            order: Order::Asc,
        }
    }

    pub fn desc(range: Range) -> Source {
        Source {
            range,
            order: Order::Desc,
        }
    }
}

/// Walks sources in batches and collects a page.
#[derive(Debug)]
pub struct Pager<T> {
    sources: Vec<Source>,
    src: usize,
    after: Option<Vec<u8>>,
    items: Vec<T>,
    limit: usize,
    examined: usize,
    budget: usize,
    /// The current source returned a short batch: once consumed, move on.
    source_ends: bool,
    filtered: bool,
    stopped_early: bool,
}

impl<T> Pager<T> {
    /// A pager starting at `cursor` (or the beginning). `filtered`: the caller drops
    /// some entries, so batches are read larger. Errors name a cursor that does not
    /// belong to these sources.
    pub fn new(
        sources: Vec<Source>,
        cursor: Option<&Cursor>,
        limit: usize,
        filtered: bool,
    ) -> Result<Pager<T>, String> {
        let (src, after) = match cursor {
            Some(c) => {
                let s = sources
                    .get(usize::from(c.source))
                    .ok_or("cursor does not belong to this list")?;
                if !Tx::in_range(&s.range, &c.key) {
                    return Err(
                        "cursor does not belong to this list (were the filters changed?)".into(),
                    );
                }
                (usize::from(c.source), Some(c.key.clone()))
            }
            None => (0, None),
        };
        Ok(Pager {
            sources,
            src,
            after,
            items: Vec::new(),
            limit: limit.max(1),
            examined: 0,
            budget: (limit * 50).max(10_000),
            source_ends: false,
            filtered,
            stopped_early: false,
        })
    }

    /// The next batch of index entries `(source, key, value)`; `None` when the page is
    /// complete.
    pub async fn next_batch(
        &mut self,
        tx: &mut Tx,
    ) -> Result<Option<(usize, Vec<(Bytes, Bytes)>)>, StoreError> {
        loop {
            if self.items.len() >= self.limit {
                return Ok(None);
            }
            if self.examined >= self.budget {
                self.stopped_early = true;
                return Ok(None);
            }
            if self.source_ends {
                self.source_ends = false;
                self.src += 1;
                self.after = None;
            }
            let Some(source) = self.sources.get(self.src) else {
                return Ok(None);
            };
            let range = match (&self.after, source.order) {
                (None, _) => source.range.clone(),
                (Some(k), Order::Asc) => {
                    let mut start = k.clone();
                    start.push(0);
                    Range {
                        start,
                        end: source.range.end.clone(),
                    }
                }
                (Some(k), Order::Desc) => Range {
                    start: source.range.start.clone(),
                    end: k.clone(),
                },
            };
            let want = self.limit - self.items.len();
            let n = if self.filtered {
                (want * 4).clamp(64, MAX_LIMIT)
            } else {
                want
            };
            let rows = tx.scan(&range, source.order, n).await?;
            self.source_ends = rows.len() < n;
            if rows.is_empty() {
                continue;
            }
            return Ok(Some((self.src, rows)));
        }
    }

    /// Records that the entry at `key` was looked at, keeping `item` if given.
    /// Returns false once the page is full (stop looking at this batch).
    pub fn take(&mut self, key: &[u8], item: Option<T>) -> bool {
        self.after = Some(key.to_vec());
        self.examined += 1;
        if let Some(i) = item {
            self.items.push(i);
        }
        if self.items.len() >= self.limit {
            // the rest of the batch is for the next page
            self.source_ends = false;
            return false;
        }
        self.examined < self.budget
    }

    /// The page, with a cursor when more may follow.
    pub fn finish(self) -> Page<T> {
        let more =
            self.items.len() >= self.limit || self.stopped_early || self.examined >= self.budget;
        let next = match (&self.after, more, self.src < self.sources.len()) {
            (Some(k), true, true) => Some(
                Cursor {
                    source: self.src as u8,
                    key: k.clone(),
                }
                .encode(),
            ),
            _ => None,
        };
        Page {
            items: self.items,
            next,
        }
    }
}

/// A range of keys starting with `prefix` whose next 8 bytes (a time) lie in
/// `[from, to)`.
pub fn time_range(prefix: &[u8], from: Option<u64>, to: Option<u64>) -> Range {
    let mut start = prefix.to_vec();
    start.extend_from_slice(&from.unwrap_or(0).to_be_bytes());
    let end = match to {
        Some(t) => {
            let mut e = prefix.to_vec();
            e.extend_from_slice(&t.to_be_bytes());
            e
        }
        None => successor(prefix),
    };
    Range { start, end }
}
