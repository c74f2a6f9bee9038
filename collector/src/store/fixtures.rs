//! Fixtures for the store's tests: a collector state over a given store, devices and
//! tickets made by hand, and problem reports.

use std::sync::Arc;

use tend_shared::enroll::Platform;
use tend_shared::health::{HealthStatus, Severity};
use tend_shared::tickets::{TicketRequest, TicketSource, TicketStatus};

use super::{AuditFilter, Store, StoreError};
use crate::clock::ManualClock;
use crate::fleet::DeviceRecord;
use crate::state::{AppState, Keys, Limits};
use crate::tickets::TicketRecord;

pub(crate) const T0: u64 = 1_700_000_000_000;

pub(crate) async fn state(store: Store) -> (AppState, Arc<ManualClock>) {
    let clock = ManualClock::new(T0);
    let keys = Keys::new(
        "ca".into(),
        ed25519_dalek::SigningKey::from_bytes(&[3; 32]),
        "s",
    );
    let s = AppState::new(store, clock.clone(), keys, Limits::default())
        .await
        .unwrap();
    (s, clock)
}

pub(crate) fn device(n: usize) -> DeviceRecord {
    DeviceRecord {
        id: format!("{n:016x}"),
        hardware_uuid: format!("HW-{n}"),
        serial: Some(format!("SN{n:05}")),
        hostname: format!("lap-{n:05}"),
        platform: if n.is_multiple_of(2) {
            Platform::Linux
        } else {
            Platform::Macos
        },
        vendor: None,
        model: None,
        os: String::new(),
        agent_version: "0.1.0".into(),
        enrolled_at_ms: T0,
        last_seen_ms: T0 + n as u64,
        health: match n % 3 {
            0 => HealthStatus::Healthy,
            1 => HealthStatus::Warning,
            _ => HealthStatus::Failing,
        },
        asset_id: None,
        owner: n.is_multiple_of(5).then(|| format!("owner{n}")),
        token_hash: String::new(),
        last_event_seq: 0,
        inventory_hash: String::new(),
        policy_version: 0,
        update: None,
        failed_versions: Vec::new(),
        device_key: None,
        decommissioned_at_ms: None,
        health_at_ms: 0,
        health_hash: None,
    }
}

/// An open agent ticket `id` of `device` (for stores written by hand).
pub(crate) fn ticket(id: &str, device: &str) -> TicketRecord {
    TicketRecord::new(tend_shared::tickets::Ticket {
        id: id.into(),
        device_id: device.into(),
        asset_id: None,
        hostname: "lap".into(),
        problem_key: "disk.free:/".into(),
        category: "storage".into(),
        summary: "disk full".into(),
        description: String::new(),
        severity: Severity::High,
        priority: tend_shared::tickets::Priority::P2,
        status: TicketStatus::New,
        source: TicketSource::Agent,
        assignee: None,
        created_at_ms: T0,
        updated_at_ms: T0,
        owned_at_ms: None,
        resolved_at_ms: None,
        closed_at_ms: None,
        occurrences: 1,
        reopen_count: 0,
        auto_resolved: false,
        problem_id: None,
        sla: Default::default(),
        check: None,
        evidence: serde_json::Value::Null,
        requester: None,
        csat: None,
    })
}

pub(crate) async fn put_devices(s: &Store, range: std::ops::Range<usize>) {
    for chunk in range.collect::<Vec<_>>().chunks(100) {
        crate::atomic!(s, tx: StoreError => {
            for n in chunk {
                tx.put_device(&device(*n)).await?;
            }
            Ok(())
        })
        .unwrap();
    }
}

pub(crate) fn report(rid: &str, key: &str) -> TicketRequest {
    TicketRequest {
        request_id: rid.into(),
        device_id: None,
        problem_key: key.into(),
        severity: Severity::High,
        summary: format!("{key} failing"),
        description: String::new(),
        check: None,
        evidence: serde_json::Value::Null,
        observed_at_ms: T0,
        requester: None,
        category: None,
    }
}

/// Shorthands for tests: one unit of work each.
impl Store {
    pub async fn test_update_device(
        &self,
        id: &str,
        f: impl Fn(&mut DeviceRecord),
    ) -> Option<DeviceRecord> {
        crate::atomic!(self, tx: StoreError => tx.update_device(id, &f).await).unwrap()
    }

    pub async fn test_audit(&self, f: AuditFilter) -> Vec<tend_shared::api::AuditEntry> {
        self.read()
            .audit_page(&f, None, 1000)
            .await
            .unwrap()
            .unwrap()
            .items
    }

    pub async fn test_tickets(&self) -> Vec<TicketRecord> {
        self.read().all_json("tickets", "tk/").await.unwrap()
    }

    pub async fn test_device_count(&self) -> u64 {
        self.read().counts().await.unwrap().devices
    }
}
