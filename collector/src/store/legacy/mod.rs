//! Upgrades an older sled store in place, at open: from before the single key space
//! (one sled tree per record kind, "layout 1"), and from layout 2 (`layout3`). A
//! store of a newer layout than this build writes is refused, never rewritten.
//!
//! Layout 1:
//! Every record is read from its old tree and written through the same typed
//! methods new records use, so every index and counter is built as if the records
//! had been written today. The new tree is complete before `meta/layout` says 2 and
//! before any old tree is dropped: a crash halfway leaves the old trees intact, and the
//! next open starts the copy again from an empty new tree.
//!
//! Sled units of work never wait (sled is synchronous underneath), so this runs their
//! futures to completion in place, without a runtime.

use tend_shared::tickets::TicketSettings;

use super::keys::{k1, k2, Key};
use super::kv::sled_kv::SledKv;
use super::kv::{Kv, Order, Range, Tx};
use super::{from_json, StoreError};
use crate::tickets::problems::ProblemRecord;

mod layout3;

/// The layout this build writes.
pub const LAYOUT: u64 = 3;

/// Trees of layout 1.
const OLD_TREES: &[&str] = &[
    "devices",
    "devices_by_hw",
    "inventory",
    "health",
    "events",
    "events_by_time",
    "assets",
    "assets_by_serial",
    "audit",
    "tokens",
    "token_ids",
    "users",
    "user_names",
    "enroll_tokens",
    "enroll_token_ids",
    "reenroll_requests",
    "meta",
    "tickets",
    "tickets_open",
    "tickets_last",
    "ticket_requests",
    "ticket_timeline",
    "problems",
    "webhooks",
    "webhook_outbox",
    "deflections",
    "scripts",
    "script_names",
    "jobs",
    "job_queue",
    "job_open",
    "device_jobs",
    "bulk",
    "releases",
    "release_artifacts",
    "rollout_outcomes",
];

/// Runs a sled unit of work to completion on this thread: reads never wait, and a
/// commit waits only for the writer thread (no async runtime is needed, and none is
/// blocked for long: the upgrade runs once, at open).
pub(crate) fn now<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Records per committed batch.
const BATCH: usize = 500;

struct Copier {
    kv: Kv,
    tx: Tx,
    n: usize,
}

impl Copier {
    fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Counts one record; commits every `BATCH`.
    fn step(&mut self) -> Result<(), StoreError> {
        self.n += 1;
        if self.n.is_multiple_of(BATCH) {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        let tx = std::mem::replace(&mut self.tx, self.kv.begin());
        now(tx.commit())?;
        Ok(())
    }
}

fn split_str(k: &[u8]) -> Option<(&str, &[u8])> {
    let zero = k.iter().position(|b| *b == 0)?;
    Some((std::str::from_utf8(&k[..zero]).ok()?, &k[zero + 1..]))
}

fn be64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

/// Brings the store under `kv` to the current layout.
pub fn upgrade(kv: &SledKv) -> Result<(), StoreError> {
    let engine = Kv::Sled(kv.clone());
    let layout: Option<u64> = now(engine.read().meta_get("layout"))?;
    match layout {
        Some(LAYOUT) => return Ok(()),
        Some(newer) if newer > LAYOUT => {
            return Err(StoreError::Schema(format!(
                "the store has layout {newer}, written by a newer Tend; this collector \
                 knows up to layout {LAYOUT}: run the newer collector, or restore a backup \
                 this version made"
            )))
        }
        Some(2) => {
            tracing::info!(
                "upgrading the store to layout {LAYOUT} (problem links as index entries)"
            );
            layout3::upgrade(&engine)?;
            return mark(kv, &engine);
        }
        _ => {}
    }
    let names = kv.inner()?.db.tree_names();
    let old: Vec<&str> = OLD_TREES
        .iter()
        .copied()
        .filter(|t| names.iter().any(|n| n.as_ref() == t.as_bytes()))
        .collect();
    if !old.is_empty() {
        // a copy interrupted earlier starts over
        kv.inner()?.tree.clear()?;
        tracing::info!("upgrading the store to the single key space (layout {LAYOUT})");
        copy(kv, &engine)?;
    }
    mark(kv, &engine)?;
    for t in old {
        kv.inner()?.db.drop_tree(t)?;
    }
    kv.flush_blocking()?;
    Ok(())
}

/// Records that the store is of this build's layout, durably.
fn mark(kv: &SledKv, engine: &Kv) -> Result<(), StoreError> {
    let mut tx = engine.begin();
    tx.meta_put("layout", &LAYOUT);
    now(tx.commit())?;
    kv.flush_blocking()
}

fn tree(kv: &SledKv, name: &str) -> Result<sled::Tree, StoreError> {
    Ok(kv.inner()?.db.open_tree(name)?)
}

fn copy(kv: &SledKv, engine: &Kv) -> Result<(), StoreError> {
    let mut c = Copier {
        kv: engine.clone(),
        tx: engine.begin(),
        n: 0,
    };
    // meta first: the ticket settings index the tickets
    let mut settings = TicketSettings::default();
    let mut counter = false;
    for item in tree(kv, "meta")?.iter() {
        let (k, v) = item?;
        let key = String::from_utf8_lossy(&k).into_owned();
        match key.as_str() {
            "ticket_counter" => {
                counter = true;
                c.tx().put(k1("seq/", "ticket"), v.to_vec());
            }
            "job_open_indexed" => {}
            _ => {
                if key == "ticket_settings" {
                    settings = from_json("meta", &v)?;
                }
                c.tx().put(k1("meta/", &key), v.to_vec());
            }
        }
    }
    c.commit()?;
    for item in tree(kv, "devices")?.iter() {
        let (_, v) = item?;
        let d = from_json("devices", &v)?;
        now(c.tx().put_device(&d))?;
        c.step()?;
    }
    for (old, new) in [
        ("inventory", "inv/"),
        ("health", "hl/"),
        ("reenroll_requests", "rr/"),
    ] {
        for item in tree(kv, old)?.iter() {
            let (k, v) = item?;
            c.tx()
                .put(k1(new, &String::from_utf8_lossy(&k)), v.to_vec());
            c.step()?;
        }
    }
    for item in tree(kv, "events")?.iter() {
        let (k, v) = item?;
        if let Some((dev, rest)) = split_str(&k) {
            if let (Some(at), Some(seq)) = (be64(rest), rest.get(8..).and_then(be64)) {
                let key = Key::new("ev/").s(dev).n(at).n(seq).build();
                c.tx()
                    .put(Key::new("ev.t/").n(at).s(dev).n(seq).build(), key.clone());
                c.tx().put(key, v.to_vec());
                c.step()?;
            }
        }
    }
    for item in tree(kv, "assets")?.iter() {
        let (_, v) = item?;
        now(c.tx().put_asset(&from_json("assets", &v)?))?;
        c.step()?;
    }
    for item in tree(kv, "audit")?.iter() {
        let (_, v) = item?;
        let e: tend_shared::api::AuditEntry = from_json("audit", &v)?;
        let main = Key::new("au/").n(e.seq).build();
        c.tx().put(
            Key::new("au.actor/").s(&e.actor).n(e.seq).build(),
            main.clone(),
        );
        if !e.target.is_empty() {
            c.tx().put(
                Key::new("au.target/").s(&e.target).n(e.seq).build(),
                main.clone(),
            );
        }
        c.tx().put(main, v.to_vec());
        c.step()?;
    }
    for item in tree(kv, "tokens")?.iter() {
        let (k, v) = item?;
        c.tx().put_token_hash(&k, &from_json("tokens", &v)?);
        c.step()?;
    }
    for item in tree(kv, "users")?.iter() {
        let (_, v) = item?;
        let u: crate::users::UserRecord = from_json("users", &v)?;
        c.tx().put(
            k1("usr.name/", &u.name.to_ascii_lowercase()),
            u.id.clone().into_bytes(),
        );
        c.tx().put_user(&u);
        c.step()?;
    }
    let ids = tree(kv, "enroll_token_ids")?;
    for item in ids.iter() {
        let (id, hash) = item?;
        if let Some(v) = tree(kv, "enroll_tokens")?.get(&hash)? {
            let k = Key::new("et/").raw(&hash).build();
            c.tx()
                .put(k1("et.id/", &String::from_utf8_lossy(&id)), k.clone());
            c.tx().put(k, v.to_vec());
            c.step()?;
        }
    }
    let mut highest = 0u64;
    for item in tree(kv, "tickets")?.iter() {
        let (_, v) = item?;
        let t: crate::tickets::TicketRecord = from_json("tickets", &v)?;
        if let Some(n) = t
            .ticket
            .id
            .strip_prefix("T-")
            .and_then(|n| n.parse::<u64>().ok())
        {
            highest = highest.max(n);
        }
        now(c.tx().put_ticket(&t, &settings))?;
        c.step()?;
    }
    if !counter {
        // a store from before the counter continues after its highest number
        c.tx()
            .put(k1("seq/", "ticket"), highest.to_be_bytes().to_vec());
    }
    for (old, new) in [("tickets_last", "tk.last/"), ("ticket_requests", "tk.req/")] {
        for item in tree(kv, old)?.iter() {
            let (k, v) = item?;
            if let Some((a, b)) = split_str(&k) {
                c.tx()
                    .put(k2(new, a, &String::from_utf8_lossy(b)), v.to_vec());
                c.step()?;
            }
        }
    }
    for item in tree(kv, "ticket_timeline")?.iter() {
        let (k, v) = item?;
        if let Some((ticket, rest)) = split_str(&k) {
            if let Some(seq) = be64(rest) {
                c.tx()
                    .put(Key::new("tl/").s(ticket).n(seq).build(), v.to_vec());
                c.step()?;
            }
        }
    }
    copy_problems(kv, &mut c)?;
    for item in tree(kv, "webhooks")?.iter() {
        let (_, v) = item?;
        c.tx().put_webhook(&from_json("webhooks", &v)?);
    }
    for item in tree(kv, "webhook_outbox")?.iter() {
        let (_, v) = item?;
        c.tx().put_delivery(&from_json("webhook outbox", &v)?);
        c.step()?;
    }
    for item in tree(kv, "deflections")?.iter() {
        let (k, v) = item?;
        if let (Some(at), Some(id)) = (be64(&k), k.get(8..).and_then(be64)) {
            c.tx().put(Key::new("df/").n(at).n(id).build(), v.to_vec());
            c.step()?;
        }
    }
    for item in tree(kv, "scripts")?.iter() {
        let (_, v) = item?;
        now(c.tx().put_script(&from_json("scripts", &v)?))?;
        c.step()?;
    }
    for item in tree(kv, "jobs")?.iter() {
        let (_, v) = item?;
        now(c.tx().put_job(&from_json("jobs", &v)?))?;
        c.step()?;
    }
    for item in tree(kv, "bulk")?.iter() {
        let (_, v) = item?;
        c.tx().put_bulk(&from_json("bulk", &v)?);
        c.step()?;
    }
    c.commit()?;
    copy_releases(kv, &mut c)?;
    c.commit()
}

fn copy_problems(kv: &SledKv, c: &mut Copier) -> Result<(), StoreError> {
    for item in tree(kv, "problems")?.iter() {
        let (_, v) = item?;
        let p: ProblemRecord = from_json("problems", &v)?;
        now(c.tx().put_problem(&p))?;
        c.step()?;
    }
    Ok(())
}

fn copy_releases(kv: &SledKv, c: &mut Copier) -> Result<(), StoreError> {
    for item in tree(kv, "releases")?.iter() {
        let (_, v) = item?;
        let r: tend_shared::releases::Release = from_json("releases", &v)?;
        for (i, s) in r.rollout.stages.iter().enumerate() {
            for (field, n) in [
                ("attempted", s.attempted),
                ("succeeded", s.succeeded),
                ("failed", s.failed),
            ] {
                now(c.tx().count_set(
                    &crate::releases::stage_counter(&r.version, i, field),
                    n as i64,
                ))?;
            }
        }
        c.tx().put_release(&r);
        c.commit()?;
    }
    for item in tree(kv, "release_artifacts")?.iter() {
        let (k, v) = item?;
        let Some((version, rest)) = split_str(&k) else {
            continue;
        };
        let (platform, index) = match rest.iter().position(|b| *b == 0) {
            Some(z) => (
                &rest[..z],
                rest.get(z + 1..z + 5)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(u32::from_be_bytes),
            ),
            None => (rest, None),
        };
        let Ok(platform) =
            String::from_utf8_lossy(platform).parse::<tend_shared::releases::ReleasePlatform>()
        else {
            continue;
        };
        match index {
            Some(i) => c.tx().put(
                Key::new("rl.art/")
                    .s(version)
                    .s(platform.as_str())
                    .n(u64::from(i))
                    .build(),
                v.to_vec(),
            ),
            // before chunking: the whole artifact in one value
            None => c.tx().put_release_artifact(version, platform, &v),
        }
        c.commit()?;
    }
    for item in tree(kv, "rollout_outcomes")?.iter() {
        let (k, _) = item?;
        let parts: Vec<String> = k
            .split(|b| *b == 0)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        if let [version, stage, kind, device] = parts.as_slice() {
            if let Ok(stage) = stage.parse::<u64>() {
                c.tx().put(
                    Key::new("rl.out/")
                        .s(version)
                        .n(stage)
                        .s(kind)
                        .s(device)
                        .build(),
                    vec![1u8],
                );
                c.step()?;
            }
        }
    }
    Ok(())
}

/// Every key and value of a store, in key order, `batch` at a time (the migration
/// to PostgreSQL copies these verbatim).
pub async fn dump_batch(
    tx: &mut Tx,
    after: Option<&[u8]>,
    batch: usize,
) -> Result<Vec<(bytes::Bytes, bytes::Bytes)>, StoreError> {
    let mut range = Range {
        start: Vec::new(),
        end: vec![0xff; 9],
    };
    if let Some(a) = after {
        range.start = a.to_vec();
        range.start.push(0);
    }
    tx.scan(&range, Order::Asc, batch).await
}

#[cfg(test)]
mod tests;
