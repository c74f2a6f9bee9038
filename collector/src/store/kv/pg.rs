//! The PostgreSQL engine: every key in one table, `tend_kv (k bytea primary key,
//! v bytea)`, shared by any number of collectors.
//!
//! - A unit of work is a `REPEATABLE READ` transaction, begun at its first read;
//!   writes are buffered and sent at commit as one upsert and one delete (arrays), so
//!   row locks live only for the commit itself. A concurrent change to a row the unit
//!   writes fails it with a serialization failure, reported as `Conflict`.
//! - Read-only units run each read as its own statement (no transaction).
//! - Signals (`Tx::signal`) are `pg_notify('tend', …)` inside the committing
//!   transaction, so every collector's listener ([`PgKv::listen`]) sees them exactly
//!   when the data is visible.
//! - Ids come from the `tend_ids` sequence in blocks of 1,000 per collector.
//! - Migrations are embedded (`MIGRATIONS`) and applied at start under an advisory
//!   lock; a database with a newer schema than this binary knows is refused.
//! - TLS to the database with rustls (system roots plus an optional CA file); unix
//!   sockets need none.

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;

use crate::store::StoreError;

/// Schema steps, applied in order; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: the key-value table, the id sequence, and read-only views for reporting
    "CREATE TABLE tend_kv (k bytea PRIMARY KEY, v bytea NOT NULL);
     CREATE SEQUENCE tend_ids INCREMENT BY 1000;
     CREATE VIEW tend_devices AS
       SELECT convert_from(v, 'UTF8')::jsonb AS device FROM tend_kv
       WHERE k >= 'dev/'::bytea AND k < 'dev0'::bytea;
     CREATE VIEW tend_tickets AS
       SELECT convert_from(v, 'UTF8')::jsonb AS ticket FROM tend_kv
       WHERE k >= 'tk/'::bytea AND k < 'tk0'::bytea;
     CREATE VIEW tend_audit AS
       SELECT convert_from(v, 'UTF8')::jsonb AS entry FROM tend_kv
       WHERE k >= 'au/'::bytea AND k < 'au0'::bytea;
     CREATE VIEW tend_jobs AS
       SELECT convert_from(v, 'UTF8')::jsonb AS job FROM tend_kv
       WHERE k >= 'jb/'::bytea AND k < 'jb0'::bytea;",
    // 2 (store layout 3): ticket numbers from a sequence instead of the `seq/ticket`
    // key every filing conflicted on; problems of constant size, their tickets and
    // devices as the tickets' own index entries (`tk.pbid/<problem>\0<created><id>\0`,
    // `tk.pbdev/<problem>\0<device>\0`, see tickets::problems::link_index)
    "CREATE SEQUENCE tend_ticket_numbers;
     SELECT setval('tend_ticket_numbers', COALESCE(
       (SELECT ('x' || encode(v, 'hex'))::bit(64)::bigint FROM tend_kv
        WHERE k = '\\x7365712f7469636b657400'::bytea AND length(v) = 8), 0) + 1, false);
     WITH t AS (
       SELECT convert_from(v, 'UTF8')::jsonb AS j FROM tend_kv
       WHERE k >= 'tk/'::bytea AND k < 'tk0'::bytea
     ), l AS (
       SELECT j->>'id' AS id, j->>'device_id' AS dev, j->>'problem_id' AS pb,
              (j->>'created_at_ms')::bigint AS at
       FROM t WHERE j->>'problem_id' IS NOT NULL
     )
     INSERT INTO tend_kv (k, v)
       SELECT 'tk.pbid/'::bytea || convert_to(pb, 'UTF8') || '\\x00'::bytea || int8send(at)
              || convert_to(id, 'UTF8') || '\\x00'::bytea, convert_to(id, 'UTF8') FROM l
       UNION ALL
       SELECT DISTINCT ON (pb, dev) 'tk.pbdev/'::bytea || convert_to(pb, 'UTF8') || '\\x00'::bytea
              || convert_to(dev, 'UTF8') || '\\x00'::bytea, convert_to(id, 'UTF8') FROM l
     ON CONFLICT (k) DO NOTHING;
     UPDATE tend_kv SET v = convert_to(
       (convert_from(v, 'UTF8')::jsonb - 'ticket_ids' - 'device_ids')::text, 'UTF8')
     WHERE k >= 'pb/'::bytea AND k < 'pb0'::bytea;
     DELETE FROM tend_kv WHERE k = '\\x7365712f7469636b657400'::bytea;",
];

/// The channel signals travel on.
pub const CHANNEL: &str = "tend";

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://user:pass@host:port/db?sslmode=require` or `host=/run/postgresql dbname=tend`.
    pub url: String,
    /// Extra CA (PEM) to trust for TLS to the database, besides the system roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// Connections in this collector's pool.
    pub pool_size: usize,
}

impl PgOptions {
    /// Whether `url` is a PostgreSQL connection string this engine understands.
    pub fn check_url(url: &str) -> Result<(), String> {
        url.parse::<tokio_postgres::Config>()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub fn new(url: &str) -> PgOptions {
        PgOptions {
            url: url.to_string(),
            ca_file: None,
            pool_size: 16,
        }
    }
}

/// A pool of connections to one database.
#[derive(Clone)]
pub struct PgKv {
    pool: Pool,
    config: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    ids: Arc<std::sync::Mutex<(u64, u64)>>,
}

pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StoreError::Conflict
        }
        Some(c) => {
            let what = format!(
                "{} ({})",
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_string()),
                c.code()
            );
            if unavailable_state(c.code()) {
                StoreError::Unavailable(what)
            } else {
                StoreError::Pg(what)
            }
        }
        None if e.is_closed() => StoreError::Unavailable(format!("database connection lost: {e}")),
        None => StoreError::Unavailable(describe(&e)),
    }
}

/// Whether a SQLSTATE says the database is not there right now rather than that the
/// statement is wrong: connection exceptions (08), insufficient resources such as too
/// many connections (53), operator intervention — a shutdown, a crash restart, "the
/// database system is starting up", a cancelled statement (57) — and a read-only
/// standby during a failover (25006). Those answer 503 with Retry-After, so agents'
/// spools back off; everything else is a bug to log (500).
pub(crate) fn unavailable_state(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || code.starts_with("57") || code == "25006"
}

/// The error with its causes, in one line.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_s = c.to_string();
        if !s.contains(&c_s) {
            s.push_str(": ");
            s.push_str(&c_s);
        }
        cause = c.source();
    }
    s
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        other => StoreError::Unavailable(format!("database pool: {other}")),
    }
}

fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| StoreError::Unavailable(format!("reading {}: {e}", path.display())))?;
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| {
                StoreError::Unavailable(format!("{} is not a PEM certificate: {e}", path.display()))
            })?;
            roots
                .add(cert)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unavailable(format!("tls: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

use rustls_pki_types::pem::PemObject;

impl PgKv {
    /// Connects, applies pending migrations, and checks the schema is one this
    /// binary knows.
    pub async fn connect(opts: &PgOptions) -> Result<PgKv, StoreError> {
        let config: tokio_postgres::Config = opts
            .url
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("database URL: {e}")))?;
        let tls =
            tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(opts.ca_file.as_deref())?);
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(opts.pool_size.max(2))
            .wait_timeout(Some(std::time::Duration::from_secs(30)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable(format!("database pool: {e}")))?;
        let kv = PgKv {
            pool,
            config,
            tls,
            ids: Arc::default(),
        };
        kv.migrate().await?;
        Ok(kv)
    }

    pub(crate) async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Applies missing migrations (one collector at a time, under an advisory lock).
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        tx.execute("SELECT pg_advisory_xact_lock(7365321)", &[])
            .await
            .map_err(pg_err)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS tend_schema (version integer NOT NULL)")
            .await
            .map_err(pg_err)?;
        let version: i32 = match tx
            .query_opt("SELECT version FROM tend_schema", &[])
            .await
            .map_err(pg_err)?
        {
            Some(row) => row.get(0),
            None => {
                tx.execute("INSERT INTO tend_schema (version) VALUES (0)", &[])
                    .await
                    .map_err(pg_err)?;
                0
            }
        };
        let known = MIGRATIONS.len() as i32;
        if version > known {
            return Err(StoreError::Schema(format!(
                "the database has schema version {version}; this collector knows up to {known} (upgrade the collector)"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql).await.map_err(pg_err)?;
            tx.execute("UPDATE tend_schema SET version = $1", &[&(i as i32 + 1)])
                .await
                .map_err(pg_err)?;
            tracing::info!(version = i + 1, "database schema migrated");
        }
        tx.commit().await.map_err(pg_err)
    }

    /// The schema version in the database.
    pub async fn schema_version(&self) -> Result<i32, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT version FROM tend_schema", &[])
            .await
            .map_err(pg_err)?;
        Ok(row.get(0))
    }

    /// A fresh id, unique across collectors (blocks of 1,000 from `tend_ids`).
    pub async fn next_id(&self) -> Result<u64, StoreError> {
        if let Some(id) = self.cached_id() {
            return Ok(id);
        }
        let c = self.client().await?;
        self.next_id_on(&c).await
    }

    pub(crate) fn cached_id(&self) -> Option<u64> {
        let mut ids = self.ids.lock().expect("ids lock poisoned");
        (ids.0 < ids.1).then(|| {
            ids.0 += 1;
            ids.0 - 1
        })
    }

    /// `next_id` on a connection the caller holds (a unit of work never waits for a
    /// second connection: with every pooled connection held by units, that would wait
    /// forever).
    pub(crate) async fn next_id_on(&self, c: &Object) -> Result<u64, StoreError> {
        if let Some(id) = self.cached_id() {
            return Ok(id);
        }
        let row = c
            .query_one("SELECT nextval('tend_ids')", &[])
            .await
            .map_err(pg_err)?;
        let start = row.get::<_, i64>(0).max(1) as u64;
        let mut ids = self.ids.lock().expect("ids lock poisoned");
        *ids = (start + 1, start + 1000);
        Ok(start)
    }

    /// Runs `f` while holding the cluster-wide advisory lock `key`; `None` (and `f`
    /// not run) when another collector holds it. The lock lives on one connection
    /// and dies with it, so a collector killed mid-task frees it.
    pub async fn exclusive<T, F: std::future::Future<Output = T>>(
        &self,
        key: i64,
        f: F,
    ) -> Result<Option<T>, StoreError> {
        let c = self.client().await?;
        let got: bool = c
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(pg_err)?
            .get(0);
        if !got {
            return Ok(None);
        }
        let out = f.await;
        if c.execute("SELECT pg_advisory_unlock($1)", &[&key])
            .await
            .is_err()
        {
            // never hand a connection that may still hold the lock back to the pool
            drop(Object::take(c));
        }
        Ok(Some(out))
    }

    /// Listens for signals from every collector; each payload goes to `tx`. Runs until
    /// `tx` is closed, reconnecting after failures (and then sending `"*"`: anything
    /// may have been missed).
    pub async fn listen(&self, tx: tokio::sync::broadcast::Sender<String>) {
        use futures_util::StreamExt;
        let mut delay = std::time::Duration::from_millis(200);
        let mut first = true;
        loop {
            match self.config.connect(self.tls.clone()).await {
                Ok((client, mut conn)) => {
                    let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
                    let statement = format!("LISTEN {CHANNEL}");
                    let listen = client.batch_execute(&statement);
                    // the connection must be polled for LISTEN to complete
                    let mut listen = std::pin::pin!(listen);
                    let ok = loop {
                        tokio::select! {
                            r = &mut listen => break r.is_ok(),
                            m = stream.next() => if m.is_none() { break false },
                        }
                    };
                    if ok {
                        delay = std::time::Duration::from_millis(200);
                        if !first {
                            let _ = tx.send("*".into());
                        }
                        first = false;
                        while let Some(m) = stream.next().await {
                            match m {
                                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                                    if tx.send(n.payload().to_string()).is_err() {
                                        return;
                                    }
                                }
                                Ok(_) => {}
                                Err(e) => {
                                    tracing::warn!(error = %e, "database listener lost");
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %describe(&e), "database listener cannot connect"),
            }
            if tx.receiver_count() == 0 {
                return;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_secs(10));
        }
    }

    /// Copies raw rows in (the sled → PostgreSQL migration): one transaction per batch.
    pub async fn load(&self, rows: &[(Vec<u8>, Vec<u8>)]) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let (ks, vs): (Vec<&[u8]>, Vec<&[u8]>) = rows
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .unzip();
        tx.execute(
            "INSERT INTO tend_kv (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])
             ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            &[&ks, &vs],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    /// Makes every later id larger than `min` (after copying records that carry ids).
    pub async fn advance_ids(&self, min: u64) -> Result<(), StoreError> {
        let c = self.client().await?;
        let min = i64::try_from(min).unwrap_or(i64::MAX - 1_000_000);
        c.execute(
            "SELECT setval('tend_ids', GREATEST($1, (SELECT last_value FROM tend_ids)))",
            &[&min],
        )
        .await
        .map_err(pg_err)?;
        *self.ids.lock().expect("ids lock poisoned") = (0, 0);
        Ok(())
    }

    /// Makes sequence `seq` hand out numbers after `last` (a store copied in from
    /// sled, where `seq/<name>` held the end of the last leased block); the copied
    /// key is removed, as the schema migration removes it.
    pub async fn advance_sequence(
        &self,
        seq: super::Sequence,
        last: u64,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        let last = i64::try_from(last.max(1)).unwrap_or(i64::MAX - 1_000_000);
        c.execute(
            &format!(
                "SELECT setval('{0}', GREATEST($1, (SELECT last_value FROM {0})))",
                seq.pg
            ),
            &[&last],
        )
        .await
        .map_err(pg_err)?;
        let key = crate::store::keys::k1("seq/", seq.name);
        c.execute("DELETE FROM tend_kv WHERE k = $1", &[&key])
            .await
            .map_err(pg_err)?;
        Ok(())
    }

    /// Rows in the table.
    pub async fn row_count(&self) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let n: i64 = c
            .query_one("SELECT count(*) FROM tend_kv", &[])
            .await
            .map_err(pg_err)?
            .get(0);
        Ok(n as u64)
    }
}
