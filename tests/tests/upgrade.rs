//! Upgrading a store written by the previous release (issue 26 §2): the recorded data
//! dir of `tests/fixtures/store-layout2.tar.gz` (made by the binaries of commit
//! a6d15a3, store layout 2) is opened by this build, which upgrades it in place to
//! layout 3: the fleet-wide problem that listed ticket ids now counts its links, its
//! tickets are listed by `?problem=`, numbering goes on after the old tickets, and
//! the upgraded store opens again.

use std::path::Path;
use std::process::Command;

use tend_e2e::CollectorProc;

fn unpack(to: &Path) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/store-layout2.tar.gz");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(to)
        .arg("-xzf")
        .arg(&fixture)
        .status()
        .expect("tar")
        .success();
    assert!(ok, "unpacking {}", fixture.display());
}

#[tokio::test]
async fn a_store_of_the_previous_release_is_upgraded_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(tmp.path());
    let data = tmp.path().join("data");
    let token = std::fs::read_to_string(tmp.path().join("token")).unwrap();
    let c = CollectorProc::start(&data, 0);
    let admin = c.client(token.trim());
    let problems: tend_shared::api::Page<tend_shared::tickets::Problem> =
        admin.get("/api/v1/problems").await.unwrap();
    assert_eq!(problems.items.len(), 1, "{problems:?}");
    let p = &problems.items[0];
    assert_eq!(p.problem_key, "service.running:corp-vpn");
    assert_eq!((p.ticket_count, p.device_count), (5, 5));
    let linked: tend_shared::api::Page<tend_shared::tickets::Ticket> = admin
        .get(&format!("/api/v1/tickets?problem={}", p.id))
        .await
        .unwrap();
    let mut ids: Vec<&str> = linked.items.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["T-1", "T-2", "T-3", "T-4", "T-5"]);
    // numbering goes on after the old tickets
    let device = &linked.items[0].device_id;
    let body = serde_json::json!({"request_id": "after-upgrade", "device_id": device,
        "problem_key": "printer.jam", "summary": "after the upgrade", "severity": "low"});
    let t: tend_shared::tickets::Ticket = admin.post("/api/v1/tickets", &body).await.unwrap();
    assert_eq!(t.id, "T-6");
    c.stop();
    // the upgraded store opens again as it is, and a clean stop gave the unused
    // numbers back
    let c = CollectorProc::start(&data, 0);
    let admin = c.client(token.trim());
    let body = serde_json::json!({"request_id": "after-restart", "device_id": device,
        "problem_key": "printer.toner", "summary": "after a restart", "severity": "low"});
    let t: tend_shared::tickets::Ticket = admin.post("/api/v1/tickets", &body).await.unwrap();
    assert_eq!(t.id, "T-7");
    c.stop();
}
