//! How providers bill: one [`BillingShape`] per way a price is counted, and the exact cost of
//! one call, clip, image or line of speech under it.
//!
//! | shape | counted per | example |
//! |---|---|---|
//! | [`BillingShape::PerToken`] | input, cached read, cache write, output, reasoning token; batch and long-prompt tiers | Claude Sonnet 4.5 |
//! | [`BillingShape::PerSecond`] | second of video, by resolution, tier and audio | Sora 2, Veo 3.1, Kling v3 |
//! | [`BillingShape::PerClip`] | clip, by resolution and length | Hailuo-02 |
//! | [`BillingShape::BasePlusPerSecond`] | a base fee covering the first seconds, then per second | Vidu Q2 |
//! | [`BillingShape::PerVideoToken`] | video token, from the shot's size, fps and seconds | Seedance 2.0 |
//! | [`BillingShape::PerImage`] | image, by size and quality | dall-e-3, Seedream |
//! | [`BillingShape::PerImageToken`] | text-in, image-in and image-out token | gpt-image-1 |
//! | [`BillingShape::Speech`] | character and second of speech | tts-1, Chinese TTS |
//! | [`BillingShape::Credits`] | credit, bought at a credit price | Runway |
//!
//! ```
//! use duanju_studio::domain::cost::billing::*;
//! use duanju_studio::domain::cost::money::{Currency, Micros};
//!
//! let sora = BillingShape::PerSecond(PerSecondRates {
//!     currency: Currency::Usd,
//!     rates: vec![SecondRate::new("1024x1792", Micros(500_000))],
//!     durations: AllowedDurations::Lengths { seconds: vec![4, 8, 12] },
//! });
//! // A 6 s shot is made as an 8 s clip: 8 s × $0.50/s = $4.00.
//! let bill = bill(&sora, &Usage::Video(VideoRequest::new("1024x1792", 6))).unwrap();
//! assert_eq!(bill.cost.display(), "$4.00");
//! assert_eq!(bill.duration.unwrap().chosen, 8);
//! ```
//!
//! **Exactness.** Every rate is a [`Micros`] (an exact millionth of the shape's currency) per
//! the unit its field names: per million tokens, per second, per clip, per image, per million
//! characters, per credit. Costs are computed in `i128` on [`Money`]'s 10⁻¹⁸ grid, where tokens ×
//! a per-million rate, seconds × a per-second rate, milliseconds of speech and credits × a credit
//! price all land without remainder. The one division that can leave the grid is the video-token
//! formula's ÷ 1024: the whole cost's numerator is formed first and divided once, rounded half
//! away from zero to the grid. The token count itself is never rounded (standard sizes such as
//! 1280×720 and 1920×1080 are multiples of 1024 pixels, so their counts are whole anyway). An
//! amount is rounded to cents only when shown ([`Money::display`]).
//!
//! **Finding a row.** A request finds its price by label (resolution or image size, compared
//! ignoring ASCII case, so `768P` is `768p`); a row that leaves out a tier, quality, audio or
//! video-input key applies to any value of it, and among matching rows the one stating the most
//! keys wins, then the first.
//!
//! **No silent zero.** A rate the request needs and the shape lacks (a resolution, tier,
//! quality, a batch or cached price, a cache-write price the model does not state) is a
//! [`BillingError::MissingRate`] naming what is missing; a request lacking a quantity the shape
//! bills on is a [`BillingError::MissingUsage`].
//!
//! **Durations are data.** A video shape states which lengths the model makes
//! ([`AllowedDurations`]); a shot's duration is fitted to them ([`fit_duration`]) and the
//! [`Bill`] carries the fit and its note, so the plan can say "a 6 s shot is made as 8 s".

mod duration;
mod error;
mod rates;
#[cfg(test)]
mod tests;
mod usage;

pub use duration::{fit_duration, AllowedDurations, DurationFit, DurationNote};
pub use error::{BillingError, MissingRate, RateKind, UsageField};
pub use rates::{
    BasePlusPerSecondRates, BaseRate, BatchPrices, CacheWrite, ClipRate, ClipRates, CreditRate,
    CreditRates, CreditUnit, ImageRate, ImageRates, ImageTokenRates, PerSecondRates, SecondRate,
    SpeechRates, TokenPrices, TokenRates, TokenTier, VideoTokenRate, VideoTokenRates,
};
pub use usage::{
    ImageRequest, ImageTokens, LlmCall, MediaKind, SpeechRequest, Usage, VideoRequest,
};

use serde::{Deserialize, Serialize};

use crate::domain::cost::money::{div_round_half_away, Currency, Micros, Money, UNITS_PER_MICRO};

/// Grid units per token for a rate of one micro-unit per million tokens (10⁻¹² of the currency).
const UNITS_PER_MICRO_PER_MTOK: i128 = UNITS_PER_MICRO / 1_000_000;
/// The video-token formula's divisor: pixels × frames per token.
const PIXEL_FRAMES_PER_VIDEO_TOKEN: i128 = 1024;

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

/// How one model (on one route) is billed. Written in JSON with a `shape` tag and the shape's
/// fields beside it: `{"shape":"per_second","currency":"USD","rates":[…],"durations":{…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum BillingShape {
    /// Per token, with cache, reasoning, batch and long-prompt tier prices.
    PerToken(TokenRates),
    /// Per second of generated video.
    PerSecond(PerSecondRates),
    /// Per generated clip of a fixed length.
    PerClip(ClipRates),
    /// A base fee that covers the first seconds, then a price per further second.
    BasePlusPerSecond(BasePlusPerSecondRates),
    /// Per video token: tokens = (input video s + output s) × width × height × fps ÷ 1024.
    PerVideoToken(VideoTokenRates),
    /// Per generated image, by size and quality.
    PerImage(ImageRates),
    /// Per token of an image model: text in, image in, image out.
    PerImageToken(ImageTokenRates),
    /// Per character and/or per second of generated speech.
    Speech(SpeechRates),
    /// Credits per unit, bought at a price per credit.
    Credits(CreditRates),
}

impl BillingShape {
    /// The shape's tag, as written in JSON (`per_token`).
    pub fn name(&self) -> &'static str {
        match self {
            BillingShape::PerToken(_) => "per_token",
            BillingShape::PerSecond(_) => "per_second",
            BillingShape::PerClip(_) => "per_clip",
            BillingShape::BasePlusPerSecond(_) => "base_plus_per_second",
            BillingShape::PerVideoToken(_) => "per_video_token",
            BillingShape::PerImage(_) => "per_image",
            BillingShape::PerImageToken(_) => "per_image_token",
            BillingShape::Speech(_) => "speech",
            BillingShape::Credits(_) => "credits",
        }
    }

    /// The currency every rate of the shape is in.
    pub fn currency(&self) -> Currency {
        match self {
            BillingShape::PerToken(r) => r.currency,
            BillingShape::PerSecond(r) => r.currency,
            BillingShape::PerClip(r) => r.currency,
            BillingShape::BasePlusPerSecond(r) => r.currency,
            BillingShape::PerVideoToken(r) => r.currency,
            BillingShape::PerImage(r) => r.currency,
            BillingShape::PerImageToken(r) => r.currency,
            BillingShape::Speech(r) => r.currency,
            BillingShape::Credits(r) => r.currency,
        }
    }

    /// What the shape bills: the kind of [`Usage`] it accepts.
    pub fn media(&self) -> MediaKind {
        match self {
            BillingShape::PerToken(_) => MediaKind::Llm,
            BillingShape::PerSecond(_)
            | BillingShape::PerClip(_)
            | BillingShape::BasePlusPerSecond(_)
            | BillingShape::PerVideoToken(_) => MediaKind::Video,
            BillingShape::PerImage(_) | BillingShape::PerImageToken(_) => MediaKind::Image,
            BillingShape::Speech(_) => MediaKind::Speech,
            BillingShape::Credits(r) => r.per.media(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cost
// ---------------------------------------------------------------------------------------------

/// The cost of one request, and for video the length actually made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bill {
    /// The exact cost, in the shape's currency.
    pub cost: Money,
    /// For video: the shot's duration fitted to the model's lengths (what was billed).
    pub duration: Option<DurationFit>,
}

/// The exact cost of `usage` under `shape` (see [`bill`] for the fitted duration).
pub fn cost(shape: &BillingShape, usage: &Usage) -> Result<Money, BillingError> {
    bill(shape, usage).map(|bill| bill.cost)
}

/// The exact cost of `usage` under `shape`, with the duration fit of a video request.
pub fn bill(shape: &BillingShape, usage: &Usage) -> Result<Bill, BillingError> {
    let currency = shape.currency();
    let priced = |units: i128| Bill {
        cost: Money::from_units(currency, units),
        duration: None,
    };
    let video = |units: i128, fit: DurationFit| Bill {
        cost: Money::from_units(currency, units),
        duration: Some(fit),
    };
    match (shape, usage) {
        (BillingShape::PerToken(rates), Usage::Llm(call)) => token_cost(rates, call).map(priced),
        (BillingShape::PerSecond(rates), Usage::Video(request)) => {
            let fit = rates.durations.fit(request.seconds)?;
            let row = best(&rates.rates, |row| {
                matches_video(&row.resolution, &row.tier, request)
                    .and_then(|score| add_score(score, flag_score(row.audio, request.audio)))
            })
            .ok_or_else(|| {
                let mut missing = MissingRate::video(RateKind::VideoPerSecond, request);
                if rates.rates.iter().any(|row| row.audio.is_some()) {
                    missing.audio = Some(request.audio);
                }
                BillingError::MissingRate(missing)
            })?;
            per_unit(u64::from(fit.chosen), row.per_second).map(|units| video(units, fit))
        }
        (BillingShape::PerClip(rates), Usage::Video(request)) => {
            let rows: Vec<&ClipRate> = rates
                .clips
                .iter()
                .filter(|row| matches_video(&row.resolution, &row.tier, request).is_some())
                .collect();
            let lengths: Vec<u32> = rows.iter().map(|row| row.seconds).collect();
            let fit = fit_duration(&lengths, request.seconds).ok_or_else(|| {
                BillingError::MissingRate(MissingRate::video(RateKind::Clip, request))
            })?;
            let row = best(&rows, |row| {
                (row.seconds == fit.chosen)
                    .then(|| matches_video(&row.resolution, &row.tier, request))
                    .flatten()
            })
            .ok_or_else(|| {
                BillingError::MissingRate(MissingRate::video(RateKind::Clip, request))
            })?;
            per_unit(1, row.per_clip).map(|units| video(units, fit))
        }
        (BillingShape::BasePlusPerSecond(rates), Usage::Video(request)) => {
            let fit = rates.durations.fit(request.seconds)?;
            let row = best(&rates.rates, |row| {
                matches_video(&row.resolution, &row.tier, request)
            })
            .ok_or_else(|| {
                BillingError::MissingRate(MissingRate::video(RateKind::VideoBase, request))
            })?;
            let extra = fit.chosen.saturating_sub(row.included_seconds);
            let units = checked_add(
                per_unit(1, row.base)?,
                per_unit(u64::from(extra), row.per_second)?,
            )?;
            Ok(video(units, fit))
        }
        (BillingShape::PerVideoToken(rates), Usage::Video(request)) => {
            let fit = rates.durations.fit(request.seconds)?;
            if request.width == 0 || request.height == 0 || request.fps == 0 {
                return Err(BillingError::MissingUsage(UsageField::VideoSize));
            }
            let with_input = request.input_video_seconds > 0;
            let row = best(&rates.rates, |row| {
                label_eq(&row.resolution, &request.resolution)
                    .then_some(0)
                    .and_then(|score| add_score(score, flag_score(row.video_input, with_input)))
            })
            .ok_or_else(|| {
                let mut missing = MissingRate::video(RateKind::VideoToken, request);
                missing.tier = None;
                if rates.rates.iter().any(|row| row.video_input.is_some()) {
                    missing.video_input = Some(with_input);
                }
                BillingError::MissingRate(missing)
            })?;
            let seconds = i128::from(request.input_video_seconds) + i128::from(fit.chosen);
            let pixel_frames = [
                i128::from(request.width),
                i128::from(request.height),
                i128::from(request.fps),
                i128::from(row.per_mtok.0),
                UNITS_PER_MICRO_PER_MTOK,
            ]
            .into_iter()
            .try_fold(seconds, |acc, factor| acc.checked_mul(factor))
            .ok_or(BillingError::Overflow)?;
            let units = div_round_half_away(pixel_frames, PIXEL_FRAMES_PER_VIDEO_TOKEN);
            Ok(video(units, fit))
        }
        (BillingShape::PerImage(rates), Usage::Image(request)) => {
            let row = best(&rates.rates, |row| {
                label_eq(&row.size, &request.size)
                    .then_some(0)
                    .and_then(|score| add_score(score, text_score(&row.quality, &request.quality)))
            })
            .ok_or_else(|| {
                BillingError::MissingRate(MissingRate {
                    resolution: Some(request.size.clone()),
                    quality: request.quality.clone(),
                    ..MissingRate::of(RateKind::Image)
                })
            })?;
            per_unit(u64::from(request.count), row.per_image).map(priced)
        }
        (BillingShape::PerImageToken(rates), Usage::Image(request)) => {
            let tokens = request
                .image_tokens
                .ok_or(BillingError::MissingUsage(UsageField::ImageTokens))?;
            sum(&[
                per_mtok(tokens.text_input, rates.text_input_per_mtok)?,
                per_mtok(tokens.image_input, rates.image_input_per_mtok)?,
                per_mtok(tokens.image_output, rates.image_output_per_mtok)?,
            ])
            .map(priced)
        }
        (BillingShape::Speech(rates), Usage::Speech(request)) => {
            if rates.per_million_characters.is_none() && rates.per_second.is_none() {
                return Err(BillingError::MissingRate(MissingRate::of(RateKind::Speech)));
            }
            let characters = match rates.per_million_characters {
                Some(rate) => per_mtok(request.characters, rate)?,
                None => 0,
            };
            let seconds = match rates.per_second {
                Some(rate) => {
                    let milliseconds = request
                        .milliseconds
                        .ok_or(BillingError::MissingUsage(UsageField::SpeechDuration))?;
                    // A millisecond at one micro-unit per second is 10⁻⁹ of the currency: exact.
                    mul(&[
                        i128::from(milliseconds),
                        i128::from(rate.0),
                        UNITS_PER_MICRO / 1000,
                    ])?
                }
                None => 0,
            };
            checked_add(characters, seconds).map(priced)
        }
        (BillingShape::Credits(rates), usage) => credit_cost(rates, usage),
        (shape, usage) => Err(BillingError::WrongUsage {
            shape: shape.media(),
            usage: usage.media(),
        }),
    }
}

/// The per-token cost: the tier (or base) prices, the batch prices within them, then each
/// token kind at its price.
fn token_cost(rates: &TokenRates, call: &LlmCall) -> Result<i128, BillingError> {
    let prompt = call.prompt_tokens();
    let tier = rates
        .tiers
        .iter()
        .filter(|tier| prompt > tier.above_prompt_tokens)
        .max_by_key(|tier| tier.above_prompt_tokens);
    let prices = tier.map_or(&rates.base, |tier| &tier.prices);
    let missing = |rate: RateKind| {
        BillingError::MissingRate(MissingRate {
            above_prompt_tokens: tier.map(|tier| tier.above_prompt_tokens),
            ..MissingRate::of(rate)
        })
    };
    let (input, output, cached_read, cache_write, reasoning) = if call.batch {
        let batch = prices.batch.ok_or_else(|| missing(RateKind::Batch))?;
        (
            batch.input_per_mtok,
            batch.output_per_mtok,
            batch.cached_read_per_mtok.or(prices.cached_read_per_mtok),
            batch
                .cache_write_per_mtok
                .map_or(prices.cache_write, |per_mtok| CacheWrite::Stated {
                    per_mtok,
                }),
            batch.reasoning_per_mtok.unwrap_or(batch.output_per_mtok),
        )
    } else {
        (
            prices.input_per_mtok,
            prices.output_per_mtok,
            prices.cached_read_per_mtok,
            prices.cache_write,
            prices.reasoning_per_mtok.unwrap_or(prices.output_per_mtok),
        )
    };
    let cached_read = match (call.cached_read, cached_read) {
        (0, _) => 0,
        (tokens, Some(rate)) => per_mtok(tokens, rate)?,
        (_, None) => return Err(missing(RateKind::CachedRead)),
    };
    let cache_write = match (call.cache_write, cache_write) {
        (0, _) => 0,
        (tokens, CacheWrite::Stated { per_mtok: rate }) => per_mtok(tokens, rate)?,
        (tokens, CacheWrite::Input) => per_mtok(tokens, input)?,
        (_, CacheWrite::NotStated) => return Err(missing(RateKind::CacheWrite)),
    };
    sum(&[
        per_mtok(call.input, input)?,
        cached_read,
        cache_write,
        per_mtok(call.output, output)?,
        per_mtok(call.reasoning, reasoning)?,
    ])
}

/// The credits cost: quantity × credits per unit × credit price.
fn credit_cost(rates: &CreditRates, usage: &Usage) -> Result<Bill, BillingError> {
    let (label, quantity, fit) = match (rates.per, usage) {
        (CreditUnit::Second, Usage::Video(request)) => {
            let fit = rates.durations.fit(request.seconds)?;
            (&request.resolution, u64::from(fit.chosen), Some(fit))
        }
        (CreditUnit::Clip, Usage::Video(request)) => {
            let fit = rates.durations.fit(request.seconds)?;
            (&request.resolution, 1, Some(fit))
        }
        (CreditUnit::Image, Usage::Image(request)) => {
            (&request.size, u64::from(request.count), None)
        }
        (_, usage) => {
            return Err(BillingError::WrongUsage {
                shape: rates.per.media(),
                usage: usage.media(),
            })
        }
    };
    let row = best(&rates.credits, |row| match &row.resolution {
        None => Some(0),
        Some(resolution) => label_eq(resolution, label).then_some(1),
    })
    .ok_or_else(|| {
        BillingError::MissingRate(MissingRate {
            resolution: Some(label.clone()),
            ..MissingRate::of(RateKind::Credits)
        })
    })?;
    // Credits (millionths) × price (millionths of the currency) is 10⁻¹² of the currency each.
    let units = mul(&[
        i128::from(quantity),
        i128::from(row.credits.0),
        i128::from(rates.credit_price.0),
        UNITS_PER_MICRO_PER_MTOK,
    ])?;
    Ok(Bill {
        cost: Money::from_units(rates.currency, units),
        duration: fit,
    })
}

// ---------------------------------------------------------------------------------------------
// Row matching and exact arithmetic
// ---------------------------------------------------------------------------------------------

/// The best row: the highest score (rows stating more of the request's keys), then the first.
fn best<T>(rows: &[T], score: impl Fn(&T) -> Option<u8>) -> Option<&T> {
    let mut found: Option<(&T, u8)> = None;
    for row in rows {
        if let Some(points) = score(row) {
            if found.is_none_or(|(_, best)| points > best) {
                found = Some((row, points));
            }
        }
    }
    found.map(|(row, _)| row)
}

fn add_score(score: u8, more: Option<u8>) -> Option<u8> {
    more.map(|more| score + more)
}

/// Labels are equal ignoring surrounding spaces and ASCII case (`768P` is `768p`).
fn label_eq(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// A row's optional text key against the request's: none in the row applies to anything (0),
/// an equal value scores 1, anything else does not match.
fn text_score(row: &Option<String>, wanted: &Option<String>) -> Option<u8> {
    match (row, wanted) {
        (None, _) => Some(0),
        (Some(row), Some(wanted)) if label_eq(row, wanted) => Some(1),
        _ => None,
    }
}

/// A row's optional flag against the request's, scored like [`text_score`].
fn flag_score(row: Option<bool>, wanted: bool) -> Option<u8> {
    match row {
        None => Some(0),
        Some(row) => (row == wanted).then_some(1),
    }
}

fn matches_video(resolution: &str, tier: &Option<String>, request: &VideoRequest) -> Option<u8> {
    if !label_eq(resolution, &request.resolution) {
        return None;
    }
    text_score(tier, &request.tier)
}

/// `tokens` at `rate` per million, in grid units (exact).
fn per_mtok(tokens: u64, rate: Micros) -> Result<i128, BillingError> {
    mul(&[
        i128::from(tokens),
        i128::from(rate.0),
        UNITS_PER_MICRO_PER_MTOK,
    ])
}

/// `count` units at `rate` each, in grid units (exact).
fn per_unit(count: u64, rate: Micros) -> Result<i128, BillingError> {
    mul(&[i128::from(count), i128::from(rate.0), UNITS_PER_MICRO])
}

fn mul(factors: &[i128]) -> Result<i128, BillingError> {
    factors
        .iter()
        .try_fold(1i128, |acc, factor| acc.checked_mul(*factor))
        .ok_or(BillingError::Overflow)
}

fn checked_add(a: i128, b: i128) -> Result<i128, BillingError> {
    a.checked_add(b).ok_or(BillingError::Overflow)
}

fn sum(terms: &[i128]) -> Result<i128, BillingError> {
    terms
        .iter()
        .try_fold(0, |acc, term| checked_add(acc, *term))
}
