//! Every error response has a JSON body — including the ones hyper writes by itself
//! for HTTP/1 requests it cannot parse (400 for a NUL in the path or a negative
//! `Content-Length`, 414, 431 for a thousand headers), which never reach our router.
//!
//! `JsonErrorIo` wraps the connection's stream and watches what is written: a head of
//! status 4xx/5xx with `content-length: 0` and no `content-type` can only be hyper's
//! own (every response of ours carries a body with its type), and it is rewritten
//! with the standard `{"error": {...}}` body before it goes out.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream whose bodiless HTTP/1 error heads get the JSON error body.
pub struct JsonErrorIo<S> {
    inner: S,
    /// HTTP/1 only (HTTP/2 frames errors itself).
    enabled: bool,
    /// A rewritten write still going out, and the input length it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<S> JsonErrorIo<S> {
    pub fn new(inner: S, enabled: bool) -> JsonErrorIo<S> {
        JsonErrorIo {
            inner,
            enabled,
            pending: None,
        }
    }
}

/// The rewritten bytes for a head of hyper's own, or `None` to pass `buf` through.
pub fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let code: u16 = status_line
        .strip_prefix("HTTP/1.1 ")?
        .get(..3)?
        .parse()
        .ok()?;
    if code < 400 {
        return None;
    }
    let headers: Vec<&str> = lines.collect();
    let lower = |h: &&str| h.to_ascii_lowercase();
    let bodiless = headers.iter().any(|h| lower(h) == "content-length: 0");
    let typed = headers
        .iter()
        .any(|h| lower(h).starts_with("content-type:"));
    if !bodiless || typed || buf.len() != head_end + 4 {
        return None;
    }
    let (code_name, message) = match code {
        400 => ("bad_request", "malformed HTTP request"),
        408 => ("timeout", "the request took too long to arrive"),
        413 => ("payload_too_large", "request body exceeds the size limit"),
        414 => ("uri_too_long", "the request path is too long"),
        431 => ("headers_too_large", "too many or too large request headers"),
        505 => ("http_version_not_supported", "HTTP version not supported"),
        c if c >= 500 => ("internal_error", "internal error; see the collector log"),
        _ => ("bad_request", "bad request"),
    };
    let body = serde_json::to_vec(&tend_shared::api::ErrorBody::new(code_name, message))
        .expect("error body serializes");
    let mut out = Vec::with_capacity(buf.len() + body.len() + 64);
    out.extend_from_slice(status_line.as_bytes());
    out.extend_from_slice(b"\r\n");
    for h in headers.iter().filter(|h| lower(h) != "content-length: 0") {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/json\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrorIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrorIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() && this.enabled && buf.starts_with(b"HTTP/1.1 ") {
            if let Some(out) = rewrite(buf) {
                this.pending = Some((out, 0, buf.len()));
            }
        }
        let Some((out, written, stands_for)) = this.pending.as_mut() else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        // the caller repeats the same buffer after a Pending: keep writing ours
        while *written < out.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &out[*written..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = *stands_for;
        this.pending = None;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_bodiless_errors_are_rewritten() {
        let hyper_400 =
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Tue, 24 Nov 2026 00:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite(hyper_400).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("date: "));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "bad_request");
        let out = String::from_utf8(
            rewrite(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n")
                .unwrap(),
        )
        .unwrap();
        assert!(out.contains("headers_too_large"));
        // ours carry a type; successes and bodies are left alone
        assert!(rewrite(
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n"
        )
        .is_none());
        assert!(rewrite(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\nextra").is_none());
    }
}
