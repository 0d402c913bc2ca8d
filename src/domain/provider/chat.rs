//! Chat completion requests and responses in the OpenAI wire format, as relays actually send
//! them.
//!
//! Requests are built with [`ChatRequest::new`] and its setters and serialize without the fields
//! that were not set. Responses are decoded tolerantly: `choices` may be null or missing, token
//! counts may arrive as strings, and the provider-specific usage fields (OpenAI's
//! `prompt_tokens_details`, DeepSeek's `prompt_cache_hit_tokens`, OpenRouter's `cost`) are folded
//! into one normalized [`Usage`].
//!
//! ```
//! use duanju_studio::domain::provider::chat::{decode_completion, ChatMessage, ChatRequest};
//!
//! let request = ChatRequest::new("deepseek-v3.2", vec![ChatMessage::user("你好")])
//!     .temperature(0.7)
//!     .max_tokens(8000);
//! assert_eq!(
//!     request.to_json(),
//!     r#"{"model":"deepseek-v3.2","messages":[{"role":"user","content":"你好"}],"temperature":0.7,"max_tokens":8000}"#
//! );
//!
//! let body = r#"{"model":"deepseek-v3.2","choices":[{"message":{"role":"assistant","content":"好"},"finish_reason":"stop"}],
//!               "usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}"#;
//! let completion = decode_completion(body).unwrap();
//! assert_eq!(completion.content, "好");
//! assert_eq!(completion.usage.unwrap().total, 11);
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::domain::provider::api_error::{self, ApiError};
use crate::domain::provider::token_estimate;

/// Who speaks a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The user's turn.
    User,
    /// The model's turn.
    Assistant,
    /// Any other role a provider reports (`tool`, `developer`…); only ever decoded, never sent.
    #[serde(other)]
    Other,
}

/// The line added to a `json_object` request whose messages never say "json".
pub const JSON_OBJECT_REMINDER: &str = "Reply with a single JSON object.";

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: Role,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// A message with the given role.
    pub fn new(role: Role, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role,
            content: content.into(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new(Role::Assistant, content)
    }
}

/// `stream_options` of a streaming request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Ask for a final chunk carrying the whole request's `usage`.
    pub include_usage: bool,
}

/// The `json_schema` member of a structured-output `response_format`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// A name for the schema (letters, digits, `_` and `-`).
    pub name: String,
    /// The JSON Schema the reply must follow.
    pub schema: Value,
    /// Whether the provider must follow the schema exactly.
    pub strict: bool,
}

/// `response_format`: plain text, any JSON object, or JSON following a schema.
///
/// DeepSeek supports only [`ResponseFormat::JsonObject`], requires the word "json" in the
/// prompt, and may return empty content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// `{"type":"text"}`.
    Text,
    /// `{"type":"json_object"}`.
    JsonObject,
    /// `{"type":"json_schema","json_schema":{"name","schema","strict"}}`.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat,
    },
}

/// A chat completion request body. Unset optional fields are omitted from the JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model id, as the provider names it.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// The cap on generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// `Some(true)` for a server-sent-events stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options; only sent together with `stream: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// The reply's format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Mark the system prompt as a prompt-cache breakpoint. Only the Anthropic Messages body
    /// uses it (`cache_control` on the last system block, see
    /// [`crate::domain::provider::messages::messages_body`]): Anthropic caches nothing without
    /// it, while OpenAI-style caches are automatic, so it is never part of [`Self::to_json`].
    #[serde(skip)]
    pub cache_system: bool,
}

impl ChatRequest {
    /// A request with only the model and messages set.
    pub fn new(model: impl Into<String>, messages: Vec<ChatMessage>) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages,
            temperature: None,
            max_tokens: None,
            stream: None,
            stream_options: None,
            response_format: None,
            cache_system: false,
        }
    }

    /// Asks for the system prompt (a character bible, say) to be cached where the protocol
    /// needs asking (Anthropic Messages); ignored by OpenAI chat completions.
    pub fn cache_system(mut self, on: bool) -> ChatRequest {
        self.cache_system = on;
        self
    }

    /// Sets the sampling temperature.
    pub fn temperature(mut self, temperature: f64) -> ChatRequest {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the cap on generated tokens.
    pub fn max_tokens(mut self, max_tokens: u32) -> ChatRequest {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Turns streaming on (with `stream_options.include_usage`, so the last chunk reports the
    /// billed usage) or off (both fields omitted: some providers reject `stream_options` on a
    /// non-streaming request).
    pub fn streaming(mut self, on: bool) -> ChatRequest {
        self.stream = on.then_some(true);
        self.stream_options = on.then_some(StreamOptions {
            include_usage: true,
        });
        self
    }

    /// Sets the reply format.
    /// For [`ResponseFormat::JsonObject`], a request whose messages never say "json" gets a
    /// last system line that does: OpenAI (and DeepSeek) answer such a request with a 400
    /// ("'messages' must contain the word 'json' in some form…"). A line at the end keeps the
    /// cached prompt prefix intact.
    pub fn response_format(mut self, format: ResponseFormat) -> ChatRequest {
        let says_json = self
            .messages
            .iter()
            .any(|m| m.content.to_lowercase().contains("json"));
        if format == ResponseFormat::JsonObject && !says_json {
            self.messages
                .push(ChatMessage::system(JSON_OBJECT_REMINDER));
        }
        self.response_format = Some(format);
        self
    }

    /// Asks for any JSON object (`{"type":"json_object"}`).
    pub fn json_object(self) -> ChatRequest {
        self.response_format(ResponseFormat::JsonObject)
    }

    /// Asks for JSON that strictly follows `schema`.
    pub fn json_schema(self, name: impl Into<String>, schema: Value) -> ChatRequest {
        self.response_format(ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: name.into(),
                schema,
                strict: true,
            },
        })
    }

    /// True when this request asks for a stream.
    pub fn is_streaming(&self) -> bool {
        self.stream == Some(true)
    }

    /// The request body as JSON.
    pub fn to_json(&self) -> String {
        // Every field is a string, number, bool or `Value` with string keys, which serde_json
        // always serializes (non-finite floats become `null`), so this cannot fail.
        serde_json::to_string(self).expect("a chat request always serializes")
    }

    /// The estimated prompt size in tokens, for a quote before sending and for a cut stream
    /// that never reports usage.
    pub fn estimated_prompt_tokens(&self) -> u64 {
        token_estimate::estimate_messages(&self.model, &self.messages)
    }
}

/// Normalized token usage of one call.
///
/// Invariants: `cached + cache_write <= prompt` (cache reads and cache writes are part of the
/// prompt, billed at the cache-read or cache-write price instead of the input price, never in
/// addition to it) and `reasoning <= completion` (reasoning tokens are part of the completion).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt (input) tokens, cached ones included.
    pub prompt: u64,
    /// The part of `prompt` served from the provider's prompt cache (cache reads).
    pub cached: u64,
    /// The part of `prompt` written to the provider's prompt cache (Anthropic's
    /// `cache_creation_input_tokens`), billed at the cache-write price (1.25× input for
    /// Anthropic's 5-minute cache). Zero for OpenAI-style providers, whose cache is automatic
    /// and free to fill. Absent in usage stored before it existed.
    #[serde(default)]
    pub cache_write: u64,
    /// Completion (output) tokens, reasoning included.
    pub completion: u64,
    /// The part of `completion` spent on hidden reasoning.
    pub reasoning: u64,
    /// Total tokens as reported (normally `prompt + completion`).
    pub total: u64,
    /// True when these figures are our estimate, not the provider's (a cut stream, or a relay
    /// that reports no usage).
    pub estimated: bool,
    /// The cost the provider reported in US dollars (OpenRouter's `cost`), for reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_cost_usd: Option<f64>,
}

impl Usage {
    /// Estimated usage: no cache, no reasoning, flagged `estimated`.
    pub fn estimated(prompt: u64, completion: u64) -> Usage {
        Usage {
            prompt,
            cached: 0,
            cache_write: 0,
            completion,
            reasoning: 0,
            total: prompt + completion,
            estimated: true,
            reported_cost_usd: None,
        }
    }

    /// Prompt tokens billed at the full input price: `prompt - cached - cache_write`. Cache
    /// writes are excluded because they have a price of their own (as in
    /// [`crate::domain::cost::pricing::Usage`], where `cache_write_tokens` is part of
    /// `input_tokens` and priced apart); counting them here too would bill them twice.
    pub fn uncached_prompt(&self) -> u64 {
        self.prompt
            .saturating_sub(self.cached)
            .saturating_sub(self.cache_write)
    }
}

/// `usage` exactly as providers send it, every field optional and numbers tolerated as strings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct RawUsage {
    /// `prompt_tokens`.
    #[serde(default, deserialize_with = "de_count")]
    pub prompt_tokens: Option<u64>,
    /// `completion_tokens`.
    #[serde(default, deserialize_with = "de_count")]
    pub completion_tokens: Option<u64>,
    /// `total_tokens`.
    #[serde(default, deserialize_with = "de_count")]
    pub total_tokens: Option<u64>,
    /// `prompt_tokens_details` (OpenAI; DeepSeek and others copy it).
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// `completion_tokens_details`.
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// DeepSeek's `prompt_cache_hit_tokens`.
    #[serde(default, deserialize_with = "de_count")]
    pub prompt_cache_hit_tokens: Option<u64>,
    /// DeepSeek's `prompt_cache_miss_tokens`.
    #[serde(default, deserialize_with = "de_count")]
    pub prompt_cache_miss_tokens: Option<u64>,
    /// OpenRouter's `cost` in US dollars.
    #[serde(default, deserialize_with = "de_cost")]
    pub cost: Option<f64>,
}

/// `usage.prompt_tokens_details`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PromptTokensDetails {
    /// `cached_tokens`: already counted inside `prompt_tokens`.
    #[serde(default, deserialize_with = "de_count")]
    pub cached_tokens: Option<u64>,
}

/// `usage.completion_tokens_details`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct CompletionTokensDetails {
    /// `reasoning_tokens`: already counted inside `completion_tokens`.
    #[serde(default, deserialize_with = "de_count")]
    pub reasoning_tokens: Option<u64>,
}

impl RawUsage {
    /// True when no token count at all was reported (`"usage": {}`).
    pub fn is_empty(&self) -> bool {
        self.prompt_tokens.is_none()
            && self.completion_tokens.is_none()
            && self.total_tokens.is_none()
            && self.prompt_cache_hit_tokens.is_none()
    }

    /// Folds the provider-specific fields into a [`Usage`]. Cached tokens come from
    /// `prompt_tokens_details.cached_tokens`, else DeepSeek's `prompt_cache_hit_tokens`; the
    /// prompt from `prompt_tokens`, else DeepSeek's hit + miss; the total from `total_tokens`,
    /// else prompt + completion.
    pub fn normalize(&self) -> Usage {
        let hit = self.prompt_cache_hit_tokens;
        let prompt = self
            .prompt_tokens
            .or_else(|| Some(hit? + self.prompt_cache_miss_tokens?))
            .unwrap_or(0);
        let cached = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .or(hit)
            .unwrap_or(0)
            .min(prompt);
        let completion = self.completion_tokens.unwrap_or(0);
        let reasoning = self
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0)
            .min(completion);
        Usage {
            prompt,
            cached,
            cache_write: 0,
            completion,
            reasoning,
            total: self.total_tokens.unwrap_or(prompt + completion),
            estimated: false,
            reported_cost_usd: self.cost,
        }
    }
}

/// A finished (or, inside [`ApiError::StreamCut`], partial) chat completion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The reply text (empty when the model returned none, which DeepSeek's JSON mode may do).
    pub content: String,
    /// Visible reasoning text (DeepSeek's `reasoning_content`), empty for most models.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    /// Why generation stopped: `stop`, `length` (hit `max_tokens`), `content_filter`…
    pub finish_reason: Option<String>,
    /// The model that actually answered, as the provider reports it.
    pub model: Option<String>,
    /// The billed usage, or an estimate flagged `estimated`; `None` when not reported and not
    /// yet estimated.
    pub usage: Option<Usage>,
}

impl Completion {
    /// True when the reply was cut by `max_tokens`.
    pub fn is_truncated(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }

    /// The reported usage, or an estimate from `prompt_tokens` (see
    /// [`ChatRequest::estimated_prompt_tokens`]) and the text received, flagged `estimated`.
    pub fn usage_or_estimate(&self, model: &str, prompt_tokens: u64) -> Usage {
        self.usage.clone().unwrap_or_else(|| {
            let completion = token_estimate::estimate_text(model, &self.content)
                + token_estimate::estimate_text(model, &self.reasoning);
            Usage::estimated(prompt_tokens, completion)
        })
    }

    /// Fills a missing `usage` with [`Self::usage_or_estimate`].
    pub fn with_usage_or_estimate(mut self, model: &str, prompt_tokens: u64) -> Completion {
        self.usage = Some(self.usage_or_estimate(model, prompt_tokens));
        self
    }
}

/// Decodes a non-streaming chat completion body. An `{"error":…}` body (relays send them with
/// status 200 too) becomes the matching [`ApiError`]; anything that is not a chat completion is
/// [`ApiError::Malformed`].
pub fn decode_completion(body: &str) -> Result<Completion, ApiError> {
    let value: Value = serde_json::from_str(body.trim_start_matches('\u{feff}'))
        .map_err(|e| ApiError::malformed(format!("invalid JSON ({e})")))?;
    if let Some(error) = api_error::embedded_error(&value, 200) {
        return Err(error);
    }
    let chunk = WireChunk::from_value(&value)?;
    let Some(object) = value.as_object() else {
        return Err(ApiError::malformed("not a JSON object"));
    };
    if !["choices", "usage", "model", "id"]
        .iter()
        .any(|key| object.contains_key(*key))
    {
        return Err(ApiError::malformed("not a chat completion"));
    }
    let choice = chunk.first_choice();
    let message = choice.and_then(|c| c.message.as_ref().or(c.delta.as_ref()));
    Ok(Completion {
        content: message.map(|m| m.text()).unwrap_or_default(),
        reasoning: message
            .and_then(|m| m.reasoning_content.clone())
            .unwrap_or_default(),
        finish_reason: choice.and_then(|c| c.finish_reason.clone()),
        model: chunk.model.filter(|m| !m.is_empty()),
        usage: chunk.usage.filter(|u| !u.is_empty()).map(|u| u.normalize()),
    })
}

/// A completion body or stream chunk: the fields both share, all optional.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireChunk {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Option<Vec<WireChoice>>,
    #[serde(default)]
    pub usage: Option<RawUsage>,
}

/// One entry of `choices`: `message` in a body, `delta` in a stream chunk.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireChoice {
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(default)]
    pub message: Option<WireMessage>,
    #[serde(default)]
    pub delta: Option<WireMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// A message or delta. `content` is usually a string but may be null or an array of parts.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireMessage {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub reasoning_content: Option<String>,
}

impl WireChunk {
    /// Reads the chunk fields out of a parsed JSON value.
    pub(crate) fn from_value(value: &Value) -> Result<WireChunk, ApiError> {
        if !value.is_object() {
            return Err(ApiError::malformed("not a JSON object"));
        }
        WireChunk::deserialize(value)
            .map_err(|e| ApiError::malformed(format!("unexpected shape ({e})")))
    }

    /// The choice for the first (and only requested) completion: index 0, else the first.
    pub(crate) fn first_choice(&self) -> Option<&WireChoice> {
        let choices = self.choices.as_deref()?;
        choices
            .iter()
            .find(|c| c.index.unwrap_or(0) == 0)
            .or(choices.first())
    }
}

impl WireMessage {
    /// The text of `content`: a string as is, an array of parts joined by their `text`.
    pub(crate) fn text(&self) -> String {
        match &self.content {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect(),
            _ => String::new(),
        }
    }
}

/// A token count that may arrive as a number, a float, a numeric string or null.
pub(crate) fn de_count<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(n)) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f.round() as u64)
        }),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A cost that may arrive as a number or a numeric string.
fn de_cost<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite() && *f >= 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_request(request: ChatRequest, expect: Value) {
        let actual: Value = serde_json::from_str(&request.to_json()).unwrap();
        assert_eq!(actual, expect);
        // A persisted request reads back unchanged.
        let back: ChatRequest = serde_json::from_str(&request.to_json()).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn requests_omit_unset_fields() {
        let messages = vec![
            ChatMessage::system("你是编剧"),
            ChatMessage::user("写一场戏"),
        ];
        check_request(
            ChatRequest::new("deepseek-v3.2", messages.clone()),
            json!({"model":"deepseek-v3.2","messages":[
                {"role":"system","content":"你是编剧"},{"role":"user","content":"写一场戏"}]}),
        );
        check_request(
            ChatRequest::new("gemini-2.5-flash", messages.clone())
                .temperature(0.3)
                .max_tokens(1500)
                .json_object()
                .streaming(true),
            // The messages never say "json": the reminder OpenAI requires is added last.
            json!({"model":"gemini-2.5-flash","messages":[
                {"role":"system","content":"你是编剧"},{"role":"user","content":"写一场戏"},
                {"role":"system","content":JSON_OBJECT_REMINDER}],
                "temperature":0.3,"max_tokens":1500,"stream":true,
                "stream_options":{"include_usage":true},
                "response_format":{"type":"json_object"}}),
        );
        check_request(
            ChatRequest::new("gpt-4.1", vec![ChatMessage::user("x")])
                .json_schema("shots", json!({"type":"object"}))
                .streaming(true)
                .streaming(false),
            json!({"model":"gpt-4.1","messages":[{"role":"user","content":"x"}],
                "response_format":{"type":"json_schema","json_schema":{
                    "name":"shots","schema":{"type":"object"},"strict":true}}}),
        );
        check_request(
            ChatRequest::new("gpt-4.1", vec![ChatMessage::user("Answer in JSON.")]).json_object(),
            json!({"model":"gpt-4.1","messages":[{"role":"user","content":"Answer in JSON."}],
                "response_format":{"type":"json_object"}}),
        );
        check_request(
            ChatRequest::new("gpt-4.1", vec![]).response_format(ResponseFormat::Text),
            json!({"model":"gpt-4.1","messages":[],"response_format":{"type":"text"}}),
        );
    }

    #[test]
    fn temperature_serializes_exactly() {
        let json = ChatRequest::new("m", vec![]).temperature(0.85).to_json();
        assert!(json.contains(r#""temperature":0.85"#), "{json}");
    }

    fn check_usage(raw: Value, expect: Usage) {
        let raw: RawUsage = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(raw.normalize(), expect, "{raw:?}");
    }

    #[test]
    fn usage_normalization() {
        // OpenAI with cache and reasoning details: cached is inside prompt, reasoning inside
        // completion.
        check_usage(
            json!({"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,
                "prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},
                "completion_tokens_details":{"reasoning_tokens":128}}),
            Usage {
                prompt: 2006,
                cached: 1920,
                cache_write: 0,
                completion: 300,
                reasoning: 128,
                total: 2306,
                estimated: false,
                reported_cost_usd: None,
            },
        );
        // DeepSeek: hit tokens become cached when the details are absent.
        check_usage(
            json!({"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050,
                "prompt_cache_hit_tokens":640,"prompt_cache_miss_tokens":360}),
            Usage {
                prompt: 1000,
                cached: 640,
                completion: 50,
                total: 1050,
                ..Usage::default()
            },
        );
        // DeepSeek hit + miss stand in for a missing prompt_tokens; total is computed.
        check_usage(
            json!({"completion_tokens":50,"prompt_cache_hit_tokens":640,
                "prompt_cache_miss_tokens":360}),
            Usage {
                prompt: 1000,
                cached: 640,
                completion: 50,
                total: 1050,
                ..Usage::default()
            },
        );
        // OpenRouter's cost, and counts sent as strings by a relay.
        check_usage(
            json!({"prompt_tokens":"12","completion_tokens":3.0,"total_tokens":15,
                "cost":0.0000123}),
            Usage {
                prompt: 12,
                completion: 3,
                total: 15,
                reported_cost_usd: Some(0.0000123),
                ..Usage::default()
            },
        );
        // Nonsense is clamped: cached never exceeds prompt.
        check_usage(
            json!({"prompt_tokens":10,"completion_tokens":1,
                "prompt_tokens_details":{"cached_tokens":50},
                "completion_tokens_details":{"reasoning_tokens":null}}),
            Usage {
                prompt: 10,
                cached: 10,
                completion: 1,
                total: 11,
                ..Usage::default()
            },
        );
        let usage = Usage {
            prompt: 2006,
            cached: 1920,
            ..Usage::default()
        };
        assert_eq!(usage.uncached_prompt(), 86);
        // Anthropic: 100 plain input + 1,500 written + 400 read; only the 100 are at input price.
        let anthropic = Usage {
            prompt: 2000,
            cached: 400,
            cache_write: 1500,
            ..Usage::default()
        };
        assert_eq!(anthropic.uncached_prompt(), 100);
        // Usage stored before `cache_write` existed still loads.
        let old: Usage = serde_json::from_str(
            r#"{"prompt":5,"cached":1,"completion":2,"reasoning":0,"total":7,"estimated":false}"#,
        )
        .unwrap();
        assert_eq!(old.cache_write, 0);
    }

    fn check_decode(body: &str, expect: Result<Completion, &str>) {
        let actual = decode_completion(body).map_err(|e| e.kind());
        assert_eq!(actual, expect, "{body}");
    }

    #[test]
    fn decodes_completions() {
        check_decode(
            r#"{"id":"x","object":"chat.completion","model":"gpt-4.1-2025-04-14",
               "choices":[{"index":0,"message":{"role":"assistant","content":"第一场"},
               "finish_reason":"length"}],
               "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}"#,
            Ok(Completion {
                content: "第一场".into(),
                finish_reason: Some("length".into()),
                model: Some("gpt-4.1-2025-04-14".into()),
                usage: Some(Usage {
                    prompt: 9,
                    completion: 12,
                    total: 21,
                    ..Usage::default()
                }),
                ..Completion::default()
            }),
        );
        // DeepSeek's JSON mode may return null content; reasoning models add reasoning_content.
        check_decode(
            r#"{"model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant",
               "content":null,"reasoning_content":"想一想"},"finish_reason":"stop"}]}"#,
            Ok(Completion {
                reasoning: "想一想".into(),
                finish_reason: Some("stop".into()),
                model: Some("deepseek-reasoner".into()),
                ..Completion::default()
            }),
        );
        // Relays: choices null, or content as an array of parts.
        check_decode(
            r#"{"id":"x","choices":null,"usage":null}"#,
            Ok(Completion::default()),
        );
        check_decode(
            r#"{"id":"x","choices":[{"message":{"content":[{"type":"text","text":"a"},
               {"type":"text","text":"b"}]}}]}"#,
            Ok(Completion {
                content: "ab".into(),
                ..Completion::default()
            }),
        );
        check_decode("<html>502 Bad Gateway</html>", Err("malformed"));
        check_decode("[1,2]", Err("malformed"));
        check_decode(r#"{"hello":"world"}"#, Err("malformed"));
        check_decode(r#"{"choices":"nope"}"#, Err("malformed"));
        // An error object with status 200 is still an error.
        check_decode(
            r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error",
               "code":"invalid_api_key"}}"#,
            Err("invalid_key"),
        );
    }

    #[test]
    fn usage_estimate_when_missing() {
        let completion = Completion {
            content: "abcdefghij".into(),
            ..Completion::default()
        };
        // DeepSeek: ten Latin characters at 0.3 token each.
        let usage = completion.usage_or_estimate("deepseek-v3.2", 100);
        assert_eq!(usage, Usage::estimated(100, 3));
        assert!(usage.estimated);
        let reported = Completion {
            usage: Some(Usage::default()),
            ..completion
        };
        assert_eq!(
            reported.usage_or_estimate("deepseek-v3.2", 100),
            Usage::default()
        );
    }
}
