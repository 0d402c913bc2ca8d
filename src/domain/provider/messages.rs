//! The pure half of Anthropic's Messages protocol (`POST {base}/v1/messages`), so the web
//! transport can send the same [`ChatRequest`] over either protocol and get the same
//! [`Completion`], [`StreamEvent`]s and [`ApiError`]s back.
//!
//! - [`messages_headers`]: the headers (the URL is [`Connection::chat_url`], which never doubles
//!   `/v1`; the browser opt-in header is [`Connection::browser_headers`]).
//! - [`messages_body`]: the request body. Messages differs from chat completions in ways that
//!   matter: `max_tokens` is required, the system prompt is a separate `system` array (where the
//!   prompt-cache breakpoint goes), roles must alternate starting with `user`, `temperature` is
//!   limited to 0..=1, and unknown fields (`stream_options`, `response_format`) are refused.
//! - [`decode_message`]: a non-streaming reply; [`MessagesDecoder`]: a stream; [`StreamDecoder`]:
//!   either protocol's stream behind one value.
//!
//! Usage is normalized as in [`Usage`]: Anthropic's `input_tokens` excludes the cache, so
//! `prompt = input_tokens + cache_creation_input_tokens + cache_read_input_tokens`, `cached` is
//! the cache reads and `cache_write` the cache writes.
//!
//! ```
//! use duanju_studio::domain::provider::chat::{ChatMessage, ChatRequest};
//! use duanju_studio::domain::provider::messages::messages_body;
//!
//! let request = ChatRequest::new("claude-sonnet-4.5", vec![ChatMessage::user("你好")]);
//! let body: serde_json::Value = serde_json::from_str(&messages_body(&request)).unwrap();
//! assert_eq!(
//!     body,
//!     serde_json::json!({"model": "claude-sonnet-4.5", "max_tokens": 4096,
//!                        "messages": [{"role": "user", "content": "你好"}]})
//! );
//! ```

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::domain::provider::api_error::{self, ApiError};
use crate::domain::provider::chat::{
    de_count, ChatRequest, Completion, ResponseFormat, Role, Usage, JSON_OBJECT_REMINDER,
};
#[cfg(doc)]
use crate::domain::provider::connection::Connection;
use crate::domain::provider::connection::{ApiKey, Protocol};
use crate::domain::provider::sse::{SseDecoder, StreamEvent, StreamState};

/// The `anthropic-version` header value: the API version whose shapes this module decodes.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The `max_tokens` sent when the request sets none: Messages requires the field, and 4,096 is
/// the largest value every current Claude model accepts (older Haiku models cap at 4,096).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The user turn put before a conversation that would otherwise start with the assistant (or
/// have no turn at all): Messages requires the first message to be the user's.
pub const CONTINUE_PROMPT: &str = "(continue)";

/// The headers of a Messages request, as [`crate::domain::provider::connection::headers_for`]
/// gives them for chat completions: the key goes in `x-api-key` (not `Authorization`), with the
/// API version the body follows. Nothing else, so a relay's CORS policy has as little as
/// possible to refuse.
pub fn messages_headers(key: &ApiKey) -> [(&'static str, String); 3] {
    [
        ("x-api-key", key.expose().to_string()),
        ("anthropic-version", ANTHROPIC_VERSION.to_string()),
        ("content-type", "application/json".to_string()),
    ]
}

/// The Messages request body for `req`:
///
/// - `model`; `max_tokens`: the request's, else [`DEFAULT_MAX_TOKENS`];
/// - `system`: an array with one text block per system-role message, in order (omitted when
///   there is none); with [`ChatRequest::cache_system`] the last block carries
///   `cache_control: {"type":"ephemeral"}`, so the whole system prompt is cached;
/// - `messages`: the user and assistant messages (other roles and empty texts dropped),
///   consecutive ones of the same role joined with a blank line so roles alternate, and a
///   [`CONTINUE_PROMPT`] user turn first when the conversation would start with the assistant
///   or be empty;
/// - `temperature` clamped to 0..=1 when set (Messages refuses more); `stream: true` only when
///   streaming;
/// - never `stream_options` or `response_format`, which Messages refuses: a JSON reply is asked
///   for in words instead, [`JSON_OBJECT_REMINDER`] (plus the schema for `json_schema`) at the
///   end of the last system block, created when there is none.
pub fn messages_body(req: &ChatRequest) -> String {
    let mut system: Vec<String> = req
        .messages
        .iter()
        .filter(|m| m.role == Role::System && !m.content.is_empty())
        .map(|m| m.content.clone())
        .collect();
    if let Some(instruction) = json_instruction(req.response_format.as_ref()) {
        let said = system.iter().any(|text| text.contains(&instruction));
        match system.last_mut() {
            Some(_) if said => {}
            Some(last) => {
                last.push_str("\n\n");
                last.push_str(&instruction);
            }
            None => system.push(instruction),
        }
    }

    let mut turns: Vec<(Role, String)> = Vec::new();
    for message in &req.messages {
        if !matches!(message.role, Role::User | Role::Assistant) || message.content.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((role, text)) if *role == message.role => {
                text.push_str("\n\n");
                text.push_str(&message.content);
            }
            _ => turns.push((message.role, message.content.clone())),
        }
    }
    if turns.first().is_none_or(|(role, _)| *role != Role::User) {
        turns.insert(0, (Role::User, CONTINUE_PROMPT.to_string()));
    }

    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert(
        "max_tokens".into(),
        json!(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if !system.is_empty() {
        let count = system.len();
        let blocks: Vec<Value> = system
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                let mut block = json!({"type": "text", "text": text});
                if req.cache_system && i + 1 == count {
                    block["cache_control"] = json!({"type": "ephemeral"});
                }
                block
            })
            .collect();
        body.insert("system".into(), Value::Array(blocks));
    }
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, text)| json!({"role": role, "content": text}))
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = req.temperature.filter(|t| t.is_finite()) {
        body.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
    }
    if req.is_streaming() {
        body.insert("stream".into(), json!(true));
    }
    Value::Object(body).to_string()
}

/// What a `response_format` must become in words, since Messages has no such field.
fn json_instruction(format: Option<&ResponseFormat>) -> Option<String> {
    match format? {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(JSON_OBJECT_REMINDER.to_string()),
        ResponseFormat::JsonSchema { json_schema } => Some(format!(
            "{JSON_OBJECT_REMINDER} Follow this JSON schema: {}",
            json_schema.schema
        )),
    }
}

/// Maps a Messages `stop_reason` to the chat-completions `finish_reason` the rest of the app
/// reads (`end_turn`/`stop_sequence` → `stop`, `max_tokens` → `length`, `tool_use` →
/// `tool_calls`, `refusal` → `content_filter`); anything else is kept as is.
pub fn finish_reason(stop_reason: &str) -> String {
    match stop_reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => other,
    }
    .to_string()
}

/// Messages' `usage`, every field optional (a stream sends it in two parts).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
struct WireUsage {
    #[serde(default, deserialize_with = "de_count")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "de_count")]
    output_tokens: Option<u64>,
    #[serde(default, deserialize_with = "de_count")]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "de_count")]
    cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Overwrites the fields `later` reports (a stream's `message_delta` repeats or completes
    /// `message_start`'s figures).
    fn merge(&mut self, later: &WireUsage) {
        self.input_tokens = later.input_tokens.or(self.input_tokens);
        self.output_tokens = later.output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens = later
            .cache_creation_input_tokens
            .or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = later
            .cache_read_input_tokens
            .or(self.cache_read_input_tokens);
    }

    fn is_empty(&self) -> bool {
        *self == WireUsage::default()
    }

    /// The normalized usage: the prompt includes cache reads and writes.
    fn normalize(&self) -> Usage {
        let cache_write = self.cache_creation_input_tokens.unwrap_or(0);
        let cached = self.cache_read_input_tokens.unwrap_or(0);
        let prompt = self.input_tokens.unwrap_or(0) + cache_write + cached;
        let completion = self.output_tokens.unwrap_or(0);
        Usage {
            prompt,
            cached,
            cache_write,
            completion,
            total: prompt + completion,
            ..Usage::default()
        }
    }
}

/// One content block of a reply (or a stream's `delta`).
#[derive(Debug, Default, Deserialize)]
struct WireBlock {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    stop_reason: Option<String>,
}

/// A reply body, or the `message` of a stream's `message_start`.
#[derive(Debug, Default, Deserialize)]
struct WireMessage {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    content: Option<Vec<WireBlock>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

fn parse<'a, T: Deserialize<'a>>(value: &'a Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::malformed("not a JSON object"));
    }
    T::deserialize(value).map_err(|e| ApiError::malformed(format!("unexpected shape ({e})")))
}

/// Decodes a non-streaming Messages reply: text blocks become `content`, `thinking` blocks
/// `reasoning`, the `stop_reason` a [`finish_reason`], and usage is normalized. An error body
/// (`{"type":"error","error":{…}}`, sent with status 200 by some relays) becomes the matching
/// [`ApiError`]; anything that is not a message is [`ApiError::Malformed`], described without
/// the body.
pub fn decode_message(body: &str) -> Result<Completion, ApiError> {
    let value: Value = serde_json::from_str(body.trim_start_matches('\u{feff}'))
        .map_err(|e| ApiError::malformed(format!("invalid JSON ({e})")))?;
    if let Some(error) = api_error::embedded_error(&value, 200) {
        return Err(error);
    }
    let message: WireMessage = parse(&value)?;
    if message.kind.as_deref() != Some("message") && message.content.is_none() {
        return Err(ApiError::malformed("not a Messages reply"));
    }
    let mut completion = Completion {
        finish_reason: message.stop_reason.as_deref().map(finish_reason),
        model: message.model.filter(|m| !m.is_empty()),
        usage: message
            .usage
            .filter(|u| !u.is_empty())
            .map(|u| u.normalize()),
        ..Completion::default()
    };
    for block in message.content.unwrap_or_default() {
        match block.kind.as_str() {
            "text" => completion
                .content
                .push_str(block.text.as_deref().unwrap_or("")),
            "thinking" => completion
                .reasoning
                .push_str(block.thinking.as_deref().unwrap_or("")),
            _ => {}
        }
    }
    Ok(completion)
}

/// An incremental decoder for Messages streams, with the same interface as [`SseDecoder`].
/// `message_start` gives the model and the prompt's usage, `content_block_delta` the text
/// (`text_delta`) and reasoning (`thinking_delta`), `message_delta` the stop reason and output
/// tokens (reported as a [`StreamEvent::Usage`] with the whole normalized usage),
/// `message_stop` the end ([`StreamEvent::Done`]); `ping` and unknown events are ignored, and
/// an `error` event ends the stream with [`StreamEvent::Error`].
#[derive(Clone, Debug)]
pub struct MessagesDecoder {
    state: StreamState,
    /// The usage reported so far (`message_start`, then `message_delta`).
    usage: WireUsage,
}

impl MessagesDecoder {
    /// A decoder for a stream answering a request to `model` whose prompt is estimated at
    /// `prompt_tokens` tokens (used only if the stream reports no usage).
    pub fn new(model: &str, prompt_tokens: u64) -> MessagesDecoder {
        MessagesDecoder {
            state: StreamState::new(model, prompt_tokens),
            usage: WireUsage::default(),
        }
    }

    /// A decoder for the stream answering `request`.
    pub fn for_request(request: &ChatRequest) -> MessagesDecoder {
        MessagesDecoder::new(&request.model, request.estimated_prompt_tokens())
    }

    /// True once `message_stop` or an error arrived: the adapter may stop reading.
    pub fn is_finished(&self) -> bool {
        self.state.is_finished()
    }

    /// Everything received so far, folded.
    pub fn completion_so_far(&self) -> &Completion {
        &self.state.completion
    }

    /// Feeds the next piece of text and returns the events it completed. Input after
    /// `message_stop` or an error is ignored.
    pub fn push(&mut self, text: &str) -> Vec<StreamEvent> {
        let usage = &mut self.usage;
        self.state.push(text, |state, value, events| {
            event(state, usage, value, events)
        })
    }

    /// Ends the stream: the completion after `message_stop` (usage estimated and flagged when
    /// none arrived); [`ApiError::StreamCut`] with what arrived when it stopped before
    /// `message_stop`; [`ApiError::StreamError`] with the error event's cause and what arrived.
    ///
    /// A stream cut after `message_start` but before `message_delta` keeps the prompt figures
    /// it reported (cache reads and writes included, which an estimate cannot know) with the
    /// completion estimated from the text, flagged `estimated`.
    pub fn finish(self) -> Result<Completion, ApiError> {
        let MessagesDecoder {
            mut state,
            mut usage,
        } = self;
        state.end_input(|state, value, events| event(state, &mut usage, value, events));
        if state.completion.usage.is_none() && !usage.is_empty() {
            let text = state.completion.usage_or_estimate(&state.model, 0);
            let mut known = usage.normalize();
            known.completion = known.completion.max(text.completion);
            known.total = known.prompt + known.completion;
            known.estimated = true;
            state.completion.usage = Some(known);
        }
        let ended = state.done;
        state.outcome(ended)
    }
}

/// `message_start`'s payload.
#[derive(Debug, Default, Deserialize)]
struct WireStart {
    #[serde(default)]
    message: WireMessage,
}

/// `content_block_start`, `content_block_delta` and `message_delta` payloads.
#[derive(Debug, Default, Deserialize)]
struct WireDelta {
    #[serde(default)]
    content_block: Option<WireBlock>,
    #[serde(default)]
    delta: Option<WireBlock>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// Turns one Messages stream event into [`StreamEvent`]s. The event name is read from the
/// data's `type`, which Anthropic always sets to the `event:` line's name.
fn event(
    state: &mut StreamState,
    usage: &mut WireUsage,
    value: &Value,
    out: &mut Vec<StreamEvent>,
) {
    if let Some(error) = api_error::embedded_error(value, 200) {
        return state.fail(error, out);
    }
    let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "message_start" => match parse::<WireStart>(value) {
            Ok(start) => {
                if let Some(model) = start.message.model.filter(|m| !m.is_empty()) {
                    state.emit(StreamEvent::Model(model), out);
                }
                if let Some(start_usage) = &start.message.usage {
                    usage.merge(start_usage);
                }
            }
            Err(error) => state.fail(error, out),
        },
        "content_block_start" | "content_block_delta" | "message_delta" => {
            let delta = match parse::<WireDelta>(value) {
                Ok(delta) => delta,
                Err(error) => return state.fail(error, out),
            };
            for block in delta.content_block.iter().chain(delta.delta.iter()) {
                let text = block.text.as_ref().filter(|t| !t.is_empty());
                if let Some(text) =
                    text.filter(|_| matches!(block.kind.as_str(), "text" | "text_delta"))
                {
                    state.emit(StreamEvent::Content(text.clone()), out);
                }
                let thinking = block.thinking.as_ref().filter(|t| !t.is_empty());
                if let Some(text) = thinking.filter(|_| block.kind.starts_with("thinking")) {
                    state.emit(StreamEvent::Reasoning(text.clone()), out);
                }
                if let Some(reason) = block.stop_reason.as_deref().filter(|r| !r.is_empty()) {
                    state.emit(StreamEvent::FinishReason(finish_reason(reason)), out);
                }
            }
            if let Some(delta_usage) = &delta.usage {
                usage.merge(delta_usage);
                state.emit(StreamEvent::Usage(usage.normalize()), out);
            }
        }
        "message_stop" => state.end(out),
        "" if !value.is_object() => state.fail(ApiError::malformed("not a JSON object"), out),
        // ping, content_block_stop, and event types added after this was written.
        _ => {}
    }
}

/// A stream decoder for either protocol, so the transport holds one value whatever the
/// connection speaks. Every method forwards to the decoder inside.
#[derive(Clone, Debug)]
pub enum StreamDecoder {
    /// OpenAI chat completions.
    Chat(SseDecoder),
    /// Anthropic Messages.
    Messages(MessagesDecoder),
}

impl StreamDecoder {
    /// A decoder for `protocol`, answering a request to `model` whose prompt is estimated at
    /// `prompt_tokens` tokens.
    pub fn new(protocol: Protocol, model: &str, prompt_tokens: u64) -> StreamDecoder {
        match protocol {
            Protocol::OpenAiChat => StreamDecoder::Chat(SseDecoder::new(model, prompt_tokens)),
            Protocol::AnthropicMessages => {
                StreamDecoder::Messages(MessagesDecoder::new(model, prompt_tokens))
            }
        }
    }

    /// A decoder for the stream answering `request` over `protocol`.
    pub fn for_request(protocol: Protocol, request: &ChatRequest) -> StreamDecoder {
        StreamDecoder::new(protocol, &request.model, request.estimated_prompt_tokens())
    }

    /// See [`SseDecoder::push`].
    pub fn push(&mut self, text: &str) -> Vec<StreamEvent> {
        match self {
            StreamDecoder::Chat(d) => d.push(text),
            StreamDecoder::Messages(d) => d.push(text),
        }
    }

    /// See [`SseDecoder::is_finished`].
    pub fn is_finished(&self) -> bool {
        match self {
            StreamDecoder::Chat(d) => d.is_finished(),
            StreamDecoder::Messages(d) => d.is_finished(),
        }
    }

    /// See [`SseDecoder::completion_so_far`].
    pub fn completion_so_far(&self) -> &Completion {
        match self {
            StreamDecoder::Chat(d) => d.completion_so_far(),
            StreamDecoder::Messages(d) => d.completion_so_far(),
        }
    }

    /// See [`SseDecoder::finish`] and [`MessagesDecoder::finish`].
    pub fn finish(self) -> Result<Completion, ApiError> {
        match self {
            StreamDecoder::Chat(d) => d.finish(),
            StreamDecoder::Messages(d) => d.finish(),
        }
    }
}

/// Decodes a non-streaming reply of either protocol, as [`StreamDecoder`] does for streams.
pub fn decode_reply(protocol: Protocol, body: &str) -> Result<Completion, ApiError> {
    match protocol {
        Protocol::OpenAiChat => crate::domain::provider::chat::decode_completion(body),
        Protocol::AnthropicMessages => decode_message(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::provider::chat::ChatMessage;

    fn body(req: &ChatRequest) -> Value {
        serde_json::from_str(&messages_body(req)).unwrap()
    }

    #[test]
    fn headers() {
        let key = ApiKey::new(" sk-ant-api03-abcdef ");
        assert_eq!(
            messages_headers(&key),
            [
                ("x-api-key", "sk-ant-api03-abcdef".to_string()),
                ("anthropic-version", "2023-06-01".to_string()),
                ("content-type", "application/json".to_string()),
            ]
        );
    }

    #[test]
    fn body_system_blocks_cache_and_alternation() {
        let req = ChatRequest::new(
            "claude-sonnet-4.5",
            vec![
                ChatMessage::system("你是编剧"),
                ChatMessage::system("角色设定：林夏"),
                ChatMessage::user("第一场"),
                ChatMessage::user("雨夜"),
                ChatMessage::assistant("好的"),
                ChatMessage::new(Role::Other, "tool output"),
                ChatMessage::user(""),
                ChatMessage::assistant("继续"),
            ],
        )
        .temperature(1.7)
        .max_tokens(8000)
        .streaming(true)
        .cache_system(true);
        assert_eq!(
            body(&req),
            json!({
                "model": "claude-sonnet-4.5",
                "max_tokens": 8000,
                "system": [
                    {"type": "text", "text": "你是编剧"},
                    {"type": "text", "text": "角色设定：林夏",
                     "cache_control": {"type": "ephemeral"}},
                ],
                "messages": [
                    {"role": "user", "content": "第一场\n\n雨夜"},
                    {"role": "assistant", "content": "好的\n\n继续"},
                ],
                "temperature": 1.0,
                "stream": true,
            })
        );
        // The OpenAI body is unchanged by cache_system.
        assert!(!req.to_json().contains("cache"));
        assert!(req.to_json().contains("stream_options"));
    }

    #[test]
    fn body_defaults_and_leading_assistant() {
        let req = ChatRequest::new("claude-haiku-4.5", vec![ChatMessage::assistant("从前")])
            .temperature(-0.5);
        assert_eq!(
            body(&req),
            json!({
                "model": "claude-haiku-4.5",
                "max_tokens": DEFAULT_MAX_TOKENS,
                "messages": [
                    {"role": "user", "content": CONTINUE_PROMPT},
                    {"role": "assistant", "content": "从前"},
                ],
                "temperature": 0.0,
            })
        );
        // cache_system without a system prompt marks nothing.
        let empty = ChatRequest::new("m", vec![]).cache_system(true);
        assert_eq!(
            body(&empty),
            json!({"model": "m", "max_tokens": 4096,
                   "messages": [{"role": "user", "content": CONTINUE_PROMPT}]})
        );
    }

    #[test]
    fn body_json_formats_in_words() {
        // json_object: the builder already added the reminder as a system message; it is not
        // repeated, and no response_format is sent.
        let req = ChatRequest::new("m", vec![ChatMessage::user("写分镜")]).json_object();
        let value = body(&req);
        assert_eq!(
            value["system"],
            json!([{"type": "text", "text": JSON_OBJECT_REMINDER}])
        );
        assert!(value.get("response_format").is_none());
        assert!(value.get("stream_options").is_none());
        // A user message saying JSON: no system message was added, so one is created.
        let req = ChatRequest::new(
            "m",
            vec![
                ChatMessage::system("你是编剧"),
                ChatMessage::user("Answer in JSON"),
            ],
        )
        .json_object()
        .cache_system(true);
        assert_eq!(
            body(&req)["system"],
            json!([{"type": "text", "text": format!("你是编剧\n\n{JSON_OBJECT_REMINDER}"),
                    "cache_control": {"type": "ephemeral"}}])
        );
        let req = ChatRequest::new("m", vec![ChatMessage::user("x")])
            .json_schema("shots", json!({"type": "object"}));
        assert_eq!(
            body(&req)["system"],
            json!([{"type": "text", "text": format!(
                "{JSON_OBJECT_REMINDER} Follow this JSON schema: {{\"type\":\"object\"}}")}])
        );
    }

    #[test]
    fn decodes_replies() {
        let reply = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
            "content":[{"type":"thinking","thinking":"想一想","signature":"x"},
                       {"type":"text","text":"雨夜"},{"type":"text","text":"，天台。"}],
            "stop_reason":"end_turn","stop_sequence":null,
            "usage":{"input_tokens":100,"cache_creation_input_tokens":1500,
                     "cache_read_input_tokens":400,"output_tokens":50}}"#;
        assert_eq!(
            decode_message(reply),
            Ok(Completion {
                content: "雨夜，天台。".into(),
                reasoning: "想一想".into(),
                finish_reason: Some("stop".into()),
                model: Some("claude-sonnet-4-5-20250929".into()),
                usage: Some(Usage {
                    prompt: 2000,
                    cached: 400,
                    cache_write: 1500,
                    completion: 50,
                    total: 2050,
                    ..Usage::default()
                }),
            })
        );
        for (stop, expect) in [
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
            ("pause_turn", "pause_turn"),
        ] {
            let body = format!(r#"{{"type":"message","content":[],"stop_reason":"{stop}"}}"#);
            let completion = decode_message(&body).unwrap();
            assert_eq!(completion.finish_reason.as_deref(), Some(expect));
            assert_eq!(completion.usage, None);
        }
        let overloaded =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            decode_message(overloaded),
            Err(ApiError::ServerError { status: 529 })
        );
        let kind = |b: &str| decode_message(b).map_err(|e| e.kind());
        assert_eq!(kind("<html>502</html>"), Err("malformed"));
        assert_eq!(kind(r#"{"hello":"world"}"#), Err("malformed"));
        assert_eq!(kind("[1]"), Err("malformed"));
        // The description never carries the body.
        let Err(ApiError::Malformed { detail }) = decode_message("secret-body sk-ant-xyz") else {
            panic!()
        };
        assert!(
            !detail.contains("secret") && !detail.contains("sk-ant"),
            "{detail}"
        );
    }

    const STREAM: &str = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":1024,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"想\"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"abc\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"雨夜\"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"，天台。\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );

    fn stream_usage() -> Usage {
        Usage {
            prompt: 1049,
            cached: 1024,
            completion: 15,
            total: 1064,
            ..Usage::default()
        }
    }

    fn decode(pieces: &[&str]) -> (Vec<StreamEvent>, Result<Completion, ApiError>) {
        let mut decoder = StreamDecoder::new(Protocol::AnthropicMessages, "claude-sonnet-4-5", 20);
        let mut events = Vec::new();
        for piece in pieces {
            events.extend(decoder.push(piece));
        }
        (events, decoder.finish())
    }

    #[test]
    fn decodes_a_stream_split_anywhere() {
        let expect_events = vec![
            StreamEvent::Model("claude-sonnet-4-5".into()),
            StreamEvent::Reasoning("想".into()),
            StreamEvent::Content("雨夜".into()),
            StreamEvent::Content("，天台。".into()),
            StreamEvent::FinishReason("length".into()),
            StreamEvent::Usage(stream_usage()),
            StreamEvent::Done,
        ];
        let expect = Completion {
            content: "雨夜，天台。".into(),
            reasoning: "想".into(),
            finish_reason: Some("length".into()),
            model: Some("claude-sonnet-4-5".into()),
            usage: Some(stream_usage()),
        };
        let crlf = STREAM.replace('\n', "\r\n");
        for stream in [STREAM.to_string(), crlf, format!("\u{feff}{STREAM}")] {
            let (events, outcome) = decode(&[&stream]);
            assert_eq!(events, expect_events);
            assert_eq!(outcome.as_ref(), Ok(&expect));
            // Split at every character boundary.
            for at in (0..stream.len())
                .filter(|&i| stream.is_char_boundary(i))
                .step_by(7)
            {
                let (events, outcome) = decode(&[&stream[..at], &stream[at..]]);
                assert_eq!(events, expect_events, "split at {at}");
                assert_eq!(outcome.as_ref(), Ok(&expect));
            }
        }
        let mut decoder = MessagesDecoder::new("m", 0);
        decoder.push(STREAM);
        assert!(decoder.is_finished());
        assert_eq!(decoder.completion_so_far().content, "雨夜，天台。");
    }

    #[test]
    fn an_error_event_mid_stream() {
        let text = &STREAM[..STREAM
            .find("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}")
            .unwrap()];
        let error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let (events, outcome) = decode(&[
            text,
            error,
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ]);
        assert_eq!(
            events.last(),
            Some(&StreamEvent::Error(ApiError::ServerError { status: 529 }))
        );
        let Err(ApiError::StreamError { cause, partial }) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(*cause, ApiError::ServerError { status: 529 });
        assert_eq!(partial.content, "雨夜，天台。");
        // No usage arrived beyond message_start's: it is estimated.
        assert!(partial.usage.is_some_and(|u| u.estimated));
    }

    #[test]
    fn a_stream_without_message_stop_is_cut() {
        let before_delta = &STREAM[..STREAM.find("event: message_delta").unwrap()];
        let (_, outcome) = decode(&[before_delta]);
        let Err(ApiError::StreamCut { partial }) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(partial.content, "雨夜，天台。");
        // CJK at Claude's estimate; flagged as an estimate, prompt from the request estimate.
        // message_start's prompt figures are kept; the completion is estimated from the text
        // (6 CJK characters), and the whole is flagged.
        let usage = partial.usage.unwrap();
        assert!(usage.estimated);
        assert_eq!(
            (usage.prompt, usage.cached, usage.cache_write),
            (1049, 1024, 0)
        );
        assert!(usage.completion >= 3, "{usage:?}");
        assert_eq!(usage.total, usage.prompt + usage.completion);
        // After message_delta the real usage is kept even though the stream was cut.
        let before_stop = &STREAM[..STREAM.find("event: message_stop").unwrap()];
        let (_, outcome) = decode(&[before_stop]);
        let Err(ApiError::StreamCut { partial }) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(partial.usage, Some(stream_usage()));
        assert_eq!(decode(&[]).1.map_err(|e| e.kind()), Err("stream_cut"));
        // Broken JSON is a stream error, as in chat streams.
        let (_, outcome) = decode(&["data: {\"type\":\"message_start\",\"message\":\n\n"]);
        assert_eq!(outcome.map_err(|e| e.kind()), Err("stream_error"));
    }

    #[test]
    fn stream_decoder_speaks_chat_too() {
        let mut decoder = StreamDecoder::for_request(
            Protocol::OpenAiChat,
            &ChatRequest::new("gpt-4.1", vec![ChatMessage::user("hi")]),
        );
        let events = decoder.push("data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        assert_eq!(events.last(), Some(&StreamEvent::Done));
        assert!(decoder.is_finished());
        assert_eq!(decoder.finish().unwrap().content, "a");
        assert_eq!(
            decode_reply(
                Protocol::AnthropicMessages,
                r#"{"type":"message","content":[{"type":"text","text":"x"}]}"#
            )
            .unwrap()
            .content,
            "x"
        );
    }
}
