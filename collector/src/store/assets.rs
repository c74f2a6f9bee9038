//! Asset records and the serial-number index.

use tend_shared::assets::Asset;

use super::{from_json, to_json, Store, StoreError};

/// The asset record is the wire `Asset` itself.
pub type AssetRecord = Asset;

/// Serials are matched case-insensitively, ignoring surrounding space.
pub fn normalize_serial(serial: &str) -> String {
    serial.trim().to_ascii_uppercase()
}

impl Store {
    pub fn asset(&self, id: &str) -> Result<Option<AssetRecord>, StoreError> {
        self.assets
            .get(id)?
            .map(|v| from_json("assets", &v))
            .transpose()
    }

    pub fn asset_by_serial(&self, serial: &str) -> Result<Option<AssetRecord>, StoreError> {
        match self.serial_index.get(normalize_serial(serial))? {
            Some(id) => self.asset(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// Writes an asset and its serial index entry.
    pub fn put_asset(&self, a: &AssetRecord) -> Result<(), StoreError> {
        self.assets.insert(a.id.as_bytes(), to_json(a))?;
        if !a.serial.trim().is_empty() {
            self.serial_index
                .insert(normalize_serial(&a.serial), a.id.as_bytes())?;
        }
        Ok(())
    }

    pub fn assets(&self) -> Result<Vec<AssetRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.assets.iter() {
            let (_, v) = item?;
            out.push(from_json("assets", &v)?);
        }
        Ok(out)
    }
}
