//! A small JavaScript scanner for the console's escape-by-default rule (issue 23 #3a):
//! finds every template literal, with the tag before it, so `tidy` can refuse any
//! untagged template that builds markup. It understands strings, comments, regular
//! expression literals and `${…}` nesting — enough for the console's own code, which
//! uses no other syntax that hides a backtick.

/// One template literal: where it starts (1-based line), its tag (the identifier just
/// before the backtick, or empty) and its static text (interpolations left out).
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub line: usize,
    pub tag: String,
    pub text: String,
}

struct Scanner<'a> {
    s: &'a [u8],
    out: Vec<Template>,
}

impl Scanner<'_> {
    fn word_before(&self, pos: usize) -> String {
        let mut j = pos;
        while j > 0 && self.s[j - 1].is_ascii_whitespace() {
            j -= 1;
        }
        let end = j;
        while j > 0 && (self.s[j - 1].is_ascii_alphanumeric() || b"_$".contains(&self.s[j - 1])) {
            j -= 1;
        }
        String::from_utf8_lossy(&self.s[j..end]).into_owned()
    }

    fn line(&self, pos: usize) -> usize {
        1 + self.s[..pos].iter().filter(|&&b| b == b'\n').count()
    }

    /// At a backtick; returns the index after the closing one.
    fn template(&mut self, start: usize) -> usize {
        let tag = self.word_before(start);
        let mut text = Vec::new();
        let mut i = start + 1;
        while i < self.s.len() {
            match self.s[i] {
                b'\\' => {
                    text.extend_from_slice(&self.s[i..(i + 2).min(self.s.len())]);
                    i += 2;
                }
                b'`' => {
                    self.out.push(Template {
                        line: self.line(start),
                        tag,
                        text: String::from_utf8_lossy(&text).into_owned(),
                    });
                    return i + 1;
                }
                b'$' if self.s.get(i + 1) == Some(&b'{') => i = self.code(i + 2, Some(b'}')),
                b => {
                    text.push(b);
                    i += 1;
                }
            }
        }
        self.s.len()
    }

    /// Code up to the `until` that closes it (or the end); the index after it.
    fn code(&mut self, mut i: usize, until: Option<u8>) -> usize {
        let mut depth = 0usize;
        let mut last = b'(';
        while i < self.s.len() {
            let c = self.s[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if self.s[i..].starts_with(b"//") {
                i = self.s[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(self.s.len(), |p| i + p);
                continue;
            }
            if self.s[i..].starts_with(b"/*") {
                i = find(self.s, i + 2, b"*/").map_or(self.s.len(), |p| p + 2);
                continue;
            }
            match c {
                b'"' | b'\'' => {
                    let mut j = i + 1;
                    while j < self.s.len() && self.s[j] != c {
                        j += if self.s[j] == b'\\' { 2 } else { 1 };
                    }
                    i = j + 1;
                    last = b'a';
                    continue;
                }
                b'`' => {
                    i = self.template(i);
                    last = b'a';
                    continue;
                }
                b'/' if b"(,=:[!&|?{};+-*%<>~^".contains(&last) || self.after_keyword(i) => {
                    let (mut j, mut class) = (i + 1, false);
                    while j < self.s.len() {
                        match self.s[j] {
                            b'\\' => j += 1,
                            b'[' => class = true,
                            b']' => class = false,
                            b'/' if !class => break,
                            _ => {}
                        }
                        j += 1;
                    }
                    i = j + 1;
                    while i < self.s.len() && self.s[i].is_ascii_alphabetic() {
                        i += 1;
                    }
                    last = b'a';
                    continue;
                }
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' => {
                    if depth == 0 && Some(c) == until {
                        return i + 1;
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            last = if c.is_ascii_alphanumeric() || b"_$".contains(&c) {
                b'a'
            } else {
                c
            };
            i += 1;
        }
        i
    }

    fn after_keyword(&self, i: usize) -> bool {
        let w = self.word_before(i);
        matches!(w.as_str(), "return" | "typeof" | "case")
    }
}

fn find(s: &[u8], from: usize, what: &[u8]) -> Option<usize> {
    s.get(from..)?
        .windows(what.len())
        .position(|w| w == what)
        .map(|p| from + p)
}

/// Every template literal in `src`, nested ones included.
pub fn templates(src: &str) -> Vec<Template> {
    let mut sc = Scanner {
        s: src.as_bytes(),
        out: Vec::new(),
    };
    sc.code(0, None);
    sc.out
}

/// Templates that build markup without the `html` tag: the console's one rule.
pub fn untagged_markup(src: &str) -> Vec<Template> {
    templates(src)
        .into_iter()
        .filter(|t| t.tag != "html" && (t.text.contains('<') || t.text.contains('>')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_untagged_markup_past_strings_regexes_and_comments() {
        let src = r#"
const re = /[`'"]/g; // a ` in a comment
const a = html`<p>${x ? `<b>${y}</b>` : "`"}</p>`;
const b = `plain ${z}`;
/* `<i>` */
function f() { return `<td>${v}</td>`; }
"#;
        let bad = untagged_markup(src);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!((bad[0].line, bad[0].text.as_str()), (3, "<b></b>"));
        assert_eq!(bad[1].line, 6);
        assert_eq!(templates(src).len(), 4);
    }
}
