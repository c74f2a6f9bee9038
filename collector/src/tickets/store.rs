//! Tickets, their indexes and timelines, and the filtered, sorted, paged list.
//!
//! One open ticket per (device, problem key) is a rule of the store: the
//! `tk.open/<device>/<problem>` key is read and written by every unit that opens a
//! ticket, so of two units opening the same problem one conflicts and, run again,
//! finds the other's ticket. Ticket numbers are drawn without a hot key (a block
//! leased by the sled store, a PostgreSQL sequence): unique and increasing, never
//! given out twice; a filing that ran again after a conflict keeps its number, one
//! that failed (or lost a race to file the same problem), or a crash, skips some.
//!
//! Each ticket write diffs its index entries (old record vs new) and writes only what
//! changed: by status, device, asset, problem key, assignee, creation (with a compact
//! report row), update time, priority, resolution due time, the two SLA-breach
//! watch lists the sweep reads, and the problem links (`problems::link_index`).

use serde::{Deserialize, Serialize};
use tend_shared::tickets::{
    Priority, Ticket, TicketSettings, TicketSource, TicketStatus, TimelineEntry,
};

use crate::store::counters::OPEN_TICKETS;
use crate::store::keys::{k1, k2, Key};
use crate::store::kv::TICKET_NUMBERS;
use crate::store::kv::{Order, Range, Tx};
use crate::store::paging::time_range;
use crate::store::StoreError;
use crate::tickets::sla::{self, SlaParts};

/// What the store keeps per ticket: the wire ticket plus engine bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRecord {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Set while the ticket is pending.
    #[serde(default)]
    pub pending_since_ms: Option<u64>,
    /// Completed pending periods.
    #[serde(default)]
    pub pending_total_ms: u64,
    /// Consecutive passing reports of the problem's check.
    #[serde(default)]
    pub passes: u32,
    #[serde(default)]
    pub own_breach_noted: bool,
    #[serde(default)]
    pub resolve_breach_noted: bool,
    /// The due times the indexes hold (set at each write from the SLA settings then).
    #[serde(default)]
    pub indexed_own_due_ms: u64,
    #[serde(default)]
    pub indexed_resolve_due_ms: u64,
}

impl TicketRecord {
    /// A fresh record around `ticket`: not pending, no passes, no breach noted.
    pub fn new(ticket: Ticket) -> TicketRecord {
        TicketRecord {
            ticket,
            pending_since_ms: None,
            pending_total_ms: 0,
            passes: 0,
            own_breach_noted: false,
            resolve_breach_noted: false,
            indexed_own_due_ms: 0,
            indexed_resolve_due_ms: 0,
        }
    }

    /// The compact row reports read.
    pub fn row(&self) -> TicketRow {
        let t = &self.ticket;
        TicketRow {
            id: t.id.clone(),
            status: t.status,
            priority: t.priority,
            category: t.category.clone(),
            problem_key: t.problem_key.clone(),
            source: t.source,
            created_at_ms: t.created_at_ms,
            owned_at_ms: t.owned_at_ms,
            resolved_at_ms: t.resolved_at_ms,
            auto_resolved: t.auto_resolved,
            reopen_count: t.reopen_count,
            pending_total_ms: self.pending_total_ms,
            pending_since_ms: self.pending_since_ms,
        }
    }
}

/// A ticket as reports see it (stored beside the creation index, so a report over
/// 100,000 tickets decodes small rows, not whole tickets with their evidence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRow {
    pub id: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category: String,
    pub problem_key: String,
    pub source: TicketSource,
    pub created_at_ms: u64,
    pub owned_at_ms: Option<u64>,
    pub resolved_at_ms: Option<u64>,
    pub auto_resolved: bool,
    pub reopen_count: u32,
    pub pending_total_ms: u64,
    pub pending_since_ms: Option<u64>,
}

impl TicketRow {
    /// The stored form: fixed fields, then three length-prefixed strings (decoding
    /// 100,000 of these is a few milliseconds; JSON took ~3 µs each).
    pub fn encode(&self) -> Vec<u8> {
        let mut b =
            Vec::with_capacity(64 + self.category.len() + self.problem_key.len() + self.id.len());
        let index_of =
            |s: TicketStatus| TicketStatus::ALL.iter().position(|x| *x == s).unwrap_or(0) as u8;
        let prio = Priority::ALL
            .iter()
            .position(|x| *x == self.priority)
            .unwrap_or(0) as u8;
        let source = match self.source {
            TicketSource::Agent => 0u8,
            TicketSource::Collector => 1,
            TicketSource::Analyst => 2,
            TicketSource::User => 3,
        };
        let flags = u8::from(self.auto_resolved)
            | u8::from(self.owned_at_ms.is_some()) << 1
            | u8::from(self.resolved_at_ms.is_some()) << 2
            | u8::from(self.pending_since_ms.is_some()) << 3;
        b.extend_from_slice(&[1, index_of(self.status), prio, source, flags]);
        for n in [
            self.created_at_ms,
            self.owned_at_ms.unwrap_or(0),
            self.resolved_at_ms.unwrap_or(0),
            self.pending_total_ms,
            self.pending_since_ms.unwrap_or(0),
        ] {
            b.extend_from_slice(&n.to_le_bytes());
        }
        b.extend_from_slice(&self.reopen_count.to_le_bytes());
        for s in [&self.category, &self.problem_key, &self.id] {
            let s = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
            b.extend_from_slice(&(s.len() as u16).to_le_bytes());
            b.extend_from_slice(s);
        }
        b
    }

    /// Reads [`TicketRow::encode`]'s form back.
    pub fn decode(b: &[u8]) -> Option<TicketRow> {
        let r = RowRef::parse(b)?;
        Some(TicketRow {
            id: r.id.to_string(),
            category: r.category.to_string(),
            problem_key: r.problem_key.to_string(),
            ..r.fixed
        })
    }

    pub fn sla_parts(&self) -> SlaParts {
        SlaParts {
            priority: self.priority,
            status: self.status,
            created_at_ms: self.created_at_ms,
            owned_at_ms: self.owned_at_ms,
            resolved_at_ms: self.resolved_at_ms,
            pending_total_ms: self.pending_total_ms,
            pending_since_ms: self.pending_since_ms,
        }
    }
}

/// An encoded report row read in place: the fixed fields (strings left empty in
/// `fixed`) and the strings borrowed from the stored bytes.
#[derive(Debug)]
pub struct RowRef<'a> {
    pub fixed: TicketRow,
    pub category: &'a str,
    pub problem_key: &'a str,
    pub id: &'a str,
}

impl<'a> RowRef<'a> {
    pub fn parse(b: &'a [u8]) -> Option<RowRef<'a>> {
        let (head, rest) = (b.get(..5)?, b.get(5..)?);
        if head[0] != 1 {
            return None;
        }
        let n = |i: usize| -> Option<u64> {
            Some(u64::from_le_bytes(
                rest.get(i * 8..i * 8 + 8)?.try_into().ok()?,
            ))
        };
        let flags = head[4];
        let opt = |bit: u8, v: u64| (flags & bit != 0).then_some(v);
        let reopen = u32::from_le_bytes(rest.get(40..44)?.try_into().ok()?);
        let mut at = 44;
        let mut text = || -> Option<&'a str> {
            let len = u16::from_le_bytes(rest.get(at..at + 2)?.try_into().ok()?) as usize;
            let s = std::str::from_utf8(rest.get(at + 2..at + 2 + len)?).ok()?;
            at += 2 + len;
            Some(s)
        };
        let (category, problem_key, id) = (text()?, text()?, text()?);
        let fixed = TicketRow {
            id: String::new(),
            status: *TicketStatus::ALL.get(usize::from(head[1]))?,
            priority: *Priority::ALL.get(usize::from(head[2]))?,
            category: String::new(),
            problem_key: String::new(),
            source: match head[3] {
                0 => TicketSource::Agent,
                1 => TicketSource::Collector,
                3 => TicketSource::User,
                _ => TicketSource::Analyst,
            },
            created_at_ms: n(0)?,
            owned_at_ms: opt(2, n(1)?),
            resolved_at_ms: opt(4, n(2)?),
            auto_resolved: flags & 1 != 0,
            reopen_count: reopen,
            pending_total_ms: n(3)?,
            pending_since_ms: opt(8, n(4)?),
        };
        Some(RowRef {
            fixed,
            category,
            problem_key,
            id,
        })
    }
}

pub(crate) fn state_word(open: bool) -> &'static str {
    if open {
        "open"
    } else {
        "done"
    }
}

/// Every index entry of `t`: (key, value). Depends on the record alone (due times
/// included), so the entries of the stored record are exactly what was written.
fn own_index(t: &TicketRecord) -> Vec<(Vec<u8>, Vec<u8>)> {
    let tk = &t.ticket;
    let id = tk.id.as_bytes().to_vec();
    let open = tk.status.is_open();
    let c = tk.created_at_ms;
    let mut out = vec![
        (
            Key::new("tk.created/").n(c).s(&tk.id).build(),
            t.row().encode(),
        ),
        (
            Key::new("tk.state/")
                .s(state_word(open))
                .n(c)
                .s(&tk.id)
                .build(),
            id.clone(),
        ),
        (
            Key::new("tk.status/")
                .s(tk.status.as_str())
                .n(c)
                .s(&tk.id)
                .build(),
            id.clone(),
        ),
        (
            Key::new("tk.dev/").s(&tk.device_id).n(c).s(&tk.id).build(),
            id.clone(),
        ),
        (
            Key::new("tk.prob/")
                .s(&tk.problem_key)
                .n(c)
                .s(&tk.id)
                .build(),
            id.clone(),
        ),
        (
            Key::new("tk.upd/").n(tk.updated_at_ms).s(&tk.id).build(),
            id.clone(),
        ),
        (
            Key::new("tk.prio/")
                .s(state_word(open))
                .s(tk.priority.as_str())
                .n(u64::MAX - c)
                .s(&tk.id)
                .build(),
            id.clone(),
        ),
    ];
    if let Some(a) = &tk.asset_id {
        out.push((
            Key::new("tk.asset/").s(a).n(c).s(&tk.id).build(),
            id.clone(),
        ));
    }
    if let Some(a) = &tk.assignee {
        out.push((Key::new("tk.asg/").s(a).n(c).s(&tk.id).build(), id.clone()));
    }
    if open {
        out.push((k2("tk.open/", &tk.device_id, &tk.problem_key), id.clone()));
        let pending = t.pending_since_ms.is_some();
        let resolve_due = t.indexed_resolve_due_ms;
        out.push((
            Key::new("tk.due/").n(resolve_due).s(&tk.id).build(),
            id.clone(),
        ));
        if tk.owned_at_ms.is_none() && !t.own_breach_noted {
            out.push((
                Key::new("tk.sla.own/")
                    .n(t.indexed_own_due_ms)
                    .s(&tk.id)
                    .build(),
                id.clone(),
            ));
        }
        if !pending && !t.resolve_breach_noted {
            out.push((
                Key::new("tk.sla.res/").n(resolve_due).s(&tk.id).build(),
                id.clone(),
            ));
        }
    }
    out
}

/// Every index entry of `t`: its own and its problem links.
fn index(t: &TicketRecord) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = own_index(t);
    out.extend(super::problems::link_index(t));
    out
}

impl Tx {
    /// The next ticket number (T-1, T-2, …): unique and increasing, without a key
    /// every filing would conflict on.
    pub async fn next_ticket_number(&mut self) -> Result<u64, StoreError> {
        self.next_number(TICKET_NUMBERS).await
    }

    pub async fn ticket(&mut self, id: &str) -> Result<Option<TicketRecord>, StoreError> {
        self.get_json("tickets", &k1("tk/", id)).await
    }

    /// Writes a ticket, keeping every index, the open-ticket counter and (for a new
    /// ticket) the latest-ticket pointer in step.
    pub async fn put_ticket(
        &mut self,
        t: &TicketRecord,
        settings: &TicketSettings,
    ) -> Result<(), StoreError> {
        let mut t = t.clone();
        let due = sla::compute(&t, settings, t.ticket.created_at_ms);
        t.indexed_own_due_ms = due.own_due_ms;
        // a pending ticket's clock is stopped: it sorts last and cannot breach
        t.indexed_resolve_due_ms = if t.pending_since_ms.is_some() {
            u64::MAX
        } else {
            due.resolve_due_ms
        };
        let t = &t;
        let old = self.ticket(&t.ticket.id).await?;
        let new = index(t);
        let old_index = old.as_ref().map(index).unwrap_or_default();
        for (k, _) in &old_index {
            if !new.iter().any(|(n, _)| n == k) {
                self.delete(k.clone());
            }
        }
        for (k, v) in new {
            if !old_index.iter().any(|(o, ov)| *o == k && *ov == v) {
                self.put(k, v);
            }
        }
        let was_open = old.as_ref().is_some_and(|o| o.ticket.status.is_open());
        let is_open = t.ticket.status.is_open();
        if was_open != is_open {
            self.count_add(
                OPEN_TICKETS,
                &t.ticket.device_id,
                if is_open { 1 } else { -1 },
            )
            .await?;
        }
        if old.is_none() {
            self.put(
                k2("tk.last/", &t.ticket.device_id, &t.ticket.problem_key),
                t.ticket.id.clone().into_bytes(),
            );
        }
        self.put_json(k1("tk/", &t.ticket.id), t);
        Ok(())
    }

    /// The open ticket for (device, problem key).
    pub async fn open_ticket(
        &mut self,
        device_id: &str,
        problem_key: &str,
    ) -> Result<Option<TicketRecord>, StoreError> {
        match self.get(&k2("tk.open/", device_id, problem_key)).await? {
            Some(id) => self.ticket(&String::from_utf8_lossy(&id)).await,
            None => Ok(None),
        }
    }

    /// The most recently created ticket for (device, problem key).
    pub async fn last_ticket(
        &mut self,
        device_id: &str,
        problem_key: &str,
    ) -> Result<Option<TicketRecord>, StoreError> {
        match self.get(&k2("tk.last/", device_id, problem_key)).await? {
            Some(id) => self.ticket(&String::from_utf8_lossy(&id)).await,
            None => Ok(None),
        }
    }

    async fn tickets_named(
        &mut self,
        rows: &[(bytes::Bytes, bytes::Bytes)],
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let keys: Vec<Vec<u8>> = rows
            .iter()
            .map(|(_, id)| k1("tk/", &String::from_utf8_lossy(id)))
            .collect();
        self.get_json_many("tickets", &keys).await
    }

    /// Open tickets of one device (at most `max`).
    pub async fn open_tickets_of(
        &mut self,
        device_id: &str,
        max: usize,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let rows = self
            .scan(&Range::prefix(&k1("tk.open/", device_id)), Order::Asc, max)
            .await?;
        self.tickets_named(&rows).await
    }

    /// True when the device has any open ticket (one probe).
    pub async fn has_open_tickets(&mut self, device_id: &str) -> Result<bool, StoreError> {
        Ok(!self
            .scan(&Range::prefix(&k1("tk.open/", device_id)), Order::Asc, 1)
            .await?
            .is_empty())
    }

    /// Tickets of `problem_key` created at or after `since_ms` (at most `max`).
    pub async fn tickets_of_problem_since(
        &mut self,
        problem_key: &str,
        since_ms: u64,
        max: usize,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let range = time_range(&k1("tk.prob/", problem_key), Some(since_ms), None);
        let rows = self.scan(&range, Order::Asc, max).await?;
        self.tickets_named(&rows).await
    }

    /// Open tickets on an SLA watch list (`own` or `res`) due at or before `now_ms`.
    pub async fn sla_due(
        &mut self,
        which: &str,
        now_ms: u64,
        max: usize,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let prefix = format!("tk.sla.{which}/");
        let range = Range {
            start: Key::new(&prefix).build(),
            end: Key::new(&prefix).n(now_ms.saturating_add(1)).build(),
        };
        let rows = self.scan(&range, Order::Asc, max).await?;
        self.tickets_named(&rows).await
    }

    /// Every open ticket (rebuilding indexes after a settings change; bounded by the
    /// backlog).
    pub async fn open_ticket_ids(
        &mut self,
        after: Option<&[u8]>,
        max: usize,
    ) -> Result<Vec<(Vec<u8>, String)>, StoreError> {
        let mut range = Range::prefix(&k1("tk.state/", "open"));
        if let Some(a) = after {
            range.start = a.to_vec();
            range.start.push(0);
        }
        Ok(self
            .scan(&range, Order::Asc, max)
            .await?
            .into_iter()
            .map(|(k, v)| (k.to_vec(), String::from_utf8_lossy(&v).into_owned()))
            .collect())
    }

    /// The ticket a client request id already produced.
    pub async fn ticket_for_request(
        &mut self,
        scope: &str,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(&k2("tk.req/", scope, request_id))
            .await?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn put_ticket_request(&mut self, scope: &str, request_id: &str, ticket_id: &str) {
        self.put(
            k2("tk.req/", scope, request_id),
            ticket_id.as_bytes().to_vec(),
        );
    }

    pub async fn append_timeline(
        &mut self,
        ticket_id: &str,
        e: &TimelineEntry,
    ) -> Result<(), StoreError> {
        let seq = self.next_id().await?;
        self.put_json(Key::new("tl/").s(ticket_id).n(seq).build(), e);
        Ok(())
    }

    pub async fn timeline(&mut self, ticket_id: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows = self
            .scan(&Range::prefix(&k1("tl/", ticket_id)), Order::Asc, 10_000)
            .await?;
        rows.iter()
            .map(|(_, v)| crate::store::from_json("timeline", v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_rows_round_trip() {
        let mut r = crate::store::conformance_ticket("T-77", "dev").row();
        assert_eq!(TicketRow::decode(&r.encode()), Some(r.clone()));
        r.owned_at_ms = Some(5);
        r.resolved_at_ms = Some(9);
        r.pending_since_ms = Some(7);
        r.auto_resolved = true;
        r.status = TicketStatus::Closed;
        r.source = TicketSource::Analyst;
        r.problem_key = "crash:é\u{0}x".into();
        assert_eq!(TicketRow::decode(&r.encode()), Some(r));
        assert_eq!(TicketRow::decode(b"\x02junk"), None);
    }
}
