//! The fetch adapter: chat completions over the browser's `fetch`, whole or streamed, with
//! cancellation, timeouts and typed errors.
//!
//! The pure half lives in the domain: [`ChatRequest`] builds the body, [`SseDecoder`] decodes
//! the stream, [`classify`] turns an HTTP error into an [`ApiError`], [`RateLimitHeaders`] reads
//! the quota headers. This module only moves bytes and measures time:
//!
//! - [`chat`] sends a request and waits for the whole reply; [`chat_stream`] asks for a stream
//!   and hands every piece of text to a callback as it arrives, so the page can render the reply
//!   growing.
//! - A call ends early when its [`CancelHandle`] is cancelled ([`ApiError::Cancelled`]) or its
//!   timer runs out ([`ApiError::Timeout`]). For a stream the timer is the longest wait for the
//!   next piece, so a long reply that keeps arriving is never cut by it.
//! - A `fetch` that fails without any response is either a server that cannot be reached or a
//!   CORS refusal; key-less probes tell them apart when the server lets them (see
//!   `server_answers`).
//! - A failure after part of a stream arrived (a cut, a cancel, a timeout, a reset, an
//!   in-stream error) still reports what arrived, with usage estimated and flagged, in
//!   [`CallError::partial`]. A connection that drops after the headers is
//!   [`ApiError::ReplyLost`], never "unreachable": the provider had begun, and may have billed,
//!   the reply ([`ApiError::may_be_billed`] says which failures those are).
//! - Bodies are read with byte caps: a whole reply up to 8 MiB, a stream up to 32 MiB, one
//!   stream line up to 1 MiB ([`crate::domain::provider::sse::MAX_LINE_BYTES`]), an error body
//!   up to its first 64 KiB.
//!
//! Architecture invariant: the key goes only into the key header of a request to the
//! connection's own base URL (checked with [`may_send_key`]); requests carry only the headers
//! their protocol needs (`Authorization` and `Content-Type`, or Messages' `x-api-key`,
//! `anthropic-version` and `Content-Type`, plus Anthropic's opt-in header for Anthropic itself;
//! a `GET` no `Content-Type`), never follow redirects and never send cookies; error text is
//! redacted before it is kept. The connection test's free requests (`probe_fetch`, used by
//! [`crate::web::probe`]) send fewer of those headers, never others.

// A failed call is rare and its error is read once, by the caller that made the call: keeping
// `CallError` unboxed makes it plainer to match on than the few hundred bytes it saves.
#![allow(clippy::result_large_err)]

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, AbortSignal, Headers, ReadableStreamDefaultReader, Request,
    RequestCredentials, RequestInit, RequestMode, RequestRedirect, Response, TextDecodeOptions,
    TextDecoder, Window,
};

use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::{classify, redact, ApiError};
use crate::domain::provider::chat::{ChatRequest, Completion};
use crate::domain::provider::connection::{
    headers_for, may_send_key, probe_request, validate_base_url, ApiKey, Connection, Protocol,
};
use crate::domain::provider::messages::{
    decode_reply, messages_body, messages_headers, StreamDecoder,
};
use crate::domain::provider::ratelimit::{RateLimitHeaders, RATE_LIMIT_HEADER_NAMES};
use crate::domain::provider::sse::StreamEvent;
use crate::web::timer::Timer;

/// The default time limit of a call, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 60_000;
/// The time limit of a connection test, in milliseconds.
pub const TEST_TIMEOUT_MS: u32 = 20_000;
/// The time limit of the reachability probe, in milliseconds.
const PROBE_TIMEOUT_MS: u32 = 5_000;
/// The largest whole reply read, in bytes (a long reply is well under 1 MiB).
const REPLY_BYTE_CAP: usize = 8 * 1024 * 1024;
/// The largest streamed reply read, in bytes (events carry JSON around every token).
const STREAM_BYTE_CAP: usize = 32 * 1024 * 1024;
/// The most of an error body read, in bytes: only a short excerpt of it is ever shown.
const ERROR_BODY_CAP: usize = 64 * 1024;

/// Cancels calls. One handle may be shared by many calls (a whole batch): cancelling it ends
/// every call that was given it and is still running, and every later call given it ends at once.
#[derive(Clone, Debug)]
pub struct CancelHandle {
    controller: AbortController,
}

impl CancelHandle {
    /// A fresh, not yet cancelled handle.
    pub fn new() -> CancelHandle {
        CancelHandle {
            // Every browser with `fetch` has `AbortController`; only a non-browser host lacks it.
            controller: AbortController::new().expect("AbortController is available"),
        }
    }

    /// Cancels the calls using this handle: they fail with [`ApiError::Cancelled`].
    pub fn cancel(&self) {
        self.controller.abort();
    }

    /// True once [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.controller.signal().aborted()
    }

    /// The signal that fires when the handle is cancelled (for other requests and timers).
    pub fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }
}

impl Default for CancelHandle {
    fn default() -> CancelHandle {
        CancelHandle::new()
    }
}

/// How to run one call.
#[derive(Clone, Debug)]
pub struct CallOptions {
    /// The time limit in milliseconds (0 for none). Without a stream it bounds the whole call;
    /// with a stream it bounds the wait for the response and then for each next piece.
    pub timeout_ms: u32,
    /// A handle that cancels the call.
    pub cancel: Option<CancelHandle>,
}

impl Default for CallOptions {
    fn default() -> CallOptions {
        CallOptions {
            timeout_ms: DEFAULT_TIMEOUT_MS,
            cancel: None,
        }
    }
}

/// A finished call.
#[derive(Clone, Debug, PartialEq)]
pub struct CallOutcome {
    /// The reply, with the billed usage, or an estimate flagged `estimated` when the provider
    /// reported none (or, in [`CallError::partial`], when the reply was cut short).
    pub completion: Completion,
    /// Milliseconds from sending the request to the end of the reply.
    pub latency_ms: f64,
    /// Milliseconds from sending the request to the first piece of text (streams; for a whole
    /// reply, the same as `latency_ms` when it has text).
    pub first_token_ms: Option<f64>,
    /// The rate-limit headers the browser could read (empty when not exposed).
    pub rate_limits: RateLimitHeaders,
    /// The HTTP status.
    pub status: u16,
}

/// A failed call: the error, plus what is known about the attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct CallError {
    /// What went wrong. Its text never contains the key.
    pub error: ApiError,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Milliseconds from sending the request to the failure.
    pub latency_ms: f64,
    /// The rate-limit headers of the response, when one arrived (a 429 carries the quota state).
    pub rate_limits: RateLimitHeaders,
    /// What arrived before a stream was cut, cancelled or timed out, with usage estimated and
    /// flagged: the provider has probably billed it, so the ledger records it. `None` when no
    /// reply had started.
    pub partial: Option<CallOutcome>,
}

impl CallError {
    /// The error's stable kind (see [`ApiError::kind`]).
    pub fn kind(&self) -> &'static str {
        self.error.kind()
    }

    /// The error's message for the user.
    pub fn message(&self, lang: Lang) -> String {
        self.error.message(lang)
    }
}

impl From<CallError> for ApiError {
    fn from(error: CallError) -> ApiError {
        error.error
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for CallError {}

/// The result of [`test_connection`].
#[derive(Clone, Debug, PartialEq)]
pub struct TestReport {
    /// Milliseconds the one-token request took.
    pub latency_ms: f64,
    /// The model that answered, as the provider named it (or the one asked for).
    pub model: String,
}

/// Sends `req` without streaming and waits for the whole reply. A `stream` flag on `req` is
/// ignored.
pub async fn chat(
    conn: &Connection,
    key: &ApiKey,
    req: &ChatRequest,
    opts: CallOptions,
) -> Result<CallOutcome, CallError> {
    let request = req.clone().streaming(false);
    Call::new(conn, key, &request, &opts)?.run(None).await
}

/// Sends `req` as a stream (with `stream_options.include_usage`, so the billed usage arrives at
/// the end) and calls `on_delta` with each piece of reply text as it arrives. A relay that
/// answers with a whole JSON reply instead is accepted: `on_delta` then gets all of it at once.
pub async fn chat_stream(
    conn: &Connection,
    key: &ApiKey,
    req: &ChatRequest,
    opts: CallOptions,
    mut on_delta: impl FnMut(&str),
) -> Result<CallOutcome, CallError> {
    let request = req.clone().streaming(true);
    Call::new(conn, key, &request, &opts)?
        .run(Some(&mut on_delta))
        .await
}

/// Tests a connection with a real one-token `POST` to the preset's probe model: it checks the
/// key, the model and CORS for `POST` together (some relays allow `GET /models` from a browser
/// but block `POST`, so listing models proves nothing).
pub async fn test_connection(conn: &Connection, key: &ApiKey) -> Result<TestReport, ApiError> {
    let model = conn.preset.spec().probe_model;
    let opts = CallOptions {
        timeout_ms: TEST_TIMEOUT_MS,
        cancel: None,
    };
    let outcome = chat(conn, key, &probe_request(model), opts).await?;
    Ok(TestReport {
        latency_ms: outcome.latency_ms,
        model: outcome
            .completion
            .model
            .unwrap_or_else(|| model.to_string()),
    })
}

/// One call in flight: what it sends, where, and its clock.
struct Call<'a> {
    key: &'a ApiKey,
    request: &'a ChatRequest,
    protocol: Protocol,
    window: Window,
    url: String,
    origin: String,
    fetch: Request,
    abort: Abort,
    started: f64,
}

impl<'a> Call<'a> {
    /// Prepares the request. Fails without sending anything when the base URL is invalid, the
    /// key cannot go in a header, or the call is already cancelled.
    fn new(
        conn: &Connection,
        key: &'a ApiKey,
        request: &'a ChatRequest,
        opts: &CallOptions,
    ) -> Result<Call<'a>, CallError> {
        let early = |error: ApiError| CallError {
            error,
            status: None,
            latency_ms: 0.0,
            rate_limits: RateLimitHeaders::default(),
            partial: None,
        };
        let window = web_sys::window().ok_or_else(|| early(ApiError::network(false)))?;
        // An invalid base URL cannot be reached; its message points at the URL's spelling.
        let base =
            validate_base_url(&conn.base_url).map_err(|_| early(ApiError::network(false)))?;
        let url = conn
            .chat_url()
            .map_err(|_| early(ApiError::network(false)))?;
        if !may_send_key(base.as_str(), &url) {
            return Err(early(ApiError::network(false)));
        }
        let abort = Abort::new(opts).map_err(|_| early(ApiError::network(false)))?;
        if abort.aborted() {
            return Err(early(ApiError::Cancelled));
        }
        let headers = request_headers(conn, key).map_err(early)?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers_headers(&headers);
        // The route names a catalog model; the connection sends its own id for it.
        let protocol = conn.protocol();
        let sent = ChatRequest {
            model: conn.model_id(&request.model).to_string(),
            ..request.clone()
        };
        let body = match protocol {
            Protocol::OpenAiChat => sent.to_json(),
            Protocol::AnthropicMessages => messages_body(&sent),
        };
        init.set_body(&JsValue::from_str(&body));
        init.set_mode(RequestMode::Cors);
        init.set_credentials(RequestCredentials::Omit);
        // A redirect would carry the request elsewhere: refuse it rather than follow it.
        init.set_redirect(RequestRedirect::Error);
        init.set_signal(Some(&abort.signal()));
        let fetch = Request::new_with_str_and_init(&url, &init)
            .map_err(|_| early(ApiError::network(false)))?;
        let started = now(&window);
        Ok(Call {
            key,
            request,
            protocol,
            origin: base.origin().to_string(),
            url,
            window,
            fetch,
            abort,
            started,
        })
    }

    /// Milliseconds since the request was sent.
    fn elapsed(&self) -> f64 {
        now(&self.window) - self.started
    }

    /// A failure of this call, with its text redacted.
    fn fail(
        &self,
        error: ApiError,
        status: Option<u16>,
        rate_limits: &RateLimitHeaders,
        partial: Option<CallOutcome>,
    ) -> CallError {
        CallError {
            error: error.redacted(self.key.expose()),
            status,
            latency_ms: self.elapsed(),
            rate_limits: rate_limits.clone(),
            partial,
        }
    }

    /// Sends the request and reads the reply; a stream when `on_delta` is given.
    async fn run(self, on_delta: Option<&mut dyn FnMut(&str)>) -> Result<CallOutcome, CallError> {
        let none = RateLimitHeaders::default();
        self.abort.arm();
        let response = match JsFuture::from(self.window.fetch_with_request(&self.fetch)).await {
            Ok(response) => response.unchecked_into::<Response>(),
            Err(_) if self.abort.aborted() => {
                return Err(self.fail(self.abort.error(), None, &none, None))
            }
            Err(_) => {
                let reachable = server_answers(&self.window, &self.url, &self.origin).await;
                return Err(self.fail(ApiError::network(reachable), None, &none, None));
            }
        };
        let status = response.status();
        let rate_limits = rate_limits_of(&response.headers());
        if !response.ok() {
            let body = match read_body(&response, ERROR_BODY_CAP).await {
                // A longer error body is cut: only its beginning can be shown anyway.
                Ok((body, _)) => body,
                Err(_) if self.abort.aborted() => {
                    return Err(self.fail(self.abort.error(), Some(status), &rate_limits, None))
                }
                Err(_) => String::new(),
            };
            let error = classify(status, &redact(&body, self.key.expose()), &rate_limits);
            return Err(self.fail(error, Some(status), &rate_limits, None));
        }
        let content_type = response
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .unwrap_or_default();
        match on_delta {
            Some(on_delta) if !content_type.contains("application/json") => {
                self.read_stream(&response, status, rate_limits, on_delta)
                    .await
            }
            on_delta => {
                self.read_whole(&response, status, rate_limits, on_delta)
                    .await
            }
        }
    }

    /// Reads a whole JSON reply.
    async fn read_whole(
        &self,
        response: &Response,
        status: u16,
        rate_limits: RateLimitHeaders,
        on_delta: Option<&mut dyn FnMut(&str)>,
    ) -> Result<CallOutcome, CallError> {
        let body = match read_body(response, REPLY_BYTE_CAP).await {
            Ok((_, true)) => {
                let error = ApiError::malformed(format!(
                    "a reply larger than {} MiB",
                    REPLY_BYTE_CAP >> 20
                ));
                return Err(self.fail(error, Some(status), &rate_limits, None));
            }
            Ok((body, false)) => body,
            Err(_) if self.abort.aborted() => {
                return Err(self.fail(self.abort.error(), Some(status), &rate_limits, None))
            }
            // The connection dropped after the headers: the provider had begun, and may have
            // finished and billed, the reply.
            Err(_) => {
                let error = ApiError::ReplyLost {
                    partial: Box::default(),
                };
                return Err(self.fail(error, Some(status), &rate_limits, None));
            }
        };
        let completion = decode_reply(self.protocol, &body)
            .map_err(|error| self.fail(error, Some(status), &rate_limits, None))?
            .with_usage_or_estimate(&self.request.model, self.request.estimated_prompt_tokens());
        let latency_ms = self.elapsed();
        let has_text = !completion.content.is_empty();
        if let Some(on_delta) = on_delta.filter(|_| has_text) {
            on_delta(&completion.content);
        }
        Ok(CallOutcome {
            completion,
            latency_ms,
            first_token_ms: has_text.then_some(latency_ms),
            rate_limits,
            status,
        })
    }

    /// Reads a server-sent-events reply piece by piece.
    async fn read_stream(
        &self,
        response: &Response,
        status: u16,
        rate_limits: RateLimitHeaders,
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<CallOutcome, CallError> {
        let mut decoder = StreamDecoder::for_request(self.protocol, self.request);
        let mut first_token_ms = None;
        let mut interrupted = None;
        let mut received = 0usize;
        if let Some(body) = response.body() {
            let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
            // `stream: true` keeps a character split across two chunks for the next call.
            let text = TextDecoder::new().map_err(|_| {
                self.fail(
                    ApiError::malformed("no text decoder"),
                    Some(status),
                    &rate_limits,
                    None,
                )
            })?;
            let streaming = TextDecodeOptions::new();
            streaming.set_stream(true);
            loop {
                let piece = match JsFuture::from(reader.read()).await {
                    Ok(result) => read_result(&result),
                    Err(_) if self.abort.aborted() => {
                        interrupted = Some(self.abort.error());
                        break;
                    }
                    // The connection dropped (a reset) after the reply began.
                    Err(_) => {
                        interrupted = Some(ApiError::ReplyLost {
                            partial: Box::default(),
                        });
                        break;
                    }
                };
                received += piece.as_ref().map_or(0, |bytes| bytes.length() as usize);
                if received > STREAM_BYTE_CAP {
                    let detail =
                        format!("a streamed reply larger than {} MiB", STREAM_BYTE_CAP >> 20);
                    interrupted = Some(ApiError::malformed(detail));
                    cancel_reading(&reader);
                    break;
                }
                let ended = piece.is_none();
                let decoded = match piece {
                    Some(bytes) => {
                        self.abort.arm();
                        text.decode_with_js_u8_array_and_options(&bytes, &streaming)
                    }
                    // The body ended: flush whatever the decoder still holds.
                    None => text.decode(),
                }
                .unwrap_or_default();
                for event in decoder.push(&decoded) {
                    match event {
                        StreamEvent::Content(delta) => {
                            first_token_ms.get_or_insert_with(|| self.elapsed());
                            on_delta(&delta);
                        }
                        StreamEvent::Reasoning(_) => {
                            first_token_ms.get_or_insert_with(|| self.elapsed());
                        }
                        _ => {}
                    }
                }
                if ended {
                    break;
                }
                if decoder.is_finished() {
                    // `[DONE]` or an error arrived: stop reading and let the connection go.
                    cancel_reading(&reader);
                    break;
                }
            }
        }
        let outcome = |completion: Completion| CallOutcome {
            completion,
            latency_ms: self.elapsed(),
            first_token_ms,
            rate_limits: rate_limits.clone(),
            status,
        };
        if let Some(error) = interrupted {
            let partial = decoder.completion_so_far().clone().with_usage_or_estimate(
                &self.request.model,
                self.request.estimated_prompt_tokens(),
            );
            let error = match error {
                ApiError::ReplyLost { .. } => ApiError::ReplyLost {
                    partial: Box::new(partial.clone()),
                },
                other => other,
            };
            let partial = Some(outcome(partial));
            return Err(self.fail(error, Some(status), &rate_limits, partial));
        }
        match decoder.finish() {
            Ok(completion) => Ok(outcome(completion)),
            // A cut or an in-stream error: what arrived is kept with the failure.
            Err(error) => {
                let kept = error.partial().cloned().map(outcome);
                Err(self.fail(error, Some(status), &rate_limits, kept))
            }
        }
    }
}

/// One call's abort wiring: its own controller, the timer, and the link from the caller's
/// [`CancelHandle`]. Dropping it stops the timer and unlinks the handle, so a handle shared by
/// a batch does not collect listeners.
struct Abort {
    controller: AbortController,
    timed_out: Rc<Cell<bool>>,
    timeout_ms: u32,
    timer: Cell<Option<Timer>>,
    link: Option<(AbortSignal, Closure<dyn FnMut()>)>,
}

impl Abort {
    fn new(opts: &CallOptions) -> Result<Abort, JsValue> {
        let controller = AbortController::new()?;
        let timed_out = Rc::new(Cell::new(false));
        let link = match &opts.cancel {
            Some(handle) => {
                let signal = handle.controller.signal();
                if signal.aborted() {
                    controller.abort();
                }
                let ours = controller.clone();
                let on_cancel = Closure::<dyn FnMut()>::new(move || ours.abort());
                signal.add_event_listener_with_callback(
                    "abort",
                    on_cancel.as_ref().unchecked_ref(),
                )?;
                Some((signal, on_cancel))
            }
            None => None,
        };
        Ok(Abort {
            controller,
            timed_out,
            timeout_ms: opts.timeout_ms,
            timer: Cell::new(None),
            link,
        })
    }

    /// The signal given to `fetch`.
    fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }

    /// True once the call was cancelled or timed out.
    fn aborted(&self) -> bool {
        self.controller.signal().aborted()
    }

    /// Why the call was aborted.
    fn error(&self) -> ApiError {
        if self.timed_out.get() {
            ApiError::Timeout
        } else {
            ApiError::Cancelled
        }
    }

    /// Starts the timer again from now (a no-op without a time limit).
    fn arm(&self) {
        self.timer.take();
        if self.timeout_ms == 0 {
            return;
        }
        let delay = i32::try_from(self.timeout_ms).unwrap_or(i32::MAX);
        let controller = self.controller.clone();
        let timed_out = self.timed_out.clone();
        self.timer.set(Timer::once(delay, move || {
            timed_out.set(true);
            controller.abort();
        }));
    }
}

impl Drop for Abort {
    fn drop(&mut self) {
        // The timer clears itself when dropped.
        if let Some((signal, on_cancel)) = &self.link {
            let _ = signal
                .remove_event_listener_with_callback("abort", on_cancel.as_ref().unchecked_ref());
        }
    }
}

/// The headers every request to `conn` carries: its protocol's authentication and version
/// headers, and the browser opt-in its provider needs ([`Connection::browser_headers`]), nothing
/// else (any other header is one more reason for a relay's preflight to refuse).
pub(crate) fn request_headers(conn: &Connection, key: &ApiKey) -> Result<Headers, ApiError> {
    let headers = Headers::new().map_err(|_| ApiError::network(false))?;
    let auth: Vec<(&str, String)> = match conn.protocol() {
        Protocol::OpenAiChat => headers_for(key).to_vec(),
        Protocol::AnthropicMessages => messages_headers(key).to_vec(),
    };
    let extra = conn.browser_headers().iter();
    for (name, value) in auth
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .chain(extra.map(|(n, v)| (*n, *v)))
    {
        // Only a key with characters a header cannot hold makes this fail.
        headers.set(name, value).map_err(|_| ApiError::InvalidKey)?;
    }
    Ok(headers)
}

/// A key-bearing `GET` of `url` on `conn` (the model list): its body, at most `cap` bytes, or the
/// failure classified like a call's. Nothing is billed, so this is not an executor call.
pub(crate) async fn get_text(
    conn: &Connection,
    key: &ApiKey,
    url: &str,
    cap: usize,
    timeout_ms: u32,
) -> Result<String, ApiError> {
    let window = web_sys::window().ok_or_else(|| ApiError::network(false))?;
    let base = validate_base_url(&conn.base_url).map_err(|_| ApiError::network(false))?;
    if !may_send_key(base.as_str(), url) {
        return Err(ApiError::network(false));
    }
    let headers = request_headers(conn, key)?;
    // A `GET` has no body: `Content-Type` would only be one more header for a preflight to
    // refuse.
    let _ = headers.delete("content-type");
    let opts = CallOptions {
        timeout_ms,
        cancel: None,
    };
    let abort = Abort::new(&opts).map_err(|_| ApiError::network(false))?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers_headers(&headers);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_redirect(RequestRedirect::Error);
    init.set_signal(Some(&abort.signal()));
    abort.arm();
    let response = match JsFuture::from(window.fetch_with_str_and_init(url, &init)).await {
        Ok(response) => response.unchecked_into::<Response>(),
        Err(_) if abort.aborted() => return Err(abort.error()),
        Err(_) => {
            let reachable = server_answers(&window, url, base.origin()).await;
            return Err(ApiError::network(reachable));
        }
    };
    let status = response.status();
    let limit = if response.ok() { cap } else { ERROR_BODY_CAP };
    let body = match read_body(&response, limit).await {
        Ok((_, true)) if response.ok() => {
            let detail = format!("a reply larger than {} MiB", cap >> 20);
            return Err(ApiError::malformed(detail));
        }
        Ok((body, _)) => body,
        Err(_) if abort.aborted() => return Err(abort.error()),
        Err(_) => return Err(ApiError::network(true)),
    };
    if !response.ok() {
        let rate_limits = rate_limits_of(&response.headers());
        let error = classify(status, &redact(&body, key.expose()), &rate_limits);
        return Err(error.redacted(key.expose()));
    }
    Ok(body)
}

/// What one free request of the connection test got ([`crate::web::probe`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Probed {
    /// An HTTP answer: its status and the start of its body (at most the cap asked for, and
    /// `truncated` when there was more), with the key masked.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The body's beginning, redacted.
        body: String,
        /// True when the body was longer than the cap.
        truncated: bool,
    },
    /// No answer: `fetch` was refused (a CORS refusal, nothing listening).
    Refused,
    /// No answer within the time limit.
    TimedOut,
}

/// One free request of the connection test: a `GET` of `url`, or a `POST` of `body` when there
/// is one, to a URL that must be on the connection's own base URL (or nothing is sent), with
/// exactly `headers`, no cookies, no redirects. Nothing else is added: the test varies the
/// headers to find the one a preflight refuses. Fails without sending when the base URL is
/// invalid or `url` is not below it, or a header value cannot be sent.
pub(crate) async fn probe_fetch(
    conn: &Connection,
    key: &ApiKey,
    url: &str,
    headers: &[(&str, String)],
    body: Option<&str>,
    cap: usize,
    timeout_ms: u32,
) -> Result<Probed, ApiError> {
    let window = web_sys::window().ok_or_else(|| ApiError::network(false))?;
    let base = validate_base_url(&conn.base_url).map_err(|_| ApiError::network(false))?;
    if !may_send_key(base.as_str(), url) {
        return Err(ApiError::network(false));
    }
    let sent = Headers::new().map_err(|_| ApiError::network(false))?;
    for (name, value) in headers {
        sent.set(name, value).map_err(|_| ApiError::InvalidKey)?;
    }
    let opts = CallOptions {
        timeout_ms,
        cancel: None,
    };
    let abort = Abort::new(&opts).map_err(|_| ApiError::network(false))?;
    let init = RequestInit::new();
    init.set_method(if body.is_some() { "POST" } else { "GET" });
    init.set_headers_headers(&sent);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_redirect(RequestRedirect::Error);
    init.set_signal(Some(&abort.signal()));
    abort.arm();
    let response = match JsFuture::from(window.fetch_with_str_and_init(url, &init)).await {
        Ok(response) => response.unchecked_into::<Response>(),
        Err(_) if abort.aborted() => return Ok(Probed::TimedOut),
        Err(_) => return Ok(Probed::Refused),
    };
    let status = response.status();
    let (body, truncated) = read_body(&response, cap)
        .await
        .unwrap_or((String::new(), false));
    Ok(Probed::Answered {
        status,
        body: redact(&body, key.expose()),
        truncated,
    })
}

/// Whether the server behind `url` answers at all (see `server_answers`): false when it
/// cannot be reached, true when it is up and CORS refused the real request.
pub(crate) async fn server_is_up(conn: &Connection, url: &str) -> bool {
    let (Some(window), Ok(base)) = (web_sys::window(), validate_base_url(&conn.base_url)) else {
        return false;
    };
    server_answers(&window, url, base.origin()).await
}

/// The page's clock in milliseconds (`performance.now()`, or the wall clock without it).
fn now(window: &Window) -> f64 {
    window
        .performance()
        .map_or_else(js_sys::Date::now, |performance| performance.now())
}

/// Tells a CORS refusal from a server that cannot be reached, without the key, a body or
/// cookies. Two key-less `GET`s, each able to prove the server is up:
///
/// 1. a "simple" CORS request to the call's own URL (no custom header, so no preflight):
///    servers whose CORS rules cover the API answer it, often with a 401 or 405, even when they
///    refuse the preflight of the real call (a header or method they do not allow);
/// 2. a `no-cors` request to the origin, which CORS cannot refuse. Chromium's opaque-response
///    blocking turns an HTML or JSON answer into the same error as an unreachable server, so
///    this helps only in other browsers or when the origin serves something else.
///
/// When neither answers, the server is reported unreachable: a server with no CORS at all looks
/// exactly like that from a web page.
async fn server_answers(window: &Window, url: &str, origin: &str) -> bool {
    let opts = CallOptions {
        timeout_ms: PROBE_TIMEOUT_MS,
        cancel: None,
    };
    let Ok(abort) = Abort::new(&opts) else {
        return false;
    };
    abort.arm();
    for (target, mode) in [(url, RequestMode::Cors), (origin, RequestMode::NoCors)] {
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_mode(mode);
        init.set_credentials(RequestCredentials::Omit);
        init.set_signal(Some(&abort.signal()));
        let answered = JsFuture::from(window.fetch_with_str_and_init(target, &init))
            .await
            .is_ok();
        if answered {
            return true;
        }
        if abort.aborted() {
            return false;
        }
    }
    false
}

/// The rate-limit headers the page may read.
fn rate_limits_of(headers: &Headers) -> RateLimitHeaders {
    let found = RATE_LIMIT_HEADER_NAMES
        .iter()
        .filter_map(|name| Some((*name, headers.get(name).ok().flatten()?)));
    RateLimitHeaders::parse(found, js_sys::Date::now() as u64)
}

/// The body as text, at most `cap` bytes of it: `(text, true)` when it was longer (the rest
/// is not read). Fails when the connection drops before the end.
async fn read_body(response: &Response, cap: usize) -> Result<(String, bool), JsValue> {
    let Some(body) = response.body() else {
        return Ok((String::new(), false));
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let result = JsFuture::from(reader.read()).await?;
        let Some(piece) = read_result(&result) else {
            return Ok((String::from_utf8_lossy(&bytes).into_owned(), false));
        };
        let room = cap - bytes.len();
        if piece.length() as usize > room {
            bytes.extend(piece.subarray(0, room as u32).to_vec());
            cancel_reading(&reader);
            return Ok((String::from_utf8_lossy(&bytes).into_owned(), true));
        }
        bytes.extend(piece.to_vec());
    }
}

/// Stops reading a body and lets the connection go. Awaiting the cancel (rather than dropping
/// its promise) keeps a refusal from surfacing as an unhandled rejection.
fn cancel_reading(reader: &ReadableStreamDefaultReader) {
    let cancelled = JsFuture::from(reader.cancel());
    wasm_bindgen_futures::spawn_local(async move {
        let _ = cancelled.await;
    });
}

/// The bytes of a `reader.read()` result, or `None` when the stream is done.
fn read_result(result: &JsValue) -> Option<Uint8Array> {
    let done = Reflect::get(result, &JsValue::from_str("done"))
        .ok()
        .and_then(|done| done.as_bool())
        .unwrap_or(true);
    if done {
        return None;
    }
    Reflect::get(result, &JsValue::from_str("value"))
        .ok()?
        .dyn_into::<Uint8Array>()
        .ok()
}
