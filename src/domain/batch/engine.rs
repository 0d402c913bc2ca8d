//! The batch state machine: which item to send next, when to wake up, and what each answer
//! changes. See the module docs of [`crate::domain::batch`] for the executor's contract.

use serde::{Deserialize, Serialize};

use std::collections::HashSet;

use super::gate::{Admission, Unlimited};
use super::item::{BatchItem, ItemFailure, ItemState};
use super::limiter::{LaneLimiter, LimiterConfig, Limits, MINUTE_MS, SECOND_MS};
use super::quote::Pricing;
use super::retry::{classify, FailureClass, RetryConfig, SplitMix64};
use super::stored;
use crate::domain::cost::money::{Currency, Money};
use crate::domain::cost::profile::Cost;
use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::chat::Usage;
use crate::domain::provider::ratelimit::RateLimitHeaders;

/// Limits for one connection, or one connection and model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneLimits {
    /// The connection.
    pub lane: String,
    /// The model; `None` for every model of the connection without its own entry.
    #[serde(default)]
    pub model: Option<String>,
    /// The limits.
    pub limits: Limits,
}

/// When to fall back to the next model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FallbackConfig {
    /// Transient failures in a row of one item on one model before that item moves to its next
    /// fallback model. Default 2.
    pub after_failures: u32,
    /// Transient failures in a row of a whole lane (any items) before every waiting item of
    /// that lane moves to its next fallback model. Default 5: higher than the per-item count,
    /// since with a 20 % error rate two failures in a row somewhere in a batch are routine.
    pub lane_after_failures: u32,
}

impl Default for FallbackConfig {
    fn default() -> FallbackConfig {
        FallbackConfig {
            after_failures: 2,
            lane_after_failures: 5,
        }
    }
}

/// Everything a batch is configured with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchConfig {
    /// Limits of any lane without its own entry.
    #[serde(default)]
    pub default_limits: Limits,
    /// Limits per connection, or per connection and model (the more specific entry wins).
    #[serde(default)]
    pub lane_limits: Vec<LaneLimits>,
    /// Pacing and 429 reaction.
    #[serde(default)]
    pub limiter: LimiterConfig,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Fallbacks.
    #[serde(default)]
    pub fallback: FallbackConfig,
    /// The batch's budget: dispatch stops before an item's worst case could exceed it.
    #[serde(default, with = "stored::option_money")]
    pub budget: Option<Money>,
    /// What is left of the project's budget, apart from this batch's spending.
    #[serde(default, with = "stored::option_money")]
    pub project_remaining: Option<Money>,
    /// The prices the batch is costed at; required for a budget.
    #[serde(default)]
    pub pricing: Option<Pricing>,
}

impl BatchConfig {
    /// A configuration with `limits` for every lane and every other setting at its default.
    pub fn with_limits(limits: Limits) -> BatchConfig {
        BatchConfig {
            default_limits: limits,
            lane_limits: Vec::new(),
            limiter: LimiterConfig::default(),
            retry: RetryConfig::default(),
            fallback: FallbackConfig::default(),
            budget: None,
            project_remaining: None,
            pricing: None,
        }
    }

    /// The limits of `lane` on `model`.
    pub fn limits_for(&self, lane: &str, model: &str) -> Limits {
        let exact = self
            .lane_limits
            .iter()
            .find(|l| l.lane == lane && l.model.as_deref() == Some(model));
        let any_model = || {
            self.lane_limits
                .iter()
                .find(|l| l.lane == lane && l.model.is_none())
        };
        exact
            .or_else(any_model)
            .map_or(self.default_limits, |l| l.limits)
    }
}

impl Default for BatchConfig {
    fn default() -> BatchConfig {
        BatchConfig::with_limits(Limits::default())
    }
}

/// Why a batch stopped dispatching.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// The provider says the account is out of credit.
    InsufficientQuota,
    /// The provider rejected the key.
    InvalidKey,
    /// The next item's worst case would exceed the batch's or the project's budget.
    BudgetReached {
        /// The budget that would be exceeded.
        #[serde(with = "stored::money")]
        limit: Money,
        /// Spent, in flight (at worst) and unknown (at worst) so far.
        #[serde(with = "stored::money")]
        committed: Money,
        /// The next item's worst case.
        #[serde(with = "stored::money")]
        next_item: Money,
        /// True when `limit` is what is left of the project's budget, not the batch's cap.
        #[serde(default)]
        project: bool,
    },
    /// A budget is set but a model has no price, so the budget cannot be checked.
    Unpriced {
        /// The model.
        model: String,
    },
}

impl StopReason {
    /// A stable identifier.
    pub fn kind(&self) -> &'static str {
        match self {
            StopReason::InsufficientQuota => "insufficient_quota",
            StopReason::InvalidKey => "invalid_key",
            StopReason::BudgetReached { .. } => "budget_reached",
            StopReason::Unpriced { .. } => "unpriced",
        }
    }

    /// What the user is told.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            StopReason::InsufficientQuota => lang
                .pick(
                    "批量任务已停止：账户余额或额度不足（insufficient_quota），继续发送只会全部失败。请充值或换用其他密钥后点击「继续」；未发送的条目仍在队列中。",
                    "The batch stopped: the account is out of credit or quota (insufficient_quota), \
                     so every further request would fail. Top up or use another key, then press \
                     Resume; the unsent items are still queued.",
                )
                .to_string(),
            StopReason::InvalidKey => lang
                .pick(
                    "批量任务已停止：API 密钥被拒绝。请在「连接」中检查密钥后点击「继续」；未发送的条目仍在队列中。",
                    "The batch stopped: the API key was rejected. Check the key under Connections, \
                     then press Resume; the unsent items are still queued.",
                )
                .to_string(),
            StopReason::BudgetReached {
                limit,
                committed,
                next_item,
                project: true,
            } => match lang {
                Lang::ZhCn => format!(
                    "批量任务已停止：项目预算只剩 {limit}，本批已占用 {committed}，下一条最坏情况需 {next_item}，可能超出项目预算。在项目设置中提高预算后点击「继续」。"
                ),
                Lang::En => format!(
                    "The batch stopped: {limit} is left of the project's budget, this batch has \
                     committed {committed} and the next item could cost up to {next_item}, which \
                     could exceed it. Raise the project's budget in its settings, then press \
                     Resume."
                ),
            },
            StopReason::BudgetReached {
                limit,
                committed,
                next_item,
                project: false,
            } => match lang {
                Lang::ZhCn => format!(
                    "批量任务已停止：预算 {limit} 已占用 {committed}，下一条最坏情况需 {next_item}，可能超出预算。提高预算后点击「继续」。"
                ),
                Lang::En => format!(
                    "The batch stopped: {committed} of the {limit} budget is committed and the \
                     next item could cost up to {next_item}, which could exceed it. Raise the \
                     budget, then press Resume."
                ),
            },
            StopReason::Unpriced { model } => match lang {
                Lang::ZhCn => format!(
                    "批量任务已停止：设置了预算，但价格表中没有 {model} 的价格，无法核对预算。请在价格表中补充该模型后点击「继续」。"
                ),
                Lang::En => format!(
                    "The batch stopped: a budget is set but the catalog has no price for \
                     {model}, so the budget cannot be checked. Add its price, then press Resume."
                ),
            },
        }
    }
}

/// Where the batch as a whole is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BatchStatus {
    /// Dispatching.
    Running,
    /// Paused by the user: nothing new is sent; answers to requests in flight are recorded.
    Paused,
    /// Stopped by the engine (quota, key, budget); resumable once the cause is fixed.
    Stopped {
        /// Why.
        #[serde(flatten)]
        reason: StopReason,
    },
    /// Cancelled by the user: nothing more is ever sent.
    Cancelled,
    /// Every item is done, failed or of unknown outcome.
    Finished,
}

impl BatchStatus {
    /// A stable identifier.
    pub fn name(&self) -> &'static str {
        match self {
            BatchStatus::Running => "running",
            BatchStatus::Paused => "paused",
            BatchStatus::Stopped { .. } => "stopped",
            BatchStatus::Cancelled => "cancelled",
            BatchStatus::Finished => "finished",
        }
    }
}

/// Why an item moved to a fallback model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackReason {
    /// The item failed on its model [`FallbackConfig::after_failures`] times in a row (or ran
    /// out of attempts).
    ItemFailures,
    /// Its lane failed [`FallbackConfig::lane_after_failures`] times in a row.
    LaneFailures,
    /// The provider does not serve the model.
    ModelUnavailable,
}

/// Something the executor logs (fallbacks go to the ledger's notes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BatchEvent {
    /// An item moved to a fallback model.
    FallbackSwitched {
        /// The item.
        item_id: String,
        /// The model given up.
        from: String,
        /// The model used from now on.
        to: String,
        /// When (Unix ms).
        at_ms: f64,
        /// Why.
        reason: FallbackReason,
        /// The worst-case cost of one send on `to` minus on `from`; `None` when either is
        /// unpriced.
        #[serde(with = "stored::option_cost")]
        cost_delta: Option<Cost>,
    },
    /// A rate-limit 429 paused and slowed a lane.
    LaneThrottled {
        /// The connection.
        lane: String,
        /// The model.
        model: String,
        /// When (Unix ms).
        at_ms: f64,
        /// The pause's end (Unix ms).
        paused_until_ms: f64,
        /// The share of the limit the lane now uses.
        rate_factor: f64,
    },
    /// The batch stopped.
    Stopped {
        /// Why.
        reason: StopReason,
        /// When (Unix ms).
        at_ms: f64,
    },
    /// The tab reopened: these in-flight items now have an unknown outcome.
    Recovered {
        /// When (Unix ms).
        at_ms: f64,
        /// The items.
        unknown_items: Vec<String>,
    },
}

impl BatchEvent {
    /// A one-line description, for the ledger's note and the batch log.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            BatchEvent::FallbackSwitched {
                item_id,
                from,
                to,
                cost_delta,
                ..
            } => {
                let delta = cost_delta.map(|d| {
                    let sign = if d.usd.units() >= 0 { "+" } else { "" };
                    format!("{sign}{} / {sign}{}", d.usd, d.cny)
                });
                match (lang, delta) {
                    (Lang::ZhCn, Some(d)) => {
                        format!("{item_id}：已从 {from} 切换到备用模型 {to}（单次最坏成本 {d}）")
                    }
                    (Lang::ZhCn, None) => {
                        format!("{item_id}：已从 {from} 切换到备用模型 {to}（价格未知）")
                    }
                    (Lang::En, Some(d)) => format!(
                        "{item_id}: fallback from {from} to {to} (worst case per request {d})"
                    ),
                    (Lang::En, None) => {
                        format!("{item_id}: fallback from {from} to {to} (price unknown)")
                    }
                }
            }
            BatchEvent::LaneThrottled {
                lane,
                model,
                paused_until_ms,
                at_ms,
                rate_factor,
            } => {
                let seconds = ((paused_until_ms - at_ms) / SECOND_MS).max(0.0);
                let percent = (rate_factor * 100.0).round();
                match lang {
                    Lang::ZhCn => format!(
                        "{lane} / {model} 被限流（429）：暂停 {seconds:.1} 秒，速率降至上限的 {percent}%"
                    ),
                    Lang::En => format!(
                        "{lane} / {model} was rate-limited (429): paused {seconds:.1} s, rate \
                         lowered to {percent}% of the limit"
                    ),
                }
            }
            BatchEvent::Stopped { reason, .. } => reason.message(lang),
            BatchEvent::Recovered { unknown_items, .. } => {
                let n = unknown_items.len();
                match lang {
                    Lang::ZhCn => format!(
                        "页面重新打开：{n} 个请求在关闭时仍在进行，结果未知，未经你同意不会重发（重发会再次计费）。"
                    ),
                    Lang::En => format!(
                        "The page reopened: {n} requests were in flight when it closed. Their \
                         outcome is unknown and they will not be resent without your consent (a \
                         resend is billed again)."
                    ),
                }
            }
        }
    }
}

/// What the executor must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Persist the batch (the item is already marked running), then send the item's request.
    Send {
        /// The item.
        item_id: String,
        /// Its connection.
        lane: String,
        /// The model to put in the request.
        model: String,
        /// Which send of this item this is (1 for the first).
        attempt: u32,
    },
}

/// The answer to a send.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A usable reply.
    Ok {
        /// Billed (or, flagged, estimated) usage.
        usage: Usage,
        /// How long the call took.
        latency_ms: f64,
    },
    /// A failure.
    Err {
        /// The classified error (status and kind).
        error: ApiError,
        /// The delay the provider asked for (`retry-after-ms`, else `retry-after`), when the
        /// error itself does not carry it (a 503 may).
        retry_after_ms: Option<u64>,
        /// How long the call took.
        latency_ms: f64,
    },
}

impl Outcome {
    /// A failure with no extra delay.
    pub fn err(error: ApiError, latency_ms: f64) -> Outcome {
        Outcome::Err {
            error,
            retry_after_ms: None,
            latency_ms,
        }
    }
}

/// A call on the batch that does not fit its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// Two items share an id.
    DuplicateItem(String),
    /// No item has this id.
    UnknownItem(String),
    /// The item is not in the state the call needs (for example a result for an item that is
    /// not running).
    WrongState {
        /// The item.
        item_id: String,
        /// Its state's name.
        state: &'static str,
    },
}

impl BatchError {
    /// The message shown (or logged).
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (BatchError::DuplicateItem(id), Lang::ZhCn) => format!("批量任务中有重复的条目 {id}"),
            (BatchError::DuplicateItem(id), Lang::En) => {
                format!("the batch has two items named {id}")
            }
            (BatchError::UnknownItem(id), Lang::ZhCn) => format!("批量任务中没有条目 {id}"),
            (BatchError::UnknownItem(id), Lang::En) => format!("the batch has no item {id}"),
            (BatchError::WrongState { item_id, state }, Lang::ZhCn) => {
                format!("条目 {item_id} 当前状态为 {state}，不能执行此操作")
            }
            (BatchError::WrongState { item_id, state }, Lang::En) => {
                format!("item {item_id} is {state}, which does not allow this")
            }
        }
    }
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for BatchError {}

/// The rate-limit state of one connection and model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    /// The connection.
    pub lane: String,
    /// The model.
    pub model: String,
    /// Its limiter.
    pub limiter: LaneLimiter,
    /// Transient failures in a row on this lane.
    pub failure_streak: u32,
}

/// Items per state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Waiting for their turn (backoffs included).
    pub queued: usize,
    /// Of `queued`, those waiting out a backoff or a lane pause.
    pub waiting: usize,
    /// In flight.
    pub running: usize,
    /// Answered.
    pub done: usize,
    /// Given up.
    pub failed: usize,
    /// Outcome unknown, waiting for the user.
    pub unknown: usize,
    /// All items.
    pub total: usize,
}

/// What the progress bar shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Progress {
    /// Items per state.
    pub counts: Counts,
    /// The batch's status.
    pub status: BatchStatus,
    /// Requests sent in the last 60 s.
    pub sent_last_minute: usize,
    /// The live request rate, per minute, over the last 60 s (or since the first send, when
    /// that is more recent).
    pub rate_rpm: f64,
    /// The rate the limits allow now, summed over the lanes with work left; `None` when a lane
    /// has no request limit.
    pub limit_rpm: Option<f64>,
    /// Milliseconds until the last item should be answered; `None` when not running.
    pub eta_ms: Option<f64>,
    /// Spent so far (answered items and billed failures).
    pub spent: Cost,
    /// Rate-limit 429s received.
    pub rate_limited: u32,
}

/// A batch: items, lanes, events. Serialize it after every transition (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The batch's id.
    pub id: String,
    /// The items, in dispatch order.
    pub items: Vec<BatchItem>,
    /// The configuration.
    pub config: BatchConfig,
    /// The status.
    pub status: BatchStatus,
    /// One per connection and model used so far.
    pub lanes: Vec<Lane>,
    /// Everything worth logging, oldest first; the executor remembers how many it has logged.
    pub events: Vec<BatchEvent>,
    /// When the first request was sent (Unix ms).
    pub first_send_ms: Option<f64>,
    /// The jitter source.
    rng: SplitMix64,
}

impl Batch {
    /// A running batch of `items` (normally all queued). `seed` seeds the backoff jitter.
    pub fn new(
        id: impl Into<String>,
        items: Vec<BatchItem>,
        config: BatchConfig,
        seed: u64,
    ) -> Result<Batch, BatchError> {
        let mut seen = std::collections::BTreeSet::new();
        for item in &items {
            if !seen.insert(item.id.as_str()) {
                return Err(BatchError::DuplicateItem(item.id.clone()));
            }
        }
        let mut batch = Batch {
            id: id.into(),
            items,
            config,
            status: BatchStatus::Running,
            lanes: Vec::new(),
            events: Vec::new(),
            first_send_ms: None,
            rng: SplitMix64::new(seed),
        };
        for index in 0..batch.items.len() {
            let (lane, model) = (
                batch.items[index].lane.clone(),
                batch.items[index].model.clone(),
            );
            batch.lane_index(&lane, &model);
        }
        batch.settle();
        Ok(batch)
    }

    /// The item with this id.
    pub fn item(&self, item_id: &str) -> Option<&BatchItem> {
        self.items.iter().find(|item| item.id == item_id)
    }

    /// The lane of `lane` and `model`, if used so far.
    pub fn lane(&self, lane: &str, model: &str) -> Option<&Lane> {
        self.lanes
            .iter()
            .find(|l| l.lane == lane && l.model == model)
    }

    /// The events from index `from` on (the executor keeps the count it has logged).
    pub fn events_since(&self, from: usize) -> &[BatchEvent] {
        self.events.get(from..).unwrap_or(&[])
    }

    fn position(&self, item_id: &str) -> Result<usize, BatchError> {
        self.items
            .iter()
            .position(|item| item.id == item_id)
            .ok_or_else(|| BatchError::UnknownItem(item_id.to_string()))
    }

    fn lane_index(&mut self, lane: &str, model: &str) -> usize {
        if let Some(index) = self
            .lanes
            .iter()
            .position(|l| l.lane == lane && l.model == model)
        {
            return index;
        }
        self.lanes.push(Lane {
            lane: lane.to_string(),
            model: model.to_string(),
            limiter: LaneLimiter::new(self.config.limits_for(lane, model)),
            failure_streak: 0,
        });
        self.lanes.len() - 1
    }

    fn item_lane(&mut self, index: usize) -> usize {
        let (lane, model) = (
            self.items[index].lane.clone(),
            self.items[index].model.clone(),
        );
        self.lane_index(&lane, &model)
    }

    /// The cache groups whose first request is in flight with none of the group answered yet:
    /// their other items wait. A provider's cache entry is readable only once the response that
    /// wrote it has begun, so they would each write (and pay for) the prefix again instead of
    /// reading it. (A group whose first request failed sends its next one alone.)
    fn warming_cache_groups(&self) -> HashSet<u32> {
        let mut answered = HashSet::new();
        let mut in_flight = HashSet::new();
        for item in &self.items {
            let Some(group) = item.cache_group else {
                continue;
            };
            match item.state {
                ItemState::Done { .. } => {
                    answered.insert(group);
                }
                ItemState::Running { .. } => {
                    in_flight.insert(group);
                }
                _ => {}
            }
        }
        in_flight.retain(|group| !answered.contains(group));
        in_flight
    }

    /// Whether the first request of `item`'s cache group is still warming its cache (`warming`:
    /// [`Self::warming_cache_groups`], plus the groups dispatched since).
    fn waits_for_cache(item: &BatchItem, warming: &HashSet<u32>) -> bool {
        item.cache_group
            .is_some_and(|group| warming.contains(&group))
    }

    /// The requests to send now. Every item returned is already marked
    /// [`ItemState::Running`]: the executor persists the batch, then sends. Call it again after
    /// every result and whenever the timer of [`Self::next_wake_ms`] fires.
    pub fn next_actions(&mut self, now_ms: f64) -> Vec<Action> {
        self.next_actions_through(now_ms, &mut Unlimited)
    }

    /// [`Self::next_actions`] through the connection's `gate` too: an item leaves only when
    /// its lane and the gate (every call on the connection, from any run) both admit it, and
    /// the gate counts it. Dispatch stops at the first item the gate holds, so runs sharing a
    /// connection take turns rather than the smaller requests overtaking.
    pub fn next_actions_through(&mut self, now_ms: f64, gate: &mut dyn Admission) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.status != BatchStatus::Running {
            return actions;
        }
        self.wake_waiting(now_ms);
        let mut warming = self.warming_cache_groups();
        let mut running = self.running_per_lane();
        let mut committed = self.committed();
        let mut blocked = vec![false; self.lanes.len()];
        for index in 0..self.items.len() {
            if self.items[index].state != ItemState::Queued {
                continue;
            }
            let lane = self.item_lane(index);
            if lane >= blocked.len() {
                blocked.resize(self.lanes.len(), false);
                running.resize(self.lanes.len(), 0);
            }
            if blocked[lane] || Self::waits_for_cache(&self.items[index], &warming) {
                continue;
            }
            // The budget first: when the next item in line cannot fit, dispatch stops (or, with
            // requests in flight whose real cost may free budget, waits for them).
            let worst = match self.check_budget(index, committed) {
                Ok(worst) => worst,
                Err(reason) => {
                    let in_flight = running.iter().sum::<usize>() > 0;
                    if !in_flight || matches!(reason, StopReason::Unpriced { .. }) {
                        self.stop(reason, now_ms);
                    }
                    break;
                }
            };
            let tokens = self.items[index].token_cost();
            let limiter = &self.lanes[lane].limiter;
            if running[lane] >= limiter.max_concurrency() as usize
                || !limiter.can_send(now_ms, tokens, &self.config.limiter)
            {
                blocked[lane] = true;
                continue;
            }
            if !gate.try_admit(now_ms, tokens) {
                break;
            }
            committed += worst;
            let item = &mut self.items[index];
            item.sends += 1;
            item.state = ItemState::Running {
                attempt: item.sends,
                started_ms: now_ms,
            };
            actions.push(Action::Send {
                item_id: item.id.clone(),
                lane: item.lane.clone(),
                model: item.model.clone(),
                attempt: item.sends,
            });
            self.lanes[lane]
                .limiter
                .record_send(now_ms, tokens, &self.config.limiter);
            running[lane] += 1;
            if let Some(group) = self.items[index].cache_group {
                // Unless the group has answered before, its others wait for this one.
                if !self.items.iter().any(|i| {
                    i.cache_group == Some(group) && matches!(i.state, ItemState::Done { .. })
                }) {
                    warming.insert(group);
                }
            }
            self.first_send_ms.get_or_insert(now_ms);
        }
        self.settle();
        actions
    }

    /// When the executor should call [`Self::next_actions`] again if no answer arrives first:
    /// the end of a backoff or pause, or the moment a limiter admits the next request. `None`
    /// when only an answer (or the user) can move the batch on. Call it after
    /// [`Self::next_actions`]: a user action or a recovery changes the answer.
    pub fn next_wake_ms(&self, now_ms: f64) -> Option<f64> {
        self.next_wake_ms_through(now_ms, &Unlimited)
    }

    /// [`Self::next_wake_ms`] for a batch dispatched through `gate`
    /// ([`Self::next_actions_through`]): a lane ready before the gate waits for the gate; a
    /// gate whose concurrency is full sets no time (a call ending on the connection wakes the
    /// batch instead).
    pub fn next_wake_ms_through(&self, now_ms: f64, gate: &dyn Admission) -> Option<f64> {
        if self.status != BatchStatus::Running {
            return None;
        }
        let mut wake: Option<f64> = None;
        let mut earliest = |t: f64| {
            let t = t.max(now_ms);
            wake = Some(wake.map_or(t, |w: f64| w.min(t)));
        };
        let running = self.running_per_lane();
        let committed = self.committed();
        let warming = self.warming_cache_groups();
        let mut seen = vec![false; self.lanes.len()];
        let horizon = self.longest_wait_ms();
        for item in &self.items {
            if let ItemState::Waiting { until_ms, .. } = item.state {
                earliest(until_ms.min(now_ms + horizon));
            }
        }
        for (index, item) in self.items.iter().enumerate() {
            if item.state != ItemState::Queued {
                continue;
            }
            let Some(lane) = self
                .lanes
                .iter()
                .position(|l| l.lane == item.lane && l.model == item.model)
            else {
                earliest(now_ms);
                continue;
            };
            // An item waiting for its cache group's first answer: that answer wakes the batch.
            if seen[lane] || Self::waits_for_cache(item, &warming) {
                continue;
            }
            seen[lane] = true;
            // As in `next_actions`: an item over budget holds up the queue until an answer
            // frees budget (with nothing in flight, `next_actions` stops the batch).
            if self.check_budget(index, committed).is_err() {
                break;
            }
            let limiter = &self.lanes[lane].limiter;
            if running[lane] >= limiter.max_concurrency() as usize {
                continue;
            }
            let tokens = item.token_cost();
            if let Some(open) = gate.ready_at(now_ms, tokens) {
                earliest(
                    limiter
                        .ready_at(now_ms, tokens, &self.config.limiter)
                        .max(open),
                );
            }
        }
        wake
    }

    /// Records the answer to an item's send. Call [`Self::next_actions`] afterwards.
    ///
    /// A success for an item whose outcome had become unknown (the answer arrived after all)
    /// is recorded too.
    pub fn on_result(
        &mut self,
        item_id: &str,
        now_ms: f64,
        outcome: Outcome,
    ) -> Result<(), BatchError> {
        let index = self.position(item_id)?;
        let (attempt, started_ms) = match (&self.items[index].state, &outcome) {
            (
                ItemState::Running {
                    attempt,
                    started_ms,
                },
                _,
            ) => (*attempt, *started_ms),
            (
                ItemState::OutcomeUnknown {
                    attempt, since_ms, ..
                },
                Outcome::Ok { .. },
            ) => (*attempt, *since_ms),
            (state, _) => {
                return Err(BatchError::WrongState {
                    item_id: item_id.to_string(),
                    state: state.name(),
                })
            }
        };
        let lane = self.item_lane(index);
        match outcome {
            Outcome::Ok { usage, latency_ms } => {
                let model = self.items[index].model.clone();
                let cost = self
                    .config
                    .pricing
                    .as_ref()
                    .map_or(Cost::ZERO, |p| p.usage_cost(&model, &usage));
                self.items[index].state = ItemState::Done {
                    usage,
                    cost,
                    latency_ms,
                    model,
                };
                self.lanes[lane].limiter.on_success(&self.config.limiter);
                self.lanes[lane].failure_streak = 0;
            }
            Outcome::Err {
                error,
                retry_after_ms,
                ..
            } => self.on_error(
                index,
                lane,
                now_ms,
                attempt,
                started_ms,
                error,
                retry_after_ms,
            ),
        }
        self.settle();
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn on_error(
        &mut self,
        index: usize,
        lane: usize,
        now_ms: f64,
        attempt: u32,
        started_ms: f64,
        error: ApiError,
        retry_after_ms: Option<u64>,
    ) {
        let retry = self.config.retry;
        let class = classify(&error);
        self.items[index].last_error = Some(error.clone());
        match class {
            FailureClass::RateLimited {
                retry_after_ms: from_error,
            } => {
                let delay = retry.capped_retry_after(from_error.or(retry_after_ms));
                let rand01 = self.rng.next_f64();
                let limiter = &mut self.lanes[lane].limiter;
                let lowered = limiter.on_rate_limited(
                    now_ms,
                    started_ms,
                    delay,
                    rand01,
                    &self.config.limiter,
                );
                let (paused_until_ms, rate_factor) = (limiter.paused_until_ms, limiter.rate_factor);
                if lowered {
                    self.events.push(BatchEvent::LaneThrottled {
                        lane: self.lanes[lane].lane.clone(),
                        model: self.lanes[lane].model.clone(),
                        at_ms: now_ms,
                        paused_until_ms,
                        rate_factor,
                    });
                }
                let item = &mut self.items[index];
                item.rate_limited += 1;
                item.state = if item.rate_limited > retry.max_rate_limited {
                    failed(error, None)
                } else {
                    ItemState::Waiting {
                        until_ms: paused_until_ms.max(now_ms),
                        attempt: attempt + 1,
                    }
                };
            }
            FailureClass::Stop(reason) => {
                // Nothing was generated: the item waits in the queue for the batch to resume.
                self.items[index].state = ItemState::Queued;
                self.stop(reason, now_ms);
            }
            FailureClass::Transient => {
                self.items[index].model_failures += 1;
                self.lanes[lane].failure_streak += 1;
                let failures = self.items[index].model_failures;
                let out_of_attempts = failures >= retry.max_attempts.max(1);
                if (failures >= self.config.fallback.after_failures.max(1) || out_of_attempts)
                    && self.switch_model(index, now_ms, FallbackReason::ItemFailures)
                {
                    self.items[index].state = ItemState::Queued;
                } else if out_of_attempts {
                    self.items[index].state = failed(error, None);
                } else {
                    let backoff = retry.backoff_ms(failures, self.rng.next_f64());
                    let asked = retry
                        .capped_retry_after(retry_after_ms)
                        .map_or(0.0, |ms| ms as f64);
                    self.items[index].state = ItemState::Waiting {
                        until_ms: now_ms + backoff.max(asked),
                        attempt: attempt + 1,
                    };
                }
                if self.lanes[lane].failure_streak == self.config.fallback.lane_after_failures {
                    self.switch_lane(lane, now_ms);
                }
            }
            FailureClass::ModelUnavailable => {
                self.items[index].state =
                    if self.switch_model(index, now_ms, FallbackReason::ModelUnavailable) {
                        ItemState::Queued
                    } else {
                        failed(error, None)
                    };
            }
            FailureClass::Unknown => {
                // The answer came back, so its ledger entry records it at its worst case.
                self.items[index].state = ItemState::OutcomeUnknown {
                    since_ms: now_ms,
                    attempt,
                    recorded: true,
                };
            }
            FailureClass::Permanent => self.items[index].state = failed(error, None),
        }
    }

    /// Moves an item to its next fallback model (and on, while that model's lane is failing),
    /// logging each switch. Returns false when it has no fallback left.
    fn switch_model(&mut self, index: usize, now_ms: f64, reason: FallbackReason) -> bool {
        let mut switched = false;
        loop {
            let before = self.items[index].clone();
            let Some((from, to)) = self.items[index].switch_to_fallback() else {
                return switched;
            };
            switched = true;
            let cost_delta = self.config.pricing.as_ref().and_then(|p| {
                let to_cost = p.worst_case(&self.items[index], &to)?;
                let from_cost = p.worst_case(&before, &from)?;
                Some(to_cost - from_cost)
            });
            self.events.push(BatchEvent::FallbackSwitched {
                item_id: self.items[index].id.clone(),
                from,
                to,
                at_ms: now_ms,
                reason,
                cost_delta,
            });
            let lane = self.item_lane(index);
            let broken =
                self.lanes[lane].failure_streak >= self.config.fallback.lane_after_failures.max(1);
            if !broken {
                return true;
            }
        }
    }

    /// A lane reached its failure threshold: every queued or waiting item on it with a
    /// fallback moves on.
    fn switch_lane(&mut self, lane: usize, now_ms: f64) {
        let (name, model) = (
            self.lanes[lane].lane.clone(),
            self.lanes[lane].model.clone(),
        );
        for index in 0..self.items.len() {
            let item = &self.items[index];
            let waiting = matches!(item.state, ItemState::Queued | ItemState::Waiting { .. });
            if waiting
                && item.lane == name
                && item.model == model
                && self.switch_model(index, now_ms, FallbackReason::LaneFailures)
            {
                self.items[index].state = ItemState::Queued;
            }
        }
    }

    /// Records the rate-limit headers of an answer to `item_id` on the item's lane.
    pub fn observe_headers(
        &mut self,
        item_id: &str,
        headers: &RateLimitHeaders,
        now_ms: f64,
    ) -> Result<(), BatchError> {
        let index = self.position(item_id)?;
        let lane = self.item_lane(index);
        self.lanes[lane]
            .limiter
            .update_from_headers(headers, now_ms);
        Ok(())
    }

    /// Pauses dispatch (requests in flight still finish). Returns false when not running.
    pub fn pause(&mut self) -> bool {
        let running = self.status == BatchStatus::Running;
        if running {
            self.status = BatchStatus::Paused;
        }
        running
    }

    /// Resumes a paused or stopped batch (after the user fixed the stop's cause). Returns false
    /// when it was neither.
    pub fn resume(&mut self) -> bool {
        let resumable = matches!(
            self.status,
            BatchStatus::Paused | BatchStatus::Stopped { .. }
        );
        if resumable {
            self.status = BatchStatus::Running;
            self.settle();
        }
        resumable
    }

    /// Cancels the batch for good: nothing more is sent. Items waiting go back to the queue;
    /// answers to requests in flight are still recorded.
    pub fn cancel(&mut self) {
        self.status = BatchStatus::Cancelled;
        self.requeue_waiting();
    }

    /// Queues every failed item again, with fresh attempt counts, and returns how many. A
    /// finished batch runs again; a cancelled one does not change.
    pub fn retry_failed(&mut self) -> usize {
        if self.status == BatchStatus::Cancelled {
            return 0;
        }
        let mut count = 0;
        for item in &mut self.items {
            if matches!(item.state, ItemState::Failed { .. }) {
                item.state = ItemState::Queued;
                item.model_failures = 0;
                item.rate_limited = 0;
                count += 1;
            }
        }
        self.reopen_if_finished(count);
        count
    }

    /// After a reload: every item marked running was in flight when the tab closed, so its
    /// outcome is unknown. They are never resent without [`Self::resend_unknown`]. Returns
    /// their ids.
    pub fn recover_after_crash(&mut self, now_ms: f64) -> Vec<String> {
        let mut ids = Vec::new();
        for item in &mut self.items {
            if let ItemState::Running { attempt, .. } = item.state {
                item.state = ItemState::OutcomeUnknown {
                    since_ms: now_ms,
                    attempt,
                    recorded: false,
                };
                ids.push(item.id.clone());
            }
        }
        if !ids.is_empty() {
            self.events.push(BatchEvent::Recovered {
                at_ms: now_ms,
                unknown_items: ids.clone(),
            });
        }
        self.settle();
        ids
    }

    /// The user's consent to send these unknown-outcome items again (each resend may be
    /// billed a second time). Nothing changes if any of them is not of unknown outcome.
    pub fn resend_unknown<S: AsRef<str>>(&mut self, item_ids: &[S]) -> Result<usize, BatchError> {
        let indices = self.unknown_indices(item_ids)?;
        for &index in &indices {
            // The attempt given up on stays spent at its worst case, as its ledger entry says.
            let spent = self.unknown_worst_case(index);
            let item = &mut self.items[index];
            item.unknown_spent += spent;
            item.state = ItemState::Queued;
        }
        self.reopen_if_finished(indices.len());
        Ok(indices.len())
    }

    /// The user found an unknown-outcome item answered (in the provider's logs, say): it is
    /// done, with the usage found or, when `None`, its worst case flagged as estimated.
    pub fn mark_unknown_done(
        &mut self,
        item_id: &str,
        usage: Option<Usage>,
    ) -> Result<(), BatchError> {
        let index = self.unknown_indices(&[item_id])?[0];
        let item = &self.items[index];
        let usage = usage.unwrap_or_else(|| {
            Usage::estimated(item.estimated_input_tokens, item.max_output_tokens)
        });
        let model = item.model.clone();
        let cost = self
            .config
            .pricing
            .as_ref()
            .map_or(Cost::ZERO, |p| p.usage_cost(&model, &usage));
        self.items[index].state = ItemState::Done {
            usage,
            cost,
            latency_ms: 0.0,
            model,
        };
        self.settle();
        Ok(())
    }

    /// The user decided an unknown-outcome item failed.
    pub fn mark_unknown_failed(&mut self, item_id: &str) -> Result<(), BatchError> {
        let index = self.unknown_indices(&[item_id])?[0];
        let billed = self.unknown_worst_case(index);
        self.items[index].state = ItemState::Failed {
            failure: ItemFailure::MarkedFailed,
            billed: (billed != Cost::ZERO).then_some(billed),
        };
        self.settle();
        Ok(())
    }

    /// The worst case of item `index`'s unknown-outcome attempt when its ledger entry records
    /// it (else zero: nothing recorded it, and it is no longer at risk once resent).
    fn unknown_worst_case(&self, index: usize) -> Cost {
        let item = &self.items[index];
        match (&item.state, &self.config.pricing) {
            (ItemState::OutcomeUnknown { recorded: true, .. }, Some(pricing)) => {
                pricing.worst_case(item, &item.model).unwrap_or(Cost::ZERO)
            }
            _ => Cost::ZERO,
        }
    }

    fn unknown_indices<S: AsRef<str>>(&self, item_ids: &[S]) -> Result<Vec<usize>, BatchError> {
        item_ids
            .iter()
            .map(|id| {
                let index = self.position(id.as_ref())?;
                match &self.items[index].state {
                    ItemState::OutcomeUnknown { .. } => Ok(index),
                    state => Err(BatchError::WrongState {
                        item_id: id.as_ref().to_string(),
                        state: state.name(),
                    }),
                }
            })
            .collect()
    }

    /// Sets (or removes) the batch budget. A batch stopped by its budget resumes with
    /// [`Self::resume`].
    pub fn set_budget(&mut self, budget: Option<Money>) {
        self.config.budget = budget;
    }

    /// Sets (or removes) the project's remaining budget.
    pub fn set_project_remaining(&mut self, remaining: Option<Money>) {
        self.config.project_remaining = remaining;
    }

    /// Items per state.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            total: self.items.len(),
            ..Counts::default()
        };
        for item in &self.items {
            match item.state {
                ItemState::Queued => counts.queued += 1,
                ItemState::Waiting { .. } => {
                    counts.queued += 1;
                    counts.waiting += 1;
                }
                ItemState::Running { .. } => counts.running += 1,
                ItemState::Done { .. } => counts.done += 1,
                ItemState::Failed { .. } => counts.failed += 1,
                ItemState::OutcomeUnknown { .. } => counts.unknown += 1,
            }
        }
        counts
    }

    /// Spent so far, as the ledger records it: answered items, billed failures, and every
    /// attempt of unknown outcome whose answer came back, at its worst case.
    pub fn spent(&self) -> Cost {
        self.items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let now = match &item.state {
                    ItemState::Done { cost, .. } => *cost,
                    ItemState::Failed {
                        billed: Some(cost), ..
                    } => *cost,
                    ItemState::OutcomeUnknown { recorded: true, .. } => {
                        self.unknown_worst_case(index)
                    }
                    _ => Cost::ZERO,
                };
                now + item.unknown_spent
            })
            .sum()
    }

    /// What the budget counts as used: spent, plus the worst case of every request in flight
    /// or of unknown outcome that nothing recorded yet (either may have been billed).
    pub fn committed(&self) -> Cost {
        let Some(pricing) = &self.config.pricing else {
            return self.spent();
        };
        let at_risk: Cost = self
            .items
            .iter()
            .filter(|item| {
                matches!(
                    item.state,
                    ItemState::Running { .. }
                        | ItemState::OutcomeUnknown {
                            recorded: false,
                            ..
                        }
                )
            })
            .filter_map(|item| pricing.worst_case(item, &item.model))
            .sum();
        self.spent() + at_risk
    }

    /// What the batch has at risk in `currency`: the worst case of its requests in flight or of
    /// unknown outcome not yet in the ledger (sent, not recorded yet).
    pub fn at_risk(&self, currency: Currency) -> Money {
        self.committed().in_currency(currency) - self.spent().in_currency(currency)
    }

    /// Checks that sending item `index` keeps `committed` plus its worst case within every
    /// budget; returns that worst case.
    fn check_budget(&self, index: usize, committed: Cost) -> Result<Cost, StopReason> {
        let limits: Vec<(Money, bool)> = [
            self.config.budget.map(|m| (m, false)),
            self.config.project_remaining.map(|m| (m, true)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if limits.is_empty() {
            return Ok(Cost::ZERO);
        }
        let item = &self.items[index];
        let unpriced = || StopReason::Unpriced {
            model: item.model.clone(),
        };
        let worst = self
            .config
            .pricing
            .as_ref()
            .ok_or_else(unpriced)?
            .worst_case(item, &item.model)
            .ok_or_else(unpriced)?;
        for (limit, project) in limits {
            let currency = limit.currency();
            let (used, next) = (committed.in_currency(currency), worst.in_currency(currency));
            if used + next > limit {
                return Err(StopReason::BudgetReached {
                    limit,
                    committed: used,
                    next_item: next,
                    project,
                });
            }
        }
        Ok(worst)
    }

    /// The progress bar's figures at `now_ms`.
    pub fn progress(&self, now_ms: f64) -> Progress {
        let counts = self.counts();
        let sent_last_minute: usize = self
            .lanes
            .iter()
            .map(|l| l.limiter.sent_within(now_ms, MINUTE_MS))
            .sum();
        let window = self.first_send_ms.map_or(MINUTE_MS, |first| {
            (now_ms - first).clamp(SECOND_MS, MINUTE_MS)
        });
        let mut limit_rpm = Some(0.0);
        for lane in self.lanes.iter().filter(|lane| self.has_work(lane)) {
            limit_rpm = match (limit_rpm, lane.limiter.effective_rpm()) {
                (Some(sum), Some(rpm)) => Some(sum + rpm),
                _ => None,
            };
        }
        Progress {
            counts,
            status: self.status.clone(),
            sent_last_minute,
            rate_rpm: sent_last_minute as f64 * MINUTE_MS / window,
            limit_rpm,
            eta_ms: self.eta_ms(now_ms),
            spent: self.spent(),
            rate_limited: self
                .lanes
                .iter()
                .map(|l| l.limiter.rate_limited_total)
                .sum(),
        }
    }

    fn has_work(&self, lane: &Lane) -> bool {
        self.items.iter().any(|item| {
            item.lane == lane.lane
                && item.model == lane.model
                && matches!(
                    item.state,
                    ItemState::Queued | ItemState::Waiting { .. } | ItemState::Running { .. }
                )
        })
    }

    /// The ETA: per lane, the queued items at the lane's rate (its limiter's, or its
    /// concurrency over the mean latency, whichever is slower) after any pause, plus one
    /// latency for the last answer; the slowest lane decides. Zero for a lane with neither a
    /// limit nor a known latency.
    fn eta_ms(&self, now_ms: f64) -> Option<f64> {
        if !matches!(self.status, BatchStatus::Running | BatchStatus::Finished) {
            return None;
        }
        let latencies: Vec<f64> = self
            .items
            .iter()
            .filter_map(|item| match item.state {
                ItemState::Done { latency_ms, .. } if latency_ms > 0.0 => Some(latency_ms),
                _ => None,
            })
            .collect();
        // Before the first answer the latency is unknown: the limiter's rate alone decides.
        let latency =
            (!latencies.is_empty()).then(|| latencies.iter().sum::<f64>() / latencies.len() as f64);
        let mut eta: f64 = 0.0;
        for lane in &self.lanes {
            let mut queued = 0usize;
            let mut running = 0usize;
            let mut waits: f64 = 0.0;
            for item in self
                .items
                .iter()
                .filter(|i| i.lane == lane.lane && i.model == lane.model)
            {
                match item.state {
                    ItemState::Queued => queued += 1,
                    ItemState::Waiting { until_ms, .. } => {
                        queued += 1;
                        waits = waits.max(until_ms - now_ms);
                    }
                    ItemState::Running { .. } => running += 1,
                    _ => {}
                }
            }
            if queued + running == 0 {
                continue;
            }
            let concurrency_rate =
                latency.map(|latency| f64::from(lane.limiter.max_concurrency()) / latency);
            let limiter_rate = lane.limiter.effective_rpm().map(|rpm| rpm / MINUTE_MS);
            let per_ms = match (limiter_rate, concurrency_rate) {
                (Some(a), Some(b)) => a.min(b),
                (Some(rate), None) | (None, Some(rate)) => rate,
                (None, None) => f64::INFINITY,
            };
            let pause = (lane.limiter.paused_until_ms - now_ms).max(0.0);
            let lane_eta = (pause + queued as f64 / per_ms).max(waits) + latency.unwrap_or(0.0);
            eta = eta.max(lane_eta);
        }
        Some(eta)
    }

    /// Requests in flight per lane (indexed like `lanes`).
    fn running_per_lane(&self) -> Vec<usize> {
        let mut running = vec![0; self.lanes.len()];
        for item in &self.items {
            if matches!(item.state, ItemState::Running { .. }) {
                if let Some(lane) = self
                    .lanes
                    .iter()
                    .position(|l| l.lane == item.lane && l.model == item.model)
                {
                    running[lane] += 1;
                }
            }
        }
        running
    }

    fn wake_waiting(&mut self, now_ms: f64) {
        let horizon = self.longest_wait_ms();
        for item in &mut self.items {
            if let ItemState::Waiting { until_ms, attempt } = item.state {
                if until_ms <= now_ms {
                    item.state = ItemState::Queued;
                } else if until_ms > now_ms + horizon {
                    // Set before the clock went back: no wait is that long.
                    item.state = ItemState::Waiting {
                        until_ms: now_ms + horizon,
                        attempt,
                    };
                }
            }
        }
    }

    /// The longest an item may legitimately wait: twice the longest backoff, `retry-after` or
    /// rate window. A wait that ends later was set before the wall clock went back, and is cut
    /// to this.
    fn longest_wait_ms(&self) -> f64 {
        let retry = &self.config.retry;
        2.0 * (retry.cap_ms.max(retry.retry_after_cap_ms) as f64).max(MINUTE_MS)
    }

    fn requeue_waiting(&mut self) {
        for item in &mut self.items {
            if matches!(item.state, ItemState::Waiting { .. }) {
                item.state = ItemState::Queued;
            }
        }
    }

    /// Stops dispatch (unless cancelled or already stopped) and logs why.
    fn stop(&mut self, reason: StopReason, now_ms: f64) {
        if matches!(
            self.status,
            BatchStatus::Cancelled | BatchStatus::Stopped { .. }
        ) {
            return;
        }
        self.status = BatchStatus::Stopped {
            reason: reason.clone(),
        };
        self.events.push(BatchEvent::Stopped {
            reason,
            at_ms: now_ms,
        });
        self.requeue_waiting();
    }

    fn reopen_if_finished(&mut self, reopened: usize) {
        if reopened > 0 && self.status == BatchStatus::Finished {
            self.status = BatchStatus::Running;
        }
    }

    /// A running batch with nothing queued, waiting or in flight is finished.
    fn settle(&mut self) {
        if self.status == BatchStatus::Running
            && self.items.iter().all(|item| item.state.is_final())
        {
            self.status = BatchStatus::Finished;
        }
    }
}

fn failed(error: ApiError, billed: Option<Cost>) -> ItemState {
    ItemState::Failed {
        failure: ItemFailure::Api { error },
        billed,
    }
}
