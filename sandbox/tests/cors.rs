//! The configurable CORS refusals (`cors_refuse_headers`, `cors_refuse_preflight`,
//! `cors_block_post`): refused preflights get a 403 with no `Access-Control-*` header, everything
//! else keeps the permissive policy, and the control routes are never refused.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};

mod common;
use common::{app_with, send, with_control, Reply, KEY};

const ORIGIN: &str = "http://localhost:8080";

fn preflight(path: &str, method: &str, headers: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri(path)
        .header("origin", ORIGIN)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .body(Body::empty())
        .unwrap()
}

fn assert_refused(reply: &Reply, rule: &str) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let cors: Vec<_> = reply
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{cors:?}");
    assert!(reply.text().contains(rule), "{}", reply.text());
}

fn assert_allowed(reply: &Reply) {
    assert!(reply.status.is_success(), "{}", reply.status);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

async fn control(app: &Router, method: Method, path: &str, body: Option<Value>) -> Reply {
    let builder = with_control(Request::builder().method(method).uri(path), path)
        .header("origin", ORIGIN)
        .header("content-type", "application/json");
    let body = body.map_or_else(Body::empty, |body| Body::from(body.to_string()));
    send(app, builder.body(body).unwrap()).await
}

async fn models(app: &Router) -> Reply {
    let request = Request::get("/v1/models")
        .header("origin", ORIGIN)
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

#[tokio::test]
async fn by_default_no_preflight_is_refused() {
    let app = app_with(&json!({}));
    for (path, method, headers) in [
        (
            "/v1/chat/completions",
            "POST",
            "authorization,content-type,openai-beta",
        ),
        (
            "/v1/messages",
            "POST",
            "x-api-key,anthropic-version,anthropic-dangerous-direct-browser-access",
        ),
        ("/v1/models", "GET", "authorization"),
    ] {
        assert_allowed(&send(&app, preflight(path, method, headers)).await);
    }
}

#[tokio::test]
async fn preflights_asking_for_a_refused_header_are_refused() {
    let app = app_with(&json!({
        "cors_refuse_headers": ["openai-beta", "anthropic-dangerous-direct-browser-access"]
    }));
    let chat = "/v1/chat/completions";
    let refused = send(&app, preflight(chat, "POST", "authorization, OpenAI-Beta")).await;
    assert_refused(&refused, "cors_refuse_headers");
    let direct = "x-api-key,anthropic-version,anthropic-dangerous-direct-browser-access";
    let refused = send(&app, preflight("/v1/messages", "POST", direct)).await;
    assert_refused(&refused, "cors_refuse_headers");
    // Without the refused headers the preflight works as before.
    let allowed = send(&app, preflight(chat, "POST", "authorization,content-type")).await;
    assert_allowed(&allowed);
    let methods = allowed.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = send(
        &app,
        preflight("/v1/messages", "POST", "x-api-key,anthropic-version"),
    )
    .await;
    assert_allowed(&allowed);
    // Control routes are never refused.
    let control = send(
        &app,
        preflight("/_sandbox/config", "POST", "x-sandbox-control,openai-beta"),
    )
    .await;
    assert_allowed(&control);
}

#[tokio::test]
async fn refuse_preflight_refuses_every_preflight_but_the_control_routes() {
    let app = app_with(&json!({"cors_refuse_preflight": true}));
    for (path, method, headers) in [
        ("/v1/chat/completions", "POST", "authorization,content-type"),
        ("/v1/models", "GET", "authorization"),
        ("/v1/videos", "POST", "authorization"),
    ] {
        let reply = send(&app, preflight(path, method, headers)).await;
        assert_refused(&reply, "cors_refuse_preflight");
    }
    for path in ["/_sandbox/config", "/_sandbox/stats", "/_sandbox/reset"] {
        let reply = send(
            &app,
            preflight(path, "POST", "x-sandbox-control,content-type"),
        )
        .await;
        assert_allowed(&reply);
    }
    // Requests that need no preflight still carry the permissive headers.
    assert_allowed(&models(&app).await);
    // A test can switch the mode off again from a page.
    let set = control(&app, Method::POST, "/_sandbox/config", Some(json!({}))).await;
    assert_allowed(&set);
    assert_eq!(set.json()["cors_refuse_preflight"], false);
    assert_allowed(&send(&app, preflight("/v1/models", "GET", "authorization")).await);
}

#[tokio::test]
async fn block_post_refuses_post_preflights_and_keeps_get_working() {
    let app = app_with(&json!({"cors_block_post": true}));
    let post = send(
        &app,
        preflight("/v1/chat/completions", "POST", "authorization,content-type"),
    )
    .await;
    assert_refused(&post, "cors_block_post");
    let messages = send(
        &app,
        preflight("/v1/messages", "POST", "x-api-key,anthropic-version"),
    )
    .await;
    assert_refused(&messages, "cors_block_post");
    let get = send(&app, preflight("/v1/models", "GET", "authorization")).await;
    assert_allowed(&get);
    let listed = models(&app).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_allowed(&listed);
    assert!(listed.header("access-control-expose-headers").is_some());
    // The control routes keep POST, preflight and all.
    let reset = send(
        &app,
        preflight("/_sandbox/reset", "POST", "x-sandbox-control"),
    )
    .await;
    assert_allowed(&reset);
    let reset = control(&app, Method::POST, "/_sandbox/reset", None).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_allowed(&reset);
}

#[tokio::test]
async fn cors_modes_are_set_at_run_time_and_refused_preflights_are_not_counted() {
    let app = app_with(&json!({}));
    let path = "/v1/chat/completions";
    assert_allowed(&send(&app, preflight(path, "POST", "authorization,openai-beta")).await);
    let config = json!({"cors_refuse_headers": ["openai-beta"], "cors_block_post": false});
    let set = control(&app, Method::POST, "/_sandbox/config", Some(config)).await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(set.json()["cors_refuse_headers"], json!(["openai-beta"]));
    let read = control(&app, Method::GET, "/_sandbox/config", None).await;
    assert_eq!(read.json()["cors_refuse_headers"], json!(["openai-beta"]));
    let refused = send(&app, preflight(path, "POST", "authorization,openai-beta")).await;
    assert_refused(&refused, "cors_refuse_headers");
    let bad = json!({"cors_refuse_headers": ["openai beta"]});
    let rejected = control(&app, Method::POST, "/_sandbox/config", Some(bad)).await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);

    assert_eq!(models(&app).await.status, StatusCode::OK);
    let stats = control(&app, Method::GET, "/_sandbox/stats", None)
        .await
        .json();
    assert_eq!(stats["requests"], json!({"GET /v1/models": 1}), "{stats}");
    assert_eq!(stats["status"], json!({"200": 1}), "{stats}");
}
