//! The usage ledger: one record per API call, priced when it is written, and the totals and
//! CSV export built from those records.
//!
//! A [`LedgerEntry`] is what the studio keeps about a call: when, through which connection, on
//! which model and for which task and project, the tokens (billed, or estimated and flagged when
//! a stream was cut or the relay reported no usage), the latency, the outcome, and the cost in
//! dollars and yuan under the connection's profile. The cost is computed once, by
//! [`LedgerEntry::priced`], from the price catalog as it was at the time of the call, so a later
//! price edit does not rewrite history. The entry never holds the API key: it is built from a
//! [`Connection`], which has no key field.
//!
//! Costs are stored exactly, in the 10⁻¹⁸ grid units of [`Money`], so totals over thousands of
//! tiny calls add up without drift and are rounded once, when shown.
//!
//! ```
//! use duanju_studio::domain::provider::chat::Usage;
//! use duanju_studio::domain::provider::connection::{Connection, Preset};
//! use duanju_studio::domain::i18n::Lang;
//! use duanju_studio::domain::cost::ledger::{grand_total, CallSummary, LedgerEntry};
//! use duanju_studio::domain::cost::pricing::PriceSet;
//! use duanju_studio::domain::cost::profile::Profile;
//!
//! let connection = Connection::from_preset("c1", Preset::OpenAi, Profile::OFFICIAL, Lang::En);
//! let usage = Usage { prompt: 1_000, completion: 500, total: 1_500, ..Usage::default() };
//! let call = CallSummary {
//!     usage: Some(&usage),
//!     ..CallSummary::new(1_767_225_600_000.0, &connection, "gpt-4.1", "character_voice")
//! };
//! let official = Profile::defaults().remove(1);
//! let entry = LedgerEntry::priced(&call, &PriceSet::list(), &official);
//! assert_eq!(entry.day, "2026-01-01");
//! // 1,000 × $2/MTok + 500 × $8/MTok = $0.006, which is ¥0.0438 at ¥7.3.
//! assert_eq!(entry.cost().usd.micros(), 6_000);
//! assert_eq!(grand_total(&[entry]).cost_cny.micros(), 43_800);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::cost::money::{format_decimal, Currency, Money};
use crate::domain::cost::pricing::{PriceSet, Resolution, Usage as PricedUsage};
use crate::domain::cost::profile::{Cost, Profile};
use crate::domain::encoding::csv::{csv_row, BOM};
use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::chat::Usage;
use crate::domain::provider::connection::Connection;

/// The outcome recorded for a call that succeeded.
pub const OUTCOME_OK: &str = "ok";

/// Milliseconds in one day.
const MS_PER_DAY: f64 = 86_400_000.0;

/// One API call as the ledger keeps it. Serialized as JSON into the IndexedDB `ledger` store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// When the call was made, in Unix milliseconds.
    pub at_ms: f64,
    /// The UTC calendar day of `at_ms`, `YYYY-MM-DD` (see [`day_of`]).
    pub day: String,
    /// The connection's id.
    pub connection_id: String,
    /// The connection's name, as it was at the time of the call.
    pub connection_name: String,
    /// The connection's base URL (never holds a key: a base URL may not have a query).
    pub base_url: String,
    /// The model that was requested (the name the price catalog knows).
    pub model: String,
    /// The route's task name (`script_draft`, `storyboard`…).
    pub task: String,
    /// The project the call was made for, if any.
    #[serde(default)]
    pub project: Option<String>,
    /// Prompt tokens, cached ones included.
    pub prompt_tokens: u64,
    /// The part of `prompt_tokens` served from the prompt cache.
    pub cached_tokens: u64,
    /// The part of `prompt_tokens` written to the prompt cache (Anthropic's
    /// `cache_creation_input_tokens`), billed at the cache-write price.
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Completion tokens, reasoning included.
    pub completion_tokens: u64,
    /// The part of `completion_tokens` spent on hidden reasoning.
    pub reasoning_tokens: u64,
    /// Total tokens as reported (normally prompt + completion).
    pub total_tokens: u64,
    /// True when the token counts are our estimate, not the provider's.
    pub estimated: bool,
    /// How long the call took, in milliseconds.
    pub latency_ms: f64,
    /// The cost in dollars, exactly, in 10⁻¹⁸ dollars (see [`Money::from_units`]).
    pub cost_usd_units: i128,
    /// The cost in yuan, exactly, in 10⁻¹⁸ yuan.
    pub cost_cny_units: i128,
    /// True when the catalog had no price (or only part of the prices) for the model: the
    /// missing part is counted as zero.
    #[serde(default)]
    pub unpriced: bool,
    /// The profile the cost was computed under.
    #[serde(default)]
    pub profile_id: String,
    /// The price set the cost was computed from.
    #[serde(default)]
    pub price_set: String,
    /// [`OUTCOME_OK`], or the error's kind (`rate_limited`, `stream_cut`…, see
    /// [`ApiError::kind`]).
    pub outcome: String,
    /// A remark such as "fallback from deepseek-v3.2 to gpt-4.1".
    #[serde(default)]
    pub note: Option<String>,
    /// True when the call's outcome is unknown (a timeout, a reply lost or cut after the
    /// provider began): its tokens and cost are the worst case (the whole prompt and every
    /// `max_tokens`), so the spend shown is never below what the provider may have billed.
    #[serde(default)]
    pub worst_case: bool,
    /// Set when the reply stated its own cost (OpenRouter's `usage.cost`): the cost above is the
    /// stated one, and this is what the price set computed for the same usage, in 10⁻¹⁸
    /// dollars, so the difference can be shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed_usd_units: Option<i128>,
}

/// A stated cost in dollars as an exact amount: the float's shortest decimal text, to the
/// grid's 18 decimals. None for a negative, non-finite or absurd (≥ $1,000,000) figure.
fn stated_usd(value: f64) -> Option<Money> {
    if !(0.0..1_000_000.0).contains(&value) {
        return None;
    }
    let text = crate::domain::cost::money::float_text(value)?;
    let (units, _) = crate::domain::cost::money::parse_decimal_rounded(&text, 18).ok()?;
    Some(Money::from_units(Currency::Usd, units))
}

/// What the caller knows about one finished call, to be priced into a [`LedgerEntry`].
#[derive(Clone, Copy, Debug)]
pub struct CallSummary<'a> {
    /// When the call was made, in Unix milliseconds.
    pub at_ms: f64,
    /// The connection it went through.
    pub connection: &'a Connection,
    /// The model that was requested.
    pub model: &'a str,
    /// The route's task name.
    pub task: &'a str,
    /// The project, if any.
    pub project: Option<&'a str>,
    /// The billed or estimated usage; `None` when nothing was generated (a 429, a refused key).
    pub usage: Option<&'a Usage>,
    /// How long the call took, in milliseconds.
    pub latency_ms: f64,
    /// The error, when the call failed.
    pub error: Option<&'a ApiError>,
    /// A remark to keep with the entry.
    pub note: Option<&'a str>,
    /// For a video job: the clip's seconds and resolution (priced per second or per clip at
    /// that resolution, instead of per token).
    pub clip: Option<(u32, Resolution)>,
    /// True when `usage` is the worst case of a call of unknown outcome.
    pub worst_case: bool,
}

impl<'a> CallSummary<'a> {
    /// A successful call with no usage, no project, no latency and no note yet; fill the rest
    /// with struct update syntax.
    pub fn new(
        at_ms: f64,
        connection: &'a Connection,
        model: &'a str,
        task: &'a str,
    ) -> CallSummary<'a> {
        CallSummary {
            at_ms,
            connection,
            model,
            task,
            project: None,
            usage: None,
            latency_ms: 0.0,
            error: None,
            note: None,
            clip: None,
            worst_case: false,
        }
    }
}

impl LedgerEntry {
    /// The entry's tokens as a [`Usage`] (what was billed, or estimated and flagged).
    pub fn usage(&self) -> Usage {
        Usage {
            prompt: self.prompt_tokens,
            cached: self.cached_tokens,
            cache_write: self.cache_write_tokens,
            completion: self.completion_tokens,
            reasoning: self.reasoning_tokens,
            total: self.total_tokens,
            estimated: self.estimated,
            ..Usage::default()
        }
    }

    /// Records `call`, priced with `prices` (the price set of `profile`) and converted under
    /// `profile`'s exchange rate and markup. Cached prompt tokens are billed at the cached price,
    /// never also at the input price. A model the catalog does not know costs zero and is
    /// flagged [`LedgerEntry::unpriced`].
    pub fn priced(call: &CallSummary<'_>, prices: &PriceSet, profile: &Profile) -> LedgerEntry {
        let usage = call.usage.cloned().unwrap_or_default();
        let (cost, unpriced) = match prices.get(call.model) {
            Some(price) => {
                let priced = match call.clip {
                    Some((seconds, resolution)) => PricedUsage {
                        clips: 1,
                        seconds_per_clip: u64::from(seconds),
                        resolution,
                        ..PricedUsage::default()
                    },
                    None => PricedUsage {
                        input_tokens: usage.prompt,
                        cached_input_tokens: usage.cached,
                        cache_write_tokens: usage.cache_write,
                        output_tokens: usage.completion,
                        requests: 1,
                        ..PricedUsage::default()
                    },
                };
                let (amount, missing) = price.cost_of(&priced);
                (profile.cost_of(amount), !missing.is_empty())
            }
            None => (Cost::ZERO, true),
        };
        // The provider's own figure is what it billed: it wins over ours (no markup is added
        // to it: a stated cost already holds the route's fee), and ours is kept beside it.
        let stated = usage
            .reported_cost_usd
            .filter(|_| !usage.estimated && !call.worst_case)
            .and_then(stated_usd);
        let (cost, unpriced, computed_usd_units) = match stated {
            Some(usd) => (
                Cost {
                    usd,
                    cny: profile.exchange_rate.to_cny(usd),
                },
                false,
                Some(cost.usd.units()),
            ),
            None => (cost, unpriced, None),
        };
        LedgerEntry {
            at_ms: call.at_ms,
            day: day_of(call.at_ms),
            connection_id: call.connection.id.clone(),
            connection_name: call.connection.name.clone(),
            base_url: call.connection.base_url.clone(),
            model: call.model.to_string(),
            task: call.task.to_string(),
            project: call.project.map(str::to_string),
            prompt_tokens: usage.prompt,
            cached_tokens: usage.cached,
            cache_write_tokens: usage.cache_write,
            completion_tokens: usage.completion,
            reasoning_tokens: usage.reasoning,
            total_tokens: usage.total,
            estimated: usage.estimated,
            latency_ms: call.latency_ms,
            cost_usd_units: cost.usd.units(),
            cost_cny_units: cost.cny.units(),
            unpriced,
            profile_id: profile.id.clone(),
            price_set: prices.id.clone(),
            outcome: call.error.map_or(OUTCOME_OK, ApiError::kind).to_string(),
            note: call.note.map(str::to_string),
            worst_case: call.worst_case,
            computed_usd_units,
        }
    }

    /// For a call whose reply stated its cost: stated − computed, in dollars (positive when the
    /// provider billed more than the price set says).
    pub fn stated_difference(&self) -> Option<Money> {
        self.computed_usd_units
            .map(|computed| Money::from_units(Currency::Usd, self.cost_usd_units - computed))
    }

    /// The cost in both currencies.
    pub fn cost(&self) -> Cost {
        Cost {
            usd: Money::from_units(Currency::Usd, self.cost_usd_units),
            cny: Money::from_units(Currency::Cny, self.cost_cny_units),
        }
    }

    /// True when the call succeeded.
    pub fn is_ok(&self) -> bool {
        self.outcome == OUTCOME_OK
    }

    /// The value this entry has for `grouping` (empty for a call without a project).
    pub fn key(&self, grouping: Grouping) -> &str {
        match grouping {
            Grouping::Day => &self.day,
            Grouping::Project => self.project.as_deref().unwrap_or(""),
            Grouping::Task => &self.task,
            Grouping::Model => &self.model,
            Grouping::Connection => &self.connection_name,
        }
    }
}

/// What to total the ledger by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// By UTC calendar day.
    Day,
    /// By project (calls without one share the empty key).
    Project,
    /// By route task.
    Task,
    /// By requested model.
    Model,
    /// By connection name (spend per provider).
    Connection,
}

/// The sums over a group of entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerTotal {
    /// The group's key (a day, project, task, model or connection name); empty for the grand
    /// total and for calls without a project.
    pub key: String,
    /// Calls recorded, failed ones included.
    pub calls: u64,
    /// Calls that failed (their usage, if any, is still counted).
    pub failed_calls: u64,
    /// Calls whose usage is an estimate.
    pub estimated_calls: u64,
    /// Calls on a model the catalog could not (fully) price.
    pub unpriced_calls: u64,
    /// Prompt tokens, cached ones included.
    pub prompt: u64,
    /// Cached prompt tokens.
    pub cached: u64,
    /// Completion tokens.
    pub completion: u64,
    /// Total tokens.
    pub total_tokens: u64,
    /// The cost in dollars, exact (round it only to show it).
    pub cost_usd: Money,
    /// The cost in yuan, exact.
    pub cost_cny: Money,
}

impl LedgerTotal {
    /// An empty total under `key`.
    pub fn empty(key: impl Into<String>) -> LedgerTotal {
        LedgerTotal {
            key: key.into(),
            calls: 0,
            failed_calls: 0,
            estimated_calls: 0,
            unpriced_calls: 0,
            prompt: 0,
            cached: 0,
            completion: 0,
            total_tokens: 0,
            cost_usd: Money::zero(Currency::Usd),
            cost_cny: Money::zero(Currency::Cny),
        }
    }

    /// Adds one entry.
    pub fn add(&mut self, entry: &LedgerEntry) {
        let cost = entry.cost();
        self.calls += 1;
        self.failed_calls += u64::from(!entry.is_ok());
        self.estimated_calls += u64::from(entry.estimated);
        self.unpriced_calls += u64::from(entry.unpriced);
        self.prompt += entry.prompt_tokens;
        self.cached += entry.cached_tokens;
        self.completion += entry.completion_tokens;
        self.total_tokens += entry.total_tokens;
        self.cost_usd += cost.usd;
        self.cost_cny += cost.cny;
    }

    /// The cost in both currencies.
    pub fn cost(&self) -> Cost {
        Cost {
            usd: self.cost_usd,
            cny: self.cost_cny,
        }
    }
}

/// The totals of `entries` per group, ordered by key (days oldest first).
pub fn totals_by(entries: &[LedgerEntry], grouping: Grouping) -> Vec<LedgerTotal> {
    let mut groups: BTreeMap<&str, LedgerTotal> = BTreeMap::new();
    for entry in entries {
        let key = entry.key(grouping);
        groups
            .entry(key)
            .or_insert_with(|| LedgerTotal::empty(key))
            .add(entry);
    }
    groups.into_values().collect()
}

/// The totals of all `entries`, under the empty key.
pub fn grand_total(entries: &[LedgerEntry]) -> LedgerTotal {
    let mut total = LedgerTotal::empty("");
    for entry in entries {
        total.add(entry);
    }
    total
}

/// The ledger as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted when needed),
/// with a header row in `lang`. It starts with a UTF-8 byte-order mark so that spreadsheet
/// programs read the Chinese text correctly. Costs are written in dollars and yuan with six
/// decimals at most, times in UTC.
pub fn ledger_to_csv(entries: &[LedgerEntry], lang: Lang) -> String {
    let header: [(&str, &str); 19] = [
        ("时间（UTC）", "time_utc"),
        ("日期（UTC）", "day_utc"),
        ("连接", "connection"),
        ("Base URL", "base_url"),
        ("模型", "model"),
        ("任务", "task"),
        ("项目", "project"),
        ("输入 tokens", "prompt_tokens"),
        ("缓存命中 tokens", "cached_tokens"),
        ("输出 tokens", "completion_tokens"),
        ("推理 tokens", "reasoning_tokens"),
        ("合计 tokens", "total_tokens"),
        ("用量为估算", "estimated"),
        ("耗时（毫秒）", "latency_ms"),
        ("费用（USD）", "cost_usd"),
        ("费用（CNY）", "cost_cny"),
        ("未定价", "unpriced"),
        ("结果", "outcome"),
        ("备注", "note"),
    ];
    let yes_no = |flag: bool| {
        if flag {
            lang.pick("是", "yes")
        } else {
            lang.pick("否", "no")
        }
    };
    let mut out = String::from(BOM);
    out.push_str(&csv_row(header.iter().map(|(zh, en)| lang.pick(zh, en))));
    for entry in entries {
        let cost = entry.cost();
        let cells = [
            timestamp_utc(entry.at_ms),
            entry.day.clone(),
            entry.connection_name.clone(),
            entry.base_url.clone(),
            entry.model.clone(),
            entry.task.clone(),
            entry.project.clone().unwrap_or_default(),
            entry.prompt_tokens.to_string(),
            entry.cached_tokens.to_string(),
            entry.completion_tokens.to_string(),
            entry.reasoning_tokens.to_string(),
            entry.total_tokens.to_string(),
            yes_no(entry.estimated).to_string(),
            format!("{:.0}", entry.latency_ms.max(0.0)),
            format_decimal(cost.usd.micros(), 6),
            format_decimal(cost.cny.micros(), 6),
            yes_no(entry.unpriced).to_string(),
            entry.outcome.clone(),
            entry.note.clone().unwrap_or_default(),
        ];
        out.push_str(&csv_row(cells.iter().map(String::as_str)));
    }
    out
}

/// The UTC calendar day of a Unix time in milliseconds, `YYYY-MM-DD`. Times before 1970 work;
/// a time that is not a number counts as 1970-01-01.
pub fn day_of(at_ms: f64) -> String {
    let (year, month, day) = civil_from_days(days_since_epoch(at_ms));
    format!("{year:04}-{month:02}-{day:02}")
}

/// A Unix time in milliseconds as `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn timestamp_utc(at_ms: f64) -> String {
    let at_ms = if at_ms.is_finite() { at_ms } else { 0.0 };
    let days = days_since_epoch(at_ms);
    let second_of_day = ((at_ms - days as f64 * MS_PER_DAY) / 1000.0).floor() as i64;
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    format!("{} {hour:02}:{minute:02}:{second:02}", day_of(at_ms))
}

/// Whole days from 1970-01-01 to the UTC day containing `at_ms`.
fn days_since_epoch(at_ms: f64) -> i64 {
    if at_ms.is_finite() {
        (at_ms / MS_PER_DAY).floor() as i64
    } else {
        0
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`:
/// shift to eras of 400 years starting on 0000-03-01, so leap days fall at the end of a year).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::provider::chat::Completion;
    use crate::domain::provider::connection::Preset;

    fn connection() -> Connection {
        Connection::from_preset("relay-1", Preset::HolySheep, Profile::RELAY, Lang::ZhCn)
    }

    fn official() -> Profile {
        Profile::defaults()
            .into_iter()
            .find(|p| p.id == Profile::OFFICIAL)
            .unwrap()
    }

    fn relay() -> Profile {
        Profile::defaults()
            .into_iter()
            .find(|p| p.id == Profile::RELAY)
            .unwrap()
    }

    /// 2026-03-01T08:30:00Z.
    const MARCH_FIRST: f64 = 1_772_353_800_000.0;

    fn entry(model: &str, task: &str, usage: &Usage, at_ms: f64) -> LedgerEntry {
        let connection = connection();
        let call = CallSummary {
            usage: Some(usage),
            latency_ms: 812.4,
            ..CallSummary::new(at_ms, &connection, model, task)
        };
        LedgerEntry::priced(&call, &PriceSet::list(), &official())
    }

    fn usage(prompt: u64, cached: u64, completion: u64) -> Usage {
        Usage {
            prompt,
            cached,
            completion,
            total: prompt + completion,
            ..Usage::default()
        }
    }

    #[test]
    fn cached_tokens_are_billed_once_at_the_cached_price() {
        // Claude list prices: $3 input, $0.30 cache read, $15 output per million tokens.
        // 600 × $3 + 400 × $0.30 + 200 × $15 = $0.0018 + $0.00012 + $0.003 = $0.00492.
        let entry = entry(
            "claude-sonnet-4.5",
            "dialogue_emotion",
            &usage(1_000, 400, 200),
            MARCH_FIRST,
        );
        assert_eq!(entry.cost().usd.micros(), 4_920);
        assert_eq!(entry.cost_usd_units, 4_920 * 1_000_000_000_000);
        // ¥7.3 per $1: ¥0.035916, exactly.
        assert_eq!(entry.cost().cny.micros(), 35_916);
        assert_eq!(entry.cost_cny_units, 35_916 * 1_000_000_000_000);
        assert!(!entry.unpriced && !entry.estimated && entry.is_ok());
        assert_eq!(entry.day, "2026-03-01");
        assert_eq!(
            (
                entry.prompt_tokens,
                entry.cached_tokens,
                entry.completion_tokens
            ),
            (1_000, 400, 200)
        );
        assert_eq!(entry.profile_id, Profile::OFFICIAL);
        assert_eq!(entry.price_set, "list");
        // Without the cache the same prompt costs 1,000 × $3.
        let uncached = self::entry("claude-sonnet-4-5", "x", &usage(1_000, 0, 200), 0.0);
        assert_eq!(uncached.cost().usd.micros(), 6_000);
    }

    #[test]
    fn a_video_clip_is_priced_by_its_seconds_not_tokens() {
        let connection = connection();
        let call = CallSummary {
            clip: Some((8, Resolution::default())),
            project: Some("p1"),
            latency_ms: 42_000.0,
            ..CallSummary::new(MARCH_FIRST, &connection, "video-gen-2.1", "video")
        };
        // Seed 001: native_video (video-gen-2.1) at $0.05 per second: 8 s is $0.40.
        let entry = LedgerEntry::priced(&call, &PriceSet::seed(), &official());
        assert_eq!(entry.cost().usd.micros(), 400_000);
        assert!(!entry.unpriced);
        assert_eq!((entry.task.as_str(), entry.total_tokens), ("video", 0));
        assert_eq!(entry.project.as_deref(), Some("p1"));
        // A chat model's tokens are not what a clip is billed on: no clip price, unpriced.
        let odd = CallSummary {
            clip: Some((8, Resolution::default())),
            ..CallSummary::new(MARCH_FIRST, &connection, "gpt-4.1", "video")
        };
        assert!(LedgerEntry::priced(&odd, &PriceSet::list(), &official()).unpriced);
    }

    #[test]
    fn relay_profile_bills_one_yuan_per_dollar() {
        let connection = connection();
        let big = usage(50_000_000, 0, 0);
        let call = CallSummary {
            usage: Some(&big),
            ..CallSummary::new(MARCH_FIRST, &connection, "deepseek-v3.2", "script_draft")
        };
        // S5 of the seeds, input side on blended prices: 50M × $0.42 = $21.00 = ¥21.00.
        let entry = LedgerEntry::priced(&call, &PriceSet::seed(), &relay());
        assert_eq!(entry.cost().usd.display(), "$21.00");
        assert_eq!(entry.cost().cny.display(), "¥21.00");
        // One output token on deepseek is 0.42 µ$: kept exactly, not rounded to a micro.
        let one = usage(0, 0, 1);
        let call = CallSummary {
            usage: Some(&one),
            ..call
        };
        let entry = LedgerEntry::priced(&call, &PriceSet::seed(), &relay());
        assert_eq!(entry.cost_usd_units, 420_000_000_000);
    }

    #[test]
    fn a_stated_cost_wins_and_the_difference_is_kept() {
        let connection = connection();
        // OpenRouter states $0.0000123 for 1,000 prompt and 200 completion tokens on Claude.
        let stated = Usage {
            reported_cost_usd: Some(0.0000123),
            ..usage(1_000, 0, 200)
        };
        let call = CallSummary {
            usage: Some(&stated),
            ..CallSummary::new(
                MARCH_FIRST,
                &connection,
                "claude-sonnet-4.5",
                "dialogue_emotion",
            )
        };
        let entry = LedgerEntry::priced(&call, &PriceSet::list(), &official());
        // The stated $0.0000123 exactly (1.23 × 10¹³ grid units), in ¥ at 7.3.
        assert_eq!(entry.cost_usd_units, 12_300_000_000_000);
        assert_eq!(entry.cost().cny.units(), 89_790_000_000_000);
        // Computed: 1,000 × $3 + 200 × $15 per million = $0.006.
        assert_eq!(entry.computed_usd_units, Some(6_000_000_000_000_000));
        assert_eq!(
            entry.stated_difference().unwrap().units(),
            12_300_000_000_000 - 6_000_000_000_000_000
        );
        // An estimated usage (a cut stream) states nothing the provider billed: ours stands.
        let guessed = Usage {
            estimated: true,
            ..stated.clone()
        };
        let call = CallSummary {
            usage: Some(&guessed),
            ..call
        };
        let entry = LedgerEntry::priced(&call, &PriceSet::list(), &official());
        assert_eq!(entry.computed_usd_units, None);
        assert_eq!(entry.cost_usd_units, 6_000_000_000_000_000);
        // A nonsense figure is ignored rather than believed.
        assert_eq!(stated_usd(-1.0), None);
        assert_eq!(stated_usd(f64::NAN), None);
    }

    #[test]
    fn unknown_models_cost_nothing_and_say_so() {
        let entry = entry("mystery-model", "x", &usage(1_000, 0, 1_000), MARCH_FIRST);
        assert!(entry.unpriced);
        assert!(entry.cost().usd.is_zero() && entry.cost().cny.is_zero());
        // A video model has no token prices: the tokens are unpriced too.
        let entry = self::entry("video-gen-2.1", "video", &usage(10, 0, 10), MARCH_FIRST);
        assert!(entry.unpriced);
    }

    #[test]
    fn failures_and_cut_streams() {
        let connection = connection();
        let rate_limited = ApiError::RateLimited {
            retry_after_ms: Some(1_000),
        };
        let call = CallSummary {
            error: Some(&rate_limited),
            note: Some("fallback from deepseek-v3.2 to gpt-4.1"),
            project: Some("霸总归来"),
            ..CallSummary::new(MARCH_FIRST, &connection, "gpt-4.1", "character_voice")
        };
        let entry = LedgerEntry::priced(&call, &PriceSet::list(), &official());
        assert_eq!(entry.outcome, "rate_limited");
        assert_eq!(entry.total_tokens, 0);
        assert!(entry.cost().usd.is_zero() && !entry.unpriced);
        assert_eq!(
            entry.note.as_deref(),
            Some("fallback from deepseek-v3.2 to gpt-4.1")
        );

        // A cut stream keeps the estimated usage of what arrived.
        let partial = Completion {
            content: "abcdefghij".into(),
            ..Completion::default()
        }
        .with_usage_or_estimate("deepseek-v3.2", 100);
        let cut = ApiError::StreamCut {
            partial: Box::new(partial.clone()),
        };
        let call = CallSummary {
            error: Some(&cut),
            usage: partial.usage.as_ref(),
            ..CallSummary::new(MARCH_FIRST, &connection, "deepseek-v3.2", "script_draft")
        };
        let entry = LedgerEntry::priced(&call, &PriceSet::list(), &official());
        assert_eq!(entry.outcome, "stream_cut");
        assert!(entry.estimated);
        assert_eq!((entry.prompt_tokens, entry.completion_tokens), (100, 3));
        // 100 × $0.28 + 3 × $0.42 per million = 29.26 µ$.
        assert_eq!(entry.cost_usd_units, 29_260_000_000_000);
    }

    #[test]
    fn entries_round_trip_through_json_without_a_key() {
        let entry = entry(
            "claude-sonnet-4.5",
            "dialogue_emotion",
            &usage(1_000, 400, 200),
            MARCH_FIRST,
        );
        let json = serde_json::to_string(&entry).unwrap();
        assert!(
            json.contains(r#""cost_usd_units":4920000000000000"#),
            "{json}"
        );
        assert!(!json.contains("sk-") && !json.contains("Bearer"), "{json}");
        assert_eq!(serde_json::from_str::<LedgerEntry>(&json).unwrap(), entry);
    }

    #[test]
    fn civil_days() {
        let cases = [
            (0.0, "1970-01-01 00:00:00"),
            (-1.0, "1969-12-31 23:59:59"),
            (951_782_400_000.0, "2000-02-29 00:00:00"),
            (951_868_799_999.0, "2000-02-29 23:59:59"),
            (1_700_000_000_000.0, "2023-11-14 22:13:20"),
            (MARCH_FIRST, "2026-03-01 08:30:00"),
            (4_107_542_400_000.0, "2100-03-01 00:00:00"),
            (-62_135_596_800_000.0, "0001-01-01 00:00:00"),
            (f64::NAN, "1970-01-01 00:00:00"),
        ];
        for (at_ms, expect) in cases {
            assert_eq!(timestamp_utc(at_ms), expect, "{at_ms}");
            assert_eq!(day_of(at_ms), expect[..10], "{at_ms}");
        }
        // Every day of four centuries follows the previous one.
        let mut previous = civil_from_days(-1);
        for days in 0..146_097 {
            let date = civil_from_days(days);
            let next_day = (previous.0, previous.1, previous.2 + 1);
            let next_month = (previous.0, previous.1 + 1, 1);
            let next_year = (previous.0 + 1, 1, 1);
            assert!(
                [next_day, next_month, next_year].contains(&date),
                "{previous:?} → {date:?}"
            );
            previous = date;
        }
        assert_eq!(previous, (2369, 12, 31));
    }

    fn sample_ledger() -> Vec<LedgerEntry> {
        let day = MS_PER_DAY;
        let mut entries = vec![
            entry(
                "gpt-4.1",
                "character_voice",
                &usage(1_000, 0, 500),
                MARCH_FIRST,
            ),
            entry(
                "claude-sonnet-4.5",
                "dialogue_emotion",
                &usage(1_000, 400, 200),
                MARCH_FIRST + 60_000.0,
            ),
            entry(
                "gpt-4.1",
                "character_voice",
                &usage(2_000, 1_000, 0),
                MARCH_FIRST + day,
            ),
        ];
        entries[0].project = Some("ep-01".into());
        entries[2].project = Some("ep-01".into());
        entries[2].estimated = true;
        entries
    }

    #[test]
    fn totals_group_and_add_up() {
        let entries = sample_ledger();
        let by_day = totals_by(&entries, Grouping::Day);
        assert_eq!(
            by_day.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
            ["2026-03-01", "2026-03-02"]
        );
        // 1,000 × $2 + 500 × $8 = 6,000 µ$, plus Claude's 4,920 µ$.
        assert_eq!(by_day[0].calls, 2);
        assert_eq!(by_day[0].cost_usd.micros(), 10_920);
        assert_eq!(by_day[0].prompt, 2_000);
        assert_eq!(by_day[0].cached, 400);
        // 1,000 × $2 + 1,000 cached × $0.50 = 2,500 µ$.
        assert_eq!(by_day[1].cost_usd.micros(), 2_500);
        assert_eq!(by_day[1].estimated_calls, 1);

        let by_model = totals_by(&entries, Grouping::Model);
        assert_eq!(by_model[0].key, "claude-sonnet-4.5");
        assert_eq!(by_model[1].key, "gpt-4.1");
        assert_eq!(by_model[1].calls, 2);
        assert_eq!(by_model[1].completion, 500);
        assert_eq!(by_model[1].total_tokens, 3_500);

        let by_project = totals_by(&entries, Grouping::Project);
        assert_eq!(by_project[0].key, "");
        assert_eq!(by_project[1].key, "ep-01");
        assert_eq!(by_project[1].cost_usd.micros(), 8_500);

        let by_task = totals_by(&entries, Grouping::Task);
        assert_eq!(by_task.len(), 2);
        assert_eq!(totals_by(&entries, Grouping::Connection).len(), 1);

        let total = grand_total(&entries);
        assert_eq!(total.calls, 3);
        assert_eq!(total.cost_usd.micros(), 13_420);
        // ¥7.3 × $0.01342 = ¥0.097966.
        assert_eq!(total.cost_cny.micros(), 97_966);
        assert_eq!(total.cost(), entries.iter().map(LedgerEntry::cost).sum());
        for grouping in [
            Grouping::Day,
            Grouping::Project,
            Grouping::Task,
            Grouping::Model,
        ] {
            let groups = totals_by(&entries, grouping);
            let calls: u64 = groups.iter().map(|t| t.calls).sum();
            let cost: Cost = groups.iter().map(LedgerTotal::cost).sum();
            assert_eq!((calls, cost), (total.calls, total.cost()), "{grouping:?}");
        }
        assert_eq!(grand_total(&[]), LedgerTotal::empty(""));
    }

    #[test]
    fn csv_export() {
        let mut entries = sample_ledger();
        entries[1].note = Some("=cmd|' /C calc'!A0, \"fallback\"".into());
        entries[1].outcome = "stream_cut".into();
        let csv = ledger_to_csv(&entries, Lang::En);
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert!(csv.starts_with('\u{feff}'));
        assert_eq!(lines.len(), 5, "{csv}");
        assert_eq!(lines[4], "");
        assert!(lines[0].starts_with("time_utc,day_utc,connection,base_url,model,task,project,"));
        assert_eq!(
            lines[1],
            "2026-03-01 08:30:00,2026-03-01,HolySheep 中转,https://api.holysheep.ai/v1,gpt-4.1,\
             character_voice,ep-01,1000,0,500,0,1500,no,812,0.006,0.0438,no,ok,"
        );
        assert_eq!(
            lines[2],
            "2026-03-01 08:31:00,2026-03-01,HolySheep 中转,https://api.holysheep.ai/v1,\
             claude-sonnet-4.5,dialogue_emotion,,1000,400,200,0,1200,no,812,0.00492,0.035916,no,\
             stream_cut,\"'=cmd|' /C calc'!A0, \"\"fallback\"\"\""
        );
        assert!(lines[3].contains(",yes,812,0.0025,"), "{}", lines[3]);
        let zh = ledger_to_csv(&entries, Lang::ZhCn);
        assert!(zh.contains("时间（UTC）,日期（UTC）,连接"), "{zh}");
        assert!(zh.contains(",是,812,"), "{zh}");
        assert_eq!(
            ledger_to_csv(&[], Lang::En).lines().count(),
            1,
            "only the header"
        );
    }
}
