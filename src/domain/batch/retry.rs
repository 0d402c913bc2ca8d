//! What to do after a failed request: retry (after a full-jitter backoff), slow the lane, fall
//! back to another model, fail the item, or stop the whole batch; and the deterministic
//! random numbers the jitter draws from.
//!
//! | failure | verdict |
//! |---|---|
//! | 429 rate limit | [`FailureClass::RateLimited`]: the whole lane pauses and slows down; the item waits and is sent again (not counted as an attempt, but capped by [`RetryConfig::max_rate_limited`]) |
//! | 429 `insufficient_quota`, 402 | [`FailureClass::Stop`]: the batch stops and tells the user; the item goes back to the queue (nothing was billed) |
//! | 401 / invalid key | [`FailureClass::Stop`] too: every other item would fail the same way |
//! | 5xx (but 501, 505) and 408 before any byte of a reply, server unreachable, a relay's error in place of a reply | [`FailureClass::Transient`]: nothing was generated, so it is retried with backoff up to [`RetryConfig::max_attempts`] attempts per model; counts toward falling back |
//! | model not found | [`FailureClass::ModelUnavailable`]: the next fallback model at once, else failed |
//! | our timeout (before or during the reply), the connection lost after the headers, a stream cut, stalled or carrying an error, an unreadable 200, a request we aborted | [`FailureClass::Unknown`]: the provider may have generated and billed a reply ([`ApiError::may_be_billed`]), so the item's outcome is unknown and it is never resent without the user's consent: a retry could pay twice |
//! | any other 4xx, CORS refusal, context too long | [`FailureClass::Permanent`]: the item fails without retrying |

use serde::{Deserialize, Serialize};

use super::engine::StopReason;
use crate::domain::provider::api_error::{ApiError, NetworkFailure};

/// Retry policy. The defaults are documented per field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryConfig {
    /// Attempts per model for transient failures (5xx, timeout, network), the first included.
    /// Default 6: with one answer in five a 5xx (the benchmark's fault run), an item then fails
    /// on a model with odds of 1 in 15,625 (1 in 256 with 4).
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry, doubled for each further one. Default 1,000 ms.
    pub base_ms: u64,
    /// The largest backoff ceiling. Default 30,000 ms.
    pub cap_ms: u64,
    /// The longest `retry-after` honoured; a longer one (say a day) is cut to this. Default
    /// 60,000 ms.
    pub retry_after_cap_ms: u64,
    /// Rate-limit 429s one item may meet before it fails. Default 8.
    pub max_rate_limited: u32,
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig {
            max_attempts: 6,
            base_ms: 1_000,
            cap_ms: 30_000,
            retry_after_cap_ms: 60_000,
            max_rate_limited: 8,
        }
    }
}

impl RetryConfig {
    /// The full-jitter backoff before retry number `retry` (1 for the first retry):
    /// `rand01 × min(cap, base × 2^(retry − 1))`, with `rand01` ∈ [0, 1).
    pub fn backoff_ms(&self, retry: u32, rand01: f64) -> f64 {
        let exponent = retry.saturating_sub(1).min(40);
        let ceiling = (self.base_ms as f64 * 2f64.powi(exponent as i32)).min(self.cap_ms as f64);
        ceiling * rand01.clamp(0.0, 1.0)
    }

    /// A provider's requested delay, capped at [`RetryConfig::retry_after_cap_ms`].
    pub fn capped_retry_after(&self, retry_after_ms: Option<u64>) -> Option<u64> {
        retry_after_ms.map(|ms| ms.min(self.retry_after_cap_ms))
    }
}

/// The verdict on one failed request (see the module table).
#[derive(Clone, Debug, PartialEq)]
pub enum FailureClass {
    /// A rate limit: pause and slow the lane, then send the item again.
    RateLimited {
        /// The provider's requested delay, if it gave one.
        retry_after_ms: Option<u64>,
    },
    /// Stop the whole batch.
    Stop(StopReason),
    /// Retry after a backoff, up to the attempt limit; counts toward falling back.
    Transient,
    /// The model cannot serve this request: fall back now, or fail.
    ModelUnavailable,
    /// The provider may have generated (and billed) a reply: wait for the user's word.
    Unknown,
    /// Fail the item without retrying.
    Permanent,
}

/// Classifies a failed request.
pub fn classify(error: &ApiError) -> FailureClass {
    if error.may_be_billed() {
        return FailureClass::Unknown;
    }
    match error {
        ApiError::RateLimited { retry_after_ms } => FailureClass::RateLimited {
            retry_after_ms: *retry_after_ms,
        },
        ApiError::InsufficientQuota => FailureClass::Stop(StopReason::InsufficientQuota),
        ApiError::InvalidKey => FailureClass::Stop(StopReason::InvalidKey),
        ApiError::ServerError { .. } if error.can_retry() => FailureClass::Transient,
        ApiError::Network {
            failure: NetworkFailure::Unreachable,
        } => FailureClass::Transient,
        ApiError::RequestTimeout => FailureClass::Transient,
        ApiError::ModelNotFound => FailureClass::ModelUnavailable,
        ApiError::Timeout
        | ApiError::Cancelled
        | ApiError::Malformed { .. }
        | ApiError::StreamCut { .. }
        | ApiError::ReplyLost { .. }
        | ApiError::StreamError { .. } => FailureClass::Unknown,
        ApiError::ServerError { .. }
        | ApiError::Network { .. }
        | ApiError::ContextTooLong
        | ApiError::Other { .. } => FailureClass::Permanent,
    }
}

/// SplitMix64: a tiny, fast, deterministic generator (Steele, Lea and Flood, 2014), enough for
/// jitter. Its whole state is one `u64`, so it persists with the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitMix64 {
    /// The generator's state.
    pub state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::provider::chat::Completion;

    #[test]
    fn full_jitter_backoff() {
        let config = RetryConfig::default();
        assert_eq!(config.backoff_ms(1, 0.0), 0.0);
        assert_eq!(config.backoff_ms(1, 0.5), 500.0);
        assert_eq!(config.backoff_ms(2, 0.5), 1_000.0);
        assert_eq!(config.backoff_ms(3, 0.5), 2_000.0);
        // Capped at 30 s.
        assert_eq!(config.backoff_ms(10, 0.5), 15_000.0);
        assert_eq!(config.backoff_ms(u32::MAX, 0.999), 29_970.0);
        assert_eq!(config.capped_retry_after(Some(86_400_000)), Some(60_000));
        assert_eq!(config.capped_retry_after(Some(1_500)), Some(1_500));
        assert_eq!(config.capped_retry_after(None), None);
    }

    fn check(error: ApiError, expect: FailureClass) {
        assert_eq!(classify(&error), expect, "{error:?}");
    }

    #[test]
    fn classification() {
        check(
            ApiError::RateLimited {
                retry_after_ms: Some(1_000),
            },
            FailureClass::RateLimited {
                retry_after_ms: Some(1_000),
            },
        );
        check(
            ApiError::InsufficientQuota,
            FailureClass::Stop(StopReason::InsufficientQuota),
        );
        check(
            ApiError::InvalidKey,
            FailureClass::Stop(StopReason::InvalidKey),
        );
        check(
            ApiError::ServerError { status: 500 },
            FailureClass::Transient,
        );
        check(
            ApiError::ServerError { status: 503 },
            FailureClass::Transient,
        );
        check(
            ApiError::ServerError { status: 501 },
            FailureClass::Permanent,
        );
        check(ApiError::network(false), FailureClass::Transient);
        check(ApiError::network(true), FailureClass::Permanent);
        check(ApiError::Timeout, FailureClass::Unknown);
        check(ApiError::RequestTimeout, FailureClass::Transient);
        check(
            ApiError::ReplyLost {
                partial: Box::new(Completion::default()),
            },
            FailureClass::Unknown,
        );
        // An in-stream rate limit after the reply began is not a free 429: it may be billed.
        check(
            ApiError::StreamError {
                cause: Box::new(ApiError::RateLimited {
                    retry_after_ms: None,
                }),
                partial: Box::new(Completion::default()),
            },
            FailureClass::Unknown,
        );
        check(ApiError::ModelNotFound, FailureClass::ModelUnavailable);
        check(
            ApiError::StreamCut {
                partial: Box::new(Completion::default()),
            },
            FailureClass::Unknown,
        );
        check(ApiError::malformed("cut JSON"), FailureClass::Unknown);
        check(ApiError::Cancelled, FailureClass::Unknown);
        check(ApiError::ContextTooLong, FailureClass::Permanent);
        check(
            ApiError::Other {
                status: 400,
                message: String::new(),
            },
            FailureClass::Permanent,
        );
    }

    #[test]
    fn splitmix_is_deterministic_and_uniform_enough() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        let xs: Vec<f64> = (0..1_000).map(|_| a.next_f64()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert_eq!(xs[0], b.next_f64());
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "{mean}");
        // The reference value of SplitMix64 seeded with 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }
}
