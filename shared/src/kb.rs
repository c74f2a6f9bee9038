//! Knowledge-base articles: what IT has written down for a problem, shown to the person
//! at the laptop before a request is filed (`tend help`), and beside matching tickets.

use serde::{Deserialize, Serialize};

/// Longest article body.
pub const MAX_BODY: usize = 20_000;

/// An article as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    /// Problem keys or their prefixes it answers (`disk.free` matches `disk.free:/`).
    #[serde(default)]
    pub problem_keys: Vec<String>,
    /// User-ticket categories it answers (`network`, `disk`, …).
    #[serde(default)]
    pub categories: Vec<String>,
    pub updated_by: String,
    pub updated_at_ms: u64,
    /// Times it was shown to someone asking for help.
    #[serde(default)]
    pub views: u64,
    /// Times someone withdrew their request after reading it (self-service).
    #[serde(default)]
    pub withdrawals: u64,
}

/// `POST /api/v1/kb`, `PUT /api/v1/kb/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleWrite {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub problem_keys: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
}

impl Article {
    /// Does it answer a request of `category`, or one of `problem_keys`?
    pub fn matches(&self, category: Option<&str>, problem_keys: &[String]) -> bool {
        category.is_some_and(|c| self.categories.iter().any(|x| x == c))
            || problem_keys.iter().any(|k| {
                self.problem_keys
                    .iter()
                    .any(|p| k == p || k.starts_with(&format!("{p}:")))
            })
    }
}

/// `POST /api/v1/device/kb/{id}/withdrawn`: the article counted as having helped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Withdrawn {
    pub withdrawn: bool,
    pub article: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_by_category_or_problem_key_prefix() {
        let a = Article {
            id: "kb_1".into(),
            title: "Disk full".into(),
            body: String::new(),
            problem_keys: vec!["disk.free".into()],
            categories: vec!["disk".into()],
            updated_by: "ana".into(),
            updated_at_ms: 0,
            views: 0,
            withdrawals: 0,
        };
        assert!(a.matches(Some("disk"), &[]));
        assert!(a.matches(None, &["disk.free:/home".into()]));
        assert!(a.matches(None, &["disk.free".into()]));
        assert!(!a.matches(Some("network"), &["disk.freeze".into()]));
    }
}
