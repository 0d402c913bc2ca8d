//! The production plan: what a studio intends to make in a period, as the estimator reads it.
//!
//! A [`ProductionPlan`] is versioned JSON (`"version": 1`, documented with an example in
//! `docs/plan-format.md`). It describes volume structurally (studios × series × episodes, with
//! scenes and clips per episode, tokens per stage, takes per shot, clip length and resolution)
//! and, where figures are known only as totals, as explicit [`VolumeLine`]s. It also names the
//! profiles to compare, the baseline, and the months of the ROI report.
//!
//! Reading a plan never stops at the first mistake: [`ProductionPlan::from_json`] returns every
//! problem as a [`FieldError`] with the field's path (`stages[2].output_tokens`) and a zh-CN/en
//! message, so the page can show each one beside its field. The caps in [`caps`] make overflow
//! impossible in the estimator's `i128` arithmetic; they are far above any real studio.
//!
//! The files of this module:
//! - `mod.rs` (this file): the model — the types, [`caps`], the seed and benchmark plans,
//!   [`ProductionPlan::problems`], the checks of an already-read plan, and [`CheckedPlan`], a
//!   plan with the result of those checks;
//! - `problems.rs`: the list those checks fill, with the per-field cap and volume-line rules;
//! - `errors.rs`: [`FieldError`], [`FieldProblem`], [`PlanError`] and [`LinkProblem`], with
//!   their zh-CN/en messages;
//! - `reader.rs`: JSON → plan (the `Deserialize` impl and the field readers that collect every
//!   error), and [`parse_count_field`] and the other parsers of one form field's text, by the
//!   same rules;
//! - `tests.rs`: the native tests.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::cost::money::{Currency, Micros, Percent};
use crate::domain::cost::pricing::Resolution;
use crate::domain::cost::profile::{Profile, ProfileError};
use crate::domain::i18n::Lang;
use crate::domain::provider::routing::TaskType;

mod errors;
mod problems;
mod reader;
#[cfg(test)]
mod tests;

pub use errors::{FieldError, FieldProblem, LinkProblem, PlanError};
pub use reader::{
    parse_count_field, parse_percent_field, parse_period_field, parse_resolution_field,
};

use problems::Problems;
use reader::read_plan;

/// The plan format version this code reads and writes.
pub const PLAN_VERSION: u64 = 1;

/// Documented caps on plan fields. Each is far beyond a real studio; together with the price
/// caps (`pricing::caps`) and the profile caps (rate ≤ ¥100 per $1, markup ≤ 100 %) they bound
/// every amount the estimator computes.
///
/// The bound: a stage or line costs at most 4 kinds × 10¹⁴ tokens × $10,000/MTok ($4 × 10¹²),
/// plus 10⁹ requests × $1,000 ($10¹²), plus 10⁸ clips × 600 s × $100 ($6 × 10¹²): about
/// $1.2 × 10¹³. A plan has at most 20 stages, one video stage and 100 lines, so a period costs
/// at most $1.5 × 10¹⁵; doubled by the markup, multiplied by 60 months of ROI and ¥100 per $1,
/// that is under ¥2 × 10¹⁹, or 2 × 10³⁷ grid units: a tenth of `i128::MAX`. A test prices a
/// plan with every cap reached.
pub mod caps {
    /// Studios in a plan.
    pub const STUDIOS: u64 = 10_000;
    /// Series per studio.
    pub const SERIES_PER_STUDIO: u64 = 10_000;
    /// Episodes per series.
    pub const EPISODES_PER_SERIES: u64 = 10_000;
    /// Episodes in the whole plan (studios × series × episodes).
    pub const EPISODES: u64 = 1_000_000;
    /// Scenes per episode.
    pub const SCENES_PER_EPISODE: u64 = 1_000;
    /// Clips (shots) per episode.
    pub const CLIPS_PER_EPISODE: u64 = 10_000;
    /// Input or output tokens per episode, scene or clip in one stage.
    pub const TOKENS_PER_UNIT: u64 = 1_000_000_000;
    /// Requests per episode, scene or clip in one stage.
    pub const REQUESTS_PER_UNIT: u64 = 1_000_000;
    /// Takes generated per shot.
    pub const TAKES_PER_SHOT: u64 = 100;
    /// Seconds per clip.
    pub const SECONDS_PER_CLIP: u64 = 600;
    /// Tokens of one kind in one stage or one line, per period.
    pub const TOKENS_PER_PERIOD: u64 = 100_000_000_000_000;
    /// Requests in one stage or one line, per period.
    pub const REQUESTS_PER_PERIOD: u64 = 1_000_000_000;
    /// Clips generated in the video stage or in one line, per period.
    pub const CLIPS_PER_PERIOD: u64 = 100_000_000;
    /// Seconds of video generated in the video stage or in one line, per period.
    pub const VIDEO_SECONDS_PER_PERIOD: u64 = 10_000_000_000;
    /// Stages in a plan.
    pub const STAGES: usize = 20;
    /// Explicit volume lines in a plan.
    pub const LINES: usize = 100;
    /// Profiles compared.
    pub const PROFILES: usize = 10;
    /// Months in the ROI report.
    pub const ROI_MONTHS: u64 = 60;
    /// Characters in a name or label.
    pub const TEXT_CHARS: usize = 200;
}

/// The period a plan's volumes describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// One month.
    #[default]
    Month,
    /// Three months.
    Quarter,
    /// Twelve months.
    Year,
}

impl Period {
    /// Months in the period.
    pub fn months(self) -> u64 {
        match self {
            Period::Month => 1,
            Period::Quarter => 3,
            Period::Year => 12,
        }
    }

    /// The name used in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// Parses `month`, `quarter` or `year`.
    pub fn parse(text: &str) -> Option<Period> {
        [Period::Month, Period::Quarter, Period::Year]
            .into_iter()
            .find(|period| period.as_str() == text.trim())
    }

    /// "per month" in the user's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Period::Month => lang.pick("每月", "per month"),
            Period::Quarter => lang.pick("每季度", "per quarter"),
            Period::Year => lang.pick("每年", "per year"),
        }
    }
}

/// A production stage. Each text stage is served by a task's route; video by the video route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Script generation.
    Script,
    /// Character consistency (bibles, voice).
    CharacterConsistency,
    /// Dialogue polish.
    Dialogue,
    /// Subtitles.
    Subtitles,
    /// Storyboards (JSON shots).
    Storyboard,
    /// Video clip generation (the plan's `video` section).
    Video,
}

impl Stage {
    /// The stages a plan lists in `stages` (video has its own section).
    pub const TEXT: [Stage; 5] = [
        Stage::Script,
        Stage::CharacterConsistency,
        Stage::Dialogue,
        Stage::Subtitles,
        Stage::Storyboard,
    ];

    /// The task whose route serves this stage unless the plan says otherwise.
    pub fn task(self) -> TaskType {
        match self {
            Stage::Script => TaskType::ScriptDraft,
            Stage::CharacterConsistency => TaskType::CharacterVoice,
            Stage::Dialogue => TaskType::DialogueEmotion,
            Stage::Subtitles => TaskType::SubtitleTiming,
            Stage::Storyboard => TaskType::Storyboard,
            Stage::Video => TaskType::Video,
        }
    }

    /// The name used in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Script => "script",
            Stage::CharacterConsistency => "character_consistency",
            Stage::Dialogue => "dialogue",
            Stage::Subtitles => "subtitles",
            Stage::Storyboard => "storyboard",
            Stage::Video => "video",
        }
    }

    /// Parses a stage name.
    pub fn parse(text: &str) -> Option<Stage> {
        Stage::TEXT
            .into_iter()
            .chain([Stage::Video])
            .find(|stage| stage.as_str() == text.trim())
    }

    /// The stage's name in the user's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Stage::Script => lang.pick("剧本生成", "Script"),
            Stage::CharacterConsistency => lang.pick("角色一致性", "Character consistency"),
            Stage::Dialogue => lang.pick("对白润色", "Dialogue"),
            Stage::Subtitles => lang.pick("字幕", "Subtitles"),
            Stage::Storyboard => lang.pick("分镜", "Storyboard"),
            Stage::Video => lang.pick("视频生成", "Video"),
        }
    }
}

/// What a stage's token figures are counted per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PerUnit {
    /// Per episode.
    #[default]
    Episode,
    /// Per scene.
    Scene,
    /// Per clip (shot).
    Clip,
}

impl PerUnit {
    fn as_str(self) -> &'static str {
        match self {
            PerUnit::Episode => "episode",
            PerUnit::Scene => "scene",
            PerUnit::Clip => "clip",
        }
    }

    fn parse(text: &str) -> Option<PerUnit> {
        [PerUnit::Episode, PerUnit::Scene, PerUnit::Clip]
            .into_iter()
            .find(|unit| unit.as_str() == text.trim())
    }
}

/// Tokens one text stage uses per episode (or scene, or clip).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StagePlan {
    /// The stage.
    pub stage: Stage,
    /// What the figures below are counted per.
    #[serde(skip_serializing_if = "is_default")]
    pub per: PerUnit,
    /// Input tokens per unit, cached ones included.
    pub input_tokens: u64,
    /// Output tokens per unit.
    pub output_tokens: u64,
    /// Requests per unit (only priced by models with a per-request price).
    #[serde(skip_serializing_if = "is_default")]
    pub requests: u64,
    /// Another task's route instead of the stage's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskType>,
    /// A model instead of the route's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// Video generation: one clip per shot, `takes_per_shot` generations of each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VideoPlan {
    /// Generations per shot (the director picks one take).
    pub takes_per_shot: u64,
    /// Seconds per clip; the video route's when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_per_clip: Option<u64>,
    /// Resolution; the video route's when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// A model instead of the video route's (e.g. `video-official-openai`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// An explicit volume for the period: a model with token and clip counts, or clips at a price.
/// Lines take no cache-hit share from the plan: give `cached_input_tokens` instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VolumeLine {
    /// What the line is (shown in breakdowns).
    pub label: String,
    /// Count this line only under this profile (when providers served different models, as in
    /// the seeds' ROI report); every compared profile when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The model, priced by each profile's price set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Input tokens, cached ones included.
    #[serde(skip_serializing_if = "is_default")]
    pub input_tokens: u64,
    /// The part of the input tokens read from the prompt cache.
    #[serde(skip_serializing_if = "is_default")]
    pub cached_input_tokens: u64,
    /// The part of the input tokens written to the prompt cache.
    #[serde(skip_serializing_if = "is_default")]
    pub cache_write_tokens: u64,
    /// Output tokens.
    #[serde(skip_serializing_if = "is_default")]
    pub output_tokens: u64,
    /// Requests.
    #[serde(skip_serializing_if = "is_default")]
    pub requests: u64,
    /// Video clips generated.
    #[serde(skip_serializing_if = "is_default")]
    pub clips: u64,
    /// Seconds per clip (for per-second prices); the plan's or the video route's when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_per_clip: Option<u64>,
    /// Resolution; the plan's or the video route's when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// A price per clip that replaces the catalog's, in `currency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_clip: Option<Micros>,
    /// The currency of `price_per_clip`.
    #[serde(skip_serializing_if = "is_default")]
    pub currency: Currency,
}

impl VolumeLine {
    /// A line with nothing in it yet.
    pub fn new(label: &str) -> VolumeLine {
        VolumeLine {
            label: label.into(),
            profile: None,
            model: None,
            input_tokens: 0,
            cached_input_tokens: 0,
            cache_write_tokens: 0,
            output_tokens: 0,
            requests: 0,
            clips: 0,
            seconds_per_clip: None,
            resolution: None,
            price_per_clip: None,
            currency: Currency::Usd,
        }
    }
}

/// A profile to compare: one of the price book's, by id, or one defined in the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ProfileChoice {
    /// A profile of the price book, by id.
    Id(String),
    /// A profile defined in the plan.
    Custom(Profile),
}

impl ProfileChoice {
    /// The profile's id.
    pub fn id(&self) -> &str {
        match self {
            ProfileChoice::Id(id) => id,
            ProfileChoice::Custom(profile) => &profile.id,
        }
    }
}

/// A studio's production plan for one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProductionPlan {
    /// Format version: always [`PLAN_VERSION`].
    pub version: u64,
    /// A name for people.
    pub name: String,
    /// The period the volumes describe.
    pub period: Period,
    /// Studios.
    pub studios: u64,
    /// Series per studio in the period.
    pub series_per_studio: u64,
    /// Episodes per series in the period.
    pub episodes_per_series: u64,
    /// Scenes per episode.
    pub scenes_per_episode: u64,
    /// Clips (shots) per episode.
    pub clips_per_episode: u64,
    /// Share of text stages' input tokens served from the prompt cache.
    pub cache_hit_percent: Percent,
    /// Tokens per stage.
    pub stages: Vec<StagePlan>,
    /// Video generation, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoPlan>,
    /// Explicit volume lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<VolumeLine>,
    /// Profiles to compare; every profile of the price book when empty.
    pub profiles: Vec<ProfileChoice>,
    /// The profile savings are measured against; the first compared profile when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_profile: Option<String>,
    /// Months covered by the ROI report.
    pub roi_months: u64,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl Default for ProductionPlan {
    fn default() -> ProductionPlan {
        ProductionPlan {
            version: PLAN_VERSION,
            name: String::new(),
            period: Period::Month,
            studios: 1,
            series_per_studio: 1,
            episodes_per_series: 0,
            scenes_per_episode: 0,
            clips_per_episode: 0,
            cache_hit_percent: Percent::ZERO,
            stages: Vec::new(),
            video: None,
            lines: Vec::new(),
            profiles: Vec::new(),
            baseline_profile: None,
            roi_months: 1,
        }
    }
}

/// The plan a new page starts from: the seeds' monthly consumption inventory (15 studios × 20
/// episodes; script 800K, character consistency 400K and dialogue 300K tokens per episode,
/// counted as output tokens as the seeds price them), compared across every profile.
pub fn seed_inventory_plan() -> ProductionPlan {
    let stage = |stage: Stage, output_tokens: u64| StagePlan {
        stage,
        per: PerUnit::Episode,
        input_tokens: 0,
        output_tokens,
        requests: 0,
        task: None,
        model: None,
    };
    ProductionPlan {
        name: "Seed inventory: 15 studios × 20 episodes / month".into(),
        studios: 15,
        episodes_per_series: 20,
        stages: vec![
            stage(Stage::Script, 800_000),
            stage(Stage::CharacterConsistency, 400_000),
            stage(Stage::Dialogue, 300_000),
        ],
        // Savings read as "what the relay saves against the official endpoints".
        baseline_profile: Some(Profile::OFFICIAL.into()),
        roi_months: 3,
        ..ProductionPlan::default()
    }
}

/// The benchmark's plan: 10 studios × 20 series × 20 episodes (200 series, 4,000 episodes),
/// every stage, 47 clips per episode with 2 takes, three explicit lines, three profiles.
pub fn bench_plan_200_series() -> ProductionPlan {
    let stage = |stage: Stage, per: PerUnit, input_tokens: u64, output_tokens: u64| StagePlan {
        stage,
        per,
        input_tokens,
        output_tokens,
        requests: 0,
        task: None,
        model: None,
    };
    let mut line = VolumeLine::new("Director review passes");
    line.model = Some("claude-sonnet-4.5".into());
    line.input_tokens = 40_000_000;
    line.cached_input_tokens = 10_000_000;
    line.output_tokens = 8_000_000;
    let mut clips = VolumeLine::new("Trailer clips at the official price");
    clips.model = Some("video-official-openai".into());
    clips.clips = 2_000;
    let mut relay_only = VolumeLine::new("Relay-only narrative pass");
    relay_only.profile = Some(Profile::RELAY.into());
    relay_only.model = Some("deepseek-v3.2".into());
    relay_only.output_tokens = 90_000_000;
    ProductionPlan {
        name: "Benchmark: 200 series × 20 episodes".into(),
        studios: 10,
        series_per_studio: 20,
        episodes_per_series: 20,
        scenes_per_episode: 12,
        clips_per_episode: 47,
        cache_hit_percent: Percent::parse("35").expect("constant"),
        stages: vec![
            stage(Stage::Script, PerUnit::Episode, 200_000, 600_000),
            stage(
                Stage::CharacterConsistency,
                PerUnit::Episode,
                300_000,
                100_000,
            ),
            stage(Stage::Dialogue, PerUnit::Scene, 20_000, 5_000),
            stage(Stage::Subtitles, PerUnit::Episode, 50_000, 30_000),
            stage(Stage::Storyboard, PerUnit::Scene, 6_000, 1_500),
        ],
        video: Some(VideoPlan {
            takes_per_shot: 2,
            seconds_per_clip: Some(5),
            resolution: Some(Resolution::P1080),
            model: None,
        }),
        lines: vec![line, clips, relay_only],
        profiles: vec![
            ProfileChoice::Id(Profile::OFFICIAL.into()),
            ProfileChoice::Id(Profile::RELAY.into()),
            ProfileChoice::Id(Profile::RELAY_MARKET.into()),
        ],
        baseline_profile: Some(Profile::OFFICIAL.into()),
        roi_months: 12,
        ..ProductionPlan::default()
    }
}

impl ProductionPlan {
    /// Reads a plan from JSON text and checks it; every problem is reported with its field.
    pub fn from_json(text: &str) -> Result<ProductionPlan, PlanError> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| PlanError::NotJson(error.to_string()))?;
        ProductionPlan::from_value(&value)
    }

    /// Reads a plan from a parsed JSON value and checks it.
    pub fn from_value(value: &Value) -> Result<ProductionPlan, PlanError> {
        let mut errors = Vec::new();
        let plan = read_plan(value, &mut errors);
        if let Some(plan) = plan {
            // Value problems too, except in fields or list items that could not be read
            // (their placeholder values would only add confusing complaints).
            let item = |path: &str| path.find(']').map_or(path, |end| &path[..=end]).to_string();
            let unread: Vec<String> = errors.iter().map(|error| item(&error.path)).collect();
            errors.extend(
                plan.problems()
                    .into_iter()
                    .filter(|error| !unread.contains(&item(&error.path))),
            );
            if errors.is_empty() {
                return Ok(plan);
            }
        }
        Err(PlanError::Invalid(errors))
    }

    /// The plan as pretty JSON (the format `from_json` reads).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serialises")
    }

    /// The plan as compact JSON, for links.
    pub fn to_compact_json(&self) -> String {
        serde_json::to_string(self).expect("a plan always serialises")
    }

    /// Episodes in the period: studios × series per studio × episodes per series.
    pub fn episodes(&self) -> u64 {
        self.studios
            .saturating_mul(self.series_per_studio)
            .saturating_mul(self.episodes_per_series)
    }

    /// Every problem with the values of an already-read plan (caps, references inside the
    /// plan, derived totals); empty when the plan can be estimated. Profile ids are checked
    /// against the price book by the estimator.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut found = Problems::default();
        if self.version != PLAN_VERSION {
            found.push(
                "version",
                FieldProblem::UnsupportedVersion {
                    found: self.version,
                },
            );
        }
        if self.name.chars().count() > caps::TEXT_CHARS {
            found.push(
                "name",
                FieldProblem::TooLong {
                    max: caps::TEXT_CHARS,
                },
            );
        }
        found.cap("studios", self.studios, caps::STUDIOS);
        found.cap(
            "series_per_studio",
            self.series_per_studio,
            caps::SERIES_PER_STUDIO,
        );
        found.cap(
            "episodes_per_series",
            self.episodes_per_series,
            caps::EPISODES_PER_SERIES,
        );
        found.cap(
            "scenes_per_episode",
            self.scenes_per_episode,
            caps::SCENES_PER_EPISODE,
        );
        found.cap(
            "clips_per_episode",
            self.clips_per_episode,
            caps::CLIPS_PER_EPISODE,
        );
        let episodes = u128::from(self.studios)
            * u128::from(self.series_per_studio)
            * u128::from(self.episodes_per_series);
        found.total_cap("episodes_per_series", episodes, caps::EPISODES);
        if !(0..=10_000).contains(&self.cache_hit_percent.basis_points) {
            found.push(
                "cache_hit_percent",
                FieldProblem::OutOfRange {
                    min: "0".into(),
                    max: "100".into(),
                },
            );
        }
        if self.stages.len() > caps::STAGES {
            found.push("stages", FieldProblem::TooMany { max: caps::STAGES });
        }
        // Later totals use the capped episode count so that one mistake is reported once.
        let episodes = episodes.min(u128::from(caps::EPISODES));
        for (index, stage) in self.stages.iter().enumerate() {
            let path = |field: &str| format!("stages[{index}].{field}");
            if stage.stage == Stage::Video {
                found.push(&path("stage"), FieldProblem::VideoIsASection);
            }
            found.cap(
                &path("input_tokens"),
                stage.input_tokens,
                caps::TOKENS_PER_UNIT,
            );
            found.cap(
                &path("output_tokens"),
                stage.output_tokens,
                caps::TOKENS_PER_UNIT,
            );
            found.cap(&path("requests"), stage.requests, caps::REQUESTS_PER_UNIT);
            if stage
                .model
                .as_deref()
                .is_some_and(|model| model.trim().is_empty())
            {
                found.push(&path("model"), FieldProblem::Empty);
            }
            let units = episodes * u128::from(self.units_per_episode(stage.per));
            found.total_cap(
                &path("input_tokens"),
                units * u128::from(stage.input_tokens),
                caps::TOKENS_PER_PERIOD,
            );
            found.total_cap(
                &path("output_tokens"),
                units * u128::from(stage.output_tokens),
                caps::TOKENS_PER_PERIOD,
            );
            found.total_cap(
                &path("requests"),
                units * u128::from(stage.requests),
                caps::REQUESTS_PER_PERIOD,
            );
        }
        if let Some(video) = &self.video {
            if video.takes_per_shot == 0 {
                found.push(
                    "video.takes_per_shot",
                    FieldProblem::TooSmall { min: "1".into() },
                );
            }
            found.cap(
                "video.takes_per_shot",
                video.takes_per_shot,
                caps::TAKES_PER_SHOT,
            );
            found.seconds("video.seconds_per_clip", video.seconds_per_clip);
            if video
                .model
                .as_deref()
                .is_some_and(|model| model.trim().is_empty())
            {
                found.push("video.model", FieldProblem::Empty);
            }
            let generations = episodes
                * u128::from(self.clips_per_episode)
                * u128::from(video.takes_per_shot.min(caps::TAKES_PER_SHOT));
            found.total_cap("video.takes_per_shot", generations, caps::CLIPS_PER_PERIOD);
            let seconds = video
                .seconds_per_clip
                .unwrap_or(0)
                .min(caps::SECONDS_PER_CLIP);
            found.total_cap(
                "video.seconds_per_clip",
                generations.min(u128::from(caps::CLIPS_PER_PERIOD)) * u128::from(seconds),
                caps::VIDEO_SECONDS_PER_PERIOD,
            );
        }
        if self.lines.len() > caps::LINES {
            found.push("lines", FieldProblem::TooMany { max: caps::LINES });
        }
        for (index, line) in self.lines.iter().enumerate() {
            found.line(index, line);
        }
        if self.profiles.len() > caps::PROFILES {
            found.push(
                "profiles",
                FieldProblem::TooMany {
                    max: caps::PROFILES,
                },
            );
        }
        for (index, choice) in self.profiles.iter().enumerate() {
            let id = choice.id();
            if self.profiles[..index]
                .iter()
                .any(|earlier| earlier.id() == id)
            {
                found.push(
                    &format!("profiles[{index}]"),
                    FieldProblem::DuplicateProfile(id.into()),
                );
            }
            match choice {
                ProfileChoice::Id(id) if id.trim().is_empty() => {
                    found.push(&format!("profiles[{index}]"), FieldProblem::Empty)
                }
                ProfileChoice::Id(_) => {}
                ProfileChoice::Custom(profile) => {
                    for problem in profile.problems() {
                        let field = match problem {
                            ProfileError::EmptyId => "id",
                            ProfileError::EmptyName => "name",
                            ProfileError::EmptyPriceSet => "price_set",
                            ProfileError::BadBaseUrl => "base_url",
                            ProfileError::RateNotANumber | ProfileError::RateOutOfRange => {
                                "cny_per_usd"
                            }
                            ProfileError::MarkupOutOfRange => "markup_percent",
                        };
                        found.push(
                            &format!("profiles[{index}].{field}"),
                            FieldProblem::Profile(problem),
                        );
                    }
                }
            }
        }
        if !self.profiles.is_empty() {
            let compared = |id: &str| self.profiles.iter().any(|choice| choice.id() == id);
            if let Some(baseline) = self.baseline_profile.as_deref().filter(|id| !compared(id)) {
                found.push(
                    "baseline_profile",
                    FieldProblem::NotCompared(baseline.into()),
                );
            }
            for (index, line) in self.lines.iter().enumerate() {
                if let Some(profile) = line.profile.as_deref().filter(|id| !compared(id)) {
                    found.push(
                        &format!("lines[{index}].profile"),
                        FieldProblem::NotCompared(profile.into()),
                    );
                }
            }
        }
        if self.roi_months == 0 {
            found.push("roi_months", FieldProblem::TooSmall { min: "1".into() });
        }
        found.cap("roi_months", self.roi_months, caps::ROI_MONTHS);
        found.0
    }

    /// Scenes, clips or one per episode, for a stage's figures.
    pub(crate) fn units_per_episode(&self, per: PerUnit) -> u64 {
        match per {
            PerUnit::Episode => 1,
            PerUnit::Scene => self.scenes_per_episode,
            PerUnit::Clip => self.clips_per_episode,
        }
    }
}

/// A plan with the problems [`ProductionPlan::problems`] found in it, checked once, when it is
/// made. The Estimate page holds one: an edit checks the plan it makes, and the estimate and the
/// rollback statement read that check instead of repeating it. Stored (and written) as the plan
/// alone; read back, it is checked again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedPlan {
    plan: ProductionPlan,
    problems: Vec<FieldError>,
}

impl CheckedPlan {
    /// Checks `plan`.
    pub fn new(plan: ProductionPlan) -> CheckedPlan {
        let problems = plan.problems();
        CheckedPlan { plan, problems }
    }

    /// The plan.
    pub fn plan(&self) -> &ProductionPlan {
        &self.plan
    }

    /// What the check found: `plan().problems()`, computed once.
    pub fn problems(&self) -> &[FieldError] {
        &self.problems
    }
}

impl Serialize for CheckedPlan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.plan.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CheckedPlan {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<CheckedPlan, D::Error> {
        ProductionPlan::deserialize(deserializer).map(CheckedPlan::new)
    }
}
