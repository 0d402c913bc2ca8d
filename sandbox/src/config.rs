//! Fault and limit configuration.
//!
//! The configuration is plain JSON, set at start from the `SANDBOX_CONFIG`
//! environment variable or at run time with `POST /_sandbox/config`. Every field
//! is optional: a missing field takes its default, and posting a configuration
//! replaces the whole previous one. Unknown fields are rejected so a typo does
//! not silently leave a fault switched off.

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;

/// The whole sandbox configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Uniform delay before a chat response starts (before its first byte).
    pub latency_ms: LatencyRange,
    /// Delay between two streamed chunks, in milliseconds.
    pub stream_chunk_delay_ms: u64,
    /// Seed of the fault generator: the same seed gives the same fault sequence.
    pub seed: u64,
    /// Per-request fault probabilities.
    pub faults: FaultRates,
    /// How long a `slow_first_byte` fault holds the response headers back.
    pub slow_first_byte_ms: u64,
    /// Requests per minute allowed per key, enforced per second; `None` is unlimited.
    pub rpm: Option<u64>,
    /// Tokens per minute allowed per key, enforced per second; `None` is unlimited.
    pub tpm: Option<u64>,
    /// Timing and failures of the video job APIs (see [`crate::video`]).
    pub video: VideoConfig,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            latency_ms: LatencyRange::default(),
            stream_chunk_delay_ms: 8,
            seed: 1,
            faults: FaultRates::default(),
            slow_first_byte_ms: 3000,
            rpm: None,
            tpm: None,
            video: VideoConfig::default(),
        }
    }
}

/// How video jobs progress and fail. A job copies these values when it is
/// submitted, so changing the configuration never alters a job under way.
///
/// Every failure rule is deterministic: `fail_every` counts jobs by their
/// sequence number (1, 2, 3… since start or the last reset, both API shapes
/// together), `fail_rate` draws from a generator seeded by `seed` and that
/// sequence number, and a prompt fails when it contains
/// `fail_prompts_containing` or the directive `[[sandbox:video=fail]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VideoConfig {
    /// How long a job stays `queued`.
    pub queued_ms: u64,
    /// How long a job renders (`in_progress`, progress 0 to 100) before it
    /// completes. A failing job fails halfway through.
    pub render_ms: u64,
    /// Probability (0.0 to 1.0) that a job fails.
    pub fail_rate: f64,
    /// Every Nth job fails (N ≥ 1); `None` for none.
    pub fail_every: Option<u32>,
    /// Jobs whose prompt contains this text (case-sensitive) fail.
    pub fail_prompts_containing: Option<String>,
    /// How long the download link of a completed video works, counted from
    /// completion (`expires_at`). After that the content is 404 `video_expired`.
    pub link_ttl_ms: u64,
}

impl Default for VideoConfig {
    fn default() -> Self {
        Self {
            queued_ms: 1000,
            render_ms: 4000,
            fail_rate: 0.0,
            fail_every: None,
            fail_prompts_containing: None,
            link_ttl_ms: 3_600_000,
        }
    }
}

/// An inclusive range of milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyRange {
    /// The shortest delay.
    pub min: u64,
    /// The longest delay.
    pub max: u64,
}

/// The probability (0.0 to 1.0) of each fault, drawn once per chat request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// 429 `rate_limit_exceeded` with `retry-after: 1`.
    pub rate_limit: f64,
    /// 429 `insufficient_quota` (not worth retrying).
    pub insufficient_quota: f64,
    /// 500 `server_error`.
    pub server_500: f64,
    /// 503 "The engine is currently overloaded".
    pub server_503: f64,
    /// 200 with a body cut off mid-JSON, or a broken SSE line when streaming.
    pub malformed_json: f64,
    /// A stream that stops halfway with no usage and no `[DONE]`.
    pub stream_cut: f64,
    /// Hold the response headers back for `slow_first_byte_ms`.
    pub slow_first_byte: f64,
}

/// A fault that replaces the normal response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 rate limit.
    RateLimit,
    /// 429 insufficient quota.
    InsufficientQuota,
    /// 500 server error.
    Server500,
    /// 503 overloaded.
    Server503,
    /// Broken JSON in a 200 response.
    MalformedJson,
    /// A stream that ends halfway.
    StreamCut,
}

/// What the fault generator decided for one chat request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// The fault replacing the response, if any.
    pub fault: Option<Fault>,
    /// Whether the response headers are held back for `slow_first_byte_ms`.
    pub slow_first_byte: bool,
    /// The latency drawn from `latency_ms`.
    pub latency_ms: u64,
}

impl FaultPlan {
    /// The total delay before the first byte of the response.
    pub fn delay_ms(&self, config: &SandboxConfig) -> u64 {
        let slow = if self.slow_first_byte {
            config.slow_first_byte_ms
        } else {
            0
        };
        self.latency_ms + slow
    }
}

impl SandboxConfig {
    /// Parses a configuration from JSON and validates it.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let config: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the values that the type system cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.latency_ms.min > self.latency_ms.max {
            return Err("latency_ms.min must not exceed latency_ms.max".into());
        }
        let rates = [
            ("rate_limit", self.faults.rate_limit),
            ("insufficient_quota", self.faults.insufficient_quota),
            ("server_500", self.faults.server_500),
            ("server_503", self.faults.server_503),
            ("malformed_json", self.faults.malformed_json),
            ("stream_cut", self.faults.stream_cut),
            ("slow_first_byte", self.faults.slow_first_byte),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("faults.{name} must be between 0.0 and 1.0"));
            }
        }
        if self.rpm == Some(0) || self.tpm == Some(0) {
            return Err(
                "rpm and tpm must be at least 1 (omit them or use null for no limit)".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.video.fail_rate) {
            return Err("video.fail_rate must be between 0.0 and 1.0".into());
        }
        if self.video.fail_every == Some(0) {
            return Err(
                "video.fail_every must be at least 1 (omit it or use null for none)".into(),
            );
        }
        if self.video.fail_prompts_containing.as_deref() == Some("") {
            return Err(
                "video.fail_prompts_containing must not be empty (omit it or use null for none)"
                    .into(),
            );
        }
        Ok(())
    }

    /// Draws the fault plan of the next chat request.
    ///
    /// Every call takes the same number of values from `rng` (one for the
    /// latency, then one per fault kind in a fixed order), so the plan of the
    /// n-th request depends only on the seed and n. The first error fault whose
    /// draw falls under its probability wins; `slow_first_byte` is drawn
    /// independently and can combine with any outcome.
    pub fn draw_faults(&self, rng: &mut SplitMix64) -> FaultPlan {
        let latency_ms = rng.between(self.latency_ms.min, self.latency_ms.max);
        let kinds = [
            (Fault::RateLimit, self.faults.rate_limit),
            (Fault::InsufficientQuota, self.faults.insufficient_quota),
            (Fault::Server500, self.faults.server_500),
            (Fault::Server503, self.faults.server_503),
            (Fault::MalformedJson, self.faults.malformed_json),
            (Fault::StreamCut, self.faults.stream_cut),
        ];
        let mut fault = None;
        for (kind, probability) in kinds {
            let draw = rng.next_f64();
            if fault.is_none() && draw < probability {
                fault = Some(kind);
            }
        }
        let slow_first_byte = rng.next_f64() < self.faults.slow_first_byte;
        FaultPlan {
            fault,
            slow_first_byte,
            latency_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_gives_defaults() {
        let config = SandboxConfig::from_json("{}").unwrap();
        assert_eq!(config, SandboxConfig::default());
        assert_eq!(config.stream_chunk_delay_ms, 8);
        assert_eq!(config.slow_first_byte_ms, 3000);
        assert_eq!(config.seed, 1);
        assert_eq!(config.rpm, None);
        assert_eq!(config.video.queued_ms, 1000);
        assert_eq!(config.video.render_ms, 4000);
        assert_eq!(config.video.fail_every, None);
        assert_eq!(config.video.link_ttl_ms, 3_600_000);
    }

    #[test]
    fn video_config_is_validated() {
        let config =
            SandboxConfig::from_json(r#"{"video":{"queued_ms":20,"fail_every":3}}"#).unwrap();
        assert_eq!(config.video.queued_ms, 20);
        assert_eq!(config.video.render_ms, 4000);
        assert_eq!(config.video.fail_every, Some(3));
        assert!(SandboxConfig::from_json(r#"{"video":{"fail_rate":1.5}}"#).is_err());
        assert!(SandboxConfig::from_json(r#"{"video":{"fail_every":0}}"#).is_err());
        assert!(SandboxConfig::from_json(r#"{"video":{"fail_prompts_containing":""}}"#).is_err());
        assert!(SandboxConfig::from_json(r#"{"video":{"render":5}}"#).is_err());
    }

    #[test]
    fn partial_json_keeps_other_defaults() {
        let config =
            SandboxConfig::from_json(r#"{"faults":{"server_500":0.5},"rpm":60,"tpm":null}"#)
                .unwrap();
        assert_eq!(config.faults.server_500, 0.5);
        assert_eq!(config.faults.rate_limit, 0.0);
        assert_eq!(config.rpm, Some(60));
        assert_eq!(config.stream_chunk_delay_ms, 8);
    }

    #[test]
    fn invalid_configs_are_rejected() {
        assert!(SandboxConfig::from_json(r#"{"fautls":{}}"#).is_err());
        assert!(SandboxConfig::from_json(r#"{"faults":{"server_500":1.5}}"#).is_err());
        assert!(SandboxConfig::from_json(r#"{"latency_ms":{"min":5,"max":1}}"#).is_err());
        assert!(SandboxConfig::from_json(r#"{"rpm":0}"#).is_err());
        assert!(SandboxConfig::from_json("not json").is_err());
    }

    #[test]
    fn fault_draws_are_deterministic_and_respect_probabilities() {
        let mut config = SandboxConfig::default();
        config.faults.server_503 = 0.5;
        config.latency_ms = LatencyRange { min: 10, max: 20 };
        let plans = |seed| {
            let mut rng = SplitMix64::new(seed);
            (0..200)
                .map(|_| config.draw_faults(&mut rng))
                .collect::<Vec<_>>()
        };
        let first = plans(1);
        assert_eq!(first, plans(1));
        assert_ne!(first, plans(2));
        let faulted = first.iter().filter(|p| p.fault.is_some()).count();
        assert!((60..140).contains(&faulted), "{faulted} of 200");
        assert!(first
            .iter()
            .all(|p| p.fault.is_none() || p.fault == Some(Fault::Server503)));
        assert!(first.iter().all(|p| (10..=20).contains(&p.latency_ms)));
        assert!(first.iter().all(|p| !p.slow_first_byte));

        config.faults.rate_limit = 1.0;
        let mut rng = SplitMix64::new(9);
        assert_eq!(
            config.draw_faults(&mut rng).fault,
            Some(Fault::RateLimit),
            "earlier kinds win"
        );
    }
}
