//! `POST /v1/messages`, Anthropic's Messages API, against a real TCP server (`axum::serve`, like
//! the binary) with the raw HTTP/1.1 client of `common`: headers, validation, the JSON reply,
//! the SSE event sequence, errors and faults, prompt caching with `cache_control`, and the
//! billing statistics.

use std::time::Duration;

use sandbox::messages::{MIN_CACHEABLE_TOKENS, MIN_CACHEABLE_TOKENS_HAIKU};
use sandbox::tokens::{count_tokens, TOKENS_PER_MESSAGE, TOKENS_PER_REQUEST};
use sandbox::BillingMode::{self, Complete, Real};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

mod common;
use common::{TcpServer, Wire, KEY, WRONG_KEY};

const WAIT: Duration = Duration::from_secs(5);
const MODEL: &str = "claude-sonnet-4-5";
const VERSION: &str = "2023-06-01";

/// Sends `POST path` with `headers` (name, value) and `body`, and reads the reply.
async fn post(server: &TcpServer, path: &str, headers: &[(&str, &str)], body: &str) -> Wire {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut request = format!("POST {path} HTTP/1.1\r\nHost: {}\r\n", server.addr);
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).await.unwrap();
    Wire::read(stream, WAIT).await
}

/// A Messages request with the test key and version.
async fn messages(server: &TcpServer, body: &Value) -> Wire {
    let headers = [("x-api-key", KEY), ("anthropic-version", VERSION)];
    post(server, "/v1/messages", &headers, &body.to_string()).await
}

fn body_json(wire: &Wire) -> Value {
    serde_json::from_str(&wire.text()).unwrap_or_else(|e| panic!("{e}: {}", wire.text()))
}

fn user(text: &str) -> Value {
    json!({"model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": text}]})
}

async fn server(config: Value, billing: BillingMode) -> TcpServer {
    let mut config = config;
    config["stream_chunk_delay_ms"] = json!(0);
    TcpServer::start(config, billing).await
}

/// The (event, data) pairs of an SSE body.
fn events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|event| {
            let mut name = String::new();
            let mut data = Value::Null;
            for line in event.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).unwrap_or(Value::String(d.to_owned()));
                }
            }
            (name, data)
        })
        .collect()
}

fn assert_error(wire: &Wire, status: u16, kind: &str) -> Value {
    assert_eq!(wire.status(), Some(status), "{}", wire.text());
    let body = body_json(wire);
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body
}

#[tokio::test]
async fn a_reply_has_the_message_shape_and_is_billed() {
    let server = server(json!({}), Complete).await;
    let wire = messages(&server, &user("Write a line for the heroine.")).await;
    assert_eq!(wire.status(), Some(200), "{}", wire.text());
    assert!(wire
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(wire.header("request-id").unwrap().starts_with("req_"));
    let reply = body_json(&wire);
    assert!(reply["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(reply["type"], "message");
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["model"], MODEL);
    assert_eq!(reply["content"][0]["type"], "text");
    let text = reply["content"][0]["text"].as_str().unwrap();
    assert_eq!(reply["stop_reason"], "end_turn");
    assert!(reply["stop_sequence"].is_null());
    let usage = &reply["usage"];
    let prompt =
        count_tokens("Write a line for the heroine.") + TOKENS_PER_MESSAGE + TOKENS_PER_REQUEST;
    assert_eq!(usage["input_tokens"], prompt);
    assert_eq!(usage["output_tokens"], count_tokens(text));
    assert_eq!(usage["cache_creation_input_tokens"], 0);
    assert_eq!(usage["cache_read_input_tokens"], 0);

    let stats = server.stats_when(|s| s["billed"]["requests"] == 1).await;
    assert_eq!(stats["requests"]["POST /v1/messages"], 1);
    let billed = &stats["billed"];
    assert_eq!(billed["prompt_tokens"], prompt);
    assert_eq!(billed["completion_tokens"], count_tokens(text));
    assert_eq!(billed["cache_creation_tokens"], 0);
    assert_eq!(billed["by_model"][MODEL]["requests"], 1);
    assert_eq!(billed["by_key"]["sk-…cdef"]["requests"], 1);

    // The same request again is the same reply, and a duplicate.
    let again = body_json(&messages(&server, &user("Write a line for the heroine.")).await);
    assert_eq!(again["content"], reply["content"]);
    let stats = server.stats_when(|s| s["billed"]["requests"] == 2).await;
    assert_eq!(stats["duplicates"], 1);

    // max_tokens cuts the reply.
    let mut short = user("Write a line for the heroine.");
    short["max_tokens"] = json!(3);
    let cut = body_json(&messages(&server, &short).await);
    assert_eq!(cut["stop_reason"], "max_tokens");
    assert_eq!(cut["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn keys_and_versions_are_checked() {
    let server = server(json!({}), Complete).await;
    let body = user("hi").to_string();
    let missing = post(
        &server,
        "/v1/messages",
        &[("anthropic-version", VERSION)],
        &body,
    )
    .await;
    let error = assert_error(&missing, 401, "authentication_error");
    assert_eq!(error["error"]["message"], "x-api-key header is required");
    let wrong = [("x-api-key", WRONG_KEY), ("anthropic-version", VERSION)];
    let wrong = post(&server, "/v1/messages", &wrong, &body).await;
    assert_error(&wrong, 401, "authentication_error");
    assert!(!wrong.text().contains(WRONG_KEY));
    let bearer = format!("Bearer {KEY}");
    let relay = [
        ("authorization", bearer.as_str()),
        ("anthropic-version", VERSION),
    ];
    assert_eq!(
        post(&server, "/v1/messages", &relay, &body).await.status(),
        Some(200)
    );
    let unversioned = post(&server, "/v1/messages", &[("x-api-key", KEY)], &body).await;
    let error = assert_error(&unversioned, 400, "invalid_request_error");
    assert_eq!(
        error["error"]["message"],
        "anthropic-version: header is required"
    );
    let odd = [("x-api-key", KEY), ("anthropic-version", "latest")];
    assert_error(
        &post(&server, "/v1/messages", &odd, &body).await,
        400,
        "invalid_request_error",
    );
    assert_eq!(server.stats()["billed"]["requests"], 1);
}

#[tokio::test]
async fn requests_are_validated_as_anthropic_does() {
    let server = server(json!({}), Complete).await;
    let cases = [
        json!({"model": MODEL, "messages": [{"role": "user", "content": "a"}]}),
        json!({"max_tokens": 5, "messages": [{"role": "user", "content": "a"}]}),
        json!({"model": MODEL, "max_tokens": 0, "messages": [{"role": "user", "content": "a"}]}),
        json!({"model": MODEL, "max_tokens": 5, "messages": []}),
        json!({"model": MODEL, "max_tokens": 5, "messages": [
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}),
        json!({"model": MODEL, "max_tokens": 5, "messages": [{"role": "assistant", "content": "a"}]}),
        json!({"model": MODEL, "max_tokens": 5, "system": 3, "messages": [{"role": "user", "content": "a"}]}),
        json!({"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": 7}]}),
        json!({"model": MODEL, "max_tokens": 5, "temperature": 1.5,
               "messages": [{"role": "user", "content": "a"}]}),
        json!({"model": MODEL, "max_tokens": 5, "stream_options": {"include_usage": true},
               "messages": [{"role": "user", "content": "a"}]}),
    ];
    for case in &cases {
        assert_error(&messages(&server, case).await, 400, "invalid_request_error");
    }
    let breakpoint = json!({"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}});
    let five = json!({"model": MODEL, "max_tokens": 5, "system": [breakpoint, breakpoint, breakpoint],
        "messages": [{"role": "user", "content": [breakpoint, breakpoint]}]});
    let error = assert_error(
        &messages(&server, &five).await,
        400,
        "invalid_request_error",
    );
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("maximum of 4"));
    let unknown = json!({"model": "claude-nope", "max_tokens": 5,
        "messages": [{"role": "user", "content": "a"}]});
    let error = assert_error(&messages(&server, &unknown).await, 404, "not_found_error");
    assert_eq!(error["error"]["message"], "model: claude-nope");
    // A system array of text blocks, block content and a final assistant turn are fine.
    let fine = json!({"model": MODEL, "max_tokens": 50,
        "system": [{"type": "text", "text": "You write short dramas."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}]},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Go on"}]});
    assert_eq!(messages(&server, &fine).await.status(), Some(200));
    assert_eq!(server.stats()["billed"]["requests"], 1);
}

#[tokio::test]
async fn a_stream_sends_the_real_event_sequence() {
    let server = server(json!({}), Real).await;
    let plain = body_json(&messages(&server, &user("Tell me the twist.")).await);
    let mut body = user("Tell me the twist.");
    body["stream"] = json!(true);
    let wire = messages(&server, &body).await;
    assert_eq!(wire.status(), Some(200));
    assert!(wire
        .header("content-type")
        .unwrap()
        .starts_with("text/event-stream"));
    let events = events(&wire.text());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..3],
        ["message_start", "content_block_start", "ping"]
    );
    assert_eq!(
        &names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str(), "{data}");
    }
    let start = &events[0].1["message"];
    assert_eq!(start["type"], "message");
    assert_eq!(start["role"], "assistant");
    assert_eq!(start["content"], json!([]));
    assert_eq!(
        start["usage"]["input_tokens"],
        plain["usage"]["input_tokens"]
    );
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, d)| {
            assert_eq!(d["delta"]["type"], "text_delta");
            d["delta"]["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(text, plain["content"][0]["text"].as_str().unwrap());
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(
        delta["usage"]["output_tokens"],
        plain["usage"]["output_tokens"]
    );

    let stats = server
        .stats_when(|s| s["billed"]["requests"] == 2 && s["billed"]["incomplete"] == 0)
        .await;
    let output = plain["usage"]["output_tokens"].as_u64().unwrap();
    assert_eq!(stats["billed"]["completion_tokens"], 2 * output);
}

/// A system prompt of `tokens` tokens (each "abcd " is one).
fn long_text(tokens: usize, word: &str) -> String {
    format!("{word} ").repeat(tokens)
}

fn cached_request(model: &str, system: &str, question: &str, mark: bool) -> Value {
    let mut block = json!({"type": "text", "text": system});
    if mark {
        block["cache_control"] = json!({"type": "ephemeral"});
    }
    json!({"model": model, "max_tokens": 100, "system": [block],
           "messages": [{"role": "user", "content": question}]})
}

#[tokio::test]
async fn cache_control_breakpoints_write_then_read() {
    let server = server(json!({}), Complete).await;
    let system = long_text(1100, "abcd");
    let prefix = 1100 + TOKENS_PER_MESSAGE;
    let question = |n: u32| format!("Take {n}: the heroine confronts him.");
    let rest = |n: u32| count_tokens(&question(n)) + TOKENS_PER_MESSAGE + TOKENS_PER_REQUEST;

    let first =
        body_json(&messages(&server, &cached_request(MODEL, &system, &question(1), true)).await);
    assert_eq!(
        first["usage"]["cache_creation_input_tokens"], prefix,
        "{first}"
    );
    assert_eq!(first["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(first["usage"]["input_tokens"], rest(1));
    assert_eq!(
        first["usage"]["cache_creation"]["ephemeral_5m_input_tokens"],
        prefix
    );

    let second =
        body_json(&messages(&server, &cached_request(MODEL, &system, &question(2), true)).await);
    assert_eq!(
        second["usage"]["cache_creation_input_tokens"], 0,
        "{second}"
    );
    assert_eq!(second["usage"]["cache_read_input_tokens"], prefix);
    assert_eq!(second["usage"]["input_tokens"], rest(2));

    // A streamed request reads the cache too, in message_start and message_delta.
    let mut streamed = cached_request(MODEL, &system, &question(3), true);
    streamed["stream"] = json!(true);
    let events = events(&messages(&server, &streamed).await.text());
    assert_eq!(
        events[0].1["message"]["usage"]["cache_read_input_tokens"],
        prefix
    );
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["usage"]["cache_read_input_tokens"], prefix);

    // Without a breakpoint nothing is cached, however long the prompt.
    let unmarked = body_json(
        &messages(
            &server,
            &cached_request(MODEL, &system, &question(4), false),
        )
        .await,
    );
    assert_eq!(unmarked["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(unmarked["usage"]["cache_creation_input_tokens"], 0);

    // Another model has its own cache.
    let opus = body_json(
        &messages(
            &server,
            &cached_request("claude-opus-4-1", &system, &question(5), true),
        )
        .await,
    );
    assert_eq!(opus["usage"]["cache_creation_input_tokens"], prefix);

    let stats = server.stats_when(|s| s["billed"]["requests"] == 5).await;
    let billed = &stats["billed"];
    assert_eq!(billed["cached_tokens"], 2 * prefix);
    assert_eq!(billed["cache_creation_tokens"], 2 * prefix);
    let prompts = (1..=5).map(|n| prefix + rest(n)).sum::<u64>();
    assert_eq!(billed["prompt_tokens"], prompts);
    assert_eq!(billed["by_model"][MODEL]["cached_tokens"], 2 * prefix);
    assert_eq!(
        billed["by_model"]["claude-opus-4-1"]["cache_creation_tokens"],
        prefix
    );

    // A reset empties the cache.
    server.state.reset();
    let after =
        body_json(&messages(&server, &cached_request(MODEL, &system, &question(2), true)).await);
    assert_eq!(after["usage"]["cache_creation_input_tokens"], prefix);
}

#[tokio::test]
async fn prefixes_under_the_minimum_are_not_cached() {
    assert_eq!(
        (MIN_CACHEABLE_TOKENS, MIN_CACHEABLE_TOKENS_HAIKU),
        (1024, 2048)
    );
    let server = server(json!({}), Complete).await;
    // 1,019 + 4 = 1,023 tokens: one short of the minimum.
    let short = long_text(1019, "abcd");
    for n in 0..2 {
        let body = cached_request(MODEL, &short, &format!("Question {n}"), true);
        let reply = body_json(&messages(&server, &body).await);
        assert_eq!(reply["usage"]["cache_creation_input_tokens"], 0, "{reply}");
        assert_eq!(reply["usage"]["cache_read_input_tokens"], 0, "{reply}");
        assert_eq!(
            reply["usage"]["input_tokens"],
            reply["usage"]["input_tokens"]
        );
    }
    // 1,020 + 4 = 1,024 is enough for Sonnet, not for Haiku (2,048).
    let enough = long_text(1020, "wxyz");
    let sonnet = body_json(&messages(&server, &cached_request(MODEL, &enough, "q", true)).await);
    assert_eq!(sonnet["usage"]["cache_creation_input_tokens"], 1024);
    for _ in 0..2 {
        let haiku = body_json(
            &messages(
                &server,
                &cached_request("claude-haiku-4-5", &enough, "q", true),
            )
            .await,
        );
        assert_eq!(haiku["usage"]["cache_creation_input_tokens"], 0, "{haiku}");
        assert_eq!(haiku["usage"]["cache_read_input_tokens"], 0, "{haiku}");
    }
    let haiku_long = long_text(2100, "wxyz");
    let haiku = body_json(
        &messages(
            &server,
            &cached_request("claude-haiku-4-5", &haiku_long, "q", true),
        )
        .await,
    );
    assert_eq!(haiku["usage"]["cache_creation_input_tokens"], 2104);
}

#[tokio::test]
async fn a_later_breakpoint_reads_the_earlier_prefix_and_writes_the_rest() {
    let server = server(json!({}), Complete).await;
    let bible = long_text(1200, "abcd");
    let scene = long_text(300, "wxyz");
    let mark = json!({"type": "ephemeral"});
    let body = |question: &str, with_scene: bool| {
        let mut system = vec![json!({"type": "text", "text": bible, "cache_control": mark})];
        if with_scene {
            system.push(json!({"type": "text", "text": scene, "cache_control": mark}));
        }
        json!({"model": MODEL, "max_tokens": 50, "system": system,
               "messages": [{"role": "user", "content": question}]})
    };
    let first = body_json(&messages(&server, &body("one", false)).await);
    assert_eq!(first["usage"]["cache_creation_input_tokens"], 1204);
    let second = body_json(&messages(&server, &body("two", true)).await);
    assert_eq!(second["usage"]["cache_read_input_tokens"], 1204, "{second}");
    assert_eq!(second["usage"]["cache_creation_input_tokens"], 300);
    let third = body_json(&messages(&server, &body("three", true)).await);
    assert_eq!(third["usage"]["cache_read_input_tokens"], 1504, "{third}");
    assert_eq!(third["usage"]["cache_creation_input_tokens"], 0);
}

#[tokio::test]
async fn faults_answer_as_messages_errors() {
    let cases = [
        ("server_503", 529, "overloaded_error"),
        ("rate_limit", 429, "rate_limit_error"),
        ("server_500", 500, "api_error"),
        ("insufficient_quota", 400, "invalid_request_error"),
        ("retry_after_date", 429, "rate_limit_error"),
        ("try_again_message", 429, "rate_limit_error"),
    ];
    for (fault, status, kind) in cases {
        let server = server(json!({"faults": {fault: 1.0}}), Real).await;
        let wire = messages(&server, &user("hi")).await;
        assert_error(&wire, status, kind);
        match fault {
            "rate_limit" => assert_eq!(wire.header("retry-after").as_deref(), Some("1")),
            "retry_after_date" => assert!(wire.header("retry-after").unwrap().ends_with("GMT")),
            "try_again_message" => assert!(wire.header("retry-after").is_none()),
            _ => {}
        }
        assert!(wire.header("retry-after-ms").is_none());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(server.stats()["billed"]["requests"], 0, "{fault}");
    }
    // A forced fault directive works here too.
    let server = server(json!({}), Complete).await;
    let wire = messages(&server, &user("hi [[sandbox:fault=server_503]]")).await;
    assert_error(&wire, 529, "overloaded_error");
}

#[tokio::test]
async fn a_mid_stream_error_is_an_error_event() {
    let server = server(json!({"faults": {"stream_error_event": 1.0}}), Real).await;
    let mut body = user("hi");
    body["stream"] = json!(true);
    let wire = messages(&server, &body).await;
    assert_eq!(wire.status(), Some(200));
    let events = events(&wire.text());
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(data["type"], "error");
    assert_eq!(data["error"]["type"], "overloaded_error");
    assert!(!events.iter().any(|(n, _)| n == "message_stop"));
    let deltas = events
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .count() as u64;
    assert!(deltas > 0);
    let stats = server
        .stats_when(|s| s["billed"]["requests"] == 1 && s["billed"]["incomplete"] == 1)
        .await;
    assert_eq!(stats["billed"]["completion_tokens"], deltas);

    // Not streaming, the same fault is a 500 api_error.
    let wire = messages(&server, &user("hi")).await;
    assert_error(&wire, 500, "api_error");
}

#[tokio::test]
async fn limits_send_anthropic_headers_and_429s() {
    let server = server(json!({"rpm": 60}), Complete).await;
    let first = messages(&server, &user("hi")).await;
    assert_eq!(first.status(), Some(200));
    assert_eq!(
        first
            .header("anthropic-ratelimit-requests-limit")
            .as_deref(),
        Some("60")
    );
    assert_eq!(
        first
            .header("anthropic-ratelimit-requests-remaining")
            .as_deref(),
        Some("0")
    );
    let reset = first.header("anthropic-ratelimit-requests-reset").unwrap();
    assert!(reset.ends_with('Z') && reset.contains('T'), "{reset}");
    assert!(first.header("x-ratelimit-limit-requests").is_none());
    let second = messages(&server, &user("hi")).await;
    assert_error(&second, 429, "rate_limit_error");
    assert_eq!(second.header("retry-after").as_deref(), Some("1"));
    assert_eq!(
        second
            .header("anthropic-ratelimit-requests-remaining")
            .as_deref(),
        Some("0")
    );
}

#[tokio::test]
async fn browsers_may_send_the_anthropic_headers() {
    let server = server(json!({}), Complete).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "OPTIONS /v1/messages HTTP/1.1\r\nHost: {}\r\nOrigin: http://127.0.0.1:8080\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: \
         x-api-key,anthropic-version,anthropic-dangerous-direct-browser-access,content-type\r\n\
         Content-Length: 0\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let wire = Wire::read(stream, WAIT).await;
    assert_eq!(wire.status(), Some(200));
    let allowed = wire
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    for name in [
        "x-api-key",
        "anthropic-version",
        "anthropic-dangerous-direct-browser-access",
    ] {
        assert!(allowed.contains(name), "{allowed}");
    }
    // A real request with the opt-in header answers with the exposed rate-limit headers.
    let headers = [
        ("x-api-key", KEY),
        ("anthropic-version", VERSION),
        ("anthropic-dangerous-direct-browser-access", "true"),
        ("origin", "http://127.0.0.1:8080"),
    ];
    let wire = post(&server, "/v1/messages", &headers, &user("hi").to_string()).await;
    assert_eq!(wire.status(), Some(200));
    let exposed = wire.header("access-control-expose-headers").unwrap();
    assert!(
        exposed.contains("anthropic-ratelimit-requests-remaining"),
        "{exposed}"
    );
}

/// Sends `GET path` with `headers`.
async fn get(server: &TcpServer, path: &str, headers: &[(&str, &str)]) -> Wire {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", server.addr);
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    Wire::read(stream, WAIT).await
}

#[tokio::test]
async fn models_are_listed_in_anthropics_shape_for_anthropic_clients() {
    let server = server(json!({}), Complete).await;
    let headers = [("x-api-key", KEY), ("anthropic-version", VERSION)];
    let list = body_json(&get(&server, "/v1/models", &headers).await);
    assert_eq!(list["has_more"], false);
    let data = list["data"].as_array().unwrap();
    assert!(data.iter().any(|m| m["id"] == MODEL));
    assert_eq!(list["first_id"], data[0]["id"]);
    for model in data {
        assert_eq!(model["type"], "model");
        assert!(model["created_at"].as_str().unwrap().ends_with('Z'));
        assert!(model["display_name"].is_string());
    }
    let one = body_json(&get(&server, &format!("/v1/models/{MODEL}"), &headers).await);
    assert_eq!(one["id"], MODEL);
    let none = get(&server, "/v1/models/nope", &headers).await;
    assert_error(&none, 404, "not_found_error");
    let wrong = [("x-api-key", WRONG_KEY), ("anthropic-version", VERSION)];
    assert_error(
        &get(&server, "/v1/models", &wrong).await,
        401,
        "authentication_error",
    );
    // A bearer key alone still gets OpenAI's list.
    let bearer = format!("Bearer {KEY}");
    let openai = body_json(&get(&server, "/v1/models", &[("authorization", &bearer)]).await);
    assert_eq!(openai["object"], "list");
}

/// As at Anthropic, a cache entry is readable only once the response of the request that
/// wrote it has begun: two requests sent together both write (and pay 1.25×), a third sent
/// after the first answered reads.
#[tokio::test]
async fn requests_sent_together_both_miss_the_cache_they_write() {
    let server = server(json!({"latency_ms": {"min": 300, "max": 300}}), Complete).await;
    let system = long_text(1100, "efgh");
    let prefix = 1100 + TOKENS_PER_MESSAGE;
    let (one, two) = (
        cached_request(MODEL, &system, "Take 1.", true),
        cached_request(MODEL, &system, "Take 2.", true),
    );
    let (a, b) = tokio::join!(messages(&server, &one), messages(&server, &two));
    for take in [body_json(&a), body_json(&b)] {
        assert_eq!(take["usage"]["cache_read_input_tokens"], 0, "{take}");
        assert_eq!(
            take["usage"]["cache_creation_input_tokens"], prefix,
            "{take}"
        );
    }
    let third =
        body_json(&messages(&server, &cached_request(MODEL, &system, "Take 3.", true)).await);
    assert_eq!(third["usage"]["cache_read_input_tokens"], prefix, "{third}");
    assert_eq!(third["usage"]["cache_creation_input_tokens"], 0, "{third}");
}
