//! The rate tables of each billing shape: what a price is counted per, and by which keys a
//! request finds its row.

use serde::{Deserialize, Serialize};

use super::{AllowedDurations, MediaKind};
use crate::domain::cost::money::{Currency, Micros};

/// Prices per million tokens, in the LiteLLM map's terms (`input_cost_per_token` × 10⁶ and so
/// on). The base prices sit beside `currency`; `tiers` hold the dearer prices of long prompts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRates {
    /// The currency of every price.
    pub currency: Currency,
    /// The prices of a prompt at or below every tier's threshold.
    #[serde(flatten)]
    pub base: TokenPrices,
    /// Dearer prices for long prompts (LiteLLM's `*_above_200k_tokens`), in any order. The tier
    /// with the highest threshold the prompt exceeds prices the **whole** request, not only the
    /// tokens above the threshold: that is what providers bill.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<TokenTier>,
}

/// One complete set of token prices (the base set, or a tier's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPrices {
    /// Per million uncached input tokens.
    pub input_per_mtok: Micros,
    /// Per million output tokens.
    pub output_per_mtok: Micros,
    /// Per million input tokens read from the prompt cache. None: the model states no cached
    /// price, and a call that read from the cache is an error rather than a guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_read_per_mtok: Option<Micros>,
    /// How tokens written to the prompt cache are billed: always stated, never assumed.
    #[serde(default)]
    pub cache_write: CacheWrite,
    /// Per million reasoning tokens (LiteLLM's `output_cost_per_reasoning_token`). None: they
    /// are billed as output, which is what most providers do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_per_mtok: Option<Micros>,
    /// The batch API's prices (LiteLLM's `*_cost_per_token_batches`). None: the model has no
    /// stated batch price, and a batch call is an error rather than an invented half.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchPrices>,
}

/// How a model bills tokens written to its prompt cache.
///
/// The default is [`CacheWrite::NotStated`]: Anthropic's writes cost 1.25× input (5-minute
/// TTL), but that factor is Anthropic's, so no other model gets it by default. A price set that
/// wants it writes the figure as [`CacheWrite::Stated`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "billed_as", rename_all = "snake_case")]
pub enum CacheWrite {
    /// A stated price per million written tokens (Claude Sonnet 4.5: $3.75).
    Stated {
        /// Per million tokens written to the cache.
        per_mtok: Micros,
    },
    /// Writes are ordinary input (OpenAI's and DeepSeek's automatic caches).
    Input,
    /// The model states no write price: a call that wrote to the cache is an error.
    #[default]
    NotStated,
}

/// A tier: complete prices for prompts of more than `above_prompt_tokens` tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTier {
    /// The tier applies when the prompt (uncached input + cached read + cache write) has
    /// strictly more tokens than this (200,000 for LiteLLM's `_above_200k_tokens`).
    pub above_prompt_tokens: u64,
    /// The prices of the whole request in this tier.
    #[serde(flatten)]
    pub prices: TokenPrices,
}

/// Batch API prices per million tokens. A cache or reasoning price left out is the same as
/// outside the batch (no discount is invented); reasoning left out is billed at the batch
/// output price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPrices {
    /// Per million uncached input tokens in a batch.
    pub input_per_mtok: Micros,
    /// Per million output tokens in a batch.
    pub output_per_mtok: Micros,
    /// Per million cached input tokens in a batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_read_per_mtok: Option<Micros>,
    /// Per million cache-written tokens in a batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_mtok: Option<Micros>,
    /// Per million reasoning tokens in a batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_per_mtok: Option<Micros>,
}

/// Per-second video prices, one row per resolution (and tier, and audio on/off).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerSecondRates {
    /// The currency of every price.
    pub currency: Currency,
    /// The prices; see [`SecondRate`] for how a row is chosen.
    pub rates: Vec<SecondRate>,
    /// The lengths the model makes.
    #[serde(default)]
    pub durations: AllowedDurations,
}

/// One per-second price.
///
/// A request matches a row when the resolution labels are equal (ignoring ASCII case), and for
/// `tier` and `audio` when the row leaves them out (it applies to any) or states the request's
/// value. Among matching rows the one stating the most of them wins, then the first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondRate {
    /// The resolution label the API uses (`720p`, `1024x1792`, `768P`).
    pub resolution: String,
    /// The tier (`standard`, `fast`, `pro`); none applies to any tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Audio on or off; none applies to both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<bool>,
    /// Per second of generated video.
    pub per_second: Micros,
}

impl SecondRate {
    /// A price at a resolution, for any tier, with or without audio.
    pub fn new(resolution: &str, per_second: Micros) -> SecondRate {
        SecondRate {
            resolution: resolution.to_string(),
            tier: None,
            audio: None,
            per_second,
        }
    }
}

/// Per-clip video prices: the table of clip lengths by resolution. The lengths a resolution's
/// rows name are the lengths the model makes at that resolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipRates {
    /// The currency of every price.
    pub currency: Currency,
    /// One row per resolution and length (and tier).
    pub clips: Vec<ClipRate>,
}

/// The price of one clip of `seconds` at `resolution`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipRate {
    /// The resolution label (`768P`).
    pub resolution: String,
    /// The tier; none applies to any tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The clip's length in seconds.
    pub seconds: u32,
    /// Per clip.
    pub per_clip: Micros,
}

/// A base fee plus a per-second price, by resolution (and tier).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasePlusPerSecondRates {
    /// The currency of every price.
    pub currency: Currency,
    /// The prices.
    pub rates: Vec<BaseRate>,
    /// The lengths the model makes.
    #[serde(default)]
    pub durations: AllowedDurations,
}

/// A clip costs `base` (covering its first `included_seconds`) plus `per_second` for every
/// second beyond them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseRate {
    /// The resolution label.
    pub resolution: String,
    /// The tier; none applies to any tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The fee for a clip's first `included_seconds`.
    pub base: Micros,
    /// Seconds the base fee covers (1 for "the first second priced apart").
    pub included_seconds: u32,
    /// Per second beyond the included ones.
    pub per_second: Micros,
}

/// Per-video-token prices (Seedance): tokens = (input video seconds + output seconds) × width ×
/// height × fps ÷ 1024, priced per million tokens by resolution and by whether the request
/// carries input video.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoTokenRates {
    /// The currency of every price.
    pub currency: Currency,
    /// The prices.
    pub rates: Vec<VideoTokenRate>,
    /// The lengths the model makes (Seedance: 4–15 s).
    #[serde(default)]
    pub durations: AllowedDurations,
}

/// One per-video-token price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoTokenRate {
    /// The resolution label (`720p`, `1080P`).
    pub resolution: String,
    /// With input video (true) or without (false); none applies to both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_input: Option<bool>,
    /// Per million video tokens.
    pub per_mtok: Micros,
}

/// Per-image prices by size and quality.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRates {
    /// The currency of every price.
    pub currency: Currency,
    /// The prices.
    pub rates: Vec<ImageRate>,
}

/// The price of one image of `size` (and `quality`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRate {
    /// The size the API takes (`1024x1024`, `1024x1792`).
    pub size: String,
    /// The quality (`standard`, `hd`, `low`…); none applies to any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// Per image.
    pub per_image: Micros,
}

/// An image model's token prices per million tokens (gpt-image-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageTokenRates {
    /// The currency of every price.
    pub currency: Currency,
    /// Per million text input tokens (the prompt).
    pub text_input_per_mtok: Micros,
    /// Per million image input tokens (reference images).
    pub image_input_per_mtok: Micros,
    /// Per million image output tokens.
    pub image_output_per_mtok: Micros,
}

/// Speech prices: per character (written per million characters; a price of ¥2 per 10,000
/// characters is ¥200 per million) and/or per second of audio. A rate left out means the
/// provider does not bill that quantity; at least one must be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeechRates {
    /// The currency of every price.
    pub currency: Currency,
    /// Per million characters of input text (tts-1: $15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_million_characters: Option<Micros>,
    /// Per second of generated audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_second: Option<Micros>,
}

/// Prepaid credits: a number of credits per unit, by resolution, bought at `credit_price`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRates {
    /// The currency the credits are bought in.
    pub currency: Currency,
    /// The price of one credit (Runway: $0.01).
    pub credit_price: Micros,
    /// What the credits are counted per.
    pub per: CreditUnit,
    /// Credits per unit, by resolution (a fraction of a credit is allowed).
    pub credits: Vec<CreditRate>,
    /// The lengths the model makes (video only).
    #[serde(default)]
    pub durations: AllowedDurations,
}

/// What credits are counted per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditUnit {
    /// Per second of video.
    Second,
    /// Per video clip.
    Clip,
    /// Per image.
    Image,
}

impl CreditUnit {
    /// What the unit counts: video for seconds and clips, images for images.
    pub fn media(self) -> MediaKind {
        match self {
            CreditUnit::Second | CreditUnit::Clip => MediaKind::Video,
            CreditUnit::Image => MediaKind::Image,
        }
    }
}

/// Credits per unit at a resolution (or image size).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRate {
    /// The resolution label or image size; none applies to any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Credits per unit (Runway gen4_turbo: 5 per second).
    pub credits: Micros,
}
