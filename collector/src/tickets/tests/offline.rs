//! Ticket engine tests: offline devices, fleet-wide problems, SLA breach notes and
//! pending time, and the SLA report.

use super::*;
#[tokio::test]
async fn silent_devices_get_a_ticket_that_resolves_on_return() {
    let e = env().await;
    let d = e.device(1).await;
    let repair = e.device(2).await;
    crate::assets::patch(
        &e.state,
        &crate::users::auth::ApiUser {
            id: "u_ana".into(),
            name: "ana".into(),
            role: tend_shared::api::Role::Analyst,
            token_id: "tk_ana".into(),
            session_csrf: None,
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
        crate::sweep::sweep(&e.state).await.unwrap().offline_tickets,
        0,
        "not yet past the threshold"
    );
    e.clock.advance_ms(2 * MIN);
    assert_eq!(
        crate::sweep::sweep(&e.state).await.unwrap().offline_tickets,
        1,
        "the in-repair laptop is exempt"
    );
    assert_eq!(
        crate::sweep::sweep(&e.state).await.unwrap().offline_tickets,
        0,
        "no duplicate"
    );
    let t = e
        .state
        .store
        .read()
        .open_ticket(&d.id, OFFLINE_KEY)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.ticket.source, TicketSource::Collector);
    assert!(
        t.ticket.summary.contains("has not checked in for 3.0 days"),
        "{}",
        t.ticket.summary
    );
    on_checkin(&e.state, &d.id, &[]).await.unwrap();
    let t = e
        .state
        .store
        .read()
        .ticket(&t.ticket.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.ticket.status, TicketStatus::Resolved);
    assert!(t.ticket.auto_resolved);
}

#[tokio::test]
async fn one_problem_key_on_many_devices_is_one_problem() {
    let e = env().await;
    let mut devices = Vec::new();
    for n in 0..6 {
        devices.push(e.device(n).await);
    }
    for (i, d) in devices.iter().take(4).enumerate() {
        e.file(d, &format!("r{i}"), "process.required").await;
        e.clock.advance_ms(MIN);
    }
    assert!(
        e.state
            .store
            .read()
            .problems_page(None, 1000)
            .await
            .unwrap()
            .unwrap()
            .items
            .is_empty(),
        "4 devices are not a pattern"
    );
    e.file(&devices[4], "r4", "process.required").await;
    let problems = e
        .state
        .store
        .read()
        .problems_page(None, 1000)
        .await
        .unwrap()
        .unwrap()
        .items;
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].ticket_count, 5);
    assert_eq!(problems[0].device_count, 5);
    let (t6, _) = e.file(&devices[5], "r5", "process.required").await;
    assert_eq!(t6.problem_id.as_deref(), Some(problems[0].id.as_str()));
    assert_eq!(
        e.state
            .store
            .read()
            .problem(&problems[0].id)
            .await
            .unwrap()
            .unwrap()
            .ticket_count,
        6
    );
    // outside the window, a new pattern is a new problem
    e.clock.advance_ms(2 * 60 * MIN);
    let other = e.device(99).await;
    let (t, _) = e.file(&other, "x", "process.required").await;
    assert_eq!(t.problem_id, None);
}

/// A fleet-wide outage in small: many devices filing the same problem at once make
/// exactly one problem linking every ticket, with distinct numbers, and none missed
/// by the race to make the pattern.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_filed_at_once_is_one_problem_linking_every_ticket() {
    let e = env().await;
    let mut devices = Vec::new();
    for n in 0..120 {
        devices.push(e.device(n).await);
    }
    let tasks: Vec<_> = devices
        .iter()
        .map(|d| {
            let (st, d) = (e.state.clone(), d.clone());
            tokio::spawn(async move {
                file(
                    &st,
                    &d,
                    request(&format!("r-{}", d.id), "service.running:cups"),
                    TicketSource::Agent,
                    "device:x",
                )
                .await
                .unwrap()
                .0
            })
        })
        .collect();
    let mut numbers = std::collections::BTreeSet::new();
    for t in tasks {
        numbers.insert(t.await.unwrap().id);
    }
    assert_eq!(numbers.len(), 120, "every ticket has its own number");
    let mut r = e.state.store.read();
    let problems = r.problems_page(None, 1000).await.unwrap().unwrap().items;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].ticket_count, problems[0].device_count),
        (120, 120)
    );
    let all = e.state.store.test_tickets().await;
    assert!(all
        .iter()
        .all(|t| t.ticket.problem_id.as_deref() == Some(problems[0].id.as_str())));
    // the problem's tickets, a page at a time
    let q = TicketQuery {
        problem: Some(problems[0].id.clone()),
        limit: Some(100),
        ..Default::default()
    };
    let page = list(&e.state, &q).await.unwrap();
    assert_eq!(page.items.len(), 100);
    let rest = list(
        &e.state,
        &TicketQuery {
            cursor: page.next.clone(),
            ..q
        },
    )
    .await
    .unwrap();
    assert_eq!(rest.items.len(), 20);
    assert!(rest.next.is_none());
}

#[tokio::test]
async fn sla_breach_is_noted_once_and_pending_time_is_excluded() {
    let e = env().await;
    let d = e.device(1).await;
    let (t, _) = e.file(&d, "a", "disk.free:/").await; // P2: own 60 min, resolve 8 h
    e.clock.advance_ms(10 * MIN);
    patch(
        &e.state,
        "user:ana",
        &t.id,
        TicketPatch {
            status: Some(TicketStatus::Pending),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    e.clock.advance_ms(600 * MIN);
    let v = view(
        &e.state,
        &e.state.store.read().ticket(&t.id).await.unwrap().unwrap(),
    );
    assert!(
        !v.sla.own_breached,
        "moving to pending took ownership at minute 10"
    );
    assert!(!v.sla.resolve_breached, "pending time does not count");
    patch(
        &e.state,
        "user:ana",
        &t.id,
        TicketPatch {
            status: Some(TicketStatus::InProgress),
            assignee: Some("ana".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let v = view(
        &e.state,
        &e.state.store.read().ticket(&t.id).await.unwrap().unwrap(),
    );
    assert_eq!(v.sla.pending_ms, 600 * MIN);
    assert_eq!(v.sla.resolve_due_ms, T0 + 480 * MIN + 600 * MIN);
    assert_eq!(v.owned_at_ms, Some(T0 + 10 * MIN));
    e.clock.advance_ms(471 * MIN); // 10 + 471 = 481 minutes of working time
    assert_eq!(
        crate::sweep::sweep(&e.state).await.unwrap().breaches_noted,
        1
    );
    assert_eq!(
        crate::sweep::sweep(&e.state).await.unwrap().breaches_noted,
        0
    );
    let tl = e.state.store.read().timeline(&t.id).await.unwrap();
    assert_eq!(tl.iter().filter(|x| x.kind == "sla_breached").count(), 1);
    let breached = list(
        &e.state,
        &TicketQuery {
            breached: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .items;
    assert_eq!(breached.len(), 1);
}

#[tokio::test]
async fn sla_report_counts() {
    let e = env().await;
    let a = e.device(1).await;
    let b = e.device(2).await;
    let (t1, _) = e.file(&a, "1", "disk.free:/").await;
    let (t2, _) = e.file(&b, "2", "disk.free:/").await;
    let (_t3, _) = e.file(&b, "3", "firewall.enabled").await;
    e.clock.advance_ms(30 * MIN);
    patch(
        &e.state,
        "user:ana",
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
        "user:ana",
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
    crate::atomic!(e.state.store, tx => {
        tx.record_deflection(T0 + MIN, &a.id, "disk.free:/").await?;
        Ok(())
    })
    .unwrap();
    let r = report::sla_report(&e.state, T0, T0 + 86_400_000)
        .await
        .unwrap();
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
