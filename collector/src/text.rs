//! Text at the edges: identity fields refused when over-long or holding control
//! characters (`check_text`), and agent-supplied strings made safe at ingest instead of refused: a laptop whose crash
//! folder holds a hostile file name, or whose hostname is 500 bytes of junk, still
//! checks in — its text is cut to size and control characters are replaced, so
//! nothing derived from it later (ticket summaries, the sweep) can fail on it.

use tend_shared::checkin::AgentEvent;
use tend_shared::health::CheckResult;
use tend_shared::inventory::Inventory;

use crate::error::ApiError;

/// Largest `data` of one event, serialized.
pub const MAX_EVENT_DATA: usize = 16 * 1024;

/// `s` without control characters (each becomes a space), at most `max` bytes (cut
/// on a character boundary, marked with `…`).
pub fn text(s: &str, max: usize) -> String {
    let clean: String = if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    } else {
        s.to_string()
    };
    if clean.len() <= max {
        return clean;
    }
    let mut out = tend_shared::text::clip(&clean, max.saturating_sub(3)).to_string();
    out.push('…');
    out
}

/// `text` for an optional field.
pub fn opt(s: &mut Option<String>, max: usize) {
    if let Some(v) = s {
        *v = text(v, max);
    }
}

/// A JSON value no larger than `max` bytes serialized: bigger ones are replaced by a
/// note saying how big they were.
pub fn json(v: serde_json::Value, max: usize) -> serde_json::Value {
    let size = serde_json::to_vec(&v).map_or(usize::MAX, |b| b.len());
    if size <= max {
        v
    } else {
        serde_json::json!({"truncated": true, "bytes": size})
    }
}

/// An agent event with every string bounded.
pub fn event(e: &mut AgentEvent) {
    e.kind = text(&e.kind, 100);
    e.message = text(&e.message, 2000);
    opt(&mut e.check_id, 200);
    e.data = json(std::mem::take(&mut e.data), MAX_EVENT_DATA);
}

/// A check result with every string bounded.
pub fn check(c: &mut CheckResult) {
    c.id = text(&c.id, 200);
    c.message = text(&c.message, 2000);
    c.value = json(std::mem::take(&mut c.value), 4096);
    c.threshold = json(std::mem::take(&mut c.threshold), 4096);
}

/// The inventory's identity and display strings bounded (the software list's too).
pub fn inventory(inv: &mut Inventory) {
    inv.hostname = text(&inv.hostname, 255);
    inv.os.name = text(&inv.os.name, 200);
    inv.os.version = text(&inv.os.version, 200);
    for s in &mut inv.software {
        s.name = text(&s.name, 300);
        s.version = text(&s.version, 200);
    }
    for u in &mut inv.users {
        *u = text(u, 100);
    }
}

/// Rejects over-long or control-character strings in identity fields.
pub(crate) fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.len() > max {
        return Err(ApiError::BadRequest(format!(
            "{field} is longer than {max} bytes"
        )));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(ApiError::BadRequest(format!(
            "{field} contains control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_length_are_bounded() {
        assert_eq!(text("plain", 10), "plain");
        assert_eq!(text("a\nb\u{7}c", 10), "a b c");
        let long = "é".repeat(400);
        let cut = text(&long, 255);
        assert!(cut.len() <= 255 && cut.ends_with('…'), "{}", cut.len());
        assert_eq!(
            json(serde_json::json!("x".repeat(100)), 50),
            serde_json::json!({"truncated": true, "bytes": 102})
        );
    }
}
