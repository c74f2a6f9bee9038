//! A consistent read of the whole sled tree while the collector keeps writing (for
//! online backups), without pausing writes.
//!
//! sled's iterators are not point-in-time, so the writer helps: while a snapshot is
//! open, before each group is applied, the writer saves the current value (or its
//! absence) of every key the group writes that the snapshot has not read yet. The
//! snapshot reads the tree in key order, a chunk at a time, and prefers a saved
//! value over the tree's. Reading a chunk and applying a group hold the same lock,
//! so a key is either read before a group changes it (and the saved value is not
//! needed) or saved before (and read from the save): the result is the tree exactly
//! as it was when the snapshot opened. Saved values are dropped as the read passes
//! them; what is held is bounded by what is written during the backup.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use sled::IVec;

/// Keys read per chunk.
const CHUNK: usize = 1000;

/// What the writer and an open snapshot share.
#[derive(Default)]
pub(crate) struct Snapshots {
    open: Mutex<Option<Open>>,
}

struct Open {
    /// The last key the snapshot returned (`None`: nothing yet).
    cursor: Option<Vec<u8>>,
    /// Values as of the snapshot's start of keys written since, not yet read.
    saved: BTreeMap<Vec<u8>, Option<IVec>>,
}

impl Open {
    fn passed(&self, k: &[u8]) -> bool {
        self.cursor.as_deref().is_some_and(|c| k <= c)
    }
}

impl Snapshots {
    /// Runs `apply` (the writer's batch over `keys`) after saving what the open
    /// snapshot still needs of them.
    pub(crate) fn around_apply<'k, T>(
        &self,
        tree: &sled::Tree,
        keys: impl Iterator<Item = &'k Vec<u8>>,
        apply: impl FnOnce() -> T,
    ) -> T {
        let mut open = self.open.lock().expect("snapshot lock");
        if let Some(o) = open.as_mut() {
            for k in keys {
                if !o.passed(k) && !o.saved.contains_key(k) {
                    // an unreadable value cannot be saved; the read reports it later
                    if let Ok(v) = tree.get(k) {
                        o.saved.insert(k.clone(), v);
                    }
                }
            }
        }
        apply()
    }

    /// Reads the whole tree as of now, a chunk at a time, into `f` (in key order).
    /// One snapshot at a time: a second one is refused (`Busy`).
    pub(crate) fn read(
        self: &Arc<Self>,
        tree: &sled::Tree,
        mut f: impl FnMut(&[u8], &[u8]) -> std::io::Result<()>,
    ) -> Result<(), SnapshotError> {
        {
            let mut open = self.open.lock().expect("snapshot lock");
            if open.is_some() {
                return Err(SnapshotError::Busy);
            }
            *open = Some(Open {
                cursor: None,
                saved: BTreeMap::new(),
            });
        }
        let r = self.read_open(tree, &mut f);
        *self.open.lock().expect("snapshot lock") = None;
        r
    }

    fn read_open(
        &self,
        tree: &sled::Tree,
        f: &mut impl FnMut(&[u8], &[u8]) -> std::io::Result<()>,
    ) -> Result<(), SnapshotError> {
        loop {
            let (rows, done) = self.chunk(tree)?;
            for (k, v) in &rows {
                f(k, v).map_err(SnapshotError::Io)?;
            }
            if done {
                return Ok(());
            }
        }
    }

    /// The next chunk as of the snapshot's start; `true` when it is the last.
    #[allow(clippy::type_complexity)]
    fn chunk(&self, tree: &sled::Tree) -> Result<(Vec<(Vec<u8>, IVec)>, bool), SnapshotError> {
        let mut open = self.open.lock().expect("snapshot lock");
        let o = open.as_mut().expect("snapshot open");
        let from = match &o.cursor {
            Some(c) => Bound::Excluded(c.clone()),
            None => Bound::Unbounded,
        };
        let mut live: Vec<(IVec, IVec)> = Vec::with_capacity(CHUNK);
        for item in tree.range::<Vec<u8>, _>((from.clone(), Bound::Unbounded)) {
            live.push(item.map_err(SnapshotError::Sled)?);
            if live.len() == CHUNK {
                break;
            }
        }
        let done = live.len() < CHUNK;
        let upto: Bound<Vec<u8>> = match (done, live.last()) {
            (false, Some((k, _))) => Bound::Included(k.to_vec()),
            _ => Bound::Unbounded,
        };
        // the span's keys: the tree's, and saved ones (changed or removed since)
        let mut out: BTreeMap<Vec<u8>, IVec> = live
            .into_iter()
            .filter(|(k, _)| !o.saved.contains_key(k.as_ref()))
            .map(|(k, v)| (k.to_vec(), v))
            .collect();
        let saved: Vec<Vec<u8>> = o
            .saved
            .range::<Vec<u8>, _>((from, upto.clone()))
            .map(|(k, _)| k.clone())
            .collect();
        for k in saved {
            if let Some(Some(v)) = o.saved.remove(&k) {
                out.insert(k, v);
            }
        }
        let rows: Vec<(Vec<u8>, IVec)> = out.into_iter().collect();
        // the read has passed the whole span, whether or not its last key was in it
        if let Bound::Included(k) = upto {
            o.cursor = Some(k);
        }
        Ok((rows, done))
    }
}

/// Why a snapshot read stopped.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("another backup is running")]
    Busy,
    #[error("reading the store: {0}")]
    Sled(sled::Error),
    #[error("writing the backup: {0}")]
    Io(std::io::Error),
}
