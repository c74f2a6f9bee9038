//! A PostgreSQL unit of work: a `REPEATABLE READ` transaction on one pooled
//! connection, begun at its first statement, with writes sent at commit as one array
//! upsert and one array delete (plus the `pg_notify` of its signals). A read-only view
//! runs each statement on its own and gives the connection back at once.

use bytes::Bytes;
use deadpool_postgres::Object;

use super::pg::{pg_err, PgKv};
use super::{Order, Range};
use crate::store::StoreError;

/// A PostgreSQL unit of work.
pub(crate) struct PgTx {
    kv: PgKv,
    client: Option<Object>,
    begun: bool,
    read_only: bool,
}

impl PgTx {
    pub(crate) fn new(kv: PgKv, read_only: bool) -> PgTx {
        PgTx {
            kv,
            client: None,
            begun: false,
            read_only,
        }
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if self.begun {
            // dropped mid-transaction (a panic or a cancelled request): close the
            // connection instead of returning it to the pool inside a transaction
            if let Some(c) = self.client.take() {
                drop(Object::take(c));
            }
        }
    }
}

impl PgTx {
    pub(crate) async fn next_id(&mut self) -> Result<u64, StoreError> {
        if let Some(id) = self.kv.cached_id() {
            return Ok(id);
        }
        if self.read_only {
            return self.kv.next_id().await;
        }
        let kv = self.kv.clone();
        let c = self.ready().await?;
        kv.next_id_on(c).await
    }

    /// The next value of sequence `name` (`nextval` is outside the transaction: two
    /// units never conflict on it).
    pub(crate) async fn nextval(&mut self, name: &str) -> Result<u64, StoreError> {
        let c = self.ready().await?;
        let row = c
            .query_one(&format!("SELECT nextval('{name}')"), &[])
            .await
            .map_err(pg_err)?;
        self.release();
        Ok(row.get::<_, i64>(0).max(1) as u64)
    }

    /// The connection to run the next statement on. A unit of work keeps one for its
    /// whole transaction; a read-only view takes one per statement and gives it back
    /// at once, so holding a view never pins a connection.
    async fn ready(&mut self) -> Result<&Object, StoreError> {
        if self.client.is_none() {
            self.client = Some(self.kv.client().await?);
        }
        let c = self.client.as_ref().expect("client set above");
        if !self.read_only && !self.begun {
            c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                .await
                .map_err(pg_err)?;
            self.begun = true;
        }
        Ok(self.client.as_ref().expect("client set above"))
    }

    /// A read-only view gives its connection back after each statement.
    fn release(&mut self) {
        if self.read_only {
            self.client = None;
        }
    }

    pub(crate) async fn get(&mut self, k: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let r = self.get_on(k).await;
        self.release();
        r
    }

    async fn get_on(&mut self, k: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let c = self.ready().await?;
        let st = c
            .prepare_cached("SELECT v FROM tend_kv WHERE k = $1")
            .await
            .map_err(pg_err)?;
        let row = c.query_opt(&st, &[&k]).await.map_err(pg_err)?;
        Ok(row.map(|r| Bytes::from(r.get::<_, Vec<u8>>(0))))
    }

    pub(crate) async fn get_many(
        &mut self,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Bytes>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        if keys.len() == 1 {
            return Ok(vec![self.get(&keys[0]).await?]);
        }
        let r = self.get_many_on(keys).await;
        self.release();
        r
    }

    async fn get_many_on(&mut self, keys: &[Vec<u8>]) -> Result<Vec<Option<Bytes>>, StoreError> {
        let c = self.ready().await?;
        let st = c
            .prepare_cached("SELECT k, v FROM tend_kv WHERE k = ANY($1)")
            .await
            .map_err(pg_err)?;
        let ks: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let rows = c.query(&st, &[&ks]).await.map_err(pg_err)?;
        let mut found: std::collections::HashMap<Vec<u8>, Bytes> = rows
            .into_iter()
            .map(|r| (r.get::<_, Vec<u8>>(0), Bytes::from(r.get::<_, Vec<u8>>(1))))
            .collect();
        Ok(keys.iter().map(|k| found.remove(k)).collect())
    }

    pub(crate) async fn scan(
        &mut self,
        range: &Range,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        let r = self.scan_on(range, order, limit).await;
        self.release();
        r
    }

    async fn scan_on(
        &mut self,
        range: &Range,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        let c = self.ready().await?;
        let sql = match order {
            Order::Asc => {
                "SELECT k, v FROM tend_kv WHERE k >= $1 AND k < $2 ORDER BY k ASC LIMIT $3"
            }
            Order::Desc => {
                "SELECT k, v FROM tend_kv WHERE k >= $1 AND k < $2 ORDER BY k DESC LIMIT $3"
            }
        };
        let st = c.prepare_cached(sql).await.map_err(pg_err)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                &st,
                &[&range.start.as_slice(), &range.end.as_slice(), &limit],
            )
            .await
            .map_err(pg_err)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    Bytes::from(r.get::<_, Vec<u8>>(0)),
                    Bytes::from(r.get::<_, Vec<u8>>(1)),
                )
            })
            .collect())
    }

    pub(crate) async fn count(&mut self, range: &Range) -> Result<u64, StoreError> {
        let r = self.count_on(range).await;
        self.release();
        r
    }

    async fn count_on(&mut self, range: &Range) -> Result<u64, StoreError> {
        let c = self.ready().await?;
        let st = c
            .prepare_cached("SELECT count(*) FROM tend_kv WHERE k >= $1 AND k < $2")
            .await
            .map_err(pg_err)?;
        let row = c
            .query_one(&st, &[&range.start.as_slice(), &range.end.as_slice()])
            .await
            .map_err(pg_err)?;
        Ok(row.get::<_, i64>(0).max(0) as u64)
    }

    pub(crate) async fn commit(
        mut self,
        writes: Vec<(Vec<u8>, Option<Bytes>)>,
        signals: &[String],
    ) -> Result<(), StoreError> {
        if writes.is_empty() && signals.is_empty() {
            if self.begun {
                self.finish("COMMIT").await?;
            }
            return Ok(());
        }
        let result = self.write(&writes, signals).await;
        match result {
            Ok(()) => self.finish("COMMIT").await,
            Err(e) => {
                let _ = self.finish("ROLLBACK").await;
                Err(e)
            }
        }
    }

    async fn write(
        &mut self,
        writes: &[(Vec<u8>, Option<Bytes>)],
        signals: &[String],
    ) -> Result<(), StoreError> {
        let c = self.ready().await?;
        let mut put_k: Vec<&[u8]> = Vec::new();
        let mut put_v: Vec<&[u8]> = Vec::new();
        let mut del_k: Vec<&[u8]> = Vec::new();
        for (k, v) in writes {
            match v {
                Some(v) => {
                    put_k.push(k);
                    put_v.push(v);
                }
                None => del_k.push(k),
            }
        }
        if !put_k.is_empty() {
            let st = c
                .prepare_cached(
                    "INSERT INTO tend_kv (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])
                     ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                )
                .await
                .map_err(pg_err)?;
            c.execute(&st, &[&put_k, &put_v]).await.map_err(pg_err)?;
        }
        if !del_k.is_empty() {
            let st = c
                .prepare_cached("DELETE FROM tend_kv WHERE k = ANY($1)")
                .await
                .map_err(pg_err)?;
            c.execute(&st, &[&del_k]).await.map_err(pg_err)?;
        }
        for s in signals {
            let st = c
                .prepare_cached("SELECT pg_notify('tend', $1)")
                .await
                .map_err(pg_err)?;
            c.execute(&st, &[s]).await.map_err(pg_err)?;
        }
        Ok(())
    }

    async fn finish(&mut self, how: &str) -> Result<(), StoreError> {
        if let Some(c) = &self.client {
            if self.begun {
                let r = c.batch_execute(how).await.map_err(pg_err);
                self.begun = false;
                if r.is_err() {
                    if let Some(c) = self.client.take() {
                        drop(Object::take(c));
                    }
                }
                return r;
            }
        }
        Ok(())
    }

    pub(crate) async fn rollback(mut self) {
        let _ = self.finish("ROLLBACK").await;
    }
}
