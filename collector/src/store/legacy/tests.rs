//! Upgrade tests: a layout-1 store upgraded in place, a newer layout refused.

use super::*;
use crate::store::{to_json, Store};

fn rec<T: serde::Serialize>(v: &T) -> Vec<u8> {
    to_json(v)
}

/// A store of a newer layout than this build knows is refused with a message an
/// operator can act on, and left as it is.
#[tokio::test]
async fn a_store_of_a_newer_layout_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = Store::open(&path).unwrap();
        let mut tx = store.begin();
        tx.meta_put("layout", &(LAYOUT + 1));
        tx.commit().await.unwrap();
        store.flush().await.unwrap();
    }
    let p2 = path.clone();
    let err = tokio::task::spawn_blocking(move || Store::open(&p2))
        .await
        .unwrap()
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("newer Tend"), "{msg}");
    let kv = SledKv::open(&path).unwrap();
    let layout: Option<u64> = Kv::Sled(kv).read().meta_get("layout").await.unwrap();
    assert_eq!(layout, Some(LAYOUT + 1), "left as it was");
}

/// A store written the way layout 1 wrote it (one tree per kind) opens as layout 3
/// with every record, index and counter in place, and the old trees gone.
#[tokio::test]
async fn a_layout_1_store_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut d = crate::store::conformance_device(7);
    d.health = tend_shared::health::HealthStatus::Failing;
    {
        let db = sled::open(&path).unwrap();
        db.open_tree("devices")
            .unwrap()
            .insert(d.id.as_bytes(), rec(&d))
            .unwrap();
        db.open_tree("devices_by_hw")
            .unwrap()
            .insert(d.hardware_uuid.as_bytes(), d.id.as_bytes())
            .unwrap();
        let mut ek = d.id.as_bytes().to_vec();
        ek.push(0);
        ek.extend_from_slice(&5u64.to_be_bytes());
        ek.extend_from_slice(&9u64.to_be_bytes());
        let ev = serde_json::json!({"at_ms": 5, "source": "agent", "seq": 9, "kind": "x", "message": "old event"});
        db.open_tree("events")
            .unwrap()
            .insert(ek, rec(&ev))
            .unwrap();
        let entry = tend_shared::api::AuditEntry {
            seq: 41,
            at_ms: 1,
            actor: "user:old".into(),
            action: "device.enroll".into(),
            target: d.id.clone(),
            outcome: tend_shared::api::AuditOutcome::Success,
            detail: serde_json::Value::Null,
        };
        db.open_tree("audit")
            .unwrap()
            .insert(41u64.to_be_bytes(), rec(&entry))
            .unwrap();
        let t = crate::store::conformance_ticket("T-12", &d.id);
        db.open_tree("tickets")
            .unwrap()
            .insert("T-12", rec(&t))
            .unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert("policy", rec(&tend_shared::policy::Policy::default()))
            .unwrap();
        let mut art = b"0.2.0\0linux-x86_64".to_vec();
        db.open_tree("release_artifacts")
            .unwrap()
            .insert(art.clone(), &b"whole binary"[..])
            .unwrap();
        art.clear();
        db.flush().unwrap();
    }
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .unwrap()
        .unwrap();
    let mut r = store.read();
    assert_eq!(r.device(&d.id).await.unwrap(), Some(d.clone()));
    assert_eq!(
        r.device_by_hardware_uuid(&d.hardware_uuid)
            .await
            .unwrap()
            .map(|x| x.id),
        Some(d.id.clone())
    );
    let c = r.counts().await.unwrap();
    assert_eq!(
        (c.devices, c.by_health["failing"], c.open_tickets),
        (1, 1, 1)
    );
    assert_eq!(
        r.events_since(&d.id, 0, 10).await.unwrap()[0].message,
        "old event"
    );
    let audit = r
        .audit_page(&Default::default(), None, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.items[0].seq, 41);
    assert_eq!(
        r.open_ticket(&d.id, "disk.free:/")
            .await
            .unwrap()
            .unwrap()
            .ticket
            .id,
        "T-12"
    );
    // a store from before the counter continues after its highest number
    let mut tx = store.begin();
    assert_eq!(tx.next_ticket_number().await.unwrap(), 13);
    tx.rollback().await;
    // an artifact stored whole before chunking reads as chunk 0
    let chunk = r
        .release_artifact_chunk(
            "0.2.0",
            tend_shared::releases::ReleasePlatform::LinuxX86_64,
            0,
        )
        .await
        .unwrap();
    assert_eq!(chunk.as_deref(), Some(&b"whole binary"[..]));
    assert!(r
        .meta_get::<tend_shared::policy::Policy>("policy")
        .await
        .unwrap()
        .is_some());
    let Kv::Sled(kv) = store.kv() else {
        unreachable!()
    };
    assert!(
        !kv.inner()
            .unwrap()
            .db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == b"devices"),
        "old trees dropped"
    );
}
