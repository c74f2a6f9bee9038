//! `tendctl kb`: the knowledge base the laptop's `tend help` shows before a request
//! is filed — list (by category or problem key), add from a markdown file, show,
//! remove.

use tend_client::TransportError;
use tend_shared::kb::{Article, ArticleWrite};

use crate::ctl::Ctl;

fn list_text(v: &Vec<Article>) -> String {
    if v.is_empty() {
        return "no articles (tendctl kb add --title … --category network FILE.md)\n".into();
    }
    let mut out = format!(
        "{:<12} {:<40} {:>6} {:>9}  ANSWERS\n",
        "ID", "TITLE", "VIEWS", "WITHDRAWN"
    );
    for a in v {
        let answers: Vec<&str> = a
            .categories
            .iter()
            .chain(&a.problem_keys)
            .map(String::as_str)
            .collect();
        out += &format!(
            "{:<12} {:<40} {:>6} {:>9}  {}\n",
            a.id,
            a.title.chars().take(40).collect::<String>(),
            a.views,
            a.withdrawals,
            answers.join(", ")
        );
    }
    out
}

fn article_text(a: &Article) -> String {
    format!(
        "{} — {}\nanswers: {}\nshown {} times, withdrew {} requests; updated by {}\n\n{}\n",
        a.id,
        a.title,
        a.categories
            .iter()
            .chain(&a.problem_keys)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        a.views,
        a.withdrawals,
        a.updated_by,
        a.body.trim_end()
    )
}

impl Ctl {
    /// `tendctl kb [--category C] [--problem-key K]`.
    pub async fn kb_list(
        &self,
        category: Option<&str>,
        problem_key: Option<&str>,
    ) -> Result<String, TransportError> {
        let mut q = Vec::new();
        if let Some(c) = category {
            q.push(format!("category={}", crate::fmt::encode(c)));
        }
        if let Some(k) = problem_key {
            q.push(format!("problem_key={}", crate::fmt::encode(k)));
        }
        self.get_show(&format!("/api/v1/kb?{}", q.join("&")), list_text)
            .await
    }

    /// `tendctl kb add --title T [--category C]… [--problem-key K]… FILE`.
    pub async fn kb_add(&self, w: &ArticleWrite) -> Result<String, TransportError> {
        let a: Article = self.client.post("/api/v1/kb", w).await?;
        Ok(self.show(&a, article_text))
    }

    /// `tendctl kb show ID`.
    pub async fn kb_show(&self, id: &str) -> Result<String, TransportError> {
        self.get_show(
            &format!("/api/v1/kb/{}", crate::fmt::encode(id)),
            article_text,
        )
        .await
    }

    /// `tendctl kb rm ID`.
    pub async fn kb_remove(&self, id: &str) -> Result<String, TransportError> {
        self.client
            .delete(&format!("/api/v1/kb/{}", crate::fmt::encode(id)))
            .await?;
        Ok(format!("removed {id}\n"))
    }
}
