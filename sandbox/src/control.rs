//! The `/_sandbox/*` control routes. They are for the developer and the
//! tests, never for the app under test: they need no API key but the control
//! token, sent as `x-sandbox-control: TOKEN` ([`CONTROL_HEADER`]). The token
//! is fixed at start (`--control-token`, `SANDBOX_CONTROL_TOKEN`, or a random
//! one printed as `Sandbox control token: …`), so a web page the browser
//! happens to visit cannot reconfigure or read the sandbox.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::config::SandboxConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// The request header that carries the control token.
pub const CONTROL_HEADER: &str = "x-sandbox-control";

/// Whether `path` is a control route (or would be: unknown `/_sandbox/`
/// paths need the token too, so they reveal nothing).
pub fn is_control_path(path: &str) -> bool {
    path == "/_sandbox" || path.starts_with("/_sandbox/")
}

/// Middleware: a control path without the right [`CONTROL_HEADER`] is a 403
/// ([`ApiError::control_forbidden`]). The token is compared in constant time
/// and never echoed. CORS preflights are answered before this runs.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_control_path(request.uri().path()) {
        let allowed = request
            .headers()
            .get(CONTROL_HEADER)
            .is_some_and(|token| state.control_token_matches(token.as_bytes()));
        if !allowed {
            return ApiError::control_forbidden().into_response();
        }
    }
    next.run(request).await
}

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

/// `GET /_sandbox/log`: every provider request in arrival order, as
/// `{"requests": [{"at_ms", "method", "path", "status", "key", "model",
/// "tokens"}, ...], "dropped": n}` (see [`crate::stats::LogEntry`]). Only
/// the last [`crate::stats::LOG_CAPACITY`] requests are kept; `dropped`
/// counts the older ones. Control routes and CORS preflights are not logged.
pub async fn log(State(state): State<AppState>) -> Response {
    // Serialized under the lock: the log can be large, so it is not copied.
    Json(&state.lock().stats.log).into_response()
}

/// `POST /_sandbox/reset`: zeroes the statistics (the request log too), the
/// prompt caches and the rate-limit buckets, keeps the configuration, and
/// returns the empty stats.
pub async fn reset(State(state): State<AppState>) -> Response {
    state.reset();
    Json(state.stats()).into_response()
}
