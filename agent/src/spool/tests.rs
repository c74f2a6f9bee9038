//! Spool tests: durability across reopen, acknowledgement order, caps and overflow
//! reporting, interrupted writes, ticket requests, and refused events set aside.

use super::*;

fn report(at: u64) -> SpooledReport {
    SpooledReport {
        observed_at_ms: at,
        health: Vec::new(),
    }
}

#[test]
fn events_survive_reopen_and_ack_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    for i in 0..5 {
        assert_eq!(
            s.push_event("e", None, format!("{i}"), serde_json::Value::Null)
                .unwrap(),
            i + 1
        );
    }
    s.ack_events(2).unwrap();
    drop(s);
    let mut s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    let seqs: Vec<u64> = s
        .pending_events(100)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [3, 4, 5]);
    // seqs are never reused, even after everything was acknowledged
    s.ack_events(5).unwrap();
    drop(s);
    let mut s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    assert_eq!(s.event_depth(), 0);
    assert_eq!(
        s.push_event("e", None, String::new(), serde_json::Value::Null)
            .unwrap(),
        6
    );
}

#[test]
fn full_spool_refuses_events_then_reports_the_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(
        dir.path(),
        SpoolLimits {
            max_events: 3,
            max_reports: 2,
            max_tickets: 2,
        },
    )
    .unwrap();
    for _ in 0..3 {
        s.push_event("e", None, String::new(), serde_json::Value::Null)
            .unwrap();
    }
    assert!(matches!(
        s.push_event("e", None, String::new(), serde_json::Value::Null),
        Err(SpoolError::Full(3))
    ));
    assert_eq!(s.dropped(), 1);
    s.ack_events(3).unwrap();
    s.push_event("after", None, String::new(), serde_json::Value::Null)
        .unwrap();
    let kinds: Vec<String> = s
        .pending_events(10)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["spool.overflow", "after"]);
    assert_eq!(s.dropped(), 0);
}

#[test]
fn oldest_snapshots_go_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(
        dir.path(),
        SpoolLimits {
            max_events: 10,
            max_tickets: 10,
            max_reports: 2,
        },
    )
    .unwrap();
    for at in [10, 20, 30] {
        s.push_report(&report(at)).unwrap();
    }
    assert_eq!(s.report_depth(), 2);
    let (id, r) = s.oldest_report().unwrap().unwrap();
    assert_eq!(r.observed_at_ms, 20);
    s.remove_report(id);
    drop(s);
    let s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    assert_eq!(s.oldest_report().unwrap().unwrap().1.observed_at_ms, 30);
}

#[test]
fn ticket_requests_wait_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    for id in ["a/../../x", "b"] {
        let req = tend_shared::tickets::TicketRequest {
            request_id: id.into(),
            device_id: None,
            problem_key: "disk.free:/".into(),
            severity: Default::default(),
            summary: "s".into(),
            description: String::new(),
            check: None,
            evidence: serde_json::Value::Null,
            observed_at_ms: 0,
            requester: None,
            category: None,
        };
        s.push_ticket(&req).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    drop(s);
    let mut s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    let pending = s.pending_tickets().unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|(_, r)| r.request_id.as_str())
            .collect::<Vec<_>>(),
        ["a/../../x", "b"]
    );
    assert!(pending[0].0.ends_with("_ax.json"), "{}", pending[0].0);
    s.remove_ticket(&pending[0].0);
    assert_eq!(s.ticket_depth(), 1);
    // bounded: past the cap a request is refused and an event says which
    let mut small = Spool::open(
        &dir.path().join("small"),
        SpoolLimits {
            max_tickets: 1,
            ..SpoolLimits::default()
        },
    )
    .unwrap();
    let req = |k: &str| tend_shared::tickets::TicketRequest {
        request_id: k.into(),
        device_id: None,
        problem_key: k.into(),
        severity: Default::default(),
        summary: "s".into(),
        description: String::new(),
        check: None,
        evidence: serde_json::Value::Null,
        observed_at_ms: 0,
        requester: None,
        category: None,
    };
    small.push_ticket(&req("first")).unwrap();
    assert!(matches!(
        small.push_ticket(&req("second")),
        Err(SpoolError::Full(1))
    ));
    assert_eq!(small.ticket_depth(), 1);
    let ev = small.pending_events(10).unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].kind.as_str(), ev[0].check_id.as_deref()),
        ("ticket.refused", Some("second"))
    );
}

#[test]
fn interrupted_writes_are_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("events")).unwrap();
    fs::write(
        dir.path()
            .join("events")
            .join(".00000000000000000001.json.tmp"),
        b"{",
    )
    .unwrap();
    let s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    assert_eq!(s.event_depth(), 0);
}

#[test]
fn a_refused_event_is_set_aside_and_reported_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut sp = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    for k in ["a", "b"] {
        sp.push_event(k, None, String::new(), serde_json::Value::Null)
            .unwrap();
    }
    assert_eq!(sp.quarantine_oldest("400: bad").unwrap(), Some(1));
    let kinds: Vec<String> = sp
        .pending_events(10)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["b", "spool.rejected"]);
    assert!(dir.path().join("rejected").join(Spool::file(1)).exists());
    // it survives a restart
    let sp = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    assert_eq!(sp.event_depth(), 2);
}

#[test]
fn unsent_transitions_say_where_each_check_stands() {
    use tend_shared::health::CheckStatus;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    let t = |to: &str| serde_json::json!({"from": "pass", "to": to});
    s.push_event(
        "check.failed",
        Some("disk.free:/".into()),
        String::new(),
        t("fail"),
    )
    .unwrap();
    s.push_event(
        "agent.started",
        None,
        String::new(),
        serde_json::Value::Null,
    )
    .unwrap();
    s.push_event(
        "check.recovered",
        Some("disk.free:/".into()),
        String::new(),
        t("pass"),
    )
    .unwrap();
    s.push_event(
        "check.failed",
        Some("cpu.load".into()),
        String::new(),
        t("fail"),
    )
    .unwrap();
    let states = s.pending_check_states();
    assert_eq!(
        states.get("disk.free:/"),
        Some(&CheckStatus::Pass),
        "the latest wins"
    );
    assert_eq!(states.get("cpu.load"), Some(&CheckStatus::Fail));
    // once sent and acknowledged, the states file is the truth again
    s.ack_events(4).unwrap();
    assert!(s.pending_check_states().is_empty());
}
