//! End-to-end tests of the sandbox's HTTP API, run in process with
//! `tower::ServiceExt::oneshot`.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use sandbox::tokens::{count_tokens, truncate_tokens};
use serde_json::{json, Value};

mod common;
use common::{app_with, send, with_control, Reply, KEY, WRONG_KEY};

/// A server with no stream pacing, so tests run fast.
fn server() -> Router {
    server_with(json!({"stream_chunk_delay_ms": 0}))
}

fn server_with(config: Value) -> Router {
    app_with(&config)
}

fn get(path: &str, key: Option<&str>) -> Request<Body> {
    let mut builder = with_control(Request::get(path), path);
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    builder.body(Body::empty()).unwrap()
}

fn post_raw(path: &str, key: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder =
        with_control(Request::post(path), path).header("content-type", "application/json");
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    builder.body(body.into()).unwrap()
}

async fn chat(app: &Router, body: Value) -> Reply {
    send(
        app,
        post_raw("/v1/chat/completions", Some(KEY), body.to_string()),
    )
    .await
}

async fn set_config(app: &Router, config: Value) -> Reply {
    send(app, post_raw("/_sandbox/config", None, config.to_string())).await
}

async fn stats(app: &Router) -> Value {
    send(app, get("/_sandbox/stats", None)).await.json()
}

fn simple(text: &str) -> Value {
    json!({"model": "gpt-4.1", "messages": [{"role": "user", "content": text}]})
}

fn content(reply: &Value) -> &str {
    reply["choices"][0]["message"]["content"].as_str().unwrap()
}

/// Splits an SSE body into its events (the text between blank lines).
fn sse_events(text: &str) -> Vec<&str> {
    text.split("\n\n").filter(|e| !e.is_empty()).collect()
}

/// The JSON payloads of the `data:` events, excluding `[DONE]`.
fn sse_chunks(text: &str) -> Vec<Value> {
    sse_events(text)
        .into_iter()
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("chunk JSON"))
        .collect()
}

fn streamed_content(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"].as_array()?.first()?["delta"]["content"].as_str())
        .collect()
}

#[tokio::test]
async fn missing_or_wrong_key_is_401_without_echo() {
    let app = server();
    let expected = json!({"error": {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": null,
        "code": "invalid_api_key"
    }});
    for key in [None, Some(WRONG_KEY)] {
        let models = send(&app, get("/v1/models", key)).await;
        assert_eq!(models.status, StatusCode::UNAUTHORIZED);
        assert_eq!(models.json(), expected);
        let chat = send(
            &app,
            post_raw("/v1/chat/completions", key, simple("hello").to_string()),
        )
        .await;
        assert_eq!(chat.status, StatusCode::UNAUTHORIZED);
        assert_eq!(chat.json(), expected);
        assert!(!chat.text().contains(WRONG_KEY));
        assert!(chat
            .headers
            .values()
            .all(|v| !v.to_str().unwrap_or("").contains(WRONG_KEY)));
    }
    // The scheme must be Bearer.
    let basic = Request::get("/v1/models")
        .header("authorization", format!("Basic {KEY}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, basic).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn models_are_listed() {
    let reply = send(&server(), get("/v1/models", Some(KEY))).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["object"], "list");
    let data = body["data"].as_array().unwrap();
    let ids: Vec<&str> = data.iter().map(|m| m["id"].as_str().unwrap()).collect();
    for id in [
        "deepseek-v3.2",
        "gemini-2.5-flash",
        "gpt-4.1",
        "claude-sonnet-4.5",
        "claude-sonnet-4-5",
        "video-gen-2.1",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for model in data {
        assert_eq!(model["object"], "model");
        assert!(model["created"].is_u64());
        assert!(model["owned_by"].is_string());
    }
    let one = send(&server(), get("/v1/models/gpt-4.1", Some(KEY))).await;
    assert_eq!(one.json()["id"], "gpt-4.1");
    let none = send(&server(), get("/v1/models/nope", Some(KEY))).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.json()["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn non_streaming_completion_has_the_openai_shape_and_true_usage() {
    let app = server();
    let body = json!({
        "model": "gpt-4.1",
        "temperature": 0.7,
        "messages": [
            {"role": "system", "content": "You are a script doctor."},
            {"role": "user", "content": "Punch up the opening scene, please."}
        ]
    });
    let reply = chat(&app, body).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let json = reply.json();
    assert!(json["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(json["object"], "chat.completion");
    assert!(json["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(json["model"], "gpt-4.1");
    let choice = &json["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["finish_reason"], "stop");
    let text = content(&json);
    assert!(text.is_ascii(), "English prompt, English reply: {text}");

    let usage = &json["usage"];
    // Counted by hand with the sandbox's documented rule (a run of ASCII letters and digits is
    // one token per 4 characters, rounded up; every other non-space character is one token;
    // 4 tokens per message, 2 per request):
    // "You are a script doctor." = You 1 + are 1 + a 1 + script 2 + doctor 2 + "." 1 = 8;
    // "Punch up the opening scene, please." = Punch 2 + up 1 + the 1 + opening 2 + scene 2
    // + "," 1 + please 2 + "." 1 = 12; so 8 + 4 + 12 + 4 + 2 = 30.
    let expected_prompt = 30;
    assert_eq!(usage["prompt_tokens"], expected_prompt);
    assert_eq!(usage["completion_tokens"], count_tokens(text));
    assert_eq!(usage["completion_tokens"], 60);
    assert_eq!(usage["total_tokens"], expected_prompt + 60);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 0);
    // DeepSeek's extra cache fields appear only for DeepSeek models.
    assert!(usage.get("prompt_cache_hit_tokens").is_none());
}

#[tokio::test]
async fn replies_are_deterministic() {
    let app = server();
    let first = chat(&app, simple("Write the cliffhanger.")).await.json();
    let second = chat(&app, simple("Write the cliffhanger.")).await.json();
    assert_eq!(content(&first), content(&second));
    // A fresh server gives the same reply too.
    let third = chat(&server(), simple("Write the cliffhanger."))
        .await
        .json();
    assert_eq!(content(&first), content(&third));
    let other = chat(&app, simple("Write the twist.")).await.json();
    assert_ne!(content(&first), content(&other));
    // Temperature does not change the reply; max_tokens does (it is hashed).
    let mut warm = simple("Write the cliffhanger.");
    warm["temperature"] = json!(1.5);
    assert_eq!(content(&chat(&app, warm).await.json()), content(&first));
}

#[tokio::test]
async fn chinese_prompts_get_chinese_replies() {
    let reply = chat(&server(), simple("写一段霸总短剧的开场白"))
        .await
        .json();
    let text = content(&reply);
    assert!(sandbox::tokens::contains_cjk(text));
    assert!(!text.chars().any(|c| c.is_ascii_alphabetic()), "{text}");
    assert_eq!(reply["usage"]["completion_tokens"], count_tokens(text));
}

#[tokio::test]
async fn token_directive_and_max_tokens_set_the_length() {
    let app = server();
    let reply = chat(&app, simple("Go long [[sandbox:tokens=200]]"))
        .await
        .json();
    assert_eq!(reply["usage"]["completion_tokens"], 200);
    assert_eq!(count_tokens(content(&reply)), 200);
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");

    let mut capped = simple("Go long [[sandbox:tokens=200]]");
    capped["max_tokens"] = json!(25);
    let reply = chat(&app, capped).await.json();
    assert_eq!(reply["choices"][0]["finish_reason"], "length");
    assert_eq!(reply["usage"]["completion_tokens"], 25);
    assert_eq!(count_tokens(content(&reply)), 25);

    let mut capped = simple("Default length");
    capped["max_completion_tokens"] = json!(7);
    let reply = chat(&app, capped).await.json();
    assert_eq!(reply["choices"][0]["finish_reason"], "length");
    assert_eq!(reply["usage"]["completion_tokens"], 7);

    let mut roomy = simple("Default length");
    roomy["max_tokens"] = json!(4000);
    let reply = chat(&app, roomy).await.json();
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
    assert_eq!(reply["usage"]["completion_tokens"], 60);
}

/// Runs the same request streamed and not streamed.
async fn stream_and_plain(app: &Router, include_usage: Option<bool>) -> (Reply, Value) {
    let body = json!({
        "model": "deepseek-v3.2",
        "messages": [{"role": "user", "content": "Stream the confrontation scene."}],
        "max_tokens": 500
    });
    let plain = chat(app, body.clone()).await.json();
    let mut streamed = body;
    streamed["stream"] = json!(true);
    if let Some(include) = include_usage {
        streamed["stream_options"] = json!({"include_usage": include});
    }
    (chat(app, streamed).await, plain)
}

#[tokio::test]
async fn streaming_follows_the_sse_wire_format() {
    let app = server();
    let (stream, plain) = stream_and_plain(&app, Some(true)).await;
    assert_eq!(stream.status, StatusCode::OK);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.header("cache-control"), Some("no-cache"));
    let text = stream.text();
    let events = sse_events(&text);
    assert_eq!(events[0], ": keep-alive");
    assert_eq!(*events.last().unwrap(), "data: [DONE]");
    assert!(text.ends_with("data: [DONE]\n\n"));
    for event in &events[1..] {
        assert!(event.starts_with("data: "), "{event:?}");
        assert!(!event.contains('\n'), "one line per event: {event:?}");
    }

    let chunks = sse_chunks(&text);
    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], id);
        assert_eq!(chunk["model"], "deepseek-v3.2");
        assert!(chunk["created"].is_u64());
    }
    // The first chunk carries the role and empty content.
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert!(chunks[0]["choices"][0]["finish_reason"].is_null());
    // Every choice chunk has usage: null; the last chunk holds the usage.
    let (usage_chunk, choice_chunks) = chunks.split_last().unwrap();
    for chunk in choice_chunks {
        assert!(chunk.get("usage").is_some_and(Value::is_null), "{chunk}");
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
    let finish = choice_chunks.last().unwrap();
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    for chunk in &choice_chunks[1..choice_chunks.len() - 1] {
        assert!(chunk["choices"][0]["finish_reason"].is_null());
        let piece = chunk["choices"][0]["delta"]["content"].as_str().unwrap();
        assert_eq!(
            count_tokens(piece),
            1,
            "about one token per chunk: {piece:?}"
        );
    }
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"], plain["usage"]);

    assert_eq!(streamed_content(&chunks), content(&plain));
    assert_eq!(
        choice_chunks.len() as u64,
        2 + plain["usage"]["completion_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn streaming_without_include_usage_sends_no_usage() {
    let app = server();
    for include in [None, Some(false)] {
        let (stream, plain) = stream_and_plain(&app, include).await;
        let text = stream.text();
        assert!(text.ends_with("data: [DONE]\n\n"));
        let chunks = sse_chunks(&text);
        for chunk in &chunks {
            assert!(chunk.get("usage").is_none(), "{chunk}");
            assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
        }
        assert_eq!(streamed_content(&chunks), content(&plain));
    }
}

#[tokio::test]
async fn streams_are_paced_by_the_chunk_delay() {
    let app = server_with(json!({"stream_chunk_delay_ms": 5}));
    let mut body = simple("Pace me [[sandbox:tokens=10]]");
    body["stream"] = json!(true);
    let started = Instant::now();
    let reply = chat(&app, body).await;
    // keep-alive, role, 10 pieces, finish, [DONE]: 13 delays of 5 ms.
    assert_eq!(sse_events(&reply.text()).len(), 14);
    assert!(started.elapsed() >= Duration::from_millis(65));
}

fn json_request(prompt: &str) -> Value {
    json!({
        "model": "gemini-2.5-flash",
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": "Reply in JSON."},
            {"role": "user", "content": prompt}
        ]
    })
}

#[tokio::test]
async fn a_prompt_that_asks_for_json_gets_json_without_json_mode() {
    let app = server();
    let asked = chat(
        &app,
        simple("Write dialogue variation 3 of 12 for the slap scene. Reply with a JSON object."),
    )
    .await
    .json();
    let take: Value = serde_json::from_str(content(&asked)).unwrap();
    for field in ["dialogue", "stage_direction", "emotional_tone"] {
        assert!(take[field].is_string(), "{field} in {take}");
    }
    let plain = chat(&app, simple("Write dialogue for the slap scene."))
        .await
        .json();
    assert!(serde_json::from_str::<Value>(content(&plain)).is_err());
}

fn check_storyboard(value: &Value) {
    let shots = value["shots"].as_array().expect("shots array");
    assert!((4..=8).contains(&shots.len()), "{} shots", shots.len());
    for (index, shot) in shots.iter().enumerate() {
        assert_eq!(shot["shot_number"], index as u64 + 1);
        for field in ["camera_angle", "action_description", "emotional_tone"] {
            assert!(!shot[field].as_str().unwrap().is_empty(), "{field}");
        }
        let visuals = shot["visual_elements"].as_array().unwrap();
        assert!(!visuals.is_empty());
        assert!(visuals.iter().all(Value::is_string));
    }
}

#[tokio::test]
async fn json_mode_returns_the_requested_shapes() {
    let app = server();
    let mut counts = Vec::new();
    for scene in [
        "the wedding",
        "the hospital",
        "the boardroom",
        "the rooftop",
    ] {
        let reply = chat(&app, json_request(&format!("Storyboard {scene} as shots.")))
            .await
            .json();
        let parsed: Value = serde_json::from_str(content(&reply)).unwrap();
        check_storyboard(&parsed);
        counts.push(parsed["shots"].as_array().unwrap().len());
        assert_eq!(
            reply["usage"]["completion_tokens"],
            count_tokens(content(&reply))
        );
    }
    // Deterministic per prompt, but not the same count for every prompt.
    let again = chat(&app, json_request("Storyboard the wedding as shots."))
        .await
        .json();
    let again: Value = serde_json::from_str(content(&again)).unwrap();
    assert_eq!(again["shots"].as_array().unwrap().len(), counts[0]);

    let schema = json!({
        "model": "claude-sonnet-4.5",
        "response_format": {"type": "json_schema", "json_schema": {"name": "take", "strict": true, "schema": {"type": "object"}}},
        "messages": [{"role": "user", "content": "Write a dialogue variation for the slap scene."}]
    });
    let take: Value = serde_json::from_str(content(&chat(&app, schema).await.json())).unwrap();
    for field in ["dialogue", "stage_direction", "emotional_tone"] {
        assert!(take[field].is_string(), "{field} in {take}");
    }

    let text = chat(
        &app,
        json_request("Summarise episode 3 [[sandbox:tokens=30]]"),
    )
    .await
    .json();
    let text: Value = serde_json::from_str(content(&text)).unwrap();
    assert_eq!(count_tokens(text["text"].as_str().unwrap()), 30);

    let chinese = chat(&app, json_request("把这场戏拆成分镜")).await.json();
    let chinese: Value = serde_json::from_str(content(&chinese)).unwrap();
    check_storyboard(&chinese);
    assert!(sandbox::tokens::contains_cjk(
        chinese["shots"][0]["camera_angle"].as_str().unwrap()
    ));
}

async fn malformed(app: &Router, kind: &str, prompt: &str) -> (String, &'static str) {
    let reply = chat(
        app,
        json_request(&format!("{prompt} [[sandbox:malformed={kind}]]")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{kind}");
    let json = reply.json();
    assert_eq!(
        json["usage"]["completion_tokens"],
        count_tokens(content(&json))
    );
    let finish = if json["choices"][0]["finish_reason"] == "stop" {
        "stop"
    } else {
        "length"
    };
    (content(&json).to_owned(), finish)
}

#[tokio::test]
async fn malformed_directives_break_json_as_promised() {
    let app = server();
    let storyboard = "Storyboard the scene as shots.";
    let parses = |text: &str| serde_json::from_str::<Value>(text).is_ok();

    let (fenced, _) = malformed(&app, "fence", storyboard).await;
    assert!(fenced.starts_with("```json\n") && fenced.ends_with("\n```"));
    let inner = &fenced["```json\n".len()..fenced.len() - "\n```".len()];
    check_storyboard(&serde_json::from_str(inner).unwrap());

    let (prose, _) = malformed(&app, "prose", storyboard).await;
    assert!(!parses(&prose));
    let start = prose.find('{').unwrap();
    let end = prose.rfind('}').unwrap();
    assert!(start > 0 && end < prose.len() - 1);
    check_storyboard(&serde_json::from_str(&prose[start..=end]).unwrap());

    let (trailing, _) = malformed(&app, "trailing_comma", storyboard).await;
    assert!(!parses(&trailing));
    assert!(trailing.contains(",]"));
    check_storyboard(&serde_json::from_str(&trailing.replace(",]", "]")).unwrap());

    let (single, _) = malformed(&app, "single_quotes", storyboard).await;
    assert!(!parses(&single));
    assert!(!single.contains('"') && single.contains("'shots'"));
    check_storyboard(&serde_json::from_str(&single.replace('\'', "\"")).unwrap());

    let (object, _) = malformed(&app, "object_not_array", storyboard).await;
    let object: Value = serde_json::from_str(&object).unwrap();
    assert!(object["shots"].is_object());
    assert_eq!(object["shots"]["shot_number"], 1);

    let (truncated, _) = malformed(&app, "truncated", storyboard).await;
    assert!(!parses(&truncated));
    assert!(truncated.starts_with("{\"shots\":[{"));

    let (empty, _) = malformed(&app, "empty", storyboard).await;
    assert_eq!(empty, "");

    let (html, _) = malformed(&app, "html", storyboard).await;
    let html: Value = serde_json::from_str(&html).unwrap();
    check_storyboard(&html);
    assert!(html["shots"][0]["action_description"]
        .as_str()
        .unwrap()
        .contains("<img src=x onerror=alert(1)><script>alert(1)</script>"));

    let (dialogue_html, _) = malformed(&app, "html", "Write a dialogue take.").await;
    let dialogue_html: Value = serde_json::from_str(&dialogue_html).unwrap();
    assert!(dialogue_html["dialogue"]
        .as_str()
        .unwrap()
        .contains("<script>alert(1)</script>"));

    let (invalid, _) = malformed(&app, "invalid_shot", storyboard).await;
    let invalid: Value = serde_json::from_str(&invalid).unwrap();
    assert!(invalid["shots"][0]["action_description"].is_string());
    assert!(invalid["shots"][1].get("action_description").is_none());
    assert!(invalid["shots"][1]["camera_angle"].is_string());

    // An unknown kind is a 400, not a silent no-op.
    let reply = chat(&app, json_request("x [[sandbox:malformed=sideways]]")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn invalid_requests_get_openai_errors() {
    let app = server();
    let bad_json = send(
        &app,
        post_raw("/v1/chat/completions", Some(KEY), "{not json"),
    )
    .await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_json.json()["error"]["type"], "invalid_request_error");

    let missing = chat(&app, json!({"model": "gpt-4.1"})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let error = &missing.json()["error"];
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["param"], "messages");

    let empty = chat(&app, json!({"model": "gpt-4.1", "messages": []})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    let zero = chat(&app, json!({"model": "gpt-4.1", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    assert_eq!(zero.json()["error"]["param"], "max_tokens");

    let unknown = chat(
        &app,
        json!({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json(),
        json!({"error": {
            "message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found"
        }})
    );

    // 130,000 four-letter words: 130,000 tokens plus framing.
    let huge = "word ".repeat(130_000);
    let long = chat(&app, simple(&huge)).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert_eq!(long.json()["error"]["code"], "context_length_exceeded");

    // Multi-part content counts its text parts.
    let parts = chat(
        &app,
        json!({"model": "gpt-4.1", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}
        ]}]}),
    )
    .await
    .json();
    // "Hello there": Hello 2 + there 2, plus 4 for the message and 2 for the request.
    assert_eq!(parts["usage"]["prompt_tokens"], 10);

    let stats = stats(&app).await;
    assert_eq!(stats["billed"]["requests"], 1);
}

#[tokio::test]
async fn unknown_routes_are_openai_404s() {
    let app = server();
    let reply = send(&app, get("/v1/nope", Some(KEY))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.json(),
        json!({"error": {"message": "Invalid URL (GET /v1/nope)", "type": "invalid_request_error", "param": null, "code": null}})
    );
    let wrong_method = send(&app, get("/v1/chat/completions", Some(KEY))).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method.json()["error"]["type"],
        "invalid_request_error"
    );
}

async fn faulted(fault: &str, stream: bool) -> (Router, Reply) {
    let app = server_with(json!({"stream_chunk_delay_ms": 0, "faults": {fault: 1.0}}));
    let mut body = json!({
        "model": "gpt-4.1",
        "messages": [{"role": "user", "content": "Trigger a fault."}],
        "stream": stream
    });
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    let reply = chat(&app, body).await;
    (app, reply)
}

async fn assert_not_billed(app: &Router) {
    let stats = stats(app).await;
    assert_eq!(stats["billed"]["requests"], 0, "{stats}");
    assert_eq!(stats["billed"]["total_tokens"], 0);
}

#[tokio::test]
async fn error_faults_return_provider_errors() {
    let cases = [
        (
            "rate_limit",
            429,
            json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
        ),
        (
            "insufficient_quota",
            429,
            json!({"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}),
        ),
        (
            "server_500",
            500,
            json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}),
        ),
    ];
    for (fault, status, body) in cases {
        for stream in [false, true] {
            let (app, reply) = faulted(fault, stream).await;
            assert_eq!(reply.status.as_u16(), status, "{fault}");
            assert_eq!(reply.json(), body, "{fault}");
            let retry = fault == "rate_limit";
            assert_eq!(reply.header("retry-after").is_some(), retry, "{fault}");
            if retry {
                assert_eq!(reply.header("retry-after"), Some("1"));
                assert_eq!(reply.header("retry-after-ms"), Some("1000"));
            }
            assert_not_billed(&app).await;
        }
    }
    let (app, reply) = faulted("server_503", false).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let error = &reply.json()["error"];
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with("The engine is currently overloaded"));
    assert_eq!(error["type"], "server_error");
    assert_not_billed(&app).await;
    assert_eq!(stats(&app).await["status"]["503"], 1);
}

#[tokio::test]
async fn malformed_json_fault_breaks_the_body() {
    let (app, reply) = faulted("malformed_json", false).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(serde_json::from_slice::<Value>(&reply.body).is_err());
    assert!(reply.text().starts_with("{\"id\":\"chatcmpl-"));
    assert_not_billed(&app).await;

    let (app, reply) = faulted("malformed_json", true).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.text();
    assert!(text.contains("\ndata: {broken\n"), "{text}");
    assert!(!text.contains("\"usage\":{"));
    assert_not_billed(&app).await;
}

#[tokio::test]
async fn stream_cut_fault_ends_the_stream_halfway() {
    let (app, reply) = faulted("stream_cut", true).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.text();
    assert!(text.starts_with(": keep-alive\n\n"));
    assert!(!text.contains("[DONE]"));
    let chunks = sse_chunks(&text);
    assert!(chunks.iter().all(|c| c["usage"].is_null()));
    assert!(chunks
        .iter()
        .all(|c| c["choices"][0]["finish_reason"].is_null()));
    // The full stream has 62 choice chunks (role, 60 tokens, finish).
    assert_eq!(chunks.len(), 31);
    assert_not_billed(&app).await;

    // Not streaming, a cut behaves like malformed JSON.
    let (app, reply) = faulted("stream_cut", false).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(serde_json::from_slice::<Value>(&reply.body).is_err());
    assert_not_billed(&app).await;
}

#[tokio::test]
async fn slow_first_byte_and_latency_delay_the_response() {
    let app = server_with(json!({
        "stream_chunk_delay_ms": 0,
        "slow_first_byte_ms": 120,
        "faults": {"slow_first_byte": 1.0}
    }));
    let started = Instant::now();
    let reply = chat(&app, simple("Take your time.")).await;
    assert!(started.elapsed() >= Duration::from_millis(120));
    assert_eq!(reply.status, StatusCode::OK);
    // A slow response is still a successful, billed generation.
    assert_eq!(stats(&app).await["billed"]["requests"], 1);

    let app = server_with(json!({"latency_ms": {"min": 40, "max": 60}}));
    let started = Instant::now();
    assert_eq!(chat(&app, simple("Hi.")).await.status, StatusCode::OK);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(40), "{elapsed:?}");
}

#[tokio::test]
async fn fault_sequences_are_deterministic_per_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let app = server_with(json!({"seed": seed, "faults": {"server_500": 0.5}}));
        let mut out = Vec::new();
        for _ in 0..24 {
            out.push(chat(&app, simple("Roll the dice.")).await.status.as_u16());
        }
        out
    }
    let first = statuses(7).await;
    assert_eq!(first, statuses(7).await);
    assert_ne!(first, statuses(8).await);
    assert!(first.contains(&200) && first.contains(&500), "{first:?}");
}

#[tokio::test]
async fn rpm_limit_rejects_a_burst_with_retry_headers() {
    let app = server_with(json!({"rpm": 60, "stream_chunk_delay_ms": 0}));
    let first = chat(&app, simple("One.")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("x-ratelimit-limit-requests"), Some("60"));
    assert_eq!(first.header("x-ratelimit-remaining-requests"), Some("0"));
    assert_eq!(first.header("x-ratelimit-reset-requests"), Some("1s"));
    assert!(first.header("x-ratelimit-limit-tokens").is_none());

    let second = chat(&app, simple("Two.")).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(second.json()["error"]["code"], "rate_limit_exceeded");
    assert_eq!(second.header("retry-after"), Some("1"));
    let retry_ms: u64 = second.header("retry-after-ms").unwrap().parse().unwrap();
    assert!((900..=1000).contains(&retry_ms), "{retry_ms}");
    assert_eq!(second.header("x-ratelimit-remaining-requests"), Some("0"));
    assert!(second.header("x-ratelimit-reset-requests").is_some());

    let stats = stats(&app).await;
    assert_eq!(stats["status"]["200"], 1);
    assert_eq!(stats["status"]["429"], 1);
    assert_eq!(stats["billed"]["requests"], 1);

    // A reset refills the buckets.
    send(&app, post_raw("/_sandbox/reset", None, "")).await;
    assert_eq!(chat(&app, simple("Three.")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn tpm_limit_charges_prompt_plus_max_tokens() {
    // 6000 tokens per minute: a bucket of 100 tokens refilling 100 per second.
    let app = server_with(json!({"tpm": 6000, "stream_chunk_delay_ms": 0}));
    let mut body = simple("Hi."); // 2 + 4 + 2 = 8 prompt tokens.
    body["max_tokens"] = json!(40);
    let first = chat(&app, body.clone()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("x-ratelimit-limit-tokens"), Some("6000"));
    assert_eq!(first.header("x-ratelimit-remaining-tokens"), Some("52"));
    assert_eq!(first.header("x-ratelimit-reset-tokens"), Some("480ms"));
    assert!(first.header("x-ratelimit-limit-requests").is_none());
    assert_eq!(chat(&app, body.clone()).await.status, StatusCode::OK);
    let third = chat(&app, body).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_ms: u64 = third.header("retry-after-ms").unwrap().parse().unwrap();
    assert!((1..=440).contains(&retry_ms), "{retry_ms}");
    assert_eq!(third.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn cors_preflight_exposes_rate_limit_headers() {
    let app = server();
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/v1/chat/completions")
        .header("origin", "http://localhost:8080")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, preflight).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let methods = reply.header("access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "OPTIONS"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = reply
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));

    let response = send(
        &app,
        Request::get("/v1/models")
            .header("origin", "http://localhost:8080")
            .header("authorization", format!("Bearer {KEY}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let exposed = response
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for name in sandbox::EXPOSED_HEADERS {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }

    let stats = stats(&app).await;
    assert_eq!(
        stats["requests"],
        json!({"GET /v1/models": 1}),
        "preflights are not counted"
    );
}

#[tokio::test]
async fn stats_count_requests_billing_and_duplicates() {
    let app = server();
    send(&app, get("/v1/models", Some(KEY))).await;
    send(&app, get("/v1/models", None)).await;
    let a = chat(&app, simple("Scene one.")).await.json();
    let b = chat(&app, simple("Scene one.")).await.json();
    let c = chat(
        &app,
        json!({"model": "deepseek-v3.2", "messages": [{"role": "user", "content": "Scene two."}]}),
    )
    .await
    .json();
    // The same JSON with different spacing is a different body, not a duplicate.
    send(
        &app,
        post_raw(
            "/v1/chat/completions",
            Some(KEY),
            r#"{"model":"gpt-4.1", "messages":[{"role":"user","content":"Scene one."}]}"#,
        ),
    )
    .await;
    chat(
        &app,
        json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;

    let stats = stats(&app).await;
    assert_eq!(stats["requests"]["GET /v1/models"], 2);
    assert_eq!(stats["requests"]["POST /v1/chat/completions"], 5);
    assert_eq!(stats["status"]["200"], 5);
    assert_eq!(stats["status"]["401"], 1);
    assert_eq!(stats["status"]["404"], 1);
    let billed = &stats["billed"];
    assert_eq!(billed["requests"], 4);
    let tokens = |r: &Value, f: &str| r["usage"][f].as_u64().unwrap();
    let prompt = 3 * tokens(&a, "prompt_tokens") + tokens(&c, "prompt_tokens");
    assert_eq!(billed["prompt_tokens"], prompt);
    let completion = tokens(&a, "completion_tokens")
        + tokens(&b, "completion_tokens")
        + tokens(&a, "completion_tokens")
        + tokens(&c, "completion_tokens");
    assert_eq!(billed["completion_tokens"], completion);
    assert_eq!(billed["total_tokens"], prompt + completion);
    assert_eq!(billed["cached_tokens"], 0);
    assert_eq!(billed["by_model"]["gpt-4.1"]["requests"], 3);
    assert_eq!(billed["by_model"]["deepseek-v3.2"]["requests"], 1);
    assert_eq!(
        billed["by_model"]["deepseek-v3.2"]["total_tokens"],
        tokens(&c, "total_tokens")
    );
    assert_eq!(stats["duplicates"], 1);

    // A completed stream is billed; control routes are not counted.
    let mut body = simple("Scene three.");
    body["stream"] = json!(true);
    chat(&app, body).await;
    let after = self::stats(&app).await;
    assert_eq!(after["billed"]["requests"], 5);
    assert!(after["requests"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.contains("/_sandbox")));

    let reset = send(&app, post_raw("/_sandbox/reset", None, ""))
        .await
        .json();
    assert_eq!(reset["billed"]["requests"], 0);
    let cleared = self::stats(&app).await;
    assert_eq!(cleared["requests"], json!({}));
    assert_eq!(cleared["duplicates"], 0);
    assert_eq!(cleared["billed"]["by_model"], json!({}));
}

/// Plausible character-bible text of exactly `tokens` sandbox tokens.
fn bible(tokens: u64) -> String {
    let names = [
        "Lin Xia",
        "Chen Mo",
        "the stepmother",
        "Aunt Qiu",
        "Zhou Yan",
    ];
    let traits = [
        "hides her past behind a calm smile",
        "never raises his voice in the boardroom",
        "schemes over tea in every episode",
        "keeps the old family ledger locked away",
        "owes the heiress a debt from childhood",
    ];
    let mut text = String::new();
    let mut line = 0;
    while count_tokens(&text) < tokens {
        let (name, trait_) = (
            names[line % names.len()],
            traits[line / names.len() % traits.len()],
        );
        text.push_str(&format!("Rule {line}: {name} {trait_}. "));
        line += 1;
    }
    truncate_tokens(&text, tokens).to_owned()
}

fn cached(reply: &Value) -> u64 {
    reply["usage"]["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap()
}

fn prompt_tokens(reply: &Value) -> u64 {
    reply["usage"]["prompt_tokens"].as_u64().unwrap()
}

/// The longest cache boundary (1,024 + 128·k) in `tokens`, or 0.
fn boundary(tokens: u64) -> u64 {
    if tokens < 1024 {
        0
    } else {
        1024 + (tokens - 1024) / 128 * 128
    }
}

fn with_system(model: &str, system: &str, question: &str) -> Value {
    json!({"model": model, "messages": [
        {"role": "system", "content": system},
        {"role": "user", "content": question}
    ]})
}

#[tokio::test]
async fn prompts_under_1024_tokens_are_never_cached() {
    let app = server();
    let body = with_system("gpt-4.1", &bible(1000), "Episode 1?");
    let first = chat(&app, body.clone()).await.json();
    assert!(prompt_tokens(&first) < 1024, "{}", prompt_tokens(&first));
    let second = chat(&app, body).await.json();
    assert_eq!(cached(&first), 0);
    assert_eq!(cached(&second), 0);
    assert_eq!(stats(&app).await["billed"]["cached_tokens"], 0);
}

#[tokio::test]
async fn a_repeated_prompt_caches_its_longest_128_token_step() {
    let app = server();
    let system = bible(1290);
    let body = with_system("deepseek-v3.2", &system, "Episode 1?");
    let first = chat(&app, body.clone()).await.json();
    assert_eq!(cached(&first), 0);
    assert_eq!(first["usage"]["prompt_cache_hit_tokens"], 0);
    let second = chat(&app, body).await.json();
    let (prompt, hit) = (prompt_tokens(&second), cached(&second));
    assert!((1280..1408).contains(&prompt), "{prompt}");
    assert_eq!(hit, boundary(prompt));
    assert!(
        hit >= 1024 && (hit - 1024) % 128 == 0 && hit <= prompt,
        "{hit}"
    );
    let usage = &second["usage"];
    assert_eq!(usage["prompt_cache_hit_tokens"], hit);
    assert_eq!(usage["prompt_cache_miss_tokens"], prompt - hit);
    assert_eq!(stats(&app).await["billed"]["cached_tokens"], hit);

    // A reset empties the cache.
    send(&app, post_raw("/_sandbox/reset", None, "")).await;
    let again = chat(&app, with_system("deepseek-v3.2", &system, "Episode 1?")).await;
    assert_eq!(cached(&again.json()), 0);
}

#[tokio::test]
async fn a_changed_ending_keeps_the_earlier_boundary() {
    let app = server();
    let system = bible(1200);
    let question = |topic: &str| format!("{topic} {}", bible(100));
    let first = chat(&app, with_system("gpt-4.1", &system, &question("Storm"))).await;
    let first = first.json();
    assert_eq!(cached(&first), 0);
    // The same system prompt; only the last 100-odd tokens differ.
    let second = chat(&app, with_system("gpt-4.1", &system, &question("Flood"))).await;
    let second = second.json();
    assert_eq!(prompt_tokens(&first), prompt_tokens(&second));
    // Shared: the system message with its framing and the user message's
    // three leading framing tokens.
    let shared = count_tokens(&system) + 4 + 3;
    assert_eq!(cached(&second), boundary(shared));
    assert!(cached(&second) >= 1024 && cached(&second) < boundary(prompt_tokens(&second)));

    // The same text as a user message is another prefix.
    let as_user = json!({"model": "gpt-4.1", "messages": [
        {"role": "user", "content": system},
        {"role": "user", "content": question("Storm")}
    ]});
    assert_eq!(cached(&chat(&app, as_user).await.json()), 0);
}

#[tokio::test]
async fn another_model_does_not_share_the_cache() {
    let app = server();
    let system = bible(1300);
    chat(&app, with_system("gpt-4.1", &system, "Episode 1?")).await;
    let other = chat(&app, with_system("gpt-4.1-mini", &system, "Episode 1?")).await;
    assert_eq!(cached(&other.json()), 0);
    let same = chat(&app, with_system("gpt-4.1", &system, "Episode 1?")).await;
    let same = same.json();
    assert_eq!(cached(&same), boundary(prompt_tokens(&same)));
}

#[tokio::test]
async fn a_prompt_refused_before_generation_is_not_remembered() {
    let app = server();
    let system = bible(1300);
    set_config(&app, json!({"faults": {"server_500": 1.0}})).await;
    let refused = chat(&app, with_system("gpt-4.1", &system, "Episode 1?")).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    set_config(&app, json!({"stream_chunk_delay_ms": 0})).await;
    let first = chat(&app, with_system("gpt-4.1", &system, "Episode 1?")).await;
    assert_eq!(cached(&first.json()), 0);
}

#[tokio::test]
async fn config_routes_replace_and_report_the_config() {
    let app = server();
    let current = send(&app, get("/_sandbox/config", None)).await;
    assert_eq!(current.status, StatusCode::OK);
    assert_eq!(current.json()["stream_chunk_delay_ms"], 0);

    let set = set_config(&app, json!({"rpm": 120, "faults": {"server_500": 0.25}})).await;
    assert_eq!(set.status, StatusCode::OK);
    let config = set.json();
    assert_eq!(config["rpm"], 120);
    assert_eq!(config["tpm"], Value::Null);
    assert_eq!(config["faults"]["server_500"], 0.25);
    assert_eq!(config["faults"]["rate_limit"], 0.0);
    // Unspecified fields take their defaults, not their previous values.
    assert_eq!(config["stream_chunk_delay_ms"], 8);
    assert_eq!(config["latency_ms"], json!({"min": 0, "max": 0}));
    assert_eq!(config["slow_first_byte_ms"], 3000);
    assert_eq!(config["seed"], 1);
    assert_eq!(
        send(&app, get("/_sandbox/config", None)).await.json(),
        config
    );

    let bad = set_config(&app, json!({"faults": {"server_500": 2.0}})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["type"], "invalid_request_error");
    let typo = set_config(&app, json!({"rmp": 5})).await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    // A rejected config leaves the old one in force.
    assert_eq!(
        send(&app, get("/_sandbox/config", None)).await.json(),
        config
    );
}
