//! The web console: static files compiled into the binary (no CDN, no inline script),
//! served with a strict Content-Security-Policy. The page is a client of the same
//! API `tendctl` uses, signed in with a session cookie (see `http/session.rs`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{error_response, ApiPath};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Every file under `/ui/`: name, content type, body.
const FILES: [(&str, &str, &str); 10] = [
    ("app.js", JS, include_str!("../../ui/app.js")),
    ("lib.js", JS, include_str!("../../ui/lib.js")),
    ("chart.js", JS, include_str!("../../ui/chart.js")),
    ("overview.js", JS, include_str!("../../ui/overview.js")),
    ("devices.js", JS, include_str!("../../ui/devices.js")),
    ("results.js", JS, include_str!("../../ui/results.js")),
    ("tickets.js", JS, include_str!("../../ui/tickets.js")),
    ("scripts.js", JS, include_str!("../../ui/scripts.js")),
    ("admin.js", JS, include_str!("../../ui/admin.js")),
    ("style.css", CSS, include_str!("../../ui/style.css")),
];
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

pub async fn index() -> Response {
    page(
        "text/html; charset=utf-8",
        include_str!("../../ui/index.html"),
    )
}

/// `GET /ui/{file}`.
pub async fn asset(ApiPath(file): ApiPath<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, ty, body)) => page(ty, body),
        None => error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no console file {file:?}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module a console file imports is served (a missing one is a blank page).
    #[test]
    fn every_imported_module_is_served() {
        for (name, _, body) in FILES {
            for line in body.lines().filter(|l| l.starts_with("import ")) {
                let target = line
                    .rsplit("\"./")
                    .next()
                    .and_then(|t| t.split('"').next())
                    .unwrap_or_default();
                assert!(
                    FILES.iter().any(|(n, _, _)| *n == target),
                    "{name} imports {target:?}, which is not served"
                );
            }
        }
    }
}
