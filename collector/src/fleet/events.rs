//! Device events, keyed `device | at_ms | seq` so a prefix scan is the device's
//! timeline in time order. Agent events use the agent's own seq, which makes a
//! replayed event overwrite itself instead of duplicating. A time index
//! (`at_ms | device | seq`) orders every event by time, so retention prunes the
//! oldest without scanning devices.

use tend_shared::devices::DeviceEvent;

use crate::store::keys::{k1, Key};
use crate::store::kv::{Order, Range, Tx};
use crate::store::paging::{Cursor, Page, Pager, Source};
use crate::store::StoreError;

/// Collector-originated events take seqs from this range, apart from agent seqs.
const COLLECTOR_SEQ_BIT: u64 = 1 << 63;

fn key(device_id: &str, at_ms: u64, seq: u64) -> Vec<u8> {
    Key::new("ev/").s(device_id).n(at_ms).n(seq).build()
}

fn time_key(device_id: &str, at_ms: u64, seq: u64) -> Vec<u8> {
    Key::new("ev.t/").n(at_ms).s(device_id).n(seq).build()
}

impl Tx {
    fn insert_event(&mut self, device_id: &str, seq: u64, ev: &DeviceEvent) {
        let k = key(device_id, ev.at_ms, seq);
        self.put(time_key(device_id, ev.at_ms, seq), k.clone());
        self.put_json(k, ev);
    }

    /// Stores an agent event under the agent's seq (idempotent on replay).
    pub fn put_agent_event(&mut self, device_id: &str, seq: u64, ev: &DeviceEvent) {
        self.insert_event(device_id, seq & !COLLECTOR_SEQ_BIT, ev);
    }

    /// Appends an event the collector itself observed.
    pub async fn append_collector_event(
        &mut self,
        device_id: &str,
        ev: &DeviceEvent,
    ) -> Result<(), StoreError> {
        let seq = self.next_id().await? | COLLECTOR_SEQ_BIT;
        self.insert_event(device_id, seq, ev);
        Ok(())
    }

    /// Deletes events older than `before_ms`, at most `max` of them; returns how many.
    pub async fn prune_events(&mut self, before_ms: u64, max: usize) -> Result<usize, StoreError> {
        let range = Range {
            start: Key::new("ev.t/").build(),
            end: Key::new("ev.t/").n(before_ms).build(),
        };
        let rows = self.scan(&range, Order::Asc, max).await?;
        for (t, k) in &rows {
            self.delete(k.to_vec());
            self.delete(t.to_vec());
        }
        Ok(rows.len())
    }

    /// Whether this agent event (time, seq) is already stored.
    pub async fn agent_event_exists(
        &mut self,
        device_id: &str,
        at_ms: u64,
        seq: u64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .get(&key(device_id, at_ms, seq & !COLLECTOR_SEQ_BIT))
            .await?
            .is_some())
    }

    /// The newest `limit` events of a device, newest first.
    pub async fn recent_events(
        &mut self,
        device_id: &str,
        limit: usize,
    ) -> Result<Vec<DeviceEvent>, StoreError> {
        let rows = self
            .scan(&Range::prefix(&k1("ev/", device_id)), Order::Desc, limit)
            .await?;
        rows.iter()
            .map(|(_, v)| crate::store::from_json("events", v))
            .collect()
    }

    /// A device's events at or after `since_ms`, oldest first (at most `limit`).
    pub async fn events_since(
        &mut self,
        device_id: &str,
        since_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeviceEvent>, StoreError> {
        let prefix = k1("ev/", device_id);
        let range = Range {
            start: Key::new("").raw(&prefix).n(since_ms).build(),
            end: Range::prefix(&prefix).end,
        };
        let rows = self.scan(&range, Order::Asc, limit).await?;
        rows.iter()
            .map(|(_, v)| crate::store::from_json("events", v))
            .collect()
    }

    /// One page of a device's events, newest first, optionally only before `before_ms`.
    pub async fn events_page(
        &mut self,
        device_id: &str,
        before_ms: Option<u64>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Result<Page<DeviceEvent>, String>, StoreError> {
        let prefix = k1("ev/", device_id);
        let mut range = Range::prefix(&prefix);
        if let Some(b) = before_ms {
            range.end = Key::new("").raw(&prefix).n(b).build();
        }
        let mut pager = match Pager::new(vec![Source::desc(range)], cursor, limit, false) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        while let Some((_, rows)) = pager.next_batch(self).await? {
            for (k, v) in &rows {
                if !pager.take(k, Some(crate::store::from_json("events", v)?)) {
                    break;
                }
            }
        }
        Ok(Ok(pager.finish()))
    }
}

#[cfg(test)]
mod tests {
    use tend_shared::devices::EventSource;

    use super::*;
    use crate::store::StoreError;

    fn ev(at_ms: u64, kind: &str) -> DeviceEvent {
        DeviceEvent {
            at_ms,
            source: EventSource::Agent,
            seq: None,
            kind: kind.into(),
            check_id: None,
            message: String::new(),
            data: serde_json::Value::Null,
        }
    }

    async fn kinds(s: &crate::store::Store, dev: &str) -> Vec<String> {
        let mut r = s.read();
        r.events_since(dev, 0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    #[tokio::test]
    async fn time_ordered_and_replay_idempotent() {
        let (_d, s) = crate::store::temp_store();
        crate::atomic!(s, tx: StoreError => {
            tx.put_agent_event("aa", 2, &ev(20, "b"));
            tx.put_agent_event("aa", 1, &ev(10, "a"));
            tx.put_agent_event("aa", 1, &ev(10, "a"));
            tx.append_collector_event("aa", &ev(30, "c")).await?;
            tx.put_agent_event("aab", 1, &ev(5, "other device"));
            Ok(())
        })
        .unwrap();
        assert_eq!(kinds(&s, "aa").await, ["a", "b", "c"]);
        let recent: Vec<_> = s
            .read()
            .recent_events("aa", 2)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(recent, ["c", "b"]);
        // retention: everything before t = 15 goes, in time order across devices
        let n = crate::atomic!(s, tx: StoreError => tx.prune_events(15, 100).await).unwrap();
        assert_eq!(n, 2);
        assert_eq!(kinds(&s, "aa").await, ["b", "c"]);
        assert!(kinds(&s, "aab").await.is_empty());
    }
}
