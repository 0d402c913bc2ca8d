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
//! * the video job APIs, OpenAI style (`POST /v1/videos`, `GET /v1/videos`,
//!   `GET /v1/videos/{id}`, `GET /v1/videos/{id}/content`) and the seeds'
//!   shape (`POST /v1/video/generate`, `GET /v1/video/status/{id}` or
//!   `GET /v1/video/generate/{id}`), need the key too; the seeds' file links
//!   `GET /v1/video/files/{id}.mp4` do not (see [`video`]);
//! * `GET|POST /_sandbox/config`, `GET /_sandbox/stats` and
//!   `POST /_sandbox/reset` control the sandbox; they need no key but the
//!   control token in `x-sandbox-control` (see [`control`]), else 403.
//!
//! Billing is `complete` (only whole, fault-free replies) or `real` (from the
//! start of generation, for what was generated, like a provider): see
//! [`billing`]. Faults are listed in [`config::FaultRates`].
//!
//! CORS: any origin; the request headers `authorization`, `content-type` and
//! `x-sandbox-control`; `Access-Control-Expose-Headers` lists
//! [`EXPOSED_HEADERS`] unless the configuration sets
//! `expose_rate_limit_headers` to false.

#![warn(missing_docs)]

pub mod billing;
pub mod chat;
pub mod config;
pub mod content;
pub mod control;
pub mod error;
pub mod limits;
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
pub use state::{AppState, ServerSettings};
pub use stats::Stats;

/// The key accepted when neither `--key` nor `SANDBOX_KEY` gives one.
pub const DEFAULT_KEY: &str = "sk-sandbox-0123456789abcdef0123456789abcdef";

/// The largest request body accepted (large enough for a full context window).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Response headers a browser may read, unless `expose_rate_limit_headers` is
/// false: the rate-limit headers and retry hints.
pub const EXPOSED_HEADERS: [&str; 8] = [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
    "retry-after",
    "retry-after-ms",
];

/// Builds the sandbox's HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{id}", get(models::retrieve))
        .route("/v1/chat/completions", post(chat::completions))
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
        .with_state(state)
}

/// CORS for any origin. Preflights are answered here, before the control
/// token, authentication and statistics. The exposed headers are set by
/// [`expose_headers`], from the configuration in force.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(CONTROL_HEADER),
        ])
        .max_age(Duration::from_secs(600))
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
x-ratelimit-reset-tokens,retry-after,retry-after-ms";

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
