//! What reports and the overview read from the ticket indexes: compact rows by
//! creation time, and counts over the open, priority and due-time indexes (no
//! ticket record is decoded).

use tend_shared::tickets::Priority;

use crate::store::keys::{k1, Key};
use crate::store::kv::{Order, Range, Tx};
use crate::store::paging::time_range;
use crate::store::StoreError;
use crate::tickets::store::state_word;

impl Tx {
    /// Compact rows of tickets created in `[from, to)`, encoded (`RowRef::parse`).
    pub async fn ticket_rows(
        &mut self,
        from: u64,
        to: u64,
    ) -> Result<Vec<bytes::Bytes>, StoreError> {
        let rows = self
            .scan(
                &time_range(b"tk.created/", Some(from), Some(to)),
                Order::Asc,
                usize::MAX,
            )
            .await?;
        Ok(rows.into_iter().map(|(_, v)| v).collect())
    }

    /// Open tickets created in `[from, to)` (the backlog's age buckets: a count
    /// over the open index, no record read).
    pub async fn open_created_between(&mut self, from: u64, to: u64) -> Result<u64, StoreError> {
        let prefix = k1("tk.state/", "open");
        self.count_keys(&time_range(&prefix, Some(from), Some(to)))
            .await
    }

    /// Open tickets of priority `p` (a count over the priority index).
    pub async fn open_with_priority(&mut self, p: Priority) -> Result<u64, StoreError> {
        let prefix = Key::new("tk.prio/")
            .s(state_word(true))
            .s(p.as_str())
            .build();
        self.count_keys(&Range::prefix(&prefix)).await
    }

    /// How many open tickets have their resolve target (`which` = `due`) or own
    /// target (`sla.own`) in `[from, to)`.
    pub async fn count_due(&mut self, which: &str, from: u64, to: u64) -> Result<u64, StoreError> {
        let prefix = format!("tk.{which}/");
        self.count_keys(&time_range(prefix.as_bytes(), Some(from), Some(to)))
            .await
    }

    /// Ids of open tickets whose resolve target (`which` = `due`) or own target
    /// (`sla.own`) falls in `[from, to)`.
    pub async fn due_between(
        &mut self,
        which: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<String>, StoreError> {
        let prefix = format!("tk.{which}/");
        let rows = self
            .scan(
                &time_range(prefix.as_bytes(), Some(from), Some(to)),
                Order::Asc,
                usize::MAX,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
            .collect())
    }
}
