//! What the sandbox tests share: the test keys and control token, a reply read whole, sending
//! a request to the app in process with `tower::ServiceExt::oneshot`, and a real TCP server
//! with a raw HTTP/1.1 client that sees exactly what went over the wire.
#![allow(dead_code)] // Each test crate uses its own part of it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use sandbox::{app, AppState, BillingMode, SandboxConfig, ServerSettings};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tower::ServiceExt;

/// The key the test servers accept.
pub const KEY: &str = "sk-test-0123456789abcdef0123456789abcdef";
/// A second key the servers of [`state_with`] accept.
pub const OTHER_KEY: &str = "sk-other-0123456789abcdef0123456789ab9876";
/// A key they refuse.
pub const WRONG_KEY: &str = "sk-wrong-very-secret-key-42";
/// The control token of the test servers.
pub const CONTROL_TOKEN: &str = "test-control-token-0123456789abcdef";

/// The state of a test server: [`KEY`] and [`OTHER_KEY`], [`CONTROL_TOKEN`], `billing`, and
/// `config` (the `/_sandbox/config` JSON shape).
pub fn state_with(config: &Value, billing: BillingMode) -> AppState {
    let config = SandboxConfig::from_json(&config.to_string()).expect("valid test config");
    let settings = ServerSettings {
        keys: vec![KEY.to_owned(), OTHER_KEY.to_owned()],
        control_token: CONTROL_TOKEN.to_owned(),
        billing,
    };
    AppState::with_settings(settings, config)
}

/// A sandbox app with `config` and `complete` billing (see [`state_with`]).
pub fn app_with(config: &Value) -> Router {
    app(state_with(config, BillingMode::Complete))
}

/// Adds the control token to requests for `/_sandbox/*` paths.
pub fn with_control(
    builder: axum::http::request::Builder,
    path: &str,
) -> axum::http::request::Builder {
    if path.starts_with("/_sandbox") {
        builder.header("x-sandbox-control", CONTROL_TOKEN)
    } else {
        builder
    }
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

/// A sandbox listening on a free port of 127.0.0.1, served by `axum::serve` like the binary.
pub struct TcpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, to read the statistics directly.
    pub state: AppState,
}

impl TcpServer {
    /// Starts a server with `config` and `billing` (see [`state_with`]).
    pub async fn start(config: Value, billing: BillingMode) -> Self {
        let state = state_with(&config, billing);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { addr, state }
    }

    /// The statistics as `GET /_sandbox/stats` would answer them.
    pub fn stats(&self) -> Value {
        serde_json::to_value(self.state.stats()).unwrap()
    }

    /// Waits (up to 5 s) until `check` holds for the statistics, and returns them.
    pub async fn stats_when(&self, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stats = self.stats();
            if check(&stats) {
                return stats;
            }
            assert!(Instant::now() < deadline, "stats never matched: {stats}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Opens a connection and sends a `POST /v1/chat/completions` with `body` and `key`.
    pub async fn post_chat(&self, key: &str, body: &Value) -> TcpStream {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let body = body.to_string();
        let request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        stream
    }

    /// Sends a chat request and reads what comes back until the server closes the connection,
    /// the reply is complete, or `timeout` passes.
    pub async fn chat(&self, key: &str, body: &Value, timeout: Duration) -> Wire {
        let stream = self.post_chat(key, body).await;
        Wire::read(stream, timeout).await
    }
}

/// How reading a raw response ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The response was complete (its length, or the chunked terminator, was reached).
    Complete,
    /// The server closed the connection before the response was complete.
    Closed,
    /// The read timed out with the connection still open.
    TimedOut,
}

/// What came over one connection, as raw bytes, with the time each read arrived.
pub struct Wire {
    /// Every byte received.
    pub raw: Vec<u8>,
    /// How it ended.
    pub end: End,
    /// When the last byte arrived, from the start of reading.
    pub last_byte: Option<Duration>,
    /// When reading ended, from the start of reading.
    pub elapsed: Duration,
}

impl Wire {
    /// Reads until the response is complete, the connection closes, or `timeout` passes.
    pub async fn read(mut stream: TcpStream, timeout: Duration) -> Self {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut wire = Self {
            raw: Vec::new(),
            end: End::TimedOut,
            last_byte: None,
            elapsed: Duration::ZERO,
        };
        let mut buffer = [0u8; 8192];
        loop {
            let read = tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await;
            match read {
                Err(_) => break,
                Ok(Ok(0)) | Ok(Err(_)) => {
                    wire.end = End::Closed;
                    break;
                }
                Ok(Ok(n)) => {
                    wire.raw.extend_from_slice(&buffer[..n]);
                    wire.last_byte = Some(started.elapsed());
                    if wire.is_complete() {
                        wire.end = End::Complete;
                        break;
                    }
                }
            }
        }
        wire.elapsed = started.elapsed();
        wire
    }

    /// The status line and headers, if they arrived whole.
    pub fn head(&self) -> Option<&str> {
        let end = find(&self.raw, b"\r\n\r\n")?;
        std::str::from_utf8(&self.raw[..end]).ok()
    }

    /// The status code, if a status line arrived.
    pub fn status(&self) -> Option<u16> {
        self.head()?.split(' ').nth(1)?.parse().ok()
    }

    /// A response header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head()?.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    fn raw_body(&self) -> &[u8] {
        match find(&self.raw, b"\r\n\r\n") {
            Some(end) => &self.raw[end + 4..],
            None => &[],
        }
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    }

    /// The body with any chunked framing removed, and whether the terminating chunk arrived.
    pub fn body(&self) -> (Vec<u8>, bool) {
        let raw = self.raw_body();
        if !self.chunked() {
            let complete = self
                .header("content-length")
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| raw.len() >= n);
            return (raw.to_vec(), complete);
        }
        let mut body = Vec::new();
        let mut rest = raw;
        loop {
            let Some(line_end) = find(rest, b"\r\n") else {
                return (body, false);
            };
            let size = std::str::from_utf8(&rest[..line_end])
                .ok()
                .and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
            let Some(size) = size else {
                return (body, false);
            };
            rest = &rest[line_end + 2..];
            if size == 0 {
                return (body, rest.starts_with(b"\r\n"));
            }
            if rest.len() < size {
                body.extend_from_slice(rest);
                return (body, false);
            }
            body.extend_from_slice(&rest[..size]);
            rest = &rest[size..];
            rest = rest.strip_prefix(b"\r\n".as_slice()).unwrap_or(rest);
        }
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body().0).into_owned()
    }

    fn is_complete(&self) -> bool {
        self.head().is_some() && self.body().1
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
