//! Text that crosses a trust boundary: the one UTF-8-safe clipper every shortened
//! string goes through (a byte cut inside a character panics in Rust), the one printer
//! filter for terminals (device output, knowledge-base bodies and replies must not
//! drive an analyst's or an employee's terminal: OSC 52 writes the clipboard, CSI moves
//! the cursor over what was printed), and the one CSV cell that a spreadsheet never
//! runs as a formula.

/// The longest prefix of `s` that is at most `max` bytes and ends on a character
/// boundary.
pub fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// Shortens `s` in place to at most `max` bytes on a character boundary; true when
/// anything was cut.
pub fn clip_in_place(s: &mut String, max: usize) -> bool {
    let keep = clip(s, max).len();
    let cut = keep < s.len();
    s.truncate(keep);
    cut
}

/// At most `max` characters of `s` (for columns and summaries counted in characters).
pub fn clip_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Whether a terminal would act on `c`: C0 controls (but `\n` and `\t`), DEL and the
/// C1 controls U+0080..U+009F (8-bit CSI, OSC, DCS…).
pub fn is_terminal_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
}

/// `s` safe to print on a terminal: every control character but `\n` and `\t` is shown
/// as a visible escape (`\x1b`, `\r`, `\u{9b}`), so `ESC ] 52 ; …` reaches the screen
/// as text and nothing reaches the terminal's command parser. Borrowed when clean.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_terminal_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if is_terminal_control(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_terminal_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One CSV cell: quoted when it holds a separator, a quote or a line break, and
/// prefixed with `'` when a spreadsheet would read it as a formula (it starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return).
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn clip_never_cuts_inside_a_character() {
        let s = "aé€😀";
        // every byte limit from 0 past the end
        let expect = [
            "",
            "a",
            "a",
            "aé",
            "aé",
            "aé",
            "aé€",
            "aé€",
            "aé€",
            "aé€",
            "aé€😀",
        ];
        for (max, want) in expect.iter().enumerate() {
            assert_eq!(clip(s, max), *want, "max {max}");
        }
        let mut owned = "é".repeat(5000);
        assert!(clip_in_place(&mut owned, 8 * 1024 + 1));
        assert_eq!(owned.len(), 8 * 1024);
        assert!(!clip_in_place(&mut owned, 9000));
        assert_eq!(clip_chars("héllo", 2), "hé");
        assert_eq!(clip_chars("hé", 10), "hé");
    }

    #[test]
    fn terminal_controls_become_visible_text() {
        let hostile = "ok\x1b]52;c;ZXZpbA==\x07\r\n\tdone\u{9b}2J\u{7f}";
        let safe = terminal_safe(hostile);
        assert!(!safe.chars().any(is_terminal_control), "{safe:?}");
        assert_eq!(safe, "ok\\x1b]52;c;ZXZpbA==\\x07\\r\n\tdone\\u{9b}2J\\x7f");
        assert!(matches!(
            terminal_safe("plain\ttext\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("plain"), "plain");
    }

    proptest! {
        #[test]
        fn clip_is_a_char_boundary_prefix(s in "\\PC{0,40}", max in 0usize..200) {
            let c = clip(&s, max);
            prop_assert!(c.len() <= max);
            prop_assert!(s.starts_with(c));
            // the longest such prefix: the next character would not fit
            if c.len() < s.len() {
                let next = s[c.len()..].chars().next().unwrap();
                prop_assert!(c.len() + next.len_utf8() > max);
            }
            let mut owned = s.clone();
            let cut = clip_in_place(&mut owned, max);
            prop_assert_eq!(cut, c.len() < s.len());
            prop_assert_eq!(owned.as_str(), c);
        }

        #[test]
        fn clip_at_every_boundary_of_any_text(s in any::<String>()) {
            for max in 0..=s.len() + 1 {
                let c = clip(&s, max);
                prop_assert!(c.len() <= max && s.starts_with(c));
            }
        }

        #[test]
        fn terminal_safe_leaves_no_control(s in any::<String>()) {
            let safe = terminal_safe(&s);
            prop_assert!(!safe.chars().any(is_terminal_control));
            // text without controls is unchanged
            if !s.chars().any(is_terminal_control) {
                prop_assert_eq!(safe.as_ref(), s.as_str());
            }
        }

        #[test]
        fn csv_cell_never_starts_with_a_formula_char(s in any::<String>()) {
            let c = csv_cell(&s);
            // what a spreadsheet reads: the unquoted value
            let value = match c.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
                Some(inner) => inner.replace("\"\"", "\""),
                None => c.clone(),
            };
            let first = value.chars().next();
            prop_assert!(!matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')));
        }
    }
}
