//! tend-client: HTTPS to the collector, trusting only the CA it is given (the agent's
//! pinned bundle CA, `tendctl --ca`). Shared by the agent, `tendctl`, the load
//! generator and the end-to-end tests, so the server never links any of them.
//!
//! Errors say whether a retry can help: a 4xx will fail the same way again, a timeout
//! or a 5xx may not.

use std::sync::Once;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tend_shared::api::ErrorBody;

/// The HTTP types `Client::call` speaks in, so callers need no `reqwest` of their own.
pub use reqwest::{header, Method};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the CA certificate is not valid PEM: {0}")]
    BadCa(String),
    #[error("building the HTTP client: {0}")]
    Client(String),
    #[error("cannot reach the collector: {0}")]
    Unreachable(String),
    #[error("collector answered {status}: {code}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
        /// `Retry-After` of a 429 or 503, in seconds.
        retry_after_s: Option<u64>,
    },
    #[error("unreadable answer from the collector: {0}")]
    Decode(String),
}

impl TransportError {
    /// True when the same request may succeed later (network trouble, 5xx, 408, 429).
    pub fn retryable(&self) -> bool {
        match self {
            TransportError::Unreachable(_) => true,
            TransportError::Status { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            _ => false,
        }
    }

    /// How long the collector asked to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TransportError::Status {
                retry_after_s: Some(s),
                ..
            } => Some(Duration::from_secs((*s).min(86_400))),
            _ => None,
        }
    }

    /// The HTTP status, if the collector answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            TransportError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

static PROVIDER: Once = Once::new();

/// Installs ring as the process-wide rustls crypto provider, once.
pub fn install_crypto_provider() {
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A reqwest client that trusts exactly `ca_pem` (no system roots).
pub fn pinned_client(ca_pem: &str, timeout: Duration) -> Result<reqwest::Client, TransportError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    install_crypto_provider();
    let ders = CertificateDer::pem_slice_iter(ca_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TransportError::BadCa(e.to_string()))?;
    if ders.is_empty() {
        return Err(TransportError::BadCa("no CERTIFICATE block".into()));
    }
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false);
    for der in ders {
        let cert = reqwest::Certificate::from_der(der.as_ref())
            .map_err(|e| TransportError::BadCa(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    finish(builder, timeout)
}

/// A reqwest client that trusts the operating system's roots (`SSL_CERT_FILE` and
/// `SSL_CERT_DIR` honoured): for a collector serving a publicly trusted or
/// company-deployed certificate, when no CA is given.
pub fn system_client(timeout: Duration) -> Result<reqwest::Client, TransportError> {
    install_crypto_provider();
    let builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .tls_built_in_native_certs(true);
    finish(builder, timeout)
}

/// The settings every Tend client shares: https only, timeouts, idle pool, user agent.
fn finish(
    builder: reqwest::ClientBuilder,
    timeout: Duration,
) -> Result<reqwest::Client, TransportError> {
    builder
        .https_only(true)
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(120))
        .user_agent(concat!("tend/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TransportError::Client(e.to_string()))
}

/// A client bound to one collector, with an optional bearer token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    pub fn new(
        server_url: &str,
        ca_pem: &str,
        token: Option<String>,
    ) -> Result<Client, TransportError> {
        Ok(Client {
            http: pinned_client(ca_pem, Duration::from_secs(30))?,
            base: server_url.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// A client trusting the system's roots instead of one CA ([`system_client`]).
    pub fn with_system_roots(
        server_url: &str,
        token: Option<String>,
    ) -> Result<Client, TransportError> {
        Ok(Client::with_http(
            system_client(Duration::from_secs(30))?,
            server_url,
            token,
        ))
    }

    /// A client on an existing connection pool (load tools share pools between
    /// simulated devices).
    pub fn with_http(http: reqwest::Client, server_url: &str, token: Option<String>) -> Client {
        Client {
            http,
            base: server_url.trim_end_matches('/').to_string(),
            token,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    async fn send<T: DeserializeOwned>(rb: reqwest::RequestBuilder) -> Result<T, TransportError> {
        let resp = rb
            .send()
            .await
            .map_err(|e| TransportError::Unreachable(error_chain(&e)))?;
        let status = resp.status();
        let retry_after = retry_after(resp.headers());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| TransportError::Unreachable(error_chain(&e)))?;
        if !status.is_success() {
            return Err(status_error(status.as_u16(), &bytes, retry_after));
        }
        serde_json::from_slice(&bytes).map_err(|e| TransportError::Decode(e.to_string()))
    }

    /// Any method with an optional JSON body and extra headers, *without* the bearer
    /// token (a console-session request: sign-in, then its cookie and CSRF header);
    /// the answer's headers and decoded body.
    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        headers: &[(&str, String)],
    ) -> Result<(reqwest::header::HeaderMap, T), TransportError> {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| TransportError::Unreachable(error_chain(&e)))?;
        let (status, h) = (resp.status(), resp.headers().clone());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| TransportError::Unreachable(error_chain(&e)))?;
        if !status.is_success() {
            return Err(status_error(status.as_u16(), &bytes, retry_after(&h)));
        }
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        let v = serde_json::from_slice(bytes).map_err(|e| TransportError::Decode(e.to_string()))?;
        Ok((h, v))
    }

    /// POSTs JSON and decodes the JSON answer.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, TransportError> {
        Self::send(self.request(reqwest::Method::POST, path).json(body)).await
    }

    /// PUTs JSON and decodes the JSON answer.
    pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, TransportError> {
        Self::send(self.request(reqwest::Method::PUT, path).json(body)).await
    }

    /// PATCHes JSON and decodes the JSON answer.
    pub async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, TransportError> {
        Self::send(self.request(reqwest::Method::PATCH, path).json(body)).await
    }

    /// DELETEs; succeeds on any 2xx (a 204 has no body).
    pub async fn delete(&self, path: &str) -> Result<(), TransportError> {
        let resp = self
            .request(reqwest::Method::DELETE, path)
            .send()
            .await
            .map_err(|e| TransportError::Unreachable(error_chain(&e)))?;
        if resp.status().is_success() {
            return Ok(());
        }
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        let bytes = resp.bytes().await.unwrap_or_default();
        Err(status_error(status, &bytes, retry_after))
    }

    /// DELETEs and decodes the JSON answer.
    pub async fn delete_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, TransportError> {
        Self::send(self.request(reqwest::Method::DELETE, path)).await
    }

    /// GETs and decodes the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, TransportError> {
        Self::send(self.request(reqwest::Method::GET, path)).await
    }

    /// PUTs raw bytes (release uploads) and decodes the JSON answer.
    pub async fn put_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<T, TransportError> {
        Self::send(
            self.request(reqwest::Method::PUT, path)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .timeout(timeout)
                .body(body),
        )
        .await
    }

    /// Streams a GET's body into `dest`, refusing more than `max` bytes. Returns the
    /// byte count.
    pub async fn download(
        &self,
        path: &str,
        dest: &mut (impl std::io::Write + ?Sized),
        max: u64,
        timeout: Duration,
    ) -> Result<u64, TransportError> {
        let unreachable = |e: reqwest::Error| TransportError::Unreachable(error_chain(&e));
        let mut resp = self
            .request(reqwest::Method::GET, path)
            .timeout(timeout)
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(TransportError::Status {
                status: status.as_u16(),
                code: "download_failed".into(),
                message: format!("GET {path} answered {status}"),
                retry_after_s: retry_after(resp.headers()),
            });
        }
        let mut n = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
            n += chunk.len() as u64;
            if n > max {
                return Err(TransportError::Decode(format!(
                    "download exceeds the expected {max} bytes"
                )));
            }
            dest.write_all(&chunk)
                .map_err(|e| TransportError::Decode(format!("writing the download: {e}")))?;
        }
        Ok(n)
    }

    /// GETs with a per-request timeout (long-polls).
    pub async fn get_with_timeout<T: DeserializeOwned>(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<T, TransportError> {
        Self::send(self.request(reqwest::Method::GET, path).timeout(timeout)).await
    }
}

/// `Retry-After` in seconds (the collector sends the seconds form).
fn retry_after(h: &reqwest::header::HeaderMap) -> Option<u64> {
    h.get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A non-2xx answer as an error: the collector's `{"error": …}` body when it has one.
fn status_error(status: u16, body: &[u8], retry_after_s: Option<u64>) -> TransportError {
    let (code, message) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => (
            "unknown".into(),
            String::from_utf8_lossy(body).chars().take(200).collect(),
        ),
    };
    TransportError::Status {
        status,
        code,
        message,
        retry_after_s,
    }
}

/// The error and its causes on one line (reqwest hides the useful part in sources).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_classification() {
        let st = |status| TransportError::Status {
            status,
            code: String::new(),
            message: String::new(),
            retry_after_s: None,
        };
        assert!(st(503).retryable());
        assert!(st(429).retryable());
        assert!(!st(400).retryable());
        assert!(!st(401).retryable());
        assert!(TransportError::Unreachable("x".into()).retryable());
        assert!(!TransportError::BadCa("x".into()).retryable());
    }

    #[test]
    fn rejects_garbage_ca() {
        assert!(matches!(
            Client::new("https://x", "not pem", None),
            Err(TransportError::BadCa(_))
        ));
        assert!(matches!(
            Client::new("https://x", "", None),
            Err(TransportError::BadCa(_))
        ));
    }
}

/// Small helpers Tend's command-line tools share.
pub mod config;
pub mod docs;

pub mod cli {
    use std::io::Write;

    static RAW: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    /// `--raw`: print what the server or the device sent byte for byte, terminal
    /// control sequences included (for piping into a file, never into a terminal).
    pub fn set_raw(raw: bool) {
        RAW.store(raw, std::sync::atomic::Ordering::Relaxed);
    }

    /// Prints to stdout, every control character but `\n` and `\t` shown as a visible
    /// escape (a device's stdout or a KB body cannot drive the terminal: no OSC 52
    /// clipboard writes, no cursor tricks) unless `--raw`. A closed pipe (`… | head`)
    /// ends the program quietly with the status SIGPIPE would give (141), like any
    /// Unix tool; never a panic.
    pub fn print(text: &str) {
        let text = if RAW.load(std::sync::atomic::Ordering::Relaxed) {
            std::borrow::Cow::Borrowed(text)
        } else {
            tend_shared::text::terminal_safe(text)
        };
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(141);
            }
            eprintln!("writing to stdout: {e}");
            std::process::exit(1);
        }
    }

    /// `print`, with a newline unless `text` ends with one.
    pub fn println(text: &str) {
        if text.ends_with('\n') {
            print(text)
        } else {
            print(&format!("{text}\n"))
        }
    }
}
