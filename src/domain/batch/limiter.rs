//! Per-lane rate limiting: requests and tokens per minute, enforced the way providers enforce
//! them (per second), plus the lane's reaction to a rate-limit 429.
//!
//! A lane is one connection and one model. Its [`LaneLimiter`] admits a request only when all
//! of these hold:
//!
//! 1. **Pacing (GCRA).** Requests are spaced one emission interval apart (`60 000 / rpm` ms; 100 ms
//!    at 600 rpm), with a burst allowance of [`LimiterConfig::burst_ms`] of quota (half a second by
//!    default, never more than one second). Tokens are paced the same way, each request costing
//!    its estimated input tokens plus its `max_tokens`.
//! 2. **Per-second window.** At most `⌈rpm / 60⌉` requests (and `⌈tpm / 60⌉` tokens) in any
//!    sliding 1 s window: providers that quote per-minute limits enforce them per second, so a
//!    client must never burst a minute's quota.
//! 3. **Per-minute window.** At most `rpm` requests (and `tpm` tokens) in any sliding 60 s window.
//!
//! A request larger than the token allowance of one second (or one minute) could never fit; it
//! is admitted when the window is empty, like the sandbox's token bucket admits an oversized
//! request when the bucket is full.
//!
//! Why a burst of only half a second by default: a provider's token bucket holds one second of
//! quota. A client that spends it all at once and then paces at the full rate leaves the bucket
//! empty, so a request that arrives a millisecond early (network jitter) earns a 429. Spending
//! half keeps half a second of margin for jitter while still starting fast.
//!
//! A rate-limit 429 slows the whole lane: it pauses until the provider's `retry-after` (or a
//! jittered backoff when none is given) and multiplies the lane's rate by
//! [`LimiterConfig::throttle_factor`] (0.9). Each success then adds back
//! [`LimiterConfig::recover_per_success`] (1 %) until the configured rate is reached again
//! (additive increase, multiplicative decrease). Several 429s answering requests sent before the
//! last slowdown count as one: they report the same overload.
//!
//! When the browser can read the `x-ratelimit-*` headers, [`LaneLimiter::update_from_headers`]
//! tightens the limits to what the provider states; the limiter works without them.
//!
//! Every time is a Unix time in milliseconds supplied by the caller: nothing here reads a clock.
//!
//! **A clock that goes back.** The caller's clock is the wall clock (`Date.now()`), which the
//! user or the system may set back. The lane keeps its own time, which never goes back: the
//! latest time it was read or changed at. Every instant it keeps is measured in that time: the
//! sends and the last slowdown lie before it, the pause and the pacing's theoretical arrival
//! times at most their legitimate lead after it (a pause at most its capped `retry-after` or
//! backoff, a pacing debt at most what the last requests cost). When the caller's time reads
//! more than [`CLOCK_JUMP_TOLERANCE_MS`] earlier than the lane's, the clock went back by that
//! much: the lane counts on from its own time (reading it learns the jump), and its next
//! change moves every kept instant back by the jump, into the caller's time. Each wait thus
//! keeps the length it had when the jump was seen: a lane paused for 30 s waits at most 30 s
//! after the clock went back by an hour, never the hour. A clock that jumps forward only
//! shortens waits.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::domain::provider::ratelimit::RateLimitHeaders;

/// One minute in milliseconds.
pub const MINUTE_MS: f64 = 60_000.0;
/// One second in milliseconds.
pub const SECOND_MS: f64 = 1_000.0;
/// A clock read this much earlier than the lane's latest time counts as the clock going back
/// (see the module docs); smaller differences are ignored, since they lengthen a wait by less
/// than this.
pub const CLOCK_JUMP_TOLERANCE_MS: f64 = 1_000.0;

/// The limits of one lane (a connection and a model). `None` means "not limited".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Requests per minute. Zero is read as one.
    pub rpm: Option<u32>,
    /// Tokens per minute (estimated input tokens plus `max_tokens` of each request). Zero is
    /// read as one.
    pub tpm: Option<u32>,
    /// Requests in flight at once. Zero is read as one.
    pub max_concurrency: u32,
}

impl Limits {
    /// The default concurrency: 6, the number of connections a browser opens to one host over
    /// HTTP/1.1. More requests than that would queue inside the browser and then leave in a
    /// bunch, defeating the pacing.
    pub const DEFAULT_CONCURRENCY: u32 = 6;

    /// Limits of `rpm` requests per minute, no token limit, default concurrency.
    pub fn rpm(rpm: u32) -> Limits {
        Limits {
            rpm: Some(rpm),
            ..Limits::default()
        }
    }
}

impl Default for Limits {
    /// No rate limit and [`Limits::DEFAULT_CONCURRENCY`] requests in flight.
    fn default() -> Limits {
        Limits {
            rpm: None,
            tpm: None,
            max_concurrency: Limits::DEFAULT_CONCURRENCY,
        }
    }
}

/// How a lane paces itself and reacts to 429s. The defaults are documented per field.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LimiterConfig {
    /// The burst allowance in milliseconds of quota: how much may be sent at once after an idle
    /// period. Default 500 (half a second); clamped to 0…1000, since providers enforce
    /// per-minute limits per second.
    pub burst_ms: f64,
    /// The factor a rate-limit 429 multiplies the lane's rate by. Default 0.9.
    pub throttle_factor: f64,
    /// The lowest the rate factor may fall. Default 0.5.
    pub min_rate_factor: f64,
    /// What each success adds back to the rate factor, up to 1. Default 0.01.
    pub recover_per_success: f64,
    /// The pause after a 429 that gave no `retry-after`, before jitter, doubled for each
    /// further 429 in a row. Default 1,000 ms.
    pub pause_base_ms: f64,
}

impl Default for LimiterConfig {
    fn default() -> LimiterConfig {
        LimiterConfig {
            burst_ms: 500.0,
            throttle_factor: 0.9,
            min_rate_factor: 0.5,
            recover_per_success: 0.01,
            pause_base_ms: 1_000.0,
        }
    }
}

/// One admitted request, kept for the sliding windows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendRecord {
    /// When it was sent.
    pub at_ms: f64,
    /// The tokens it was charged (estimated input plus `max_tokens`).
    pub tokens: u64,
}

/// The rate-limit state of one lane. Serialized with the batch so that a reloaded tab keeps
/// honouring the windows of the requests it sent before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaneLimiter {
    /// The configured limits.
    pub limits: Limits,
    /// The request limit the provider stated in `x-ratelimit-limit-requests`, if it did.
    #[serde(default)]
    pub header_rpm: Option<u32>,
    /// The token limit the provider stated in `x-ratelimit-limit-tokens`, if it did.
    #[serde(default)]
    pub header_tpm: Option<u32>,
    /// The share of the limits currently used, lowered by 429s: 1.0 is full speed.
    pub rate_factor: f64,
    /// No request leaves before this time (a 429's `retry-after`, or an exhausted budget the
    /// headers reported); 0 when the lane was never paused.
    pub paused_until_ms: f64,
    /// When the rate was last lowered: 429s answering requests sent before then are not
    /// counted again.
    pub throttled_at_ms: f64,
    /// Rate-limit 429s in a row (reset by a success), for the backoff without `retry-after`.
    pub throttle_streak: u32,
    /// Rate-limit 429s received in total.
    pub rate_limited_total: u32,
    /// The theoretical arrival time of the request GCRA.
    request_tat_ms: f64,
    /// The theoretical arrival time of the token GCRA.
    token_tat_ms: f64,
    /// Requests sent in the last minute, oldest first.
    log: VecDeque<SendRecord>,
    /// The latest time the lane was read or changed at, in its own time (0 before any): what
    /// tells that the clock went back (see "A clock that goes back" in the module docs).
    #[serde(default)]
    clock_ms: ClockCell,
    /// How far the clock went back since the lane last changed (0 almost always): added to
    /// the caller's time to read the kept instants, and settled by the next change.
    #[serde(default)]
    behind_ms: ClockCell,
}

impl LaneLimiter {
    /// A fresh lane: full speed, nothing sent.
    pub fn new(limits: Limits) -> LaneLimiter {
        LaneLimiter {
            limits,
            header_rpm: None,
            header_tpm: None,
            rate_factor: 1.0,
            paused_until_ms: 0.0,
            throttled_at_ms: 0.0,
            throttle_streak: 0,
            rate_limited_total: 0,
            request_tat_ms: 0.0,
            token_tat_ms: 0.0,
            log: VecDeque::new(),
            clock_ms: ClockCell::default(),
            behind_ms: ClockCell::default(),
        }
    }

    /// `now_ms` in the lane's own time, which never goes back: the caller's time plus how far
    /// the clock has gone back since the lane last changed. Reading the lane learns a jump
    /// (hence the [`ClockCell`]s: [`Self::ready_at`] takes `&self`), so every later reading counts on
    /// from the moment the jump was first seen and a wait ends after its length.
    fn lane_time(&self, now_ms: f64) -> f64 {
        if !now_ms.is_finite() {
            return now_ms;
        }
        let time = now_ms + self.behind_ms.get();
        let clock = self.clock_ms.get();
        if clock - time > CLOCK_JUMP_TOLERANCE_MS {
            self.behind_ms.set(self.behind_ms.get() + (clock - time));
            clock
        } else {
            self.clock_ms.set(clock.max(time));
            time
        }
    }

    /// Brings the lane into the caller's time before a change: after the clock went back,
    /// every kept instant moves back by as much (kept on the JSON-safe grid), so waits keep
    /// the length they had and the public fields read in the caller's time again. The unset
    /// markers (0: never paused, never slowed) stay unset.
    fn settle_clock(&mut self, now_ms: f64) {
        self.lane_time(now_ms);
        let back = self.behind_ms.replace(0.0);
        if back == 0.0 {
            return;
        }
        let shift = |t: f64| grid_up(t - back);
        if self.paused_until_ms > 0.0 {
            self.paused_until_ms = shift(self.paused_until_ms);
        }
        if self.throttled_at_ms > 0.0 {
            self.throttled_at_ms = shift(self.throttled_at_ms);
        }
        self.request_tat_ms = shift(self.request_tat_ms);
        self.token_tat_ms = shift(self.token_tat_ms);
        for record in &mut self.log {
            record.at_ms = shift(record.at_ms);
        }
        self.clock_ms.set(self.clock_ms.get() - back);
    }

    /// The most requests allowed in flight at once.
    pub fn max_concurrency(&self) -> u32 {
        self.limits.max_concurrency.max(1)
    }

    /// The request limit in force before any slowdown: the configured one, tightened by the
    /// provider's headers.
    pub fn rpm_limit(&self) -> Option<u32> {
        tighter(self.limits.rpm, self.header_rpm).map(|rpm| rpm.max(1))
    }

    /// The token limit in force before any slowdown.
    pub fn tpm_limit(&self) -> Option<u32> {
        tighter(self.limits.tpm, self.header_tpm).map(|tpm| tpm.max(1))
    }

    /// The requests per minute the lane paces itself to now (after 429 slowdowns).
    pub fn effective_rpm(&self) -> Option<f64> {
        self.rpm_limit().map(|rpm| f64::from(rpm) * self.factor())
    }

    /// The tokens per minute the lane paces itself to now.
    pub fn effective_tpm(&self) -> Option<f64> {
        self.tpm_limit().map(|tpm| f64::from(tpm) * self.factor())
    }

    fn factor(&self) -> f64 {
        if self.rate_factor.is_finite() {
            self.rate_factor.clamp(0.01, 1.0)
        } else {
            1.0
        }
    }

    /// The earliest time a request charged `tokens` may be sent, given what was sent before;
    /// at or before `now_ms` means "now". Concurrency is the engine's business, not checked here.
    pub fn ready_at(&self, now_ms: f64, tokens: u64, config: &LimiterConfig) -> f64 {
        let time = self.lane_time(now_ms);
        self.ready_at_lane_time(time, tokens, config) - self.behind_ms.get()
    }

    /// [`Self::ready_at`] with `now_ms` in the lane's own time.
    fn ready_at_lane_time(&self, now_ms: f64, tokens: u64, config: &LimiterConfig) -> f64 {
        let mut ready = self.paused_until_ms;
        let burst_ms = config.burst_ms.clamp(0.0, SECOND_MS);
        if let Some(rpm) = self.effective_rpm() {
            let (interval, burst) = request_gcra(rpm, config);
            ready = ready.max(gcra_ready(
                self.request_tat(interval, burst),
                interval,
                burst,
            ));
            let per_second = (rpm / 60.0 - 1e-9).ceil().max(1.0) as u64;
            let per_minute = (rpm + 1e-9).floor().max(1.0) as u64;
            ready = ready.max(self.window_ready(now_ms, SECOND_MS, per_second, 1, |_| 1));
            ready = ready.max(self.window_ready(now_ms, MINUTE_MS, per_minute, 1, |_| 1));
        }
        if let Some(tpm) = self.effective_tpm() {
            let per_token = MINUTE_MS / tpm;
            let cost_ms = tokens as f64 * per_token;
            let tat = self.token_tat_ms.max(self.paused_until_ms);
            ready = ready.max(gcra_ready(tat, cost_ms, burst_ms));
            let per_second = (tpm / 60.0 - 1e-9).ceil().max(1.0) as u64;
            let per_minute = (tpm + 1e-9).floor().max(1.0) as u64;
            ready =
                ready.max(self.window_ready(now_ms, SECOND_MS, per_second, tokens, |r| r.tokens));
            ready =
                ready.max(self.window_ready(now_ms, MINUTE_MS, per_minute, tokens, |r| r.tokens));
        }
        ready
    }

    /// True when a request charged `tokens` may be sent at `now_ms`.
    pub fn can_send(&self, now_ms: f64, tokens: u64, config: &LimiterConfig) -> bool {
        self.ready_at(now_ms, tokens, config) <= now_ms
    }

    /// The earliest time at which the records still inside a `window_ms` window leave room for
    /// `cost` more under `cap`. A cost larger than the cap fits only into an empty window.
    fn window_ready(
        &self,
        now_ms: f64,
        window_ms: f64,
        cap: u64,
        cost: u64,
        weight: impl Fn(&SendRecord) -> u64,
    ) -> f64 {
        let inside: Vec<&SendRecord> = self
            .log
            .iter()
            .filter(|r| r.at_ms + window_ms > now_ms)
            .collect();
        let mut used: u64 = inside.iter().map(|r| weight(r)).sum();
        let fits = |used: u64| used == 0 || used.saturating_add(cost) <= cap;
        if fits(used) {
            return f64::NEG_INFINITY;
        }
        for record in inside {
            used -= weight(record);
            if fits(used) {
                return record.at_ms + window_ms;
            }
        }
        f64::NEG_INFINITY
    }

    /// The request GCRA's theoretical arrival time. Right after a pause the burst allowance is
    /// used up, so the lane restarts at its paced rate: the provider that just said 429 gets
    /// no burst.
    fn request_tat(&self, interval: f64, burst: f64) -> f64 {
        if self.paused_until_ms > 0.0 {
            self.request_tat_ms
                .max(self.paused_until_ms + burst - interval)
        } else {
            self.request_tat_ms
        }
    }

    /// Records a request sent at `now_ms` and charged `tokens`.
    pub fn record_send(&mut self, now_ms: f64, tokens: u64, config: &LimiterConfig) {
        self.settle_clock(now_ms);
        if let Some(rpm) = self.effective_rpm() {
            let (interval, burst) = request_gcra(rpm, config);
            self.request_tat_ms = grid_up(self.request_tat(interval, burst).max(now_ms) + interval);
        }
        if let Some(tpm) = self.effective_tpm() {
            self.token_tat_ms = grid_up(
                self.token_tat_ms.max(self.paused_until_ms).max(now_ms)
                    + tokens as f64 * MINUTE_MS / tpm,
            );
        }
        self.log.push_back(SendRecord {
            at_ms: grid_up(now_ms),
            tokens,
        });
        self.prune(now_ms);
    }

    /// Forgets records older than a minute.
    fn prune(&mut self, now_ms: f64) {
        while self
            .log
            .front()
            .is_some_and(|r| r.at_ms + MINUTE_MS <= now_ms)
        {
            self.log.pop_front();
        }
    }

    /// Requests sent in the `window_ms` before `now_ms`.
    pub fn sent_within(&self, now_ms: f64, window_ms: f64) -> usize {
        let now_ms = self.lane_time(now_ms);
        self.log
            .iter()
            .filter(|r| r.at_ms <= now_ms && r.at_ms + window_ms > now_ms)
            .count()
    }

    /// The time of the most recent send, if any in the last minute.
    pub fn last_send_ms(&self) -> Option<f64> {
        self.log.back().map(|r| r.at_ms)
    }

    /// A success: the rate recovers a step and the 429 streak ends.
    pub fn on_success(&mut self, config: &LimiterConfig) {
        self.throttle_streak = 0;
        self.rate_factor =
            grid_factor((self.factor() + config.recover_per_success.max(0.0)).min(1.0));
    }

    /// A rate-limit 429 answering a request sent at `sent_at_ms`. The lane pauses until
    /// `now_ms + retry_after_ms` (already capped by the caller), or for a full-jitter backoff
    /// (`rand01` ∈ [0, 1)) when the provider gave no delay; the rate drops by the throttle
    /// factor unless the request was sent before the previous slowdown. Returns true when the
    /// rate was lowered.
    pub fn on_rate_limited(
        &mut self,
        now_ms: f64,
        sent_at_ms: f64,
        retry_after_ms: Option<u64>,
        rand01: f64,
        config: &LimiterConfig,
    ) -> bool {
        self.settle_clock(now_ms);
        self.rate_limited_total = self.rate_limited_total.saturating_add(1);
        self.throttle_streak = self.throttle_streak.saturating_add(1);
        let pause = match retry_after_ms {
            Some(ms) => ms as f64,
            None => {
                let exponent = self.throttle_streak.saturating_sub(1).min(16);
                // At least a tenth of the ceiling, so a zero draw does not resend at once.
                let ceiling = config.pause_base_ms.max(1.0) * f64::from(1u32 << exponent);
                ceiling * (0.1 + 0.9 * rand01.clamp(0.0, 1.0))
            }
        };
        self.pause_until(now_ms + pause);
        if sent_at_ms < self.throttled_at_ms {
            return false;
        }
        self.throttled_at_ms = grid_up(now_ms);
        let floor = config.min_rate_factor.clamp(0.01, 1.0);
        self.rate_factor =
            grid_factor((self.factor() * config.throttle_factor.clamp(0.01, 1.0)).max(floor));
        true
    }

    /// Holds every request until `until_ms`; the lane then restarts at its paced rate, without
    /// a burst.
    pub fn pause_until(&mut self, until_ms: f64) {
        if until_ms.is_finite() && until_ms > self.paused_until_ms {
            self.paused_until_ms = grid_up(until_ms);
        }
    }

    /// Tightens the lane to what the provider's `x-ratelimit-*` headers state. The stated
    /// limits replace earlier stated ones but never loosen the configured ones; an exhausted
    /// budget (`remaining` 0) pauses the lane for one emission interval, or until the reset
    /// time when that is sooner.
    pub fn update_from_headers(&mut self, headers: &RateLimitHeaders, now_ms: f64) {
        self.settle_clock(now_ms);
        if let Some(limit) = headers.limit_requests.filter(|&l| l > 0) {
            self.header_rpm = Some(u32::try_from(limit).unwrap_or(u32::MAX));
        }
        if let Some(limit) = headers.limit_tokens.filter(|&l| l > 0) {
            self.header_tpm = Some(u32::try_from(limit).unwrap_or(u32::MAX));
        }
        if headers.remaining_requests == Some(0) {
            let interval = self
                .effective_rpm()
                .map_or(SECOND_MS, |rpm| MINUTE_MS / rpm);
            let wait = headers
                .reset_requests_ms
                .map_or(interval, |reset| (reset as f64).min(interval));
            self.pause_until(now_ms + wait);
        }
        if headers.remaining_tokens == Some(0) {
            let wait = headers
                .reset_tokens_ms
                .map_or(SECOND_MS, |reset| (reset as f64).min(SECOND_MS));
            self.pause_until(now_ms + wait);
        }
    }
}

/// A time a `&self` reading of the lane may update (its clock, see "A clock that goes back"
/// in the module docs). An atomic rather than a `Cell` so that a lane, and the batch holding
/// it, stay `Sync` (the page keeps batches in signals); the page is single-threaded, so
/// relaxed ordering is enough. Serialized as the plain number.
#[derive(Default)]
struct ClockCell(AtomicU64);

impl ClockCell {
    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, ms: f64) {
        self.0.store(ms.to_bits(), Ordering::Relaxed);
    }

    fn replace(&self, ms: f64) -> f64 {
        f64::from_bits(self.0.swap(ms.to_bits(), Ordering::Relaxed))
    }
}

impl Clone for ClockCell {
    fn clone(&self) -> ClockCell {
        ClockCell(AtomicU64::new(self.0.load(Ordering::Relaxed)))
    }
}

impl PartialEq for ClockCell {
    fn eq(&self, other: &ClockCell) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for ClockCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for ClockCell {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.get())
    }
}

impl<'de> Deserialize<'de> for ClockCell {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ClockCell, D::Error> {
        let ms = f64::deserialize(deserializer)?;
        Ok(ClockCell(AtomicU64::new(ms.to_bits())))
    }
}

/// `ms` rounded up to the next hundredth of a millisecond. The limiter keeps its times on this
/// grid so that they survive a JSON round trip exactly (a Unix time with two decimals has at
/// most 15 significant digits, which every JSON parser reads back to the same `f64`); rounding
/// up only ever makes the limiter wait a little longer.
fn grid_up(ms: f64) -> f64 {
    if !ms.is_finite() {
        return ms;
    }
    let hundredths = (ms * 100.0).round();
    let on_grid = hundredths / 100.0;
    if on_grid < ms {
        (hundredths + 1.0) / 100.0
    } else {
        on_grid
    }
}

/// A rate factor rounded to a millionth, for the same reason.
fn grid_factor(factor: f64) -> f64 {
    (factor * 1e6).round() / 1e6
}

/// The request GCRA's emission interval and burst allowance (whole requests fitting into
/// `burst_ms`, at least one), in milliseconds, at `rpm`.
fn request_gcra(rpm: f64, config: &LimiterConfig) -> (f64, f64) {
    let interval = MINUTE_MS / rpm;
    let burst_ms = config.burst_ms.clamp(0.0, SECOND_MS);
    (interval, (burst_ms / interval).floor().max(1.0) * interval)
}

/// The earliest time a GCRA admits a request of `cost_ms` (its cost in emission time) given the
/// theoretical arrival time `tat_ms` and a burst allowance of `burst_ms`: the backlog after the
/// request may not exceed the allowance. A request costlier than the allowance waits for an
/// empty backlog.
fn gcra_ready(tat_ms: f64, cost_ms: f64, burst_ms: f64) -> f64 {
    tat_ms - (burst_ms - cost_ms).max(0.0)
}

/// The tighter of two optional limits.
fn tighter(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends as fast as the limiter allows, starting at 0, and returns the send times.
    fn drive(limiter: &mut LaneLimiter, config: &LimiterConfig, n: usize, tokens: u64) -> Vec<f64> {
        let mut now = 0.0;
        let mut times = Vec::new();
        while times.len() < n {
            let ready = limiter.ready_at(now, tokens, config);
            now = now.max(ready);
            assert!(
                limiter.can_send(now, tokens, config),
                "ready_at is admissible"
            );
            limiter.record_send(now, tokens, config);
            times.push(now);
        }
        times
    }

    fn max_in_window(times: &[f64], window: f64) -> usize {
        times
            .iter()
            .map(|&end| {
                times
                    .iter()
                    .filter(|&&t| t <= end && t + window > end)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn paces_600_rpm_with_a_half_second_burst() {
        let config = LimiterConfig::default();
        let mut limiter = LaneLimiter::new(Limits::rpm(600));
        let times = drive(&mut limiter, &config, 60, 0);
        // Five at once (half a second of quota), then one every 100 ms until the first second
        // holds ten; the pattern repeats at ten a second.
        assert_eq!(&times[..5], &[0.0; 5]);
        assert_eq!(&times[5..10], &[100.0, 200.0, 300.0, 400.0, 500.0]);
        assert_eq!(times[10], 1_000.0);
        assert_eq!(max_in_window(&times, SECOND_MS), 10);
        // 60 requests take under 6 s: the full rate.
        assert!(*times.last().unwrap() < 5_600.0, "{times:?}");
    }

    #[test]
    fn no_burst_means_steady_pacing() {
        let config = LimiterConfig {
            burst_ms: 0.0,
            ..LimiterConfig::default()
        };
        let mut limiter = LaneLimiter::new(Limits::rpm(500));
        let times = drive(&mut limiter, &config, 20, 0);
        for (i, t) in times.iter().enumerate() {
            assert!((t - 120.0 * i as f64).abs() < 1e-6, "{i}: {t}");
        }
        assert!(max_in_window(&times, SECOND_MS) <= 9);
    }

    #[test]
    fn minute_window_holds_for_a_long_run() {
        let config = LimiterConfig::default();
        let mut limiter = LaneLimiter::new(Limits::rpm(7));
        let times = drive(&mut limiter, &config, 30, 0);
        assert!(max_in_window(&times, MINUTE_MS) <= 7);
        assert!(max_in_window(&times, SECOND_MS) <= 1);
    }

    #[test]
    fn tokens_are_paced_and_oversized_requests_wait_for_an_empty_window() {
        let config = LimiterConfig::default();
        let limits = Limits {
            rpm: None,
            tpm: Some(60_000),
            max_concurrency: 4,
        };
        let mut limiter = LaneLimiter::new(limits);
        // 1,000 tokens a second; 400-token requests: at most 2 in any second.
        let times = drive(&mut limiter, &config, 10, 400);
        assert!(max_in_window(&times, SECOND_MS) <= 2, "{times:?}");
        // An oversized request (5,000 tokens > 1,000 a second) goes once the second is clear
        // and leaves the lane in debt.
        let mut big = LaneLimiter::new(limits);
        assert!(big.can_send(0.0, 5_000, &config));
        big.record_send(0.0, 5_000, &config);
        // The GCRA lets a 100-token request go once the debt is down to the 500 ms allowance.
        assert_eq!(big.ready_at(0.0, 100, &config), 4_600.0);
    }

    #[test]
    fn a_429_pauses_and_slows_the_lane_once_per_round() {
        let config = LimiterConfig::default();
        let mut limiter = LaneLimiter::new(Limits::rpm(600));
        limiter.record_send(0.0, 0, &config);
        limiter.record_send(10.0, 0, &config);
        assert!(limiter.on_rate_limited(300.0, 0.0, Some(2_000), 0.5, &config));
        assert!((limiter.rate_factor - 0.9).abs() < 1e-12);
        assert_eq!(limiter.paused_until_ms, 2_300.0);
        // The second 429 answers a request sent before the slowdown: paused, not slowed again.
        assert!(!limiter.on_rate_limited(310.0, 10.0, Some(1_000), 0.5, &config));
        assert!((limiter.rate_factor - 0.9).abs() < 1e-12);
        assert!(!limiter.can_send(2_299.0, 0, &config));
        assert!(limiter.can_send(2_300.0, 0, &config));
        // The slower rate: 540 rpm.
        assert!((limiter.effective_rpm().unwrap() - 540.0).abs() < 1e-9);
        // Ten successes restore it.
        for _ in 0..10 {
            limiter.on_success(&config);
        }
        assert!((limiter.rate_factor - 1.0).abs() < 1e-9);
        // The floor.
        let mut floor = LaneLimiter::new(Limits::rpm(600));
        for i in 0..20 {
            floor.on_rate_limited(
                f64::from(i) * 100.0,
                f64::from(i) * 100.0,
                None,
                0.0,
                &config,
            );
        }
        assert_eq!(floor.rate_factor, 0.5);
    }

    #[test]
    fn headers_tighten_but_never_loosen() {
        let mut limiter = LaneLimiter::new(Limits::rpm(600));
        let headers = RateLimitHeaders {
            limit_requests: Some(500),
            ..RateLimitHeaders::default()
        };
        limiter.update_from_headers(&headers, 0.0);
        assert_eq!(limiter.rpm_limit(), Some(500));
        let looser = RateLimitHeaders {
            limit_requests: Some(10_000),
            ..RateLimitHeaders::default()
        };
        limiter.update_from_headers(&looser, 0.0);
        assert_eq!(limiter.rpm_limit(), Some(600));
        let exhausted = RateLimitHeaders {
            remaining_requests: Some(0),
            reset_requests_ms: Some(6_000),
            ..RateLimitHeaders::default()
        };
        limiter.update_from_headers(&exhausted, 1_000.0);
        assert_eq!(limiter.paused_until_ms, 1_100.0);
        // Without headers nothing changes.
        let mut plain = LaneLimiter::new(Limits::rpm(600));
        plain.update_from_headers(&RateLimitHeaders::default(), 0.0);
        assert_eq!(plain, LaneLimiter::new(Limits::rpm(600)));
    }

    #[test]
    fn times_sit_on_a_grid_that_json_round_trips() {
        let mut rng = crate::domain::batch::SplitMix64::new(3);
        for _ in 0..10_000 {
            let t = 1_700_000_000_000.0 + rng.next_f64() * 1e11;
            let g = grid_up(t);
            assert!(g >= t && g - t <= 0.01 + 1e-3, "{t} {g}");
            assert_eq!(grid_up(g), g, "idempotent");
            let back: f64 = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
            assert_eq!(back, g);
        }
        assert_eq!(grid_up(0.0), 0.0);
        assert_eq!(grid_factor(0.9 * 0.9), 0.81);
    }

    /// A Unix time of December 2026, so that moving the clock back an hour stays positive.
    const T0: f64 = 1_796_000_000_000.0;
    const HOUR_MS: f64 = 3_600_000.0;

    #[test]
    fn a_pause_keeps_its_length_when_the_clock_goes_back() {
        let config = LimiterConfig::default();
        let mut limiter = LaneLimiter::new(Limits::rpm(600));
        limiter.record_send(T0, 0, &config);
        limiter.on_rate_limited(T0 + 100.0, T0, Some(30_000), 0.5, &config);
        assert_eq!(limiter.paused_until_ms, T0 + 30_100.0);
        // Ten seconds later the clock is set back an hour: the lane waits at most the 30 s
        // it was asked to, counted from the clock's new reading, not an hour and 20 s.
        let now = T0 + 10_000.0 - HOUR_MS;
        let ready = limiter.ready_at(now, 0, &config);
        assert!(ready <= now + 30_000.0, "waits {} s", (ready - now) / 1e3);
        assert!(ready > now + 20_000.0, "the pause is still honoured");
        // Readings count on from the moment the jump was seen: the wait ends, it does not
        // move along with the clock.
        assert!(!limiter.can_send(now + 15_000.0, 0, &config));
        assert!(limiter.ready_at(now + 15_000.0, 0, &config) <= now + 30_000.0);
        assert!(limiter.can_send(now + 30_000.0, 0, &config));
        // Reading it changes nothing; the next change settles the clock for good.
        limiter.record_send(now + 30_000.0, 0, &config);
        assert!(limiter.paused_until_ms <= now + 30_000.0);
        let back: LaneLimiter =
            serde_json::from_str(&serde_json::to_string(&limiter).unwrap()).unwrap();
        assert_eq!(back, limiter);
    }

    #[test]
    fn the_windows_and_pacing_do_not_stall_when_the_clock_goes_back() {
        let config = LimiterConfig::default();
        // 7 requests a minute, all sent: the minute window is full.
        let mut limiter = LaneLimiter::new(Limits::rpm(7));
        let mut now = T0;
        for _ in 0..7 {
            now = limiter.ready_at(now, 0, &config).max(now);
            limiter.record_send(now, 0, &config);
        }
        let behind = limiter.ready_at(now, 0, &config) - now;
        assert!(behind > 0.0 && behind <= MINUTE_MS);
        let jumped = now - HOUR_MS;
        let wait = limiter.ready_at(jumped, 0, &config) - jumped;
        assert!((wait - behind).abs() < 0.02, "{wait} vs {behind}");
        assert_eq!(limiter.sent_within(jumped, MINUTE_MS), 7);
        // A token debt (one oversized request) keeps its length too.
        let mut tokens = LaneLimiter::new(Limits {
            rpm: None,
            tpm: Some(60_000),
            max_concurrency: 4,
        });
        tokens.record_send(T0, 5_000, &config);
        let debt = tokens.ready_at(T0, 100, &config) - T0;
        assert_eq!(debt, 4_600.0);
        let jumped = T0 + 1_000.0 - HOUR_MS;
        assert!(tokens.ready_at(jumped, 100, &config) - jumped <= debt);
    }

    #[test]
    fn a_429_after_the_clock_went_back_still_slows_the_lane() {
        let config = LimiterConfig::default();
        let mut limiter = LaneLimiter::new(Limits::rpm(600));
        limiter.record_send(T0, 0, &config);
        assert!(limiter.on_rate_limited(T0 + 50.0, T0, Some(1_000), 0.5, &config));
        // The clock goes back an hour; a request sent after that meets a 429: a new round,
        // so the rate drops again (the last slowdown moved back with the clock).
        let now = T0 + 5_000.0 - HOUR_MS;
        limiter.record_send(now, 0, &config);
        assert!(limiter.on_rate_limited(now + 50.0, now, None, 0.5, &config));
        assert!((limiter.rate_factor - 0.81).abs() < 1e-9);
        let wait = limiter.ready_at(now + 50.0, 0, &config) - (now + 50.0);
        assert!(wait <= config.pause_base_ms * 2.0, "{wait}");
    }

    #[test]
    fn small_steps_back_and_forward_jumps_change_nothing() {
        let config = LimiterConfig::default();
        let mut limiter = LaneLimiter::new(Limits::rpm(60));
        limiter.record_send(T0, 0, &config);
        let paced = limiter.clone();
        // Under the tolerance: read as it is.
        assert_eq!(
            limiter.ready_at(T0 - 500.0, 0, &config),
            paced.ready_at(T0, 0, &config)
        );
        // A clock that jumps forward only finds the lane ready.
        assert!(limiter.can_send(T0 + HOUR_MS, 0, &config));
        limiter.record_send(T0 + HOUR_MS, 0, &config);
        assert_eq!(
            limiter.ready_at(T0 + HOUR_MS, 0, &config),
            T0 + HOUR_MS + 1_000.0
        );
    }

    #[test]
    fn unlimited_lanes_are_always_ready() {
        let limiter = LaneLimiter::new(Limits::default());
        assert!(limiter.can_send(0.0, 1_000_000, &LimiterConfig::default()));
    }
}
