//! Ticket engine tests on a real sled store with a manual clock. Here: the shared
//! setup, dedup under concurrency, idempotency, transitions, flap-damped auto-resolve
//! and reopen; `offline` (offline devices, problems, SLA breaches, the SLA report) and
//! `hooks` (webhooks; checks the policy stopped running) and `targets` (where webhooks
//! may go) beside it.

mod hooks;
mod offline;
mod targets;

use std::sync::{Arc, Mutex};

use tend_shared::enroll::{EnrollRequest, HardwareIdentity, Platform};
use tend_shared::health::{CheckResult, CheckStatus, Severity};
use tend_shared::tickets::{Priority, TicketPatch, TicketRequest, TicketSource, TicketStatus};

use super::*;
use crate::clock::ManualClock;
use crate::fleet::DeviceRecord;
use crate::state::{Keys, Limits};
use crate::store::Store;

const T0: u64 = 1_800_000_000_000;
const MIN: u64 = 60_000;

struct Env {
    _dir: tempfile::TempDir,
    state: AppState,
    clock: Arc<ManualClock>,
}

async fn env() -> Env {
    let limits = Limits {
        allow_http_loopback_webhooks: true,
        ..Limits::default()
    };
    env_with(limits, None).await
}

/// An env with these limits, sealing secrets under `cluster_key` when given.
async fn env_with(limits: Limits, cluster_key: Option<[u8; 32]>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let clock = ManualClock::new(T0);
    let mut keys = Keys::new(
        "ca".into(),
        ed25519_dalek::SigningKey::from_bytes(&[2; 32]),
        "s",
    );
    if let Some(k) = cluster_key {
        keys = keys.with_cluster_key(k);
    }
    let state = AppState::new(store, clock.clone(), keys, limits)
        .await
        .unwrap();
    Env {
        _dir: dir,
        state,
        clock,
    }
}

impl Env {
    async fn device(&self, n: u32) -> DeviceRecord {
        let req = EnrollRequest {
            device_key: None,
            proof: None,
            enroll_secret: "s".into(),
            agent_version: "1".into(),
            identity: HardwareIdentity {
                hardware_uuid: format!("HW-{n}"),
                serial: Some(format!("SN{n}")),
                hostname: format!("lap-{n}"),
                platform: Platform::Linux,
                vendor: None,
                model: None,
            },
        };
        let r = crate::enroll::enroll(&self.state, req, "test")
            .await
            .unwrap();
        self.state
            .store
            .test_update_device(&r.device_id, |d| d.last_seen_ms = T0)
            .await
            .unwrap()
    }

    async fn file(
        &self,
        d: &DeviceRecord,
        rid: &str,
        key: &str,
    ) -> (tend_shared::tickets::Ticket, Filed) {
        file(
            &self.state,
            d,
            request(rid, key),
            TicketSource::Agent,
            "device:x",
        )
        .await
        .unwrap()
    }
}

fn request(rid: &str, key: &str) -> TicketRequest {
    TicketRequest {
        request_id: rid.into(),
        device_id: None,
        problem_key: key.into(),
        severity: Severity::High,
        summary: format!("{key} failing"),
        description: String::new(),
        check: None,
        evidence: serde_json::json!({"n": rid}),
        observed_at_ms: 0,
        requester: None,
        category: None,
    }
}

fn result(id: &str, status: CheckStatus) -> CheckResult {
    CheckResult {
        id: id.into(),
        status,
        value: serde_json::Value::Null,
        threshold: serde_json::Value::Null,
        message: "m".into(),
        severity: Severity::High,
    }
}

/// Filings that conflict (one device's open-ticket counter, its request keys) run
/// again with the number they drew: numbers stay consecutive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_filings_keep_their_numbers() {
    let e = env().await;
    let d = e.device(1).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (st, d) = (e.state.clone(), d.clone());
            tokio::spawn(async move {
                file(
                    &st,
                    &d,
                    request(&format!("n{i}"), &format!("process.required:p{i}")),
                    TicketSource::Agent,
                    "device:x",
                )
                .await
                .unwrap()
                .0
                .id
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for t in tasks {
        let id = t.await.unwrap();
        numbers.push(id.trim_start_matches("T-").parse::<u64>().unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=20).collect::<Vec<u64>>());
}

#[tokio::test]
async fn concurrent_reports_make_one_ticket() {
    let e = env().await;
    let d = e.device(1).await;
    let mut tasks = Vec::new();
    for i in 0..25 {
        let (st, d) = (e.state.clone(), d.clone());
        tasks.push(tokio::spawn(async move {
            file(
                &st,
                &d,
                request(&format!("r{i}"), "disk.free:/"),
                TicketSource::Agent,
                "device:x",
            )
            .await
            .unwrap()
            .1
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap() == Filed::Created {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let all = e.state.store.test_tickets().await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].ticket.occurrences, 25);
    assert_eq!(
        all[0].ticket.priority,
        Priority::P2,
        "high severity on a normal asset"
    );
    // the same request id again is a replay: nothing changes
    let (t, filed) = e.file(&d, "r3", "disk.free:/").await;
    assert_eq!(filed, Filed::Replayed);
    assert_eq!(t.occurrences, 25);
    // another problem on the same device is another ticket
    let (_, filed) = e.file(&d, "r99", "firewall.enabled").await;
    assert_eq!(filed, Filed::Created);
}

#[tokio::test]
async fn invalid_transitions_are_conflicts() {
    let e = env().await;
    let d = e.device(1).await;
    let (t, _) = e.file(&d, "a", "disk.free:/").await;
    let err = patch(
        &e.state,
        "user:ana",
        &t.id,
        TicketPatch {
            status: Some(TicketStatus::Closed),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApiError::Conflict(_)), "{err:?}");
    for s in [
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ] {
        patch(
            &e.state,
            "user:ana",
            &t.id,
            TicketPatch {
                status: Some(s),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let err = patch(
        &e.state,
        "user:ana",
        &t.id,
        TicketPatch {
            status: Some(TicketStatus::InProgress),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApiError::Conflict(_)));
    let kinds: Vec<String> = e
        .state
        .store
        .read()
        .timeline(&t.id)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.kind)
        .collect();
    assert_eq!(kinds, ["created", "status", "status", "status"]);
    let audit = e
        .state
        .store
        .test_audit(crate::store::AuditFilter {
            action_prefix: Some("ticket.update".into()),
            ..Default::default()
        })
        .await;
    assert_eq!(audit.len(), 3);
}

#[tokio::test]
async fn auto_resolve_is_flap_damped_and_recurrence_reopens() {
    let e = env().await;
    let d = e.device(1).await;
    assert_eq!(e.state.policy().recovery_count, 2);
    let (t, _) = e.file(&d, "a", "disk.free:/").await;
    let pass = [result("disk.free:/", CheckStatus::Pass)];
    let fail = [result("disk.free:/", CheckStatus::Fail)];
    on_checkin(&e.state, &d.id, &pass).await.unwrap();
    on_checkin(&e.state, &d.id, &fail).await.unwrap(); // a flap resets the count
    on_checkin(&e.state, &d.id, &pass).await.unwrap();
    assert_eq!(
        e.state
            .store
            .read()
            .ticket(&t.id)
            .await
            .unwrap()
            .unwrap()
            .ticket
            .status,
        TicketStatus::New
    );
    e.clock.advance_ms(5 * MIN);
    on_checkin(&e.state, &d.id, &pass).await.unwrap();
    let r = e.state.store.read().ticket(&t.id).await.unwrap().unwrap();
    assert_eq!(r.ticket.status, TicketStatus::Resolved);
    assert!(r.ticket.auto_resolved);
    assert_eq!(r.ticket.resolved_at_ms, Some(T0 + 5 * MIN));
    assert!(e
        .state
        .store
        .read()
        .timeline(&t.id)
        .await
        .unwrap()
        .iter()
        .any(|x| x.kind == "auto_resolved" && x.message.contains("2 consecutive")));

    // recurs within 72 h: the same ticket comes back
    e.clock.advance_ms(60 * MIN);
    let (again, filed) = e.file(&d, "b", "disk.free:/").await;
    assert_eq!(
        (filed, again.id.as_str(), again.status, again.reopen_count),
        (Filed::Reopened, t.id.as_str(), TicketStatus::New, 1)
    );
    assert_eq!(
        again.sla.pending_ms,
        60 * MIN,
        "time spent resolved does not count"
    );
    // resolved again, then recurring after the window: a new ticket
    on_checkin(&e.state, &d.id, &pass).await.unwrap();
    on_checkin(&e.state, &d.id, &pass).await.unwrap();
    e.clock.advance_ms(73 * 60 * MIN);
    let (fresh, filed) = e.file(&d, "c", "disk.free:/").await;
    assert_eq!(filed, Filed::Created);
    assert_ne!(fresh.id, t.id);
}
