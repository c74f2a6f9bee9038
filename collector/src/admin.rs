//! Operator commands behind `tend-collector`: opening either backend from the
//! command line, `init` (the first collector on a database), `migrate` (a sled
//! store into PostgreSQL, verified), and `backup`/`restore` of a sled collector.

use std::path::Path;

use crate::server::Backend;
use crate::store::backup::Manifest;
use crate::store::kv::{Kv, Order, Range};
use crate::store::{PgOptions, Store, StoreError};

/// Failures of the operator commands.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Backup(#[from] crate::store::backup::BackupError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// `tend-collector backup`: a consistent backup of the sled store under `data` (and
/// its identity files) into `out`, from the running collector over its control
/// socket when one holds the store, else straight from the stopped store. Written to
/// `<out>.partial`, read back and checked, then renamed: `out` is never half a file.
pub async fn backup(data: &Path, out: &Path) -> Result<Manifest, AdminError> {
    if !data.join("db").exists() {
        return Err(AdminError::Refused(format!(
            "{} holds no sled store (db/); on PostgreSQL use pg_dump (docs/operations.md)",
            data.display()
        )));
    }
    let partial = std::path::PathBuf::from(format!("{}.partial", out.display()));
    let mut f = std::fs::File::create(&partial)?;
    let files = crate::store::backup::identity_files(data)?;
    let (data2, partial2) = (data.to_path_buf(), partial.clone());
    let sent = tokio::task::spawn_blocking(move || {
        let db = data2.join("db");
        match crate::store::backup::from_stopped(&db, &files, tend_shared::now_ms(), &mut f) {
            Ok(Some(_)) => Ok(f),
            // a running collector holds the store: it takes the snapshot
            Ok(None) => crate::server::control::request_backup(&data2, &mut f).map(|_| f),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
    let f = match sent.map_err(|e| e.to_string()).and_then(|r| r) {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_file(&partial2);
            return Err(AdminError::Refused(format!("backup failed: {e}")));
        }
    };
    f.sync_all()?;
    drop(f);
    let checked = tokio::task::spawn_blocking(move || {
        crate::store::backup::read(&partial2, |_, _, _| Ok(()))
    })
    .await
    .map_err(|e| AdminError::Refused(e.to_string()))?;
    match checked {
        Ok(m) => {
            std::fs::rename(&partial, out)?;
            Ok(m)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e.into())
        }
    }
}

/// `tend-collector restore`: the backup `from` into the new data dir `data`
/// (refused when `data` holds anything; checked before anything is put in place).
pub async fn restore(from: &Path, data: &Path) -> Result<Manifest, AdminError> {
    let (from, data) = (from.to_path_buf(), data.to_path_buf());
    tokio::task::spawn_blocking(move || {
        crate::store::backup::restore(&from, &data, crate::store::LAYOUT)
    })
    .await
    .map_err(|e| AdminError::Refused(e.to_string()))?
    .map_err(AdminError::from)
}

/// Opens the store `backend` names. A sled store that a running collector holds is
/// refused with a hint (the PostgreSQL one is shared: commands work beside running
/// collectors).
pub async fn open_store(data: &Path, backend: &Backend) -> Result<Store, AdminError> {
    match backend {
        Backend::Sled => {
            let dir = data.join("db");
            let opened = tokio::task::spawn_blocking(move || Store::open(&dir))
                .await
                .map_err(|e| AdminError::Refused(e.to_string()))?;
            opened.map_err(|e| match e {
                StoreError::InUse(_) => AdminError::Refused(format!(
                    "{} is in use by a running collector: stop it first, or use tendctl against it",
                    data.display()
                )),
                other => other.into(),
            })
        }
        Backend::Postgres { options, .. } => Ok(Store::connect(options).await?),
    }
}

/// What a migration copied and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrated {
    pub keys: u64,
    pub devices: u64,
    pub tickets: u64,
    pub jobs: u64,
    pub audit: u64,
    pub events: u64,
}

async fn count(store: &Store, prefix: &[u8]) -> Result<u64, StoreError> {
    let mut r = store.read();
    let mut n = 0u64;
    let mut range = Range::prefix(prefix);
    loop {
        let rows = r.scan(&range, Order::Asc, 10_000).await?;
        n += rows.len() as u64;
        match rows.last() {
            Some((k, _)) if rows.len() == 10_000 => {
                range.start = k.to_vec();
                range.start.push(0);
            }
            _ => return Ok(n),
        }
    }
}

async fn counts(store: &Store) -> Result<Migrated, StoreError> {
    Ok(Migrated {
        keys: 0,
        devices: count(store, b"dev/").await?,
        tickets: count(store, b"tk/").await?,
        jobs: count(store, b"jb/").await?,
        audit: count(store, b"au/").await?,
        events: count(store, b"ev/").await?,
    })
}

/// Copies the sled store of data dir `data` into the empty PostgreSQL database `to`,
/// verifies that every key arrived (and the record counts match), advances the
/// database's id sequence past every copied id, and stores the data dir's identity
/// in the database (sealed with `cluster_key`, created if missing) so the agents
/// enrolled with this collector trust the collectors of the database.
pub async fn migrate(
    data: &Path,
    to: &PgOptions,
    cluster_key: &Path,
) -> Result<Migrated, AdminError> {
    let src = open_store(data, &Backend::Sled).await?;
    let dst = Store::connect(to).await?;
    let Kv::Pg(pg) = dst.kv().clone() else {
        unreachable!("connect opens PostgreSQL")
    };
    if pg.row_count().await? > 0 {
        return Err(AdminError::Refused(
            "the target database already holds Tend records; migrate into an empty database".into(),
        ));
    }
    let mut keys = 0u64;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let rows = crate::store::dump_batch(&mut src.read(), after.as_deref(), 2_000).await?;
        let Some((last, _)) = rows.last() else { break };
        after = Some(last.to_vec());
        let batch: Vec<(Vec<u8>, Vec<u8>)> =
            rows.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        pg.load(&batch).await?;
        keys += batch.len() as u64;
    }
    let copied = pg.row_count().await?;
    if copied != keys {
        return Err(AdminError::Refused(format!(
            "copied {keys} keys but the database holds {copied}; nothing was switched over"
        )));
    }
    let (a, b) = (counts(&src).await?, counts(&dst).await?);
    if a != b {
        return Err(AdminError::Refused(format!(
            "record counts differ after the copy (sled {a:?}, PostgreSQL {b:?})"
        )));
    }
    // ids handed out later must sort after every copied one (audit order, outbox),
    // and ticket numbers must go on after the copied tickets'
    pg.advance_ids(src.next_id().await?.saturating_add(1_000))
        .await?;
    let seq = crate::store::kv::TICKET_NUMBERS;
    let last = crate::store::kv::sequence_value(
        src.read()
            .get(&crate::store::keys::k1("seq/", seq.name))
            .await?
            .as_deref(),
    );
    pg.advance_sequence(seq, last).await?;
    crate::cluster::join(&dst, data, cluster_key).await?;
    Ok(Migrated { keys, ..a })
}
