//! The append-only audit log, keyed by an increasing seq, with actor and target
//! indexes; read newest first, a page at a time.

use tend_shared::api::{AuditEntry, AuditOutcome};

use super::keys::Key;
use super::kv::{Range, Tx};
use super::paging::{Cursor, Page, Pager, Source};
use super::StoreError;

/// Filters of `GET /api/v1/audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action_prefix: Option<String>,
    pub target: Option<String>,
    /// Only entries with a seq below this.
    pub before_seq: Option<u64>,
    /// Only entries at or after this time (ms epoch).
    pub from_ms: Option<u64>,
    /// Only entries before this time (ms epoch).
    pub to_ms: Option<u64>,
}

impl Tx {
    /// Appends an entry (committed with the unit); returns it with its seq.
    pub async fn append_audit(
        &mut self,
        at_ms: u64,
        actor: &str,
        action: &str,
        target: &str,
        outcome: AuditOutcome,
        detail: serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        let seq = self.next_id().await?;
        let entry = AuditEntry {
            seq,
            at_ms,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            outcome,
            detail,
        };
        let main = Key::new("au/").n(seq).build();
        self.put(Key::new("au.actor/").s(actor).n(seq).build(), main.clone());
        if !target.is_empty() {
            self.put(
                Key::new("au.target/").s(target).n(seq).build(),
                main.clone(),
            );
        }
        self.put_json(main, &entry);
        Ok(entry)
    }

    /// One page of entries, newest first.
    pub async fn audit_page(
        &mut self,
        f: &AuditFilter,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Result<Page<AuditEntry>, String>, StoreError> {
        let (prefix, direct) = match (&f.actor, &f.target) {
            (Some(a), _) => (Key::new("au.actor/").s(a).build(), false),
            (None, Some(t)) => (Key::new("au.target/").s(t).build(), false),
            (None, None) => (b"au/".to_vec(), true),
        };
        let mut range = Range::prefix(&prefix);
        if let Some(b) = f.before_seq {
            range.end = Key::new("").raw(&prefix).n(b).build();
        }
        let filtered = f.action_prefix.is_some()
            || f.from_ms.is_some()
            || f.to_ms.is_some()
            || (f.actor.is_some() && f.target.is_some());
        let mut pager = match Pager::new(vec![Source::desc(range)], cursor, limit, filtered) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        while let Some((_, rows)) = pager.next_batch(self).await? {
            let entries: Vec<Option<AuditEntry>> = if direct {
                rows.iter()
                    .map(|(_, v)| super::from_json("audit", v).map(Some))
                    .collect::<Result<_, _>>()?
            } else {
                let keys: Vec<Vec<u8>> = rows.iter().map(|(_, v)| v.to_vec()).collect();
                self.get_many(&keys)
                    .await?
                    .into_iter()
                    .map(|v| v.map(|v| super::from_json("audit", &v)).transpose())
                    .collect::<Result<_, _>>()?
            };
            for ((k, _), e) in rows.iter().zip(entries) {
                let keep = e.filter(|e| {
                    f.actor.as_deref().is_none_or(|a| e.actor == a)
                        && f.target.as_deref().is_none_or(|t| e.target == t)
                        && f.action_prefix
                            .as_deref()
                            .is_none_or(|p| e.action.starts_with(p))
                        && f.from_ms.is_none_or(|t| e.at_ms >= t)
                        && f.to_ms.is_none_or(|t| e.at_ms < t)
                });
                if !pager.take(k, keep) {
                    break;
                }
            }
        }
        Ok(Ok(pager.finish()))
    }
}
