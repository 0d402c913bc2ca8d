//! One request of a batch and the states it moves through.
//!
//! ```text
//!            ┌──────────── Waiting (backoff, lane pause) ◄──┐
//!            ▼                                               │ retryable failure
//! Queued ──Send──► Running ──ok──► Done                      │
//!   ▲                 │ ───────────────────────────────────────┘
//!   │                 ├──failure──► Failed ──retry_failed──► Queued
//!   │                 └──crash (recover_after_crash)──► OutcomeUnknown
//!   └───────── resend_unknown (the user's consent) ◄──────────┘
//! ```
//!
//! `Done`, `Failed` and `OutcomeUnknown` are final unless the user acts (retry-failed, resend,
//! or marking an unknown outcome done or failed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stored;
use crate::domain::cost::pricing::Resolution;
use crate::domain::cost::profile::Cost;
use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::chat::{ChatMessage, Usage};
use crate::domain::provider::token_estimate::{estimate_messages, Calibration};

/// A video clip's billed quantities, for items priced per second or per clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipSpec {
    /// Seconds of video.
    pub seconds: u32,
    /// Resolution.
    pub resolution: Resolution,
}

/// Why an item failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemFailure {
    /// The API's last error.
    Api {
        /// The error as classified (its message is shown in the user's language).
        error: ApiError,
    },
    /// The user looked up an unknown outcome and marked it failed.
    MarkedFailed,
}

impl ItemFailure {
    /// A stable identifier: the error's [`ApiError::kind`], or `marked_failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            ItemFailure::Api { error } => error.kind(),
            ItemFailure::MarkedFailed => "marked_failed",
        }
    }

    /// The message shown in the item's row.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ItemFailure::Api { error } => error.message(lang),
            ItemFailure::MarkedFailed => lang
                .pick(
                    "已由你标记为失败（结果未知的请求）。",
                    "Marked failed by you (its outcome was unknown).",
                )
                .to_string(),
        }
    }
}

/// Where an item is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemState {
    /// Waiting for its turn.
    Queued,
    /// Sent and not yet answered. The engine sets this when it emits the send, so the executor
    /// persists "running" before the request leaves.
    Running {
        /// Which send of this item (1 for the first).
        attempt: u32,
        /// When it was sent (Unix ms).
        started_ms: f64,
    },
    /// Waiting out a backoff or a lane pause before being sent again.
    Waiting {
        /// When it becomes eligible again (Unix ms).
        until_ms: f64,
        /// The attempt it will be sent as.
        attempt: u32,
    },
    /// Answered.
    Done {
        /// Billed (or, flagged, estimated) usage.
        usage: Usage,
        /// What it cost under the batch's profile.
        #[serde(with = "stored::cost")]
        cost: Cost,
        /// How long the successful call took.
        latency_ms: f64,
        /// The model that answered (a fallback, possibly).
        model: String,
    },
    /// Given up.
    Failed {
        /// Why.
        failure: ItemFailure,
        /// What the failure cost, when the provider billed it (a cut stream), else `None`.
        #[serde(with = "stored::option_cost")]
        billed: Option<Cost>,
    },
    /// It may or may not have been generated and billed: it was in flight when the tab closed,
    /// or its attempt ended after the provider may have begun (a timeout, a connection lost
    /// after the headers, a cut or stalled stream, an unreadable reply, our own abort; see
    /// [`ApiError::may_be_billed`]). Never resent without the user's consent.
    OutcomeUnknown {
        /// Since when the outcome has been unknown (Unix ms).
        since_ms: f64,
        /// The attempt that was in flight.
        attempt: u32,
        /// True when the attempt's answer came back and its ledger entry records it at its
        /// worst case (so it counts as spent); false when the tab closed with it in flight
        /// (nothing recorded it: it counts as at risk).
        #[serde(default)]
        recorded: bool,
    },
}

impl ItemState {
    /// A stable identifier for tests, logs and `data-testid`s.
    pub fn name(&self) -> &'static str {
        match self {
            ItemState::Queued => "queued",
            ItemState::Running { .. } => "running",
            ItemState::Waiting { .. } => "waiting",
            ItemState::Done { .. } => "done",
            ItemState::Failed { .. } => "failed",
            ItemState::OutcomeUnknown { .. } => "unknown",
        }
    }

    /// True for `Done`, `Failed` and `OutcomeUnknown`: nothing more happens without the user.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ItemState::Done { .. } | ItemState::Failed { .. } | ItemState::OutcomeUnknown { .. }
        )
    }
}

/// One request of a batch (a take, a shot's storyboard, a clip).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    /// Unique within the batch; the executor finds the prompt by it.
    pub id: String,
    /// The connection the request goes through. A lane is a connection and a model.
    pub lane: String,
    /// The model to ask (after a fallback, the fallback model).
    pub model: String,
    /// Estimated prompt tokens for [`Self::model`].
    pub estimated_input_tokens: u64,
    /// The request's `max_tokens`: the worst case of its output.
    pub max_output_tokens: u64,
    /// The fallback models still untried, in order.
    #[serde(default)]
    pub fallback_models: Vec<String>,
    /// Prompt-token estimates for the fallback models (tokenizers differ), by model.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub input_estimates: BTreeMap<String, u64>,
    /// The output tokens expected (for the "expected" quote), when history knows; else the
    /// quote assumes `max_output_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_output_tokens: Option<u64>,
    /// A video clip's quantities, for video items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<ClipSpec>,
    /// Where the item is.
    pub state: ItemState,
    /// Sends so far, over all models.
    #[serde(default)]
    pub sends: u32,
    /// Transient failures in a row of the current model.
    #[serde(default)]
    pub model_failures: u32,
    /// Rate-limit 429s met.
    #[serde(default)]
    pub rate_limited: u32,
    /// Models given up on, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tried_models: Vec<String>,
    /// The last error met, shown in the item's row even after a successful retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<ApiError>,
    /// The worst case of this item's earlier attempts whose outcome stayed unknown (resent with
    /// the user's consent, or marked failed): the ledger records each at that cost, so the
    /// batch counts it as spent.
    #[serde(default, with = "stored::cost")]
    pub unknown_spent: Cost,
    /// The items of a run that send the same cached prefix (the character bible) share a group
    /// (a hash of the prefix): the first goes alone, the others once it has answered, since a
    /// provider's cache entry is readable only after the response that wrote it began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_group: Option<u32>,
}

impl BatchItem {
    /// A queued chat request with a known prompt estimate.
    pub fn chat(
        id: impl Into<String>,
        lane: impl Into<String>,
        model: impl Into<String>,
        estimated_input_tokens: u64,
        max_output_tokens: u64,
    ) -> BatchItem {
        BatchItem {
            id: id.into(),
            lane: lane.into(),
            model: model.into(),
            estimated_input_tokens,
            max_output_tokens,
            fallback_models: Vec::new(),
            input_estimates: BTreeMap::new(),
            expected_output_tokens: None,
            clip: None,
            state: ItemState::Queued,
            sends: 0,
            model_failures: 0,
            rate_limited: 0,
            tried_models: Vec::new(),
            last_error: None,
            unknown_spent: Cost::ZERO,
            cache_group: None,
        }
    }

    /// A queued chat request whose prompt estimate comes from the messages themselves, per
    /// model family ([`estimate_messages`]) and corrected by what billing taught
    /// ([`Calibration::apply`]); the fallback models get their own estimates.
    pub fn from_messages(
        id: impl Into<String>,
        lane: impl Into<String>,
        model: &str,
        fallback_models: &[String],
        messages: &[ChatMessage],
        max_output_tokens: u64,
        calibration: &Calibration,
    ) -> BatchItem {
        let estimate = |model: &str| calibration.apply(model, estimate_messages(model, messages));
        BatchItem {
            fallback_models: fallback_models.to_vec(),
            input_estimates: fallback_models
                .iter()
                .map(|m| (m.clone(), estimate(m)))
                .collect(),
            ..BatchItem::chat(id, lane, model, estimate(model), max_output_tokens)
        }
    }

    /// The same item in the cache group `group` (see [`BatchItem::cache_group`]).
    pub fn in_cache_group(mut self, group: Option<u32>) -> BatchItem {
        self.cache_group = group;
        self
    }

    /// The same item with fallback models (their prompt estimates default to this model's).
    pub fn with_fallbacks(mut self, models: &[&str]) -> BatchItem {
        self.fallback_models = models.iter().map(|m| m.to_string()).collect();
        self
    }

    /// What the rate limiter charges a send of this item: estimated input plus `max_tokens`.
    pub fn token_cost(&self) -> u64 {
        self.estimated_input_tokens
            .saturating_add(self.max_output_tokens)
    }

    /// The prompt estimate for `model`.
    pub fn input_estimate_for(&self, model: &str) -> u64 {
        if model == self.model {
            self.estimated_input_tokens
        } else {
            self.input_estimates
                .get(model)
                .copied()
                .unwrap_or(self.estimated_input_tokens)
        }
    }

    /// Moves to the next fallback model, if any; returns `(from, to)`.
    pub(crate) fn switch_to_fallback(&mut self) -> Option<(String, String)> {
        if self.fallback_models.is_empty() {
            return None;
        }
        let to = self.fallback_models.remove(0);
        let estimate = self.input_estimate_for(&to);
        let from = std::mem::replace(&mut self.model, to.clone());
        self.input_estimates
            .insert(from.clone(), self.estimated_input_tokens);
        self.estimated_input_tokens = estimate;
        self.tried_models.push(from.clone());
        self.model_failures = 0;
        Some((from, to))
    }
}
