//! The engine contract, run against both engines: read-your-writes, ordered scans
//! merged with the unit's own writes, conflicts between units, all-or-nothing commits.

use super::*;
use crate::store::{Store, StoreError};

/// A sled store and a PostgreSQL store (a fresh database on the test cluster).
pub(crate) async fn both() -> (tempfile::TempDir, Vec<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let sled = Store::open(&dir.path().join("db")).unwrap();
    let pg = Store::connect(&PgOptions::new(&tend_pgtest::database()))
        .await
        .unwrap();
    (dir, vec![sled, pg])
}

use crate::store::PgOptions;

fn keys(rows: &[(Bytes, Bytes)]) -> Vec<String> {
    rows.iter()
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_see_own_writes_and_scans_merge_them() {
    let (_d, stores) = both().await;
    for s in stores {
        let name = s.engine().as_str();
        let mut tx = s.begin();
        for k in ["x/a", "x/b", "x/c", "x/d"] {
            tx.put(k.as_bytes().to_vec(), k.as_bytes().to_vec());
        }
        tx.commit().await.unwrap();
        let mut tx = s.begin();
        tx.delete(b"x/b".to_vec());
        tx.put(b"x/bb".to_vec(), b"new".to_vec());
        assert_eq!(
            tx.get(b"x/bb").await.unwrap().as_deref(),
            Some(&b"new"[..]),
            "{name}"
        );
        assert_eq!(tx.get(b"x/b").await.unwrap(), None, "{name}");
        let asc = tx.scan(&Range::prefix(b"x/"), Order::Asc, 3).await.unwrap();
        assert_eq!(keys(&asc), ["x/a", "x/bb", "x/c"], "{name}");
        let desc = tx
            .scan(&Range::prefix(b"x/"), Order::Desc, 2)
            .await
            .unwrap();
        assert_eq!(keys(&desc), ["x/d", "x/c"], "{name}");
        // another reader sees nothing of an uncommitted unit
        let mut other = s.read();
        assert!(other.get(b"x/bb").await.unwrap().is_none(), "{name}");
        tx.commit().await.unwrap();
        let mut r = s.read();
        let all = r
            .scan(&Range::prefix(b"x/"), Order::Asc, 100)
            .await
            .unwrap();
        assert_eq!(keys(&all), ["x/a", "x/bb", "x/c", "x/d"], "{name}");
        let many = r
            .get_many(&[b"x/d".to_vec(), b"x/zz".to_vec(), b"x/a".to_vec()])
            .await
            .unwrap();
        assert_eq!(
            many.iter().map(|v| v.is_some()).collect::<Vec<_>>(),
            [true, false, true],
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_whose_read_changed_conflicts() {
    let (_d, stores) = both().await;
    for s in stores {
        let name = s.engine().as_str();
        let mut a = s.begin();
        let mut b = s.begin();
        assert!(a.get(b"c/n").await.unwrap().is_none());
        assert!(b.get(b"c/n").await.unwrap().is_none());
        a.put(b"c/n".to_vec(), b"a".to_vec());
        b.put(b"c/n".to_vec(), b"b".to_vec());
        a.commit().await.unwrap();
        let e = b.commit().await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict), "{name}: {e}");
        let mut r = s.read();
        assert_eq!(
            r.get(b"c/n").await.unwrap().as_deref(),
            Some(&b"a"[..]),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_unit_writes_nothing_and_retries_count_once() {
    let (_d, stores) = both().await;
    for s in stores {
        let name = s.engine().as_str();
        let r: Result<(), StoreError> = crate::atomic!(s, tx: StoreError => {
            tx.put(b"f/1".to_vec(), b"1".to_vec());
            tx.put(b"f/2".to_vec(), b"2".to_vec());
            Err(StoreError::Transaction("stopped halfway".into()))
        });
        assert!(r.is_err());
        let mut rd = s.read();
        assert!(
            rd.scan(&Range::prefix(b"f/"), Order::Asc, 10)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        // 20 concurrent increments of one counter: none lost
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                crate::atomic!(s, tx: StoreError => tx.count_add("hits", "same", 1).await).unwrap();
                let _ = i;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(s.read().count("hits").await.unwrap(), 20, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_and_exclusive_tasks_span_every_store_on_one_database() {
    let url = tend_pgtest::database();
    let a = Store::connect(&PgOptions::new(&url)).await.unwrap();
    let b = Store::connect(&PgOptions::new(&url)).await.unwrap();
    let mut heard = b.subscribe();
    // b's listener connects in the background: signal until it hears one
    let got = loop {
        crate::atomic!(a, tx: StoreError => {
            tx.put(b"s/x".to_vec(), b"1".to_vec());
            tx.signal("job:dev-1");
            Ok(())
        })
        .unwrap();
        match tokio::time::timeout(std::time::Duration::from_millis(500), heard.recv()).await {
            Ok(Ok(s)) => break s,
            _ => continue,
        }
    };
    assert_eq!(got, "job:dev-1");
    // a unit that never commits signals nothing
    let mut tx = a.begin();
    tx.put(b"s/y".to_vec(), b"1".to_vec());
    tx.signal("never");
    tx.rollback().await;
    // the next signal heard is the next committed one
    crate::atomic!(a, tx: StoreError => {
        tx.signal("results");
        Ok(())
    })
    .unwrap();
    let next = loop {
        let s = heard.recv().await.unwrap();
        if s != "job:dev-1" {
            break s;
        }
    };
    assert_eq!(next, "results");

    // one task at a time across collectors: while a runs "sweep", b skips it
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let a2 = a.clone();
    let holder = tokio::spawn(async move {
        a2.exclusive("sweep", async move {
            let _ = entered_tx.send(());
            let _ = release_rx.await;
        })
        .await
        .unwrap()
    });
    entered_rx.await.unwrap();
    assert!(
        b.exclusive("sweep", async {}).await.unwrap().is_none(),
        "b ran while a held it"
    );
    assert!(
        b.exclusive("webhooks", async {}).await.unwrap().is_some(),
        "another task is free"
    );
    release_tx.send(()).unwrap();
    assert!(holder.await.unwrap().is_some());
    assert!(
        b.exclusive("sweep", async {}).await.unwrap().is_some(),
        "free again"
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it (PEM).
fn private_ca() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_the_database_and_a_newer_schema_is_refused() {
    let (ca, cert, key) = private_ca();
    let cluster = tend_pgtest::Cluster::start(&tend_pgtest::Options {
        tls: Some((cert, key)),
        ..Default::default()
    })
    .unwrap();
    cluster.sql("postgres", "CREATE DATABASE tls").unwrap();
    let url = format!(
        "postgres://tend@127.0.0.1:{}/tls?sslmode=require",
        cluster.port()
    );
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("db-ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    // the server's certificate is checked: without its CA the connection is refused
    let untrusted = Store::connect(&PgOptions::new(&url)).await.unwrap_err();
    assert!(
        matches!(untrusted, StoreError::Unavailable(_)),
        "{untrusted}"
    );
    let opts = PgOptions {
        ca_file: Some(ca_file),
        ..PgOptions::new(&url)
    };
    let s = Store::connect(&opts).await.unwrap();
    crate::atomic!(s, tx: StoreError => {
        tx.put(b"t/1".to_vec(), b"over tls".to_vec());
        Ok(())
    })
    .unwrap();
    assert!(cluster
        .sql(
            "tls",
            "SELECT ssl FROM pg_stat_ssl WHERE pid <> pg_backend_pid() AND ssl"
        )
        .unwrap()
        .contains('t'));
    // a database migrated by a newer collector is refused, not misread
    cluster
        .sql("tls", "UPDATE tend_schema SET version = 99")
        .unwrap();
    let e = Store::connect(&opts).await.unwrap_err();
    assert!(e.to_string().contains("schema version 99"), "{e}");
    cluster.stop();
}

#[test]
fn a_database_that_is_away_is_unavailable_and_a_bad_statement_is_not() {
    use super::pg::unavailable_state;
    // admin_shutdown, crash_shutdown, cannot_connect_now (starting up), connection
    // failure, too many connections, read-only standby, statement timeout
    for code in [
        "57P01", "57P02", "57P03", "08006", "08001", "53300", "25006", "57014",
    ] {
        assert!(unavailable_state(code), "{code}");
    }
    // syntax error, undefined table, unique violation, serialization is a conflict
    for code in ["42601", "42P01", "23505", "40001", "XX000"] {
        assert!(!unavailable_state(code), "{code}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_answers_503_with_retry_after_never_500() {
    use axum::response::IntoResponse;
    let cluster = std::sync::Arc::new(tend_pgtest::Cluster::start(&Default::default()).unwrap());
    cluster.sql("postgres", "CREATE DATABASE outage").unwrap();
    let store = Store::connect(&PgOptions::new(&cluster.url("outage")))
        .await
        .unwrap();
    let restarting = {
        let c = cluster.clone();
        tokio::task::spawn_blocking(move || c.restart())
    };
    let (mut ok_after, mut refused, mut n) = (0u32, 0u32, 0u64);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    // write until the restart is over and ten writes have gone through since
    while !(restarting.is_finished() && ok_after >= 10) {
        assert!(
            std::time::Instant::now() < deadline,
            "the store never came back"
        );
        n += 1;
        let r: Result<(), crate::error::ApiError> = crate::atomic!(store, tx => {
            tx.put(format!("o/{n}").into_bytes(), b"x".to_vec());
            Ok(())
        });
        match r {
            Ok(()) => ok_after += u32::from(restarting.is_finished()),
            Err(e) => {
                let resp = e.into_response();
                assert_eq!(resp.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
                assert!(resp.headers().contains_key(axum::http::header::RETRY_AFTER));
                refused += 1;
                ok_after = 0;
            }
        }
        tokio::task::yield_now().await;
    }
    restarting.await.unwrap().unwrap();
    assert!(refused > 0, "the restart went unnoticed: it tested nothing");
    cluster.stop();
}
