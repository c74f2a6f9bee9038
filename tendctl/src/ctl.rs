//! The connected client every command uses: the pinned-CA HTTPS client, the `--json`
//! switch, device lookup by id, id prefix, hostname or serial, and error messages
//! that say what to try next.

use serde::de::DeserializeOwned;
use serde::Serialize;
use tend_client::{Client, TransportError};
use tend_shared::devices::DeviceSummary;

use crate::fmt::{encode, opt};

/// What a command printed, and whether it worked (a failed job is a non-zero exit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub text: String,
    pub success: bool,
}

impl Output {
    pub fn ok(text: impl Into<String>) -> Output {
        Output {
            text: text.into(),
            success: true,
        }
    }
}

/// A connected `tendctl`.
#[derive(Debug)]
pub struct Ctl {
    pub client: Client,
    pub json: bool,
}

impl Ctl {
    /// A client trusting `ca_pem` only, or the system's roots without one.
    pub fn new(
        server: &str,
        token: &str,
        ca_pem: Option<&str>,
        json: bool,
    ) -> Result<Ctl, TransportError> {
        let token = Some(token.to_string());
        let client = match ca_pem {
            Some(ca) => Client::new(server, ca, token)?,
            None => Client::with_system_roots(server, token)?,
        };
        Ok(Ctl { client, json })
    }

    /// `v` as pretty JSON with `--json`, else `text(v)`.
    pub fn show<T: Serialize>(&self, v: &T, text: impl FnOnce(&T) -> String) -> String {
        if self.json {
            serde_json::to_string_pretty(v).unwrap_or_default()
        } else {
            text(v)
        }
    }

    /// GET and show.
    pub async fn get_show<T: DeserializeOwned + Serialize>(
        &self,
        path: &str,
        text: impl FnOnce(&T) -> String,
    ) -> Result<String, TransportError> {
        let v: T = self.client.get(path).await?;
        Ok(self.show(&v, text))
    }

    /// Up to `max` items of a paged list (every item when `None`), following the
    /// server's cursors; true when more were left.
    pub async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        max: Option<usize>,
    ) -> Result<(Vec<T>, bool), TransportError> {
        let mut out: Vec<T> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let want = max.map_or(1000, |m| m.saturating_sub(out.len()).clamp(1, 1000));
            let sep = if path.contains('?') { '&' } else { '?' };
            let mut url = format!("{path}{sep}limit={want}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={}", encode(c)));
            }
            let page: tend_shared::api::Page<T> = self.client.get(&url).await?;
            out.extend(page.items);
            match page.next {
                Some(n) if max.is_none_or(|m| out.len() < m) => cursor = Some(n),
                Some(_) => return Ok((out, true)),
                None => return Ok((out, false)),
            }
        }
    }

    /// A list shown as JSON (an array) or as text with a "more" footer.
    pub fn show_list<T: Serialize>(
        &self,
        items: &[T],
        more: bool,
        text: impl FnOnce(&[T]) -> String,
    ) -> String {
        if self.json {
            return serde_json::to_string_pretty(items).unwrap_or_default();
        }
        let mut t = text(items);
        if more {
            t.push_str(&format!(
                "\n… more than {}: narrow the filters, or pass --limit N or --all\n",
                items.len()
            ));
        }
        t
    }

    /// The id of the one device `query` names: an id, a unique id prefix, a hostname or
    /// a serial number. Several matches are an error that lists them.
    pub async fn resolve_device(&self, query: &str) -> anyhow::Result<String> {
        let q = query.trim();
        anyhow::ensure!(!q.is_empty(), "no device given");
        let (found, _) = self
            .list::<DeviceSummary>(&format!("/api/v1/devices?q={}", encode(q)), Some(50))
            .await?;
        let exact: Vec<&DeviceSummary> = found
            .iter()
            .filter(|d| {
                d.id == q
                    || d.hostname.eq_ignore_ascii_case(q)
                    || d.serial
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(q))
            })
            .collect();
        let candidates: Vec<&DeviceSummary> = if exact.is_empty() {
            found.iter().collect()
        } else {
            exact
        };
        match candidates.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => anyhow::bail!(
                "no device matches {q:?} (tried id, id prefix, hostname and serial; `tendctl devices` lists them)"
            ),
            many => {
                let list: Vec<String> = many
                    .iter()
                    .take(10)
                    .map(|d| format!("  {}  {}  serial {}", d.id, d.hostname, opt(&d.serial)))
                    .collect();
                anyhow::bail!(
                    "{q:?} matches {} devices; name one by its id:\n{}",
                    many.len(),
                    list.join("\n")
                )
            }
        }
    }
}

/// The error in one line, with a hint where one helps (an unknown CA, a refused token).
pub fn explain(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let hint = match e.downcast_ref::<TransportError>() {
        Some(TransportError::Unreachable(m))
            if m.contains("UnknownIssuer") || m.contains("certificate") =>
        {
            Some("the server's certificate is not signed by the CA given (--ca / TEND_CA), or without one by any root this system trusts; point --ca at the collector's ca.pem (the demo prints its path) or at the company CA that issued its certificate")
        }
        Some(TransportError::Status { status: 401, .. }) => {
            Some("the token was refused; check --token or TEND_TOKEN")
        }
        Some(TransportError::Status {
            status: 403,
            message,
            ..
        }) if message.contains("role") => {
            Some("this token's role is not allowed to do that; use an analyst or admin token")
        }
        Some(TransportError::Unreachable(_)) => {
            Some("is the collector running, and is --server or TEND_SERVER its URL?")
        }
        _ => None,
    };
    match hint {
        Some(h) => format!("{text}\n  hint: {h}"),
        None => text,
    }
}
