//! The lengths a video model makes, and a shot's duration fitted to them.

use serde::{Deserialize, Serialize};

use super::BillingError;
use crate::domain::i18n::Lang;

/// Which lengths (whole seconds) a video model makes.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AllowedDurations {
    /// Any whole number of seconds.
    #[default]
    Any,
    /// Only these lengths (Sora 4/8/12 s, Veo 4/6/8 s, Kling 5/10 s).
    Lengths {
        /// The lengths in seconds, in any order.
        seconds: Vec<u32>,
    },
    /// Any length from `min` to `max` seconds (Seedance 4–15 s).
    Range {
        /// The shortest length.
        min: u32,
        /// The longest length.
        max: u32,
    },
}

impl AllowedDurations {
    /// Fits a requested length to what the model makes: the length itself when allowed, else
    /// the smallest allowed length above it, else the longest allowed length. An empty list or
    /// a range with `min > max` allows nothing and is an error.
    pub fn fit(&self, requested: u32) -> Result<DurationFit, BillingError> {
        match self {
            AllowedDurations::Any => Ok(DurationFit {
                requested,
                chosen: requested,
                note: None,
            }),
            AllowedDurations::Lengths { seconds } => {
                fit_duration(seconds, requested).ok_or(BillingError::NoAllowedDurations)
            }
            AllowedDurations::Range { min, max } if min <= max => {
                Ok(fitted(requested, requested.clamp(*min, *max)))
            }
            AllowedDurations::Range { .. } => Err(BillingError::NoAllowedDurations),
        }
    }
}

/// A shot's duration fitted to the lengths a model makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationFit {
    /// The shot's duration.
    pub requested: u32,
    /// The length made and billed.
    pub chosen: u32,
    /// Why they differ, when they do.
    pub note: Option<DurationNote>,
}

/// Why a billed length differs from the shot's duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationNote {
    /// The model makes no clip this short (or of this length): the next longer one is made.
    RoundedUp {
        /// The shot's duration.
        requested: u32,
        /// The length made.
        chosen: u32,
    },
    /// The model makes no clip this long: its longest is made, and the shot is shorter than
    /// planned.
    CutToLongest {
        /// The shot's duration.
        requested: u32,
        /// The model's longest length.
        chosen: u32,
    },
}

impl DurationNote {
    /// The note in the user's language.
    pub fn message(&self, lang: Lang) -> String {
        match (*self, lang) {
            (DurationNote::RoundedUp { requested, chosen }, Lang::ZhCn) => {
                format!("模型不支持 {requested} 秒，按 {chosen} 秒生成并计费")
            }
            (DurationNote::RoundedUp { requested, chosen }, Lang::En) => format!(
                "the model makes no {requested} s clip, so it makes and bills one of {chosen} s"
            ),
            (DurationNote::CutToLongest { requested, chosen }, Lang::ZhCn) => {
                format!("模型最长 {chosen} 秒，{requested} 秒的镜头按 {chosen} 秒生成并计费")
            }
            (DurationNote::CutToLongest { requested, chosen }, Lang::En) => format!(
                "the model makes at most {chosen} s: the {requested} s shot gets a {chosen} s clip"
            ),
        }
    }
}

/// Fits `requested` seconds to `allowed` lengths: the smallest allowed length at or above it,
/// else the longest allowed length, with a note whenever the chosen length differs. None when
/// `allowed` is empty.
pub fn fit_duration(allowed: &[u32], requested: u32) -> Option<DurationFit> {
    let longest = allowed.iter().copied().max()?;
    let chosen = allowed
        .iter()
        .copied()
        .filter(|&length| length >= requested)
        .min()
        .unwrap_or(longest);
    Some(fitted(requested, chosen))
}

fn fitted(requested: u32, chosen: u32) -> DurationFit {
    let note = match chosen.cmp(&requested) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => Some(DurationNote::RoundedUp { requested, chosen }),
        std::cmp::Ordering::Less => Some(DurationNote::CutToLongest { requested, chosen }),
    };
    DurationFit {
        requested,
        chosen,
        note,
    }
}
