//! OpenAI-shaped error responses.
//!
//! Every error the sandbox returns has the body
//! `{"error":{"message","type","param","code"}}`, like the real API. No message
//! ever contains the API key a client sent.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::flow::ProviderError;
use crate::limits::{retry_after_secs, LimitSnapshot};

/// The message of a server error that happened during generation (the
/// in-stream error event of `stream_error_event`, or its 500 when not streaming).
pub const GENERATION_ERROR_MESSAGE: &str =
    "The server had an error while processing your request. Sorry about that!";

/// How a 429 tells the client when to retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// `retry-after` in whole seconds (rounded up) and `retry-after-ms`.
    Millis(u64),
    /// `retry-after` as an HTTP date (IMF-fixdate), and no `retry-after-ms`.
    Date(String),
}

impl RetryAfter {
    /// Adds `retry-after` (whole seconds, rounded up, or the date) and, with
    /// `millis_header`, `retry-after-ms` for a delay in milliseconds.
    pub fn apply(&self, headers: &mut HeaderMap, millis_header: bool) {
        match self {
            Self::Millis(ms) => {
                let secs = retry_after_secs(*ms).to_string();
                headers.insert("retry-after", HeaderValue::from_str(&secs).expect("digits"));
                if millis_header {
                    let ms = ms.to_string();
                    headers.insert(
                        "retry-after-ms",
                        HeaderValue::from_str(&ms).expect("digits"),
                    );
                }
            }
            Self::Date(date) => {
                headers.insert(
                    "retry-after",
                    HeaderValue::from_str(date).expect("ASCII date"),
                );
            }
        }
    }
}

/// An error response in the OpenAI format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human readable message.
    pub message: String,
    /// The `type` field, e.g. `invalid_request_error`.
    pub kind: &'static str,
    /// The request parameter at fault, if any.
    pub param: Option<&'static str>,
    /// The machine readable `code`, if any.
    pub code: Option<&'static str>,
    /// The retry hint headers, for 429 rate limits.
    pub retry_after: Option<RetryAfter>,
    /// Rate-limit headers to send with the error (boxed to keep errors small).
    pub limits: Box<LimitSnapshot>,
}

impl ApiError {
    /// A generic error.
    pub fn new(
        status: StatusCode,
        message: impl Into<String>,
        kind: &'static str,
        param: Option<&'static str>,
        code: Option<&'static str>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param,
            code,
            retry_after: None,
            limits: Box::default(),
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid_request(
        message: impl Into<String>,
        param: Option<&'static str>,
        code: Option<&'static str>,
    ) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_request_error",
            param,
            code,
        )
    }

    /// 401 for a missing or wrong key.
    pub fn invalid_api_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided.",
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        )
    }

    /// 404 for a model that is not served.
    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            Some("model"),
            Some("model_not_found"),
        )
    }

    /// 400 when the prompt is longer than the model's context window.
    pub fn context_length_exceeded(limit: u64, prompt_tokens: u64) -> Self {
        Self::invalid_request(
            format!(
                "This model's maximum context length is {limit} tokens. However, your messages \
                 resulted in {prompt_tokens} tokens. Please reduce the length of the messages."
            ),
            Some("messages"),
            Some("context_length_exceeded"),
        )
    }

    /// 429 `rate_limit_exceeded`, retryable after `retry_after_ms`.
    pub fn rate_limited(retry_after_ms: u64) -> Self {
        Self {
            retry_after: Some(RetryAfter::Millis(retry_after_ms)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                "requests",
                None,
                Some("rate_limit_exceeded"),
            )
        }
    }

    /// 429 `rate_limit_exceeded` whose `retry-after` is the HTTP date `date`.
    pub fn rate_limited_until(date: String) -> Self {
        Self {
            retry_after: Some(RetryAfter::Date(date)),
            ..Self::rate_limited(0)
        }
    }

    /// 429 `rate_limit_exceeded` with no retry header, only OpenAI's message
    /// "Please try again in {seconds}s.".
    pub fn rate_limited_try_again(model: &str, seconds: u64) -> Self {
        Self {
            message: format!(
                "Rate limit reached for {model} in organization org-sandbox on requests per min \
                 (RPM): Limit 60, Used 60, Requested 1. Please try again in {seconds}s. Visit \
                 https://platform.openai.com/account/rate-limits to learn more."
            ),
            retry_after: None,
            ..Self::rate_limited(0)
        }
    }

    /// 429 `insufficient_quota`: retrying does not help.
    pub fn insufficient_quota() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            None,
            Some("insufficient_quota"),
        )
    }

    /// 500 `server_error`.
    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request.",
            "server_error",
            None,
            None,
        )
    }

    /// 500 `server_error` after generation ([`GENERATION_ERROR_MESSAGE`]).
    pub fn generation_error() -> Self {
        Self {
            message: GENERATION_ERROR_MESSAGE.to_owned(),
            ..Self::server_error()
        }
    }

    /// 408 request timeout.
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "Request timed out.",
            "server_error",
            None,
            Some("request_timeout"),
        )
    }

    /// 403 for a control route called without the right `x-sandbox-control`
    /// token. The message never contains the token sent or expected.
    pub fn control_forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "The /_sandbox/ control routes need the header `x-sandbox-control` with the control \
             token the sandbox printed at start (`Sandbox control token: …`).",
            "invalid_request_error",
            None,
            Some("invalid_control_token"),
        )
    }

    /// 503 overloaded.
    pub fn overloaded() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The engine is currently overloaded, please try again later.",
            "server_error",
            None,
            None,
        )
    }

    /// 404 for an unknown route.
    pub fn invalid_url(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("Invalid URL ({method} {path})"),
            "invalid_request_error",
            None,
            None,
        )
    }

    /// 405 for a known route called with the wrong method.
    pub fn invalid_method(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Invalid method for URL ({method} {path})"),
            "invalid_request_error",
            None,
            None,
        )
    }

    /// Attaches rate-limit headers.
    pub fn with_limits(mut self, limits: LimitSnapshot) -> Self {
        self.limits = Box::new(limits);
        self
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }
}

impl ProviderError for ApiError {
    fn limited(retry_after_ms: u64) -> Self {
        Self::rate_limited(retry_after_ms)
    }

    fn with_limits(self, limits: LimitSnapshot) -> Self {
        ApiError::with_limits(self, limits)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        self.limits.apply(&mut headers);
        if let Some(retry_after) = &self.retry_after {
            retry_after.apply(&mut headers, true);
        }
        (self.status, headers, axum::Json(self.body())).into_response()
    }
}
