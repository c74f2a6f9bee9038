//! Asset records: the physical laptop, its owner and its lifecycle.

use serde::{Deserialize, Serialize};

/// Lifecycle of an asset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetState {
    Ordered,
    #[default]
    InStock,
    Deployed,
    InRepair,
    /// Offboarding: being collected from the employee who leaves.
    Collecting,
    /// Offboarding: collected; being wiped before reuse or disposal.
    Wiping,
    Retired,
}

impl AssetState {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetState::Ordered => "ordered",
            AssetState::InStock => "in_stock",
            AssetState::Deployed => "deployed",
            AssetState::InRepair => "in_repair",
            AssetState::Collecting => "collecting",
            AssetState::Wiping => "wiping",
            AssetState::Retired => "retired",
        }
    }
}

/// How much the business depends on this machine; raises ticket priority.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Low,
    #[default]
    Normal,
    High,
}

/// An asset as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub id: String,
    pub serial: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    pub state: AssetState,
    #[serde(default)]
    pub criticality: Criticality,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub purchase_date: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub warranty_end: Option<String>,
    #[serde(default)]
    pub notes: String,
    /// The enrolled device, once one with this serial has enrolled.
    #[serde(default)]
    pub device_id: Option<String>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    /// When it first became `deployed` (ordered → deployed is the delivery time).
    #[serde(default)]
    pub deployed_at_ms: Option<u64>,
}

/// `POST /api/v1/assets`: register a laptop, possibly before it arrives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetCreate {
    pub serial: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// Defaults to `ordered`.
    #[serde(default)]
    pub state: Option<AssetState>,
    #[serde(default)]
    pub criticality: Option<Criticality>,
    #[serde(default)]
    pub purchase_date: Option<String>,
    #[serde(default)]
    pub warranty_end: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `POST /api/v1/assets/{id}/offboard`: the next offboarding step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offboard {
    /// `collect`, `wipe` or `retire`, in that order.
    pub step: String,
    #[serde(default)]
    pub note: String,
}

/// `PATCH /api/v1/assets/{id}`: every field optional; absent means unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetPatch {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub state: Option<AssetState>,
    #[serde(default)]
    pub criticality: Option<Criticality>,
    #[serde(default)]
    pub purchase_date: Option<String>,
    #[serde(default)]
    pub warranty_end: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Checks a `YYYY-MM-DD` date (calendar-valid, years 1970-2199).
pub fn valid_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        parts[0].parse::<u32>(),
        parts[1].parse::<u32>(),
        parts[2].parse::<u32>(),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1970..2200).contains(&y) && (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2023-02-29"));
        assert!(!valid_date("2024-13-01"));
        assert!(!valid_date("24-01-01"));
        assert!(!valid_date("2024-1-01"));
    }

    #[test]
    fn state_names() {
        assert_eq!(
            serde_json::to_string(&AssetState::InRepair).unwrap(),
            r#""in_repair""#
        );
        assert_eq!(AssetState::InStock.as_str(), "in_stock");
    }
}
