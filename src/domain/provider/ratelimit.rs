//! Rate-limit response headers: what the provider says about its remaining quota and when to
//! come back.
//!
//! OpenAI-compatible providers send `x-ratelimit-limit-requests|tokens`,
//! `x-ratelimit-remaining-requests|tokens`, `x-ratelimit-reset-requests|tokens` (Go-style
//! durations such as `"12ms"`, `"1.5s"`, `"6m0s"`: the time until the budget is fully
//! replenished), `retry-after` (seconds or an HTTP date) and `retry-after-ms`. A browser sees
//! them only when the server lists them in `Access-Control-Expose-Headers`, so every field is
//! optional and the app must work without any of them.
//!
//! Anthropic sends the same facts as `anthropic-ratelimit-{requests,tokens}-{limit,remaining,
//! reset}`, the resets as RFC 3339 instants (`2026-12-07T16:00:30Z`) that become delays from
//! now. [`RATE_LIMIT_HEADER_NAMES`] lists every header read, for the transport to pick out.
//!
//! ```
//! use duanju_studio::domain::provider::ratelimit::RateLimitHeaders;
//!
//! let headers = [("X-RateLimit-Remaining-Requests", "499"), ("retry-after", "2")];
//! let parsed = RateLimitHeaders::parse(headers, 0);
//! assert_eq!(parsed.remaining_requests, Some(499));
//! assert_eq!(parsed.retry_delay_ms(), Some(2_000));
//! ```

use serde::{Deserialize, Serialize};

/// Every header [`RateLimitHeaders::parse`] understands, lower case: the web transport reads
/// exactly these from a response (a browser's `Headers` cannot be listed in full when CORS hides
/// some), so a name added to `parse` must be added here; a test checks both agree.
pub const RATE_LIMIT_HEADER_NAMES: &[&str] = &[
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
    "anthropic-ratelimit-requests-limit",
    "anthropic-ratelimit-tokens-limit",
    "anthropic-ratelimit-requests-remaining",
    "anthropic-ratelimit-tokens-remaining",
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-reset",
    "retry-after",
    "retry-after-ms",
];

/// The rate-limit facts found in one response's headers. Every field is `None` when the header
/// was absent, unreadable, or hidden from the browser by CORS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitHeaders {
    /// `x-ratelimit-limit-requests`: requests allowed per window.
    pub limit_requests: Option<u64>,
    /// `x-ratelimit-limit-tokens`: tokens allowed per window.
    pub limit_tokens: Option<u64>,
    /// `x-ratelimit-remaining-requests`: requests left in the current window.
    pub remaining_requests: Option<u64>,
    /// `x-ratelimit-remaining-tokens`: tokens left in the current window.
    pub remaining_tokens: Option<u64>,
    /// `x-ratelimit-reset-requests` in milliseconds: time until the request budget is full again.
    pub reset_requests_ms: Option<u64>,
    /// `x-ratelimit-reset-tokens` in milliseconds: time until the token budget is full again.
    pub reset_tokens_ms: Option<u64>,
    /// `retry-after` converted to a delay in milliseconds (seconds, or an HTTP date minus now).
    pub retry_after_ms: Option<u64>,
    /// `retry-after-ms`: the provider's precise delay in milliseconds.
    pub retry_after_ms_exact: Option<u64>,
}

impl RateLimitHeaders {
    /// Reads the rate-limit headers out of `(name, value)` pairs. Names are matched
    /// case-insensitively; unknown headers and unreadable values are ignored. `now_ms` is the
    /// current Unix time in milliseconds, needed only to turn an HTTP-date `retry-after` or an
    /// Anthropic reset instant into a delay. OpenAI's and Anthropic's names fill the same fields.
    pub fn parse<I, N, V>(headers: I, now_ms: u64) -> RateLimitHeaders
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let mut parsed = RateLimitHeaders::default();
        for (name, value) in headers {
            let name = name.as_ref().trim().to_ascii_lowercase();
            let value = value.as_ref().trim();
            let slot = match name.as_str() {
                "x-ratelimit-limit-requests" => (&mut parsed.limit_requests, parse_count(value)),
                "x-ratelimit-limit-tokens" => (&mut parsed.limit_tokens, parse_count(value)),
                "x-ratelimit-remaining-requests" => {
                    (&mut parsed.remaining_requests, parse_count(value))
                }
                "x-ratelimit-remaining-tokens" => {
                    (&mut parsed.remaining_tokens, parse_count(value))
                }
                "x-ratelimit-reset-requests" => {
                    (&mut parsed.reset_requests_ms, parse_duration_ms(value))
                }
                "x-ratelimit-reset-tokens" => {
                    (&mut parsed.reset_tokens_ms, parse_duration_ms(value))
                }
                "anthropic-ratelimit-requests-limit" => {
                    (&mut parsed.limit_requests, parse_count(value))
                }
                "anthropic-ratelimit-tokens-limit" => {
                    (&mut parsed.limit_tokens, parse_count(value))
                }
                "anthropic-ratelimit-requests-remaining" => {
                    (&mut parsed.remaining_requests, parse_count(value))
                }
                "anthropic-ratelimit-tokens-remaining" => {
                    (&mut parsed.remaining_tokens, parse_count(value))
                }
                "anthropic-ratelimit-requests-reset" => (
                    &mut parsed.reset_requests_ms,
                    parse_rfc3339_ms(value).map(|at| at.saturating_sub(now_ms)),
                ),
                "anthropic-ratelimit-tokens-reset" => (
                    &mut parsed.reset_tokens_ms,
                    parse_rfc3339_ms(value).map(|at| at.saturating_sub(now_ms)),
                ),
                "retry-after" => (&mut parsed.retry_after_ms, parse_retry_after(value, now_ms)),
                "retry-after-ms" => (
                    &mut parsed.retry_after_ms_exact,
                    parse_decimal_ms(value, 1.0),
                ),
                _ => continue,
            };
            if let (field, Some(v)) = slot {
                *field = Some(v);
            }
        }
        parsed
    }

    /// The delay the provider asked for before the next attempt, in milliseconds:
    /// `retry-after-ms` when present (it is the more precise), else `retry-after`, else `None`.
    /// The `x-ratelimit-reset-*` headers are deliberately not used here: they give the time until
    /// the whole budget is replenished, which overstates the wait for one request.
    pub fn retry_delay_ms(&self) -> Option<u64> {
        self.retry_after_ms_exact.or(self.retry_after_ms)
    }

    /// [`Self::retry_delay_ms`] capped at `max_ms`, so that a hostile or buggy header (say
    /// `retry-after: 86400`) cannot park a batch for a day.
    pub fn retry_delay_capped_ms(&self, max_ms: u64) -> Option<u64> {
        self.retry_delay_ms()
            .map(|delay| cap_delay_ms(delay, max_ms))
    }

    /// True when no rate-limit header was readable (the usual case when the server does not
    /// expose them to the browser).
    pub fn is_empty(&self) -> bool {
        *self == RateLimitHeaders::default()
    }
}

/// Caps a delay at `max_ms`.
pub fn cap_delay_ms(delay_ms: u64, max_ms: u64) -> u64 {
    delay_ms.min(max_ms)
}

/// Parses a non-negative count such as `"500"`; a decimal such as `"499.0"` is floored.
fn parse_count(value: &str) -> Option<u64> {
    if let Ok(n) = value.parse::<u64>() {
        return Some(n);
    }
    let f = value.parse::<f64>().ok()?;
    (f.is_finite() && f >= 0.0).then(|| f.floor() as u64)
}

/// Parses a non-negative decimal number of `unit_ms`-millisecond units, rounding up to whole
/// milliseconds (waiting slightly too long is safe; too short earns another 429).
fn parse_decimal_ms(value: &str, unit_ms: f64) -> Option<u64> {
    let f = value.parse::<f64>().ok()?;
    if !f.is_finite() || f < 0.0 {
        return None;
    }
    // Products such as 1.1 × 1000 land a hair above the integer; trim float noise before
    // rounding up.
    Some((f * unit_ms - 1e-9).max(0.0).ceil() as u64)
}

/// Parses `retry-after`: either delay-seconds (`"2"`, tolerated `"1.5"`) or an HTTP date, which
/// becomes the time from `now_ms` until then (zero when it has passed).
fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    parse_decimal_ms(value, 1000.0)
        .or_else(|| parse_http_date_ms(value).map(|at| at.saturating_sub(now_ms)))
}

/// Parses a Go-style duration as used by `x-ratelimit-reset-*`: a sequence of decimal numbers
/// each followed by a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), such as `"12ms"`, `"1.5s"`,
/// `"6m0s"` or `"1h2m3s"`. A bare number is taken as seconds. The result is rounded up to whole
/// milliseconds. Returns `None` for anything else.
pub fn parse_duration_ms(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Some(ms) = parse_decimal_ms(value, 1000.0) {
        return Some(ms);
    }
    let mut total_ms = 0.0f64;
    let mut rest = value;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_ms = match &rest[..unit_len] {
            "ns" => 1e-6,
            "us" | "µs" | "μs" => 1e-3,
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total_ms += number * unit_ms;
    }
    // Sums such as "1.1s" land a hair above the integer; trim float noise before rounding up.
    Some((total_ms - 1e-9).max(0.0).ceil() as u64)
}

/// Parses an HTTP date into Unix milliseconds. Accepts the preferred IMF-fixdate
/// (`"Sun, 06 Nov 1994 08:49:37 GMT"`) and the two obsolete forms HTTP still requires recipients
/// to read: RFC 850 (`"Sunday, 06-Nov-94 08:49:37 GMT"`) and asctime
/// (`"Sun Nov  6 08:49:37 1994"`).
pub fn parse_http_date_ms(value: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let mut month = None;
    let mut time = None;
    let mut numbers = Vec::new();
    for token in value
        .split([' ', ',', '-'])
        .filter(|token| !token.is_empty())
    {
        let lower = token.to_ascii_lowercase();
        if let Some(index) = MONTHS.iter().position(|m| *m == lower) {
            month = Some(index as u32 + 1);
        } else if token.contains(':') {
            let mut parts = token.split(':').map(|p| p.parse::<u32>().ok());
            let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
            if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
                return None;
            }
            time = Some((h, m, s));
        } else if token.bytes().all(|b| b.is_ascii_digit()) {
            numbers.push((token.len(), token.parse::<u32>().ok()?));
        }
    }
    // In all three forms the day of the month comes before the year.
    let &[(_, day), (year_len, year)] = numbers.as_slice() else {
        return None;
    };
    let year = match (year_len, year) {
        (2, y) if y < 70 => 2000 + y,
        (2, y) => 1900 + y,
        (4, y) => y,
        _ => return None,
    };
    let (month, (h, m, s)) = (month?, time?);
    if !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    let days = days_from_civil(year as i64, month, day);
    let seconds = days * 86_400 + (h as i64) * 3_600 + (m as i64) * 60 + s as i64;
    u64::try_from(seconds).ok().map(|s| s * 1_000)
}

/// Parses an RFC 3339 instant (`2026-12-07T16:00:30Z`, optionally with fractional seconds, a
/// lower-case `t`/`z` or a space, or an offset such as `+08:00`) into Unix milliseconds, as
/// Anthropic sends its rate-limit resets. Returns `None` for anything else or before 1970.
pub fn parse_rfc3339_ms(value: &str) -> Option<u64> {
    let value = value.trim();
    let (date, rest) = (value.get(..10)?, value.get(10..)?);
    let sep = rest.chars().next()?;
    if !matches!(sep, 'T' | 't' | ' ') {
        return None;
    }
    let rest = &rest[1..];
    let number = |text: &str| -> Option<u32> {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    let mut ymd = date.split('-');
    let (year, month, day) = (
        number(ymd.next()?)?,
        number(ymd.next()?)?,
        number(ymd.next()?)?,
    );
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (time, zone) = rest.split_at(zone_at);
    let (time, fraction) = match time.split_once('.') {
        Some((time, fraction)) => (time, Some(fraction)),
        None => (time, None),
    };
    let mut hms = time.split(':');
    let (h, m, s) = (
        number(hms.next()?)?,
        number(hms.next()?)?,
        number(hms.next()?)?,
    );
    if hms.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || year < 1970
        || h > 23
        || m > 59
        || s > 60
    {
        return None;
    }
    let millis = match fraction {
        Some(f) => {
            number(f)?;
            let digits: String = f.chars().chain("000".chars()).take(3).collect();
            i64::from(digits.parse::<u32>().ok()?)
        }
        None => 0,
    };
    let offset_s = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (oh, om) = zone[1..].split_once(':')?;
            let (oh, om) = (number(oh)?, number(om)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (i64::from(oh) * 3_600 + i64::from(om) * 60)
        }
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds =
        days * 86_400 + i64::from(h) * 3_600 + i64::from(m) * 60 + i64::from(s) - offset_s;
    u64::try_from(seconds * 1_000 + millis).ok()
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_duration(input: &str, expect: Option<u64>) {
        assert_eq!(parse_duration_ms(input), expect, "duration {input:?}");
    }

    #[test]
    fn go_durations() {
        check_duration("12ms", Some(12));
        check_duration("1s", Some(1_000));
        check_duration("1.5s", Some(1_500));
        check_duration("20.332s", Some(20_332));
        check_duration("6m0s", Some(360_000));
        check_duration("1h2m3s", Some(3_723_000));
        check_duration("2m59.56s", Some(179_560));
        check_duration("0s", Some(0));
        check_duration("1.1s", Some(1_100));
        check_duration("100us", Some(1));
        check_duration("500ns", Some(1));
        check_duration("7", Some(7_000));
        check_duration("", None);
        check_duration("soon", None);
        check_duration("5d", None);
        check_duration("ms", None);
        check_duration("-1s", None);
    }

    fn check_date(input: &str, expect: Option<u64>) {
        assert_eq!(parse_http_date_ms(input), expect, "date {input:?}");
    }

    #[test]
    fn http_dates() {
        // 1994-11-06T08:49:37Z is Unix time 784111777.
        check_date("Sun, 06 Nov 1994 08:49:37 GMT", Some(784_111_777_000));
        check_date("Sunday, 06-Nov-94 08:49:37 GMT", Some(784_111_777_000));
        check_date("Sun Nov  6 08:49:37 1994", Some(784_111_777_000));
        // A leap day: 2024-02-29T00:00:00Z is Unix time 1709164800.
        check_date("Thu, 29 Feb 2024 00:00:00 GMT", Some(1_709_164_800_000));
        check_date("Thu, 01 Jan 1970 00:00:00 GMT", Some(0));
        check_date("Thu, 29 Feb 2024 25:00:00 GMT", None);
        check_date("tomorrow", None);
        check_date("Thu, 29 Foo 2024 00:00:00 GMT", None);
    }

    fn check(headers: &[(&str, &str)], now_ms: u64, expect: RateLimitHeaders) {
        assert_eq!(
            RateLimitHeaders::parse(headers.iter().copied(), now_ms),
            expect,
            "{headers:?}"
        );
    }

    #[test]
    fn openai_headers_case_insensitive() {
        check(
            &[
                ("X-RateLimit-Limit-Requests", "500"),
                ("x-ratelimit-limit-tokens", "30000"),
                ("x-ratelimit-remaining-requests", "499"),
                ("X-RATELIMIT-REMAINING-TOKENS", "29950"),
                ("x-ratelimit-reset-requests", "120ms"),
                ("x-ratelimit-reset-tokens", "6m0s"),
                ("content-type", "application/json"),
            ],
            0,
            RateLimitHeaders {
                limit_requests: Some(500),
                limit_tokens: Some(30_000),
                remaining_requests: Some(499),
                remaining_tokens: Some(29_950),
                reset_requests_ms: Some(120),
                reset_tokens_ms: Some(360_000),
                ..RateLimitHeaders::default()
            },
        );
    }

    #[test]
    fn retry_after_forms() {
        check(
            &[("Retry-After", "3")],
            0,
            RateLimitHeaders {
                retry_after_ms: Some(3_000),
                ..RateLimitHeaders::default()
            },
        );
        // An HTTP date 20 s after "now".
        let now = 784_111_757_000;
        check(
            &[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")],
            now,
            RateLimitHeaders {
                retry_after_ms: Some(20_000),
                ..RateLimitHeaders::default()
            },
        );
        // A date in the past means "now".
        check(
            &[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")],
            now + 60_000,
            RateLimitHeaders {
                retry_after_ms: Some(0),
                ..RateLimitHeaders::default()
            },
        );
        check(
            &[("retry-after", "whenever")],
            0,
            RateLimitHeaders::default(),
        );
        check(&[("retry-after-ms", "-5")], 0, RateLimitHeaders::default());
    }

    #[test]
    fn retry_delay_prefers_exact_ms() {
        let both = RateLimitHeaders::parse([("retry-after", "2"), ("retry-after-ms", "1234.5")], 0);
        assert_eq!(both.retry_delay_ms(), Some(1_235));
        let seconds_only = RateLimitHeaders::parse([("retry-after", "2")], 0);
        assert_eq!(seconds_only.retry_delay_ms(), Some(2_000));
        let reset_only = RateLimitHeaders::parse([("x-ratelimit-reset-requests", "1s")], 0);
        assert_eq!(reset_only.retry_delay_ms(), None);
        let huge = RateLimitHeaders::parse([("retry-after", "86400")], 0);
        assert_eq!(huge.retry_delay_capped_ms(60_000), Some(60_000));
        assert_eq!(cap_delay_ms(500, 60_000), 500);
    }

    #[test]
    fn rfc3339_instants() {
        // 2026-12-07T16:00:30Z is Unix time 1796659230.
        assert_eq!(
            parse_rfc3339_ms("2026-12-07T16:00:30Z"),
            Some(1_796_659_230_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-12-07T16:00:30.25Z"),
            Some(1_796_659_230_250)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-12-08T00:00:30+08:00"),
            Some(1_796_659_230_000)
        );
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_ms("2026-12-07T16:00:30"), None);
        assert_eq!(parse_rfc3339_ms("2026-13-07T16:00:30Z"), None);
        assert_eq!(parse_rfc3339_ms("soon"), None);
        assert_eq!(parse_rfc3339_ms("2026-12-07T16:00:3xZ"), None);
    }

    #[test]
    fn anthropic_headers() {
        let now = 1_796_659_200_000; // 2026-12-07T16:00:00Z
        check(
            &[
                ("anthropic-ratelimit-requests-limit", "50"),
                ("anthropic-ratelimit-requests-remaining", "49"),
                ("anthropic-ratelimit-requests-reset", "2026-12-07T16:00:30Z"),
                ("Anthropic-RateLimit-Tokens-Limit", "30000"),
                ("anthropic-ratelimit-tokens-remaining", "29000"),
                // Already past: no wait.
                ("anthropic-ratelimit-tokens-reset", "2026-12-07T15:59:00Z"),
                ("retry-after", "12"),
            ],
            now,
            RateLimitHeaders {
                limit_requests: Some(50),
                remaining_requests: Some(49),
                reset_requests_ms: Some(30_000),
                limit_tokens: Some(30_000),
                remaining_tokens: Some(29_000),
                reset_tokens_ms: Some(0),
                retry_after_ms: Some(12_000),
                ..RateLimitHeaders::default()
            },
        );
    }

    #[test]
    fn every_listed_header_is_understood() {
        for name in RATE_LIMIT_HEADER_NAMES {
            assert_eq!(*name, name.to_ascii_lowercase());
            let value = if name.starts_with("anthropic-") && name.ends_with("-reset") {
                "2026-12-07T16:00:30Z"
            } else {
                "5"
            };
            assert!(
                !RateLimitHeaders::parse([(*name, value)], 0).is_empty(),
                "{name} is listed but not parsed"
            );
        }
    }

    #[test]
    fn empty_and_garbage() {
        let none: [(&str, &str); 0] = [];
        assert!(RateLimitHeaders::parse(none, 0).is_empty());
        let garbage = RateLimitHeaders::parse([("x-ratelimit-remaining-requests", "lots")], 0);
        assert!(garbage.is_empty());
        let decimal = RateLimitHeaders::parse([("x-ratelimit-remaining-tokens", "29950.0")], 0);
        assert_eq!(decimal.remaining_tokens, Some(29_950));
    }
}
