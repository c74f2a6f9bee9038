//! Asset records, the serial-number index, and the paged asset list (by serial; by
//! state or owner through their indexes).

use tend_shared::assets::{Asset, AssetState};

use crate::store::keys::{k1, Key};
use crate::store::kv::{Range, Tx};
use crate::store::paging::{Cursor, Page, Pager, Source};
use crate::store::StoreError;

/// The asset record is the wire `Asset` itself.
pub type AssetRecord = Asset;

/// Serials are matched case-insensitively, ignoring surrounding space.
pub fn normalize_serial(serial: &str) -> String {
    serial.trim().to_ascii_uppercase()
}

fn index(a: &AssetRecord) -> Vec<Vec<u8>> {
    let serial = normalize_serial(&a.serial);
    let mut out = vec![
        Key::new("as.list/").s(&serial).s(&a.id).build(),
        Key::new("as.state/")
            .s(a.state.as_str())
            .s(&serial)
            .s(&a.id)
            .build(),
    ];
    if !serial.is_empty() {
        out.push(k1("as.serial/", &serial));
    }
    if let Some(o) = a.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        out.push(Key::new("as.owner/").s(o).s(&serial).s(&a.id).build());
    }
    out
}

impl Tx {
    pub async fn asset(&mut self, id: &str) -> Result<Option<AssetRecord>, StoreError> {
        self.get_json("assets", &k1("as/", id)).await
    }

    pub async fn asset_by_serial(
        &mut self,
        serial: &str,
    ) -> Result<Option<AssetRecord>, StoreError> {
        match self
            .get(&k1("as.serial/", &normalize_serial(serial)))
            .await?
        {
            Some(id) => self.asset(&String::from_utf8_lossy(&id)).await,
            None => Ok(None),
        }
    }

    /// Writes an asset and keeps its indexes in step.
    pub async fn put_asset(&mut self, a: &AssetRecord) -> Result<(), StoreError> {
        let old = self.asset(&a.id).await?;
        let new = index(a);
        let old = old.as_ref().map(index).unwrap_or_default();
        for k in &old {
            if !new.contains(k) {
                self.delete(k.clone());
            }
        }
        for k in new {
            if !old.contains(&k) {
                self.put(k, a.id.clone().into_bytes());
            }
        }
        self.put_json(k1("as/", &a.id), a);
        Ok(())
    }

    /// One page of assets in serial order, optionally of one state or owner.
    pub async fn assets_page(
        &mut self,
        state: Option<AssetState>,
        owner: Option<&str>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Result<Page<AssetRecord>, String>, StoreError> {
        let source = match (owner, state) {
            (Some(o), _) => Range::prefix(&Key::new("as.owner/").s(o.trim()).build()),
            (None, Some(s)) => Range::prefix(&Key::new("as.state/").s(s.as_str()).build()),
            (None, None) => Range::prefix(b"as.list/"),
        };
        let filtered = owner.is_some() && state.is_some();
        let mut pager = match Pager::new(vec![Source::asc(source)], cursor, limit, filtered) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        while let Some((_, rows)) = pager.next_batch(self).await? {
            let keys: Vec<Vec<u8>> = rows
                .iter()
                .map(|(_, v)| k1("as/", &String::from_utf8_lossy(v)))
                .collect();
            let found = self.get_many(&keys).await?;
            for ((k, _), v) in rows.iter().zip(found) {
                let a: Option<AssetRecord> = v
                    .map(|v| crate::store::from_json("assets", &v))
                    .transpose()?;
                let keep = a.filter(|a| state.is_none_or(|s| a.state == s));
                if !pager.take(k, keep) {
                    break;
                }
            }
        }
        Ok(Ok(pager.finish()))
    }
}
