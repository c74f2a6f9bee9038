//! The append-only audit log, keyed by a strictly increasing seq.

use tend_shared::api::{AuditEntry, AuditOutcome};

use super::{from_json, to_json, Store, StoreError};

/// Filters of `GET /api/v1/audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action_prefix: Option<String>,
    pub target: Option<String>,
    /// Only entries with a seq below this (paging backwards).
    pub before_seq: Option<u64>,
    pub limit: usize,
}

impl Store {
    /// Appends an entry; returns it with its seq.
    pub fn append_audit(
        &self,
        at_ms: u64,
        actor: &str,
        action: &str,
        target: &str,
        outcome: AuditOutcome,
        detail: serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        let seq = self.next_id()?;
        let entry = AuditEntry {
            seq,
            at_ms,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            outcome,
            detail,
        };
        self.audit.insert(seq.to_be_bytes(), to_json(&entry))?;
        Ok(entry)
    }

    /// Newest first.
    pub fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let upper = f.before_seq.unwrap_or(u64::MAX).to_be_bytes();
        let mut out = Vec::new();
        for item in self.audit.range(..upper).rev() {
            let (_, v) = item?;
            let e: AuditEntry = from_json("audit", &v)?;
            let keep = f.actor.as_deref().is_none_or(|a| e.actor == a)
                && f.action_prefix
                    .as_deref()
                    .is_none_or(|p| e.action.starts_with(p))
                && f.target.as_deref().is_none_or(|t| e.target == t);
            if keep {
                out.push(e);
                if out.len() >= f.limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}
