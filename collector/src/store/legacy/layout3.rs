//! Layout 2 → 3: problems of constant size. A layout-2 problem record listed every
//! ticket and device id (rewritten by every filing); layout 3 links them through
//! the tickets' own index entries (`tickets::problems::link_index`). The upgrade
//! writes those entries for every ticket that has a problem, then drops the lists
//! from the problem records. Every step is idempotent: a crash halfway leaves
//! `meta/layout` at 2 and the next open does it again.

use super::now;
use crate::store::kv::{successor, Kv, Order, Range};
use crate::store::{from_json, StoreError};
use crate::tickets::problems::{link_index, ProblemRecord};
use crate::tickets::TicketRecord;

/// Records read per unit of work.
const BATCH: usize = 500;

/// Writes the problem links of every ticket and compacts every problem record.
pub(super) fn upgrade(engine: &Kv) -> Result<(), StoreError> {
    let mut linked = 0u64;
    each(engine, b"tk/", |tx, v| {
        let t: TicketRecord = from_json("tickets", v)?;
        for (k, v) in link_index(&t) {
            tx.put(k, v);
            linked += 1;
        }
        Ok(())
    })?;
    each(engine, b"pb/", |tx, v| {
        let p: ProblemRecord = from_json("problems", v)?;
        tx.touch_problem(&p);
        Ok(())
    })?;
    // `seq/ticket` keeps its meaning: the last number given out is where the sled
    // store's next leased block starts
    tracing::info!(links = linked, "problem links written");
    Ok(())
}

/// Runs `f` over every value under `prefix`, `BATCH` per committed unit.
fn each(
    engine: &Kv,
    prefix: &[u8],
    mut f: impl FnMut(&mut crate::store::Tx, &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let end = successor(prefix);
    let mut start = prefix.to_vec();
    loop {
        let rows = now(engine.read().scan(
            &Range {
                start: start.clone(),
                end: end.clone(),
            },
            Order::Asc,
            BATCH,
        ))?;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        let mut next = last.to_vec();
        next.push(0);
        let mut tx = engine.begin();
        for (_, v) in &rows {
            f(&mut tx, v)?;
        }
        now(tx.commit())?;
        if rows.len() < BATCH {
            return Ok(());
        }
        start = next;
    }
}
