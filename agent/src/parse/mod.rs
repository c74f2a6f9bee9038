//! Pure parsers of command outputs and system files. No I/O here: every function takes
//! text and is tested against real captured outputs under `agent/fixtures/`.

pub mod crash;
pub mod linux;
pub mod macos;

/// A parser could not make sense of its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{what}: empty input")]
    Empty { what: &'static str },
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

impl ParseError {
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> ParseError {
        ParseError::Invalid {
            what,
            detail: detail.into(),
        }
    }
}

/// Splits `key<sep>value` where the separator is a colon followed by tabs or spaces
/// (macOS tools print TABs; pasted output often has spaces).
pub(crate) fn colon_kv(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(':')?;
    Some((k.trim(), v.trim()))
}

/// `who` (Linux and macOS) → user names, one per session line.
pub fn parse_who(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests;
