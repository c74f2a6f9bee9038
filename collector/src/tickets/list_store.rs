//! The ticket list: filters, sorts, and which index range answers them, a page at a
//! time (newest first from the creation index or a per-value index; by update time,
//! priority or due time from theirs), the rest of the filter applied to each record.

use tend_shared::tickets::{Priority, TicketSettings, TicketStatus};

use crate::store::keys::{k1, Key};
use crate::store::kv::{Range, Tx};
use crate::store::paging::{time_range, Cursor, Page, Pager, Source};
use crate::store::StoreError;
use crate::tickets::sla;
use crate::tickets::store::{state_word, TicketRecord, TicketRow};

/// How the ticket list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketSort {
    /// Newest first.
    #[default]
    Created,
    /// Most recently updated first.
    Updated,
    /// P1 first, newest first within a priority (open tickets before closed ones).
    Priority,
    /// Soonest resolution due first (open tickets only; pending ones last).
    Due,
}

/// Filters of the ticket list.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub statuses: Option<Vec<TicketStatus>>,
    pub priority: Option<Priority>,
    pub device: Option<String>,
    pub asset: Option<String>,
    pub problem_key: Option<String>,
    pub problem: Option<String>,
    pub assignee: Option<String>,
    /// Only tickets nobody is assigned to.
    pub unassigned: bool,
    /// Breached either target (needs the SLA settings and the time).
    pub breached: Option<bool>,
    pub open: Option<bool>,
    pub created_after: Option<u64>,
    pub created_before: Option<u64>,
    pub sort: TicketSort,
}

impl TicketFilter {
    fn matches(&self, t: &TicketRecord, settings: &TicketSettings, now: u64) -> bool {
        let tk = &t.ticket;
        self.statuses
            .as_ref()
            .is_none_or(|s| s.contains(&tk.status))
            && self.priority.is_none_or(|p| tk.priority == p)
            && self.device.as_deref().is_none_or(|d| tk.device_id == d)
            && self
                .asset
                .as_deref()
                .is_none_or(|a| tk.asset_id.as_deref() == Some(a))
            && self
                .problem_key
                .as_deref()
                .is_none_or(|k| tk.problem_key == k)
            && self
                .problem
                .as_deref()
                .is_none_or(|p| tk.problem_id.as_deref() == Some(p))
            && self
                .assignee
                .as_deref()
                .is_none_or(|a| tk.assignee.as_deref() == Some(a))
            && (!self.unassigned || tk.assignee.is_none())
            && self.open.is_none_or(|o| tk.status.is_open() == o)
            && self.created_after.is_none_or(|a| tk.created_at_ms >= a)
            && self.created_before.is_none_or(|b| tk.created_at_ms < b)
            && self.breached.is_none_or(|b| {
                let s = sla::compute(t, settings, now);
                (s.own_breached || s.resolve_breached) == b
            })
    }

    /// Open (Some(true)), closed (Some(false)) or both, from `open` and `statuses`.
    fn state(&self) -> Option<bool> {
        if self.open.is_some() {
            return self.open;
        }
        let s = self.statuses.as_ref()?;
        if !s.is_empty() && s.iter().all(|s| s.is_open()) {
            Some(true)
        } else if !s.is_empty() && s.iter().all(|s| !s.is_open()) {
            Some(false)
        } else {
            None
        }
    }

    /// The index ranges to read, in order.
    fn sources(&self) -> Vec<Source> {
        let (from, to) = (self.created_after, self.created_before);
        let by_created = |prefix: Vec<u8>| Source::desc(time_range(&prefix, from, to));
        match self.sort {
            TicketSort::Created => {
                let prefix = if let Some(d) = &self.device {
                    k1("tk.dev/", d)
                } else if let Some(a) = &self.asset {
                    k1("tk.asset/", a)
                } else if let Some(p) = &self.problem {
                    k1("tk.pbid/", p)
                } else if let Some(k) = &self.problem_key {
                    k1("tk.prob/", k)
                } else if let Some(a) = &self.assignee {
                    k1("tk.asg/", a)
                } else if let Some([s]) = self.statuses.as_deref() {
                    k1("tk.status/", s.as_str())
                } else if let Some(open) = self.state() {
                    k1("tk.state/", state_word(open))
                } else {
                    b"tk.created/".to_vec()
                };
                vec![by_created(prefix)]
            }
            TicketSort::Updated => vec![Source::desc(Range::prefix(b"tk.upd/"))],
            TicketSort::Priority => {
                let states: Vec<bool> = match self.state() {
                    Some(o) => vec![o],
                    None => vec![true, false],
                };
                let mut out = Vec::new();
                for open in states {
                    let prios: Vec<Priority> = match self.priority {
                        Some(p) => vec![p],
                        None => Priority::ALL.to_vec(),
                    };
                    for p in prios {
                        out.push(Source::asc(Range::prefix(
                            &Key::new("tk.prio/")
                                .s(state_word(open))
                                .s(p.as_str())
                                .build(),
                        )));
                    }
                }
                out
            }
            TicketSort::Due => vec![Source::asc(Range::prefix(b"tk.due/"))],
        }
    }

    fn narrow(&self) -> bool {
        // true when the chosen index already is the whole filter
        let extra = [
            self.priority.is_some() && self.sort != TicketSort::Priority,
            self.breached.is_some(),
            self.unassigned,
            self.statuses.as_ref().is_some_and(|s| s.len() > 1),
            [
                self.device.is_some(),
                self.asset.is_some(),
                self.problem_key.is_some(),
                self.problem.is_some(),
                self.assignee.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count()
                > 1,
        ];
        !extra.contains(&true)
    }
}

impl Tx {
    /// One page of tickets matching `f`.
    pub async fn tickets_page(
        &mut self,
        f: &TicketFilter,
        settings: &TicketSettings,
        now: u64,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Result<Page<TicketRecord>, String>, StoreError> {
        if f.sort == TicketSort::Due && f.state() == Some(false) {
            return Ok(Err(
                "sort=due lists open tickets; closed tickets have no due time".into(),
            ));
        }
        let created_rows = f.sort == TicketSort::Created
            && f.sources()
                .first()
                .is_some_and(|s| s.range.start.starts_with(b"tk.created/"));
        let mut pager = match Pager::new(f.sources(), cursor, limit, !f.narrow()) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        while let Some((_, rows)) = pager.next_batch(self).await? {
            let keys: Vec<Vec<u8>> = rows
                .iter()
                .map(|(_, v)| {
                    let id = if created_rows {
                        TicketRow::decode(v).map(|r| r.id).unwrap_or_default()
                    } else {
                        String::from_utf8_lossy(v).into_owned()
                    };
                    k1("tk/", &id)
                })
                .collect();
            let found = self.get_many(&keys).await?;
            for ((k, _), v) in rows.iter().zip(found) {
                let t: Option<TicketRecord> = v
                    .map(|v| crate::store::from_json("tickets", &v))
                    .transpose()?;
                let keep = t.filter(|t| f.matches(t, settings, now));
                if !pager.take(k, keep) {
                    break;
                }
            }
        }
        Ok(Ok(pager.finish()))
    }
}
