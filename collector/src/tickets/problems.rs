//! Fleet-wide problems: one problem key on `problem_min_devices` devices within the
//! window becomes one problem record linking their tickets.
//!
//! Filing is O(1) in the size of the problem, so a fleet-wide outage (10,000
//! laptops failing the same check at once) files at the rate of the first ticket:
//! - a problem record is of constant size (id, key, two times); its tickets and
//!   devices are index entries of the tickets themselves (`tk.pbid/`, `tk.pbdev/`,
//!   written by `put_ticket`), counted when the problem is read;
//! - linking a ticket to a live problem only *reads* the problem record; the record's
//!   `updated_at_ms` (which keeps the problem live for the window) is rewritten at
//!   most once per [`touch_every`], so concurrent filings do not conflict on it;
//! - before a key has a live problem, every filing of it reads and writes one guard
//!   key (`pb.cand/<key>`): of two filings racing to make the pattern, one runs again
//!   and sees the other's ticket, so no ticket of the pattern is left unlinked and no
//!   second problem is made (the `pb.key/` pointer is read and written too).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tend_shared::tickets::{Problem, TicketSettings};

use super::{entry, TicketRecord};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::keys::{k1, Key};
use crate::store::kv::{Range, Tx};
use crate::store::paging::{Cursor, Page, Pager, Source};
use crate::store::{random_hex_id, StoreError};

/// A stored problem: constant size, whatever the number of its tickets (records of
/// layout 2 also carried `ticket_ids`/`device_ids`; they are ignored and dropped by
/// the layout-3 migration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemRecord {
    pub id: String,
    pub problem_key: String,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
}

/// How stale a live problem's `updated_at_ms` may get before a filing rewrites it: a
/// tenth of the window, at most a minute.
pub fn touch_every(window_ms: u64) -> u64 {
    (window_ms / 10).clamp(1, 60_000)
}

/// The index entries linking ticket `t` to its problem (none when it has none).
pub(crate) fn link_index(t: &TicketRecord) -> Vec<(Vec<u8>, Vec<u8>)> {
    let tk = &t.ticket;
    let Some(p) = &tk.problem_id else {
        return Vec::new();
    };
    vec![
        (
            Key::new("tk.pbid/")
                .s(p)
                .n(tk.created_at_ms)
                .s(&tk.id)
                .build(),
            tk.id.as_bytes().to_vec(),
        ),
        (
            Key::new("tk.pbdev/").s(p).s(&tk.device_id).build(),
            tk.id.as_bytes().to_vec(),
        ),
    ]
}

/// Links a new ticket to its fleet-wide problem: to the key's live problem when there
/// is one (the ticket alone is touched), or — once enough distinct devices have the
/// key within the window — to a new problem with every recent ticket of the key.
pub(crate) async fn link(
    state: &AppState,
    tx: &mut Tx,
    ticket: TicketRecord,
    now: u64,
) -> Result<(), ApiError> {
    let settings = state.ticket_settings();
    let window = settings.problem_window_s * 1000;
    let since = now.saturating_sub(window);
    let key = ticket.ticket.problem_key.clone();
    if let Some(mut p) = tx
        .problem_of_key(&key)
        .await?
        .filter(|p| p.updated_at_ms >= since)
    {
        attach(tx, &settings, &p, ticket, now).await?;
        if now.saturating_sub(p.updated_at_ms) >= touch_every(window) {
            p.updated_at_ms = now;
            tx.touch_problem(&p);
        }
        return Ok(());
    }
    // no live problem: one guard key orders the filings that could make the pattern
    let guard = k1("pb.cand/", &key);
    tx.get(&guard).await?;
    tx.put(guard, ticket.ticket.id.clone().into_bytes());
    let recent = tx.tickets_of_problem_since(&key, since, 10_000).await?;
    let devices: BTreeSet<&str> = recent.iter().map(|t| t.ticket.device_id.as_str()).collect();
    if (devices.len() as u32) < settings.problem_min_devices.max(1) {
        return Ok(());
    }
    let p = ProblemRecord {
        id: format!("PRB-{}", random_hex_id::<4>()),
        problem_key: key,
        created_at_ms: now,
        updated_at_ms: now,
    };
    tx.put_problem(&p).await?;
    for t in recent {
        attach(tx, &settings, &p, t, now).await?;
    }
    Ok(())
}

/// Points ticket `t` at problem `p` (its link entries come with it) and notes it on
/// the ticket's timeline.
async fn attach(
    tx: &mut Tx,
    settings: &TicketSettings,
    p: &ProblemRecord,
    mut t: TicketRecord,
    now: u64,
) -> Result<(), StoreError> {
    if t.ticket.problem_id.as_deref() == Some(p.id.as_str()) {
        return Ok(());
    }
    t.ticket.problem_id = Some(p.id.clone());
    t.ticket.updated_at_ms = now;
    tx.put_ticket(&t, settings).await?;
    tx.append_timeline(
        &t.ticket.id,
        &entry(
            now,
            "system",
            "problem_linked",
            format!("part of fleet-wide problem {} ({})", p.id, p.problem_key),
            serde_json::json!({"problem_id": p.id}),
        ),
    )
    .await
}

impl Tx {
    pub async fn problem_record(&mut self, id: &str) -> Result<Option<ProblemRecord>, StoreError> {
        self.get_json("problems", &k1("pb/", id)).await
    }

    /// Problem `id` as the API shows it, its tickets and devices counted.
    pub async fn problem(&mut self, id: &str) -> Result<Option<Problem>, StoreError> {
        match self.problem_record(id).await? {
            Some(p) => Ok(Some(self.problem_view(p).await?)),
            None => Ok(None),
        }
    }

    async fn problem_view(&mut self, p: ProblemRecord) -> Result<Problem, StoreError> {
        let tickets = self
            .count_keys(&Range::prefix(&k1("tk.pbid/", &p.id)))
            .await?;
        let devices = self
            .count_keys(&Range::prefix(&k1("tk.pbdev/", &p.id)))
            .await?;
        Ok(Problem {
            id: p.id,
            problem_key: p.problem_key,
            created_at_ms: p.created_at_ms,
            updated_at_ms: p.updated_at_ms,
            ticket_count: tickets,
            device_count: devices,
        })
    }

    /// Writes a new problem and its by-key pointer (the newest problem of a key),
    /// which the unit reads first: of two units making a problem for one key, one
    /// runs again and finds the other's.
    pub async fn put_problem(&mut self, p: &ProblemRecord) -> Result<(), StoreError> {
        let by_key = k1("pb.key/", &p.problem_key);
        self.get(&by_key).await?;
        self.put(by_key, p.id.clone().into_bytes());
        self.put(
            Key::new("pb.list/").n(p.created_at_ms).s(&p.id).build(),
            p.id.clone().into_bytes(),
        );
        self.touch_problem(p);
        Ok(())
    }

    /// Rewrites the record of an existing problem (its times).
    pub fn touch_problem(&mut self, p: &ProblemRecord) {
        self.put_json(k1("pb/", &p.id), p);
    }

    /// The newest problem record of `problem_key`.
    pub async fn problem_of_key(
        &mut self,
        problem_key: &str,
    ) -> Result<Option<ProblemRecord>, StoreError> {
        match self.get(&k1("pb.key/", problem_key)).await? {
            Some(id) => self.problem_record(&String::from_utf8_lossy(&id)).await,
            None => Ok(None),
        }
    }

    /// One page of problems, newest first.
    pub async fn problems_page(
        &mut self,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Result<Page<Problem>, String>, StoreError> {
        let mut pager = match Pager::new(
            vec![Source::desc(Range::prefix(b"pb.list/"))],
            cursor,
            limit,
            false,
        ) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        while let Some((_, rows)) = pager.next_batch(self).await? {
            let keys: Vec<Vec<u8>> = rows
                .iter()
                .map(|(_, id)| k1("pb/", &String::from_utf8_lossy(id)))
                .collect();
            let found = self.get_many(&keys).await?;
            for ((k, _), v) in rows.iter().zip(found) {
                let p = match v {
                    Some(v) => Some(
                        self.problem_view(crate::store::from_json("problems", &v)?)
                            .await?,
                    ),
                    None => None,
                };
                if !pager.take(k, p) {
                    break;
                }
            }
        }
        Ok(Ok(pager.finish()))
    }
}
