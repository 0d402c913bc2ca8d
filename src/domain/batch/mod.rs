//! The batch engine: rate-limited, resumable batches that reach the provider's ceiling and
//! never pay twice for one request without the user's consent.
//!
//! A [`Batch`] is a pure, clock-injected state machine. It reads no clock and draws no
//! randomness of its own: every call takes `now_ms` (Unix milliseconds, `Date.now()`, because
//! the batch outlives a page load), and backoff jitter comes from a seeded [`SplitMix64`] stored
//! in the batch. A thin executor in `src/web/` drives it with timers and `fetch`.
//!
//! | module | what |
//! |---|---|
//! | [`gate`] | per connection, page-wide: one rpm/tpm/concurrency ceiling over every run and call on it ([`ConnectionGate`], consulted through [`Admission`]) |
//! | [`limiter`] | per lane (connection + model): rpm and tpm GCRAs with at most 1 s of burst, per-second and per-minute windows, the 429 slowdown, `x-ratelimit-*` headers |
//! | [`retry`] | what each failure means (retry, slow the lane, fall back, fail, stop) and full-jitter backoff |
//! | [`item`] | [`BatchItem`] and its [`ItemState`]s |
//! | [`engine`] | [`Batch`]: dispatch, results, fallbacks, budget, pause/resume/cancel, crash recovery, progress |
//! | [`answer`] | [`Batch::on_answer`]: what an answer means (outcome, usage, reply kept, priced ledger entry, fallback note, calibration sample) |
//! | [`plan`] | a route's chat request; a run's items, quote and configuration ([`plan_run`]); one call the user waits for ([`plan_single`]: sent once, no fallback) |
//! | [`mod@quote`] | the quote before a batch ($ and ¥, worst case and expected) and its reconciliation with the ledger |
//!
//! # The executor's contract
//!
//! ```text
//! on start or reload:  batch = load();  batch.recover_after_crash(now)   // running → unknown
//! loop:
//!     for Send { item_id, model, .. } in batch.next_actions(now):
//!         save(batch)                        // the item is "running" BEFORE the request leaves
//!         fetch(...)                         // answer → batch.on_result(item_id, now, outcome)
//!                                            //           (batch.on_answer: outcome, ledger entry, sample)
//!                                            //           save(batch); append the entry to the ledger
//!     set a timer for batch.next_wake_ms(now) (none: wait for an answer or the user)
//!     log batch.events_since(logged) (fallback switches go to the ledger's notes)
//! ```
//!
//! Persisting before sending is what makes a closed tab safe: whatever was marked running when
//! the tab closed becomes [`ItemState::OutcomeUnknown`] on reload, and is sent again only after
//! [`Batch::resend_unknown`] (there are no idempotency keys, so a resend is paid again).
//!
//! # Invariants (property-tested in `tests/batch_props.rs` under a simulated clock)
//!
//! * In every lane, the sends in any sliding 1 s window never exceed `⌈rpm / 60⌉`, in any 60 s
//!   window never exceed `rpm` (likewise for tokens), and requests in flight never exceed the
//!   lane's concurrency.
//! * Every item ends exactly once as done, failed or outcome-unknown, unless the batch stopped
//!   (quota, key, budget) or was cancelled with the rest still queued.
//! * No item is sent while another send of it is in flight, and none is sent after its outcome
//!   became unknown unless the user consented.
//!
//! ```
//! use duanju_studio::domain::batch::{Action, Batch, BatchConfig, BatchItem, Limits, Outcome};
//! use duanju_studio::domain::provider::chat::Usage;
//!
//! let items = (0..20)
//!     .map(|i| BatchItem::chat(format!("take-{i}"), "relay", "deepseek-v3.2", 300, 200))
//!     .collect();
//! let mut batch = Batch::new("scene-1", items, BatchConfig::with_limits(Limits::rpm(600)), 7).unwrap();
//! // 600 rpm with half a second of burst: five requests leave at once…
//! let first = batch.next_actions(0.0);
//! assert_eq!(first.len(), 5);
//! // …and the sixth 100 ms later.
//! assert_eq!(batch.next_wake_ms(0.0), Some(100.0));
//! let Action::Send { item_id, .. } = &first[0];
//! let usage = Usage { prompt: 290, completion: 150, total: 440, ..Usage::default() };
//! batch.on_result(item_id, 300.0, Outcome::Ok { usage, latency_ms: 300.0 }).unwrap();
//! assert_eq!(batch.counts().done, 1);
//! ```

pub mod answer;
pub mod engine;
pub mod gate;
pub mod item;
pub mod limiter;
pub mod plan;
pub mod quote;
pub mod retry;
mod stored;

pub use answer::{Answer, Answered, CallContext, Failure, Reply, UsageSample};
pub use engine::{
    Action, Batch, BatchConfig, BatchError, BatchEvent, BatchStatus, Counts, FallbackConfig,
    FallbackReason, Lane, LaneLimits, Outcome, Progress, StopReason,
};
pub use gate::{Admission, ConnectionGate, Turn, Unlimited};
pub use item::{BatchItem, ClipSpec, ItemFailure, ItemState};
pub use limiter::{LaneLimiter, LimiterConfig, Limits};
pub use plan::{plan_request, plan_run, plan_single, route_request, RunInput, RunPlan};
pub use quote::{
    average_completion_tokens, quote, reconcile, Pricing, Quote, QuoteLine, Reconciliation,
};
pub use retry::{classify, FailureClass, RetryConfig, SplitMix64};

#[cfg(test)]
mod tests;
