//! The fetch adapter speaking Anthropic's Messages API to the sandbox (`POST /v1/messages`): the
//! same `ChatRequest` as for chat completions, sent as a Messages body, its whole and streamed
//! replies, its errors, and prompt caching with `cache_control` (which saves only from the
//! model's minimum prefix on). Every figure is checked against what the sandbox billed.

use std::cell::RefCell;
use std::rc::Rc;

use crate::http::{billed, start};
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::provider::chat::{ChatMessage, ChatRequest, Usage};
use duanju_studio::domain::provider::connection::{
    ApiKey, Connection, Preset, Protocol, SANDBOX_KEY,
};
use duanju_studio::web::http::{chat, chat_stream, CallError, CallOptions, CallOutcome};
use wasm_bindgen_test::*;

const SANDBOX: &str = "http://127.0.0.1:18787";

/// The sandbox as a relay that speaks Messages (its base URL ends in `/v1`: the request goes
/// to `/v1/messages`, never `/v1/v1/messages`).
fn messages_sandbox() -> Connection {
    Connection {
        base_url: format!("{SANDBOX}/v1"),
        protocol: Some(Protocol::AnthropicMessages),
        ..Connection::from_preset("sandbox", Preset::LocalSandbox, "relay", Lang::ZhCn)
    }
}

fn key() -> ApiKey {
    ApiKey::new(SANDBOX_KEY)
}

/// A character bible of about `lines` × 24 sandbox tokens (each line: a name, CJK text and
/// punctuation, all counted one token per character).
fn bible(lines: usize) -> String {
    (0..lines)
        .map(|n| format!("角色{n}：林夏，二十六岁，外冷内热，说话简短，从不哭。\n"))
        .collect()
}

/// Sends `request` whole on the Messages connection with `key`.
async fn send(key: &ApiKey, request: &ChatRequest) -> Result<CallOutcome, CallError> {
    chat(&messages_sandbox(), key, request, CallOptions::default()).await
}

/// Sends one take on `system` marked for the prompt cache and returns its usage.
async fn cached_take(system: &str, line: &str) -> Usage {
    send(&key(), &take(system, line).cache_system(true))
        .await
        .expect("a take succeeds (a prefix under the minimum runs uncached, without error)")
        .completion
        .usage
        .expect("usage")
}

fn take(system: &str, line: &str) -> ChatRequest {
    ChatRequest::new(
        "claude-sonnet-4.5",
        vec![ChatMessage::system(system), ChatMessage::user(line)],
    )
    .temperature(0.85)
    .max_tokens(300)
}

#[wasm_bindgen_test]
async fn a_whole_messages_reply_reports_the_billed_usage() {
    start("{}").await;
    let outcome = send(&key(), &take("你是短剧编剧。", "写一句台词。"))
        .await
        .expect("the Messages call succeeds");
    let completion = &outcome.completion;
    assert!(!completion.content.is_empty());
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
    let usage = completion.usage.clone().expect("the reply reports usage");
    assert!(!usage.estimated);
    let billed = billed().await;
    assert_eq!(usage.prompt, billed["prompt_tokens"].as_u64().unwrap());
    assert_eq!(
        usage.completion,
        billed["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(billed["requests"].as_u64(), Some(1));
}

#[wasm_bindgen_test]
async fn a_streamed_messages_reply_arrives_in_pieces_with_the_billed_usage() {
    start(r#"{"stream_chunk_delay_ms": 0}"#).await;
    let deltas = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = deltas.clone();
    let outcome = chat_stream(
        &messages_sandbox(),
        &key(),
        &take("你是短剧编剧。", "写三句台词。"),
        CallOptions::default(),
        move |delta| sink.borrow_mut().push(delta.to_string()),
    )
    .await
    .expect("the stream completes");
    let deltas = deltas.borrow().clone();
    assert!(deltas.len() > 1, "the reply came in pieces: {deltas:?}");
    assert_eq!(deltas.concat(), outcome.completion.content);
    let usage = outcome
        .completion
        .usage
        .clone()
        .expect("message_delta usage");
    assert!(!usage.estimated);
    let billed = billed().await;
    assert_eq!(usage.prompt, billed["prompt_tokens"].as_u64().unwrap());
    assert_eq!(
        usage.completion,
        billed["completion_tokens"].as_u64().unwrap()
    );
}

#[wasm_bindgen_test]
async fn a_bible_over_the_minimum_is_written_once_then_read_from_the_cache() {
    start(r#"{"stream_chunk_delay_ms": 0}"#).await;
    let system = bible(60);
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    for line in ["第一条。", "第二条。", "第三条。"] {
        let usage = cached_take(&system, line).await;
        reads.push(usage.cached);
        writes.push(usage.cache_write);
        assert!(usage.cached + usage.cache_write <= usage.prompt);
    }
    assert_eq!(reads[0], 0, "nothing is cached before the first take");
    assert!(
        writes[0] >= 1024,
        "the first take writes the bible: {writes:?}"
    );
    assert_eq!(
        reads[1], writes[0],
        "the second take reads what the first wrote"
    );
    assert_eq!(reads[2], writes[0]);
    assert_eq!(writes[1], 0);
    let billed = billed().await;
    assert_eq!(
        billed["cached_tokens"].as_u64(),
        Some(reads.iter().sum::<u64>()),
        "the reads shown are the sandbox's billed cache reads"
    );
    assert_eq!(billed["cache_creation_tokens"].as_u64(), Some(writes[0]));
}

#[wasm_bindgen_test]
async fn a_bible_under_the_minimum_is_never_cached_and_no_marker_is_refused() {
    start("{}").await;
    let system = bible(10);
    for line in ["第一条。", "第二条。"] {
        let usage = cached_take(&system, line).await;
        assert_eq!((usage.cached, usage.cache_write), (0, 0));
    }
    assert_eq!(billed().await["cached_tokens"].as_u64(), Some(0));
}

#[wasm_bindgen_test]
async fn overloaded_is_a_retryable_529_and_a_wrong_key_is_never_echoed() {
    start("{}").await;
    let error = send(
        &key(),
        &take("你是短剧编剧。", "[[sandbox:fault=server_503]] 写一句。"),
    )
    .await
    .unwrap_err();
    assert_eq!(error.status, Some(529), "{error:?}");
    assert_eq!(error.kind(), "server_error");
    assert!(error.error.can_retry());
    assert!(
        !error.error.may_be_billed(),
        "a 529 is refused before generation"
    );

    let wrong = ApiKey::new("sk-ant-wrong-key-0123456789abcdef");
    let error = send(&wrong, &take("你是短剧编剧。", "写一句。"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "invalid_key", "{error:?}");
    for lang in [Lang::ZhCn, Lang::En] {
        assert!(!error.message(lang).contains("wrong-key"));
    }
}

#[wasm_bindgen_test]
async fn an_error_event_mid_stream_keeps_what_arrived() {
    start(r#"{"stream_chunk_delay_ms": 0}"#).await;
    let deltas = Rc::new(RefCell::new(String::new()));
    let sink = deltas.clone();
    let error = chat_stream(
        &messages_sandbox(),
        &key(),
        &take(
            "你是短剧编剧。",
            "[[sandbox:fault=stream_error_event]] 写三句台词。",
        ),
        CallOptions::default(),
        move |delta| sink.borrow_mut().push_str(delta),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), "stream_error", "{error:?}");
    assert!(error.error.may_be_billed());
    let partial = error.partial.expect("what arrived is kept");
    assert_eq!(partial.completion.content, *deltas.borrow());
    assert!(!partial.completion.content.is_empty());
}
