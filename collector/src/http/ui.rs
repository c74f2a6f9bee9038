//! The dashboard: three static files compiled into the binary, served with a strict
//! Content-Security-Policy. The page itself is a client of the analyst API.

use axum::http::header;
use axum::response::IntoResponse;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

pub async fn index() -> impl IntoResponse {
    page(
        "text/html; charset=utf-8",
        include_str!("../../ui/index.html"),
    )
}

pub async fn app_js() -> impl IntoResponse {
    page(
        "text/javascript; charset=utf-8",
        include_str!("../../ui/app.js"),
    )
}

pub async fn style_css() -> impl IntoResponse {
    page(
        "text/css; charset=utf-8",
        include_str!("../../ui/style.css"),
    )
}
