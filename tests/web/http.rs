//! The fetch adapter against the real sandbox on 127.0.0.1:18787 (started by the test tier, or
//! by hand with `cargo run --release -p sandbox -- --port 18787`). Every test resets the
//! sandbox's configuration and statistics first; the tests of one binary run one at a time.

use std::cell::RefCell;
use std::rc::Rc;

use crate::support::sleep;
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::provider::chat::{ChatMessage, ChatRequest};
use duanju_studio::domain::provider::connection::{
    ApiKey, Connection, Preset, Protocol, SANDBOX_KEY,
};
use duanju_studio::web::http::{
    chat, chat_stream, test_connection, CallError, CallOptions, CancelHandle,
};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{RequestInit, Response};

/// The sandbox's root: `SANDBOX_URL` (its `/v1` API) when it was set at compile time, else
/// scripts/test.sh's port.
pub(crate) fn sandbox_root() -> &'static str {
    option_env!("SANDBOX_URL")
        .unwrap_or("http://127.0.0.1:18787/v1")
        .trim_end_matches("/v1")
}

fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

/// Calls a sandbox control route and returns its JSON answer. The control routes need the
/// sandbox's control token in `x-sandbox-control`: it is compiled in from
/// `SANDBOX_CONTROL_TOKEN` (scripts/test.sh exports it before this tier).
pub(crate) async fn control(method: &str, path: &str, body: Option<&str>) -> Value {
    // Not `env!`: the rest of the browser tests build without it. (Not `.expect()` either:
    // clippy's option_env_unwrap would ask for `env!`.)
    let Some(token) = option_env!("SANDBOX_CONTROL_TOKEN") else {
        panic!(
            "SANDBOX_CONTROL_TOKEN was not set when the browser tests were compiled: export the \
             token the sandbox printed at start (`Sandbox control token: …`), or run scripts/test.sh"
        );
    };
    let headers = web_sys::Headers::new().unwrap();
    headers.set("x-sandbox-control", token).unwrap();
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(&headers);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let url = format!("{}{path}", sandbox_root());
    let response: Response = JsFuture::from(window().fetch_with_str_and_init(&url, &init))
        .await
        .expect("the sandbox runs")
        .unchecked_into();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    let text = text.as_string().unwrap();
    assert!(response.ok(), "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Replaces the sandbox configuration (`{}` for the defaults) and zeroes its statistics.
pub(crate) async fn start(config: &str) {
    control("POST", "/_sandbox/config", Some(config)).await;
    control("POST", "/_sandbox/reset", None).await;
}

pub(crate) async fn billed() -> Value {
    control("GET", "/_sandbox/stats", None).await["billed"].clone()
}

fn sandbox() -> Connection {
    Connection {
        base_url: format!("{}/v1", sandbox_root()),
        ..Connection::from_preset("sandbox", Preset::LocalSandbox, "relay", Lang::ZhCn)
    }
}

fn key() -> ApiKey {
    ApiKey::new(SANDBOX_KEY)
}

fn scene(prompt: &str) -> ChatRequest {
    ChatRequest::new(
        "deepseek-v3.2",
        vec![
            ChatMessage::system("你是短剧编剧。"),
            ChatMessage::user(prompt),
        ],
    )
    .temperature(0.7)
    .max_tokens(400)
}

/// Streams `request` and returns the outcome and every delta received.
async fn stream(
    request: &ChatRequest,
    opts: CallOptions,
) -> (
    Result<duanju_studio::web::http::CallOutcome, CallError>,
    Vec<String>,
) {
    let deltas = Rc::new(RefCell::new(Vec::new()));
    let sink = deltas.clone();
    let result = chat_stream(&sandbox(), &key(), request, opts, move |delta| {
        sink.borrow_mut().push(delta.to_string())
    })
    .await;
    let deltas = deltas.borrow().clone();
    (result, deltas)
}

fn assert_kind(error: &CallError, kind: &str) {
    assert_eq!(error.kind(), kind, "{error:?}");
    for lang in [Lang::ZhCn, Lang::En] {
        let message = error.message(lang);
        assert!(!message.is_empty());
        assert!(!message.contains(SANDBOX_KEY), "{message}");
    }
}

#[wasm_bindgen_test]
async fn whole_reply_reports_the_billed_usage() {
    start(r#"{"rpm":6000}"#).await;
    let outcome = chat(
        &sandbox(),
        &key(),
        &scene("写一场雨夜天台的戏。"),
        CallOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, 200);
    assert!(!outcome.completion.content.is_empty());
    assert_eq!(outcome.completion.model.as_deref(), Some("deepseek-v3.2"));
    let usage = outcome.completion.usage.clone().unwrap();
    assert!(!usage.estimated);
    let billed = billed().await;
    assert_eq!(billed["requests"], 1);
    assert_eq!(billed["prompt_tokens"], usage.prompt);
    assert_eq!(billed["completion_tokens"], usage.completion);
    assert_eq!(billed["cached_tokens"], usage.cached);
    assert_eq!(billed["total_tokens"], usage.total);
    assert!(outcome.latency_ms > 0.0);
    assert_eq!(outcome.first_token_ms, Some(outcome.latency_ms));
    // The sandbox exposes its rate-limit headers, so the page can read them.
    assert_eq!(outcome.rate_limits.limit_requests, Some(6000));
    assert!(outcome.rate_limits.remaining_requests.is_some());
}

#[wasm_bindgen_test]
async fn stream_arrives_in_pieces_with_usage() {
    start("{}").await;
    let request = scene("写一场雨夜天台的戏。[[sandbox:tokens=40]]");
    let (result, deltas) = stream(&request, CallOptions::default()).await;
    let outcome = result.unwrap();
    assert!(deltas.len() >= 5, "{deltas:?}");
    assert_eq!(deltas.concat(), outcome.completion.content);
    assert_eq!(outcome.completion.finish_reason.as_deref(), Some("stop"));
    let usage = outcome.completion.usage.clone().unwrap();
    assert!(!usage.estimated);
    assert_eq!(usage.completion, 40);
    let billed = billed().await;
    assert_eq!(billed["prompt_tokens"], usage.prompt);
    assert_eq!(billed["completion_tokens"], usage.completion);
    let first = outcome.first_token_ms.unwrap();
    assert!(first > 0.0 && first <= outcome.latency_ms, "{outcome:?}");
}

#[wasm_bindgen_test]
async fn wrong_key_is_invalid_key_and_never_echoed() {
    start("{}").await;
    let wrong = "sk-wrong-9876543210fedcba9876543210fedcba";
    let error = chat(
        &sandbox(),
        &ApiKey::new(wrong),
        &scene("x"),
        CallOptions::default(),
    )
    .await
    .unwrap_err();
    assert_kind(&error, "invalid_key");
    assert_eq!(error.status, Some(401));
    assert!(!error.error.can_retry());
    for text in [
        error.message(Lang::ZhCn),
        error.message(Lang::En),
        format!("{error:?}"),
        error.to_string(),
    ] {
        assert!(
            !text.contains(wrong) && !text.contains("9876543210fedcba"),
            "{text}"
        );
    }
}

#[wasm_bindgen_test]
async fn rate_limit_says_when_to_retry() {
    start(r#"{"faults":{"rate_limit":1.0}}"#).await;
    let error = chat(&sandbox(), &key(), &scene("x"), CallOptions::default())
        .await
        .unwrap_err();
    assert_kind(&error, "rate_limited");
    assert_eq!(error.status, Some(429));
    assert_eq!(error.error.retry_after_ms(), Some(1_000));
    assert!(error.error.can_retry());
    assert_eq!(billed().await["requests"], 0);
    start("{}").await;
}

#[wasm_bindgen_test]
async fn insufficient_quota_is_not_retried() {
    start(r#"{"faults":{"insufficient_quota":1.0}}"#).await;
    let error = chat(&sandbox(), &key(), &scene("x"), CallOptions::default())
        .await
        .unwrap_err();
    assert_kind(&error, "insufficient_quota");
    assert!(!error.error.can_retry());
    start("{}").await;
}

#[wasm_bindgen_test]
async fn server_error_is_classified() {
    start(r#"{"faults":{"server_500":1.0}}"#).await;
    let error = chat(&sandbox(), &key(), &scene("x"), CallOptions::default())
        .await
        .unwrap_err();
    assert_kind(&error, "server_error");
    assert_eq!(error.status, Some(500));
    assert!(error.error.can_retry());
    start("{}").await;
}

#[wasm_bindgen_test]
async fn cut_stream_keeps_what_arrived_with_estimated_usage() {
    start(r#"{"faults":{"stream_cut":1.0}}"#).await;
    let request = scene("写一场雨夜天台的戏。[[sandbox:tokens=40]]");
    let (result, deltas) = stream(&request, CallOptions::default()).await;
    let error = result.unwrap_err();
    assert_kind(&error, "stream_cut");
    assert!(error.error.can_retry());
    let partial = error
        .partial
        .clone()
        .expect("a cut stream reports what arrived");
    assert!(!partial.completion.content.is_empty());
    assert_eq!(deltas.concat(), partial.completion.content);
    let usage = partial.completion.usage.clone().unwrap();
    assert!(
        usage.estimated && usage.prompt > 0 && usage.completion > 0,
        "{usage:?}"
    );
    // The domain error carries the same partial reply.
    let duanju_studio::domain::provider::api_error::ApiError::StreamCut { partial: inner } =
        &error.error
    else {
        panic!("{error:?}");
    };
    assert_eq!(**inner, partial.completion);
    // Billed like a real provider: for what it generated, though the reply never finished. So
    // the failure may be billed and is never retried without consent.
    assert!(error.error.may_be_billed());
    let billed = billed().await;
    assert_eq!(billed["requests"], 1);
    assert_eq!(billed["incomplete"], 1);
    start("{}").await;
}

#[wasm_bindgen_test]
async fn cancel_mid_stream() {
    start(r#"{"stream_chunk_delay_ms":30}"#).await;
    let handle = CancelHandle::new();
    let opts = CallOptions {
        cancel: Some(handle.clone()),
        ..CallOptions::default()
    };
    let deltas = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = deltas.clone();
    let request = scene("写一场雨夜天台的戏。[[sandbox:tokens=200]]");
    let error = chat_stream(&sandbox(), &key(), &request, opts, move |delta| {
        sink.borrow_mut().push(delta.to_string());
        if sink.borrow().len() == 3 {
            handle.cancel();
        }
    })
    .await
    .unwrap_err();
    assert_kind(&error, "cancelled");
    assert!(!error.error.can_retry());
    let partial = error.partial.expect("the reply had started");
    assert_eq!(partial.completion.content, deltas.borrow().concat());
    assert!(partial.completion.usage.unwrap().estimated);
    assert!(deltas.borrow().len() < 200);
    start("{}").await;
}

#[wasm_bindgen_test]
async fn cancelled_handle_stops_calls_before_they_start() {
    start("{}").await;
    let handle = CancelHandle::new();
    handle.cancel();
    assert!(handle.is_cancelled());
    let opts = CallOptions {
        cancel: Some(handle),
        ..CallOptions::default()
    };
    let error = chat(&sandbox(), &key(), &scene("x"), opts)
        .await
        .unwrap_err();
    assert_kind(&error, "cancelled");
    assert!(error.partial.is_none());
    assert_eq!(
        control("GET", "/_sandbox/stats", None).await["requests"],
        serde_json::json!({})
    );
}

#[wasm_bindgen_test]
async fn slow_first_byte_times_out() {
    start(r#"{"faults":{"slow_first_byte":1.0},"slow_first_byte_ms":3000}"#).await;
    let opts = CallOptions {
        timeout_ms: 400,
        cancel: None,
    };
    let error = chat(&sandbox(), &key(), &scene("x"), opts)
        .await
        .unwrap_err();
    assert_kind(&error, "timeout");
    assert!(error.error.can_retry());
    assert!(error.latency_ms < 2_500.0, "{}", error.latency_ms);
    // Let the held-back response finish before the next test resets the sandbox.
    sleep(50).await;
    start("{}").await;
}

#[wasm_bindgen_test]
async fn nothing_listening_is_unreachable() {
    let nowhere = Connection {
        base_url: "http://127.0.0.1:9/v1".into(),
        ..sandbox()
    };
    let error = chat(&nowhere, &key(), &scene("x"), CallOptions::default())
        .await
        .unwrap_err();
    assert_kind(&error, "unreachable");
    assert_eq!(error.status, None);
}

#[wasm_bindgen_test]
async fn connection_test_is_a_one_token_post() {
    start("{}").await;
    let report = test_connection(&sandbox(), &key()).await.unwrap();
    assert_eq!(report.model, "deepseek-v3.2");
    assert!(report.latency_ms > 0.0);
    let stats = control("GET", "/_sandbox/stats", None).await;
    assert_eq!(stats["requests"]["POST /v1/chat/completions"], 1);
    assert!(stats["requests"].get("GET /v1/models").is_none());
    assert_eq!(stats["billed"]["completion_tokens"], 1);
    let error = test_connection(&sandbox(), &ApiKey::new("sk-nope-0123456789abcdef0123"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "invalid_key");
}

#[wasm_bindgen_test]
async fn cors_refusal_is_told_from_unreachable() {
    // An Anthropic organisation that turned off direct browser access: the preflight asking for
    // the opt-in header is refused, although the server is up and answers key-less probes.
    start(r#"{"cors_refuse_headers": ["anthropic-dangerous-direct-browser-access"]}"#).await;
    let strict = Connection {
        preset: Preset::Anthropic,
        ..sandbox()
    };
    assert_eq!(strict.protocol(), Protocol::AnthropicMessages);
    let error = chat(&strict, &key(), &scene("x"), CallOptions::default())
        .await
        .unwrap_err();
    assert_kind(&error, "cors_blocked");
    assert!(!error.error.can_retry());
    assert_eq!(error.status, None);
    // The refused call never reached the provider; only the key-less probe did.
    let stats = control("GET", "/_sandbox/stats", None).await;
    assert!(
        stats["requests"].get("POST /v1/messages").is_none(),
        "{stats}"
    );
    assert_eq!(stats["status"]["405"], 1, "{stats}");
}

/// Each fault of a provider or relay as the adapter reads it: whether the provider may have
/// billed it (the sandbox, billing like a real provider, says whether it did), and what the
/// failure carries.
#[wasm_bindgen_test]
async fn every_fault_is_told_apart_by_whether_it_may_have_been_billed() {
    // (fault, streamed, expected kind, billed by the sandbox)
    let cases = [
        ("body_dropped", false, "reply_lost", 1),
        ("body_dropped", true, "reply_lost", 1),
        ("reset_mid_stream", true, "reply_lost", 1),
        ("stream_error_event", true, "stream_error", 1),
        ("malformed_json", false, "malformed", 1),
        ("bad_gateway_html", true, "server_error", 0),
        ("gateway_timeout_html", true, "server_error", 0),
        ("relay_error_200", true, "server_error", 0),
        ("request_timeout", true, "request_timeout", 0),
        ("retry_after_date", true, "rate_limited", 0),
        ("try_again_message", true, "rate_limited", 0),
    ];
    for (fault, streamed, kind, charged) in cases {
        start(&format!(
            r#"{{"faults":{{"{fault}":1.0}},"stream_chunk_delay_ms":1,"retry_after_date_s":3,"try_again_in_s":20}}"#
        ))
        .await;
        let request = scene("写一场雨夜天台的戏。[[sandbox:tokens=40]]");
        let error = if streamed {
            stream(&request, CallOptions::default())
                .await
                .0
                .unwrap_err()
        } else {
            chat(&sandbox(), &key(), &request, CallOptions::default())
                .await
                .unwrap_err()
        };
        assert_kind(&error, kind);
        assert_eq!(
            error.error.may_be_billed(),
            charged == 1,
            "{fault}: {error:?}"
        );
        assert_eq!(billed().await["requests"], charged, "{fault}");
        match fault {
            "stream_error_event" => {
                let partial = error.partial.as_ref().expect("what arrived is kept");
                assert!(!partial.completion.content.is_empty(), "{fault}");
            }
            "retry_after_date" => {
                // An HTTP date three seconds ahead (whole seconds: 2 to 3 s from now).
                let wait = error
                    .error
                    .retry_after_ms()
                    .or(error.rate_limits.retry_delay_ms());
                assert!(matches!(wait, Some(1_000..=3_000)), "{fault}: {wait:?}");
            }
            "try_again_message" => {
                assert_eq!(error.error.retry_after_ms(), Some(20_000), "{fault}");
            }
            _ => {}
        }
    }
    start("{}").await;
}

#[wasm_bindgen_test]
async fn a_stall_mid_stream_ends_on_the_idle_timer_with_what_arrived() {
    start(r#"{"faults":{"stall_mid_stream":1.0},"hang_ms":5000,"stream_chunk_delay_ms":1}"#).await;
    let opts = CallOptions {
        timeout_ms: 600,
        cancel: None,
    };
    let request = scene("写一场雨夜天台的戏。[[sandbox:tokens=40]]");
    let (result, deltas) = stream(&request, opts).await;
    let error = result.unwrap_err();
    assert_kind(&error, "timeout");
    assert!(error.error.may_be_billed());
    let partial = error.partial.expect("the reply had begun");
    assert_eq!(partial.completion.content, deltas.concat());
    assert!(!deltas.is_empty());
    assert!(error.latency_ms < 4_000.0, "{}", error.latency_ms);
    let billed = billed().await;
    assert_eq!(billed["requests"], 1);
    assert!(billed["completion_tokens"].as_u64().unwrap() > 0);
    start("{}").await;
}

#[wasm_bindgen_test]
async fn hidden_rate_limit_headers_leave_the_limits_unknown() {
    start(r#"{"expose_rate_limit_headers":false,"rpm":6000}"#).await;
    let outcome = chat(&sandbox(), &key(), &scene("x"), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.rate_limits, Default::default());
    start(r#"{"rpm":6000}"#).await;
    let outcome = chat(&sandbox(), &key(), &scene("x"), CallOptions::default())
        .await
        .unwrap();
    assert_ne!(
        outcome.rate_limits,
        Default::default(),
        "exposed by default"
    );
}
