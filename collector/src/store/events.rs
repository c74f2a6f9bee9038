//! Device events, keyed `device id | at_ms (BE) | seq (BE)` so a prefix scan is the
//! device's timeline in time order. Agent events use the agent's own seq, which makes a
//! replayed event overwrite itself instead of duplicating. A second tree keyed
//! `at_ms | device key` orders every event by time, so retention prunes the oldest
//! without scanning devices.

use tend_shared::devices::DeviceEvent;

use super::{from_json, to_json, Store, StoreError};

/// Collector-originated events take seqs from this range, apart from agent seqs.
const COLLECTOR_SEQ_BIT: u64 = 1 << 63;

fn key(device_id: &str, at_ms: u64, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(device_id.len() + 17);
    k.extend_from_slice(device_id.as_bytes());
    k.push(0);
    k.extend_from_slice(&at_ms.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn prefix(device_id: &str) -> Vec<u8> {
    let mut k = device_id.as_bytes().to_vec();
    k.push(0);
    k
}

impl Store {
    fn insert_event(&self, k: Vec<u8>, at_ms: u64, ev: &DeviceEvent) -> Result<(), StoreError> {
        let mut t = at_ms.to_be_bytes().to_vec();
        t.extend_from_slice(&k);
        self.events_by_time.insert(t, &[])?;
        self.events.insert(k, to_json(ev))?;
        Ok(())
    }

    /// Stores an agent event under the agent's seq (idempotent on replay).
    pub fn put_agent_event(
        &self,
        device_id: &str,
        seq: u64,
        ev: &DeviceEvent,
    ) -> Result<(), StoreError> {
        self.insert_event(
            key(device_id, ev.at_ms, seq & !COLLECTOR_SEQ_BIT),
            ev.at_ms,
            ev,
        )
    }

    /// Deletes events older than `before_ms`, at most `max` of them; returns how many.
    pub fn prune_events(&self, before_ms: u64, max: usize) -> Result<usize, StoreError> {
        if self.events_by_time.is_empty() && !self.events.is_empty() {
            self.index_events_by_time()?;
        }
        let mut n = 0;
        for item in self
            .events_by_time
            .range(..before_ms.to_be_bytes())
            .take(max)
        {
            let (t, _) = item?;
            self.events.remove(&t[8..])?;
            self.events_by_time.remove(&t)?;
            n += 1;
        }
        Ok(n)
    }

    /// Builds the time index of a store from before it existed (once).
    fn index_events_by_time(&self) -> Result<(), StoreError> {
        for item in self.events.iter() {
            let (k, _) = item?;
            if let Some(zero) = k.iter().position(|b| *b == 0) {
                if let Some(at) = k.get(zero + 1..zero + 9) {
                    let mut t = at.to_vec();
                    t.extend_from_slice(&k);
                    self.events_by_time.insert(t, &[])?;
                }
            }
        }
        Ok(())
    }

    /// Whether this agent event (time, seq) is already stored.
    pub fn agent_event_exists(
        &self,
        device_id: &str,
        at_ms: u64,
        seq: u64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .events
            .contains_key(key(device_id, at_ms, seq & !COLLECTOR_SEQ_BIT))?)
    }

    /// Appends an event the collector itself observed.
    pub fn append_collector_event(
        &self,
        device_id: &str,
        ev: &DeviceEvent,
    ) -> Result<(), StoreError> {
        let seq = self.next_id()? | COLLECTOR_SEQ_BIT;
        self.insert_event(key(device_id, ev.at_ms, seq), ev.at_ms, ev)
    }

    /// The newest `limit` events of a device, newest first.
    pub fn recent_events(
        &self,
        device_id: &str,
        limit: usize,
    ) -> Result<Vec<DeviceEvent>, StoreError> {
        let mut out = Vec::new();
        for item in self.events.scan_prefix(prefix(device_id)).rev().take(limit) {
            let (_, v) = item?;
            out.push(from_json("events", &v)?);
        }
        Ok(out)
    }

    /// A device's events at or after `since_ms`, oldest first.
    pub fn events_since(
        &self,
        device_id: &str,
        since_ms: u64,
    ) -> Result<Vec<DeviceEvent>, StoreError> {
        let mut end = prefix(device_id);
        *end.last_mut().expect("prefix ends in 0") = 1;
        let mut out = Vec::new();
        for item in self.events.range(key(device_id, since_ms, 0)..end) {
            let (_, v) = item?;
            out.push(from_json("events", &v)?);
        }
        Ok(out)
    }

    /// Every event of a device, oldest first.
    pub fn all_events(&self, device_id: &str) -> Result<Vec<DeviceEvent>, StoreError> {
        let mut out = Vec::new();
        for item in self.events.scan_prefix(prefix(device_id)) {
            let (_, v) = item?;
            out.push(from_json("events", &v)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use tend_shared::devices::EventSource;

    use super::*;

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

    #[test]
    fn time_ordered_and_replay_idempotent() {
        let (_d, s) = crate::store::temp_store();
        s.put_agent_event("aa", 2, &ev(20, "b")).unwrap();
        s.put_agent_event("aa", 1, &ev(10, "a")).unwrap();
        s.put_agent_event("aa", 1, &ev(10, "a")).unwrap();
        s.append_collector_event("aa", &ev(30, "c")).unwrap();
        s.put_agent_event("aab", 1, &ev(5, "other device")).unwrap();
        let kinds: Vec<_> = s
            .all_events("aa")
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["a", "b", "c"]);
        let recent: Vec<_> = s
            .recent_events("aa", 2)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(recent, ["c", "b"]);
        // retention: everything before t = 15 goes, in time order across devices
        assert_eq!(s.prune_events(15, 100).unwrap(), 2);
        let left: Vec<_> = s
            .all_events("aa")
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(left, ["b", "c"]);
        assert!(s.all_events("aab").unwrap().is_empty());
    }
}
