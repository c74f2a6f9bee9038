//! Knowledge-base articles (`kb/<id>`, a few hundred at most, read whole) and the
//! self-service withdrawals they earned (`kbw/<time>/<seq>`, counted by time range).

use tend_shared::kb::Article;

use crate::store::keys::{k1, Key};
use crate::store::kv::{Range, Tx};
use crate::store::StoreError;

impl Tx {
    pub fn put_article(&mut self, a: &Article) {
        self.put_json(k1("kb/", &a.id), a);
    }

    pub async fn article(&mut self, id: &str) -> Result<Option<Article>, StoreError> {
        self.get_json("article", &k1("kb/", id)).await
    }

    pub async fn remove_article(&mut self, id: &str) -> Result<bool, StoreError> {
        let k = k1("kb/", id);
        let found = self.get(&k).await?.is_some();
        self.delete(k);
        Ok(found)
    }

    pub async fn articles(&mut self) -> Result<Vec<Article>, StoreError> {
        self.all_json("articles", "kb/").await
    }

    /// Notes that a request was withdrawn after an article at `at_ms`.
    pub async fn record_kb_withdrawal(
        &mut self,
        at_ms: u64,
        article: &str,
    ) -> Result<(), StoreError> {
        let seq = self.next_id().await?;
        self.put_json(Key::new("kbw/").n(at_ms).n(seq).build(), &article);
        Ok(())
    }

    /// Withdrawals in `[from_ms, to_ms)`.
    pub async fn kb_withdrawals_between(
        &mut self,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<u64, StoreError> {
        self.count_keys(&Range {
            start: Key::new("kbw/").n(from_ms).build(),
            end: Key::new("kbw/").n(to_ms).build(),
        })
        .await
    }
}
