//! Operator commands behind `tend-collector`: opening either backend from the
//! command line, `init` (the first collector on a database), and `migrate` (a sled
//! store into PostgreSQL, verified).

use std::path::Path;

use crate::server::Backend;
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
    // ids handed out later must sort after every copied one (audit order, outbox)
    pg.advance_ids(src.next_id().await?.saturating_add(1_000))
        .await?;
    crate::cluster::join(&dst, data, cluster_key).await?;
    Ok(Migrated { keys, ..a })
}
