//! `POST /v1/messages`: Anthropic's Messages API, on the same reply
//! generator, token counter, rate limiter, fault plan and billing as
//! [`crate::chat`].
//!
//! * **Headers.** The key comes in `x-api-key` (or `Authorization: Bearer`,
//!   which Anthropic's own API and the relays also accept, and which the
//!   official client sends when given an `authToken`); `anthropic-version` is
//!   required, a date from 2023-01-01 on (see [`valid_version`]).
//! * **Request.** `model` and `max_tokens` (an integer ≥ 1) are required;
//!   `messages` is a non-empty array of `{role: "user"|"assistant",
//!   content}` whose roles alternate; `content` is a string or an array of
//!   blocks (`text` blocks carry text; `image`, `document`, `tool_use`,
//!   `tool_result`… are accepted and count no tokens); `system` is a string
//!   or an array of `text` blocks; `temperature` is between 0 and 1; fields
//!   the API does not know are refused ("Extra inputs are not permitted").
//! * **Tokens.** With the sandbox rule ([`crate::tokens::count_tokens`]): each
//!   text block costs its own count, the system prompt (when present) and
//!   each message add [`TOKENS_PER_MESSAGE`] and the request
//!   [`TOKENS_PER_REQUEST`]. A request with one system string and string
//!   messages therefore costs what the same chat completion costs.
//! * **Prompt caching**, Anthropic's rules: only a block (system or message)
//!   marked `cache_control: {"type": "ephemeral"}` is a breakpoint, at most
//!   [`MAX_CACHE_BREAKPOINTS`] of them; the prefix up to and including a
//!   breakpoint is cached only when it has at least
//!   [`min_cacheable_tokens`] tokens (1,024; 2,048 for Haiku models, as
//!   `shared/PROVIDERS.md` says), otherwise the request runs uncached with no
//!   error. A request reads the longest cached breakpoint prefix
//!   (`cache_read_input_tokens`) and writes the rest up to its last eligible
//!   breakpoint (`cache_creation_input_tokens`); `input_tokens` is what lies
//!   after that, so the three add up to the prompt. Caches are per model and
//!   kept apart from the chat completions' prefix cache; a reset empties them.
//! * **Statistics.** A Messages request is billed like a chat completion
//!   (`--billing real|complete`): `prompt_tokens` is the whole prompt (input
//!   plus cache writes plus cache reads), `cached_tokens` the cache reads and
//!   `cache_creation_tokens` the cache writes.
//! * **Faults** map onto Messages errors: `rate_limit`, `retry_after_date`
//!   and `try_again_message` → 429 `rate_limit_error`; `server_503` → 529
//!   `overloaded_error`; `server_500` → 500 `api_error`; `insufficient_quota`
//!   → 400 `invalid_request_error` (Anthropic's "credit balance is too low");
//!   `request_timeout` → 504 `timeout_error`; the gateway and relay faults
//!   answer as for chat. `stream_error_event` sends half the stream, then
//!   `event: error` with an `overloaded_error` (a 500 `api_error` when not
//!   streaming); the other generation faults break the body as for chat.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::chat::{unix_now, ChatRequest, Ending};
use crate::config::Fault;
use crate::content;
use crate::error::RetryAfter;
use crate::flow::{self, Admitted, Api, ProviderError};
use crate::limits::{http_date, LimitSnapshot};
use crate::models::{self, CONTEXT_WINDOW};
use crate::rng::{fnv1a_extend, hash_json, FNV_OFFSET};
use crate::state::AppState;
use crate::stats::TokenUsage;
use crate::tokens::{count_tokens, split_tokens, TOKENS_PER_MESSAGE, TOKENS_PER_REQUEST};

/// The oldest `anthropic-version` accepted.
pub const OLDEST_ANTHROPIC_VERSION: &str = "2023-01-01";

/// Whether `version` is an `anthropic-version` the sandbox accepts: a date
/// `YYYY-MM-DD` from [`OLDEST_ANTHROPIC_VERSION`] on. (`2023-06-01` is the one
/// the documentation names; the official clients send newer dates.)
pub fn valid_version(version: &str) -> bool {
    let bytes = version.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    let month = version.get(5..7).and_then(|m| m.parse::<u8>().ok());
    let day = version.get(8..10).and_then(|d| d.parse::<u8>().ok());
    shape
        && month.is_some_and(|m| (1..=12).contains(&m))
        && day.is_some_and(|d| (1..=31).contains(&d))
        && version >= OLDEST_ANTHROPIC_VERSION
}
/// The fewest tokens a cached prefix may have (Sonnet and Opus class models).
pub const MIN_CACHEABLE_TOKENS: u64 = 1024;
/// The fewest tokens a cached prefix may have on Haiku models.
pub const MIN_CACHEABLE_TOKENS_HAIKU: u64 = 2048;
/// The most `cache_control` breakpoints one request may carry.
pub const MAX_CACHE_BREAKPOINTS: usize = 4;
/// The message of the in-stream `error` event and of the 529.
pub const OVERLOADED_MESSAGE: &str = "Overloaded";

/// The top-level request fields the Messages API knows.
const KNOWN_FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "stream",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
];

/// The minimum cacheable prefix of `model`: [`MIN_CACHEABLE_TOKENS_HAIKU`]
/// for Haiku models, else [`MIN_CACHEABLE_TOKENS`].
pub fn min_cacheable_tokens(model: &str) -> u64 {
    if model.to_ascii_lowercase().contains("haiku") {
        MIN_CACHEABLE_TOKENS_HAIKU
    } else {
        MIN_CACHEABLE_TOKENS
    }
}

/// An error in Anthropic's shape:
/// `{"type":"error","error":{"type","message"}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessagesError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.type`, e.g. `rate_limit_error`.
    pub kind: &'static str,
    /// `error.message`.
    pub message: String,
    /// The `retry-after` header of a 429.
    pub retry_after: Option<RetryAfter>,
    /// The rate-limit buckets, sent as `anthropic-ratelimit-*` headers
    /// (boxed to keep errors small).
    pub limits: Box<LimitSnapshot>,
}

impl MessagesError {
    /// A generic error.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            retry_after: None,
            limits: Box::default(),
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 401 `authentication_error`.
    pub fn authentication(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_error", message)
    }

    /// 404 `not_found_error` for a model that is not served.
    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!("model: {model}"),
        )
    }

    /// 429 `rate_limit_error`.
    pub fn rate_limited(retry_after: Option<RetryAfter>, message: impl Into<String>) -> Self {
        Self {
            retry_after,
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message)
        }
    }

    /// 529 `overloaded_error`.
    pub fn overloaded() -> Self {
        Self::new(
            StatusCode::from_u16(529).expect("valid status"),
            "overloaded_error",
            OVERLOADED_MESSAGE,
        )
    }

    /// 500 `api_error`.
    pub fn api_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "Internal server error",
        )
    }

    /// Attaches the rate-limit buckets.
    pub fn with_limits(mut self, limits: LimitSnapshot) -> Self {
        self.limits = Box::new(limits);
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"type": "error", "error": {"type": self.kind, "message": self.message}})
    }
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl ProviderError for MessagesError {
    /// 429 after `retry_after_ms` of the sandbox's own limiter.
    fn limited(retry_after_ms: u64) -> Self {
        Self::rate_limited(
            Some(RetryAfter::Millis(retry_after_ms)),
            "This request would exceed your organization's rate limit. Please reduce the \
             prompt length or the maximum tokens requested, or try again later.",
        )
    }

    fn with_limits(self, limits: LimitSnapshot) -> Self {
        MessagesError::with_limits(self, limits)
    }
}

impl IntoResponse for MessagesError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        self.limits.apply_anthropic(&mut headers, unix_now_ms());
        if let Some(retry_after) = &self.retry_after {
            retry_after.apply(&mut headers, false);
        }
        (self.status, headers, axum::Json(self.body())).into_response()
    }
}

/// Checks `x-api-key` (else `Authorization: Bearer`) and `anthropic-version`,
/// and returns the key.
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<String, MessagesError> {
    let key = match headers.get("x-api-key") {
        Some(value) => value.to_str().ok().map(str::trim),
        None => {
            if headers.get(header::AUTHORIZATION).is_none() {
                return Err(MessagesError::authentication(
                    "x-api-key header is required",
                ));
            }
            headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| {
                    let (scheme, token) = value.trim().split_once(' ')?;
                    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
                })
        }
    };
    let key = key
        .and_then(|key| state.key_matches(key))
        .map(str::to_owned)
        .ok_or_else(|| MessagesError::authentication("invalid x-api-key"))?;
    match headers
        .get("anthropic-version")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => Err(MessagesError::invalid_request(
            "anthropic-version: header is required",
        )),
        Some(version) if valid_version(version.trim()) => Ok(key),
        Some(version) => Err(MessagesError::invalid_request(format!(
            "anthropic-version: \"{version}\" is not a valid version"
        ))),
    }
}

/// One block of the prompt, as far as tokens and caching go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The block's text ("" for blocks that carry none, like images).
    pub text: String,
    /// Whether the block carries a `cache_control` breakpoint.
    pub breakpoint: bool,
    /// Whether that breakpoint asks for the 1-hour TTL (`"ttl": "1h"`).
    pub one_hour: bool,
}

/// One prefix that a breakpoint may cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breakpoint {
    /// The hash of the model and everything up to and including the block.
    pub hash: u64,
    /// The prompt tokens of that prefix.
    pub tokens: u64,
    /// Whether it asks for the 1-hour TTL.
    pub one_hour: bool,
}

/// A validated Messages request.
#[derive(Clone, Debug)]
pub struct MessagesRequest {
    /// The model id.
    pub model: String,
    /// `max_tokens`.
    pub max_tokens: u64,
    /// `stream`.
    pub stream: bool,
    /// The system blocks (a string is one block).
    pub system: Vec<Block>,
    /// Each message's role and blocks.
    pub messages: Vec<(String, Vec<Block>)>,
    /// Hash of model, system, messages and max_tokens.
    pub seed: u64,
}

/// How a JSON value's type is named in Anthropic's validation messages.
fn expected(path: &str, what: &str) -> MessagesError {
    MessagesError::invalid_request(format!("{path}: Input should be {what}"))
}

fn cache_control(block: &Map<String, Value>, path: &str) -> Result<(bool, bool), MessagesError> {
    match block.get("cache_control") {
        None | Some(Value::Null) => Ok((false, false)),
        Some(Value::Object(control)) => {
            if control.get("type").and_then(Value::as_str) != Some("ephemeral") {
                return Err(expected(
                    &format!("{path}.cache_control.type"),
                    "'ephemeral'",
                ));
            }
            let one_hour = match control.get("ttl") {
                None | Some(Value::Null) => false,
                Some(Value::String(ttl)) if ttl == "5m" => false,
                Some(Value::String(ttl)) if ttl == "1h" => true,
                Some(_) => {
                    return Err(expected(
                        &format!("{path}.cache_control.ttl"),
                        "'5m' or '1h'",
                    ))
                }
            };
            Ok((true, one_hour))
        }
        Some(_) => Err(expected(
            &format!("{path}.cache_control"),
            "a valid dictionary",
        )),
    }
}

/// Reads a content (or system) value: a string, or an array of blocks. With
/// `text_only` (the system prompt), every block must be a text block.
fn blocks(value: &Value, path: &str, text_only: bool) -> Result<Vec<Block>, MessagesError> {
    match value {
        Value::String(text) => Ok(vec![Block {
            text: text.clone(),
            breakpoint: false,
            one_hour: false,
        }]),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let path = format!("{path}.{index}");
                let Value::Object(block) = item else {
                    return Err(expected(&path, "a valid dictionary"));
                };
                let kind = block.get("type").and_then(Value::as_str).ok_or_else(|| {
                    MessagesError::invalid_request(format!("{path}.type: Field required"))
                })?;
                let text = match kind {
                    "text" => match block.get("text") {
                        Some(Value::String(text)) => text.clone(),
                        None => {
                            return Err(MessagesError::invalid_request(format!(
                                "{path}.text: Field required"
                            )))
                        }
                        Some(_) => return Err(expected(&format!("{path}.text"), "a valid string")),
                    },
                    _ if text_only => {
                        return Err(expected(&format!("{path}.type"), "'text'"));
                    }
                    _ => String::new(),
                };
                let (breakpoint, one_hour) = cache_control(block, &path)?;
                out.push(Block {
                    text,
                    breakpoint,
                    one_hour,
                });
            }
            Ok(out)
        }
        _ if text_only => Err(expected(path, "a valid string or a valid list")),
        _ => Err(expected(path, "a valid string or a valid list")),
    }
}

impl MessagesRequest {
    /// Parses and validates a request body.
    pub fn parse(body: &[u8]) -> Result<Self, MessagesError> {
        let value: Value = serde_json::from_slice(body).map_err(|error| {
            MessagesError::invalid_request(format!("There was an error parsing the body: {error}"))
        })?;
        let Value::Object(body) = &value else {
            return Err(MessagesError::invalid_request(
                "Input should be a valid dictionary",
            ));
        };
        if let Some(extra) = body.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
            return Err(MessagesError::invalid_request(format!(
                "{extra}: Extra inputs are not permitted"
            )));
        }
        let model = match body.get("model") {
            None | Some(Value::Null) => {
                return Err(MessagesError::invalid_request("model: Field required"))
            }
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            Some(Value::String(_)) => {
                return Err(MessagesError::invalid_request(
                    "model: String should have at least 1 character",
                ))
            }
            Some(_) => return Err(expected("model", "a valid string")),
        };
        let max_tokens = match body.get("max_tokens") {
            None | Some(Value::Null) => {
                return Err(MessagesError::invalid_request("max_tokens: Field required"))
            }
            Some(Value::Number(n)) => match n.as_u64() {
                Some(n) if n >= 1 => n,
                _ => {
                    return Err(MessagesError::invalid_request(
                        "max_tokens: Input should be greater than or equal to 1",
                    ))
                }
            },
            Some(_) => return Err(expected("max_tokens", "a valid integer")),
        };
        let stream = match body.get("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(stream)) => *stream,
            Some(_) => return Err(expected("stream", "a valid boolean")),
        };
        match body.get("temperature") {
            None | Some(Value::Null) => {}
            Some(Value::Number(t)) if (0.0..=1.0).contains(&t.as_f64().unwrap_or(f64::NAN)) => {}
            Some(Value::Number(_)) => {
                return Err(MessagesError::invalid_request("temperature: range: 0..1"))
            }
            Some(_) => return Err(expected("temperature", "a valid number")),
        }
        let system = match body.get("system") {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => blocks(value, "system", true)?,
        };
        let list = match body.get("messages") {
            None | Some(Value::Null) => {
                return Err(MessagesError::invalid_request("messages: Field required"))
            }
            Some(Value::Array(list)) => list,
            Some(_) => return Err(expected("messages", "a valid list")),
        };
        if list.is_empty() {
            return Err(MessagesError::invalid_request(
                "messages: at least one message is required",
            ));
        }
        let mut messages: Vec<(String, Vec<Block>)> = Vec::with_capacity(list.len());
        for (index, message) in list.iter().enumerate() {
            let path = format!("messages.{index}");
            let Value::Object(message) = message else {
                return Err(expected(&path, "a valid dictionary"));
            };
            let role = match message.get("role") {
                None | Some(Value::Null) => {
                    return Err(MessagesError::invalid_request(format!(
                        "{path}.role: Field required"
                    )))
                }
                Some(Value::String(role)) if role == "user" || role == "assistant" => role.clone(),
                Some(Value::String(role)) if role == "system" => {
                    return Err(MessagesError::invalid_request(
                        "messages: Unexpected role \"system\". The Messages API accepts a \
                         top-level `system` parameter, not \"system\" as an input message role.",
                    ))
                }
                Some(_) => return Err(expected(&format!("{path}.role"), "'user' or 'assistant'")),
            };
            if index == 0 && role != "user" {
                return Err(MessagesError::invalid_request(
                    "messages: first message must use the \"user\" role",
                ));
            }
            if let Some((previous, _)) = messages.last() {
                if *previous == role {
                    return Err(MessagesError::invalid_request(format!(
                        "messages: roles must alternate between \"user\" and \"assistant\", but \
                         found multiple \"{role}\" roles in a row"
                    )));
                }
            }
            let content = match message.get("content") {
                None | Some(Value::Null) => {
                    return Err(MessagesError::invalid_request(format!(
                        "{path}.content: Field required"
                    )))
                }
                Some(content) => blocks(content, &format!("{path}.content"), false)?,
            };
            messages.push((role, content));
        }
        let breakpoints = system
            .iter()
            .chain(messages.iter().flat_map(|(_, blocks)| blocks))
            .filter(|block| block.breakpoint)
            .count();
        if breakpoints > MAX_CACHE_BREAKPOINTS {
            return Err(MessagesError::invalid_request(format!(
                "A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. \
                 Found {breakpoints}."
            )));
        }
        let seed = hash_json(&json!({
            "api": "messages",
            "model": model,
            "system": body.get("system"),
            "messages": body.get("messages"),
            "max_tokens": max_tokens,
        }));
        Ok(Self {
            model,
            max_tokens,
            stream,
            system,
            messages,
            seed,
        })
    }

    /// The prompt's segments: the system prompt (when there is one) and each
    /// message, with its role.
    fn segments(&self) -> impl Iterator<Item = (&str, &[Block])> {
        let system = (!self.system.is_empty()).then_some(("system", self.system.as_slice()));
        system.into_iter().chain(
            self.messages
                .iter()
                .map(|(role, blocks)| (role.as_str(), blocks.as_slice())),
        )
    }

    /// The prompt tokens under the rule of the module docs.
    pub fn prompt_tokens(&self) -> u64 {
        self.segments()
            .map(|(_, blocks)| {
                TOKENS_PER_MESSAGE + blocks.iter().map(|b| count_tokens(&b.text)).sum::<u64>()
            })
            .sum::<u64>()
            + TOKENS_PER_REQUEST
    }

    /// Every `cache_control` breakpoint, in prompt order, with the hash and
    /// the tokens of the prefix it ends.
    pub fn breakpoints(&self) -> Vec<Breakpoint> {
        let mut hash = fnv1a_extend(FNV_OFFSET, self.model.as_bytes());
        let mut tokens = 0;
        let mut found = Vec::new();
        for (role, blocks) in self.segments() {
            hash = fnv1a_extend(hash, b"\x1erole:");
            hash = fnv1a_extend(hash, role.as_bytes());
            tokens += TOKENS_PER_MESSAGE;
            for block in blocks {
                hash = fnv1a_extend(hash, b"\x1fblock:");
                hash = fnv1a_extend(hash, block.text.as_bytes());
                tokens += count_tokens(&block.text);
                if block.breakpoint {
                    found.push(Breakpoint {
                        hash,
                        tokens,
                        one_hour: block.one_hour,
                    });
                }
            }
        }
        found
    }

    /// The same prompt as a chat request, to reuse its reply settings,
    /// directives and forced faults.
    fn as_chat(&self) -> ChatRequest {
        let (roles, contents) = self
            .segments()
            .map(|(role, blocks)| {
                let text: String = blocks.iter().map(|b| b.text.as_str()).collect();
                (role.to_owned(), text)
            })
            .unzip();
        ChatRequest {
            model: self.model.clone(),
            roles,
            contents,
            stream: self.stream,
            include_usage: false,
            json_mode: false,
            max_tokens: Some(self.max_tokens),
            seed: self.seed,
        }
    }
}

/// Everything needed to answer once the request is admitted.
pub(crate) struct Answer {
    admitted: Admitted,
    request: MessagesRequest,
    reply: content::Reply,
    /// Whether the cache write uses the 1-hour TTL.
    one_hour: bool,
    id: String,
}

/// The first half (rounded up) of a stream's events.
fn half(mut events: Vec<(Bytes, u64)>) -> Vec<(Bytes, u64)> {
    events.truncate(events.len().div_ceil(2));
    events
}

fn sse(event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

impl Answer {
    fn stop_reason(&self) -> &'static str {
        if self.reply.finish_reason == "length" {
            "max_tokens"
        } else {
            "end_turn"
        }
    }

    /// The `usage` object with `output_tokens`.
    fn usage_json(&self, output_tokens: u64) -> Value {
        let usage = &self.admitted.usage;
        let input = usage.prompt_tokens - usage.cached_tokens - usage.cache_creation_tokens;
        let (five_minutes, one_hour) = if self.one_hour {
            (0, usage.cache_creation_tokens)
        } else {
            (usage.cache_creation_tokens, 0)
        };
        json!({
            "input_tokens": input,
            "cache_creation_input_tokens": usage.cache_creation_tokens,
            "cache_read_input_tokens": usage.cached_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": five_minutes,
                "ephemeral_1h_input_tokens": one_hour,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        })
    }
}

impl Api for Answer {
    type Error = MessagesError;
    const REQUEST_ID_HEADER: &'static str = "request-id";
    const STREAM_CONTENT_TYPE: &'static str = "text/event-stream; charset=utf-8";

    fn provider_fault(&self, fault: Fault) -> MessagesError {
        let config = &self.admitted.config;
        match fault {
            Fault::RateLimit => MessagesError::limited(1000),
            Fault::RetryAfterDate => MessagesError::rate_limited(
                Some(RetryAfter::Date(http_date(
                    unix_now() + config.retry_after_date_s,
                ))),
                "Number of request tokens has exceeded your per-minute rate limit.",
            ),
            Fault::TryAgainMessage => MessagesError::rate_limited(
                None,
                format!(
                    "This request would exceed the rate limit for your organization of 50 \
                     requests per minute for {}. Please try again in {}s.",
                    self.request.model, config.try_again_in_s
                ),
            ),
            Fault::InsufficientQuota => MessagesError::invalid_request(
                "Your credit balance is too low to access the Anthropic API. Please go to Plans \
                 & Billing to upgrade or purchase credits.",
            ),
            Fault::Server500 => MessagesError::api_error(),
            Fault::Server503 => MessagesError::overloaded(),
            Fault::RequestTimeout => MessagesError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout_error",
                "Request timed out",
            ),
            other => unreachable!("{} is answered by crate::flow", other.name()),
        }
    }

    fn admitted(&self) -> &Admitted {
        &self.admitted
    }

    fn generation_error() -> MessagesError {
        MessagesError::api_error()
    }

    fn body_json(&self) -> String {
        json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.request.model,
            "content": [{"type": "text", "text": self.reply.content}],
            "stop_reason": self.stop_reason(),
            "stop_sequence": null,
            "usage": self.usage_json(self.admitted.usage.completion_tokens),
        })
        .to_string()
    }

    /// The SSE events of the stream, each with the output tokens it carries,
    /// and how the stream ends. A full stream is `message_start` (the input
    /// usage), `content_block_start`, `ping`, one `content_block_delta` per
    /// token, `content_block_stop`, `message_delta` (stop reason and the
    /// usage, output included) and `message_stop`. The mid-stream faults keep
    /// the first half (rounded up) of the events before `message_stop`.
    fn stream_script(&self) -> (Vec<(Bytes, u64)>, Ending) {
        let start = sse(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": self.id,
                "type": "message",
                "role": "assistant",
                "model": self.request.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": self.usage_json(1),
            }}),
        );
        let block_start = sse(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}}),
        );
        let stop = (sse("message_stop", &json!({"type": "message_stop"})), 0);
        match self.admitted.fault {
            Some(Fault::MalformedJson) => {
                let broken = (
                    Bytes::from_static(b"event: content_block_delta\ndata: {broken\n\n"),
                    self.admitted.usage.completion_tokens,
                );
                return (
                    vec![(start, 0), (block_start, 0), broken, stop],
                    Ending::Finish,
                );
            }
            Some(Fault::BodyDropped) => return (Vec::new(), Ending::Abort),
            _ => {}
        }
        let mut events = vec![
            (start, 0),
            (block_start, 0),
            (sse("ping", &json!({"type": "ping"})), 0),
        ];
        for piece in split_tokens(&self.reply.content) {
            events.push((
                sse(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta", "text": piece}}),
                ),
                count_tokens(piece),
            ));
        }
        events.push((
            sse(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": 0}),
            ),
            0,
        ));
        let mut usage = self.usage_json(self.admitted.usage.completion_tokens);
        if let Value::Object(fields) = &mut usage {
            fields.remove("cache_creation");
            fields.remove("service_tier");
        }
        events.push((
            sse(
                "message_delta",
                &json!({"type": "message_delta",
                        "delta": {"stop_reason": self.stop_reason(), "stop_sequence": null},
                        "usage": usage}),
            ),
            0,
        ));
        let error = sse("error", &MessagesError::overloaded().body());
        flow::stream_ending(
            events,
            self.admitted.fault,
            self.admitted.config.hang_ms,
            half,
            error,
            |mut events| {
                events.push(stop);
                events
            },
        )
    }

    fn request_id(&self) -> String {
        format!("req_{}", self.id.trim_start_matches("msg_"))
    }

    fn limit_headers(&self, headers: &mut HeaderMap) {
        self.admitted.limits.apply_anthropic(headers, unix_now_ms());
    }
}

/// `POST /v1/messages`, through the flow of [`crate::flow::handle`] that
/// [`crate::chat::completions`] follows too: the key and version check,
/// validation, the rate limiter, the fault draw and the prompt cache; then a
/// pre-generation fault (never billed), or the bill, the latency and the
/// reply or its fault.
pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    flow::handle(state, headers, body, authorize, admit).await
}

fn admit(state: &AppState, key: &str, body: &Bytes) -> Result<(Answer, u64), MessagesError> {
    let peek = |error: MessagesError| flow::peek(state, key, error);
    let request = MessagesRequest::parse(body).map_err(peek)?;
    // Under `model_ids: "openrouter"` the request names `vendor/model`; it is billed as the
    // catalog model.
    let billed_model = match models::resolve_served(state, &request.model) {
        Some(model) if model.chat => model.id,
        _ => return Err(peek(MessagesError::model_not_found(&request.model))),
    };
    let prompt_tokens = request.prompt_tokens();
    if prompt_tokens > CONTEXT_WINDOW {
        return Err(peek(MessagesError::invalid_request(format!(
            "prompt is too long: {prompt_tokens} tokens > {CONTEXT_WINDOW} maximum"
        ))));
    }
    let chat = request.as_chat();
    let spec = chat
        .reply_spec()
        .map_err(|error| peek(MessagesError::invalid_request(error.message)))?;
    let min = min_cacheable_tokens(&request.model);
    let eligible: Vec<Breakpoint> = request
        .breakpoints()
        .into_iter()
        .filter(|point| point.tokens >= min)
        .collect();
    let token_cost = prompt_tokens + request.max_tokens;
    let (admission, (cached, counter)) = flow::admit_locked(
        state,
        key,
        token_cost,
        chat.forced_fault(),
        |shared, now, begins| {
            let read = eligible
                .iter()
                .rev()
                .find(|point| shared.message_cache.contains(point.hash, now))
                .map_or(0, |point| point.tokens);
            if let Some(begins) = begins {
                for point in &eligible {
                    shared.message_cache.insert(point.hash, begins);
                }
            }
            shared.messages_answered += 1;
            (read, shared.messages_answered)
        },
    )?;
    let last = eligible.last();
    let written = last.map_or(0, |point| point.tokens.saturating_sub(cached));

    let reply = content::generate(&spec);
    let usage = TokenUsage {
        prompt_tokens,
        completion_tokens: count_tokens(&reply.content),
        cached_tokens: cached,
        cache_creation_tokens: written,
    };
    let (admitted, delay_ms) =
        admission.into_admitted(state, key, billed_model, request.stream, usage, body);
    let answer = Answer {
        admitted,
        id: format!("msg_{:016x}{:08x}", request.seed, counter as u32),
        one_hour: last.is_some_and(|point| point.one_hour),
        request,
        reply,
    };
    Ok((answer, delay_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<MessagesRequest, MessagesError> {
        MessagesRequest::parse(body.to_string().as_bytes())
    }

    #[test]
    fn prompt_tokens_match_the_chat_rule() {
        let request = parse(json!({"model": "claude-sonnet-4-5", "max_tokens": 10,
            "system": "Be brief.", "messages": [{"role": "user", "content": "Hello there"}]}))
        .unwrap();
        assert_eq!(
            request.prompt_tokens(),
            crate::tokens::prompt_tokens(["Be brief.", "Hello there"])
        );
    }

    #[test]
    fn breakpoints_count_the_prefix() {
        let request = parse(json!({"model": "claude-sonnet-4-5", "max_tokens": 10,
            "system": [{"type": "text", "text": "abcd abcd", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "x"},
                {"type": "text", "text": "y", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}]}))
        .unwrap();
        let points = request.breakpoints();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].tokens, 4 + 2);
        assert_eq!(points[1].tokens, 6 + 4 + 2);
        assert!(points[1].one_hour && !points[0].one_hour);
        assert_ne!(points[0].hash, points[1].hash);
    }

    #[test]
    fn validation_follows_anthropic() {
        let user = json!([{"role": "user", "content": "hi"}]);
        let message = |body: Value| parse(body).unwrap_err().message;
        assert_eq!(
            message(json!({"model": "m", "messages": user})),
            "max_tokens: Field required"
        );
        assert_eq!(
            message(json!({"max_tokens": 5, "messages": user})),
            "model: Field required"
        );
        assert!(message(json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}))
        .contains("roles must alternate"));
        assert!(message(json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "system", "content": "a"}]}))
        .contains("top-level `system`"));
        assert_eq!(
            message(
                json!({"model": "m", "max_tokens": 5, "messages": user, "response_format": {}})
            ),
            "response_format: Extra inputs are not permitted"
        );
        assert!(
            message(json!({"model": "m", "max_tokens": 5, "messages": user,
            "system": [{"type": "image"}]}))
            .starts_with("system.0.type")
        );
        assert!(message(
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user",
            "content": [{"type": "text", "text": "a", "cache_control": {"type": "forever"}}]}]})
        )
        .contains("cache_control.type"));
        assert_eq!(min_cacheable_tokens("claude-haiku-4-5"), 2048);
        assert!(valid_version("2023-06-01") && valid_version("2026-10-21"));
        assert!(!valid_version("2022-12-31") && !valid_version("latest"));
        assert!(!valid_version("2023-13-01") && !valid_version("2023-6-01"));
        assert_eq!(min_cacheable_tokens("claude-sonnet-4-5"), 1024);
    }
}
