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

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::domain::cost::money::{
    decimal_from_json, float_text, parse_decimal, Currency, DecimalError, Micros, Percent,
};
use crate::domain::cost::pricing::{self, Resolution};
use crate::domain::cost::profile::{ExchangeRate, Profile, ProfileError};
use crate::domain::i18n::Lang;
use crate::domain::provider::routing::TaskType;

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

/// Problems found so far, in the order of the plan's fields.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn push(&mut self, path: &str, problem: FieldProblem) {
        self.0.push(FieldError {
            path: path.into(),
            problem,
        });
    }

    /// Reports a value above its cap.
    fn cap(&mut self, path: &str, value: u64, max: u64) {
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
    fn total_cap(&mut self, path: &str, total: u128, max: u64) {
        if total > u128::from(max) {
            self.push(
                path,
                FieldProblem::TotalTooLarge {
                    max: max.to_string(),
                },
            );
        }
    }

    fn seconds(&mut self, path: &str, seconds: Option<u64>) {
        if seconds == Some(0) {
            self.push(path, FieldProblem::TooSmall { min: "1".into() });
        }
        self.cap(path, seconds.unwrap_or(0), caps::SECONDS_PER_CLIP);
    }

    fn line(&mut self, index: usize, line: &VolumeLine) {
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

/// One problem at one field of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's path: `studios`, `stages[2].output_tokens`, `profiles[1].cny_per_usd`.
    pub path: String,
    /// What is wrong.
    #[serde(skip)]
    pub problem: FieldProblem,
}

impl FieldError {
    /// The message shown beside the field (without the path).
    pub fn message(&self, lang: Lang) -> String {
        self.problem.message(lang)
    }

    /// The path and the message, for lists of problems.
    pub fn describe(&self, lang: Lang) -> String {
        match lang {
            Lang::ZhCn => format!("{}：{}", self.path, self.message(lang)),
            Lang::En => format!("{}: {}", self.path, self.message(lang)),
        }
    }
}

/// What can be wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    /// A required field is absent.
    Missing,
    /// The field is empty.
    Empty,
    /// The field must be text.
    NotText,
    /// The field must be a number.
    NotANumber,
    /// The field must be a whole number.
    NotAWholeNumber,
    /// The field must not be negative.
    Negative,
    /// The field has more decimals than kept.
    TooPrecise {
        /// Decimal places kept.
        decimals: u32,
    },
    /// The value is above the field's cap.
    TooLarge {
        /// The cap.
        max: String,
    },
    /// The value is below the field's minimum.
    TooSmall {
        /// The minimum.
        min: String,
    },
    /// The value lies outside a range.
    OutOfRange {
        /// The minimum.
        min: String,
        /// The maximum.
        max: String,
    },
    /// A product of this field with others exceeds a total cap.
    TotalTooLarge {
        /// The cap on the total.
        max: String,
    },
    /// Text longer than allowed.
    TooLong {
        /// Characters allowed.
        max: usize,
    },
    /// A list has too many entries.
    TooMany {
        /// Entries allowed.
        max: usize,
    },
    /// The field must be a JSON object.
    NotAnObject,
    /// The field must be a list.
    NotAList,
    /// The value is not one of the allowed words.
    UnknownOption {
        /// The allowed words.
        allowed: &'static str,
    },
    /// The plan's version is not one this code reads.
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
    /// No profile of that id exists.
    UnknownProfile(String),
    /// A profile is listed twice.
    DuplicateProfile(String),
    /// A profile is referred to but not among the compared profiles.
    NotCompared(String),
    /// Cached and cache-write tokens exceed the input tokens they are part of.
    CachedExceedsInput,
    /// A line has neither a model nor a price per clip.
    NeedsModelOrPrice,
    /// `video` was listed among the text stages.
    VideoIsASection,
    /// An inline profile is invalid.
    Profile(ProfileError),
}

impl FieldProblem {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        use FieldProblem as P;
        let fixed = |zh: &str, en: &str| lang.pick(zh, en).to_string();
        match (self, lang) {
            (P::Missing, _) => fixed("必填", "is required"),
            (P::Empty, _) => fixed("不能为空", "must not be empty"),
            (P::NotText, _) => fixed("必须是文本", "must be text"),
            (P::NotANumber, _) => fixed("必须是数字", "must be a number"),
            (P::NotAWholeNumber, _) => fixed("必须是整数", "must be a whole number"),
            (P::Negative, _) => fixed("不能为负数", "must not be negative"),
            (P::TooPrecise { decimals }, Lang::ZhCn) => format!("最多 {decimals} 位小数"),
            (P::TooPrecise { decimals }, Lang::En) => {
                format!("allows at most {decimals} decimal places")
            }
            (P::TooLarge { max }, Lang::ZhCn) => format!("不能超过 {max}"),
            (P::TooLarge { max }, Lang::En) => format!("must not exceed {max}"),
            (P::TooSmall { min }, Lang::ZhCn) => format!("不能小于 {min}"),
            (P::TooSmall { min }, Lang::En) => format!("must be at least {min}"),
            (P::OutOfRange { min, max }, Lang::ZhCn) => format!("必须在 {min} 到 {max} 之间"),
            (P::OutOfRange { min, max }, Lang::En) => format!("must be between {min} and {max}"),
            (P::TotalTooLarge { max }, Lang::ZhCn) => {
                format!("与其他数量相乘后的总量超过上限 {max}")
            }
            (P::TotalTooLarge { max }, Lang::En) => {
                format!("makes the period's total exceed the cap of {max}")
            }
            (P::TooLong { max }, Lang::ZhCn) => format!("最多 {max} 个字符"),
            (P::TooLong { max }, Lang::En) => format!("allows at most {max} characters"),
            (P::TooMany { max }, Lang::ZhCn) => format!("最多 {max} 项"),
            (P::TooMany { max }, Lang::En) => format!("allows at most {max} entries"),
            (P::NotAnObject, _) => fixed("必须是 JSON 对象", "must be a JSON object"),
            (P::NotAList, _) => fixed("必须是列表", "must be a list"),
            (P::UnknownOption { allowed }, Lang::ZhCn) => format!("必须是以下之一：{allowed}"),
            (P::UnknownOption { allowed }, Lang::En) => format!("must be one of: {allowed}"),
            (P::UnsupportedVersion { found }, Lang::ZhCn) => {
                format!("不支持的版本 {found}（本应用读取版本 {PLAN_VERSION}）")
            }
            (P::UnsupportedVersion { found }, Lang::En) => {
                format!("version {found} is not supported (this app reads version {PLAN_VERSION})")
            }
            (P::UnknownProfile(id), Lang::ZhCn) => format!("没有名为 “{id}” 的配置"),
            (P::UnknownProfile(id), Lang::En) => format!("there is no profile \"{id}\""),
            (P::DuplicateProfile(id), Lang::ZhCn) => format!("配置 “{id}” 重复"),
            (P::DuplicateProfile(id), Lang::En) => format!("profile \"{id}\" is listed twice"),
            (P::NotCompared(id), Lang::ZhCn) => format!("配置 “{id}” 不在对比列表中"),
            (P::NotCompared(id), Lang::En) => {
                format!("profile \"{id}\" is not among the compared profiles")
            }
            (P::CachedExceedsInput, _) => fixed(
                "缓存命中与缓存写入的 token 之和不能超过输入 token",
                "cached and cache-write tokens must not exceed the input tokens",
            ),
            (P::NeedsModelOrPrice, _) => {
                fixed("请填写模型或单片价格", "give a model or a price per clip")
            }
            (P::VideoIsASection, _) => fixed(
                "视频不属于文本阶段，请在 video 部分填写",
                "video is not a text stage: use the video section",
            ),
            (P::Profile(problem), _) => problem.message(lang),
        }
    }
}

/// Why a plan could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// The text is not JSON; the parser's explanation follows.
    NotJson(String),
    /// Fields are invalid; each error names its field.
    Invalid(Vec<FieldError>),
    /// A share link could not be read.
    Link(LinkProblem),
}

impl PlanError {
    /// The message shown to the user; field errors are listed one per line with their paths.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PlanError::NotJson(detail), Lang::ZhCn) => format!("方案不是有效的 JSON：{detail}"),
            (PlanError::NotJson(detail), Lang::En) => {
                format!("the plan is not valid JSON: {detail}")
            }
            (PlanError::Invalid(errors), _) => {
                let head = lang.pick("方案有以下问题：", "the plan has problems:");
                let lines: Vec<String> = errors
                    .iter()
                    .map(|error| format!("- {}", error.describe(lang)))
                    .collect();
                format!("{head}\n{}", lines.join("\n"))
            }
            (PlanError::Link(problem), _) => problem.message(lang),
        }
    }

    /// The field errors, if this is a validation failure.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            PlanError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for PlanError {}

/// Why a share link (URL fragment) could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkProblem {
    /// The fragment does not start with a known version prefix (`v1.`).
    UnknownFormat,
    /// The fragment contains a character outside base64url at this byte position.
    BadCharacter {
        /// Byte offset in the payload.
        position: usize,
    },
    /// The payload's length cannot be base64url (it was cut).
    Truncated,
    /// The checksum does not match: the link was cut or edited.
    ChecksumMismatch,
    /// The payload is not UTF-8 text.
    NotText,
}

impl LinkProblem {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (LinkProblem::UnknownFormat, _) => lang
                .pick(
                    "链接不是本应用的方案链接（缺少 v1. 前缀）",
                    "the link is not a plan link from this app (no v1. prefix)",
                )
                .into(),
            (LinkProblem::BadCharacter { position }, Lang::ZhCn) => {
                format!("链接已损坏：第 {position} 个字符无效")
            }
            (LinkProblem::BadCharacter { position }, Lang::En) => {
                format!("the link is damaged: invalid character at position {position}")
            }
            (LinkProblem::Truncated, _) => lang
                .pick(
                    "链接不完整，可能被截断了，请重新复制",
                    "the link is incomplete (probably cut off): copy it again",
                )
                .into(),
            (LinkProblem::ChecksumMismatch, _) => lang
                .pick(
                    "链接校验失败：内容被截断或改动，请向发送者索取新链接",
                    "the link failed its checksum: it was cut or edited; ask for a new link",
                )
                .into(),
            (LinkProblem::NotText, _) => lang
                .pick("链接内容不是文本", "the link's content is not text")
                .into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading: JSON value → plan, collecting field errors.
// ---------------------------------------------------------------------------------------------

impl<'de> Deserialize<'de> for ProductionPlan {
    /// Reads the plan's structure (not its caps: call [`ProductionPlan::problems`]).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ProductionPlan, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let mut errors = Vec::new();
        match read_plan(&value, &mut errors) {
            Some(plan) if errors.is_empty() => Ok(plan),
            _ => Err(serde::de::Error::custom(
                PlanError::Invalid(errors).message(Lang::En),
            )),
        }
    }
}

/// Joins a path and a key: `("", "studios")` → `studios`, `("video", "model")` → `video.model`.
fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.into()
    } else {
        format!("{base}.{key}")
    }
}

/// A JSON object being read, with its path, collecting errors.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    base: String,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, base: &str, errors: &mut Vec<FieldError>) -> Option<Fields<'a>> {
        match value {
            Value::Object(map) => Some(Fields {
                map,
                base: base.into(),
            }),
            _ => {
                errors.push(FieldError {
                    path: if base.is_empty() {
                        "$".into()
                    } else {
                        base.into()
                    },
                    problem: FieldProblem::NotAnObject,
                });
                None
            }
        }
    }

    fn path(&self, key: &str) -> String {
        join(&self.base, key)
    }

    /// The value of `key`, treating `null` as absent.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    fn fail(&self, key: &str, problem: FieldProblem, errors: &mut Vec<FieldError>) {
        errors.push(FieldError {
            path: self.path(key),
            problem,
        });
    }

    /// A whole, non-negative number; `default` when absent (or an error when there is none).
    fn count(&self, key: &str, default: Option<u64>, errors: &mut Vec<FieldError>) -> u64 {
        match self.get(key) {
            None => {
                if default.is_none() {
                    self.fail(key, FieldProblem::Missing, errors);
                }
                default.unwrap_or(0)
            }
            Some(value) => read_count(value).unwrap_or_else(|problem| {
                self.fail(key, problem, errors);
                0
            }),
        }
    }

    fn optional_count(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<u64> {
        self.get(key).map(|_| self.count(key, Some(0), errors))
    }

    /// An exact decimal with `decimals` places.
    fn decimal(&self, key: &str, decimals: u32, errors: &mut Vec<FieldError>) -> Option<i64> {
        let value = self.get(key)?;
        let problem = match decimal_from_json(value, decimals) {
            Ok(value) => match i64::try_from(value) {
                Ok(value) => return Some(value),
                Err(_) => FieldProblem::TooLarge {
                    max: i64::MAX.to_string(),
                },
            },
            Err(error) => decimal_problem(error),
        };
        self.fail(key, problem, errors);
        None
    }

    fn text(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<String> {
        match self.get(key)? {
            Value::String(text) => Some(text.clone()),
            _ => {
                self.fail(key, FieldProblem::NotText, errors);
                None
            }
        }
    }

    fn choice<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &'static str,
        errors: &mut Vec<FieldError>,
    ) -> Option<T> {
        let text = self.text(key, errors)?;
        let parsed = parse(&text);
        if parsed.is_none() {
            self.fail(key, FieldProblem::UnknownOption { allowed }, errors);
        }
        parsed
    }

    fn list(&self, key: &str, errors: &mut Vec<FieldError>) -> &'a [Value] {
        match self.get(key) {
            None => &[],
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.fail(key, FieldProblem::NotAList, errors);
                &[]
            }
        }
    }
}

fn decimal_problem(error: DecimalError) -> FieldProblem {
    match error {
        DecimalError::Empty => FieldProblem::Empty,
        DecimalError::NotANumber => FieldProblem::NotANumber,
        DecimalError::TooPrecise { decimals } => FieldProblem::TooPrecise { decimals },
        DecimalError::TooLarge => FieldProblem::TooLarge {
            max: u64::MAX.to_string(),
        },
    }
}

/// Reads a whole, non-negative number from a JSON number or numeric text.
fn read_count(value: &Value) -> Result<u64, FieldProblem> {
    let text = match value {
        Value::Number(number) => match number.as_u64() {
            Some(count) => return Ok(count),
            None => number
                .as_f64()
                .and_then(float_text)
                .unwrap_or_else(|| number.to_string()),
        },
        Value::String(text) => text.clone(),
        _ => return Err(FieldProblem::NotANumber),
    };
    match parse_decimal(&text, 0) {
        Ok(count) if count < 0 => Err(FieldProblem::Negative),
        Ok(count) => u64::try_from(count).map_err(|_| FieldProblem::TooLarge {
            max: u64::MAX.to_string(),
        }),
        Err(DecimalError::TooPrecise { .. }) if text.trim_start().starts_with('-') => {
            Err(FieldProblem::Negative)
        }
        Err(DecimalError::TooPrecise { .. }) => Err(FieldProblem::NotAWholeNumber),
        Err(error) => Err(decimal_problem(error)),
    }
}

/// Parses a count typed into a form field (`"1,200"` is not accepted: digits only).
pub fn parse_count_field(path: &str, text: &str) -> Result<u64, FieldError> {
    read_count(&Value::String(text.into())).map_err(|problem| FieldError {
        path: path.into(),
        problem,
    })
}

const PERIODS: &str = "month, quarter, year";
const STAGES: &str = "script, character_consistency, dialogue, subtitles, storyboard";
const UNITS: &str = "episode, scene, clip";
const TASKS: &str = "script_draft, dialogue_emotion, subtitle_timing, character_voice, narrative, storyboard, video";
const RESOLUTIONS: &str = "720p, 1080p, 4k";
const CURRENCIES: &str = "USD, CNY";

fn read_plan(value: &Value, errors: &mut Vec<FieldError>) -> Option<ProductionPlan> {
    let fields = Fields::of(value, "", errors)?;
    let defaults = ProductionPlan::default();
    let version = fields.count("version", None, errors);
    if version != PLAN_VERSION && fields.get("version").is_some() && errors.is_empty() {
        // Nothing else can be trusted in a plan of another version.
        errors.push(FieldError {
            path: "version".into(),
            problem: FieldProblem::UnsupportedVersion { found: version },
        });
        return None;
    }
    let stages = fields
        .list("stages", errors)
        .iter()
        .enumerate()
        .map(|(index, item)| read_stage(item, &format!("stages[{index}]"), errors))
        .collect();
    let video = fields
        .get("video")
        .and_then(|item| read_video(item, "video", errors));
    let lines = fields
        .list("lines", errors)
        .iter()
        .enumerate()
        .map(|(index, item)| read_line(item, &format!("lines[{index}]"), errors))
        .collect();
    let profiles = fields
        .list("profiles", errors)
        .iter()
        .enumerate()
        .map(|(index, item)| read_profile_choice(item, &format!("profiles[{index}]"), errors))
        .collect();
    Some(ProductionPlan {
        version,
        name: fields.text("name", errors).unwrap_or_default(),
        period: fields
            .choice("period", Period::parse, PERIODS, errors)
            .unwrap_or_default(),
        studios: fields.count("studios", Some(defaults.studios), errors),
        series_per_studio: fields.count(
            "series_per_studio",
            Some(defaults.series_per_studio),
            errors,
        ),
        episodes_per_series: fields.count("episodes_per_series", Some(0), errors),
        scenes_per_episode: fields.count("scenes_per_episode", Some(0), errors),
        clips_per_episode: fields.count("clips_per_episode", Some(0), errors),
        cache_hit_percent: fields
            .decimal("cache_hit_percent", 2, errors)
            .map(|basis_points| Percent { basis_points })
            .unwrap_or_default(),
        stages,
        video,
        lines,
        profiles,
        baseline_profile: fields.text("baseline_profile", errors),
        roi_months: fields.count("roi_months", Some(defaults.roi_months), errors),
    })
}

/// List items are always read into a value, a placeholder when they cannot be, so that later
/// items keep their index (and their paths) in the plan.
fn read_stage(value: &Value, base: &str, errors: &mut Vec<FieldError>) -> StagePlan {
    let placeholder = StagePlan {
        stage: Stage::Script,
        per: PerUnit::Episode,
        input_tokens: 0,
        output_tokens: 0,
        requests: 0,
        task: None,
        model: None,
    };
    let Some(fields) = Fields::of(value, base, errors) else {
        return placeholder;
    };
    let stage = match fields.get("stage") {
        None => {
            fields.fail("stage", FieldProblem::Missing, errors);
            None
        }
        Some(_) => fields.choice("stage", Stage::parse, STAGES, errors),
    };
    StagePlan {
        stage: stage.unwrap_or(Stage::Script),
        per: fields
            .choice("per", PerUnit::parse, UNITS, errors)
            .unwrap_or_default(),
        input_tokens: fields.count("input_tokens", Some(0), errors),
        output_tokens: fields.count("output_tokens", Some(0), errors),
        requests: fields.count("requests", Some(0), errors),
        task: fields.choice("task", TaskType::parse, TASKS, errors),
        model: fields.text("model", errors),
    }
}

fn read_video(value: &Value, base: &str, errors: &mut Vec<FieldError>) -> Option<VideoPlan> {
    let fields = Fields::of(value, base, errors)?;
    Some(VideoPlan {
        takes_per_shot: fields.count("takes_per_shot", Some(1), errors),
        seconds_per_clip: fields.optional_count("seconds_per_clip", errors),
        resolution: fields.choice("resolution", Resolution::parse, RESOLUTIONS, errors),
        model: fields.text("model", errors),
    })
}

fn read_line(value: &Value, base: &str, errors: &mut Vec<FieldError>) -> VolumeLine {
    let Some(fields) = Fields::of(value, base, errors) else {
        return VolumeLine::new("");
    };
    VolumeLine {
        label: fields.text("label", errors).unwrap_or_default(),
        profile: fields.text("profile", errors),
        model: fields.text("model", errors),
        input_tokens: fields.count("input_tokens", Some(0), errors),
        cached_input_tokens: fields.count("cached_input_tokens", Some(0), errors),
        cache_write_tokens: fields.count("cache_write_tokens", Some(0), errors),
        output_tokens: fields.count("output_tokens", Some(0), errors),
        requests: fields.count("requests", Some(0), errors),
        clips: fields.count("clips", Some(0), errors),
        seconds_per_clip: fields.optional_count("seconds_per_clip", errors),
        resolution: fields.choice("resolution", Resolution::parse, RESOLUTIONS, errors),
        price_per_clip: fields.decimal("price_per_clip", 6, errors).map(Micros),
        currency: fields
            .choice("currency", Currency::from_code, CURRENCIES, errors)
            .unwrap_or_default(),
    }
}

fn read_profile_choice(value: &Value, base: &str, errors: &mut Vec<FieldError>) -> ProfileChoice {
    if let Value::String(id) = value {
        return ProfileChoice::Id(id.clone());
    }
    let Some(fields) = Fields::of(value, base, errors) else {
        return ProfileChoice::Id(String::new());
    };
    let id = fields.text("id", errors);
    if id.is_none() && fields.get("id").is_none() {
        fields.fail("id", FieldProblem::Missing, errors);
    }
    let price_set = fields.text("price_set", errors);
    if price_set.is_none() && fields.get("price_set").is_none() {
        fields.fail("price_set", FieldProblem::Missing, errors);
    }
    let rate = match fields.get("cny_per_usd") {
        None => {
            fields.fail("cny_per_usd", FieldProblem::Missing, errors);
            None
        }
        Some(_) => fields.decimal("cny_per_usd", 6, errors),
    };
    let id = id.unwrap_or_default();
    ProfileChoice::Custom(Profile {
        name: fields.text("name", errors).unwrap_or_else(|| id.clone()),
        id,
        base_url: fields.text("base_url", errors).unwrap_or_default(),
        price_set: price_set.unwrap_or_default(),
        // An unreadable rate was reported above; the placeholder is never used.
        exchange_rate: rate
            .map(|micros| {
                ExchangeRate::new(Micros(micros)).unwrap_or_else(|_| out_of_range_rate(micros))
            })
            .unwrap_or(ExchangeRate::RELAY),
        markup: Percent {
            basis_points: fields.decimal("markup_percent", 2, errors).unwrap_or(0),
        },
    })
}

/// Keeps an out-of-range rate so that validation reports it at its field.
fn out_of_range_rate(micros: i64) -> ExchangeRate {
    serde_json::from_value(Value::from(micros as f64 / 1e6)).unwrap_or(ExchangeRate::RELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `json` and compares the problems found with `expect` (`path: English message`).
    fn check(json: &str, expect: &[&str]) {
        let got: Vec<String> = match ProductionPlan::from_json(json) {
            Ok(_) => Vec::new(),
            Err(PlanError::Invalid(errors)) => {
                errors.iter().map(|e| e.describe(Lang::En)).collect()
            }
            Err(other) => vec![other.message(Lang::En)],
        };
        assert_eq!(got, expect, "{json}");
    }

    #[test]
    fn minimal_plan_reads_with_defaults() {
        let plan = ProductionPlan::from_json(r#"{"version": 1}"#).unwrap();
        assert_eq!(plan, ProductionPlan::default());
        check(
            r#"{"version": 1, "studios": "3", "cache_hit_percent": "12.5"}"#,
            &[],
        );
    }

    #[test]
    fn every_field_problem_is_reported_with_its_path() {
        check("[]", &["$: must be a JSON object"]);
        check(
            "{",
            &["the plan is not valid JSON: EOF while parsing an object at line 1 column 1"],
        );
        check(r#"{}"#, &["version: is required"]);
        check(
            r#"{"version": 2}"#,
            &["version: version 2 is not supported (this app reads version 1)"],
        );
        check(
            r#"{"version": 1, "studios": -3, "series_per_studio": "abc", "episodes_per_series": 2.5,
                "clips_per_episode": 1e30, "period": "week", "cache_hit_percent": 12.345, "name": 7}"#,
            &[
                "name: must be text",
                "period: must be one of: month, quarter, year",
                "studios: must not be negative",
                "series_per_studio: must be a number",
                "episodes_per_series: must be a whole number",
                "clips_per_episode: must not exceed 18446744073709551615",
                "cache_hit_percent: allows at most 2 decimal places",
            ],
        );
        check(
            r#"{"version": 1, "studios": 10001, "cache_hit_percent": 101, "roi_months": 0,
                "stages": [{"stage": "video"}, {"stage": "poetry"}, {"output_tokens": 1}, 5,
                           {"stage": "script", "output_tokens": 2000000000}],
                "video": {"takes_per_shot": 0, "seconds_per_clip": 601}}"#,
            &[
                "stages[1].stage: must be one of: script, character_consistency, dialogue, subtitles, storyboard",
                "stages[2].stage: is required",
                "stages[3]: must be a JSON object",
                "studios: must not exceed 10000",
                "cache_hit_percent: must be between 0 and 100",
                "stages[0].stage: video is not a text stage: use the video section",
                "stages[4].output_tokens: must not exceed 1000000000",
                "video.takes_per_shot: must be at least 1",
                "video.seconds_per_clip: must not exceed 600",
                "roi_months: must be at least 1",
            ],
        );
    }

    #[test]
    fn totals_are_capped() {
        check(
            r#"{"version": 1, "studios": 10000, "series_per_studio": 10000, "episodes_per_series": 10000}"#,
            &["episodes_per_series: makes the period's total exceed the cap of 1000000"],
        );
        check(
            r#"{"version": 1, "studios": 1000, "series_per_studio": 1, "episodes_per_series": 1000,
                "scenes_per_episode": 1000, "stages": [{"stage": "dialogue", "per": "scene", "input_tokens": 1000000000}]}"#,
            &["stages[0].input_tokens: makes the period's total exceed the cap of 100000000000000"],
        );
    }

    #[test]
    fn lines_and_profiles_are_checked() {
        check(
            r#"{"version": 1, "profiles": ["official-market", "official-market",
                  {"id": "mine", "price_set": "seed", "cny_per_usd": 0}, {"name": "x"}],
                "baseline_profile": "nowhere",
                "lines": [{"label": "a", "input_tokens": 5, "cached_input_tokens": 6, "model": "m", "profile": "elsewhere"},
                          {"label": "b", "clips": 3, "price_per_clip": -0.1},
                          {"label": "c"}]}"#,
            &[
                "profiles[3].id: is required",
                "profiles[3].price_set: is required",
                "profiles[3].cny_per_usd: is required",
                "lines[0].cached_input_tokens: cached and cache-write tokens must not exceed the input tokens",
                "lines[1].price_per_clip: must not be negative",
                "lines[2].model: give a model or a price per clip",
                "profiles[1]: profile \"official-market\" is listed twice",
                "profiles[2].cny_per_usd: the exchange rate must be between ¥0.01 and ¥100 per $1",
                "baseline_profile: profile \"nowhere\" is not among the compared profiles",
                "lines[0].profile: profile \"elsewhere\" is not among the compared profiles",
            ],
        );
        check(
            r#"{"version": 1, "profiles": ["official-market", "official-market",
                  {"id": "mine", "price_set": "seed", "cny_per_usd": 0, "base_url": "ftp://x"}],
                "baseline_profile": "nowhere",
                "lines": [{"label": "a", "input_tokens": 5, "cached_input_tokens": 6, "model": "m", "profile": "elsewhere"},
                          {"label": "b", "clips": 3, "price_per_clip": -0.1},
                          {"label": "c"}]}"#,
            &[
                "lines[0].cached_input_tokens: cached and cache-write tokens must not exceed the input tokens",
                "lines[1].price_per_clip: must not be negative",
                "lines[2].model: give a model or a price per clip",
                "profiles[1]: profile \"official-market\" is listed twice",
                "profiles[2].base_url: the base URL must start with https:// or http://",
                "profiles[2].cny_per_usd: the exchange rate must be between ¥0.01 and ¥100 per $1",
                "baseline_profile: profile \"nowhere\" is not among the compared profiles",
                "lines[0].profile: profile \"elsewhere\" is not among the compared profiles",
            ],
        );
    }

    #[test]
    fn messages_exist_in_both_languages() {
        let error = FieldError {
            path: "studios".into(),
            problem: FieldProblem::Negative,
        };
        assert_eq!(error.describe(Lang::ZhCn), "studios：不能为负数");
        let plan_error = PlanError::Invalid(vec![error]);
        assert!(plan_error
            .message(Lang::En)
            .contains("- studios: must not be negative"));
        for problem in [
            LinkProblem::UnknownFormat,
            LinkProblem::Truncated,
            LinkProblem::ChecksumMismatch,
        ] {
            assert_ne!(problem.message(Lang::ZhCn), problem.message(Lang::En));
        }
        assert_eq!(parse_count_field("studios", "12"), Ok(12));
        assert_eq!(
            parse_count_field("studios", "-1").unwrap_err().problem,
            FieldProblem::Negative
        );
        assert_eq!(
            parse_count_field("studios", "-1.5").unwrap_err().problem,
            FieldProblem::Negative
        );
        assert_eq!(
            parse_count_field("studios", "").unwrap_err().problem,
            FieldProblem::Empty
        );
    }

    #[test]
    fn plans_round_trip_through_json() {
        for plan in [
            seed_inventory_plan(),
            bench_plan_200_series(),
            ProductionPlan::default(),
        ] {
            assert!(plan.problems().is_empty(), "{:?}", plan.problems());
            let back = ProductionPlan::from_json(&plan.to_json()).unwrap();
            assert_eq!(back, plan);
            let back: ProductionPlan = serde_json::from_str(&plan.to_compact_json()).unwrap();
            assert_eq!(back, plan);
        }
        let mut custom = ProductionPlan::default();
        custom.profiles.push(ProfileChoice::Custom(Profile {
            markup: Percent::parse("2.5").unwrap(),
            exchange_rate: ExchangeRate::parse("7.18").unwrap(),
            ..Profile::defaults().remove(2)
        }));
        assert_eq!(
            ProductionPlan::from_json(&custom.to_json()).unwrap(),
            custom
        );
    }
}
