//! A local stand-in for a remote OpenAI-compatible LLM provider.
//!
//! The sandbox speaks the OpenAI chat completions wire protocol (JSON and SSE
//! streaming), answers deterministically, counts tokens with one documented
//! rule ([`tokens::count_tokens`]), enforces per-key rpm/tpm limits the way
//! providers do, and injects faults on demand. It backs `make serve`, the
//! browser end-to-end tests and the benchmarks.
//!
//! Routes:
//!
//! * `GET /v1/models`, `GET /v1/models/{id}` and `POST /v1/chat/completions`
//!   need `Authorization: Bearer KEY`;
//! * `POST /v1/messages` speaks Anthropic's Messages API (JSON and SSE, its
//!   error shape, `anthropic-ratelimit-*` headers and `cache_control` prompt
//!   caching) and needs `x-api-key: KEY` (or `Authorization: Bearer KEY`, as
//!   relays accept) and `anthropic-version` (see [`messages`]);
//! * the video job APIs, OpenAI style (`POST /v1/videos`, `GET /v1/videos`,
//!   `GET /v1/videos/{id}`, `GET /v1/videos/{id}/content`) and the seeds'
//!   shape (`POST /v1/video/generate`, `GET /v1/video/status/{id}` or
//!   `GET /v1/video/generate/{id}`), need the key too; the seeds' file links
//!   `GET /v1/video/files/{id}.mp4` do not (see [`video`]);
//! * `GET|POST /_sandbox/config`, `GET /_sandbox/stats`, `GET /_sandbox/log`
//!   (every provider request in arrival order, see [`stats::RequestLog`]) and
//!   `POST /_sandbox/reset` control the sandbox; they need no key but the
//!   control token in `x-sandbox-control` (see [`control`]), else 403.
//!
//! Prompt caching: chat completions follow OpenAI's automatic rule, prompts
//! of at least 1,024 tokens matched from their start in 128-token steps, so
//! `cached_tokens` is 0 or 1,024 + 128·k (see [`chat`]); the Messages API
//! caches only at `cache_control` breakpoints, in a cache of its own (see
//! [`messages`]).
//!
//! Billing is `complete` (only whole, fault-free replies) or `real` (from the
//! start of generation, for what was generated, like a provider): see
//! [`billing`]. Faults are listed in [`config::FaultRates`].
//!
//! CORS: any origin; the request headers `authorization`, `content-type`,
//! `x-sandbox-control`, `x-api-key`, `anthropic-version` and
//! `anthropic-dangerous-direct-browser-access`; `Access-Control-Expose-Headers` lists
//! [`EXPOSED_HEADERS`] unless the configuration sets
//! `expose_rate_limit_headers` to false. The configuration can make the
//! sandbox refuse preflights like real providers do: `cors_refuse_headers`
//! (preflights asking for one of these headers), `cors_refuse_preflight`
//! (every preflight) and `cors_block_post` (preflights for `POST`) answer
//! 403 without any CORS header; the control routes are never refused (see
//! [`cors`](mod@cors)).
//!
//! Configuration (`SANDBOX_CONFIG` at start, `POST /_sandbox/config` at run
//! time, every field optional, see [`SandboxConfig`]): `latency_ms`,
//! `stream_chunk_delay_ms`, `seed`, `faults` ([`FaultRates`]),
//! `slow_first_byte_ms`, `rpm`, `tpm`, `hang_ms`, `retry_after_date_s`,
//! `try_again_in_s`, `expose_rate_limit_headers`, `cors_refuse_headers`,
//! `cors_refuse_preflight`, `cors_block_post` and `video` ([`VideoConfig`]).

#![warn(missing_docs)]

pub mod billing;
pub mod chat;
pub mod config;
pub mod content;
pub mod control;
pub mod cors;
pub mod error;
mod flow;
pub mod limits;
pub mod messages;
pub mod models;
pub mod rng;
pub mod state;
pub mod stats;
pub mod tokens;
pub mod video;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};

pub use billing::BillingMode;
pub use config::{FaultRates, LatencyRange, SandboxConfig, VideoConfig};
pub use control::CONTROL_HEADER;
pub use error::ApiError;
use limits::{ANTHROPIC_RATE_LIMIT_HEADERS, RATE_LIMIT_HEADERS};
pub use state::{AppState, ServerSettings};
pub use stats::Stats;

/// The key accepted when neither `--key` nor `SANDBOX_KEY` gives one.
pub const DEFAULT_KEY: &str = "sk-sandbox-0123456789abcdef0123456789abcdef";

/// The largest request body accepted (large enough for a full context window).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Response headers a browser may read, unless `expose_rate_limit_headers` is
/// false: the rate-limit headers and retry hints.
pub const EXPOSED_HEADERS: [&str; 15] = {
    // OpenAI's rate-limit headers, the retry hints, Anthropic's rate-limit
    // headers and its request id, in this order.
    let mut all = [""; 15];
    let mut index = 0;
    while index < 6 {
        all[index] = RATE_LIMIT_HEADERS[index];
        all[8 + index] = ANTHROPIC_RATE_LIMIT_HEADERS[index];
        index += 1;
    }
    all[6] = "retry-after";
    all[7] = "retry-after-ms";
    all[14] = "request-id";
    all
};

/// Builds the sandbox's HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{id}", get(models::retrieve))
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/messages", post(messages::create))
        .route("/v1/videos", get(video::list).post(video::create))
        .route("/v1/videos/{id}", get(video::retrieve))
        .route("/v1/videos/{id}/content", get(video::content))
        .route("/v1/video/generate", post(video::generate))
        .route("/v1/video/generate/{id}", get(video::status))
        .route("/v1/video/status/{id}", get(video::status))
        .route("/v1/video/files/{file}", get(video::file))
        .route(
            "/_sandbox/config",
            get(control::get_config).post(control::set_config),
        )
        .route("/_sandbox/stats", get(control::stats))
        .route("/_sandbox/log", get(control::log))
        .route("/_sandbox/reset", post(control::reset))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), stats::record))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            control::guard,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            expose_headers,
        ))
        .layer(cors())
        .layer(middleware::from_fn_with_state(state.clone(), cors::refuse))
        .with_state(state)
}

/// CORS for any origin, with the methods `GET`, `POST` and `OPTIONS` and
/// the request headers `authorization`, `content-type`,
/// `x-sandbox-control`, `x-api-key`, `anthropic-version` and
/// `anthropic-dangerous-direct-browser-access`. Every `OPTIONS` request is
/// a preflight answered here, before the control token, authentication and
/// statistics (so preflights are never counted). The exposed headers are
/// set by [`expose_headers`], from the configuration in force.
///
/// This policy is static; the configurable refusals (`cors_refuse_headers`,
/// `cors_refuse_preflight`, `cors_block_post`) are applied by
/// [`cors::refuse`], layered outside it: a refused preflight never reaches
/// this layer and gets no `Access-Control-*` header at all.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(CONTROL_HEADER),
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("anthropic-version"),
            HeaderName::from_static("anthropic-dangerous-direct-browser-access"),
        ])
        // No preflight caching: the CORS rules change at run time (`cors_refuse_headers`…), and
        // a browser that cached an earlier preflight would skip the one now refused.
        .max_age(Duration::ZERO)
}

/// Middleware: `Access-Control-Expose-Headers` lists [`EXPOSED_HEADERS`]
/// when `expose_rate_limit_headers` is true, and is left out when it is false
/// (real providers vary; a browser then reads none of them).
async fn expose_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if state.lock().config.expose_rate_limit_headers {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS_VALUE),
        );
    }
    response
}

/// [`EXPOSED_HEADERS`] as one header value.
const EXPOSED_HEADERS_VALUE: &str = "x-ratelimit-limit-requests,x-ratelimit-remaining-requests,\
x-ratelimit-reset-requests,x-ratelimit-limit-tokens,x-ratelimit-remaining-tokens,\
x-ratelimit-reset-tokens,retry-after,retry-after-ms,anthropic-ratelimit-requests-limit,\
anthropic-ratelimit-requests-remaining,anthropic-ratelimit-requests-reset,\
anthropic-ratelimit-tokens-limit,anthropic-ratelimit-tokens-remaining,\
anthropic-ratelimit-tokens-reset,request-id";

async fn not_found(request: Request) -> Response {
    ApiError::invalid_url(request.method().as_str(), request.uri().path()).into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    ApiError::invalid_method(request.method().as_str(), request.uri().path()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposed_header_value_lists_every_exposed_header() {
        assert_eq!(EXPOSED_HEADERS_VALUE, EXPOSED_HEADERS.join(","));
    }
}
