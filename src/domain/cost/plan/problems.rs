//! The checks of an already-read plan collect their findings here, in the order of the plan's
//! fields: caps, derived totals and the rules of one volume line.

use crate::domain::cost::plan::{caps, FieldError, FieldProblem, VolumeLine};
use crate::domain::cost::pricing;

/// Problems found so far, in the order of the plan's fields.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<FieldError>);

impl Problems {
    pub(super) fn push(&mut self, path: &str, problem: FieldProblem) {
        self.0.push(FieldError {
            path: path.into(),
            problem,
        });
    }

    /// Reports a value above its cap.
    pub(super) fn cap(&mut self, path: &str, value: u64, max: u64) {
        if value > max {
            self.push(
                path,
                FieldProblem::TooLarge {
                    max: max.to_string(),
                },
            );
        }
    }

    /// Reports a product of fields above its cap, at the field that completes the product.
    pub(super) fn total_cap(&mut self, path: &str, total: u128, max: u64) {
        if total > u128::from(max) {
            self.push(
                path,
                FieldProblem::TotalTooLarge {
                    max: max.to_string(),
                },
            );
        }
    }

    pub(super) fn seconds(&mut self, path: &str, seconds: Option<u64>) {
        if seconds == Some(0) {
            self.push(path, FieldProblem::TooSmall { min: "1".into() });
        }
        self.cap(path, seconds.unwrap_or(0), caps::SECONDS_PER_CLIP);
    }

    pub(super) fn line(&mut self, index: usize, line: &VolumeLine) {
        let path = |field: &str| format!("lines[{index}].{field}");
        if line.label.trim().is_empty() && line.model.is_none() {
            self.push(&path("label"), FieldProblem::Empty);
        }
        if line.label.chars().count() > caps::TEXT_CHARS {
            self.push(
                &path("label"),
                FieldProblem::TooLong {
                    max: caps::TEXT_CHARS,
                },
            );
        }
        if line
            .model
            .as_deref()
            .is_some_and(|model| model.trim().is_empty())
        {
            self.push(&path("model"), FieldProblem::Empty);
        }
        if line
            .profile
            .as_deref()
            .is_some_and(|profile| profile.trim().is_empty())
        {
            self.push(&path("profile"), FieldProblem::Empty);
        }
        self.cap(
            &path("input_tokens"),
            line.input_tokens,
            caps::TOKENS_PER_PERIOD,
        );
        self.cap(
            &path("cached_input_tokens"),
            line.cached_input_tokens,
            caps::TOKENS_PER_PERIOD,
        );
        self.cap(
            &path("cache_write_tokens"),
            line.cache_write_tokens,
            caps::TOKENS_PER_PERIOD,
        );
        self.cap(
            &path("output_tokens"),
            line.output_tokens,
            caps::TOKENS_PER_PERIOD,
        );
        if u128::from(line.cached_input_tokens) + u128::from(line.cache_write_tokens)
            > u128::from(line.input_tokens)
        {
            self.push(
                &path("cached_input_tokens"),
                FieldProblem::CachedExceedsInput,
            );
        }
        self.cap(&path("requests"), line.requests, caps::REQUESTS_PER_PERIOD);
        self.cap(&path("clips"), line.clips, caps::CLIPS_PER_PERIOD);
        self.seconds(&path("seconds_per_clip"), line.seconds_per_clip);
        let seconds = line
            .seconds_per_clip
            .unwrap_or(0)
            .min(caps::SECONDS_PER_CLIP);
        self.total_cap(
            &path("clips"),
            u128::from(line.clips.min(caps::CLIPS_PER_PERIOD)) * u128::from(seconds),
            caps::VIDEO_SECONDS_PER_PERIOD,
        );
        if let Some(price) = line.price_per_clip {
            if price.0 < 0 {
                self.push(&path("price_per_clip"), FieldProblem::Negative);
            } else if price > pricing::caps::VIDEO {
                self.push(
                    &path("price_per_clip"),
                    FieldProblem::TooLarge {
                        max: pricing::caps::VIDEO.to_decimal(),
                    },
                );
            }
        }
        if line.model.is_none() && line.price_per_clip.is_none() {
            self.push(&path("model"), FieldProblem::NeedsModelOrPrice);
        }
    }
}
