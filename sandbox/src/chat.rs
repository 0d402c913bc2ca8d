//! `POST /v1/chat/completions`: validation, faults, limits, replies and streams.
//!
//! **Prompt caching** follows OpenAI's automatic rule. The prompt is rendered
//! as the token sequence the sandbox counts ([`crate::tokens`]): per message
//! `<|im_start|>`, its role, `<|im_sep|>`, the content's tokens and
//! `<|im_end|>` (the [`TOKENS_PER_MESSAGE`] framing tokens, so the same text
//! under another role is another prefix), then `<|im_start|>` `assistant`
//! ([`tokens::TOKENS_PER_REQUEST`]). Its cache boundaries are the prefixes
//! of [`MIN_CACHED_PROMPT_TOKENS`] (1,024) + [`CACHE_STEP_TOKENS`] (128)·k
//! tokens that fit in it, so a prompt under 1,024 tokens is never cached.
//! When a request reaches generation (it is not refused, and its fault, if
//! any, is not one that answers before generation), the hash of the model
//! and each of its boundary prefixes is remembered, the most recent
//! [`crate::state::PREFIX_CACHE_CAPACITY`] of them. A request's
//! `usage.prompt_tokens_details.cached_tokens` is its longest boundary that
//! an earlier request remembered: 0 or 1,024 + 128·k, never above
//! `prompt_tokens`. DeepSeek models also get `prompt_cache_hit_tokens` (the
//! same figure) and `prompt_cache_miss_tokens` (the rest of the prompt). This
//! cache is apart from the Messages API's `cache_control` cache
//! ([`crate::messages`]); a reset empties both.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::billing::BillRecord;
use crate::config::Fault;
use crate::content::{self, Directives, JsonShape, ReplySpec, DEFAULT_REPLY_TOKENS};
use crate::error::ApiError;
use crate::flow::{self, Admitted, Api};
use crate::limits::http_date;
use crate::models::{self, CONTEXT_WINDOW};
use crate::rng::{fnv1a_extend, hash_json, FNV_OFFSET};
use crate::state::AppState;
use crate::stats::{NoResponse, TokenUsage};
use crate::tokens::{self, count_tokens, split_tokens, TOKENS_PER_MESSAGE};

/// A prompt needs at least this many tokens to be cached (OpenAI's minimum).
pub const MIN_CACHED_PROMPT_TOKENS: u64 = 1024;
/// Past [`MIN_CACHED_PROMPT_TOKENS`], cached prefixes grow in steps of this
/// many tokens.
pub const CACHE_STEP_TOKENS: u64 = 128;
// `ChatRequest::cache_boundaries` renders each message with four framing
// tokens and the request with two.
const _: () = assert!(TOKENS_PER_MESSAGE == 4 && tokens::TOKENS_PER_REQUEST == 2);

/// Token cost charged against `tpm` when a request sets no `max_tokens`.
pub const DEFAULT_MAX_TOKENS_COST: u64 = 60;
/// The `system_fingerprint` sent with every completion.
const FINGERPRINT: &str = "fp_sandbox";

/// Checks the `Authorization: Bearer KEY` header and returns the key.
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let provided = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    provided
        .and_then(|token| state.key_matches(token))
        .map(str::to_owned)
        .ok_or_else(ApiError::invalid_api_key)
}

/// A validated chat request.
#[derive(Clone, Debug)]
pub struct ChatRequest {
    /// The model id.
    pub model: String,
    /// The role of each message.
    pub roles: Vec<String>,
    /// The text of each message (text parts joined).
    pub contents: Vec<String>,
    /// `stream`.
    pub stream: bool,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// Whether `response_format` asks for JSON.
    pub json_mode: bool,
    /// The effective cap: the smaller of `max_tokens` and `max_completion_tokens`.
    pub max_tokens: Option<u64>,
    /// Hash of model, messages, response_format and the token caps.
    pub seed: u64,
}

fn invalid(message: impl Into<String>, param: &'static str, code: &'static str) -> ApiError {
    ApiError::invalid_request(message, Some(param), Some(code))
}

/// Describes a JSON value's type the way OpenAI's validation messages do.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads an optional positive integer parameter.
fn positive_integer(
    body: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(value) if value >= 1 => Ok(Some(value)),
            _ => Err(invalid(
                format!("Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {n} instead."),
                name,
                "integer_below_min_value",
            )),
        },
        Some(other) => Err(invalid(
            format!("Invalid type for '{name}': expected an integer, but got {} instead.", type_name(other)),
            name,
            "invalid_type",
        )),
    }
}

/// Extracts the text of a message's `content`: a string, an array of parts
/// (text parts are joined; other parts carry no text), or null.
fn message_text(content: Option<&Value>, index: usize) -> Result<String, ApiError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let piece = part.get("text").and_then(Value::as_str).ok_or_else(|| {
                            invalid(
                                format!("Missing required parameter: 'messages[{index}].content[].text'."),
                                "messages",
                                "missing_required_parameter",
                            )
                        })?;
                        text.push_str(piece);
                    }
                    Some(_) => {}
                    None => {
                        return Err(invalid(
                            format!("Missing required parameter: 'messages[{index}].content[].type'."),
                            "messages",
                            "missing_required_parameter",
                        ))
                    }
                }
            }
            Ok(text)
        }
        Some(other) => Err(invalid(
            format!(
                "Invalid type for 'messages[{index}].content': expected one of a string or array of objects, but got {} instead.",
                type_name(other)
            ),
            "messages",
            "invalid_type",
        )),
    }
}

impl ChatRequest {
    /// Parses and validates a request body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(body).map_err(|_| {
            ApiError::invalid_request(
                "We could not parse the JSON body of your request. (HINT: This likely means you \
                 aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
                 but what was sent was not valid JSON.)",
                None,
                None,
            )
        })?;
        let Value::Object(body) = &value else {
            return Err(ApiError::invalid_request(
                format!(
                    "Invalid request body: expected an object, but got {} instead.",
                    type_name(&value)
                ),
                None,
                None,
            ));
        };

        let model = match body.get("model") {
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(ApiError::invalid_request(
                    "you must provide a model parameter",
                    None,
                    None,
                ))
            }
            Some(other) => {
                return Err(invalid(
                    format!(
                        "Invalid type for 'model': expected a string, but got {} instead.",
                        type_name(other)
                    ),
                    "model",
                    "invalid_type",
                ))
            }
        };

        let messages = match body.get("messages") {
            None | Some(Value::Null) => {
                return Err(invalid(
                    "Missing required parameter: 'messages'.",
                    "messages",
                    "missing_required_parameter",
                ))
            }
            Some(Value::Array(messages)) if messages.is_empty() => {
                return Err(invalid(
                    "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                    "messages",
                    "empty_array",
                ))
            }
            Some(Value::Array(messages)) => messages,
            Some(other) => {
                return Err(invalid(
                    format!("Invalid type for 'messages': expected an array of objects, but got {} instead.", type_name(other)),
                    "messages",
                    "invalid_type",
                ))
            }
        };
        let mut roles = Vec::with_capacity(messages.len());
        let mut contents = Vec::with_capacity(messages.len());
        for (index, message) in messages.iter().enumerate() {
            let Value::Object(message) = message else {
                return Err(invalid(
                    format!("Invalid type for 'messages[{index}]': expected an object, but got {} instead.", type_name(message)),
                    "messages",
                    "invalid_type",
                ));
            };
            let role = match message.get("role").and_then(Value::as_str) {
                Some(role @ ("system" | "developer" | "user" | "assistant" | "tool" | "function")) => role,
                Some(other) => {
                    return Err(invalid(
                        format!("Invalid value: '{other}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."),
                        "messages",
                        "invalid_value",
                    ))
                }
                None => {
                    return Err(invalid(
                        format!("Missing required parameter: 'messages[{index}].role'."),
                        "messages",
                        "missing_required_parameter",
                    ))
                }
            };
            roles.push(role.to_owned());
            contents.push(message_text(message.get("content"), index)?);
        }

        let stream = match body.get("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(stream)) => *stream,
            Some(other) => {
                return Err(invalid(
                    format!(
                        "Invalid type for 'stream': expected a boolean, but got {} instead.",
                        type_name(other)
                    ),
                    "stream",
                    "invalid_type",
                ))
            }
        };
        let include_usage = match body.get("stream_options") {
            None | Some(Value::Null) => false,
            Some(_) if !stream => {
                return Err(ApiError::invalid_request(
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                    Some("stream_options"),
                    None,
                ))
            }
            Some(Value::Object(options)) => match options.get("include_usage") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(include)) => *include,
                Some(other) => {
                    return Err(invalid(
                        format!("Invalid type for 'stream_options.include_usage': expected a boolean, but got {} instead.", type_name(other)),
                        "stream_options",
                        "invalid_type",
                    ))
                }
            },
            Some(other) => {
                return Err(invalid(
                    format!("Invalid type for 'stream_options': expected an object, but got {} instead.", type_name(other)),
                    "stream_options",
                    "invalid_type",
                ))
            }
        };

        match body.get("temperature") {
            None | Some(Value::Null) => {}
            Some(Value::Number(t)) => {
                let t = t.as_f64().unwrap_or(f64::NAN);
                if !(0.0..=2.0).contains(&t) {
                    return Err(invalid(
                        format!("Invalid 'temperature': decimal out of range. Expected a value between 0 and 2, but got {t} instead."),
                        "temperature",
                        "invalid_value",
                    ));
                }
            }
            Some(other) => {
                return Err(invalid(
                    format!(
                        "Invalid type for 'temperature': expected a decimal, but got {} instead.",
                        type_name(other)
                    ),
                    "temperature",
                    "invalid_type",
                ))
            }
        }

        let max_tokens = positive_integer(body, "max_tokens")?;
        let max_completion_tokens = positive_integer(body, "max_completion_tokens")?;
        let cap = match (max_tokens, max_completion_tokens) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };

        let json_mode = match body.get("response_format") {
            None | Some(Value::Null) => false,
            Some(Value::Object(format)) => match format.get("type").and_then(Value::as_str) {
                Some("text") => false,
                Some("json_object") => {
                    // OpenAI refuses JSON mode unless the prompt asks for JSON.
                    if !contents.iter().any(|text| text.to_lowercase().contains("json")) {
                        return Err(ApiError::invalid_request(
                            "'messages' must contain the word 'json' in some form, to use \
                             'response_format' of type 'json_object'.",
                            Some("messages"),
                            None,
                        ));
                    }
                    true
                }
                Some("json_schema") => {
                    let named = format
                        .get("json_schema")
                        .and_then(|schema| schema.get("name"))
                        .is_some_and(Value::is_string);
                    if !named {
                        return Err(invalid(
                            "Missing required parameter: 'response_format.json_schema.name'.",
                            "response_format",
                            "missing_required_parameter",
                        ));
                    }
                    true
                }
                _ => {
                    return Err(invalid(
                        "Invalid 'response_format.type': expected one of 'text', 'json_object' or 'json_schema'.",
                        "response_format",
                        "invalid_value",
                    ))
                }
            },
            Some(other) => {
                return Err(invalid(
                    format!("Invalid type for 'response_format': expected an object, but got {} instead.", type_name(other)),
                    "response_format",
                    "invalid_type",
                ))
            }
        };

        // The reply depends on exactly these fields, so `stream` or
        // `temperature` do not change it: a streamed reply equals the
        // non-streamed one.
        let seed = hash_json(&serde_json::json!({
            "model": model,
            "messages": body.get("messages"),
            "response_format": body.get("response_format"),
            "max_tokens": body.get("max_tokens"),
            "max_completion_tokens": body.get("max_completion_tokens"),
        }));

        Ok(Self {
            model,
            roles,
            contents,
            stream,
            include_usage,
            json_mode,
            max_tokens: cap,
            seed,
        })
    }

    /// Prompt tokens under the sandbox rule.
    pub fn prompt_tokens(&self) -> u64 {
        tokens::prompt_tokens(self.contents.iter().map(String::as_str))
    }

    /// The prompt's cache boundaries (see the module docs): for each prefix
    /// of [`MIN_CACHED_PROMPT_TOKENS`] + [`CACHE_STEP_TOKENS`]·k tokens that
    /// fits in the prompt, its token count and the hash of the model and its
    /// tokens, shortest first.
    pub fn cache_boundaries(&self) -> Vec<(u64, u64)> {
        // Framing tokens and text tokens are hashed after different
        // separators, so no text can pass for a framing token.
        const MARK: &[u8] = b"\x1e";
        const TEXT: &[u8] = b"\x1f";
        let mut hash = fnv1a_extend(FNV_OFFSET, self.model.as_bytes());
        let mut position = 0;
        let mut next = MIN_CACHED_PROMPT_TOKENS;
        let mut boundaries = Vec::new();
        // Each framing token is one token; a text piece is one too
        // (`split_tokens` cuts one per token).
        let mut push = |separator: &[u8], token: &str, tokens: u64| {
            hash = fnv1a_extend(fnv1a_extend(hash, separator), token.as_bytes());
            position += tokens;
            while position >= next {
                if position == next {
                    boundaries.push((next, hash));
                }
                next += CACHE_STEP_TOKENS;
            }
        };
        for (role, content) in self.roles.iter().zip(&self.contents) {
            for mark in ["<|im_start|>", role, "<|im_sep|>"] {
                push(MARK, mark, 1);
            }
            for piece in split_tokens(content) {
                // A content of whitespace only is one piece of no token.
                match count_tokens(piece) {
                    0 => {}
                    tokens => push(TEXT, piece, tokens),
                }
            }
            push(MARK, "<|im_end|>", 1);
        }
        push(MARK, "<|im_start|>", 1);
        push(MARK, "assistant", 1);
        boundaries
    }

    /// The text of the last user message ("" when there is none).
    fn last_user(&self) -> &str {
        self.roles
            .iter()
            .zip(&self.contents)
            .rev()
            .find(|(role, _)| role.as_str() == "user")
            .map(|(_, content)| content.as_str())
            .unwrap_or("")
    }

    /// The fault a `[[sandbox:fault=NAME]]` directive in the last user message
    /// forces for this request. (Every directive is validated by
    /// [`Self::reply_spec`].)
    pub fn forced_fault(&self) -> Option<Fault> {
        Directives::parse(self.last_user()).ok()?.fault
    }

    /// Builds the reply settings from the prompt and its directives.
    pub fn reply_spec(&self) -> Result<ReplySpec, ApiError> {
        let all_text = self.contents.join("\n");
        let directives = Directives::parse(&all_text)
            .map_err(|message| ApiError::invalid_request(message, Some("messages"), None))?;
        let last_user = self.last_user();
        // A malformation directive implies a JSON reply, even without
        // `response_format`; so does a last user message that asks for JSON, as a
        // model that follows instructions would (a route whose provider has no JSON
        // mode, like Claude's, only asks in the prompt).
        let asks_json = last_user.to_lowercase().contains("json");
        let json = (self.json_mode || directives.malformed.is_some() || asks_json)
            .then(|| JsonShape::detect(&all_text));
        Ok(ReplySpec {
            seed: self.seed,
            chinese: tokens::contains_cjk(last_user),
            target_tokens: directives.tokens.unwrap_or(DEFAULT_REPLY_TOKENS),
            max_tokens: self.max_tokens,
            json,
            malformed: directives.malformed,
        })
    }
}

/// The `usage` object on the wire.
#[derive(Clone, Debug, Serialize)]
struct WireUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptDetails,
    completion_tokens_details: CompletionDetails,
    /// DeepSeek's cache fields, sent for `deepseek-*` models only.
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_hit_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_miss_tokens: Option<u64>,
    /// OpenRouter's stated cost in dollars, sent for `vendor/model` ids only (see
    /// [`openrouter_cost`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
}

/// What OpenRouter states in `usage.cost` for a call to `vendor/model`: the model's list price
/// per million tokens (uncached input, cached input, output), as OpenRouter passes the
/// provider's price through. Models without a price here state none.
fn openrouter_cost(usage: &TokenUsage, model: &str) -> Option<f64> {
    let (_, name) = model.split_once('/')?;
    // $ per million tokens: input, cached input, output (the providers' list prices, 2026-12).
    let (input, cached, output) = match name {
        "deepseek-v3.2" | "deepseek-chat" => (0.28, 0.028, 0.42),
        "gemini-2.5-flash" => (0.30, 0.03, 2.50),
        "gpt-4.1" => (2.0, 0.5, 8.0),
        "claude-sonnet-4.5" | "claude-sonnet-4-5" => (3.0, 0.3, 15.0),
        _ => return None,
    };
    let uncached = (usage.prompt_tokens - usage.cached_tokens) as f64;
    Some(
        (uncached * input
            + usage.cached_tokens as f64 * cached
            + usage.completion_tokens as f64 * output)
            / 1_000_000.0,
    )
}

#[derive(Clone, Debug, Serialize)]
struct PromptDetails {
    cached_tokens: u64,
}

#[derive(Clone, Debug, Serialize)]
struct CompletionDetails {
    reasoning_tokens: u64,
}

impl WireUsage {
    fn new(usage: &TokenUsage, model: &str) -> Self {
        let deepseek = model.starts_with("deepseek");
        Self {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            total_tokens: usage.total_tokens(),
            prompt_tokens_details: PromptDetails {
                cached_tokens: usage.cached_tokens,
            },
            completion_tokens_details: CompletionDetails {
                reasoning_tokens: 0,
            },
            prompt_cache_hit_tokens: deepseek.then_some(usage.cached_tokens),
            prompt_cache_miss_tokens: deepseek.then_some(usage.prompt_tokens - usage.cached_tokens),
            cost: openrouter_cost(usage, model),
        }
    }
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
    refusal: Option<&'a str>,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'a str,
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: WireUsage,
    system_fingerprint: &'static str,
}

#[derive(Serialize)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'a str>,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    system_fingerprint: &'static str,
    choices: Vec<ChunkChoice<'a>>,
    /// Absent without `include_usage`; `null` on content chunks with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<WireUsage>>,
}

/// The body of a relay's `relay_error_200` answer.
pub const RELAY_ERROR_BODY: &str = r#"{"error":{"message":"upstream error: connection refused","type":"upstream_error","code":"bad_gateway"}}"#;

/// The in-stream error event of `stream_error_event`.
const STREAM_ERROR_EVENT: &str = concat!(
    r#"data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","#,
    r#""type":"server_error","param":null,"code":null}}"#,
    "\n\n"
);

/// An nginx error page, as a gateway in front of a provider sends it.
pub(crate) fn html_page(status: StatusCode) -> Response {
    let title = match status {
        StatusCode::GATEWAY_TIMEOUT => "504 Gateway Time-out".to_owned(),
        other => format!(
            "{} {}",
            other.as_u16(),
            other.canonical_reason().unwrap_or("")
        ),
    };
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n\
         <hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    (status, [(header::CONTENT_TYPE, "text/html")], page).into_response()
}

/// The error a scripted body ends with to abort its connection.
pub(crate) fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "sandbox fault: connection aborted",
    )
}

/// A response whose connection closes before any byte of it is sent.
///
/// Its body fails at once, before hyper has flushed the status line and the
/// headers it buffered, and a body error makes hyper drop the connection. The
/// [`NoResponse`] mark lets the statistics count it as no response.
pub(crate) fn no_response() -> Response {
    let body = Body::from_stream(futures_util::stream::iter([Err::<Bytes, _>(aborted())]));
    let mut response = body.into_response();
    response.extensions_mut().insert(NoResponse);
    response
}

/// One piece of a scripted response body.
pub(crate) enum Piece {
    /// Bytes to send.
    Data(Bytes),
    /// Abort the connection.
    Abort,
}

/// How a scripted body ends once its events are sent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ending {
    /// Normally (for chunked bodies, with the terminating chunk).
    Finish,
    /// By aborting the connection.
    Abort,
    /// By sending nothing more for a while, then aborting the connection.
    StallThenAbort(Duration),
}

/// A response body fed by a generator task through a channel.
///
/// Its first poll is always `Pending` (it wakes itself at once), so hyper
/// flushes the status line and headers before any piece. An abort is also
/// preceded by one `Pending`, so the bytes already written are flushed; then
/// the body yields an error, and hyper closes the connection without the
/// chunked terminator. The kernel closes the socket normally (a FIN, not a TCP
/// RST): the client sees the connection end in the middle of the body.
struct Outgoing {
    rx: mpsc::UnboundedReceiver<Piece>,
    bill: Arc<BillRecord>,
    started: bool,
    aborting: bool,
    finished: bool,
}

impl Stream for Outgoing {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        if !this.started || this.aborting {
            if this.aborting {
                this.finished = true;
                return Poll::Ready(Some(Err(aborted())));
            }
            this.started = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match this.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Piece::Data(bytes))) => Poll::Ready(Some(Ok(bytes))),
            Poll::Ready(Some(Piece::Abort)) => {
                this.aborting = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(None) => {
                this.finished = true;
                this.bill.delivered();
                Poll::Ready(None)
            }
        }
    }
}

/// Starts generating `events` (each with the completion tokens it carries)
/// at one per `delay`, whether or not the client reads, and returns the body
/// that sends them. Each event's tokens are billed as it is generated;
/// generation stops when the body is dropped (the client left).
pub(crate) fn generate(
    events: Vec<(Bytes, u64)>,
    ending: Ending,
    delay: Duration,
    bill: Arc<BillRecord>,
) -> Body {
    let (tx, rx) = mpsc::unbounded_channel();
    let task_bill = Arc::clone(&bill);
    tokio::spawn(async move {
        run_generation(&tx, &task_bill, events, ending, delay).await;
        // The bill goes first: the body sees its end only after this task
        // let go of it, so a finished stream's bill is settled when it ends.
        drop(task_bill);
        drop(tx);
    });
    Body::from_stream(Outgoing {
        rx,
        bill,
        started: false,
        aborting: false,
        finished: false,
    })
}

async fn run_generation(
    tx: &mpsc::UnboundedSender<Piece>,
    bill: &BillRecord,
    events: Vec<(Bytes, u64)>,
    ending: Ending,
    delay: Duration,
) {
    for (index, (event, tokens)) in events.into_iter().enumerate() {
        if index > 0 && !delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = tx.closed() => return,
            }
        }
        if tx.is_closed() {
            return;
        }
        bill.generated(tokens);
        if tx.send(Piece::Data(event)).is_err() {
            return;
        }
    }
    match ending {
        Ending::Finish => {}
        Ending::Abort => {
            let _ = tx.send(Piece::Abort);
        }
        Ending::StallThenAbort(hang) => {
            tokio::select! {
                _ = tokio::time::sleep(hang) => {
                    let _ = tx.send(Piece::Abort);
                }
                _ = tx.closed() => {}
            }
        }
    }
}

/// Keeps the first half (rounded up) of `chunks`, after a keep-alive comment.
fn first_half(mut chunks: Vec<(Bytes, u64)>) -> Vec<(Bytes, u64)> {
    chunks.truncate(chunks.len().div_ceil(2));
    chunks.insert(0, (Bytes::from_static(b": keep-alive\n\n"), 0));
    chunks
}

/// The first half of a JSON body, cut at a character boundary.
pub(crate) fn half_json(mut body: String) -> String {
    let mut half = body.len() / 2;
    while !body.is_char_boundary(half) {
        half -= 1;
    }
    body.truncate(half);
    body
}

/// Everything needed to answer once the request is admitted.
pub(crate) struct Answer {
    admitted: Admitted,
    request: ChatRequest,
    reply: content::Reply,
    id: String,
    created: u64,
}

impl Answer {
    fn chunk(&self, choices: Vec<ChunkChoice<'_>>, usage: Option<WireUsage>) -> Bytes {
        let chunk = Chunk {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.request.model,
            system_fingerprint: FINGERPRINT,
            choices,
            usage: self.request.include_usage.then_some(usage),
        };
        let json = serde_json::to_string(&chunk).expect("chunks always serialize");
        Bytes::from(format!("data: {json}\n\n"))
    }

    fn delta_chunk(
        &self,
        role: Option<&'static str>,
        content: Option<&str>,
        finish: Option<&str>,
    ) -> Bytes {
        self.chunk(
            vec![ChunkChoice {
                index: 0,
                delta: Delta { role, content },
                logprobs: None,
                finish_reason: finish,
            }],
            None,
        )
    }
}

impl Api for Answer {
    type Error = ApiError;
    const REQUEST_ID_HEADER: &'static str = "x-request-id";
    const STREAM_CONTENT_TYPE: &'static str = "text/event-stream";

    fn admitted(&self) -> &Admitted {
        &self.admitted
    }

    fn provider_fault(&self, fault: Fault) -> ApiError {
        let (model, config) = (&self.request.model, &self.admitted.config);
        match fault {
            Fault::InsufficientQuota => ApiError::insufficient_quota(),
            Fault::Server500 => ApiError::server_error(),
            Fault::Server503 => ApiError::overloaded(),
            Fault::RetryAfterDate => {
                ApiError::rate_limited_until(http_date(unix_now() + config.retry_after_date_s))
            }
            Fault::RequestTimeout => ApiError::request_timeout(),
            Fault::TryAgainMessage => {
                ApiError::rate_limited_try_again(model, config.try_again_in_s)
            }
            Fault::RateLimit => ApiError::rate_limited(1000),
            other => unreachable!("{} is answered by crate::flow", other.name()),
        }
    }

    fn generation_error() -> ApiError {
        ApiError::generation_error()
    }

    fn body_json(&self) -> String {
        let completion = Completion {
            id: &self.id,
            object: "chat.completion",
            created: self.created,
            model: &self.request.model,
            choices: [Choice {
                index: 0,
                message: Message {
                    role: "assistant",
                    content: &self.reply.content,
                    refusal: None,
                },
                logprobs: None,
                finish_reason: self.reply.finish_reason,
            }],
            usage: WireUsage::new(&self.admitted.usage, &self.request.model),
            system_fingerprint: FINGERPRINT,
        };
        serde_json::to_string(&completion).expect("completions always serialize")
    }

    /// The SSE events of the stream, each with the completion tokens it
    /// carries, and how the stream ends. A full stream is: keep-alive, role,
    /// one chunk per token, the finish chunk, the usage chunk when asked for,
    /// and `[DONE]`. The mid-stream faults keep the keep-alive and the first
    /// half of the role, token and finish chunks.
    fn stream_script(&self) -> (Vec<(Bytes, u64)>, Ending) {
        let keep_alive = (Bytes::from_static(b": keep-alive\n\n"), 0);
        let done = (Bytes::from_static(b"data: [DONE]\n\n"), 0);
        let role = (self.delta_chunk(Some("assistant"), Some(""), None), 0);
        match self.admitted.fault {
            Some(Fault::MalformedJson) => {
                // The reply was generated; its encoding broke.
                let broken = (
                    Bytes::from_static(b"data: {broken\n\n"),
                    self.admitted.usage.completion_tokens,
                );
                return (vec![keep_alive, role, broken, done], Ending::Finish);
            }
            Some(Fault::BodyDropped) => return (Vec::new(), Ending::Abort),
            _ => {}
        }
        let mut chunks = vec![role];
        for piece in split_tokens(&self.reply.content) {
            chunks.push((
                self.delta_chunk(None, Some(piece), None),
                count_tokens(piece),
            ));
        }
        chunks.push((
            self.delta_chunk(None, None, Some(self.reply.finish_reason)),
            0,
        ));
        flow::stream_ending(
            chunks,
            self.admitted.fault,
            self.admitted.config.hang_ms,
            first_half,
            Bytes::from_static(STREAM_ERROR_EVENT.as_bytes()),
            |mut chunks| {
                if self.request.include_usage {
                    let usage = WireUsage::new(&self.admitted.usage, &self.request.model);
                    chunks.push((self.chunk(Vec::new(), Some(usage)), 0));
                }
                chunks.insert(0, keep_alive);
                chunks.push(done);
                chunks
            },
        )
    }

    fn request_id(&self) -> String {
        format!("req_{}", self.id.trim_start_matches("chatcmpl-"))
    }

    fn limit_headers(&self, headers: &mut HeaderMap) {
        self.admitted.limits.apply(headers);
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `POST /v1/chat/completions`, through the flow of [`crate::flow::handle`]:
/// the key check, validation, the rate limiter and the fault draw (`admit`);
/// then either a pre-generation fault, answered after the drawn latency and
/// never billed, or the start of generation (the bill opens, see
/// [`crate::billing`]), the latency, and the reply or its fault.
pub async fn completions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    flow::handle(state, headers, body, authorize, admit).await
}

/// Validates the request, applies the rate limits and draws the faults.
/// Returns the prepared answer and the delay before the first byte.
fn admit(state: &AppState, key: &str, body: &Bytes) -> Result<(Answer, u64), ApiError> {
    // Errors found before the limiter still report the buckets' state.
    let peek = |error: ApiError| flow::peek(state, key, error);
    let request = ChatRequest::parse(body).map_err(peek)?;
    // Under `model_ids: "openrouter"` the request names `vendor/model`; it is billed as the
    // catalog model.
    let billed_model = match models::resolve_served(state, &request.model) {
        None => return Err(peek(ApiError::model_not_found(&request.model))),
        Some(model) if !model.chat => return Err(peek(ApiError::new(
            StatusCode::NOT_FOUND,
            "This is not a chat model and thus not supported in the v1/chat/completions endpoint.",
            "invalid_request_error",
            Some("model"),
            None,
        ))),
        Some(model) => model.id,
    };
    let prompt_tokens = request.prompt_tokens();
    if prompt_tokens > CONTEXT_WINDOW {
        return Err(peek(ApiError::context_length_exceeded(
            CONTEXT_WINDOW,
            prompt_tokens,
        )));
    }
    let spec = request.reply_spec().map_err(peek)?;
    let boundaries = request.cache_boundaries();
    let token_cost = prompt_tokens + request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS_COST);
    let (admission, (cached, counter)) = flow::admit_locked(
        state,
        key,
        token_cost,
        request.forced_fault(),
        |shared, now, begins| {
            // The longest boundary an earlier request remembered, once its response began.
            let cached = boundaries
                .iter()
                .rev()
                .find(|(_, hash)| shared.prefix_cache.contains(*hash, now))
                .map_or(0, |(tokens, _)| *tokens);
            // A prompt that reached generation is in the prefix cache from its first byte.
            if let Some(begins) = begins {
                for (_, hash) in &boundaries {
                    shared.prefix_cache.insert(*hash, begins);
                }
            }
            shared.completions += 1;
            (cached, shared.completions)
        },
    )?;

    let reply = content::generate(&spec);
    let usage = TokenUsage {
        prompt_tokens,
        completion_tokens: count_tokens(&reply.content),
        cached_tokens: cached,
        cache_creation_tokens: 0,
    };
    let (admitted, delay_ms) =
        admission.into_admitted(state, key, billed_model, request.stream, usage, body);
    let answer = Answer {
        admitted,
        id: format!("chatcmpl-{:016x}{:08x}", request.seed, counter as u32),
        created: unix_now(),
        request,
        reply,
    };
    Ok((answer, delay_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(model: &str, messages: Value) -> ChatRequest {
        let body = serde_json::json!({"model": model, "messages": messages});
        ChatRequest::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn cache_boundaries_step_by_128_from_1024_within_the_prompt() {
        // 1,100 one-token words and the framing.
        let text = "word ".repeat(1100);
        let messages = serde_json::json!([{"role": "user", "content": text}]);
        let chat = request("gpt-4.1", messages.clone());
        assert_eq!(chat.prompt_tokens(), 1100 + 4 + 2);
        let boundaries = chat.cache_boundaries();
        let tokens: Vec<u64> = boundaries.iter().map(|(tokens, _)| *tokens).collect();
        assert_eq!(tokens, [1024]);
        let long = serde_json::json!([{"role": "user", "content": "word ".repeat(1276)}]);
        let tokens: Vec<u64> = request("gpt-4.1", long)
            .cache_boundaries()
            .iter()
            .map(|(tokens, _)| *tokens)
            .collect();
        assert_eq!(tokens, [1024, 1152, 1280]); // the prompt is 1,282 tokens
        let short = serde_json::json!([{"role": "user", "content": "word ".repeat(1017)}]);
        assert!(request("gpt-4.1", short).cache_boundaries().is_empty());
        // The model and the role are part of every prefix.
        let other = request("gpt-4.1-mini", messages).cache_boundaries();
        assert_ne!(other[0].1, boundaries[0].1);
        let system = serde_json::json!([{"role": "system", "content": text}]);
        assert_ne!(
            request("gpt-4.1", system).cache_boundaries()[0].1,
            boundaries[0].1
        );
    }
}
