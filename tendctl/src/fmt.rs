//! Text formatting shared by every `tendctl` view: times, ages, durations, sizes
//! (decimal units everywhere, as the agent's messages use), and aligned tables.

use std::fmt::Write;

/// Formats Unix milliseconds as `YYYY-MM-DD HH:MM:SSZ` (UTC); `-` for zero.
pub fn fmt_ms(ms: u64) -> String {
    if ms == 0 {
        return "-".into();
    }
    let (y, m, d, rem) = tend_shared::utc_parts(ms);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A duration in the largest sensible unit: `45s`, `12m`, `3h`, `2d 4h`.
pub fn fmt_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ if s % 86_400 >= 3600 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// "3m ago"-style age of a timestamp relative to `now_ms`.
pub fn fmt_age(ms: u64, now_ms: u64) -> String {
    if ms == 0 {
        return "never".into();
    }
    format!("{} ago", fmt_duration(now_ms.saturating_sub(ms)))
}

/// Byte counts in decimal units (`3.1 GB`), the unit system used everywhere in Tend.
pub fn human_bytes(b: u64) -> String {
    let f = b as f64;
    if f >= 1e12 {
        format!("{:.1} TB", f / 1e12)
    } else if f >= 1e9 {
        format!("{:.1} GB", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.1} MB", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1} kB", f / 1e3)
    } else {
        format!("{b} B")
    }
}

/// `value`, or `-` when absent.
pub fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".into())
}

/// Renders rows as an aligned text table; an empty list says `no <what>` instead.
pub fn table_or(what: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return format!("no {what}\n");
    }
    table(headers, rows)
}

/// Renders rows as an aligned text table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: Vec<String>| {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        let _ = writeln!(out, "{}", s.join("  ").trim_end());
    };
    line(&mut out, headers.iter().map(|h| h.to_uppercase()).collect());
    for r in rows {
        line(&mut out, r.clone());
    }
    out
}

/// `?k=v&…` from the pairs that have a value, values percent-encoded ("" when none).
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Percent-encodes a path segment or query value.
pub fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_and_sizes() {
        assert_eq!(fmt_ms(0), "-");
        assert_eq!(fmt_ms(1_700_000_000_000), "2023-11-14 22:13:20Z");
        assert_eq!(fmt_ms(951_782_400_000), "2000-02-29 00:00:00Z");
        assert_eq!(fmt_age(1_000, 61_000), "1m ago");
        assert_eq!(fmt_duration(3 * 3_600_000 + 59_000), "3h");
        assert_eq!(fmt_duration(26 * 3_600_000), "1d 2h");
        assert_eq!(human_bytes(3_100_000_000), "3.1 GB");
        assert_eq!(human_bytes(512), "512 B");
    }

    #[test]
    fn aligns_tables_and_says_when_empty() {
        let t = table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "A    BB\nxxx  y\n");
        assert_eq!(table_or("problems", &["a"], &[]), "no problems\n");
    }

    #[test]
    fn encodes_values() {
        assert_eq!(
            query(&[
                ("a", None),
                ("problem_key", Some("disk.free:/".into())),
                ("n", Some("2".into()))
            ]),
            "?problem_key=disk.free%3A%2F&n=2"
        );
        assert_eq!(query(&[("a", None)]), "");
    }
}
