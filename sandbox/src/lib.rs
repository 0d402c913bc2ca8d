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
//!   `POST /_sandbox/reset` control the sandbox and need no key.

#![warn(missing_docs)]

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

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, Method};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};

pub use config::{FaultRates, LatencyRange, SandboxConfig, VideoConfig};
pub use error::ApiError;
pub use state::AppState;
pub use stats::Stats;

/// The key accepted when neither `--key` nor `SANDBOX_KEY` gives one.
pub const DEFAULT_KEY: &str = "sk-sandbox-0123456789abcdef0123456789abcdef";

/// The largest request body accepted (large enough for a full context window).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Response headers a browser may read: the rate-limit headers and retry hints.
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
        .layer(cors())
        .with_state(state)
}

/// CORS for any origin. Preflights are answered here, before authentication
/// and statistics.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(Duration::from_secs(600))
}

async fn not_found(request: Request) -> Response {
    ApiError::invalid_url(request.method().as_str(), request.uri().path()).into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    ApiError::invalid_method(request.method().as_str(), request.uri().path()).into_response()
}
