//! The `model_ids` configuration: under `"openrouter"` the sandbox lists, accepts and bills
//! `vendor/model` ids (`google/gemini-2.5-flash`) on both API shapes, refuses the bare catalog
//! names with each protocol's model-not-found error, and goes back to the catalog names when
//! the configuration is replaced.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};

mod common;
use common::{app_with, send, with_control, Reply, KEY};

const VERSION: &str = "2023-06-01";

fn openrouter() -> Router {
    app_with(&json!({"stream_chunk_delay_ms": 0, "model_ids": "openrouter"}))
}

fn get(path: &str, anthropic: bool) -> Request<Body> {
    let builder = with_control(Request::get(path), path);
    let builder = if anthropic {
        builder
            .header("x-api-key", KEY)
            .header("anthropic-version", VERSION)
    } else {
        builder.header("authorization", format!("Bearer {KEY}"))
    };
    builder.body(Body::empty()).unwrap()
}

fn post(path: &str, body: &Value, anthropic: bool) -> Request<Body> {
    let builder =
        with_control(Request::post(path), path).header("content-type", "application/json");
    let builder = if path.starts_with("/_sandbox") {
        builder
    } else if anthropic {
        builder
            .header("x-api-key", KEY)
            .header("anthropic-version", VERSION)
    } else {
        builder.header("authorization", format!("Bearer {KEY}"))
    };
    builder.body(Body::from(body.to_string())).unwrap()
}

async fn chat(app: &Router, model: &str) -> Reply {
    let body = json!({"model": model, "messages": [{"role": "user", "content": "Hello"}]});
    send(app, post("/v1/chat/completions", &body, false)).await
}

async fn messages(app: &Router, model: &str) -> Reply {
    let body = json!({"model": model, "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hello"}]});
    send(app, post("/v1/messages", &body, true)).await
}

async fn stats(app: &Router) -> Value {
    send(app, get("/_sandbox/stats", false)).await.json()
}

fn ids(listing: &Value) -> Vec<String> {
    listing["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_listing_names_every_model_vendor_slash_id() {
    let app = openrouter();
    let reply = send(&app, get("/v1/models", false)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    let listed = ids(&body);
    for id in [
        "google/gemini-2.5-flash",
        "deepseek/deepseek-v3.2",
        "anthropic/claude-sonnet-4.5",
        "openai/gpt-4.1",
    ] {
        assert!(
            listed.iter().any(|l| l == id),
            "{id} missing from {listed:?}"
        );
    }
    for model in body["data"].as_array().unwrap() {
        let id = model["id"].as_str().unwrap();
        let vendor = model["owned_by"].as_str().unwrap();
        assert!(
            id.starts_with(&format!("{vendor}/")),
            "{id} is owned by {vendor}"
        );
    }
    assert!(
        !listed.iter().any(|l| l == "gemini-2.5-flash"),
        "{listed:?}"
    );

    // Anthropic's shape too, its first and last ids included.
    let anthropic = send(&app, get("/v1/models", true)).await.json();
    let listed = ids(&anthropic);
    assert!(
        listed.iter().any(|l| l == "anthropic/claude-sonnet-4-5"),
        "{listed:?}"
    );
    assert_eq!(anthropic["first_id"], listed[0].as_str());
    assert_eq!(anthropic["last_id"], listed[listed.len() - 1].as_str());
    assert!(anthropic["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["display_name"] == m["id"]));

    // A bare catalog name is not a model any more.
    let one = send(&app, get("/v1/models/gpt-4.1", false)).await;
    assert_eq!(one.status, StatusCode::NOT_FOUND);
    assert_eq!(one.json()["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn prefixed_ids_are_served_and_billed_as_their_catalog_model() {
    let app = openrouter();
    let reply = chat(&app, "google/gemini-2.5-flash").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(
        body["model"], "google/gemini-2.5-flash",
        "the id sent is echoed"
    );
    let usage = body["usage"].clone();
    // OpenRouter states the cost: uncached input at $0.30/M, cached at $0.03/M, output at
    // $2.50/M for Gemini 2.5 Flash.
    let (prompt, cached, completion) = (
        usage["prompt_tokens"].as_u64().unwrap() as f64,
        usage["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap() as f64,
        usage["completion_tokens"].as_u64().unwrap() as f64,
    );
    let expected = ((prompt - cached) * 0.30 + cached * 0.03 + completion * 2.50) / 1e6;
    let stated = usage["cost"]
        .as_f64()
        .expect("usage.cost under openrouter ids");
    assert!((stated - expected).abs() < 1e-12, "{stated} vs {expected}");

    let reply = messages(&app, "anthropic/claude-sonnet-4.5").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["model"], "anthropic/claude-sonnet-4.5");

    // DeepSeek's usage fields still come with a DeepSeek model.
    let reply = chat(&app, "deepseek/deepseek-v3.2").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.json()["usage"]["prompt_cache_hit_tokens"].is_u64());

    let stats = stats(&app).await;
    let by_model = &stats["billed"]["by_model"];
    assert_eq!(by_model["gemini-2.5-flash"]["requests"], 1, "{by_model}");
    assert_eq!(
        by_model["gemini-2.5-flash"]["prompt_tokens"],
        usage["prompt_tokens"]
    );
    assert_eq!(by_model["claude-sonnet-4.5"]["requests"], 1, "{by_model}");
    assert_eq!(by_model["deepseek-v3.2"]["requests"], 1, "{by_model}");
    assert!(
        by_model.get("google/gemini-2.5-flash").is_none(),
        "{by_model}"
    );
    assert_eq!(stats["billed"]["requests"], 3);
}

#[tokio::test]
async fn bare_or_wrongly_prefixed_ids_are_not_found_and_not_billed() {
    let app = openrouter();
    for model in ["gemini-2.5-flash", "openai/gemini-2.5-flash", "google/"] {
        let reply = chat(&app, model).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{model}");
        let error = reply.json();
        assert_eq!(error["error"]["code"], "model_not_found", "{model}");
        assert!(
            error["error"]["message"].as_str().unwrap().contains(model),
            "{error}"
        );
    }
    let reply = messages(&app, "claude-sonnet-4.5").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let error = reply.json();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "not_found_error");
    assert_eq!(error["error"]["message"], "model: claude-sonnet-4.5");
    // The video model is listed but is not a chat model.
    let reply = chat(&app, "sandbox/video-gen-2.1").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_ne!(reply.json()["error"]["code"], "model_not_found");

    let stats = stats(&app).await;
    assert_eq!(stats["billed"]["requests"], 0);
}

#[tokio::test]
async fn the_mode_is_set_and_undone_at_run_time() {
    let app = app_with(&json!({"stream_chunk_delay_ms": 0}));
    assert_eq!(chat(&app, "gemini-2.5-flash").await.status, StatusCode::OK);
    assert_eq!(
        chat(&app, "google/gemini-2.5-flash").await.status,
        StatusCode::NOT_FOUND
    );

    let set = send(
        &app,
        post(
            "/_sandbox/config",
            &json!({"model_ids": "openrouter"}),
            false,
        ),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(set.json()["model_ids"], "openrouter");
    let got = send(&app, get("/_sandbox/config", false)).await.json();
    assert_eq!(got["model_ids"], "openrouter");
    assert!(ids(&send(&app, get("/v1/models", false)).await.json())
        .contains(&"google/gemini-2.5-flash".to_owned()));
    assert_eq!(
        chat(&app, "google/gemini-2.5-flash").await.status,
        StatusCode::OK
    );
    assert_eq!(
        chat(&app, "gemini-2.5-flash").await.status,
        StatusCode::NOT_FOUND
    );

    let bad = send(
        &app,
        post("/_sandbox/config", &json!({"model_ids": "vendor"}), false),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let kept = send(&app, get("/_sandbox/config", false)).await.json();
    assert_eq!(
        kept["model_ids"], "openrouter",
        "a refused config changes nothing"
    );

    // Posting a configuration replaces it whole: back to the catalog names.
    send(&app, post("/_sandbox/config", &json!({}), false)).await;
    assert!(ids(&send(&app, get("/v1/models", false)).await.json())
        .contains(&"gemini-2.5-flash".to_owned()));
    assert_eq!(chat(&app, "gemini-2.5-flash").await.status, StatusCode::OK);
}
