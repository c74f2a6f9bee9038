//! Device records and their indexes (hardware UUID; health, platform, last seen;
//! hostname, serial and owner prefixes), the device counters, latest inventory and
//! latest health, and the filtered, paged device list.

use serde::{Deserialize, Serialize};
use tend_shared::devices::DeviceSummary;
use tend_shared::enroll::Platform;
use tend_shared::health::{CheckResult, HealthStatus};
use tend_shared::inventory::Inventory;

use crate::store::counters::{health_counter, DEVICES};
use crate::store::keys::{k1, Key};
use crate::store::kv::{Range, Tx};
use crate::store::paging::{Cursor, Page, Pager, Source};
use crate::store::StoreError;

/// What the collector keeps per enrolled device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub id: String,
    pub hardware_uuid: String,
    #[serde(default)]
    pub serial: Option<String>,
    pub hostname: String,
    pub platform: Platform,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub agent_version: String,
    pub enrolled_at_ms: u64,
    #[serde(default)]
    pub last_seen_ms: u64,
    #[serde(default)]
    pub health: HealthStatus,
    #[serde(default)]
    pub asset_id: Option<String>,
    /// The owner of its asset (kept in step by the asset service), for search.
    #[serde(default)]
    pub owner: Option<String>,
    /// Hex SHA-256 of the current device token.
    pub token_hash: String,
    /// Highest agent event seq stored.
    #[serde(default)]
    pub last_event_seq: u64,
    /// Content hash of the stored inventory.
    #[serde(default)]
    pub inventory_hash: String,
    #[serde(default)]
    pub policy_version: u64,
    /// The last self-update attempt.
    #[serde(default)]
    pub update: Option<tend_shared::releases::DeviceUpdate>,
    /// Versions whose update failed here: never offered to this device again.
    #[serde(default)]
    pub failed_versions: Vec<String>,
    /// The agent's own ed25519 public key (base64), given at its first enrollment:
    /// a re-enrollment signed by it proves the device.
    #[serde(default)]
    pub device_key: Option<String>,
    /// Set when an analyst decommissioned the device (its token was revoked).
    #[serde(default)]
    pub decommissioned_at_ms: Option<u64>,
    /// When the stored health was observed (0: unknown, records from before).
    #[serde(default)]
    pub health_at_ms: u64,
    /// `results_hash` of the stored health, when its agent sends heartbeats.
    #[serde(default)]
    pub health_hash: Option<String>,
}

impl DeviceRecord {
    pub fn summary(&self) -> DeviceSummary {
        DeviceSummary {
            id: self.id.clone(),
            hostname: self.hostname.clone(),
            platform: self.platform,
            serial: self.serial.clone(),
            hardware_uuid: self.hardware_uuid.clone(),
            os: self.os.clone(),
            agent_version: self.agent_version.clone(),
            health: self.health,
            enrolled_at_ms: self.enrolled_at_ms,
            last_seen_ms: self.last_seen_ms,
            asset_id: self.asset_id.clone(),
            owner: self.owner.clone(),
            update: self.update.clone(),
            decommissioned_at_ms: self.decommissioned_at_ms,
        }
    }

    /// Every index entry of this record: (key, value).
    pub(crate) fn index(&self) -> Vec<Vec<u8>> {
        let mut out = vec![
            k1("dev.hw/", &self.hardware_uuid),
            Key::new("dev.health/")
                .s(self.health.as_str())
                .s(&self.id)
                .build(),
            Key::new("dev.plat/")
                .s(self.platform.as_str())
                .s(&self.id)
                .build(),
            Key::new("dev.seen/")
                .n(self.last_seen_ms)
                .s(&self.id)
                .build(),
            Key::new("dev.host/")
                .s(&self.hostname.to_lowercase())
                .s(&self.id)
                .build(),
        ];
        if let Some(s) = self
            .serial
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            out.push(
                Key::new("dev.serial/")
                    .s(&s.to_lowercase())
                    .s(&self.id)
                    .build(),
            );
        }
        if let Some(o) = self
            .owner
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            out.push(
                Key::new("dev.owner/")
                    .s(&o.to_lowercase())
                    .s(&self.id)
                    .build(),
            );
        }
        out
    }
}

/// Filters of `GET /api/v1/devices`.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub platform: Option<Platform>,
    pub health: Option<HealthStatus>,
    /// Only devices whose last check-in is older than this (ms epoch).
    pub last_seen_before_ms: Option<u64>,
    /// Id, hostname, serial or owner prefix (case-insensitive).
    pub search: Option<String>,
    /// Order of the list (a search is ordered by where it matched).
    pub sort: DeviceSort,
}

/// How the device list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSort {
    /// By id (stable; the default).
    #[default]
    Id,
    /// By hostname, A to Z.
    Hostname,
    /// Most recently seen first.
    Recent,
    /// Longest silent first.
    Silent,
}

impl std::str::FromStr for DeviceSort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "id" => Ok(DeviceSort::Id),
            "hostname" => Ok(DeviceSort::Hostname),
            "recent" => Ok(DeviceSort::Recent),
            "silent" => Ok(DeviceSort::Silent),
            other => Err(format!(
                "unknown sort {other:?} (id|hostname|recent|silent)"
            )),
        }
    }
}

impl DeviceFilter {
    pub fn matches(&self, d: &DeviceRecord) -> bool {
        self.platform.is_none_or(|p| p == d.platform)
            && self.health.is_none_or(|h| h == d.health)
            && self.last_seen_before_ms.is_none_or(|t| d.last_seen_ms < t)
            && self.search.as_deref().is_none_or(|q| search_matches(q, d))
    }
}

/// Which search sources `q` matches in `d` (bit per source: id, hostname, serial, owner).
fn search_hits(q: &str, d: &DeviceRecord) -> [bool; 4] {
    let q = q.trim().to_lowercase();
    let pre = |s: Option<&str>| s.is_some_and(|s| s.trim().to_lowercase().starts_with(&q));
    if q.is_empty() {
        return [false; 4];
    }
    [
        d.id.starts_with(&q),
        pre(Some(&d.hostname)),
        pre(d.serial.as_deref()),
        pre(d.owner.as_deref()),
    ]
}

/// Does `q` name `d`: a prefix of its id, hostname, serial or owner (case-insensitive)?
pub fn search_matches(q: &str, d: &DeviceRecord) -> bool {
    search_hits(q, d).contains(&true)
}

#[derive(Serialize, Deserialize)]
struct Stamped<T> {
    at_ms: u64,
    value: T,
}

fn prefix_range(prefix: &str, value: &str) -> Range {
    Range::prefix(
        &Key::new(prefix)
            .build()
            .into_iter()
            .chain(value.bytes())
            .collect::<Vec<u8>>(),
    )
}

impl Tx {
    pub async fn device(&mut self, id: &str) -> Result<Option<DeviceRecord>, StoreError> {
        self.get_json("devices", &k1("dev/", id)).await
    }

    pub async fn device_by_hardware_uuid(
        &mut self,
        uuid: &str,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        match self.get(&k1("dev.hw/", uuid)).await? {
            Some(id) => self.device(&String::from_utf8_lossy(&id)).await,
            None => Ok(None),
        }
    }

    /// Writes a device, keeping its indexes and the device counters in step.
    pub async fn put_device(&mut self, d: &DeviceRecord) -> Result<(), StoreError> {
        let old = self.device(&d.id).await?.map(|o| (o.index(), o.health));
        self.put_device_over(old, d).await
    }

    /// Stores `d` over the version this unit read, given as its index keys and
    /// health (`None`: a new device), without decoding it again.
    pub async fn put_device_over(
        &mut self,
        old: Option<(Vec<Vec<u8>>, HealthStatus)>,
        d: &DeviceRecord,
    ) -> Result<(), StoreError> {
        let new_index = d.index();
        match &old {
            None => {
                self.count_add(DEVICES, &d.id, 1).await?;
                self.count_add(&health_counter(d.health), &d.id, 1).await?;
            }
            Some((old_index, old_health)) => {
                if *old_health != d.health {
                    self.count_add(&health_counter(*old_health), &d.id, -1)
                        .await?;
                    self.count_add(&health_counter(d.health), &d.id, 1).await?;
                }
                for k in old_index {
                    if !new_index.contains(k) {
                        self.delete(k.clone());
                    }
                }
            }
        }
        let old_index = old.map(|o| o.0).unwrap_or_default();
        for k in new_index {
            if !old_index.contains(&k) {
                self.put(k, d.id.clone().into_bytes());
            }
        }
        self.put_json(k1("dev/", &d.id), d);
        Ok(())
    }

    /// Read-modify-write of one device.
    pub async fn update_device(
        &mut self,
        id: &str,
        f: impl FnOnce(&mut DeviceRecord),
    ) -> Result<Option<DeviceRecord>, StoreError> {
        let Some(mut d) = self.device(id).await? else {
            return Ok(None);
        };
        f(&mut d);
        self.put_device(&d).await?;
        Ok(Some(d))
    }

    /// One page of the devices matching `filter`, read from the most selective
    /// index: a search reads the id, hostname, serial and owner prefixes in turn; a
    /// health or platform filter its index (id order); "not seen since" the last-seen
    /// index (oldest first); otherwise every device in id order.
    pub async fn devices_page(
        &mut self,
        filter: &DeviceFilter,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Result<Page<DeviceRecord>, String>, StoreError> {
        let search = filter
            .search
            .as_deref()
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
        let sources = if let Some(q) = &search {
            vec![
                Source::asc(prefix_range("dev/", q)),
                Source::asc(prefix_range("dev.host/", q)),
                Source::asc(prefix_range("dev.serial/", q)),
                Source::asc(prefix_range("dev.owner/", q)),
            ]
        } else if filter.sort == DeviceSort::Hostname {
            vec![Source::asc(Range::prefix(b"dev.host/"))]
        } else if filter.sort == DeviceSort::Recent {
            vec![Source::desc(Range::prefix(b"dev.seen/"))]
        } else if filter.sort == DeviceSort::Silent {
            vec![Source::asc(Range::prefix(b"dev.seen/"))]
        } else if let Some(h) = filter.health {
            vec![Source::asc(Range::prefix(
                &Key::new("dev.health/").s(h.as_str()).build(),
            ))]
        } else if let Some(p) = filter.platform {
            vec![Source::asc(Range::prefix(
                &Key::new("dev.plat/").s(p.as_str()).build(),
            ))]
        } else if let Some(t) = filter.last_seen_before_ms {
            vec![Source::asc(Range {
                start: Key::new("dev.seen/").build(),
                end: Key::new("dev.seen/").n(t).build(),
            })]
        } else {
            vec![Source::asc(Range::prefix(b"dev/"))]
        };
        let sorted = search.is_none() && filter.sort != DeviceSort::Id;
        let by_id = search.is_some()
            || !sorted
                && filter.health.is_none()
                && filter.platform.is_none()
                && filter.last_seen_before_ms.is_none();
        let filters = [
            filter.health.is_some(),
            filter.platform.is_some(),
            filter.last_seen_before_ms.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        // the chosen index is the whole filter only when at most one filter picked it
        let filtered = search.is_some() || filters > 1 || (sorted && filters > 0);
        let mut pager = match Pager::new(sources, cursor, limit, filtered) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        while let Some((src, rows)) = pager.next_batch(self).await? {
            let records: Vec<Option<DeviceRecord>> = if by_id && src == 0 {
                rows.iter()
                    .map(|(_, v)| crate::store::from_json("devices", v).map(Some))
                    .collect::<Result<_, _>>()?
            } else {
                let ids: Vec<Vec<u8>> = rows
                    .iter()
                    .map(|(_, v)| k1("dev/", &String::from_utf8_lossy(v)))
                    .collect();
                self.get_many(&ids)
                    .await?
                    .into_iter()
                    .map(|v| {
                        v.map(|v| crate::store::from_json("devices", &v))
                            .transpose()
                    })
                    .collect::<Result<_, _>>()?
            };
            for ((k, _), d) in rows.iter().zip(records) {
                let keep = d.filter(|d| {
                    filter.matches(d)
                        && search.as_deref().is_none_or(|q| {
                            // a device found by an earlier source is not listed twice
                            let hits = search_hits(q, d);
                            !hits[..src].contains(&true)
                        })
                });
                if !pager.take(k, keep) {
                    break;
                }
            }
        }
        Ok(Ok(pager.finish()))
    }

    /// Every device matching `filter` (background work over bounded sets).
    pub async fn devices_all(
        &mut self,
        filter: &DeviceFilter,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        let mut out = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let page = self
                .devices_page(filter, cursor.as_ref(), crate::store::paging::MAX_LIMIT)
                .await?
                .map_err(StoreError::Transaction)?;
            out.extend(page.items);
            match page.next {
                Some(n) => cursor = Some(Cursor::decode(&n).map_err(StoreError::Transaction)?),
                None => return Ok(out),
            }
        }
    }

    /// Devices that checked in, but not since `t` (a count over the index; enrolled
    /// devices that never checked in are not counted, as in the offline sweep).
    pub async fn devices_seen_before(&mut self, t: u64) -> Result<u64, StoreError> {
        self.count_keys(&Range {
            start: Key::new("dev.seen/").n(1).build(),
            end: Key::new("dev.seen/").n(t).build(),
        })
        .await
    }

    pub fn put_inventory(&mut self, id: &str, at_ms: u64, inv: &Inventory) {
        self.put_json(k1("inv/", id), &Stamped { at_ms, value: inv });
    }

    /// The latest inventory and when it was stored.
    pub async fn inventory(&mut self, id: &str) -> Result<Option<(u64, Inventory)>, StoreError> {
        Ok(self
            .get_json::<Stamped<Inventory>>("inventory", &k1("inv/", id))
            .await?
            .map(|s| (s.at_ms, s.value)))
    }

    pub fn put_health(&mut self, id: &str, at_ms: u64, results: &[CheckResult]) {
        self.put_json(
            k1("hl/", id),
            &Stamped {
                at_ms,
                value: results,
            },
        );
    }

    /// The latest health results and when they were stored.
    pub async fn health(
        &mut self,
        id: &str,
    ) -> Result<Option<(u64, Vec<CheckResult>)>, StoreError> {
        Ok(self
            .get_json::<Stamped<Vec<CheckResult>>>("health", &k1("hl/", id))
            .await?
            .map(|s| (s.at_ms, s.value)))
    }
}
