//! What one episode's media costs: keyframes, clips (on several video models), dubbing, and the
//! cost per finished minute, priced from the catalog's billing shapes.
//!
//! An [`EpisodeMedia`] states the episode as a studio plans it: how many shots are made on which
//! video model (each shot's duration, resolution and takes), how many keyframes per shot, and
//! how many characters of dialogue each voice speaks. [`EpisodeMedia::price`] bills each line
//! with [`billing::bill`] against the [`CatalogEntry`] it names, so a per-second, per-clip,
//! base + per-second, per-video-token or credit model is each priced as it bills; a shot's
//! duration is fitted to the lengths the model makes and the line says so.
//!
//! The finished runtime is the shots' own durations (one take of each is kept), so the cost per
//! finished minute is what every take, frame and line of speech costs over the minutes an
//! editor receives.

use serde::Serialize;

use crate::domain::cost::billing::{
    self, BillingError, BillingShape, ImageRequest, ImageTokens, SpeechRequest, Usage, VideoRequest,
};
use crate::domain::cost::catalog::{find, CatalogEntry};
use crate::domain::cost::money::Money;
use crate::domain::cost::profile::{Cost, Profile};
use crate::domain::i18n::Lang;

/// Keyframes: still frames per shot, generated `takes` times each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyframeLine {
    /// The image model.
    pub model: String,
    /// Frames per shot (a first frame, or first and last).
    pub frames_per_shot: u32,
    /// Generations of each frame.
    pub takes: u32,
    /// The image size the API takes (`1024x1536`).
    pub size: String,
    /// The quality (`low`, `medium`, `high`), for models priced by it.
    pub quality: Option<String>,
}

/// Clips on one video model: `shots` shots of `seconds` each, `takes` generations of each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipLine {
    /// The video model.
    pub model: String,
    /// Shots of the episode made on this model.
    pub shots: u32,
    /// Each shot's duration in the cut, in seconds.
    pub seconds: u32,
    /// The resolution label the model's prices use (`720p`, `768P`, `1024x1792`).
    pub resolution: String,
    /// Generations of each shot (the director keeps one).
    pub takes: u32,
    /// With generated audio, for models priced by it.
    pub audio: bool,
    /// Width × height × fps, for models billed per video token.
    pub frame: Option<(u32, u32, u32)>,
}

/// Dubbing: characters of dialogue spoken by one voice model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DubbingLine {
    /// The speech model.
    pub model: String,
    /// Characters of dialogue per episode (a Chinese line costs its characters).
    pub characters: u64,
    /// Seconds of speech per episode, for models billed per second.
    pub seconds: Option<u64>,
    /// Generations of each line.
    pub takes: u32,
}

/// One episode's media.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EpisodeMedia {
    /// Keyframes, if the episode makes any.
    pub keyframes: Option<KeyframeLine>,
    /// Clips, one line per video model.
    pub clips: Vec<ClipLine>,
    /// Dubbing, one line per voice model.
    pub dubbing: Vec<DubbingLine>,
}

/// What one line of the episode costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MediaLineCost {
    /// `keyframes`, `clips` or `dubbing`.
    pub kind: &'static str,
    /// The model.
    pub model: String,
    /// How many requests the line makes per episode (frames, clips, lines of speech).
    pub requests: u64,
    /// The line's cost per episode, in the model's currency.
    pub cost: Money,
    /// For clips: the length made when it differs from the shot's (`6 s → 8 s`).
    pub made_seconds: Option<u32>,
}

/// Why a line could not be priced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaProblem {
    /// The catalog has no such model.
    UnknownModel(String),
    /// The model's billing shape refused the request.
    Billing {
        /// The model.
        model: String,
        /// What billing said.
        error: BillingError,
    },
    /// The episode makes no shot, so it has no finished minute.
    NoRuntime,
}

impl MediaProblem {
    /// The message shown beside the line.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (MediaProblem::UnknownModel(model), Lang::ZhCn) => {
                format!("价格目录中没有模型 {model}")
            }
            (MediaProblem::UnknownModel(model), Lang::En) => {
                format!("no model {model} in the catalog")
            }
            (MediaProblem::Billing { model, error }, _) => {
                format!("{model}: {}", error.message(lang))
            }
            (MediaProblem::NoRuntime, _) => lang
                .pick(
                    "这一集没有镜头，无法按成片分钟计价",
                    "the episode has no shots, so it has no finished minute to price",
                )
                .into(),
        }
    }
}

/// The priced episode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EpisodeMediaCost {
    /// Every line, in the order keyframes, clips, dubbing.
    pub lines: Vec<MediaLineCost>,
    /// The episode's finished runtime in seconds: the shots' durations (a shot longer than its
    /// model's longest clip counts that clip's length).
    pub finished_seconds: u64,
}

/// The episode's cost under one profile, in $ and ¥.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileMediaCost {
    /// Per episode.
    pub per_episode: Cost,
    /// Per finished minute: the episode's cost × 60 ÷ its finished seconds.
    pub per_finished_minute: Cost,
}

/// Output tokens of one gpt-image-1 image, by size and quality: OpenAI's published table (the
/// figures behind "about $0.016 / $0.063 / $0.25 per portrait image" at $40 per million).
pub fn gpt_image_output_tokens(size: &str, quality: &str) -> Option<u64> {
    let square = size.eq_ignore_ascii_case("1024x1024");
    let tall = ["1024x1536", "1536x1024"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(size));
    let tokens = match (quality, square, tall) {
        ("low", true, _) => 272,
        ("medium", true, _) => 1_056,
        ("high", true, _) => 4_160,
        ("low", _, true) => 408,
        ("medium", _, true) => 1_584,
        ("high", _, true) => 6_240,
        _ => return None,
    };
    Some(tokens)
}

/// The resolution labels a video shape prices, in its order, each once (empty for a shape that
/// is not video, or a credit price that applies to any resolution).
pub fn resolutions(shape: &BillingShape) -> Vec<String> {
    let labels: Vec<&str> = match shape {
        BillingShape::PerSecond(r) => r.rates.iter().map(|row| row.resolution.as_str()).collect(),
        BillingShape::PerClip(r) => r.clips.iter().map(|row| row.resolution.as_str()).collect(),
        BillingShape::BasePlusPerSecond(r) => {
            r.rates.iter().map(|row| row.resolution.as_str()).collect()
        }
        BillingShape::PerVideoToken(r) => {
            r.rates.iter().map(|row| row.resolution.as_str()).collect()
        }
        BillingShape::Credits(r) => r
            .credits
            .iter()
            .filter_map(|row| row.resolution.as_deref())
            .collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for label in labels {
        if !out.iter().any(|known| known == label) {
            out.push(label.to_string());
        }
    }
    out
}

impl EpisodeMedia {
    /// Shots in the episode, over every clip line.
    pub fn shots(&self) -> u64 {
        self.clips.iter().map(|line| u64::from(line.shots)).sum()
    }

    /// Prices every line against `catalog`; every problem is returned, not only the first.
    pub fn price(&self, catalog: &[CatalogEntry]) -> Result<EpisodeMediaCost, Vec<MediaProblem>> {
        let mut lines = Vec::new();
        let mut problems = Vec::new();
        // Bills one line; returns the length made, for clips.
        let mut bill_line = |kind: &'static str, model: &str, usage: Usage, requests: u64| {
            let Some(entry) = find(catalog, model) else {
                problems.push(MediaProblem::UnknownModel(model.into()));
                return None;
            };
            match billing::bill(&entry.billing, &usage) {
                Ok(bill) => {
                    let made = bill.duration.map(|fit| fit.chosen);
                    lines.push(MediaLineCost {
                        kind,
                        model: entry.model.clone(),
                        requests,
                        cost: bill.cost.times(i128::from(requests)),
                        made_seconds: bill
                            .duration
                            .filter(|fit| fit.chosen != fit.requested)
                            .map(|fit| fit.chosen),
                    });
                    made
                }
                Err(error) => {
                    problems.push(MediaProblem::Billing {
                        model: model.into(),
                        error,
                    });
                    None
                }
            }
        };
        let mut finished_seconds = 0u64;
        let shots = self.shots();
        if let Some(frames) = &self.keyframes {
            let image_tokens = frames.quality.as_deref().and_then(|quality| {
                gpt_image_output_tokens(&frames.size, quality).map(|image_output| ImageTokens {
                    image_output,
                    ..ImageTokens::default()
                })
            });
            let usage = Usage::Image(ImageRequest {
                size: frames.size.clone(),
                quality: frames.quality.clone(),
                count: 1,
                image_tokens,
            });
            let requests = shots * u64::from(frames.frames_per_shot) * u64::from(frames.takes);
            bill_line("keyframes", &frames.model, usage, requests);
        }
        for clip in &self.clips {
            let (width, height, fps) = clip.frame.unwrap_or_default();
            let usage = Usage::Video(VideoRequest {
                seconds: clip.seconds,
                width,
                height,
                fps,
                resolution: clip.resolution.clone(),
                tier: None,
                audio: clip.audio,
                input_video_seconds: 0,
            });
            let requests = u64::from(clip.shots) * u64::from(clip.takes);
            // A shot made longer is trimmed to its duration in the cut; one the model cannot
            // make that long is as long as the model's longest clip.
            if let Some(made) = bill_line("clips", &clip.model, usage, requests) {
                finished_seconds += u64::from(clip.shots) * u64::from(made.min(clip.seconds));
            }
        }
        for voice in &self.dubbing {
            let usage = Usage::Speech(SpeechRequest {
                characters: voice.characters,
                milliseconds: voice.seconds.map(|seconds| seconds * 1_000),
            });
            bill_line("dubbing", &voice.model, usage, u64::from(voice.takes));
        }
        if finished_seconds == 0 && problems.is_empty() {
            problems.push(MediaProblem::NoRuntime);
        }
        if problems.is_empty() {
            Ok(EpisodeMediaCost {
                lines,
                finished_seconds,
            })
        } else {
            Err(problems)
        }
    }
}

impl EpisodeMediaCost {
    /// The episode's cost under `profile`: each line converted (and marked up) by the profile,
    /// then per finished minute.
    pub fn under(&self, profile: &Profile) -> ProfileMediaCost {
        let per_episode = self
            .lines
            .iter()
            .map(|line| profile.cost_of(line.cost))
            .fold(Cost::ZERO, |acc, cost| acc + cost);
        let seconds = i128::from(self.finished_seconds.max(1));
        ProfileMediaCost {
            per_episode,
            per_finished_minute: per_episode.scale(60, seconds),
        }
    }
}

#[cfg(test)]
mod tests;
