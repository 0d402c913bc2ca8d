//! What the in-process sandbox tests share: the test keys, a reply read whole, and sending a
//! request to the app with `tower::ServiceExt::oneshot`.
#![allow(dead_code)] // Each test crate uses its own part of it.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use sandbox::{app, AppState, SandboxConfig};
use serde_json::Value;
use tower::ServiceExt;

/// The key the test servers accept.
pub const KEY: &str = "sk-test-0123456789abcdef0123456789abcdef";
/// A key they refuse.
pub const WRONG_KEY: &str = "sk-wrong-very-secret-key-42";

/// A sandbox app with `config` (the `/_sandbox/config` JSON shape) accepting [`KEY`].
pub fn app_with(config: &Value) -> Router {
    let config = SandboxConfig::from_json(&config.to_string()).expect("valid test config");
    app(AppState::new(KEY, config))
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON (a test failure when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("UTF-8 body")
    }

    /// A response header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Sends `request` to `app` and reads the whole response.
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}
