//! CORS refusals set in the configuration, emulating real providers and
//! relays that a browser cannot call, or not with every header or method.
//!
//! The sandbox's own CORS policy is static and permissive (see the crate
//! docs). [`refuse`] is a middleware layered outside it: it answers some
//! preflights itself, with `403 Forbidden`, a `text/plain` body naming the
//! rule, and no `Access-Control-*` header at all, so the browser reports a
//! CORS error and never sends the real request. Everything else goes on to
//! the permissive layer unchanged. With the defaults nothing is refused.
//!
//! A preflight is any `OPTIONS` request, as for the permissive layer. The
//! rules, checked in this order:
//!
//! * `cors_refuse_preflight`: every preflight (Gemini's OpenAI-compatible
//!   endpoint), so a page can send only simple requests, and an API call
//!   with `Authorization` or a JSON body is never sent;
//! * `cors_block_post`: a preflight whose `Access-Control-Request-Method`
//!   is `POST` (a relay that lets `GET /v1/models` through and blocks
//!   `POST`); `GET` preflights and every actual request are untouched. An
//!   API `POST` from a browser always needs a preflight (its
//!   `Authorization` or `x-api-key` header and JSON `Content-Type` are not
//!   CORS-safelisted), so it never arrives and nothing is generated or
//!   billed;
//! * `cors_refuse_headers`: a preflight whose
//!   `Access-Control-Request-Headers` lists one of these header names,
//!   compared case-insensitively (OpenRouter refusing `openai-beta`, an
//!   Anthropic organisation that turned
//!   `anthropic-dangerous-direct-browser-access` off).
//!
//! The control routes (`/_sandbox/*`, see [`crate::control`]) are never
//! refused, so a test can always reconfigure the sandbox from a page.
//!
//! Statistics: preflights are never counted, refused or not. The permissive
//! layer answers the accepted ones before [`crate::stats::record`] runs,
//! and this middleware answers the refused ones outside it too, so neither
//! `requests` nor `status` of `GET /_sandbox/stats` changes.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::SandboxConfig;
use crate::control::is_control_path;
use crate::state::AppState;

/// Middleware: answers a preflight that the configuration refuses (see the
/// module docs), and passes every other request on.
pub async fn refuse(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let rule = refusal(&state.lock().config, &request);
    match rule {
        Some(rule) => refused(rule),
        None => next.run(request).await,
    }
}

/// The configuration field that refuses `request`, if one does.
pub fn refusal<B>(
    config: &SandboxConfig,
    request: &axum::http::Request<B>,
) -> Option<&'static str> {
    if request.method() != Method::OPTIONS || is_control_path(request.uri().path()) {
        return None;
    }
    let headers = request.headers();
    if config.cors_refuse_preflight {
        return Some("cors_refuse_preflight");
    }
    let method = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD);
    if config.cors_block_post && method.is_some_and(|m| m.as_bytes().eq_ignore_ascii_case(b"POST"))
    {
        return Some("cors_block_post");
    }
    let mut requested = headers
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    let refused = requested.any(|name| {
        config
            .cors_refuse_headers
            .iter()
            .any(|refused| refused.eq_ignore_ascii_case(name))
    });
    refused.then_some("cors_refuse_headers")
}

/// The answer to a refused preflight: 403, no `Access-Control-*` header.
fn refused(rule: &'static str) -> Response {
    let body = format!("CORS preflight refused (sandbox configuration: {rule})\n");
    let mut response = (StatusCode::FORBIDDEN, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preflight(path: &str, method: &str, headers: &str) -> axum::http::Request<()> {
        axum::http::Request::builder()
            .method(Method::OPTIONS)
            .uri(path)
            .header("origin", "http://localhost:8080")
            .header("access-control-request-method", method)
            .header("access-control-request-headers", headers)
            .body(())
            .unwrap()
    }

    fn config(json: &str) -> SandboxConfig {
        SandboxConfig::from_json(json).unwrap()
    }

    #[test]
    fn the_defaults_refuse_nothing() {
        let config = SandboxConfig::default();
        let request = preflight("/v1/chat/completions", "POST", "authorization,openai-beta");
        assert_eq!(refusal(&config, &request), None);
    }

    #[test]
    fn refused_headers_are_matched_in_the_requested_list() {
        let config = config(r#"{"cors_refuse_headers":["OpenAI-Beta"]}"#);
        let path = "/v1/chat/completions";
        let hit = preflight(path, "POST", "authorization, openai-beta ,content-type");
        assert_eq!(refusal(&config, &hit), Some("cors_refuse_headers"));
        let miss = preflight(path, "POST", "authorization,openai-beta-x");
        assert_eq!(refusal(&config, &miss), None);
        let control = preflight("/_sandbox/config", "POST", "openai-beta");
        assert_eq!(refusal(&config, &control), None);
    }

    #[test]
    fn block_post_refuses_only_post_preflights() {
        let config = config(r#"{"cors_block_post":true}"#);
        let post = preflight("/v1/chat/completions", "POST", "authorization");
        assert_eq!(refusal(&config, &post), Some("cors_block_post"));
        let get = preflight("/v1/models", "GET", "authorization");
        assert_eq!(refusal(&config, &get), None);
        let actual = axum::http::Request::post("/v1/chat/completions")
            .body(())
            .unwrap();
        assert_eq!(refusal(&config, &actual), None);
        let control = preflight("/_sandbox/reset", "POST", "x-sandbox-control");
        assert_eq!(refusal(&config, &control), None);
    }

    #[test]
    fn refuse_preflight_refuses_every_preflight_but_the_control_routes() {
        let config = config(r#"{"cors_refuse_preflight":true}"#);
        let get = preflight("/v1/models", "GET", "authorization");
        assert_eq!(refusal(&config, &get), Some("cors_refuse_preflight"));
        let control = preflight("/_sandbox/stats", "GET", "x-sandbox-control");
        assert_eq!(refusal(&config, &control), None);
        let response = refused("cors_refuse_preflight");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response
            .headers()
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-")));
    }
}
