//! The store's conformance suite: every test runs against both engines (sled and a
//! real throwaway PostgreSQL) and must behave the same: ticket dedup under
//! concurrency, reopen, paging stability while rows are inserted, index-backed
//! filters, counters, the job queue, and all-or-nothing units of work.

use std::collections::BTreeSet;

use tend_shared::enroll::Platform;
use tend_shared::health::HealthStatus;
use tend_shared::jobs::{JobSpec, JobState};
use tend_shared::tickets::{TicketPatch, TicketSource, TicketStatus};

use super::fixtures::{device, put_devices, report, state, T0};
use super::kv::tests::both;
use super::{Cursor, Store, StoreError};
use crate::error::ApiError;
use crate::fleet::{DeviceFilter, DeviceRecord, DeviceSort};
use crate::state::AppState;
use crate::tickets::{self, Filed};
use crate::tickets::{TicketFilter, TicketSort};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_five_concurrent_reports_make_one_ticket() {
    let (_d, stores) = both().await;
    for store in stores {
        let name = store.engine().as_str();
        let (st, _) = state(store.clone()).await;
        put_devices(&store, 0..1).await;
        let d = device(0);
        let mut tasks = Vec::new();
        for i in 0..25 {
            let (st, d) = (st.clone(), d.clone());
            tasks.push(tokio::spawn(async move {
                tickets::file(
                    &st,
                    &d,
                    report(&format!("r{i}"), "disk.free:/"),
                    TicketSource::Agent,
                    "agent",
                )
                .await
                .unwrap()
                .1
            }));
        }
        let mut created = 0;
        for t in tasks {
            created += usize::from(t.await.unwrap() == Filed::Created);
        }
        assert_eq!(created, 1, "{name}");
        let all = store.test_tickets().await;
        assert_eq!(all.len(), 1, "{name}");
        // the racers each drew a number; the one that won keeps its own
        let n: u64 = all[0].ticket.id.trim_start_matches("T-").parse().unwrap();
        assert!((1..=25).contains(&n), "{name}: {}", all[0].ticket.id);
        assert_eq!(all[0].ticket.occurrences, 25, "{name}");
        assert_eq!(
            store.read().counts().await.unwrap().open_tickets,
            1,
            "{name}"
        );
        // each report is on the timeline exactly once
        assert_eq!(
            store
                .read()
                .timeline(&all[0].ticket.id)
                .await
                .unwrap()
                .len(),
            25,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recurrence_reopens_within_the_window_and_numbers_stay_consecutive() {
    let (_d, stores) = both().await;
    for store in stores {
        let name = store.engine().as_str();
        let (st, clock) = state(store.clone()).await;
        put_devices(&store, 0..1).await;
        let d = device(0);
        let (t1, _) = tickets::file(
            &st,
            &d,
            report("a", "cpu.load"),
            TicketSource::Agent,
            "agent",
        )
        .await
        .unwrap();
        let resolve = TicketPatch {
            status: Some(TicketStatus::Resolved),
            ..Default::default()
        };
        tickets::patch(&st, "user:x", &t1.id, resolve.clone())
            .await
            .unwrap();
        assert_eq!(
            store.read().counts().await.unwrap().open_tickets,
            0,
            "{name}"
        );
        clock.advance_ms(60_000);
        let (again, filed) = tickets::file(
            &st,
            &d,
            report("b", "cpu.load"),
            TicketSource::Agent,
            "agent",
        )
        .await
        .unwrap();
        assert_eq!(
            (again.id.as_str(), filed),
            ("T-1", Filed::Reopened),
            "{name}"
        );
        assert_eq!(again.reopen_count, 1, "{name}");
        tickets::patch(&st, "user:x", "T-1", resolve).await.unwrap();
        // past the reopen window: a new ticket, the next number
        clock.advance_ms(st.policy().reopen_window_s * 1000 + 1);
        let (t2, filed) = tickets::file(
            &st,
            &d,
            report("c", "cpu.load"),
            TicketSource::Agent,
            "agent",
        )
        .await
        .unwrap();
        assert_eq!((t2.id.as_str(), filed), ("T-2", Filed::Created), "{name}");
        // a replayed request id changes nothing
        let (_, filed) = tickets::file(
            &st,
            &d,
            report("c", "cpu.load"),
            TicketSource::Agent,
            "agent",
        )
        .await
        .unwrap();
        assert_eq!(filed, Filed::Replayed, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_neither_repeat_nor_skip_while_rows_are_inserted() {
    let (_d, stores) = both().await;
    for store in stores {
        let name = store.engine().as_str();
        put_devices(&store, 0..250).await;
        let mut seen = BTreeSet::new();
        let mut cursor: Option<Cursor> = None;
        let mut next_new = 10_000;
        let mut pages = 0;
        loop {
            let page = store
                .read()
                .devices_page(&DeviceFilter::default(), cursor.as_ref(), 100)
                .await
                .unwrap()
                .unwrap();
            pages += 1;
            for d in &page.items {
                assert!(seen.insert(d.id.clone()), "{name}: {} listed twice", d.id);
            }
            // devices enrolled while someone pages
            put_devices(&store, next_new..next_new + 7).await;
            next_new += 7;
            match page.next {
                Some(n) => cursor = Some(Cursor::decode(&n).unwrap()),
                None => break,
            }
        }
        for n in 0..250 {
            assert!(seen.contains(&device(n).id), "{name}: device {n} skipped");
        }
        assert!(pages >= 3, "{name}: {pages} pages");
        // a cursor from another list is refused, not misread
        let foreign = Cursor {
            source: 0,
            key: b"tk.created/x".to_vec(),
        };
        assert!(store
            .read()
            .devices_page(&DeviceFilter::default(), Some(&foreign), 10)
            .await
            .unwrap()
            .is_err());
    }
}

async fn all_ids(store: &Store, f: &DeviceFilter) -> BTreeSet<String> {
    store
        .read()
        .devices_all(f)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_read_their_indexes_and_counters_follow_the_records() {
    let (_d, stores) = both().await;
    for store in stores {
        let name = store.engine().as_str();
        put_devices(&store, 0..60).await;
        let expect = |p: &dyn Fn(&DeviceRecord) -> bool| -> BTreeSet<String> {
            (0..60).map(device).filter(|d| p(d)).map(|d| d.id).collect()
        };
        let failing = DeviceFilter {
            health: Some(HealthStatus::Failing),
            ..Default::default()
        };
        assert_eq!(
            all_ids(&store, &failing).await,
            expect(&|d| d.health == HealthStatus::Failing),
            "{name}"
        );
        let mac_failing = DeviceFilter {
            platform: Some(Platform::Macos),
            ..failing.clone()
        };
        assert_eq!(
            all_ids(&store, &mac_failing).await,
            expect(&|d| d.health == HealthStatus::Failing && d.platform == Platform::Macos),
            "{name}"
        );
        let silent = DeviceFilter {
            last_seen_before_ms: Some(T0 + 10),
            ..Default::default()
        };
        assert_eq!(
            all_ids(&store, &silent).await,
            expect(&|d| d.last_seen_ms < T0 + 10),
            "{name}"
        );
        for (q, p) in [
            (
                "LAP-0001",
                Box::new(|d: &DeviceRecord| d.hostname.starts_with("lap-0001"))
                    as Box<dyn Fn(&DeviceRecord) -> bool>,
            ),
            (
                "sn0002",
                Box::new(|d: &DeviceRecord| d.serial.as_deref().unwrap().starts_with("SN0002")),
            ),
            (
                "owner4",
                Box::new(|d: &DeviceRecord| {
                    d.owner.as_deref().is_some_and(|o| o.starts_with("owner4"))
                }),
            ),
            (
                "000000000000003",
                Box::new(|d: &DeviceRecord| d.id.starts_with("000000000000003")),
            ),
        ] {
            let f = DeviceFilter {
                search: Some(q.into()),
                ..Default::default()
            };
            assert_eq!(all_ids(&store, &f).await, expect(&*p), "{name}: search {q}");
        }
        // sorts, a page of 7 at a time, alone and with a filter
        for (sort, desc) in [
            (DeviceSort::Hostname, false),
            (DeviceSort::Recent, true),
            (DeviceSort::Silent, false),
        ] {
            for health in [None, Some(HealthStatus::Failing)] {
                let f = DeviceFilter {
                    sort,
                    health,
                    ..Default::default()
                };
                let mut got = Vec::new();
                let mut cursor: Option<crate::store::Cursor> = None;
                loop {
                    let page = store
                        .read()
                        .devices_page(&f, cursor.as_ref(), 7)
                        .await
                        .unwrap()
                        .unwrap();
                    got.extend(page.items.into_iter().map(|d| d.id));
                    match page.next {
                        Some(n) => cursor = Some(crate::store::Cursor::decode(&n).unwrap()),
                        None => break,
                    }
                }
                let mut want: Vec<String> = (0..60)
                    .map(device)
                    .filter(|d| health.is_none_or(|h| d.health == h))
                    .map(|d| d.id)
                    .collect();
                if desc {
                    want.reverse();
                }
                assert_eq!(got, want, "{name}: {sort:?} {health:?}");
            }
        }
        // counters: totals and per health, then after a change of health
        let c = store.read().counts().await.unwrap();
        assert_eq!(c.devices, 60, "{name}");
        assert_eq!(c.by_health["failing"], 20, "{name}");
        crate::atomic!(store, tx: StoreError => {
            tx.update_device(&device(2).id, |d| d.health = HealthStatus::Healthy).await?;
            Ok(())
        })
        .unwrap();
        let c = store.read().counts().await.unwrap();
        assert_eq!(
            (c.by_health["failing"], c.by_health["healthy"]),
            (19, 21),
            "{name}"
        );

        // tickets by device, status, problem and assignee; sorted by due and priority
        let (st, clock) = state(store.clone()).await;
        for n in 0..6 {
            clock.advance_ms(1000);
            let key = if n % 2 == 0 {
                "disk.free:/"
            } else {
                "cpu.load"
            };
            tickets::file(
                &st,
                &device(n),
                report(&format!("q{n}"), key),
                TicketSource::Agent,
                "agent",
            )
            .await
            .unwrap();
        }
        clock.advance_ms(1000);
        tickets::patch(
            &st,
            "user:a",
            "T-2",
            TicketPatch {
                assignee: Some("ann".into()),
                status: Some(TicketStatus::InProgress),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let settings = st.ticket_settings();
        let list = |f: TicketFilter| {
            let (store, settings) = (store.clone(), settings.clone());
            async move {
                store
                    .read()
                    .tickets_page(&f, &settings, T0 + 10_000, None, 100)
                    .await
                    .unwrap()
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|t| t.ticket.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            list(TicketFilter::default()).await,
            ["T-6", "T-5", "T-4", "T-3", "T-2", "T-1"],
            "{name}"
        );
        assert_eq!(
            list(TicketFilter {
                problem_key: Some("cpu.load".into()),
                ..Default::default()
            })
            .await,
            ["T-6", "T-4", "T-2"],
            "{name}"
        );
        assert_eq!(
            list(TicketFilter {
                device: Some(device(3).id),
                ..Default::default()
            })
            .await,
            ["T-4"],
            "{name}"
        );
        assert_eq!(
            list(TicketFilter {
                assignee: Some("ann".into()),
                ..Default::default()
            })
            .await,
            ["T-2"],
            "{name}"
        );
        assert_eq!(
            list(TicketFilter {
                statuses: Some(vec![TicketStatus::InProgress]),
                ..Default::default()
            })
            .await,
            ["T-2"],
            "{name}"
        );
        assert_eq!(
            list(TicketFilter {
                sort: TicketSort::Due,
                ..Default::default()
            })
            .await,
            ["T-1", "T-2", "T-3", "T-4", "T-5", "T-6"],
            "{name}"
        );
        assert_eq!(
            list(TicketFilter {
                sort: TicketSort::Updated,
                ..Default::default()
            })
            .await[0],
            "T-2",
            "{name}"
        );
        assert_eq!(
            store.read().counts().await.unwrap().open_tickets,
            6,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_queue_delivers_in_order_redelivers_and_expires() {
    let (_d, stores) = both().await;
    for store in stores {
        let name = store.engine().as_str();
        let (st, clock) = state(store.clone()).await;
        put_devices(&store, 0..2).await;
        let d = device(0);
        let mut ids = Vec::new();
        for host in ["a.example", "b.example", "c.example"] {
            clock.advance_ms(10);
            let spec = JobSpec::Diagnostic {
                name: "dns".into(),
                args: vec![host.into()],
            };
            ids.push(
                crate::jobs::queue(&st, &d, spec, "user:x", Default::default())
                    .await
                    .unwrap()
                    .id,
            );
        }
        let got: Vec<String> = crate::jobs::take_queued(&st, &d.id)
            .await
            .unwrap()
            .into_iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(got, ids, "{name}: in queue order");
        assert!(
            crate::jobs::take_queued(&st, &d.id)
                .await
                .unwrap()
                .is_empty(),
            "{name}: handed out a moment ago"
        );
        assert!(
            crate::jobs::take_queued(&st, &device(1).id)
                .await
                .unwrap()
                .is_empty(),
            "{name}: another device's queue"
        );
        // unacknowledged: delivered again after a minute
        clock.advance_ms(crate::jobs::REDELIVER_AFTER_MS + 1);
        assert_eq!(
            crate::jobs::take_queued(&st, &d.id).await.unwrap().len(),
            3,
            "{name}"
        );
        // never reported: expires at its run deadline, found through the expiry index
        clock.advance_ms(24 * 3_600_000);
        assert_eq!(crate::jobs::expire(&st).await.unwrap(), 3, "{name}");
        let j = store.read().job(&ids[0]).await.unwrap().unwrap();
        assert_eq!(j.state, JobState::Expired, "{name}");
        assert!(
            store
                .read()
                .jobs_due(clock_now(&st), 100)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
    }
}

fn clock_now(st: &AppState) -> u64 {
    st.now_ms()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_that_fails_halfway_leaves_nothing() {
    let (_d, stores) = both().await;
    for store in stores {
        let name = store.engine().as_str();
        let (st, _) = state(store.clone()).await;
        put_devices(&store, 0..1).await;
        let d = device(0);
        let before = store.read().counts().await.unwrap();
        let r: Result<(), ApiError> = crate::atomic!(store, tx => {
            // a whole ticket change: record, indexes, timeline, audit, counters…
            tickets::file_in(&st, &mut tx, &d, &report("x", "swap.used"), TicketSource::Agent, "agent").await?;
            // …then a failure before the end of the unit
            Err(ApiError::Internal("disk full".into()))
        });
        assert!(r.is_err());
        let mut rd = store.read();
        assert!(rd.ticket("T-1").await.unwrap().is_none(), "{name}");
        assert!(
            rd.open_ticket(&d.id, "swap.used").await.unwrap().is_none(),
            "{name}"
        );
        assert!(rd.timeline("T-1").await.unwrap().is_empty(), "{name}");
        assert!(
            rd.ticket_for_request(&d.id, "x").await.unwrap().is_none(),
            "{name}"
        );
        assert_eq!(rd.counts().await.unwrap(), before, "{name}");
        assert!(
            store
                .test_audit(Default::default())
                .await
                .iter()
                .all(|e| e.action != "ticket.create"),
            "{name}"
        );
        // the next ticket gets a number of its own: a number drawn by a failed unit is
        // skipped, never given out twice
        let (t, _) = tickets::file(
            &st,
            &d,
            report("y", "swap.used"),
            TicketSource::Agent,
            "agent",
        )
        .await
        .unwrap();
        assert_eq!(t.id, "T-2", "{name}");
    }
}
