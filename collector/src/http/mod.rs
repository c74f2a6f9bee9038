//! The axum router: thin handlers over `service`, plus the layers every request goes
//! through (body limit, timeout, compression, tracing, metrics, JSON error bodies).

mod etag;
mod ops;
mod routes;
mod ui;

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::error_response;
use crate::state::AppState;

/// Builds the whole router.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The router with `extra` routes under the same layers (router tests add a handler
/// that panics).
pub(crate) fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let limit = state.limits.body_limit_bytes;
    // artifact uploads get their own, larger body limit
    let uploads = Router::new()
        .route(
            "/api/v1/releases/{version}/{platform}",
            put(crate::releases::routes::upload),
        )
        .layer(DefaultBodyLimit::max(crate::releases::MAX_ARTIFACT_BYTES))
        .layer(RequestBodyLimitLayer::new(
            crate::releases::MAX_ARTIFACT_BYTES,
        ));
    // what the console polls answers conditional GETs (`If-None-Match` → 304)
    let polled = Router::new()
        .route(
            "/api/v1/tickets",
            get(crate::tickets::routes::list).post(crate::tickets::routes::create),
        )
        .route(
            "/api/v1/tickets/{id}",
            get(crate::tickets::routes::detail).patch(crate::tickets::routes::patch),
        )
        .route(
            "/api/v1/reports/overview",
            get(crate::tickets::routes::overview),
        )
        .route_layer(middleware::from_fn(etag::etag));
    Router::new()
        .merge(routes::api())
        .merge(polled)
        .merge(extra)
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        .merge(uploads)
        // a panicking handler is one request's 500, never a dead collector
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(drain_unread_body))
        .layer(middleware::from_fn_with_state(state.clone(), shed_load))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.limits.request_timeout,
        ))
        // outside the timeout, so its 408 gets the JSON body too
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(security_headers))
        // artifacts are sent as they are: a compressed stream with the artifact's
        // Content-Length would be cut short
        .layer(CompressionLayer::new().compress_when(
            DefaultPredicate::new().and(NotForContentType::const_new("application/octet-stream")),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The answer to a request whose handler panicked: logged, counted as a 500 with the
/// JSON error body; the process and every other request go on.
fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    tracing::error!(panic = %what, "request handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "internal error; see the collector log",
    )
}

/// Requests that wait by design (long-polls) and are not counted as load.
fn waits(req: &Request) -> bool {
    let path = req.uri().path();
    path == "/api/v1/jobs/next"
        || (path.starts_with("/api/v1/jobs/")
            && req.uri().query().is_some_and(|q| q.contains("wait=")))
}

/// Load shedding: past `Limits::max_in_flight` requests at once (long-polls aside),
/// a request waits for a slot — up to `max_queued` of them, each at most
/// `queue_wait` — so a burst (every laptop reporting one outage) is served rather
/// than refused; past that, 503 with `Retry-After` at once rather than queue without
/// bound. A waiting request holds only its connection (the body is read once it
/// runs).
async fn shed_load(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if waits(&req) {
        return next.run(req).await;
    }
    if let Ok(_permit) = state.in_flight.clone().try_acquire_owned() {
        return next.run(req).await;
    }
    if let Ok(_place) = state.queued.clone().try_acquire_owned() {
        let slot = tokio::time::timeout(
            state.limits.queue_wait,
            state.in_flight.clone().acquire_owned(),
        )
        .await;
        if let Ok(Ok(_permit)) = slot {
            drop(_place);
            return next.run(req).await;
        }
    }
    crate::metrics::Metrics::inc(&state.metrics.shed);
    let mut r = error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        "the collector is at capacity; try again in a second",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    r
}

/// A GET, HEAD, DELETE or OPTIONS that carries a body has it read (up to the body
/// limit) before the handler runs, so the answer is never cut off by the connection
/// closing on unread bytes.
async fn drain_unread_body(req: Request, next: Next) -> Response {
    use http_body::Body as _;
    let bodiless = matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
    );
    if !bodiless || req.body().size_hint().upper() == Some(0) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, 1 << 20).await {
        Ok(_) => {
            next.run(Request::from_parts(parts, axum::body::Body::empty()))
                .await
        }
        Err(_) => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "a body on this method is read and ignored, up to 1 MiB",
        ),
    }
}

/// Records latency per route template and status.
async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // the matched template is shared (`Arc<str>` inside): no allocation per request
    let route = req.extensions().get::<MatchedPath>().cloned();
    // a fixed set: made-up methods (any token up to 70 KB) collapse into one label
    let method = match *req.method() {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::PATCH => 3,
        Method::DELETE => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    };
    let resp = next.run(req).await;
    state.metrics.observe(
        route.as_ref().map_or("unmatched", |p| p.as_str()),
        method,
        resp.status().as_u16(),
        start.elapsed(),
    );
    resp
}

/// Headers on every answer: no MIME sniffing, HSTS (the listener only speaks HTTPS),
/// and `Cache-Control: no-store` on what an authenticated request gets (nothing a
/// token or a session read stays in a shared or browser cache).
async fn security_headers(req: Request, next: Next) -> Response {
    // the console's own files (no-cache, revalidated) are the same for everyone
    let authenticated = (req.headers().contains_key(header::AUTHORIZATION)
        || req.headers().contains_key(header::COOKIE))
        && req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        header::HeaderValue::from_static("max-age=31536000"),
    );
    if authenticated || !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    resp
}

/// Gives every error response that is not already JSON (405 from the router, 413 from
/// the body limit, 408 from the timeout...) the standard `{"error": ...}` body.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed on this path"),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload_too_large", "request body exceeds the size limit")
        }
        StatusCode::REQUEST_TIMEOUT => ("timeout", "request took too long"),
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ),
        s if s.is_server_error() => ("internal_error", "internal error; see the collector log"),
        _ => ("bad_request", "bad request"),
    };
    let mut out = error_response(status, code, message);
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

#[cfg(test)]
mod tests;
