//! Conditional GETs for what the console polls (ticket queue, overview, a ticket): the
//! answer's ETag is a hash of its body, so an unchanged answer costs a `304` and no
//! transfer, and it is right across any number of collectors (no shared counter).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

/// Bodies larger than this are passed on without an ETag.
const MAX_TAGGED: usize = 8 << 20;

pub async fn etag(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let wanted = req.headers().get(header::IF_NONE_MATCH).cloned();
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_TAGGED).await {
        Ok(b) => b,
        Err(_) => {
            return crate::error::error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "answer too large to tag",
            )
        }
    };
    let tag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
    let Ok(value) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let matched = wanted.is_some_and(|w| {
        w.to_str()
            .is_ok_and(|w| w.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    });
    parts.headers.insert(header::ETAG, value);
    if matched {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}
