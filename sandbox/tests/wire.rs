//! The faults that break a connection, `real` billing, per-key billing, the control token and
//! the exposed headers. The connection-level behaviour is checked against a real TCP server
//! (`axum::serve`, like the binary) with a raw HTTP/1.1 client that sees exactly what went
//! over the wire.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use sandbox::error::GENERATION_ERROR_MESSAGE;
use sandbox::limits::http_date;
use sandbox::tokens::prompt_tokens;
use sandbox::BillingMode::{self, Complete, Real};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

mod common;
use common::{app_with, send, End, TcpServer, Wire, CONTROL_TOKEN, KEY, OTHER_KEY, WRONG_KEY};

const PROMPT: &str = "Trigger a fault.";
/// The default reply length.
const FULL: u64 = 60;
/// What the mid-stream faults keep of a 60-token stream: the role chunk and 30 tokens (the
/// first half of role, 60 tokens and the finish chunk).
const HALF: u64 = 30;
const WAIT: Duration = Duration::from_secs(5);

fn prompt() -> u64 {
    prompt_tokens([PROMPT])
}

fn chat_body(text: &str, stream: bool) -> Value {
    json!({"model": "gpt-4.1", "messages": [{"role": "user", "content": text}], "stream": stream})
}

/// A TCP server where `fault` always happens, with no pacing and a short hang.
async fn faulted(fault: &str, billing: BillingMode) -> TcpServer {
    TcpServer::start(
        json!({"stream_chunk_delay_ms": 0, "hang_ms": 300, "faults": {fault: 1.0}}),
        billing,
    )
    .await
}

/// The SSE events of a body (the text between blank lines).
fn events(text: &str) -> Vec<&str> {
    text.split("\n\n").filter(|e| !e.is_empty()).collect()
}

/// The `data:` events that carry a content token.
fn token_events(text: &str) -> usize {
    events(text)
        .iter()
        .filter_map(|e| e.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        })
        .count()
}

/// Waits until the request is billed and settled (its bill closed), and checks the totals.
async fn assert_billed(server: &TcpServer, completion: u64, incomplete: u64) -> Value {
    let stats = server
        .stats_when(|s| s["billed"]["requests"] == 1 && s["billed"]["incomplete"] == incomplete)
        .await;
    let billed = &stats["billed"];
    assert_eq!(billed["prompt_tokens"], prompt(), "{stats}");
    assert_eq!(billed["completion_tokens"], completion, "{stats}");
    assert_eq!(billed["total_tokens"], prompt() + completion, "{stats}");
    assert_eq!(billed["by_model"]["gpt-4.1"]["requests"], 1);
    assert_eq!(
        billed["by_key"]["sk-…cdef"]["completion_tokens"],
        completion
    );
    assert_eq!(billed["by_key"]["sk-…cdef"]["incomplete"], incomplete);
    stats
}

/// Gives a bill time to appear, then checks there is none.
async fn assert_not_billed(server: &TcpServer) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stats = server.stats();
    assert_eq!(stats["billed"]["requests"], 0, "{stats}");
    assert_eq!(stats["billed"]["total_tokens"], 0, "{stats}");
    assert_eq!(stats["billed"]["incomplete"], 0, "{stats}");
}

#[tokio::test]
async fn control_routes_need_the_control_token() {
    let app = app_with(&json!({}));
    let request = |method: Method, path: &str, token: Option<&str>| {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("x-sandbox-control", token);
        }
        builder.body(Body::empty()).unwrap()
    };
    for (method, path) in [
        (Method::GET, "/_sandbox/stats"),
        (Method::GET, "/_sandbox/config"),
        (Method::POST, "/_sandbox/config"),
        (Method::POST, "/_sandbox/reset"),
        (Method::GET, "/_sandbox/unknown"),
    ] {
        for token in [None, Some(WRONG_KEY), Some("")] {
            let reply = send(&app, request(method.clone(), path, token)).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
            let error = &reply.json()["error"];
            assert_eq!(error["type"], "invalid_request_error");
            assert_eq!(error["code"], "invalid_control_token");
            assert!(error["message"]
                .as_str()
                .unwrap()
                .contains("x-sandbox-control"));
            assert!(!reply.text().contains(WRONG_KEY));
            assert!(!reply.text().contains(CONTROL_TOKEN));
        }
    }
    let stats = send(
        &app,
        request(Method::GET, "/_sandbox/stats", Some(CONTROL_TOKEN)),
    )
    .await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.json()["billing"], "complete");
    // A refused config post changed nothing.
    let config = send(
        &app,
        request(Method::GET, "/_sandbox/config", Some(CONTROL_TOKEN)),
    )
    .await;
    assert_eq!(config.json()["stream_chunk_delay_ms"], 8);

    // Browsers may send the header: the preflight allows it.
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/_sandbox/stats")
        .header("origin", "http://localhost:8080")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-sandbox-control")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, preflight).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    let allowed = reply.header("access-control-allow-headers").unwrap();
    assert!(
        allowed.to_lowercase().contains("x-sandbox-control"),
        "{allowed}"
    );
}

#[tokio::test]
async fn timeout_after_generation_sends_nothing_and_bills_the_whole_reply() {
    for stream in [false, true] {
        let server = faulted("timeout_after_generation", Real).await;
        let wire = server.chat(KEY, &chat_body(PROMPT, stream), WAIT).await;
        assert_eq!(wire.end, End::Closed, "stream {stream}");
        assert!(
            wire.raw.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&wire.raw)
        );
        assert!(
            wire.elapsed >= Duration::from_millis(300),
            "{:?}",
            wire.elapsed
        );
        let stats = assert_billed(&server, FULL, 1).await;
        assert_eq!(stats["status"], json!({"none": 1}));
    }
    // Billing only complete replies, it costs nothing.
    let server = faulted("timeout_after_generation", Complete).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, false), WAIT).await;
    assert_eq!((wire.end, wire.raw.len()), (End::Closed, 0));
    assert_not_billed(&server).await;
}

#[tokio::test]
async fn body_dropped_sends_headers_then_aborts() {
    for (stream, content_type, completion) in [
        (true, "text/event-stream", 0),
        (false, "application/json", FULL),
    ] {
        let server = faulted("body_dropped", Real).await;
        let wire = server.chat(KEY, &chat_body(PROMPT, stream), WAIT).await;
        assert_eq!(wire.status(), Some(200), "stream {stream}");
        assert_eq!(wire.header("content-type").as_deref(), Some(content_type));
        assert_eq!(wire.end, End::Closed);
        let (body, complete) = wire.body();
        assert!(body.is_empty() && !complete, "{:?}", wire.text());
        // Generation had started: the prompt is billed, and a JSON reply in full.
        assert_billed(&server, completion, 1).await;
    }
}

#[tokio::test]
async fn reset_mid_stream_sends_half_then_aborts() {
    let server = faulted("reset_mid_stream", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, true), WAIT).await;
    assert_eq!(wire.status(), Some(200));
    assert_eq!(wire.end, End::Closed);
    let (_, complete) = wire.body();
    assert!(!complete, "no chunked terminator");
    let text = wire.text();
    assert!(text.starts_with(": keep-alive\n\n"));
    assert!(!text.contains("[DONE]") && !text.contains("finish_reason\":\"stop"));
    assert_eq!(token_events(&text), HALF as usize);
    assert_billed(&server, HALF, 1).await;

    let server = faulted("reset_mid_stream", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, false), WAIT).await;
    assert_eq!(wire.status(), Some(200));
    assert_eq!(wire.end, End::Closed);
    let (body, complete) = wire.body();
    assert!(!complete);
    assert!(
        body.starts_with(b"{\"id\":\"chatcmpl-"),
        "{:?}",
        wire.text()
    );
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    assert_billed(&server, FULL, 1).await;
}

#[tokio::test]
async fn stall_mid_stream_sends_half_then_holds_the_connection_open() {
    let server = faulted("stall_mid_stream", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, true), WAIT).await;
    assert_eq!(wire.status(), Some(200));
    assert_eq!(wire.end, End::Closed);
    assert!(!wire.body().1, "no chunked terminator");
    assert_eq!(token_events(&wire.text()), HALF as usize);
    let silence = wire.elapsed - wire.last_byte.unwrap();
    assert!(
        silence >= Duration::from_millis(250),
        "silent for {silence:?}"
    );
    assert_billed(&server, HALF, 1).await;

    // Not streaming: the headers, then nothing.
    let server = faulted("stall_mid_stream", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, false), WAIT).await;
    assert_eq!(wire.status(), Some(200));
    assert_eq!(
        wire.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(wire.end, End::Closed);
    assert!(wire.body().0.is_empty());
    assert!(
        wire.elapsed >= Duration::from_millis(300),
        "{:?}",
        wire.elapsed
    );
    assert_billed(&server, FULL, 1).await;
}

#[tokio::test]
async fn stream_error_event_ends_the_stream_with_an_error() {
    let server = faulted("stream_error_event", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, true), WAIT).await;
    assert_eq!(wire.status(), Some(200));
    assert_eq!(wire.end, End::Complete, "the stream ends normally");
    let text = wire.text();
    assert!(!text.contains("[DONE]"));
    assert_eq!(token_events(&text), HALF as usize);
    assert_eq!(
        *events(&text).last().unwrap(),
        r#"data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#
    );
    assert_billed(&server, HALF, 1).await;

    let server = faulted("stream_error_event", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, false), WAIT).await;
    assert_eq!(wire.status(), Some(500));
    let body: Value = serde_json::from_str(&wire.text()).unwrap();
    assert_eq!(
        body,
        json!({"error": {"message": GENERATION_ERROR_MESSAGE, "type": "server_error", "param": null, "code": null}})
    );
    assert_billed(&server, FULL, 1).await;
}

#[tokio::test]
async fn gateway_pages_are_html_and_not_billed() {
    for (fault, status, title) in [
        ("bad_gateway_html", 502, "502 Bad Gateway"),
        ("gateway_timeout_html", 504, "504 Gateway Time-out"),
    ] {
        for stream in [false, true] {
            let server = faulted(fault, Real).await;
            let wire = server.chat(KEY, &chat_body(PROMPT, stream), WAIT).await;
            assert_eq!(wire.status(), Some(status), "{fault}");
            assert_eq!(wire.header("content-type").as_deref(), Some("text/html"));
            let text = wire.text();
            assert!(
                text.starts_with(&format!("<html>\r\n<head><title>{title}</title></head>")),
                "{text}"
            );
            assert!(text.contains("<center>nginx</center>"));
            assert!(wire.header("x-request-id").is_none());
            assert_not_billed(&server).await;
        }
    }
}

#[tokio::test]
async fn relay_error_200_is_json_even_for_a_stream() {
    let server = faulted("relay_error_200", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, true), WAIT).await;
    assert_eq!(wire.status(), Some(200));
    assert_eq!(
        wire.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        wire.text(),
        r#"{"error":{"message":"upstream error: connection refused","type":"upstream_error","code":"bad_gateway"}}"#
    );
    assert_not_billed(&server).await;
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn retry_after_date_is_an_http_date() {
    let server = faulted("retry_after_date", Real).await;
    let before = unix_now();
    let wire = server.chat(KEY, &chat_body(PROMPT, false), WAIT).await;
    let after = unix_now();
    assert_eq!(wire.status(), Some(429));
    let date = wire.header("retry-after").unwrap();
    let expected: Vec<String> = (before + 2..=after + 2).map(http_date).collect();
    assert!(expected.contains(&date), "{date} not in {expected:?}");
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    assert!(wire.header("retry-after-ms").is_none());
    let body: Value = serde_json::from_str(&wire.text()).unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_not_billed(&server).await;
}

#[tokio::test]
async fn request_timeout_is_an_openai_408() {
    let server = faulted("request_timeout", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, true), WAIT).await;
    assert_eq!(wire.status(), Some(408));
    let body: Value = serde_json::from_str(&wire.text()).unwrap();
    let error = body["error"].as_object().unwrap();
    let mut fields: Vec<&str> = error.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(fields, ["code", "message", "param", "type"]);
    assert_eq!(error["message"], "Request timed out.");
    assert_not_billed(&server).await;
}

#[tokio::test]
async fn try_again_message_has_no_retry_headers() {
    for (config, seconds) in [(json!({}), 20), (json!({"try_again_in_s": 7}), 7)] {
        let mut config = config;
        config["faults"] = json!({"try_again_message": 1.0});
        let server = TcpServer::start(config, Real).await;
        let wire = server.chat(KEY, &chat_body(PROMPT, false), WAIT).await;
        assert_eq!(wire.status(), Some(429));
        assert!(wire.header("retry-after").is_none());
        assert!(wire.header("retry-after-ms").is_none());
        let body: Value = serde_json::from_str(&wire.text()).unwrap();
        assert_eq!(
            body["error"]["message"],
            format!(
                "Rate limit reached for gpt-4.1 in organization org-sandbox on requests per min \
                 (RPM): Limit 60, Used 60, Requested 1. Please try again in {seconds}s. Visit \
                 https://platform.openai.com/account/rate-limits to learn more."
            )
        );
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert_not_billed(&server).await;
    }
}

#[tokio::test]
async fn pre_generation_faults_are_never_billed() {
    for fault in [
        "rate_limit",
        "insufficient_quota",
        "server_500",
        "server_503",
        "request_timeout",
    ] {
        let server = faulted(fault, Real).await;
        let wire = server.chat(KEY, &chat_body(PROMPT, true), WAIT).await;
        assert!(wire.status().unwrap() >= 400, "{fault}");
        assert_not_billed(&server).await;
    }
}

#[tokio::test]
async fn broken_replies_are_billed_in_real_mode_only() {
    // A cut stream: what was generated before the cut.
    let server = faulted("stream_cut", Real).await;
    let wire = server.chat(KEY, &chat_body(PROMPT, true), WAIT).await;
    assert_eq!(wire.end, End::Complete);
    assert_eq!(token_events(&wire.text()), HALF as usize);
    assert_billed(&server, HALF, 1).await;
    // Malformed JSON: the reply was generated in full.
    for stream in [false, true] {
        let server = faulted("malformed_json", Real).await;
        server.chat(KEY, &chat_body(PROMPT, stream), WAIT).await;
        assert_billed(&server, FULL, 1).await;
    }
    for fault in [
        "stream_cut",
        "malformed_json",
        "reset_mid_stream",
        "body_dropped",
    ] {
        let server = faulted(fault, Complete).await;
        server.chat(KEY, &chat_body(PROMPT, true), WAIT).await;
        assert_not_billed(&server).await;
    }
}

#[tokio::test]
async fn an_aborted_stream_is_billed_for_what_was_generated() {
    let body = chat_body(PROMPT, true);
    for billing in [Real, Complete] {
        let server = TcpServer::start(json!({"stream_chunk_delay_ms": 20}), billing).await;
        let mut stream = server.post_chat(KEY, &body).await;
        // Read a few token chunks, then hang up.
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        while String::from_utf8_lossy(&seen)
            .matches("\"content\":\"")
            .count()
            < 5
        {
            let n = tokio::time::timeout(WAIT, stream.read(&mut buffer))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "closed early");
            seen.extend_from_slice(&buffer[..n]);
        }
        drop(stream);
        if billing == Complete {
            assert_not_billed(&server).await;
            continue;
        }
        let stats = server.stats_when(|s| s["billed"]["incomplete"] == 1).await;
        let billed = &stats["billed"];
        assert_eq!(billed["requests"], 1);
        assert_eq!(billed["prompt_tokens"], prompt());
        let completion = billed["completion_tokens"].as_u64().unwrap();
        assert!((4..FULL).contains(&completion), "{completion}");
        // Generation stopped with the client.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(server.stats()["billed"]["completion_tokens"], completion);
    }
}

#[tokio::test]
async fn a_stream_is_generated_whether_or_not_the_client_reads() {
    let server = TcpServer::start(json!({"stream_chunk_delay_ms": 3}), Real).await;
    let stream = server.post_chat(KEY, &chat_body(PROMPT, true)).await;
    // Nothing is read, yet every token gets generated and billed.
    let stats = server
        .stats_when(|s| s["billed"]["completion_tokens"] == FULL)
        .await;
    assert_eq!(stats["billed"]["incomplete"], 0);
    let wire = Wire::read(stream, WAIT).await;
    assert_eq!(wire.end, End::Complete);
    assert!(wire.text().ends_with("data: [DONE]\n\n"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.stats()["billed"]["incomplete"], 0);
}

#[tokio::test]
async fn billing_is_per_key_and_never_shows_a_key() {
    for billing in [Real, Complete] {
        let server = TcpServer::start(json!({"stream_chunk_delay_ms": 0}), billing).await;
        for (key, text) in [(KEY, "One."), (OTHER_KEY, "Two."), (OTHER_KEY, "Two.")] {
            for stream in [false, true] {
                let wire = server.chat(key, &chat_body(text, stream), WAIT).await;
                assert_eq!(wire.end, End::Complete);
            }
        }
        let refused = server.chat(WRONG_KEY, &chat_body("x", false), WAIT).await;
        assert_eq!(refused.status(), Some(401));
        let stats = server.stats_when(|s| s["billed"]["requests"] == 6).await;
        let by_key = &stats["billed"]["by_key"];
        assert_eq!(by_key.as_object().unwrap().len(), 2, "{stats}");
        assert_eq!(by_key["sk-…cdef"]["requests"], 2);
        assert_eq!(by_key["sk-…9876"]["requests"], 4);
        assert_eq!(
            by_key["sk-…9876"]["prompt_tokens"],
            4 * prompt_tokens(["Two."])
        );
        assert_eq!(by_key["sk-…9876"]["incomplete"], 0);
        // `stream` is part of the body: only the second plain and streamed "Two." repeat one.
        assert_eq!(stats["duplicates"], 2, "{stats}");
        assert_eq!(stats["billing"], billing.name());
        let text = stats.to_string();
        for key in [KEY, OTHER_KEY] {
            assert!(!text.contains(key));
        }
    }
}

#[tokio::test]
async fn a_reset_stops_an_ongoing_stream_from_billing() {
    let server = TcpServer::start(json!({"stream_chunk_delay_ms": 10}), Real).await;
    let stream = server.post_chat(KEY, &chat_body(PROMPT, true)).await;
    server
        .stats_when(|s| s["billed"]["completion_tokens"].as_u64() > Some(2))
        .await;
    server.state.reset();
    let wire = Wire::read(stream, WAIT).await;
    assert_eq!(wire.end, End::Complete);
    let stats = server.stats();
    assert_eq!(stats["billed"]["requests"], 0, "{stats}");
    assert_eq!(stats["billed"]["completion_tokens"], 0, "{stats}");
}

#[tokio::test]
async fn a_directive_forces_a_fault_for_one_request() {
    let server = TcpServer::start(json!({"stream_chunk_delay_ms": 0}), Real).await;
    let forced = chat_body("Again [[sandbox:fault=relay_error_200]]", true);
    let wire = server.chat(KEY, &forced, WAIT).await;
    assert_eq!(
        wire.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(wire.text().contains("upstream_error"));
    // Only the last user message counts: the same directive earlier in the history does not.
    let history = json!({"model": "gpt-4.1", "stream": false, "messages": [
        {"role": "user", "content": "Again [[sandbox:fault=relay_error_200]]"},
        {"role": "assistant", "content": "An error."},
        {"role": "user", "content": "Once more."}
    ]});
    let wire = server.chat(KEY, &history, WAIT).await;
    assert_eq!(wire.status(), Some(200));
    assert!(wire.text().contains("chat.completion"));
    let unknown = chat_body("x [[sandbox:fault=explode]]", false);
    let wire = server.chat(KEY, &unknown, WAIT).await;
    assert_eq!(wire.status(), Some(400));
    assert!(wire.text().contains("stall_mid_stream"), "lists the names");
}

#[tokio::test]
async fn json_mode_needs_the_word_json_in_the_messages() {
    let app = app_with(&json!({"stream_chunk_delay_ms": 0}));
    let request = |text: &str| {
        let body = json!({
            "model": "gpt-4.1",
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": "You write scenes."}, {"role": "user", "content": text}]
        });
        Request::post("/v1/chat/completions")
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let refused = send(&app, request("Storyboard the wedding as shots.")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json(),
        json!({"error": {
            "message": "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": null
        }})
    );
    let accepted = send(&app, request("Storyboard the wedding as shots, in Json.")).await;
    assert_eq!(accepted.status, StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_headers_can_be_hidden_from_browsers() {
    let server = TcpServer::start(json!({"rpm": 60, "stream_chunk_delay_ms": 0}), Complete).await;
    let exposed = server.chat(KEY, &chat_body("Hi.", false), WAIT).await;
    let names = exposed.header("access-control-expose-headers").unwrap();
    assert_eq!(names, sandbox::EXPOSED_HEADERS.join(","));
    assert!(exposed.header("x-ratelimit-limit-requests").is_some());

    let app = app_with(&json!({"rpm": 60, "expose_rate_limit_headers": false}));
    let models = Request::get("/v1/models")
        .header("origin", "http://localhost:8080")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, models).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert!(reply.header("access-control-expose-headers").is_none());
    // The headers are still sent; a browser just cannot read them.
    let chat = Request::post("/v1/chat/completions")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::from(chat_body("Hi.", false).to_string()))
        .unwrap();
    let reply = send(&app, chat).await;
    assert_eq!(reply.header("x-ratelimit-limit-requests"), Some("60"));
    assert!(reply.header("access-control-expose-headers").is_none());

    // The middleware follows the configuration in force.
    let set = Request::post("/_sandbox/config")
        .header("x-sandbox-control", CONTROL_TOKEN)
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(send(&app, set).await.status, StatusCode::OK);
    let models = Request::get("/v1/models")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, models).await;
    assert!(reply.header("access-control-expose-headers").is_some());
}
