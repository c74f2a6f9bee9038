//! Counters kept in step with the records they count, so `/healthz` and `/metrics`
//! read a handful of keys instead of every record.
//!
//! A counter is 16 shards (`ctr/<name>/<shard>`, i64 little-endian); a change adds
//! to the shard its subject hashes to, inside the unit of work that changes the
//! record, so concurrent units touching different subjects rarely conflict. Reading
//! sums the shards.

use std::collections::BTreeMap;

use tend_shared::health::HealthStatus;

use super::keys::Key;
use super::kv::{Order, Range, Tx};
use super::StoreError;

const SHARDS: u64 = 16;

/// Devices in total.
pub const DEVICES: &str = "devices";
/// Open tickets in total.
pub const OPEN_TICKETS: &str = "tickets.open";

/// The counter of devices in one health state.
pub fn health_counter(h: HealthStatus) -> String {
    format!("devices.health.{}", h.as_str())
}

fn shard(subject: &str) -> u64 {
    // FNV-1a: stable across processes and versions
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in subject.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % SHARDS
}

fn decode(v: &[u8]) -> i64 {
    <[u8; 8]>::try_from(v).map_or(0, i64::from_le_bytes)
}

/// What the counters say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub devices: u64,
    pub by_health: BTreeMap<&'static str, u64>,
    pub open_tickets: u64,
}

impl Tx {
    /// Adds `delta` to counter `name` (the shard picked by `subject`).
    pub async fn count_add(
        &mut self,
        name: &str,
        subject: &str,
        delta: i64,
    ) -> Result<(), StoreError> {
        if delta == 0 {
            return Ok(());
        }
        let k = Key::new("ctr/").s(name).n(shard(subject)).build();
        let now = self.get(&k).await?.map_or(0, |v| decode(&v));
        self.put(k, (now + delta).to_le_bytes().to_vec());
        Ok(())
    }

    /// The value of counter `name`.
    pub async fn count(&mut self, name: &str) -> Result<i64, StoreError> {
        let rows = self
            .scan(
                &Range::prefix(&Key::new("ctr/").s(name).build()),
                Order::Asc,
                64,
            )
            .await?;
        Ok(rows.iter().map(|(_, v)| decode(v)).sum())
    }

    /// Sets counter `name` to `value` (rebuilding it from the records).
    pub async fn count_set(&mut self, name: &str, value: i64) -> Result<(), StoreError> {
        for s in 0..SHARDS {
            let k = Key::new("ctr/").s(name).n(s).build();
            self.put(k, if s == 0 { value } else { 0 }.to_le_bytes().to_vec());
        }
        Ok(())
    }

    /// Devices, devices per health state, open tickets.
    pub async fn counts(&mut self) -> Result<Counts, StoreError> {
        let mut c = Counts {
            devices: self.count(DEVICES).await?.max(0) as u64,
            open_tickets: self.count(OPEN_TICKETS).await?.max(0) as u64,
            ..Counts::default()
        };
        for h in HealthStatus::ALL {
            c.by_health.insert(
                h.as_str(),
                self.count(&health_counter(h)).await?.max(0) as u64,
            );
        }
        Ok(c)
    }
}
