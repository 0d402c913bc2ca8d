//! Requests-per-minute and tokens-per-minute limits.
//!
//! Providers state their limits per minute but enforce them over much shorter
//! windows, so a client that bursts a minute's quota at once gets 429s. The
//! sandbox models that with two token buckets per key:
//!
//! * capacity: one second of quota, `max(1, limit / 60)`;
//! * refill: continuously, at `limit / 60` per second;
//! * cost: 1 for the request bucket; prompt tokens plus `max_tokens` (60 when
//!   absent) for the token bucket.
//!
//! A request larger than the token bucket could never fit. It is admitted when
//! the bucket is full and leaves the bucket in debt, so later requests wait for
//! the refill; this keeps large requests possible under small limits without
//! letting them exceed the long-run rate.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

/// Header names used by the limiter, in the order OpenAI documents them.
pub const RATE_LIMIT_HEADERS: [&str; 6] = [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
];

/// Tolerance for floating point comparisons of bucket levels.
const EPSILON: f64 = 1e-9;

/// One token bucket.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    limit_per_minute: u64,
    capacity: f64,
    level: f64,
    updated: Instant,
}

impl TokenBucket {
    /// Creates a full bucket for a per-minute limit.
    pub fn new(limit_per_minute: u64, now: Instant) -> Self {
        let capacity = (limit_per_minute as f64 / 60.0).max(1.0);
        Self {
            limit_per_minute,
            capacity,
            level: capacity,
            updated: now,
        }
    }

    /// Units that drip in over `ms` milliseconds.
    fn units_for_ms(&self, ms: f64) -> f64 {
        ms * self.limit_per_minute as f64 / 60_000.0
    }

    /// Whole milliseconds (rounded up) needed for `units` to drip in.
    fn ms_for_units(&self, units: f64) -> u64 {
        let ms = units * 60_000.0 / self.limit_per_minute as f64;
        // The tolerance keeps float noise such as 1000.0000001 from adding 1 ms.
        (ms - 1e-6).ceil().max(0.0) as u64
    }

    /// Adds what has dripped in since the last update.
    fn refill(&mut self, now: Instant) {
        let elapsed_ms = now.saturating_duration_since(self.updated).as_secs_f64() * 1000.0;
        self.level = (self.level + self.units_for_ms(elapsed_ms)).min(self.capacity);
        self.updated = now;
    }

    /// Milliseconds until a request of `cost` fits (0 when it fits now).
    fn wait_ms(&self, cost: f64) -> u64 {
        let need = cost.min(self.capacity);
        if self.level + EPSILON >= need {
            0
        } else {
            self.ms_for_units(need - self.level).max(1)
        }
    }

    /// The limit, remaining amount and time until full, for the headers.
    fn snapshot(&self) -> BucketSnapshot {
        let missing = (self.capacity - self.level).max(0.0);
        let reset_ms = if missing <= EPSILON {
            0
        } else {
            self.ms_for_units(missing)
        };
        BucketSnapshot {
            limit: self.limit_per_minute,
            remaining: self.level.max(0.0).floor() as u64,
            reset_ms,
        }
    }
}

/// The state of one bucket as reported in response headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketSnapshot {
    /// The per-minute limit.
    pub limit: u64,
    /// Whole units left in the bucket now.
    pub remaining: u64,
    /// Milliseconds until the bucket is full again.
    pub reset_ms: u64,
}

/// The rate-limit headers of one response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitSnapshot {
    /// The request bucket, when `rpm` is set.
    pub requests: Option<BucketSnapshot>,
    /// The token bucket, when `tpm` is set.
    pub tokens: Option<BucketSnapshot>,
}

impl LimitSnapshot {
    /// Adds the `x-ratelimit-*` headers for each configured limit.
    pub fn apply(&self, headers: &mut HeaderMap) {
        self.apply_named(headers, &RATE_LIMIT_HEADERS, |reset_ms| {
            format_duration(Duration::from_millis(reset_ms))
        });
    }

    /// Adds, for each configured limit, its limit, remaining amount and reset
    /// (formatted by `reset` from milliseconds) under `names` (requests, then
    /// tokens).
    fn apply_named(
        &self,
        headers: &mut HeaderMap,
        names: &[&'static str; 6],
        reset: impl Fn(u64) -> String,
    ) {
        let buckets = [(self.requests, 0), (self.tokens, 3)];
        for (bucket, first) in buckets {
            let Some(bucket) = bucket else { continue };
            let values = [
                bucket.limit.to_string(),
                bucket.remaining.to_string(),
                reset(bucket.reset_ms),
            ];
            for (offset, value) in values.into_iter().enumerate() {
                let name = HeaderName::from_static(names[first + offset]);
                headers.insert(name, HeaderValue::from_str(&value).expect("ASCII header"));
            }
        }
    }
}

/// Anthropic's rate-limit header names (requests, then tokens): limit,
/// remaining, reset.
pub const ANTHROPIC_RATE_LIMIT_HEADERS: [&str; 6] = [
    "anthropic-ratelimit-requests-limit",
    "anthropic-ratelimit-requests-remaining",
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-limit",
    "anthropic-ratelimit-tokens-remaining",
    "anthropic-ratelimit-tokens-reset",
];

impl LimitSnapshot {
    /// Adds Anthropic's `anthropic-ratelimit-*` headers for each configured
    /// limit; a reset is the RFC 3339 time (whole seconds, rounded up) when
    /// the bucket is full again, counted from `now_unix_ms`.
    pub fn apply_anthropic(&self, headers: &mut HeaderMap, now_unix_ms: u64) {
        self.apply_named(headers, &ANTHROPIC_RATE_LIMIT_HEADERS, |reset_ms| {
            rfc3339((now_unix_ms + reset_ms).div_ceil(1000))
        });
    }
}

/// The limiter's answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The request may proceed; the buckets were charged.
    Allowed(LimitSnapshot),
    /// The request must wait `retry_after_ms`; nothing was charged.
    Limited {
        /// Exact milliseconds until the buckets allow this request.
        retry_after_ms: u64,
        /// The bucket state to report.
        snapshot: LimitSnapshot,
    },
}

/// The two buckets of one key.
#[derive(Clone, Debug)]
struct KeyBuckets {
    requests: Option<TokenBucket>,
    tokens: Option<TokenBucket>,
}

/// Per-key request and token buckets.
#[derive(Clone, Debug, Default)]
pub struct RateLimiter {
    rpm: Option<u64>,
    tpm: Option<u64>,
    keys: HashMap<String, KeyBuckets>,
}

impl RateLimiter {
    /// Creates a limiter with full buckets; `None` means no limit.
    pub fn new(rpm: Option<u64>, tpm: Option<u64>) -> Self {
        Self {
            rpm,
            tpm,
            keys: HashMap::new(),
        }
    }

    /// Whether any limit is configured.
    pub fn is_active(&self) -> bool {
        self.rpm.is_some() || self.tpm.is_some()
    }

    fn buckets(&mut self, key: &str, now: Instant) -> &mut KeyBuckets {
        let (rpm, tpm) = (self.rpm, self.tpm);
        let buckets = self
            .keys
            .entry(key.to_owned())
            .or_insert_with(|| KeyBuckets {
                requests: rpm.map(|limit| TokenBucket::new(limit, now)),
                tokens: tpm.map(|limit| TokenBucket::new(limit, now)),
            });
        for bucket in [&mut buckets.requests, &mut buckets.tokens]
            .into_iter()
            .flatten()
        {
            bucket.refill(now);
        }
        buckets
    }

    /// Charges one request costing `token_cost` tokens, if both buckets allow it.
    pub fn check(&mut self, key: &str, token_cost: u64, now: Instant) -> Decision {
        if !self.is_active() {
            return Decision::Allowed(LimitSnapshot::default());
        }
        let buckets = self.buckets(key, now);
        let cost = token_cost as f64;
        let wait = [
            buckets.requests.as_ref().map_or(0, |b| b.wait_ms(1.0)),
            buckets.tokens.as_ref().map_or(0, |b| b.wait_ms(cost)),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        if wait == 0 {
            if let Some(bucket) = buckets.requests.as_mut() {
                bucket.level -= 1.0;
            }
            if let Some(bucket) = buckets.tokens.as_mut() {
                bucket.level -= cost;
            }
        }
        let snapshot = Self::snapshot_of(buckets);
        if wait == 0 {
            Decision::Allowed(snapshot)
        } else {
            Decision::Limited {
                retry_after_ms: wait,
                snapshot,
            }
        }
    }

    /// Reports the buckets of `key` without charging anything.
    pub fn peek(&mut self, key: &str, now: Instant) -> LimitSnapshot {
        if !self.is_active() {
            return LimitSnapshot::default();
        }
        Self::snapshot_of(self.buckets(key, now))
    }

    fn snapshot_of(buckets: &KeyBuckets) -> LimitSnapshot {
        LimitSnapshot {
            requests: buckets.requests.as_ref().map(TokenBucket::snapshot),
            tokens: buckets.tokens.as_ref().map(TokenBucket::snapshot),
        }
    }
}

/// Formats a duration the way OpenAI's reset headers do (Go's duration
/// format at millisecond precision): `"0s"`, `"12ms"`, `"1s"`, `"1.5s"`,
/// `"6m0s"`, `"1h2m3.25s"`. Sub-millisecond parts are rounded up.
pub fn format_duration(duration: Duration) -> String {
    let mut ms = duration.as_millis() as u64;
    if !duration.as_nanos().is_multiple_of(1_000_000) {
        ms += 1;
    }
    if ms == 0 {
        return "0s".to_owned();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let hours = ms / 3_600_000;
    let minutes = ms / 60_000 % 60;
    let seconds = ms / 1000 % 60;
    let millis = ms % 1000;
    let mut text = String::new();
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    text.push_str(&seconds.to_string());
    if millis > 0 {
        let fraction = format!("{millis:03}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('s');
    text
}

/// The `retry-after` value in whole seconds: rounded up, at least 1.
pub fn retry_after_secs(retry_after_ms: u64) -> u64 {
    retry_after_ms.div_ceil(1000).max(1)
}

/// Howard Hinnant's civil_from_days: the (year, month 1-12, day 1-31) of
/// `days` since 1970-01-01.
fn civil_from_days(days: u64) -> (i64, u64, u64) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u64, day as u64)
}

/// Formats a Unix time as an HTTP date (RFC 9110 IMF-fixdate), e.g.
/// `Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn http_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Formats a Unix time as an RFC 3339 UTC timestamp, e.g.
/// `2015-10-21T07:28:00Z` (the form of Anthropic's `anthropic-ratelimit-*-reset`).
pub fn rfc3339(unix_secs: u64) -> String {
    let (year, month, day) = civil_from_days(unix_secs / 86_400);
    let secs = unix_secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_445_412_480), "Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_792_567_680), "Wed, 21 Oct 2026 07:28:00 GMT");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_445_412_480), "2015-10-21T07:28:00Z");
        assert_eq!(rfc3339(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn durations_format_like_openai() {
        assert_eq!(format_duration(ms(0)), "0s");
        assert_eq!(format_duration(ms(12)), "12ms");
        assert_eq!(format_duration(ms(999)), "999ms");
        assert_eq!(format_duration(ms(1000)), "1s");
        assert_eq!(format_duration(ms(1500)), "1.5s");
        assert_eq!(format_duration(ms(1250)), "1.25s");
        assert_eq!(format_duration(ms(1001)), "1.001s");
        assert_eq!(format_duration(ms(59_000)), "59s");
        assert_eq!(format_duration(ms(60_000)), "1m0s");
        assert_eq!(format_duration(ms(360_000)), "6m0s");
        assert_eq!(format_duration(ms(361_500)), "6m1.5s");
        assert_eq!(format_duration(ms(3_600_000)), "1h0m0s");
        assert_eq!(format_duration(ms(3_723_250)), "1h2m3.25s");
        assert_eq!(format_duration(Duration::from_micros(11_200)), "12ms");
        assert_eq!(format_duration(Duration::from_nanos(1)), "1ms");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(1000), 1);
        assert_eq!(retry_after_secs(1001), 2);
        assert_eq!(retry_after_secs(0), 1);
    }

    #[test]
    fn request_bucket_holds_one_second_of_quota() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(Some(60), None);
        assert!(matches!(
            limiter.check("k", 10, start),
            Decision::Allowed(_)
        ));
        match limiter.check("k", 10, start) {
            Decision::Limited {
                retry_after_ms,
                snapshot,
            } => {
                assert_eq!(retry_after_ms, 1000);
                let requests = snapshot.requests.unwrap();
                assert_eq!((requests.limit, requests.remaining), (60, 0));
                assert_eq!(requests.reset_ms, 1000);
                assert_eq!(snapshot.tokens, None);
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        // Half a second later, half a request has dripped back in.
        match limiter.check("k", 10, start + ms(500)) {
            Decision::Limited { retry_after_ms, .. } => assert_eq!(retry_after_ms, 500),
            other => panic!("expected a limit, got {other:?}"),
        }
        assert!(matches!(
            limiter.check("k", 10, start + ms(1000)),
            Decision::Allowed(_)
        ));
        // Other keys have their own buckets.
        assert!(matches!(
            limiter.check("other", 10, start),
            Decision::Allowed(_)
        ));
    }

    #[test]
    fn bursting_a_minute_of_quota_fails() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(Some(600), None);
        let allowed = (0..600)
            .filter(|_| matches!(limiter.check("k", 1, start), Decision::Allowed(_)))
            .count();
        assert_eq!(allowed, 10);
    }

    #[test]
    fn token_bucket_charges_cost_and_allows_oversized_requests_when_full() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(None, Some(6000)); // 100 tokens per second.
        match limiter.check("k", 60, start) {
            Decision::Allowed(snapshot) => {
                let tokens = snapshot.tokens.unwrap();
                assert_eq!((tokens.limit, tokens.remaining), (6000, 40));
                assert_eq!(tokens.reset_ms, 600);
                assert_eq!(snapshot.requests, None);
            }
            other => panic!("expected success, got {other:?}"),
        }
        match limiter.check("k", 60, start) {
            Decision::Limited { retry_after_ms, .. } => assert_eq!(retry_after_ms, 200),
            other => panic!("expected a limit, got {other:?}"),
        }
        // An oversized request waits until the bucket is full, then leaves debt.
        match limiter.check("k", 500, start) {
            Decision::Limited { retry_after_ms, .. } => assert_eq!(retry_after_ms, 600),
            other => panic!("expected a limit, got {other:?}"),
        }
        let later = start + ms(600);
        assert!(matches!(
            limiter.check("k", 500, later),
            Decision::Allowed(_)
        ));
        let snapshot = limiter.peek("k", later);
        assert_eq!(snapshot.tokens.unwrap().remaining, 0);
        assert_eq!(snapshot.tokens.unwrap().reset_ms, 5000);
    }

    #[test]
    fn a_limited_request_charges_neither_bucket() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(Some(120), Some(60)); // 2 requests, 1 token per second.
        assert!(matches!(limiter.check("k", 1, start), Decision::Allowed(_)));
        assert!(matches!(
            limiter.check("k", 1, start),
            Decision::Limited { .. }
        ));
        let snapshot = limiter.peek("k", start);
        assert_eq!(snapshot.requests.unwrap().remaining, 1);
    }

    #[test]
    fn headers_are_written_only_for_configured_limits() {
        let mut headers = HeaderMap::new();
        LimitSnapshot {
            requests: Some(BucketSnapshot {
                limit: 500,
                remaining: 7,
                reset_ms: 1500,
            }),
            tokens: None,
        }
        .apply(&mut headers);
        assert_eq!(headers["x-ratelimit-limit-requests"], "500");
        assert_eq!(headers["x-ratelimit-remaining-requests"], "7");
        assert_eq!(headers["x-ratelimit-reset-requests"], "1.5s");
        assert!(!headers.contains_key("x-ratelimit-limit-tokens"));
        let mut none = HeaderMap::new();
        LimitSnapshot::default().apply(&mut none);
        assert!(none.is_empty());
    }
}
