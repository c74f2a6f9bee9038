//! A panicking handler is one request's 500 with the JSON error body; the router,
//! and the requests after it, go on.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{assert_error, setup};

async fn boom() -> &'static str {
    panic!("a handler bug")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_next_request_succeeds() {
    let t = setup().await;
    let app = crate::http::app_with(
        t.state.clone(),
        Router::new().route("/api/v1/boom", get(boom)),
    );
    let get = |path: &str| {
        Request::builder()
            .method(Method::GET)
            .uri(path)
            .body(Body::empty())
            .unwrap()
    };
    let resp = app.clone().oneshot(get("/api/v1/boom")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_error(&v, "internal_error");

    // the same router serves the next request, and the panic was counted as a 500
    let resp = app.clone().oneshot(get("/healthz")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (s, v) = t
        .call(Method::GET, "/api/v1/devices", Some(&t.admin), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let resp = app.oneshot(get("/metrics")).await.unwrap();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("route=\"/api/v1/boom\",status=\"500\"} 1"),
        "{text}"
    );
}
