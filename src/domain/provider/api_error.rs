//! Every way an API call can fail, classified from what the browser can see, with a clear
//! zh-CN / en message and a retry verdict.
//!
//! [`classify`] reads an HTTP status, the body (OpenAI's `{"error":{"message","type","param",
//! "code"}}`, the same shape with Chinese messages from relays, or an HTML page from a gateway)
//! and the rate-limit headers. Network failures carry no status at all: the browser reports a
//! bare `TypeError`, and the adapter tells an unreachable server from a CORS refusal with
//! [`ApiError::network`].
//!
//! Architecture invariant: a user-facing message never contains the API key. Upstream text is
//! only ever shown as a short [`excerpt`] (tags stripped, key-like tokens masked, at most
//! [`EXCERPT_MAX_CHARS`] characters), and the adapter passes bodies through [`redact`] with the
//! key it sent before classifying them.
//!
//! ```
//! use duanju_studio::domain::provider::api_error::{classify, redact};
//! use duanju_studio::domain::provider::ratelimit::RateLimitHeaders;
//!
//! let key = "sk-proj-0123456789abcdefABCDEF";
//! let body = r#"{"error":{"message":"key sk-proj-0123456789abcdefABCDEF is not allowed for this region","code":"unsupported_country_region_territory"}}"#;
//! let error = classify(403, &redact(body, key), &RateLimitHeaders::default());
//! assert_eq!(error.kind(), "other");
//! assert!(!error.message(Default::default()).contains(key));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::i18n::Lang;
use crate::domain::provider::chat::Completion;
use crate::domain::provider::ratelimit::{parse_duration_ms, RateLimitHeaders};

/// The longest upstream excerpt shown to the user, in characters.
pub const EXCERPT_MAX_CHARS: usize = 200;

/// Why a request failed before it reached the server's HTTP layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkFailure {
    /// DNS, TLS, offline, or nothing listening: the origin itself could not be reached.
    Unreachable,
    /// The origin answered, but the browser withheld the response because the server's CORS
    /// headers do not allow this page to call it.
    CorsBlocked,
}

/// A failed API call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApiError {
    /// The key was rejected (401, or 403 about the key).
    InvalidKey,
    /// Too many requests (429 without a quota code); retry after the delay when known.
    RateLimited {
        /// The provider's requested delay (headers or "try again in 1.5s" in the message).
        retry_after_ms: Option<u64>,
    },
    /// Out of credit (429 `insufficient_quota`, 402, or a relay's "余额不足"); not retryable.
    InsufficientQuota,
    /// The prompt plus `max_tokens` exceeds the model's context window.
    ContextTooLong,
    /// The model does not exist or this key may not use it (404, `model_not_found`).
    ModelNotFound,
    /// The provider failed (5xx).
    ServerError {
        /// The HTTP status.
        status: u16,
    },
    /// No HTTP response at all.
    Network {
        /// Whether the server was unreachable or refused by CORS.
        failure: NetworkFailure,
    },
    /// Our timer ran out after the request was sent (no answer in time, or a reply that stopped
    /// arriving): the provider may have generated, and billed, a reply.
    Timeout,
    /// The server gave up waiting for the request (408) before working on it.
    RequestTimeout,
    /// The user or the app aborted the request.
    Cancelled,
    /// The response was not what the connection's protocol (OpenAI chat completions or Anthropic
    /// Messages) sends.
    Malformed {
        /// Our description of what was wrong (never the raw body).
        detail: String,
    },
    /// A stream ended before `data: [DONE]`.
    StreamCut {
        /// What arrived before the cut, with usage estimated and flagged.
        partial: Box<Completion>,
    },
    /// The connection dropped after the response headers (a reset, a body that never came):
    /// the provider had started, and may have finished and billed, the reply.
    ReplyLost {
        /// What arrived before the connection dropped, with usage estimated and flagged.
        partial: Box<Completion>,
    },
    /// The provider reported an error inside a reply it had begun (an in-stream
    /// `data: {"error": …}` event): what was generated before it is billed.
    StreamError {
        /// The error the event carried.
        cause: Box<ApiError>,
        /// What arrived before the error, with usage estimated and flagged.
        partial: Box<Completion>,
    },
    /// Any other rejection (mostly 4xx).
    Other {
        /// The HTTP status (or the status inside an embedded error).
        status: u16,
        /// A short, tag-free, key-masked excerpt of the provider's message.
        message: String,
    },
}

impl ApiError {
    /// The failure for a fetch that produced no response. `origin_reachable` is the adapter's
    /// hint: true when a `no-cors` probe of the same origin succeeded, which means the server is
    /// up and CORS withheld the real response.
    pub fn network(origin_reachable: bool) -> ApiError {
        let failure = if origin_reachable {
            NetworkFailure::CorsBlocked
        } else {
            NetworkFailure::Unreachable
        };
        ApiError::Network { failure }
    }

    /// A malformed-response error with our own description.
    pub fn malformed(detail: impl Into<String>) -> ApiError {
        ApiError::Malformed {
            detail: detail.into(),
        }
    }

    /// A stable identifier for tests, logs and `data-testid`s.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::InvalidKey => "invalid_key",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::InsufficientQuota => "insufficient_quota",
            ApiError::ContextTooLong => "context_too_long",
            ApiError::ModelNotFound => "model_not_found",
            ApiError::ServerError { .. } => "server_error",
            ApiError::Network {
                failure: NetworkFailure::Unreachable,
            } => "unreachable",
            ApiError::Network {
                failure: NetworkFailure::CorsBlocked,
            } => "cors_blocked",
            ApiError::Timeout => "timeout",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::Cancelled => "cancelled",
            ApiError::Malformed { .. } => "malformed",
            ApiError::StreamCut { .. } => "stream_cut",
            ApiError::ReplyLost { .. } => "reply_lost",
            ApiError::StreamError { .. } => "stream_error",
            ApiError::Other { .. } => "other",
        }
    }

    /// Whether sending the same request again may succeed. Note that no retry is free: there
    /// are no idempotency keys, so retrying after a timeout or a cut stream pays for a new
    /// generation (see [`Self::may_be_billed`]).
    pub fn can_retry(&self) -> bool {
        match self {
            ApiError::RateLimited { .. }
            | ApiError::Network {
                failure: NetworkFailure::Unreachable,
            }
            | ApiError::Timeout
            | ApiError::RequestTimeout
            | ApiError::StreamCut { .. }
            | ApiError::ReplyLost { .. }
            | ApiError::StreamError { .. } => true,
            // 501 and 505 say the server will never support the request.
            ApiError::ServerError { status } => !matches!(status, 501 | 505),
            ApiError::InvalidKey
            | ApiError::InsufficientQuota
            | ApiError::ContextTooLong
            | ApiError::ModelNotFound
            | ApiError::Network {
                failure: NetworkFailure::CorsBlocked,
            }
            | ApiError::Cancelled
            | ApiError::Malformed { .. }
            | ApiError::Other { .. } => false,
        }
    }

    /// Whether the provider may have generated, and billed, a reply before this failure: our
    /// timer ran out after sending, the connection dropped after the headers, a stream stopped
    /// or carried an error, a 200 body was unreadable, or we aborted the request ourselves.
    /// Sending such a request again may pay twice, so it is never done without the user's word.
    /// Every other failure happened before any generation (no response, a 4xx/5xx status, a
    /// relay's error in place of a reply).
    pub fn may_be_billed(&self) -> bool {
        matches!(
            self,
            ApiError::Timeout
                | ApiError::Cancelled
                | ApiError::Malformed { .. }
                | ApiError::StreamCut { .. }
                | ApiError::ReplyLost { .. }
                | ApiError::StreamError { .. }
        )
    }

    /// What arrived of the reply before this failure, when a reply had begun.
    pub fn partial(&self) -> Option<&Completion> {
        match self {
            ApiError::StreamCut { partial }
            | ApiError::ReplyLost { partial }
            | ApiError::StreamError { partial, .. } => Some(partial),
            _ => None,
        }
    }

    /// The delay the provider asked for, when it said.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_ms } => *retry_after_ms,
            _ => None,
        }
    }

    /// The same error with `key` masked in every free-text field, as a last line of defence
    /// before an error is shown, logged or stored.
    pub fn redacted(self, key: &str) -> ApiError {
        match self {
            ApiError::Other { status, message } => ApiError::Other {
                status,
                message: redact(&message, key),
            },
            ApiError::Malformed { detail } => ApiError::Malformed {
                detail: redact(&detail, key),
            },
            ApiError::StreamError { cause, partial } => ApiError::StreamError {
                cause: Box::new(cause.redacted(key)),
                partial,
            },
            other => other,
        }
    }

    /// A clear, actionable message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ApiError::InvalidKey => lang
                .pick(
                    "API 密钥无效或已被停用。请在「连接」中重新粘贴密钥，并确认它属于当前选择的服务商。",
                    "The API key was rejected (invalid or revoked). Paste the key again under \
                     Connections and check that it belongs to the selected provider.",
                )
                .to_string(),
            ApiError::RateLimited { retry_after_ms } => {
                let wait = retry_after_ms.map(|ms| ms.div_ceil(1000).max(1));
                match (lang, wait) {
                    (Lang::ZhCn, Some(s)) => format!(
                        "请求过于频繁，服务商已限流（429）。请约 {s} 秒后重试，或降低并发数。"
                    ),
                    (Lang::ZhCn, None) => {
                        "请求过于频繁，服务商已限流（429）。请稍后重试，或降低并发数。".to_string()
                    }
                    (Lang::En, Some(s)) => format!(
                        "The provider is rate-limiting requests (429). Retry in about {s} s, or \
                         lower the concurrency."
                    ),
                    (Lang::En, None) => "The provider is rate-limiting requests (429). Retry \
                                         shortly, or lower the concurrency."
                        .to_string(),
                }
            }
            ApiError::InsufficientQuota => lang
                .pick(
                    "账户余额或额度不足，重试不会成功。请到服务商后台充值，或换用其他密钥。",
                    "The account is out of credit or quota, so retrying will not help. Top up \
                     with the provider or use another key.",
                )
                .to_string(),
            ApiError::ContextTooLong => lang
                .pick(
                    "输入超出了模型的上下文长度。请缩短剧本或按场次分开发送、调低 max_tokens，或换用上下文更长的模型。",
                    "The input exceeds the model's context length. Shorten the script or send it \
                     scene by scene, lower max_tokens, or pick a model with a longer context.",
                )
                .to_string(),
            ApiError::ModelNotFound => lang
                .pick(
                    "服务商找不到该模型，或此密钥无权使用它。请检查路由里的模型名；如果所有模型都报此错，请确认 Base URL 是否漏了 /v1。",
                    "The provider does not know this model, or this key may not use it. Check the \
                     model name in the route; if every model fails this way, check that the base \
                     URL ends in /v1.",
                )
                .to_string(),
            ApiError::ServerError { status } => match lang {
                Lang::ZhCn => format!("服务商内部错误（{status}），通常是暂时的，请稍后重试。"),
                Lang::En => format!(
                    "The provider had an internal error ({status}). This is usually temporary: \
                     retry shortly."
                ),
            },
            ApiError::Network {
                failure: NetworkFailure::Unreachable,
            } => lang
                .pick(
                    "无法连接到服务器。请检查网络、Base URL 的拼写，以及该服务是否在线。",
                    "Could not reach the server. Check your network, the spelling of the base \
                     URL, and whether the service is up.",
                )
                .to_string(),
            ApiError::Network {
                failure: NetworkFailure::CorsBlocked,
            } => lang
                .pick(
                    "服务器可以访问，但它不允许浏览器直接调用（被 CORS 拦截）。可以：换用允许浏览器调用的中转服务；请服务商在 Access-Control-Allow-Origin 中放行本站来源；或先用本地沙盒测试。",
                    "The server is reachable but does not allow calls from a web page (blocked by \
                     CORS). Use a relay that allows browser calls, ask the provider to allow this \
                     site's origin in Access-Control-Allow-Origin, or try the local sandbox.",
                )
                .to_string(),
            ApiError::Timeout => lang
                .pick(
                    "请求超时。服务商可能已经生成并计费；重试会是一次新的、同样计费的请求。",
                    "The request timed out. The provider may already have generated (and billed) \
                     a reply; a retry is a new, billed request.",
                )
                .to_string(),
            ApiError::RequestTimeout => lang
                .pick(
                    "服务器等待请求超时（408），尚未开始生成，可以放心重试。",
                    "The server timed out waiting for the request (408) before working on it: it \
                     is safe to retry.",
                )
                .to_string(),
            ApiError::ReplyLost { partial } => {
                let chars = partial.content.chars().count();
                match lang {
                    Lang::ZhCn => format!(
                        "服务商开始回复后连接断开（已收到 {chars} 个字符）。它可能已生成完整回复并计费；重新发送会再次计费。"
                    ),
                    Lang::En => format!(
                        "The connection dropped after the provider began replying ({chars} \
                         characters received). It may have generated, and billed, the whole \
                         reply; sending again is billed again."
                    ),
                }
            }
            ApiError::StreamError { cause, partial } => {
                let chars = partial.content.chars().count();
                let cause = cause.message(lang);
                match lang {
                    Lang::ZhCn => format!(
                        "回复进行到一半时服务商报错（已收到 {chars} 个字符，已生成的部分会计费）：{cause}"
                    ),
                    Lang::En => format!(
                        "The provider reported an error partway through the reply ({chars} \
                         characters received; what was generated is billed): {cause}"
                    ),
                }
            }
            ApiError::Cancelled => lang
                .pick("请求已取消。", "The request was cancelled.")
                .to_string(),
            ApiError::Malformed { detail } => match lang {
                Lang::ZhCn => format!(
                    "服务返回的内容无法识别（{detail}）。请确认 Base URL 与该连接所选的协议（OpenAI 兼容或 Anthropic Messages）相符。"
                ),
                Lang::En => format!(
                    "The service returned something unrecognizable ({detail}). Check that the \
                     base URL matches the protocol chosen for this connection (OpenAI-compatible \
                     or Anthropic Messages)."
                ),
            },
            ApiError::StreamCut { partial } => {
                let chars = partial.content.chars().count();
                match lang {
                    Lang::ZhCn => format!(
                        "输出在中途断开，已保留收到的 {chars} 个字符；本次用量为估算值。"
                    ),
                    Lang::En => format!(
                        "The reply was cut off mid-stream. The {chars} characters received are \
                         kept and this call's usage is estimated."
                    ),
                }
            }
            ApiError::Other { status, message } => match (lang, message.is_empty()) {
                (Lang::ZhCn, true) => format!("请求被拒绝（{status}）。"),
                (Lang::ZhCn, false) => format!("请求被拒绝（{status}）：{message}"),
                (Lang::En, true) => format!("The request was rejected ({status})."),
                (Lang::En, false) => format!("The request was rejected ({status}): {message}"),
            },
        }
    }
}

impl fmt::Display for ApiError {
    /// The English message, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ApiError {}

/// Classifies a non-2xx response. `body` should already have passed through [`redact`] with the
/// key that was sent; upstream text reaches the result only as an [`excerpt`].
pub fn classify(status: u16, body: &str, headers: &RateLimitHeaders) -> ApiError {
    classify_upstream(status, &Upstream::parse(body), headers)
}

/// The error carried inside an otherwise successful payload (`{"error":…}` in a 200 body or in
/// a stream chunk), or `None` when there is none.
pub(crate) fn embedded_error(value: &Value, status: u16) -> Option<ApiError> {
    let error = value.get("error").filter(|e| !e.is_null())?;
    if error.as_str() == Some("") {
        return None;
    }
    Some(classify_upstream(
        status,
        &Upstream::from_value(value),
        &RateLimitHeaders::default(),
    ))
}

/// Replaces every occurrence of `key` with `[redacted]` and masks anything else that looks like
/// a credential (see [`redact_secrets`]). Keys shorter than 8 characters are not searched for
/// literally, since replacing them would mangle ordinary text.
pub fn redact(text: &str, key: &str) -> String {
    let key = key.trim();
    let text = if key.chars().count() >= 8 {
        text.replace(key, REDACTED)
    } else {
        text.to_string()
    };
    redact_secrets(&text)
}

/// Masks tokens that look like credentials even when the key that was sent is unknown: whatever
/// follows `Bearer `, anything starting with a known key prefix (`sk-`, `sk_`, `hs_`, `AIza`,
/// `xai-`, `gsk_`) of 16 characters or more, and any run of 32 or more letters, digits, `-` and
/// `_` that mixes letters and digits.
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut after_bearer = false;
    while let Some(c) = rest.chars().next() {
        if after_bearer && !c.is_whitespace() {
            after_bearer = false;
            let len = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ','))
                .unwrap_or(rest.len());
            if len > 0 {
                out.push_str(REDACTED);
                rest = &rest[len..];
                continue;
            }
        }
        if is_token_char(c) {
            let len = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
            let run = &rest[..len];
            out.push_str(if looks_like_secret(run) {
                REDACTED
            } else {
                run
            });
            after_bearer = run == "Bearer";
            rest = &rest[len..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            after_bearer &= c.is_whitespace();
        }
    }
    out
}

/// A short, safe excerpt of upstream text: HTML tags (and the contents of `<script>` and
/// `<style>`) removed, whitespace collapsed, credentials masked, at most
/// [`EXCERPT_MAX_CHARS`] characters.
pub fn excerpt(text: &str) -> String {
    let plain = strip_tags(text)
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    let collapsed = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    let masked = redact_secrets(&collapsed);
    if masked.chars().count() <= EXCERPT_MAX_CHARS {
        masked
    } else {
        let mut cut: String = masked.chars().take(EXCERPT_MAX_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

const REDACTED: &str = "[redacted]";

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn looks_like_secret(run: &str) -> bool {
    const PREFIXES: [&str; 6] = ["sk-", "sk_", "hs_", "AIza", "xai-", "gsk_"];
    let len = run.len();
    if len >= 16 && PREFIXES.iter().any(|p| run.starts_with(p)) {
        return true;
    }
    len >= 32
        && run.bytes().any(|b| b.is_ascii_alphabetic())
        && run.bytes().any(|b| b.is_ascii_digit())
}

/// Removes HTML tags, and the whole of `<script>` and `<style>` elements.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tag = &rest[open..];
        let Some(close) = tag.find('>') else {
            // A lone `<` is text, not a tag.
            out.push_str(tag);
            return out;
        };
        let name = tag[1..close]
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        rest = &tag[close + 1..];
        if name == "script" || name == "style" {
            let end = format!("</{name}");
            rest = match rest.to_ascii_lowercase().find(&end) {
                Some(at) => {
                    let after = &rest[at..];
                    after.find('>').map_or("", |gt| &after[gt + 1..])
                }
                None => "",
            };
        }
        out.push(' ');
    }
    out.push_str(rest);
    out
}

/// What an error body says, read from whichever shape the provider used.
#[derive(Debug, Default)]
struct Upstream {
    /// The message as sent (matching lower-cases it; display goes through [`excerpt`]).
    message: String,
    /// `error.code`, as text (numbers included).
    code: String,
    /// `error.type`, or Google's `error.status`.
    kind: String,
    /// A numeric `code` that is an HTTP status (relays put 429 there in stream errors).
    status: Option<u16>,
}

impl Upstream {
    fn parse(body: &str) -> Upstream {
        match serde_json::from_str::<Value>(body.trim()) {
            Ok(value) if value.is_object() || value.is_array() => Upstream::from_value(&value),
            _ => Upstream {
                message: body.to_string(),
                ..Upstream::default()
            },
        }
    }

    fn from_value(value: &Value) -> Upstream {
        // Google's OpenAI-compatible endpoint wraps the error in a one-element array.
        let value = match value {
            Value::Array(items) => items.first().unwrap_or(&Value::Null),
            other => other,
        };
        let error = value.get("error").filter(|e| !e.is_null());
        let (holder, message) = match error {
            Some(e @ Value::Object(_)) => (e, e.get("message")),
            Some(text @ Value::String(_)) => (value, Some(text)),
            _ => (
                value,
                ["message", "msg", "detail", "error_msg"]
                    .iter()
                    .find_map(|k| value.get(*k)),
            ),
        };
        let text_of = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let code_value = holder.get("code").or_else(|| value.get("error_code"));
        let kind = match text_of(holder.get("type")) {
            t if t.is_empty() => text_of(holder.get("status")),
            t => t,
        };
        Upstream {
            message: text_of(message),
            code: text_of(code_value),
            kind,
            status: code_value
                .and_then(Value::as_u64)
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| (400..600).contains(n)),
        }
    }

    /// True when the code or type equals one of `ids` (case-insensitive).
    fn has_id(&self, ids: &[&str]) -> bool {
        ids.iter()
            .any(|id| self.code.eq_ignore_ascii_case(id) || self.kind.eq_ignore_ascii_case(id))
    }

    /// True when the message contains one of `needles` (which must be lower case).
    fn says(&self, needles: &[&str]) -> bool {
        let message = self.message.to_lowercase();
        needles.iter().any(|n| message.contains(n))
    }
}

fn classify_upstream(status: u16, upstream: &Upstream, headers: &RateLimitHeaders) -> ApiError {
    let status = if (400..600).contains(&status) {
        status
    } else {
        upstream.status.unwrap_or(status)
    };
    let client_side = !(500..600).contains(&status);
    let rate_limited = || ApiError::RateLimited {
        retry_after_ms: headers
            .retry_delay_ms()
            .or_else(|| retry_hint_ms(&upstream.message)),
    };

    if upstream.has_id(QUOTA_IDS) {
        return ApiError::InsufficientQuota;
    }
    if upstream.has_id(RATE_IDS) {
        return rate_limited();
    }
    if status == 413 || upstream.has_id(CONTEXT_IDS) || upstream.says(CONTEXT_WORDS) {
        return ApiError::ContextTooLong;
    }
    let quota_words =
        upstream.says(QUOTA_WORDS) || (upstream.says(&["quota"]) && !upstream.says(RATE_WORDS));
    if status == 402 || (client_side && quota_words) {
        return ApiError::InsufficientQuota;
    }
    if status == 429 || (client_side && status != 401 && upstream.says(RATE_WORDS)) {
        return rate_limited();
    }
    if upstream.has_id(KEY_IDS) || status == 401 || (status == 403 && upstream.says(KEY_WORDS)) {
        return ApiError::InvalidKey;
    }
    if upstream.has_id(MODEL_IDS) || status == 404 || upstream.says(MODEL_WORDS) {
        return ApiError::ModelNotFound;
    }
    if status == 408 {
        return ApiError::RequestTimeout;
    }
    if (500..600).contains(&status) {
        return ApiError::ServerError { status };
    }
    // Anthropic's error types carried in a 200 body or a stream's `error` event, with the
    // status Anthropic gives them over HTTP (529 overloaded, 504 timeout), so retry policy and
    // messages treat them the same whichever way they arrived.
    if upstream.has_id(&["overloaded_error"]) {
        return ApiError::ServerError { status: 529 };
    }
    if upstream.has_id(&["timeout_error"]) {
        return ApiError::ServerError { status: 504 };
    }
    if upstream.has_id(&["server_error", "internal_error", "api_error"]) {
        return ApiError::ServerError { status: 500 };
    }
    // A relay whose upstream failed, reported in a 200 body in place of a reply.
    if upstream.has_id(&["upstream_error", "bad_gateway"]) {
        return ApiError::ServerError { status: 502 };
    }
    ApiError::Other {
        status,
        message: excerpt(&upstream.message),
    }
}

const QUOTA_IDS: &[&str] = &[
    "insufficient_quota",
    "insufficient_user_quota",
    "billing_hard_limit_reached",
    "billing_not_active",
    "payment_required",
];
const QUOTA_WORDS: &[&str] = &[
    "insufficient_quota",
    "exceeded your current quota",
    "insufficient balance",
    "insufficient credit",
    "insufficient funds",
    // Anthropic: "Your credit balance is too low to access the Anthropic API."
    "credit balance is too low",
    "余额不足",
    "额度不足",
    "额度已用尽",
    "余额已用尽",
    "欠费",
];
const RATE_IDS: &[&str] = &[
    "rate_limit_exceeded",
    "rate_limit_error",
    "too_many_requests",
    "resource_exhausted",
    "requests",
    "tokens",
];
const RATE_WORDS: &[&str] = &[
    "rate limit",
    "rate_limit",
    "ratelimit",
    "too many requests",
    "per minute",
    "per second",
    "check quota",
    "请求过于频繁",
    "请求频率",
    "频率限制",
    "限流",
    "并发",
];
const CONTEXT_IDS: &[&str] = &[
    "context_length_exceeded",
    "string_above_max_length",
    // Anthropic's 413.
    "request_too_large",
];
const CONTEXT_WORDS: &[&str] = &[
    "context length",
    "context_length",
    "context window",
    "maximum context",
    "prompt is too long",
    "上下文",
];
const KEY_IDS: &[&str] = &[
    "invalid_api_key",
    "invalid_key",
    "authentication_error",
    "unauthorized",
];
const KEY_WORDS: &[&str] = &[
    "api key",
    "api_key",
    "apikey",
    "invalid token",
    "authentication",
    "unauthorized",
    "令牌",
    "密钥",
];
/// `not_found_error` is Anthropic's 404 (an unknown model, or a wrong path such as a doubled
/// `/v1`), which the model-not-found message covers.
const MODEL_IDS: &[&str] = &["model_not_found", "not_found_error"];
const MODEL_WORDS: &[&str] = &[
    "model_not_found",
    "模型不存在",
    "无可用渠道",
    "no available channel",
    "unknown model",
];

/// Reads "try again in 1.898s" / "retry in 21s" out of a rate-limit message.
fn retry_hint_ms(message: &str) -> Option<u64> {
    let lower = message.to_lowercase();
    ["try again in ", "retry in "].iter().find_map(|lead| {
        let at = lower.find(lead)? + lead.len();
        let token = lower[at..].split_whitespace().next()?;
        parse_duration_ms(token.trim_end_matches(['.', ',', ';', ')']))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classifies and compares the stable kind (and the retry delay, for rate limits).
    fn check(status: u16, body: &str, expect: &str) {
        let error = classify(status, body, &RateLimitHeaders::default());
        assert_eq!(error.kind(), expect, "{status} {body}");
        for lang in [Lang::ZhCn, Lang::En] {
            assert!(!error.message(lang).is_empty());
        }
    }

    #[test]
    fn openai_error_bodies() {
        check(
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-abc***xyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
            "invalid_key",
        );
        check(
            429,
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
            "insufficient_quota",
        );
        check(
            429,
            r#"{"error":{"message":"Rate limit reached for gpt-4.1 in organization org-x on tokens per min (TPM): Limit 30000, Used 29900, Requested 500. Please try again in 1.898s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
            "rate_limited",
        );
        check(
            400,
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            "context_too_long",
        );
        check(
            404,
            r#"{"error":{"message":"The model `gpt-5-turbo` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
            "model_not_found",
        );
        check(
            403,
            r#"{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","code":"unsupported_country_region_territory"}}"#,
            "other",
        );
        check(
            400,
            r#"{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":null}}"#,
            "other",
        );
        check(
            500,
            r#"{"error":{"message":"The server had an error"}}"#,
            "server_error",
        );
        check(503, "", "server_error");
        check(408, "", "request_timeout");
        // A relay's error in a 200 body, in place of a reply: its upstream failed.
        check(
            200,
            r#"{"error":{"message":"upstream error: connection refused","type":"upstream_error","code":"bad_gateway"}}"#,
            "server_error",
        );
        check(413, "Request Entity Too Large", "context_too_long");
        check(
            402,
            r#"{"error":{"message":"Insufficient credits"}}"#,
            "insufficient_quota",
        );
    }

    #[test]
    fn relay_and_provider_bodies() {
        // Chinese relays (one-api / new-api style).
        check(
            403,
            r#"{"error":{"message":"用户额度不足, 剩余额度: ¥0.01","type":"new_api_error","code":"insufficient_user_quota"}}"#,
            "insufficient_quota",
        );
        check(
            429,
            r#"{"error":{"message":"账户余额不足，请充值","type":"error"}}"#,
            "insufficient_quota",
        );
        check(
            401,
            r#"{"error":{"message":"无效的令牌","type":"new_api_error"}}"#,
            "invalid_key",
        );
        check(
            403,
            r#"{"error":{"message":"该令牌已过期","type":"new_api_error"}}"#,
            "invalid_key",
        );
        check(
            503,
            r#"{"error":{"message":"当前分组 default 下对于模型 foo 无可用渠道","type":"new_api_error","code":"model_not_found"}}"#,
            "model_not_found",
        );
        check(
            400,
            r#"{"error":{"message":"输入超出上下文长度限制","type":"invalid_request_error"}}"#,
            "context_too_long",
        );
        check(
            429,
            r#"{"error":{"message":"请求过于频繁，请稍后再试","type":"error"}}"#,
            "rate_limited",
        );
        // DeepSeek: 402 Insufficient Balance.
        check(
            402,
            r#"{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}"#,
            "insufficient_quota",
        );
        // Gemini's OpenAI-compatible endpoint: an array, and "check quota" is a rate limit.
        check(
            429,
            r#"[{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}]"#,
            "rate_limited",
        );
        // Anthropic: prompt too long, overloaded.
        check(
            400,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
            "context_too_long",
        );
        check(
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            "server_error",
        );
        // Top-level shapes some gateways use.
        check(
            401,
            r#"{"code":401,"message":"unauthorized","data":null}"#,
            "invalid_key",
        );
        check(400, r#"{"detail":"Not allowed"}"#, "other");
        // Gateways answering with HTML.
        check(
            502,
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            "server_error",
        );
        check(
            404,
            "<html><body>Not Found</body></html>",
            "model_not_found",
        );
    }

    #[test]
    fn anthropic_error_bodies() {
        let body = |kind: &str, message: &str| {
            format!(r#"{{"type":"error","error":{{"type":"{kind}","message":"{message}"}}}}"#)
        };
        let none = RateLimitHeaders::default();
        let cases = [
            (401, body("authentication_error", "invalid x-api-key"), ApiError::InvalidKey),
            (
                404,
                body("not_found_error", "model: claude-9"),
                ApiError::ModelNotFound,
            ),
            (
                429,
                body(
                    "rate_limit_error",
                    "Number of request tokens has exceeded your per-minute rate limit",
                ),
                ApiError::RateLimited {
                    retry_after_ms: None,
                },
            ),
            (
                529,
                body("overloaded_error", "Overloaded"),
                ApiError::ServerError { status: 529 },
            ),
            (
                500,
                body("api_error", "Internal server error"),
                ApiError::ServerError { status: 500 },
            ),
            (
                400,
                body(
                    "invalid_request_error",
                    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
                ),
                ApiError::InsufficientQuota,
            ),
            (
                413,
                body("request_too_large", "Request exceeds the maximum allowed number of bytes."),
                ApiError::ContextTooLong,
            ),
            (
                504,
                body("timeout_error", "Request timed out"),
                ApiError::ServerError { status: 504 },
            ),
        ];
        for (status, body, expect) in cases {
            assert_eq!(classify(status, &body, &none), expect, "{status} {body}");
            // The same body inside a 200 reply or a stream's error event.
            let value: Value = serde_json::from_str(&body).unwrap();
            let embedded = embedded_error(&value, 200).unwrap();
            assert_eq!(embedded.kind(), expect.kind(), "embedded {body}");
        }
        // Overloaded: retryable, and nothing was generated, so nothing was billed.
        let overloaded = classify(529, &body("overloaded_error", "Overloaded"), &none);
        assert!(overloaded.can_retry() && !overloaded.may_be_billed());
        let value: Value = serde_json::from_str(&body("overloaded_error", "Overloaded")).unwrap();
        assert_eq!(
            embedded_error(&value, 200),
            Some(ApiError::ServerError { status: 529 })
        );
        // The retry delay comes from the headers.
        let headers = RateLimitHeaders::parse([("retry-after", "7")], 0);
        let limited = classify(429, &body("rate_limit_error", "slow down"), &headers);
        assert_eq!(limited.retry_after_ms(), Some(7_000));
        assert!(!limited.may_be_billed());
    }

    #[test]
    fn retry_after_from_headers_or_message() {
        let headers = RateLimitHeaders::parse([("retry-after-ms", "750")], 0);
        let error = classify(429, "{}", &headers);
        assert_eq!(error.retry_after_ms(), Some(750));
        let body = r#"{"error":{"message":"Rate limit reached ... Please try again in 1.898s.","code":"rate_limit_exceeded"}}"#;
        let error = classify(429, body, &RateLimitHeaders::default());
        assert_eq!(error.retry_after_ms(), Some(1_898));
        // Headers win over the message.
        assert_eq!(classify(429, body, &headers).retry_after_ms(), Some(750));
        assert!(error.message(Lang::ZhCn).contains("约 2 秒"));
        assert!(error.message(Lang::En).contains("about 2 s"));
        assert_eq!(
            classify(429, "slow down", &RateLimitHeaders::default()).retry_after_ms(),
            None
        );
    }

    #[test]
    fn embedded_errors_use_their_code_as_status() {
        let value: Value = serde_json::from_str(
            r#"{"error":{"message":"Rate limit exceeded","type":"error","code":429}}"#,
        )
        .unwrap();
        assert_eq!(embedded_error(&value, 200).unwrap().kind(), "rate_limited");
        let value: Value =
            serde_json::from_str(r#"{"error":{"message":"upstream died","type":"server_error"}}"#)
                .unwrap();
        assert_eq!(
            embedded_error(&value, 200),
            Some(ApiError::ServerError { status: 500 })
        );
        let value: Value = serde_json::from_str(r#"{"error":null,"choices":[]}"#).unwrap();
        assert_eq!(embedded_error(&value, 200), None);
    }

    #[test]
    fn retry_verdicts() {
        let cases: [(ApiError, &str, bool); 17] = [
            (ApiError::InvalidKey, "invalid_key", false),
            (
                ApiError::RateLimited {
                    retry_after_ms: None,
                },
                "rate_limited",
                true,
            ),
            (ApiError::InsufficientQuota, "insufficient_quota", false),
            (ApiError::ContextTooLong, "context_too_long", false),
            (ApiError::ModelNotFound, "model_not_found", false),
            (ApiError::ServerError { status: 503 }, "server_error", true),
            (ApiError::ServerError { status: 501 }, "server_error", false),
            (ApiError::network(false), "unreachable", true),
            (ApiError::network(true), "cors_blocked", false),
            (ApiError::Timeout, "timeout", true),
            (ApiError::RequestTimeout, "request_timeout", true),
            (
                ApiError::ReplyLost {
                    partial: Box::default(),
                },
                "reply_lost",
                true,
            ),
            (
                ApiError::StreamError {
                    cause: Box::new(ApiError::ServerError { status: 500 }),
                    partial: Box::default(),
                },
                "stream_error",
                true,
            ),
            (ApiError::Cancelled, "cancelled", false),
            (ApiError::malformed("x"), "malformed", false),
            (
                ApiError::StreamCut {
                    partial: Box::default(),
                },
                "stream_cut",
                true,
            ),
            (
                ApiError::Other {
                    status: 400,
                    message: String::new(),
                },
                "other",
                false,
            ),
        ];
        for (error, kind, retry) in cases {
            assert_eq!(error.kind(), kind);
            assert_eq!(error.can_retry(), retry, "{kind}");
            // Only the failures after the request reached a generating provider may be billed.
            let billable = [
                "timeout",
                "cancelled",
                "malformed",
                "stream_cut",
                "reply_lost",
                "stream_error",
            ];
            assert_eq!(error.may_be_billed(), billable.contains(&kind), "{kind}");
            let zh = error.message(Lang::ZhCn);
            let en = error.message(Lang::En);
            assert_ne!(zh, en, "{kind} needs two languages");
            // Errors are stored with jobs, so they round-trip through JSON.
            let json = serde_json::to_string(&error).unwrap();
            assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), error);
            assert!(
                !en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{en}"
            );
        }
    }

    #[test]
    fn cors_message_is_actionable() {
        let en = ApiError::network(true).message(Lang::En);
        assert!(
            en.contains("CORS") && en.contains("relay") && en.contains("sandbox"),
            "{en}"
        );
        let zh = ApiError::network(true).message(Lang::ZhCn);
        assert!(
            zh.contains("CORS") && zh.contains("中转") && zh.contains("沙盒"),
            "{zh}"
        );
    }

    #[test]
    fn excerpts_are_short_and_tag_free() {
        let page = format!(
            "<html><head><style>body{{color:red}}</style><script>var k='x';</script></head>\
             <body><h1>Gateway&nbsp;Timeout</h1><p>{}</p></body></html>",
            "很长的错误说明".repeat(100)
        );
        let error = classify(418, &page, &RateLimitHeaders::default());
        let ApiError::Other { status, message } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(*status, 418);
        assert!(
            message.starts_with("Gateway Timeout 很长的错误说明"),
            "{message}"
        );
        assert_eq!(message.chars().count(), EXCERPT_MAX_CHARS);
        assert!(message.ends_with('…'));
        assert!(!message.contains('<') && !message.contains("color") && !message.contains("var"));
        assert_eq!(excerpt("a < b"), "a < b");
        assert_eq!(excerpt("  a\n\n b  "), "a b");
    }

    /// No substring of `key` of `window` characters or more appears in `text`.
    fn assert_no_key_fragment(text: &str, key: &str, window: usize) {
        let chars: Vec<char> = key.chars().collect();
        for start in 0..=chars.len().saturating_sub(window) {
            let fragment: String = chars[start..start + window].iter().collect();
            assert!(!text.contains(&fragment), "{fragment:?} leaked in {text:?}");
        }
    }

    #[test]
    fn keys_never_reach_messages() {
        let keys = [
            "sk-proj-AbCdEf0123456789AbCdEf0123456789",
            "hs_0123456789abcdef0123456789abcdef",
            // A relay key without a known prefix and without digits: only redact() can catch it.
            "QWERTYUIOPasdfghjklZXCVBNMqwertyuiop",
        ];
        for key in keys {
            let bodies = [
                format!(
                    r#"{{"error":{{"message":"Invalid key {key} for this group","code":"bad"}}}}"#
                ),
                format!("<html><body><pre>Authorization: Bearer {key}</pre></body></html>"),
                // The key straddles the excerpt cap, so truncation alone would leak a prefix.
                format!(
                    r#"{{"error":{{"message":"{}{key} trailing"}}}}"#,
                    "x ".repeat(95)
                ),
                key.to_string(),
            ];
            for body in &bodies {
                for status in [400, 403, 418, 200] {
                    let error = classify(status, &redact(body, key), &RateLimitHeaders::default());
                    for lang in [Lang::ZhCn, Lang::En] {
                        assert_no_key_fragment(&error.message(lang), key, 12);
                    }
                    let late = classify(status, body, &RateLimitHeaders::default()).redacted(key);
                    if !matches!(late, ApiError::Other { .. }) {
                        continue;
                    }
                    // Redacting afterwards is the fallback; prefixed keys are masked even then.
                    if key.starts_with("sk-") || key.starts_with("hs_") {
                        assert_no_key_fragment(&late.message(Lang::En), key, 12);
                    }
                }
            }
        }
    }

    #[test]
    fn redaction() {
        let key = "sk-or-v1-0123456789abcdef0123456789abcdef";
        assert_eq!(redact(&format!("used {key}."), key), "used [redacted].");
        assert_eq!(redact("Bearer abc.def/x=", "short"), "Bearer [redacted]");
        assert_eq!(
            redact("header: \"Bearer abc\", next", "short"),
            "header: \"Bearer [redacted]\", next"
        );
        assert_eq!(
            redact("request id 20250101123456", ""),
            "request id 20250101123456"
        );
        assert_eq!(
            redact_secrets("AIzaSyA-1234567890abcdefgh and chat"),
            "[redacted] and chat"
        );
        // Ordinary words and masked keys survive.
        assert_eq!(
            redact_secrets("Incorrect API key provided: sk-abc***xyz"),
            "Incorrect API key provided: sk-abc***xyz"
        );
    }
}
