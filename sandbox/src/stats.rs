//! Traffic and billing statistics, served at `GET /_sandbox/stats`.
//!
//! Only traffic to the provider API is counted: the `/_sandbox/*` control
//! routes and CORS preflights are left out, so a benchmark sees exactly what
//! the client sent. Preflights never reach [`record`]: the CORS layer answers
//! them first, and a preflight refused by the configuration is answered even
//! earlier (see [`crate::cors`](mod@crate::cors)), so it is not counted
//! either. What `billed` counts depends on the billing mode (see
//! [`crate::billing`]), reported as `billing`.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::billing::BillingMode;
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

/// Middleware that counts every provider request and its status.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if method != Method::OPTIONS && !path.starts_with("/_sandbox/") {
        let status = match response.extensions().get::<NoResponse>() {
            Some(_) => None,
            None => Some(response.status().as_u16()),
        };
        state.lock().stats.record_request(&method, &path, status);
    }
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
}
