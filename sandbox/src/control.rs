//! The `/_sandbox/*` control routes. They need no key: they are for the
//! developer and the tests, never for the app under test.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::config::SandboxConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /_sandbox/config`: the configuration in force.
pub async fn get_config(State(state): State<AppState>) -> Json<SandboxConfig> {
    Json(state.config())
}

/// `POST /_sandbox/config`: replaces the whole configuration (missing fields
/// take their defaults) and returns it.
pub async fn set_config(State(state): State<AppState>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let text = if text.trim().is_empty() { "{}" } else { &text };
    match SandboxConfig::from_json(text) {
        Ok(config) => {
            state.set_config(config.clone());
            Json(config).into_response()
        }
        Err(message) => {
            ApiError::invalid_request(format!("Invalid sandbox config: {message}"), None, None)
                .into_response()
        }
    }
}

/// `GET /_sandbox/stats`.
pub async fn stats(State(state): State<AppState>) -> Response {
    Json(state.stats()).into_response()
}

/// `POST /_sandbox/reset`: zeroes the statistics, the prefix cache and the
/// rate-limit buckets, keeps the configuration, and returns the empty stats.
pub async fn reset(State(state): State<AppState>) -> Response {
    state.reset();
    Json(state.stats()).into_response()
}
