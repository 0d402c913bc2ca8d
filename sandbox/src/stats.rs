//! Traffic and billing statistics, served at `GET /_sandbox/stats`.
//!
//! Only traffic to the provider API is counted: the `/_sandbox/*` control
//! routes and CORS preflights are left out, so a benchmark sees exactly what
//! the client sent. Preflights never reach [`record`]: the CORS layer answers
//! them first, and a preflight refused by the configuration is answered even
//! earlier (see [`crate::cors`](mod@crate::cors)), so it is not counted
//! either. What `billed` counts depends on the billing mode (see
//! [`crate::billing`]), reported as `billing`.
//!
//! The same provider requests are also kept one by one, in arrival order, in
//! a [`RequestLog`] served at `GET /_sandbox/log`: when each arrived, its
//! method and path, its status, the redacted key, the model and (chat
//! completions) its token cost against `tpm`. A test reads
//! it to check how the client paced its requests (requests per second or per
//! minute, tokens per minute) rather than only how many it sent.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::billing::{redact_key, BillingMode};
use crate::chat::{ChatRequest, DEFAULT_MAX_TOKENS_COST};
use crate::error::ApiError;
use crate::state::AppState;

/// A response extension marking a response that is never sent: the
/// connection closes before its headers (`timeout_after_generation`). Its
/// request is counted under the status `"none"`.
#[derive(Clone, Copy, Debug)]
pub struct NoResponse;

/// Token usage of one generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TokenUsage {
    /// Prompt tokens, cached ones included.
    pub prompt_tokens: u64,
    /// Reply tokens.
    pub completion_tokens: u64,
    /// Prompt tokens served from the prefix cache (Messages:
    /// `cache_read_input_tokens`).
    pub cached_tokens: u64,
    /// Prompt tokens written to the prompt cache (Messages:
    /// `cache_creation_input_tokens`; always 0 for chat completions).
    pub cache_creation_tokens: u64,
}

impl TokenUsage {
    /// Prompt plus completion tokens.
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// Billed totals, overall, for one model or for one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UsageTotals {
    /// Billed generations.
    pub requests: u64,
    /// Billed generations whose reply was not delivered complete (a fault
    /// broke it, or the client left); always 0 in `complete` billing mode.
    pub incomplete: u64,
    /// Billed prompt tokens.
    pub prompt_tokens: u64,
    /// Billed completion tokens.
    pub completion_tokens: u64,
    /// Billed prompt tokens that were cache hits.
    pub cached_tokens: u64,
    /// Billed prompt tokens that were cache writes (Messages requests with
    /// `cache_control` breakpoints; included in `prompt_tokens`).
    pub cache_creation_tokens: u64,
    /// Prompt plus completion tokens.
    pub total_tokens: u64,
}

impl UsageTotals {
    fn add(&mut self, usage: &TokenUsage) {
        self.requests += 1;
        self.prompt_tokens += usage.prompt_tokens;
        self.completion_tokens += usage.completion_tokens;
        self.cached_tokens += usage.cached_tokens;
        self.cache_creation_tokens += usage.cache_creation_tokens;
        self.total_tokens += usage.total_tokens();
    }

    fn add_completion(&mut self, tokens: u64) {
        self.completion_tokens += tokens;
        self.total_tokens += tokens;
    }
}

/// Billed usage: the totals plus a breakdown per model and per key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Billed {
    /// The totals over all models.
    #[serde(flatten)]
    pub totals: UsageTotals,
    /// The totals per model.
    pub by_model: BTreeMap<String, UsageTotals>,
    /// The totals per API key, keyed by the redacted key
    /// ([`crate::billing::redact_key`], e.g. `sk-…cdef`), never the key itself.
    pub by_key: BTreeMap<String, UsageTotals>,
}

impl Billed {
    /// The three totals one bill updates: overall, its model's, its key's.
    fn each(&mut self, model: &str, key: &str) -> [&mut UsageTotals; 3] {
        [
            &mut self.totals,
            self.by_model.entry(model.to_owned()).or_default(),
            self.by_key.entry(key.to_owned()).or_default(),
        ]
    }
}

/// Counts of video jobs, overall or for one API shape.
///
/// `queued`, `in_progress`, `completed` and `failed` are the jobs' states at
/// the moment the stats are read, so they add up to `submitted`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VideoCounts {
    /// Jobs accepted (validation errors are not jobs).
    pub submitted: u64,
    /// Accepted jobs whose request body (as canonical JSON) had already been
    /// accepted on the same API shape: the app submitted the same job twice.
    pub duplicates: u64,
    /// Jobs still waiting.
    pub queued: u64,
    /// Jobs rendering.
    pub in_progress: u64,
    /// Jobs finished with a video.
    pub completed: u64,
    /// Jobs that failed.
    pub failed: u64,
    /// Sum of the requested seconds of the completed jobs (what a provider bills).
    pub completed_seconds: u64,
    /// Status reads of existing jobs.
    pub polls: u64,
    /// Video files served.
    pub downloads: u64,
}

impl VideoCounts {
    /// Adds another shape's counts to these.
    pub fn add(&mut self, other: &Self) {
        self.submitted += other.submitted;
        self.duplicates += other.duplicates;
        self.queued += other.queued;
        self.in_progress += other.in_progress;
        self.completed += other.completed;
        self.failed += other.failed;
        self.completed_seconds += other.completed_seconds;
        self.polls += other.polls;
        self.downloads += other.downloads;
    }
}

/// Video jobs: the totals plus a breakdown per API shape, `openai`
/// (`/v1/videos`) and `generate` (`/v1/video/generate`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VideoStats {
    /// The totals over both shapes.
    #[serde(flatten)]
    pub totals: VideoCounts,
    /// The counts per shape.
    pub by_shape: BTreeMap<String, VideoCounts>,
}

/// Everything `GET /_sandbox/stats` reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// The billing mode of the process (`"complete"` or `"real"`).
    pub billing: BillingMode,
    /// Requests per `"METHOD /path"`.
    pub requests: BTreeMap<String, u64>,
    /// Responses per status code (`"none"` for a connection closed before
    /// any response, see [`NoResponse`]).
    pub status: BTreeMap<String, u64>,
    /// Billed generations (which ones depends on `billing`).
    pub billed: Billed,
    /// Billed chat requests whose exact body had already been billed.
    pub duplicates: u64,
    /// Video jobs of both API shapes, computed from the jobs when the stats
    /// are read (see [`crate::video`]).
    pub video: VideoStats,
    /// Hashes of billed request bodies, for `duplicates`.
    #[serde(skip)]
    billed_bodies: HashSet<u64>,
    /// Every provider request, in arrival order; served apart, at
    /// `GET /_sandbox/log`.
    #[serde(skip)]
    pub log: RequestLog,
}

/// The most entries a [`RequestLog`] keeps; beyond it the oldest are dropped
/// (and counted in `dropped`).
pub const LOG_CAPACITY: usize = 20_000;

/// One provider request, as `GET /_sandbox/log` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// When the request arrived (its head was read, before its body and
    /// before any handler ran), in Unix milliseconds.
    pub at_ms: u64,
    /// The method, e.g. `"POST"`.
    pub method: String,
    /// The path, without the query, e.g. `"/v1/chat/completions"`.
    pub path: String,
    /// The response status; `null` while the request is being answered, or
    /// when the connection closed without any response ([`NoResponse`]).
    pub status: Option<u16>,
    /// The API key, redacted as in `billed.by_key` ([`redact_key`], e.g.
    /// `sk-…cdef`), when the request carried an accepted key
    /// (`Authorization: Bearer`, or `x-api-key`); else `null`.
    pub key: Option<String>,
    /// The `model` of a JSON request body that names one, else `null`.
    pub model: Option<String>,
    /// For a chat completion that parses, what it costs against the
    /// sandbox's `tpm`: its prompt tokens ([`ChatRequest::prompt_tokens`])
    /// plus its `max_tokens` (or [`DEFAULT_MAX_TOKENS_COST`] when unset),
    /// which is also how a client is expected to charge its own token
    /// budget; else `null`.
    pub tokens: Option<u64>,
}

/// The provider requests in arrival order, at most [`LOG_CAPACITY`] of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestLog {
    /// The entries, oldest first.
    pub requests: VecDeque<LogEntry>,
    /// How many older entries were dropped to respect [`LOG_CAPACITY`].
    pub dropped: u64,
}

impl RequestLog {
    /// Appends an entry and returns its sequence number, for [`Self::finish`].
    pub fn push(&mut self, entry: LogEntry) -> u64 {
        if self.requests.len() >= LOG_CAPACITY {
            self.requests.pop_front();
            self.dropped += 1;
        }
        self.requests.push_back(entry);
        self.dropped + self.requests.len() as u64 - 1
    }

    /// Sets the status of entry `seq` (no-op when it was dropped meanwhile).
    pub fn finish(&mut self, seq: u64, status: Option<u16>) {
        if let Some(index) = seq.checked_sub(self.dropped) {
            if let Some(entry) = self.requests.get_mut(index as usize) {
                entry.status = status;
            }
        }
    }
}

impl Stats {
    /// Counts one request and its response status (`None`: no response).
    pub fn record_request(&mut self, method: &Method, path: &str, status: Option<u16>) {
        *self.requests.entry(format!("{method} {path}")).or_default() += 1;
        let status = status.map_or_else(|| "none".to_owned(), |s| s.to_string());
        *self.status.entry(status).or_default() += 1;
    }

    /// Bills one generation of `model` for key `key` (redacted), whose request
    /// body hashed to `body_hash`.
    pub fn bill(&mut self, model: &str, key: &str, usage: &TokenUsage, body_hash: u64) {
        for totals in self.billed.each(model, key) {
            totals.add(usage);
        }
        if !self.billed_bodies.insert(body_hash) {
            self.duplicates += 1;
        }
    }

    /// Adds `tokens` completion tokens to a request already billed.
    pub fn bill_completion(&mut self, model: &str, key: &str, tokens: u64) {
        for totals in self.billed.each(model, key) {
            totals.add_completion(tokens);
        }
    }

    /// Counts a billed request whose reply was not delivered complete.
    pub fn bill_incomplete(&mut self, model: &str, key: &str) {
        for totals in self.billed.each(model, key) {
            totals.incomplete += 1;
        }
    }
}

/// The most body bytes [`record`] reads to find the model (larger bodies are
/// left to the handler, which refuses them anyway).
const MAX_LOGGED_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// The key a request carries, `Authorization: Bearer KEY` else `x-api-key`,
/// redacted, when the sandbox accepts it.
fn logged_key(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let api_key = headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .map(str::trim);
    [bearer, api_key]
        .into_iter()
        .flatten()
        .find_map(|provided| state.key_matches(provided))
        .map(redact_key)
}

/// Only the `model` of a request body.
#[derive(Deserialize)]
struct ModelOnly {
    model: Option<String>,
}

/// The model a JSON body names, and, for a chat completion, its token cost.
fn body_facts(path: &str, body: &[u8]) -> (Option<String>, Option<u64>) {
    if path == "/v1/chat/completions" {
        if let Ok(request) = ChatRequest::parse(body) {
            let cost =
                request.prompt_tokens() + request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS_COST);
            return (Some(request.model), Some(cost));
        }
    }
    let model = serde_json::from_slice::<ModelOnly>(body)
        .ok()
        .and_then(|body| body.model);
    (model, None)
}

/// Middleware that counts every provider request and its status, and logs it
/// ([`RequestLog`]): its arrival time is taken before anything else runs.
/// A `POST` whose length is known (`Content-Length`) is read whole here first (to log its
/// model) and handed on unchanged.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    if method == Method::OPTIONS || path.starts_with("/_sandbox/") {
        return next.run(request).await;
    }
    let key = logged_key(&state, request.headers());
    // The body's length when it is known up front (`Content-Length`).
    let length = request.body().size_hint().upper();
    // The request to hand on, or the answer when its body could not be read
    // (the client left, or sent less than it announced).
    let (request, model, tokens) = match length {
        Some(length) if method == Method::POST && length <= MAX_LOGGED_BODY_BYTES => {
            let (parts, body) = request.into_parts();
            match axum::body::to_bytes(body, length as usize).await {
                Ok(bytes) => {
                    let (model, tokens) = body_facts(&path, &bytes);
                    (
                        Ok(Request::from_parts(parts, Body::from(bytes))),
                        model,
                        tokens,
                    )
                }
                Err(_) => (
                    Err(ApiError::invalid_request(
                        "The request body could not be read.",
                        None,
                        None,
                    )
                    .into_response()),
                    None,
                    None,
                ),
            }
        }
        _ => (Ok(request), None, None),
    };
    let entry = LogEntry {
        at_ms,
        method: method.to_string(),
        path: path.clone(),
        status: None,
        key,
        model,
        tokens,
    };
    let (epoch, seq) = {
        let mut shared = state.lock();
        (shared.epoch, shared.stats.log.push(entry))
    };
    let response = match request {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    };
    let status = match response.extensions().get::<NoResponse>() {
        Some(_) => None,
        None => Some(response.status().as_u16()),
    };
    let mut shared = state.lock();
    // A reset while this request was answered started a new log.
    if shared.epoch == epoch {
        shared.stats.log.finish(seq, status);
    }
    shared.stats.record_request(&method, &path, status);
    drop(shared);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_adds_up_and_finds_duplicates() {
        let mut stats = Stats::default();
        let usage = TokenUsage {
            prompt_tokens: 10,
            completion_tokens: 5,
            cached_tokens: 2,
            cache_creation_tokens: 1,
        };
        stats.bill("gpt-4.1", "sk-…aaaa", &usage, 1);
        stats.bill("gpt-4.1", "sk-…bbbb", &usage, 1);
        stats.bill("deepseek-v3.2", "sk-…aaaa", &usage, 2);
        stats.bill_completion("deepseek-v3.2", "sk-…aaaa", 3);
        stats.bill_incomplete("deepseek-v3.2", "sk-…aaaa");
        assert_eq!(stats.billed.totals.requests, 3);
        assert_eq!(stats.billed.totals.total_tokens, 48);
        assert_eq!(stats.billed.totals.incomplete, 1);
        assert_eq!(stats.billed.by_key["sk-…aaaa"].requests, 2);
        assert_eq!(stats.billed.by_key["sk-…aaaa"].completion_tokens, 13);
        assert_eq!(stats.billed.by_key["sk-…bbbb"].incomplete, 0);
        assert_eq!(stats.billed.totals.cached_tokens, 6);
        assert_eq!(stats.billed.totals.cache_creation_tokens, 3);
        assert_eq!(stats.billed.by_model["gpt-4.1"].requests, 2);
        assert_eq!(stats.duplicates, 1);
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["billed"]["prompt_tokens"], 30);
        assert_eq!(
            json["billed"]["by_model"]["deepseek-v3.2"]["total_tokens"],
            18
        );
        assert_eq!(json["billed"]["incomplete"], 1);
        assert_eq!(json["billed"]["by_key"]["sk-…bbbb"]["requests"], 1);
        assert_eq!(json["billing"], "complete");
        assert!(json.get("billed_bodies").is_none());
    }

    fn entry(at_ms: u64) -> LogEntry {
        LogEntry {
            at_ms,
            method: "GET".into(),
            path: "/v1/models".into(),
            status: None,
            key: None,
            model: None,
            tokens: None,
        }
    }

    #[test]
    fn the_log_drops_its_oldest_entries_beyond_its_capacity() {
        let mut log = RequestLog::default();
        let first = log.push(entry(0));
        assert_eq!(first, 0);
        for at in 1..LOG_CAPACITY as u64 + 5 {
            assert_eq!(log.push(entry(at)), at);
        }
        assert_eq!(log.requests.len(), LOG_CAPACITY);
        assert_eq!(log.dropped, 5);
        assert_eq!(log.requests[0].at_ms, 5);
        // A dropped entry's status goes nowhere; a kept one's lands on it.
        log.finish(first, Some(500));
        assert!(log.requests.iter().all(|e| e.status.is_none()));
        log.finish(7, Some(201));
        assert_eq!(log.requests[2].status, Some(201));
        log.finish(LOG_CAPACITY as u64 + 4, None);
        log.finish(LOG_CAPACITY as u64 + 50, Some(200));
        assert_eq!(
            log.requests.iter().filter(|e| e.status.is_some()).count(),
            1
        );
        let json = serde_json::to_value(&log).unwrap();
        assert_eq!(json["dropped"], 5);
        assert_eq!(json["requests"][0]["at_ms"], 5);
        assert!(json["requests"][0]["status"].is_null());
    }
}
