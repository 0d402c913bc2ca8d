//! `POST /v1/chat/completions`: validation, faults, limits, replies and streams.

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::config::{Fault, FaultPlan};
use crate::content::{self, Directives, JsonShape, ReplySpec, DEFAULT_REPLY_TOKENS};
use crate::error::ApiError;
use crate::limits::{Decision, LimitSnapshot};
use crate::models::{self, CONTEXT_WINDOW};
use crate::rng::{fnv1a, hash_json};
use crate::state::AppState;
use crate::stats::TokenUsage;
use crate::tokens::{self, count_tokens, split_tokens};

/// A system prompt needs at least this many tokens to be cached.
pub const MIN_CACHED_PREFIX_TOKENS: u64 = 32;
/// Token cost charged against `tpm` when a request sets no `max_tokens`.
pub const DEFAULT_MAX_TOKENS_COST: u64 = 60;
/// The `system_fingerprint` sent with every completion.
const FINGERPRINT: &str = "fp_sandbox";

/// Checks the `Authorization: Bearer KEY` header.
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let provided = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match provided {
        Some(token) if state.key_matches(token) => Ok(()),
        _ => Err(ApiError::invalid_api_key()),
    }
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
                Some("json_object") => true,
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

    /// The system prompt that the prefix cache would store: the first message
    /// when it is a system message of at least [`MIN_CACHED_PREFIX_TOKENS`].
    /// Returns its hash and its cached token count (content plus framing).
    pub fn cacheable_prefix(&self) -> Option<(u64, u64)> {
        if self.roles.first().map(String::as_str) != Some("system") {
            return None;
        }
        let tokens = count_tokens(&self.contents[0]);
        (tokens >= MIN_CACHED_PREFIX_TOKENS).then(|| {
            (
                fnv1a(self.contents[0].as_bytes()),
                tokens + tokens::TOKENS_PER_MESSAGE,
            )
        })
    }

    /// Builds the reply settings from the prompt and its directives.
    pub fn reply_spec(&self) -> Result<ReplySpec, ApiError> {
        let all_text = self.contents.join("\n");
        let directives = Directives::parse(&all_text)
            .map_err(|message| ApiError::invalid_request(message, Some("messages"), None))?;
        let last_user = self
            .roles
            .iter()
            .zip(&self.contents)
            .rev()
            .find(|(role, _)| role.as_str() == "user")
            .map(|(_, content)| content.as_str())
            .unwrap_or("");
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

/// Everything needed to answer once the request is admitted.
struct Answer {
    state: AppState,
    request: ChatRequest,
    reply: content::Reply,
    usage: TokenUsage,
    id: String,
    created: u64,
    body_hash: u64,
    limits: LimitSnapshot,
    fault: Option<Fault>,
    chunk_delay: Duration,
}

impl Answer {
    fn bill(&self) {
        self.state
            .lock()
            .stats
            .bill(&self.request.model, &self.usage, self.body_hash);
    }

    fn completion_json(&self) -> String {
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
            usage: WireUsage::new(&self.usage, &self.request.model),
            system_fingerprint: FINGERPRINT,
        };
        serde_json::to_string(&completion).expect("completions always serialize")
    }

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

    /// The SSE events of the stream: keep-alive, role, one chunk per token,
    /// the finish chunk, the usage chunk when asked for, and `[DONE]`.
    fn stream_events(&self) -> Vec<Bytes> {
        let keep_alive = Bytes::from_static(b": keep-alive\n\n");
        let done = Bytes::from_static(b"data: [DONE]\n\n");
        let role = self.delta_chunk(Some("assistant"), Some(""), None);
        if self.fault == Some(Fault::MalformedJson) {
            return vec![
                keep_alive,
                role,
                Bytes::from_static(b"data: {broken\n\n"),
                done,
            ];
        }
        let mut chunks = vec![role];
        for piece in split_tokens(&self.reply.content) {
            chunks.push(self.delta_chunk(None, Some(piece), None));
        }
        chunks.push(self.delta_chunk(None, None, Some(self.reply.finish_reason)));
        if self.fault == Some(Fault::StreamCut) {
            let keep = chunks.len().div_ceil(2);
            chunks.truncate(keep);
            chunks.insert(0, keep_alive);
            return chunks;
        }
        if self.request.include_usage {
            let usage = WireUsage::new(&self.usage, &self.request.model);
            chunks.push(self.chunk(Vec::new(), Some(usage)));
        }
        chunks.insert(0, keep_alive);
        chunks.push(done);
        chunks
    }

    fn headers(&self, content_type: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        let request_id = format!("req_{}", self.id.trim_start_matches("chatcmpl-"));
        headers.insert(
            "x-request-id",
            HeaderValue::from_str(&request_id).expect("hex"),
        );
        self.limits.apply(&mut headers);
        headers
    }

    fn into_response(self) -> Response {
        if self.request.stream {
            let mut headers = self.headers("text/event-stream");
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            let events = self.stream_events();
            let delay = self.chunk_delay;
            // Only a stream that runs to its end is billed.
            let billing = self.fault.is_none().then_some(self);
            let stream = futures_util::stream::unfold(
                (0usize, events, billing),
                move |(index, events, billing)| async move {
                    if index >= events.len() {
                        if let Some(answer) = billing {
                            answer.bill();
                        }
                        return None;
                    }
                    if index > 0 && !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let event = events[index].clone();
                    Some((Ok::<Bytes, Infallible>(event), (index + 1, events, billing)))
                },
            );
            (StatusCode::OK, headers, Body::from_stream(stream)).into_response()
        } else {
            let headers = self.headers("application/json");
            let mut body = self.completion_json();
            if self.fault.is_some() {
                // Malformed JSON (and a cut stream, when not streaming): the
                // body stops halfway through.
                let mut half = body.len() / 2;
                while !body.is_char_boundary(half) {
                    half -= 1;
                }
                body.truncate(half);
            } else {
                self.bill();
            }
            (StatusCode::OK, headers, body).into_response()
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `POST /v1/chat/completions`.
pub async fn completions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    match admit(&state, &body) {
        Ok((answer, plan, config_delay)) => {
            if config_delay > 0 {
                tokio::time::sleep(Duration::from_millis(config_delay)).await;
            }
            let error = match plan.fault {
                Some(Fault::RateLimit) => Some(ApiError::rate_limited(1000)),
                Some(Fault::InsufficientQuota) => Some(ApiError::insufficient_quota()),
                Some(Fault::Server500) => Some(ApiError::server_error()),
                Some(Fault::Server503) => Some(ApiError::overloaded()),
                Some(Fault::MalformedJson) | Some(Fault::StreamCut) | None => None,
            };
            match error {
                Some(error) => error.with_limits(answer.limits).into_response(),
                None => answer.into_response(),
            }
        }
        Err(error) => error.into_response(),
    }
}

/// Validates the request, applies the rate limits and draws the faults.
/// Returns the prepared answer, the fault plan and the delay before the first
/// byte.
fn admit(state: &AppState, body: &Bytes) -> Result<(Answer, FaultPlan, u64), ApiError> {
    // Errors found before the limiter still report the buckets' state.
    let peek = |error: ApiError| {
        let limits = state.lock().limiter.peek(state.key(), Instant::now());
        error.with_limits(limits)
    };
    let request = ChatRequest::parse(body).map_err(peek)?;
    match models::find(&request.model) {
        None => return Err(peek(ApiError::model_not_found(&request.model))),
        Some(model) if !model.chat => return Err(peek(ApiError::new(
            StatusCode::NOT_FOUND,
            "This is not a chat model and thus not supported in the v1/chat/completions endpoint.",
            "invalid_request_error",
            Some("model"),
            None,
        ))),
        Some(_) => {}
    }
    let prompt_tokens = request.prompt_tokens();
    if prompt_tokens > CONTEXT_WINDOW {
        return Err(peek(ApiError::context_length_exceeded(
            CONTEXT_WINDOW,
            prompt_tokens,
        )));
    }
    let spec = request.reply_spec().map_err(peek)?;
    let prefix = request.cacheable_prefix();
    let token_cost = prompt_tokens + request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS_COST);

    let (limits, plan, cached_tokens, counter, chunk_delay, delay) = {
        let mut shared = state.lock();
        let limits = match shared
            .limiter
            .check(state.key(), token_cost, Instant::now())
        {
            Decision::Allowed(limits) => limits,
            Decision::Limited {
                retry_after_ms,
                snapshot,
            } => return Err(ApiError::rate_limited(retry_after_ms).with_limits(snapshot)),
        };
        let config = shared.config.clone();
        let plan = config.draw_faults(&mut shared.fault_rng);
        let cached_tokens = match prefix {
            Some((hash, tokens)) if shared.prefix_cache.contains(&hash) => tokens,
            Some((hash, _)) => {
                if plan.fault.is_none() {
                    shared.prefix_cache.insert(hash);
                }
                0
            }
            None => 0,
        };
        shared.completions += 1;
        (
            limits,
            plan,
            cached_tokens,
            shared.completions,
            Duration::from_millis(config.stream_chunk_delay_ms),
            plan.delay_ms(&config),
        )
    };

    let reply = content::generate(&spec);
    let usage = TokenUsage {
        prompt_tokens,
        completion_tokens: count_tokens(&reply.content),
        cached_tokens,
    };
    let answer = Answer {
        state: state.clone(),
        id: format!("chatcmpl-{:016x}{:08x}", request.seed, counter as u32),
        created: unix_now(),
        body_hash: fnv1a(body),
        request,
        reply,
        usage,
        limits,
        fault: plan.fault,
        chunk_delay,
    };
    Ok((answer, plan, delay))
}
