//! The accept loop and one task per connection, with the limits a service facing a
//! hundred thousand laptops (and anyone else on the network) needs:
//!
//! - a TLS handshake deadline, an HTTP/1 header-read deadline (which also ends idle
//!   keep-alive connections), a first-request deadline and an idle deadline for
//!   HTTP/2 (a watchdog per connection), and HTTP/2 keep-alive pings;
//! - a cap on open connections: at the cap, the longest-idle connection is closed to
//!   admit the new one, so thousands of idle or trickling connections cannot keep a
//!   real agent out; only when every connection is busy is a new one refused;
//! - accept errors (out of file descriptors) back off instead of spinning.
//!
//! The protocol is picked from ALPN (h2 or HTTP/1.1), never by waiting for bytes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use super::io::JsonErrorIo;

/// The connection limits (`serve` defaults; tests shrink them).
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub tls_handshake: Duration,
    /// HTTP/1: a request head must arrive within this (idle keep-alive included).
    pub header_read: Duration,
    /// A connection's first request must arrive within this (HTTP/2 too).
    pub first_request: Duration,
    /// A connection with nothing in flight is closed after this (HTTP/2).
    pub idle: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: default_max_connections(),
            tls_handshake: Duration::from_secs(10),
            header_read: Duration::from_secs(15),
            first_request: Duration::from_secs(15),
            idle: Duration::from_secs(180),
        }
    }
}

/// A cap below the open-file limit, leaving room for the store and outgoing calls.
pub fn default_max_connections() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        })
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1024);
    soft.saturating_sub(128).clamp(64, 100_000)
}

/// What the registry knows of one connection.
#[derive(Debug, Default)]
pub struct ConnState {
    /// Requests in flight.
    pub active: AtomicUsize,
    /// Requests seen.
    pub requests: AtomicU64,
    /// Last request start or end (ms since the registry's start).
    pub last_ms: AtomicU64,
    /// Asked to close (evicted, or the server stops).
    pub close: Notify,
}

/// The open connections.
#[derive(Debug, Default)]
pub struct Registry {
    conns: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
    started: Option<std::time::Instant>,
}

impl Registry {
    fn new() -> Registry {
        Registry {
            started: Some(std::time::Instant::now()),
            ..Default::default()
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.started.map_or(0, |s| s.elapsed().as_millis() as u64)
    }

    pub fn len(&self) -> usize {
        self.conns.lock().expect("registry lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a connection; at the cap, first closes the longest-idle one. `None`
    /// when every connection is busy.
    fn admit(&self, cap: usize) -> Option<(u64, Arc<ConnState>)> {
        let mut conns = self.conns.lock().expect("registry lock");
        if conns.len() >= cap {
            let victim = conns
                .iter()
                .filter(|(_, c)| c.active.load(Ordering::Relaxed) == 0)
                .min_by_key(|(_, c)| c.last_ms.load(Ordering::Relaxed))
                .map(|(id, _)| *id)?;
            if let Some(c) = conns.remove(&victim) {
                c.close.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState::default());
        state.last_ms.store(self.now_ms(), Ordering::Relaxed);
        conns.insert(id, state.clone());
        Some((id, state))
    }

    fn remove(&self, id: u64) {
        self.conns.lock().expect("registry lock").remove(&id);
    }

    /// Asks every connection to finish what it is doing and close.
    pub fn close_all(&self) {
        for c in self.conns.lock().expect("registry lock").values() {
            c.close.notify_one();
        }
    }
}

/// Accepts until `stop` resolves; then asks every connection to close and waits up to
/// `drain` for them.
pub async fn serve(
    listener: TcpListener,
    tls: tokio_rustls::TlsAcceptor,
    app: Router,
    limits: ConnLimits,
    stop: impl std::future::Future<Output = ()>,
    drain: Duration,
) {
    let registry = Arc::new(Registry::new());
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            a = listener.accept() => a,
        };
        let (tcp, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // out of file descriptors or the like: make room and slow down
                tracing::warn!(error = %e, "accept failed");
                if let Some((id, _)) = registry.admit(0) {
                    registry.remove(id);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some((id, state)) = registry.admit(limits.max_connections) else {
            tracing::warn!(%addr, "every connection is busy; refusing a new one");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (tls, app, limits, registry) =
            (tls.clone(), app.clone(), limits.clone(), registry.clone());
        tokio::spawn(async move {
            connection(tcp, addr, tls, app, &limits, &state, &registry).await;
            registry.remove(id);
        });
    }
    registry.close_all();
    let deadline = tokio::time::Instant::now() + drain;
    while !registry.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether a connection has been quiet too long: no first request within
/// `first_request`, or nothing in flight for `idle`.
fn too_quiet(limits: &ConnLimits, state: &ConnState, now_ms: u64, opened_ms: u64) -> bool {
    if state.active.load(Ordering::Relaxed) > 0 {
        return false;
    }
    let quiet = now_ms.saturating_sub(state.last_ms.load(Ordering::Relaxed));
    if state.requests.load(Ordering::Relaxed) == 0 {
        now_ms.saturating_sub(opened_ms) >= limits.first_request.as_millis() as u64
    } else {
        quiet >= limits.idle.as_millis() as u64
    }
}

/// How long a closing connection may take to finish what is in flight.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Serves `$conn` until it ends; closes it gracefully when asked (eviction, shutdown)
/// or when it has been quiet too long, and drops it if closing takes too long.
macro_rules! watched {
    ($conn:expr, $limits:expr, $state:expr, $registry:expr) => {{
        let conn = $conn;
        tokio::pin!(conn);
        let opened = $registry.now_ms();
        let mut closing_since: Option<tokio::time::Instant> = None;
        let tick = $limits
            .first_request
            .min($limits.idle)
            .min(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = conn.as_mut() => break,
                _ = $state.close.notified(), if closing_since.is_none() => {
                    closing_since = Some(tokio::time::Instant::now());
                    conn.as_mut().graceful_shutdown();
                }
                _ = tokio::time::sleep(tick), if closing_since.is_none() => {
                    if too_quiet($limits, $state, $registry.now_ms(), opened) {
                        closing_since = Some(tokio::time::Instant::now());
                        conn.as_mut().graceful_shutdown();
                    }
                }
                _ = tokio::time::sleep_until(
                    closing_since.unwrap_or_else(tokio::time::Instant::now) + CLOSE_GRACE
                ), if closing_since.is_some() => break,
            }
        }
    }};
}

/// One connection: TLS, then HTTP/1.1 or HTTP/2 by ALPN, watched for idleness.
async fn connection(
    tcp: tokio::net::TcpStream,
    addr: SocketAddr,
    tls: tokio_rustls::TlsAcceptor,
    app: Router,
    limits: &ConnLimits,
    state: &Arc<ConnState>,
    registry: &Arc<Registry>,
) {
    let stream = match tokio::time::timeout(limits.tls_handshake, tls.accept(tcp)).await {
        Ok(Ok(s)) => s,
        _ => return,
    };
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(JsonErrorIo::new(stream, !h2));
    let service = {
        let (state, registry) = (state.clone(), registry.clone());
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let (state, registry) = (state.clone(), registry.clone());
            let app = app.clone();
            req.extensions_mut().insert(ConnectInfo(addr));
            state.active.fetch_add(1, Ordering::Relaxed);
            state.requests.fetch_add(1, Ordering::Relaxed);
            state.last_ms.store(registry.now_ms(), Ordering::Relaxed);
            async move {
                let resp = tower::ServiceExt::oneshot(app, req.map(axum::body::Body::new)).await;
                state.active.fetch_sub(1, Ordering::Relaxed);
                state.last_ms.store(registry.now_ms(), Ordering::Relaxed);
                resp
            }
        })
    };
    if h2 {
        let mut b = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        b.timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .keep_alive_timeout(Duration::from_secs(20))
            .max_concurrent_streams(256);
        watched!(b.serve_connection(io, service), limits, state, registry);
    } else {
        let mut b = hyper::server::conn::http1::Builder::new();
        b.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .keep_alive(true);
        watched!(b.serve_connection(io, service), limits, state, registry);
    }
}
