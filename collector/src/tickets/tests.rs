//! Ticket engine tests on a real sled store with a manual clock: dedup under
//! concurrency, idempotency, transitions, flap-damped auto-resolve and reopen, offline
//! devices, problem detection, SLA breach and pending arithmetic, the SLA report, and
//! webhook signing and retries against a local receiver.

use std::sync::{Arc, Mutex};

use tend_shared::enroll::{EnrollRequest, HardwareIdentity, Platform};
use tend_shared::health::{CheckResult, CheckStatus, Severity};
use tend_shared::tickets::{Priority, TicketPatch, TicketRequest, TicketSource, TicketStatus};

use super::*;
use crate::clock::ManualClock;
use crate::state::{Keys, Limits};
use crate::store::{DeviceRecord, Store};

const T0: u64 = 1_800_000_000_000;
const MIN: u64 = 60_000;

struct Env {
    _dir: tempfile::TempDir,
    state: AppState,
    clock: Arc<ManualClock>,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let clock = ManualClock::new(T0);
    let keys = Keys::new(
        "ca".into(),
        ed25519_dalek::SigningKey::from_bytes(&[2; 32]),
        "s",
    );
    let state = AppState::new(store, clock.clone(), keys, Limits::default()).unwrap();
    Env {
        _dir: dir,
        state,
        clock,
    }
}

impl Env {
    async fn device(&self, n: u32) -> DeviceRecord {
        let req = EnrollRequest {
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
        let r = crate::service::enroll::enroll(&self.state, req)
            .await
            .unwrap();
        self.state
            .store
            .update_device(&r.device_id, |d| d.last_seen_ms = T0)
            .unwrap()
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

#[tokio::test]
async fn concurrent_reports_make_one_ticket() {
    let e = env();
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
    let all = e.state.store.all_tickets().unwrap();
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
    let e = env();
    let d = e.device(1).await;
    let (t, _) = e.file(&d, "a", "disk.free:/").await;
    let err = patch(
        &e.state,
        "token:ana",
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
            "token:ana",
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
        "token:ana",
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
        .timeline(&t.id)
        .unwrap()
        .into_iter()
        .map(|x| x.kind)
        .collect();
    assert_eq!(kinds, ["created", "status", "status", "status"]);
    let audit = e
        .state
        .store
        .audit_entries(&crate::store::AuditFilter {
            action_prefix: Some("ticket.update".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit.len(), 3);
}

#[tokio::test]
async fn auto_resolve_is_flap_damped_and_recurrence_reopens() {
    let e = env();
    let d = e.device(1).await;
    assert_eq!(e.state.policy().recovery_count, 2);
    let (t, _) = e.file(&d, "a", "disk.free:/").await;
    let pass = [result("disk.free:/", CheckStatus::Pass)];
    let fail = [result("disk.free:/", CheckStatus::Fail)];
    on_checkin(&e.state, &d.id, &pass).await.unwrap();
    on_checkin(&e.state, &d.id, &fail).await.unwrap(); // a flap resets the count
    on_checkin(&e.state, &d.id, &pass).await.unwrap();
    assert_eq!(
        e.state.store.ticket(&t.id).unwrap().unwrap().ticket.status,
        TicketStatus::New
    );
    e.clock.advance_ms(5 * MIN);
    on_checkin(&e.state, &d.id, &pass).await.unwrap();
    let r = e.state.store.ticket(&t.id).unwrap().unwrap();
    assert_eq!(r.ticket.status, TicketStatus::Resolved);
    assert!(r.ticket.auto_resolved);
    assert_eq!(r.ticket.resolved_at_ms, Some(T0 + 5 * MIN));
    assert!(e
        .state
        .store
        .timeline(&t.id)
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

#[tokio::test]
async fn silent_devices_get_a_ticket_that_resolves_on_return() {
    let e = env();
    let d = e.device(1).await;
    let repair = e.device(2).await;
    crate::service::assets::patch(
        &e.state,
        &crate::auth::ApiUser {
            name: "ana".into(),
            role: tend_shared::api::Role::Analyst,
        },
        repair.asset_id.as_deref().unwrap(),
        tend_shared::assets::AssetPatch {
            state: Some(tend_shared::assets::AssetState::InRepair),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    e.clock.advance_ms(3 * 86_400_000 - MIN);
    assert_eq!(
        sweep::sweep(&e.state).await.unwrap().offline_tickets,
        0,
        "not yet past the threshold"
    );
    e.clock.advance_ms(2 * MIN);
    assert_eq!(
        sweep::sweep(&e.state).await.unwrap().offline_tickets,
        1,
        "the in-repair laptop is exempt"
    );
    assert_eq!(
        sweep::sweep(&e.state).await.unwrap().offline_tickets,
        0,
        "no duplicate"
    );
    let t = e
        .state
        .store
        .open_ticket(&d.id, OFFLINE_KEY)
        .unwrap()
        .unwrap();
    assert_eq!(t.ticket.source, TicketSource::Collector);
    assert!(
        t.ticket.summary.contains("has not checked in for 3.0 days"),
        "{}",
        t.ticket.summary
    );
    on_checkin(&e.state, &d.id, &[]).await.unwrap();
    let t = e.state.store.ticket(&t.ticket.id).unwrap().unwrap();
    assert_eq!(t.ticket.status, TicketStatus::Resolved);
    assert!(t.ticket.auto_resolved);
}

#[tokio::test]
async fn one_problem_key_on_many_devices_is_one_problem() {
    let e = env();
    let mut devices = Vec::new();
    for n in 0..6 {
        devices.push(e.device(n).await);
    }
    for (i, d) in devices.iter().take(4).enumerate() {
        e.file(d, &format!("r{i}"), "process.required").await;
        e.clock.advance_ms(MIN);
    }
    assert!(
        e.state.store.problems().unwrap().is_empty(),
        "4 devices are not a pattern"
    );
    e.file(&devices[4], "r4", "process.required").await;
    let problems = e.state.store.problems().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].ticket_ids.len(), 5);
    assert_eq!(problems[0].device_ids.len(), 5);
    let (t6, _) = e.file(&devices[5], "r5", "process.required").await;
    assert_eq!(t6.problem_id.as_deref(), Some(problems[0].id.as_str()));
    assert_eq!(
        e.state
            .store
            .problem(&problems[0].id)
            .unwrap()
            .unwrap()
            .ticket_ids
            .len(),
        6
    );
    // outside the window, a new pattern is a new problem
    e.clock.advance_ms(2 * 60 * MIN);
    let other = e.device(99).await;
    let (t, _) = e.file(&other, "x", "process.required").await;
    assert_eq!(t.problem_id, None);
}

#[tokio::test]
async fn sla_breach_is_noted_once_and_pending_time_is_excluded() {
    let e = env();
    let d = e.device(1).await;
    let (t, _) = e.file(&d, "a", "disk.free:/").await; // P2: own 60 min, resolve 8 h
    e.clock.advance_ms(10 * MIN);
    patch(
        &e.state,
        "token:ana",
        &t.id,
        TicketPatch {
            status: Some(TicketStatus::Pending),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    e.clock.advance_ms(600 * MIN);
    let v = view(&e.state, &e.state.store.ticket(&t.id).unwrap().unwrap());
    assert!(
        !v.sla.own_breached,
        "moving to pending took ownership at minute 10"
    );
    assert!(!v.sla.resolve_breached, "pending time does not count");
    patch(
        &e.state,
        "token:ana",
        &t.id,
        TicketPatch {
            status: Some(TicketStatus::InProgress),
            assignee: Some("ana".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let v = view(&e.state, &e.state.store.ticket(&t.id).unwrap().unwrap());
    assert_eq!(v.sla.pending_ms, 600 * MIN);
    assert_eq!(v.sla.resolve_due_ms, T0 + 480 * MIN + 600 * MIN);
    assert_eq!(v.owned_at_ms, Some(T0 + 10 * MIN));
    e.clock.advance_ms(471 * MIN); // 10 + 471 = 481 minutes of working time
    assert_eq!(sweep::sweep(&e.state).await.unwrap().breaches_noted, 1);
    assert_eq!(sweep::sweep(&e.state).await.unwrap().breaches_noted, 0);
    let tl = e.state.store.timeline(&t.id).unwrap();
    assert_eq!(tl.iter().filter(|x| x.kind == "sla_breached").count(), 1);
    let breached = list(
        &e.state,
        &TicketQuery {
            breached: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(breached.len(), 1);
}

#[tokio::test]
async fn sla_report_counts() {
    let e = env();
    let a = e.device(1).await;
    let b = e.device(2).await;
    let (t1, _) = e.file(&a, "1", "disk.free:/").await;
    let (t2, _) = e.file(&b, "2", "disk.free:/").await;
    let (_t3, _) = e.file(&b, "3", "firewall.enabled").await;
    e.clock.advance_ms(30 * MIN);
    patch(
        &e.state,
        "token:ana",
        &t1.id,
        TicketPatch {
            assignee: Some("ana".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    e.clock.advance_ms(30 * MIN);
    patch(
        &e.state,
        "token:ana",
        &t1.id,
        TicketPatch {
            status: Some(TicketStatus::Resolved),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    on_checkin(&e.state, &b.id, &[result("disk.free:/", CheckStatus::Pass)])
        .await
        .unwrap();
    on_checkin(&e.state, &b.id, &[result("disk.free:/", CheckStatus::Pass)])
        .await
        .unwrap();
    e.state
        .store
        .record_deflection(T0 + MIN, &a.id, "disk.free:/")
        .unwrap();
    let r = report::sla_report(&e.state, T0, T0 + 86_400_000).unwrap();
    assert_eq!(r.created, 3);
    assert_eq!(r.by_category["storage"], 2);
    assert_eq!(r.by_category["security"], 1);
    assert_eq!(
        r.by_priority["P2"], 3,
        "all three are high severity on normal assets"
    );
    assert_eq!(r.time_to_own.count, 1);
    assert_eq!(r.time_to_own.mean_s, Some(1800.0));
    assert_eq!(r.time_to_resolve.count, 2);
    assert_eq!(r.time_to_resolve.median_s, Some(3600.0));
    assert_eq!(r.backlog["0-1d"], 1);
    assert_eq!(r.top_problems[0], ("disk.free:/".to_string(), 2));
    assert_eq!(r.auto_resolved_share, Some(0.5));
    assert_eq!(r.reopen_rate, Some(0.0));
    assert_eq!(r.deflected, 1);
    assert_eq!(r.deflection_rate, Some(0.25));
    let _ = t2;
}

#[tokio::test]
async fn webhooks_are_signed_and_retried() {
    use axum::routing::post;
    let e = env();
    let received: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let (r2, c2) = (received.clone(), calls.clone());
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let (r, c) = (r2.clone(), c2.clone());
            async move {
                // the first two deliveries fail
                if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                let h = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                r.lock()
                    .unwrap()
                    .push((h("x-tend-event"), h("x-tend-signature"), body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let secret = "0123456789abcdef-secret";
    webhooks::register(&e.state, "token:admin", &url, secret, vec![])
        .await
        .unwrap();
    assert!(
        webhooks::register(&e.state, "token:admin", &url, "short", vec![])
            .await
            .is_err()
    );
    let d = e.device(1).await;
    e.file(&d, "a", "disk.free:/").await;
    crate::server::install_crypto_provider();
    let client = reqwest::Client::new();
    let base = std::time::Duration::from_secs(1);
    // attempt 1 fails; the retry is not due until the clock moves
    let next = webhooks::deliver_due(&e.state, &client, base)
        .await
        .unwrap();
    assert_eq!(next, Some(T0 + 1000));
    assert_eq!(
        webhooks::deliver_due(&e.state, &client, base)
            .await
            .unwrap(),
        Some(T0 + 1000)
    );
    e.clock.advance_ms(1000);
    let next = webhooks::deliver_due(&e.state, &client, base)
        .await
        .unwrap();
    assert_eq!(next, Some(T0 + 1000 + 2000), "backoff doubles");
    e.clock.advance_ms(2000);
    assert_eq!(
        webhooks::deliver_due(&e.state, &client, base)
            .await
            .unwrap(),
        None
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (event, sig, body) = &got[0];
    assert_eq!(event, "ticket.created");
    assert_eq!(sig, &webhooks::signature(secret, body.as_bytes()));
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["ticket"]["problem_key"], "disk.free:/");
    assert!(e.state.store.deliveries().unwrap().is_empty());
}

#[tokio::test]
async fn a_check_the_policy_disables_resolves_its_ticket_and_numbers_stay_consecutive() {
    let e = env();
    let d = e.device(1).await;
    let (fw, _) = e.file(&d, "a", "firewall.enabled").await;
    let (disk, _) = e.file(&d, "b", "disk.free:/data").await;
    let (crash, _) = e.file(&d, "c", "crash:gedit").await;
    assert_eq!(
        [fw.id.as_str(), disk.id.as_str(), crash.id.as_str()],
        ["T-1", "T-2", "T-3"]
    );
    // a report without those checks while the policy still runs them changes nothing
    on_checkin(&e.state, &d.id, &[result("cpu.load", CheckStatus::Pass)])
        .await
        .unwrap();
    assert!(e
        .state
        .store
        .ticket("T-1")
        .unwrap()
        .unwrap()
        .ticket
        .status
        .is_open());
    // the firewall check disabled, /data no longer watched
    let mut p = e.state.policy();
    p.checks.get_mut("firewall.enabled").unwrap().enabled = false;
    p.disk_mounts = vec!["/".into()];
    e.state.set_policy(p).unwrap();
    on_checkin(&e.state, &d.id, &[result("cpu.load", CheckStatus::Pass)])
        .await
        .unwrap();
    for id in ["T-1", "T-2"] {
        let t = e.state.store.ticket(id).unwrap().unwrap().ticket;
        assert_eq!(t.status, TicketStatus::Resolved, "{id}");
        assert!(t.auto_resolved);
        let why = e
            .state
            .store
            .timeline(id)
            .unwrap()
            .last()
            .unwrap()
            .message
            .clone();
        assert!(why.contains("disabled by policy"), "{why}");
    }
    // not a policy check: left alone
    assert!(e
        .state
        .store
        .ticket("T-3")
        .unwrap()
        .unwrap()
        .ticket
        .status
        .is_open());
    let (next, _) = e.file(&d, "d", "os.updates").await;
    assert_eq!(next.id, "T-4");
}
