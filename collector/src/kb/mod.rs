//! The knowledge base: analysts write articles for problem keys and request
//! categories; a device asks for the ones that fit a help request before filing it
//! (each showing counts as a view), and a request withdrawn after reading one counts
//! as self-service deflection.

pub mod routes;
mod store;

use tend_shared::api::AuditOutcome;
use tend_shared::kb::{Article, ArticleWrite, MAX_BODY};
use tend_shared::tickets::USER_CATEGORIES;

use crate::error::ApiError;
use crate::fleet::DeviceRecord;
use crate::state::AppState;
use crate::store::random_hex_id;
use crate::users::auth::ApiUser;

/// Most articles kept (each is read whole on every suggestion).
pub const MAX_ARTICLES: usize = 1000;
/// Most articles suggested at once.
const SUGGESTED: usize = 3;

fn check(w: &ArticleWrite) -> Result<(), ApiError> {
    if w.title.trim().is_empty() || w.title.len() > 200 {
        return Err(ApiError::BadRequest("title is 1 to 200 characters".into()));
    }
    if w.body.len() > MAX_BODY {
        return Err(ApiError::BadRequest(format!(
            "body is at most {MAX_BODY} bytes"
        )));
    }
    if let Some(c) = w
        .categories
        .iter()
        .find(|c| !USER_CATEGORIES.contains(&c.as_str()))
    {
        return Err(ApiError::BadRequest(format!(
            "unknown category {c:?} ({})",
            USER_CATEGORIES.join("|")
        )));
    }
    if w.problem_keys.len() > 50 || w.problem_keys.iter().any(|k| k.is_empty() || k.len() > 300) {
        return Err(ApiError::BadRequest(
            "problem_keys: up to 50 keys of 1 to 300 characters".into(),
        ));
    }
    if w.categories.is_empty() && w.problem_keys.is_empty() {
        return Err(ApiError::BadRequest(
            "an article answers at least one category or problem key".into(),
        ));
    }
    Ok(())
}

/// Creates (`id` None) or replaces an article.
pub async fn write(
    state: &AppState,
    user: &ApiUser,
    id: Option<&str>,
    w: ArticleWrite,
) -> Result<Article, ApiError> {
    check(&w)?;
    let now = state.now_ms();
    let a = crate::commit!(state.store, tx => {
        let old = match id {
            Some(id) => Some(tx.article(id).await?.ok_or_else(|| ApiError::not_found("article", id))?),
            None => {
                if tx.articles().await?.len() >= MAX_ARTICLES {
                    return Err(ApiError::Conflict(format!("the knowledge base holds at most {MAX_ARTICLES} articles")));
                }
                None
            }
        };
        let a = Article {
            id: id.map_or_else(|| format!("kb_{}", random_hex_id::<6>()), str::to_string),
            title: w.title.trim().to_string(),
            body: w.body.clone(),
            problem_keys: w.problem_keys.clone(),
            categories: w.categories.clone(),
            updated_by: user.name.clone(),
            updated_at_ms: now,
            views: old.as_ref().map_or(0, |o| o.views),
            withdrawals: old.as_ref().map_or(0, |o| o.withdrawals),
        };
        tx.put_article(&a);
        state.audit_in(&mut tx, &user.actor(), if old.is_some() { "kb.update" } else { "kb.create" },
            &a.id, AuditOutcome::Success, serde_json::json!({"title": a.title})).await?;
        Ok(a)
    })?;
    Ok(a)
}

pub async fn remove(state: &AppState, user: &ApiUser, id: &str) -> Result<(), ApiError> {
    crate::commit!(state.store, tx => {
        if !tx.remove_article(id).await? {
            return Err(ApiError::not_found("article", id));
        }
        state.audit_in(&mut tx, &user.actor(), "kb.delete", id, AuditOutcome::Success, serde_json::Value::Null).await?;
        Ok(())
    })?;
    Ok(())
}

/// Articles for a category and problem keys (all of them when both are empty).
pub async fn matching(
    state: &AppState,
    category: Option<&str>,
    problem_keys: &[String],
) -> Result<Vec<Article>, ApiError> {
    let mut all = state.store.read().articles().await?;
    if category.is_some() || !problem_keys.is_empty() {
        all.retain(|a| a.matches(category, problem_keys));
    }
    // the ones that helped most first
    all.sort_by(|a, b| {
        b.withdrawals
            .cmp(&a.withdrawals)
            .then(a.title.cmp(&b.title))
    });
    Ok(all)
}

/// What `device` shows its user before filing: the best few, each counted as a view.
pub async fn suggest(
    state: &AppState,
    device: &DeviceRecord,
    category: Option<&str>,
    problem_keys: &[String],
) -> Result<Vec<Article>, ApiError> {
    let mut hits = matching(state, category, problem_keys).await?;
    hits.truncate(SUGGESTED);
    if hits.is_empty() {
        return Ok(hits);
    }
    let ids: Vec<String> = hits.iter().map(|a| a.id.clone()).collect();
    crate::atomic!(state.store, tx => {
        for id in &ids {
            if let Some(mut a) = tx.article(id).await? {
                a.views += 1;
                tx.put_article(&a);
            }
        }
        Ok(())
    })?;
    tracing::debug!(device = %device.id, shown = ids.len(), "knowledge base suggested");
    Ok(hits)
}

/// The user withdrew their request after reading `article`: self-service deflection.
pub async fn withdrawn(
    state: &AppState,
    device: &DeviceRecord,
    article: &str,
) -> Result<(), ApiError> {
    let now = state.now_ms();
    crate::commit!(state.store, tx => {
        let mut a = tx.article(article).await?.ok_or_else(|| ApiError::not_found("article", article))?;
        a.withdrawals += 1;
        tx.put_article(&a);
        tx.record_kb_withdrawal(now, article).await?;
        tx.record_deflection(now, &device.id, &format!("kb:{article}")).await?;
        state.audit_in(&mut tx, &format!("device:{}", device.id), "kb.withdrawn", article,
            AuditOutcome::Success, serde_json::Value::Null).await?;
        Ok(())
    })?;
    Ok(())
}
