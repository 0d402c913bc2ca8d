//! Fault and limit configuration.
//!
//! The configuration is plain JSON, set at start from the `SANDBOX_CONFIG`
//! environment variable or at run time with `POST /_sandbox/config`. Every field
//! is optional: a missing field takes its default, and posting a configuration
//! replaces the whole previous one. Unknown fields are rejected so a typo does
//! not silently leave a fault switched off.
//!
//! The fields: `latency_ms`, `stream_chunk_delay_ms`, `seed`, `faults`
//! ([`FaultRates`]), `slow_first_byte_ms`, `rpm`, `tpm`, `hang_ms`,
//! `retry_after_date_s`, `try_again_in_s`, `expose_rate_limit_headers`, the
//! CORS refusals `cors_refuse_headers`, `cors_refuse_preflight` and
//! `cors_block_post` (see [`crate::cors`](mod@crate::cors)), `model_ids`
//! ([`ModelIds`], how the models are named: as the catalog names them, or
//! `vendor/model` as OpenRouter does), and `video` ([`VideoConfig`]); each
//! is documented on [`SandboxConfig`].
//!
//! The billing mode (`--billing real|complete`) is not part of this
//! configuration: it is fixed for the life of the process (see
//! [`crate::billing`]).
//!
//! Faults fall in two groups. *Pre-generation* faults (the 429s, 5xx pages,
//! 408, a relay's 200 error) answer before any token is generated and are
//! never billed. *Generation* faults (`malformed_json`, `stream_cut`,
//! `timeout_after_generation`, `body_dropped`, `reset_mid_stream`,
//! `stall_mid_stream`, `stream_error_event`) break the reply after generation
//! started: in `real` billing mode they are billed for what was generated.

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;

/// Mixed into the seed of the generator that draws the fault kinds added
/// after the first six, so adding them left the first six's sequences as
/// they were.
const EXTRA_FAULTS_SALT: u64 = 0x5a4e_6e65_7746_6175;
/// How many kinds of [`FaultRates::kinds`] the first stream draws.
const CLASSIC_KINDS: usize = 6;

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
    /// How long `timeout_after_generation` holds the headers back and
    /// `stall_mid_stream` stalls before the connection closes.
    pub hang_ms: u64,
    /// How far in the future the HTTP date of a `retry_after_date` 429's
    /// `retry-after` header lies, in seconds.
    pub retry_after_date_s: u64,
    /// The `n` of a `try_again_message` 429's "Please try again in {n}s.".
    pub try_again_in_s: u64,
    /// Whether `Access-Control-Expose-Headers` lists the rate-limit headers
    /// (`x-ratelimit-*`, `retry-after`, `retry-after-ms`). When false, none of
    /// them is listed (the header is left out), so a browser cannot read them,
    /// as with providers that do not expose them.
    pub expose_rate_limit_headers: bool,
    /// Request headers whose preflight is refused: a CORS preflight
    /// (`OPTIONS`) whose `Access-Control-Request-Headers` lists any of them
    /// (compared case-insensitively) is answered 403 without any
    /// `Access-Control-*` header, so the browser never sends the request.
    /// Emulates OpenRouter refusing `openai-beta`, or an Anthropic
    /// organisation that turned direct browser access off
    /// (`anthropic-dangerous-direct-browser-access`). Empty by default. See
    /// [`crate::cors`](mod@crate::cors).
    pub cors_refuse_headers: Vec<String>,
    /// Whether every CORS preflight is refused that way, so a browser can
    /// send nothing but simple requests (Gemini's OpenAI-compatible
    /// endpoint). False by default.
    pub cors_refuse_preflight: bool,
    /// Whether a preflight for `POST` (`Access-Control-Request-Method: POST`)
    /// is refused that way, while `GET` requests and their preflights keep
    /// working: a relay that allows `GET /v1/models` from a browser but
    /// blocks `POST` at its CORS layer. The POST never reaches the API, so
    /// nothing is generated or billed. False by default.
    pub cors_block_post: bool,
    /// How the served models are named, in `GET /v1/models` and in the
    /// `model` that chat completions and Messages accept: `"catalog"` (the
    /// default, `gemini-2.5-flash`) or `"openrouter"` (`google/gemini-2.5-flash`,
    /// and a bare catalog name is then a model-not-found error). See
    /// [`crate::models`].
    pub model_ids: ModelIds,
    /// Timing and failures of the video job APIs (see [`crate::video`]).
    pub video: VideoConfig,
}

/// How the sandbox names the models it serves (the `model_ids` field).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelIds {
    /// Every model under its catalog name (`gemini-2.5-flash`, `claude-sonnet-4.5`), as the
    /// relays and the official APIs of OpenAI and Anthropic name them.
    #[default]
    Catalog,
    /// Every model as `{owned_by}/{catalog name}` (`google/gemini-2.5-flash`,
    /// `deepseek/deepseek-v3.2`, `anthropic/claude-sonnet-4.5`, `openai/gpt-4.1`), as
    /// OpenRouter lists and accepts them. A request naming the bare catalog name is answered
    /// with the protocol's model-not-found error, as OpenRouter answers an id it does not
    /// serve. A prefixed id is billed as its catalog model.
    Openrouter,
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
            hang_ms: 120_000,
            retry_after_date_s: 2,
            try_again_in_s: 20,
            expose_rate_limit_headers: true,
            cors_refuse_headers: Vec::new(),
            cors_refuse_preflight: false,
            cors_block_post: false,
            model_ids: ModelIds::Catalog,
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
    /// The reply is generated in full, but no response headers come for
    /// `hang_ms`; then the connection closes without a response.
    pub timeout_after_generation: f64,
    /// 200 headers, then the connection is aborted before any body byte.
    pub body_dropped: f64,
    /// About half the body (SSE events or JSON), then the connection is aborted.
    pub reset_mid_stream: f64,
    /// About half the SSE events (no body for JSON), then nothing for
    /// `hang_ms` while the connection stays open, then it closes unfinished.
    pub stall_mid_stream: f64,
    /// Some content chunks, then an in-stream `{"error":…}` event and the end
    /// (no `[DONE]`); a 500 `server_error` after generation when not streaming.
    pub stream_error_event: f64,
    /// 502 with an nginx-style `text/html` page, before generation.
    pub bad_gateway_html: f64,
    /// 504 with an nginx-style `text/html` page, before generation.
    pub gateway_timeout_html: f64,
    /// A relay's HTTP 200 whose JSON body is an `upstream_error`, before generation.
    pub relay_error_200: f64,
    /// 429 `rate_limit_exceeded` whose `retry-after` is an HTTP date
    /// `retry_after_date_s` seconds ahead, without `retry-after-ms`.
    pub retry_after_date: f64,
    /// 408 request timeout, before generation.
    pub request_timeout: f64,
    /// 429 without any retry header whose message says "Please try again in
    /// {try_again_in_s}s.".
    pub try_again_message: f64,
}

impl FaultRates {
    /// Every error fault with its JSON name and probability, in draw order.
    /// `slow_first_byte` is not an error fault and is not listed.
    pub fn kinds(&self) -> [(Fault, f64); 17] {
        [
            (Fault::RateLimit, self.rate_limit),
            (Fault::InsufficientQuota, self.insufficient_quota),
            (Fault::Server500, self.server_500),
            (Fault::Server503, self.server_503),
            (Fault::MalformedJson, self.malformed_json),
            (Fault::StreamCut, self.stream_cut),
            (Fault::TimeoutAfterGeneration, self.timeout_after_generation),
            (Fault::BodyDropped, self.body_dropped),
            (Fault::ResetMidStream, self.reset_mid_stream),
            (Fault::StallMidStream, self.stall_mid_stream),
            (Fault::StreamErrorEvent, self.stream_error_event),
            (Fault::BadGatewayHtml, self.bad_gateway_html),
            (Fault::GatewayTimeoutHtml, self.gateway_timeout_html),
            (Fault::RelayError200, self.relay_error_200),
            (Fault::RetryAfterDate, self.retry_after_date),
            (Fault::RequestTimeout, self.request_timeout),
            (Fault::TryAgainMessage, self.try_again_message),
        ]
    }
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
    /// Generated, then no response at all.
    TimeoutAfterGeneration,
    /// Headers, then an aborted connection.
    BodyDropped,
    /// Half the body, then an aborted connection.
    ResetMidStream,
    /// Half the body, a stall, then a closed connection.
    StallMidStream,
    /// An error event inside the stream (a 500 when not streaming).
    StreamErrorEvent,
    /// 502 HTML page.
    BadGatewayHtml,
    /// 504 HTML page.
    GatewayTimeoutHtml,
    /// 200 with a relay's error body.
    RelayError200,
    /// 429 with an HTTP-date `retry-after`.
    RetryAfterDate,
    /// 408.
    RequestTimeout,
    /// 429 whose only retry hint is in its message.
    TryAgainMessage,
}

impl Fault {
    /// The JSON name of the fault (its field in [`FaultRates`]).
    pub fn name(self) -> &'static str {
        match self {
            Self::RateLimit => "rate_limit",
            Self::InsufficientQuota => "insufficient_quota",
            Self::Server500 => "server_500",
            Self::Server503 => "server_503",
            Self::MalformedJson => "malformed_json",
            Self::StreamCut => "stream_cut",
            Self::TimeoutAfterGeneration => "timeout_after_generation",
            Self::BodyDropped => "body_dropped",
            Self::ResetMidStream => "reset_mid_stream",
            Self::StallMidStream => "stall_mid_stream",
            Self::StreamErrorEvent => "stream_error_event",
            Self::BadGatewayHtml => "bad_gateway_html",
            Self::GatewayTimeoutHtml => "gateway_timeout_html",
            Self::RelayError200 => "relay_error_200",
            Self::RetryAfterDate => "retry_after_date",
            Self::RequestTimeout => "request_timeout",
            Self::TryAgainMessage => "try_again_message",
        }
    }

    /// Every fault, in draw order.
    pub fn all() -> [Fault; 17] {
        FaultRates::default().kinds().map(|(kind, _)| kind)
    }

    /// Looks a fault up by its JSON name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|kind| kind.name() == name)
    }

    /// Whether the fault answers before any token is generated (so it is
    /// never billed), as opposed to breaking a reply under way.
    pub fn before_generation(self) -> bool {
        matches!(
            self,
            Self::RateLimit
                | Self::InsufficientQuota
                | Self::Server500
                | Self::Server503
                | Self::BadGatewayHtml
                | Self::GatewayTimeoutHtml
                | Self::RelayError200
                | Self::RetryAfterDate
                | Self::RequestTimeout
                | Self::TryAgainMessage
        )
    }
}

/// The fault generator: two SplitMix64 streams derived from `seed`. The first
/// draws the latency, the first six fault kinds and `slow_first_byte`, exactly
/// as before the later kinds existed; the second draws the later kinds.
#[derive(Clone, Debug)]
pub struct FaultRng {
    classic: SplitMix64,
    extra: SplitMix64,
}

impl FaultRng {
    /// Creates the generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            classic: SplitMix64::new(seed),
            extra: SplitMix64::new(seed ^ EXTRA_FAULTS_SALT),
        }
    }
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
        let rates = self
            .faults
            .kinds()
            .map(|(kind, rate)| (kind.name(), rate))
            .into_iter()
            .chain([("slow_first_byte", self.faults.slow_first_byte)]);
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
        if let Some(name) = self
            .cors_refuse_headers
            .iter()
            .find(|name| !is_header_name(name))
        {
            return Err(format!(
                "cors_refuse_headers: {name:?} is not a header name"
            ));
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
    /// draw falls under its probability wins (the order of
    /// [`FaultRates::kinds`]); `slow_first_byte` is drawn independently and can
    /// combine with any outcome. The kinds after `stream_cut` come from a
    /// second stream, so a configuration that leaves them at 0 sees the same
    /// sequence as before they were added.
    pub fn draw_faults(&self, rng: &mut FaultRng) -> FaultPlan {
        let latency_ms = rng
            .classic
            .between(self.latency_ms.min, self.latency_ms.max);
        let kinds = self.faults.kinds();
        let (classic, extra) = kinds.split_at(CLASSIC_KINDS);
        let mut fault = None;
        let mut draw = |kinds: &[(Fault, f64)], source: &mut SplitMix64| {
            for &(kind, probability) in kinds {
                let value = source.next_f64();
                if fault.is_none() && value < probability {
                    fault = Some(kind);
                }
            }
        };
        draw(classic, &mut rng.classic);
        let slow_first_byte = rng.classic.next_f64() < self.faults.slow_first_byte;
        draw(extra, &mut rng.extra);
        FaultPlan {
            fault,
            slow_first_byte,
            latency_ms,
        }
    }
}

/// Whether `name` is an HTTP header name (an RFC 9110 token).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
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
        assert_eq!(config.hang_ms, 120_000);
        assert_eq!(config.retry_after_date_s, 2);
        assert_eq!(config.try_again_in_s, 20);
        assert!(config.expose_rate_limit_headers);
        assert!(config.cors_refuse_headers.is_empty());
        assert!(!config.cors_refuse_preflight);
        assert!(!config.cors_block_post);
        assert_eq!(config.model_ids, ModelIds::Catalog);
    }

    #[test]
    fn model_ids_are_parsed_and_validated() {
        let config = SandboxConfig::from_json(r#"{"model_ids":"openrouter"}"#).unwrap();
        assert_eq!(config.model_ids, ModelIds::Openrouter);
        let config = SandboxConfig::from_json(r#"{"model_ids":"catalog"}"#).unwrap();
        assert_eq!(config.model_ids, ModelIds::Catalog);
        let json = serde_json::to_value(SandboxConfig {
            model_ids: ModelIds::Openrouter,
            ..SandboxConfig::default()
        })
        .unwrap();
        assert_eq!(json["model_ids"], "openrouter");
        for bad in [
            r#""OpenRouter""#,
            r#""prefixed""#,
            "true",
            "null",
            r#"["openrouter"]"#,
        ] {
            let text = format!(r#"{{"model_ids":{bad}}}"#);
            assert!(SandboxConfig::from_json(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn cors_modes_are_parsed_and_validated() {
        let config = SandboxConfig::from_json(
            r#"{"cors_refuse_headers":["openai-beta"],"cors_refuse_preflight":true,
                "cors_block_post":true}"#,
        )
        .unwrap();
        assert_eq!(config.cors_refuse_headers, ["openai-beta"]);
        assert!(config.cors_refuse_preflight && config.cors_block_post);
        for bad in ["", "openai beta", "a,b", "x:y"] {
            let json = serde_json::json!({ "cors_refuse_headers": [bad] }).to_string();
            assert!(SandboxConfig::from_json(&json).is_err(), "{bad:?}");
        }
        assert!(SandboxConfig::from_json(r#"{"cors_refuse_headers":"openai-beta"}"#).is_err());
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
            let mut rng = FaultRng::new(seed);
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
        let mut rng = FaultRng::new(9);
        assert_eq!(
            config.draw_faults(&mut rng).fault,
            Some(Fault::RateLimit),
            "earlier kinds win"
        );
        config.faults.rate_limit = 0.0;
        config.faults.server_503 = 0.0;
        config.faults.try_again_message = 1.0;
        config.faults.body_dropped = 1.0;
        assert_eq!(config.draw_faults(&mut rng).fault, Some(Fault::BodyDropped));
    }

    #[test]
    fn the_first_six_kinds_keep_their_sequences() {
        // The draw as it was before the later kinds existed: one stream, the
        // latency, six kinds, then slow_first_byte.
        let mut config = SandboxConfig::default();
        config.faults.server_500 = 0.3;
        config.faults.stream_cut = 0.2;
        config.faults.slow_first_byte = 0.5;
        config.latency_ms = LatencyRange { min: 0, max: 50 };
        let mut old = SplitMix64::new(4);
        let mut new = FaultRng::new(4);
        for _ in 0..100 {
            let latency_ms = old.between(0, 50);
            let rates = [0.0, 0.0, 0.3, 0.0, 0.0, 0.2];
            let kinds = Fault::all();
            let mut fault = None;
            for (kind, rate) in kinds.iter().zip(rates) {
                if old.next_f64() < rate && fault.is_none() {
                    fault = Some(*kind);
                }
            }
            let slow_first_byte = old.next_f64() < 0.5;
            let expected = FaultPlan {
                fault,
                slow_first_byte,
                latency_ms,
            };
            assert_eq!(config.draw_faults(&mut new), expected);
        }
    }

    #[test]
    fn fault_names_are_the_json_field_names() {
        let json = serde_json::to_value(FaultRates::default()).unwrap();
        let fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|name| *name != "slow_first_byte")
            .collect();
        assert_eq!(fields.len(), Fault::all().len());
        for kind in Fault::all() {
            assert!(fields.contains(&kind.name()), "{}", kind.name());
            assert_eq!(Fault::from_name(kind.name()), Some(kind));
        }
        assert_eq!(Fault::from_name("slow_first_byte"), None);
        let config = SandboxConfig::from_json(r#"{"faults":{"stall_mid_stream":0.5}}"#).unwrap();
        assert_eq!(config.faults.stall_mid_stream, 0.5);
        assert!(SandboxConfig::from_json(r#"{"faults":{"body_dropped":-0.1}}"#).is_err());
        assert!(Fault::BadGatewayHtml.before_generation());
        assert!(!Fault::BodyDropped.before_generation());
        assert!(!Fault::MalformedJson.before_generation());
    }
}
