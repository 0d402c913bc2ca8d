//! The estimate: what a production plan costs under each profile, in dollars and yuan.
//!
//! [`estimate`] turns a [`ProductionPlan`] and a [`PriceBook`] (price sets, profiles, routes)
//! into an [`Estimate`]: tokens and spend per stage, per model and per profile; a comparison
//! against a baseline profile; an ROI report; and a price matrix (¥ and $ per million tokens).
//!
//! The arithmetic is O(stages × profiles), never O(episodes): volumes are products of the
//! plan's counts, computed once, then priced once per profile. All money is exact (see
//! [`crate::domain::cost::money`]); the only roundings are to whole tokens when a cache-hit share
//! splits input tokens, and to whole units when an ROI horizon is not a whole number of
//! periods.
//!
//! ```
//! use duanju_studio::domain::cost::estimate::{estimate, PriceBook};
//! use duanju_studio::domain::cost::plan::ProductionPlan;
//!
//! let plan = ProductionPlan::from_json(r#"{"version": 1, "profiles": ["official-market"],
//!     "lines": [{"label": "GPT-4.1", "model": "gpt-4.1", "output_tokens": 50000000}]}"#).unwrap();
//! let estimate = estimate(&plan, &PriceBook::defaults()).unwrap();
//! assert_eq!(estimate.profiles[0].total.usd.display(), "$400.00");
//! assert_eq!(estimate.profiles[0].total.cny.display(), "¥2,920.00");
//! ```

use serde::{Serialize, Serializer};

use crate::domain::cost::ledger::{CallSummary, LedgerEntry};
use crate::domain::cost::money::{
    div_round_half_away, Currency, Micros, Money, Percent, RoundedPercent,
};
use crate::domain::cost::plan::{
    CheckedPlan, FieldError, FieldProblem, Period, PlanError, ProductionPlan, ProfileChoice, Stage,
};
use crate::domain::cost::pricing::{MissingPrice, PriceSet, Resolution, Usage, VideoUnit};
use crate::domain::cost::profile::{Cost, ExchangeRate, Profile};
use crate::domain::i18n::Lang;
use crate::domain::provider::connection::Connection;
use crate::domain::provider::routing::{RouteTable, TaskType, VideoSettings};

/// Everything the estimator reads besides the plan: price sets, profiles and the route table.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PriceBook {
    /// The price sets profiles refer to.
    pub price_sets: Vec<PriceSet>,
    /// The profiles plans may compare.
    pub profiles: Vec<Profile>,
    /// Which model serves each stage.
    pub routes: RouteTable,
}

impl PriceBook {
    /// The price set and profile that price calls on `connection` now: its profile (or the
    /// book's first, should the book no longer have it) and that profile's price set (an empty
    /// one, pricing nothing, should the book no longer have it). Batches keep them as their
    /// price snapshot.
    pub fn pricing_for(&self, connection: &Connection) -> (PriceSet, Profile) {
        let profile = self
            .profile(&connection.price_profile_id)
            .or_else(|| self.profiles.first())
            .cloned()
            .unwrap_or_else(|| Profile::defaults().remove(0));
        let prices = self
            .price_set(&profile.price_set)
            .cloned()
            .unwrap_or_else(|| PriceSet {
                id: profile.price_set.clone(),
                name: String::new(),
                prices: Vec::new(),
            });
        (prices, profile)
    }

    /// Prices `call` under its connection's profile and price set as they are now
    /// ([`Self::pricing_for`]); an entry the price set cannot price is flagged unpriced.
    pub fn price_call(&self, call: &CallSummary<'_>) -> LedgerEntry {
        let (prices, profile) = self.pricing_for(call.connection);
        LedgerEntry::priced(call, &prices, &profile)
    }

    /// The shipped price sets, profiles and seed routes.
    pub fn defaults() -> PriceBook {
        PriceBook {
            price_sets: PriceSet::defaults(),
            profiles: Profile::defaults(),
            routes: RouteTable::seed_defaults(),
        }
    }

    /// The price set of that id.
    pub fn price_set(&self, id: &str) -> Option<&PriceSet> {
        self.price_sets.iter().find(|set| set.id == id)
    }

    /// The profile of that id.
    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|profile| profile.id == id)
    }
}

impl Default for PriceBook {
    fn default() -> PriceBook {
        PriceBook::defaults()
    }
}

/// Where a cost comes from: a stage of the plan or one of its explicit lines.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CostSource {
    /// A stage (a text stage, or video).
    Stage(Stage),
    /// An explicit volume line.
    Line {
        /// Position in the plan's `lines`.
        index: usize,
        /// The line's label.
        label: String,
    },
}

impl CostSource {
    /// A stable key: the stage's name (`script`, `video`) or `line:0`.
    pub fn key(&self) -> String {
        match self {
            CostSource::Stage(stage) => stage.as_str().into(),
            CostSource::Line { index, .. } => format!("line:{index}"),
        }
    }

    /// The name shown to the user.
    pub fn label(&self, lang: Lang) -> String {
        match self {
            CostSource::Stage(stage) => stage.label(lang).into(),
            CostSource::Line { label, .. } => label.clone(),
        }
    }
}

/// Volumes: what is made and consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
pub struct Volume {
    /// Episodes.
    pub episodes: u64,
    /// Scenes.
    pub scenes: u64,
    /// Shots (clips per episode × episodes).
    pub shots: u64,
    /// Video clips generated (shots × takes, plus explicit lines).
    pub videos: u64,
    /// Seconds of video generated.
    pub video_seconds: u64,
    /// Input tokens, cached ones included.
    pub input_tokens: u64,
    /// Input tokens served from the prompt cache.
    pub cached_input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input plus output tokens.
    pub tokens: u64,
    /// Requests counted by the plan.
    pub requests: u64,
}

impl Volume {
    fn add_usage(&mut self, usage: &Usage) {
        self.input_tokens += usage.input_tokens;
        self.cached_input_tokens += usage.cached_input_tokens;
        self.output_tokens += usage.output_tokens;
        self.tokens += usage.input_tokens + usage.output_tokens;
        self.requests += usage.requests;
        self.videos += usage.clips;
        self.video_seconds += usage.clips * usage.seconds_per_clip;
    }

    /// The volume scaled by `numerator / denominator`, each count rounded half away from zero.
    fn scale(self, numerator: u64, denominator: u64) -> Volume {
        let scale = |count: u64| {
            let scaled = div_round_half_away(
                i128::from(count) * i128::from(numerator),
                i128::from(denominator),
            );
            u64::try_from(scaled).unwrap_or(u64::MAX)
        };
        Volume {
            episodes: scale(self.episodes),
            scenes: scale(self.scenes),
            shots: scale(self.shots),
            videos: scale(self.videos),
            video_seconds: scale(self.video_seconds),
            input_tokens: scale(self.input_tokens),
            cached_input_tokens: scale(self.cached_input_tokens),
            output_tokens: scale(self.output_tokens),
            tokens: scale(self.tokens),
            requests: scale(self.requests),
        }
    }
}

/// Spend on one stage or line under one profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpendLine {
    /// A stable key (`script`, `video`, `line:0`).
    pub key: String,
    /// The English label (use [`SpendLine::source`] for the user's language).
    pub label: String,
    /// Where the cost comes from.
    #[serde(skip)]
    pub source: CostSource,
    /// The task whose route chose the model (none for explicit lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskType>,
    /// The model priced (empty for a line priced only per clip).
    pub model: String,
    /// What was consumed.
    pub volume: Volume,
    /// Spend in the plan's period.
    pub cost: Cost,
    /// Spend per year.
    pub cost_per_year: Cost,
}

/// Spend on one model under one profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelSpend {
    /// The model.
    pub model: String,
    /// What was consumed.
    pub volume: Volume,
    /// Spend in the plan's period.
    pub cost: Cost,
    /// Spend per year.
    pub cost_per_year: Cost,
}

/// The plan priced under one profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileEstimate {
    /// The profile's id.
    pub profile_id: String,
    /// The profile's name.
    pub profile_name: String,
    /// The price set used.
    pub price_set: String,
    /// Yuan per dollar.
    pub cny_per_usd: ExchangeRate,
    /// Markup applied to every price.
    pub markup_percent: Percent,
    /// Volume counted under this profile (lines for other profiles excluded).
    pub volume: Volume,
    /// Spend per stage, then per explicit line, in plan order.
    pub by_stage: Vec<SpendLine>,
    /// Spend per model, in order of first use.
    pub by_model: Vec<ModelSpend>,
    /// Total in the plan's period.
    pub total: Cost,
    /// Total per year.
    pub total_per_year: Cost,
}

/// A saving as a share of the baseline, in each currency (they differ when rates differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SavingPercent {
    /// Saving in dollars ÷ baseline in dollars; none when the baseline is zero.
    pub usd: Option<RoundedPercent>,
    /// Saving in yuan ÷ baseline in yuan; none when the baseline is zero.
    pub cny: Option<RoundedPercent>,
}

impl SavingPercent {
    fn of(saving: Cost, baseline: Cost) -> SavingPercent {
        SavingPercent {
            usd: RoundedPercent::of_money(saving.usd, baseline.usd),
            cny: RoundedPercent::of_money(saving.cny, baseline.cny),
        }
    }
}

/// One profile against the baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileComparison {
    /// The profile's id.
    pub profile_id: String,
    /// The profile's name.
    pub profile_name: String,
    /// Total in the plan's period.
    pub total: Cost,
    /// Total per year.
    pub total_per_year: Cost,
    /// Baseline total minus this total (positive: this profile is cheaper).
    pub saving: Cost,
    /// The same per year.
    pub saving_per_year: Cost,
    /// The saving as a share of the baseline total.
    pub saving_percent: SavingPercent,
}

impl ProfileComparison {
    /// The saving as a card states it: the words carry the sign ("saves", "costs more"), so
    /// the figures are shown without one.
    pub fn saving_shown(&self) -> SavingShown {
        let costs_more = self.saving.cny.units() < 0;
        SavingShown {
            costs_more,
            amount: if costs_more {
                self.saving.times(-1)
            } else {
                self.saving
            },
            percent: self
                .saving_percent
                .cny
                .or(self.saving_percent.usd)
                .map(|percent| RoundedPercent {
                    tenths: percent.tenths.saturating_abs(),
                }),
        }
    }
}

/// A profile's saving against the baseline, as shown: a direction and unsigned figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavingShown {
    /// The profile costs more than the baseline (its saving in yuan is negative).
    pub costs_more: bool,
    /// What it saves, or what it costs more, in both currencies; both signs follow the yuan.
    pub amount: Cost,
    /// The same as a share of the baseline, without a sign: in yuan, or in dollars when the
    /// yuan share has none; none when the baseline is zero.
    pub percent: Option<RoundedPercent>,
}

/// The ROI report: volume and cost per profile over a number of months.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoiReport {
    /// Months covered.
    pub months: u64,
    /// The profile savings are measured against.
    pub baseline_profile: String,
    /// One row per compared profile.
    pub rows: Vec<RoiRow>,
}

/// One profile in the ROI report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoiRow {
    /// The profile's id.
    pub profile_id: String,
    /// The profile's name.
    pub profile_name: String,
    /// Volume over the report's months.
    pub volume: Volume,
    /// Spend per model over the report's months.
    pub by_model: Vec<ModelSpend>,
    /// Cost over the report's months.
    pub cost: Cost,
    /// Baseline cost minus this cost.
    pub saving: Cost,
    /// The saving as a share of the baseline cost.
    pub saving_percent: SavingPercent,
}

/// A video price as seen under a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VideoRate {
    /// Per second or per clip.
    pub unit: VideoUnit,
    /// The resolution priced.
    pub resolution: Resolution,
    /// The price.
    pub price: Cost,
}

/// One model's effective prices under one profile (markup and exchange rate applied).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriceRow {
    /// The model.
    pub model: String,
    /// The profile's id.
    pub profile_id: String,
    /// Per million input tokens.
    pub input_per_mtok: Option<Cost>,
    /// Per million output tokens.
    pub output_per_mtok: Option<Cost>,
    /// Per million cached input tokens.
    pub cached_input_per_mtok: Option<Cost>,
    /// Per million cache-write tokens.
    pub cache_write_per_mtok: Option<Cost>,
    /// Video, at the plan's resolution.
    pub video: Option<VideoRate>,
}

/// Something the estimate could not price; the part counts as zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EstimateWarning {
    /// The profile concerned.
    pub profile_id: String,
    /// The model concerned, if any.
    pub model: Option<String>,
    /// What is missing.
    pub problem: WarningProblem,
}

/// What an estimate could not price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WarningProblem {
    /// The profile's price set does not exist.
    UnknownPriceSet(String),
    /// The price set has no entry for the model.
    UnknownModel,
    /// The model's entry lacks a price the plan needs.
    MissingPrice(MissingPrice),
}

impl EstimateWarning {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        let model = self.model.as_deref().unwrap_or("");
        let profile = &self.profile_id;
        match (&self.problem, lang) {
            (WarningProblem::UnknownPriceSet(set), Lang::ZhCn) => {
                format!("配置 {profile} 的价格表 “{set}” 不存在，费用按 0 计")
            }
            (WarningProblem::UnknownPriceSet(set), Lang::En) => {
                format!("profile {profile}: price set \"{set}\" does not exist; its costs count as zero")
            }
            (WarningProblem::UnknownModel, Lang::ZhCn) => {
                format!("配置 {profile} 的价格表中没有 {model}，费用按 0 计")
            }
            (WarningProblem::UnknownModel, Lang::En) => {
                format!("profile {profile}: no price for {model}; its cost counts as zero")
            }
            (WarningProblem::MissingPrice(missing), _) => {
                let what = match (missing, lang) {
                    (MissingPrice::Input, _) => lang.pick("输入价格", "input price").to_string(),
                    (MissingPrice::Output, _) => lang.pick("输出价格", "output price").to_string(),
                    (MissingPrice::Video(resolution), Lang::ZhCn) => {
                        format!("{} 视频价格", resolution.as_str())
                    }
                    (MissingPrice::Video(resolution), Lang::En) => {
                        format!("{} video price", resolution.as_str())
                    }
                };
                match lang {
                    Lang::ZhCn => format!("配置 {profile}：{model} 缺少{what}，该部分按 0 计"),
                    Lang::En => format!(
                        "profile {profile}: {model} has no {what}; that part counts as zero"
                    ),
                }
            }
        }
    }
}

/// Warnings serialise with both messages, for the example's output.
impl Serialize for EstimateWarning {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("EstimateWarning", 4)?;
        state.serialize_field("profile_id", &self.profile_id)?;
        state.serialize_field("model", &self.model)?;
        state.serialize_field("message", &self.message(Lang::En))?;
        state.serialize_field("message_zh", &self.message(Lang::ZhCn))?;
        state.end()
    }
}

/// A plan priced under every compared profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// The plan's name.
    pub plan_name: String,
    /// The period the plan's volumes describe.
    pub period: Period,
    /// Months in that period.
    pub months_per_period: u64,
    /// The profile savings are measured against.
    pub baseline_profile: String,
    /// The plan priced under each compared profile, in the plan's order.
    pub profiles: Vec<ProfileEstimate>,
    /// Each profile against the baseline.
    pub comparison: Vec<ProfileComparison>,
    /// Volume, cost and savings over the plan's ROI months.
    pub roi: RoiReport,
    /// Effective prices of every model the plan uses, under every profile.
    pub price_matrix: Vec<PriceRow>,
    /// What could not be priced.
    pub warnings: Vec<EstimateWarning>,
}

impl Estimate {
    /// The estimate under a profile.
    pub fn profile(&self, id: &str) -> Option<&ProfileEstimate> {
        self.profiles
            .iter()
            .find(|profile| profile.profile_id == id)
    }
}

/// Something the plan consumes, before any price: the same under every profile.
struct Demand {
    source: CostSource,
    task: Option<TaskType>,
    model: Option<String>,
    usage: Usage,
    /// A price per clip replacing the catalog's.
    price_per_clip: Option<(Micros, Currency)>,
    /// The only profile this demand counts under.
    profile: Option<String>,
}

/// Prices `plan` under each of its profiles with the price book's routes.
pub fn estimate(plan: &ProductionPlan, book: &PriceBook) -> Result<Estimate, PlanError> {
    estimate_with_routes(plan, book, &book.routes)
}

/// The same for a plan already checked: its problems are read from the check, not found again
/// (the profiles are still looked up in `book`).
pub fn estimate_checked(plan: &CheckedPlan, book: &PriceBook) -> Result<Estimate, PlanError> {
    let profiles = checked_profiles(plan.plan(), plan.problems().to_vec(), book)?;
    Ok(priced_estimate(plan.plan(), &profiles, book, &book.routes))
}

/// Prices `plan` with another route table (for what-if comparisons).
pub fn estimate_with_routes(
    plan: &ProductionPlan,
    book: &PriceBook,
    routes: &RouteTable,
) -> Result<Estimate, PlanError> {
    let profiles = checked_profiles(plan, plan.problems(), book)?;
    Ok(priced_estimate(plan, &profiles, book, routes))
}

/// The estimate of a plan whose problems and profiles have been checked.
fn priced_estimate(
    plan: &ProductionPlan,
    profiles: &[Profile],
    book: &PriceBook,
    routes: &RouteTable,
) -> Estimate {
    let (structure, demands) = demands(plan, routes);
    let mut warnings = Vec::new();
    let priced: Vec<ProfileEstimate> = profiles
        .iter()
        .map(|profile| price_profile(plan, &structure, &demands, profile, book, &mut warnings))
        .collect();
    let baseline_id = plan
        .baseline_profile
        .clone()
        .unwrap_or_else(|| profiles[0].id.clone());
    let baseline = priced
        .iter()
        .find(|estimate| estimate.profile_id == baseline_id)
        .unwrap_or(&priced[0]);
    let comparison = priced
        .iter()
        .map(|estimate| {
            let saving = baseline.total - estimate.total;
            ProfileComparison {
                profile_id: estimate.profile_id.clone(),
                profile_name: estimate.profile_name.clone(),
                total: estimate.total,
                total_per_year: estimate.total_per_year,
                saving,
                saving_per_year: baseline.total_per_year - estimate.total_per_year,
                saving_percent: SavingPercent::of(saving, baseline.total),
            }
        })
        .collect();
    let roi = roi_report(plan, &priced, &baseline_id);
    let price_matrix = price_matrix(plan, &demands, profiles, book, routes);
    Estimate {
        plan_name: plan.name.clone(),
        period: plan.period,
        months_per_period: plan.period.months(),
        baseline_profile: baseline_id,
        profiles: priced,
        comparison,
        roi,
        price_matrix,
        warnings,
    }
}

/// Resolves the plan's profiles (the price book's, or the plan's own) and adds what is wrong
/// with them to `errors`, the plan's own problems.
fn checked_profiles(
    plan: &ProductionPlan,
    mut errors: Vec<FieldError>,
    book: &PriceBook,
) -> Result<Vec<Profile>, PlanError> {
    let profiles: Vec<Profile> = if plan.profiles.is_empty() {
        book.profiles.clone()
    } else {
        plan.profiles
            .iter()
            .enumerate()
            .filter_map(|(index, choice)| match choice {
                ProfileChoice::Custom(profile) => Some(profile.clone()),
                ProfileChoice::Id(id) => {
                    let found = book.profile(id).cloned();
                    if found.is_none() && !id.trim().is_empty() {
                        errors.push(FieldError {
                            path: format!("profiles[{index}]"),
                            problem: FieldProblem::UnknownProfile(id.clone()),
                        });
                    }
                    found
                }
            })
            .collect()
    };
    if plan.profiles.is_empty() {
        let known = |id: &str| profiles.iter().any(|profile| profile.id == id);
        if let Some(baseline) = plan.baseline_profile.as_deref().filter(|id| !known(id)) {
            errors.push(FieldError {
                path: "baseline_profile".into(),
                problem: FieldProblem::UnknownProfile(baseline.into()),
            });
        }
        for (index, line) in plan.lines.iter().enumerate() {
            if let Some(profile) = line.profile.as_deref().filter(|id| !known(id)) {
                errors.push(FieldError {
                    path: format!("lines[{index}].profile"),
                    problem: FieldProblem::UnknownProfile(profile.into()),
                });
            }
        }
    }
    if profiles.is_empty() && errors.is_empty() {
        errors.push(FieldError {
            path: "profiles".into(),
            problem: FieldProblem::Empty,
        });
    }
    if errors.is_empty() {
        Ok(profiles)
    } else {
        Err(PlanError::Invalid(errors))
    }
}

/// The plan's structural volume and its demands, from the routes. O(stages + lines).
fn demands(plan: &ProductionPlan, routes: &RouteTable) -> (Volume, Vec<Demand>) {
    let episodes = plan.episodes();
    let video_route = routes.route(TaskType::Video);
    let route_video = video_route.video_settings().unwrap_or(VideoSettings {
        seconds_per_clip: 5,
        resolution: Resolution::P1080,
    });
    let plan_seconds = plan
        .video
        .as_ref()
        .and_then(|video| video.seconds_per_clip)
        .unwrap_or(u64::from(route_video.seconds_per_clip));
    let plan_resolution = plan
        .video
        .as_ref()
        .and_then(|video| video.resolution)
        .unwrap_or(route_video.resolution);
    let structure = Volume {
        episodes,
        scenes: episodes * plan.scenes_per_episode,
        shots: episodes * plan.clips_per_episode,
        ..Volume::default()
    };
    let mut demands = Vec::new();
    for stage in &plan.stages {
        let task = stage.task.unwrap_or(stage.stage.task());
        let units = episodes * plan.units_per_episode(stage.per);
        let input_tokens = units * stage.input_tokens;
        let cached = div_round_half_away(
            i128::from(input_tokens) * i128::from(plan.cache_hit_percent.basis_points),
            10_000,
        );
        demands.push(Demand {
            source: CostSource::Stage(stage.stage),
            task: Some(task),
            model: Some(
                stage
                    .model
                    .clone()
                    .unwrap_or_else(|| routes.route(task).model.clone()),
            ),
            usage: Usage {
                input_tokens,
                cached_input_tokens: u64::try_from(cached).unwrap_or(0),
                output_tokens: units * stage.output_tokens,
                requests: units * stage.requests,
                ..Usage::default()
            },
            price_per_clip: None,
            profile: None,
        });
    }
    if let Some(video) = &plan.video {
        demands.push(Demand {
            source: CostSource::Stage(Stage::Video),
            task: Some(TaskType::Video),
            model: Some(
                video
                    .model
                    .clone()
                    .unwrap_or_else(|| video_route.model.clone()),
            ),
            usage: Usage {
                clips: structure.shots * video.takes_per_shot,
                seconds_per_clip: plan_seconds,
                resolution: plan_resolution,
                ..Usage::default()
            },
            price_per_clip: None,
            profile: None,
        });
    }
    for (index, line) in plan.lines.iter().enumerate() {
        demands.push(Demand {
            source: CostSource::Line {
                index,
                label: line.label.clone(),
            },
            task: None,
            model: line.model.clone(),
            usage: Usage {
                input_tokens: line.input_tokens,
                cached_input_tokens: line.cached_input_tokens,
                cache_write_tokens: line.cache_write_tokens,
                output_tokens: line.output_tokens,
                requests: line.requests,
                clips: line.clips,
                seconds_per_clip: line.seconds_per_clip.unwrap_or(plan_seconds),
                resolution: line.resolution.unwrap_or(plan_resolution),
            },
            price_per_clip: line.price_per_clip.map(|price| (price, line.currency)),
            profile: line.profile.clone(),
        });
    }
    (structure, demands)
}

/// Prices every demand in scope under one profile. O(demands).
fn price_profile(
    plan: &ProductionPlan,
    structure: &Volume,
    demands: &[Demand],
    profile: &Profile,
    book: &PriceBook,
    warnings: &mut Vec<EstimateWarning>,
) -> ProfileEstimate {
    let per_year = i128::from(12 / plan.period.months());
    let price_set = book.price_set(&profile.price_set);
    let mut warn = |model: Option<&str>, problem: WarningProblem| {
        let warning = EstimateWarning {
            profile_id: profile.id.clone(),
            model: model.map(str::to_string),
            problem,
        };
        if !warnings.contains(&warning) {
            warnings.push(warning);
        }
    };
    if price_set.is_none() {
        warn(
            None,
            WarningProblem::UnknownPriceSet(profile.price_set.clone()),
        );
    }
    let mut volume = *structure;
    let mut by_stage = Vec::new();
    let mut by_model: Vec<ModelSpend> = Vec::new();
    for demand in demands {
        if demand
            .profile
            .as_deref()
            .is_some_and(|only| only != profile.id)
        {
            continue;
        }
        let model = demand.model.as_deref();
        let entry = model.and_then(|model| price_set.and_then(|set| set.get(model)));
        let native = match (model, entry) {
            (Some(_), Some(entry)) => {
                // An explicit price per clip replaces the catalog's video price.
                let usage = if demand.price_per_clip.is_some() {
                    Usage {
                        clips: 0,
                        ..demand.usage
                    }
                } else {
                    demand.usage
                };
                let (amount, missing) = entry.cost_of(&usage);
                for gap in missing {
                    warn(model, WarningProblem::MissingPrice(gap));
                }
                Some(amount)
            }
            (Some(model), None) => {
                // A line priced only per clip needs nothing from the catalog.
                let only_clips = demand.price_per_clip.is_some()
                    && Usage {
                        clips: 0,
                        seconds_per_clip: 0,
                        resolution: Resolution::default(),
                        ..demand.usage
                    } == Usage::default();
                if price_set.is_some() && !only_clips {
                    warn(Some(model), WarningProblem::UnknownModel);
                }
                None
            }
            (None, _) => None,
        };
        let mut cost = native.map_or(Cost::ZERO, |amount| profile.cost_of(amount));
        if let Some((price, currency)) = demand.price_per_clip {
            let amount = price.money(currency).times(i128::from(demand.usage.clips));
            cost += profile.cost_of(amount);
        }
        let mut line_volume = Volume::default();
        line_volume.add_usage(&demand.usage);
        volume.add_usage(&demand.usage);
        let model_name = demand.model.clone().unwrap_or_default();
        by_stage.push(SpendLine {
            key: demand.source.key(),
            label: demand.source.label(Lang::En),
            source: demand.source.clone(),
            task: demand.task,
            model: model_name.clone(),
            volume: line_volume,
            cost,
            cost_per_year: cost.times(per_year),
        });
        match by_model.iter_mut().find(|spend| spend.model == model_name) {
            Some(spend) => {
                spend.volume.add_usage(&demand.usage);
                spend.cost += cost;
                spend.cost_per_year += cost.times(per_year);
            }
            None => by_model.push(ModelSpend {
                model: model_name,
                volume: line_volume,
                cost,
                cost_per_year: cost.times(per_year),
            }),
        }
    }
    let total: Cost = by_stage.iter().map(|line| line.cost).sum();
    ProfileEstimate {
        profile_id: profile.id.clone(),
        profile_name: profile.name.clone(),
        price_set: profile.price_set.clone(),
        cny_per_usd: profile.exchange_rate,
        markup_percent: profile.markup,
        volume,
        by_stage,
        by_model,
        total,
        total_per_year: total.times(per_year),
    }
}

/// Scales each profile's period figures to the ROI months.
fn roi_report(plan: &ProductionPlan, priced: &[ProfileEstimate], baseline_id: &str) -> RoiReport {
    let months = plan.roi_months;
    let per_period = plan.period.months();
    let over = |cost: Cost| cost.scale(i128::from(months), i128::from(per_period));
    let baseline = priced
        .iter()
        .find(|estimate| estimate.profile_id == baseline_id)
        .map_or(Cost::ZERO, |estimate| over(estimate.total));
    let rows = priced
        .iter()
        .map(|estimate| {
            let cost = over(estimate.total);
            let saving = baseline - cost;
            RoiRow {
                profile_id: estimate.profile_id.clone(),
                profile_name: estimate.profile_name.clone(),
                volume: estimate.volume.scale(months, per_period),
                by_model: estimate
                    .by_model
                    .iter()
                    .map(|spend| ModelSpend {
                        model: spend.model.clone(),
                        volume: spend.volume.scale(months, per_period),
                        cost: over(spend.cost),
                        cost_per_year: spend.cost_per_year,
                    })
                    .collect(),
                cost,
                saving,
                saving_percent: SavingPercent::of(saving, baseline),
            }
        })
        .collect();
    RoiReport {
        months,
        baseline_profile: baseline_id.into(),
        rows,
    }
}

/// Every model the demands use, under every profile. O(models × profiles).
fn price_matrix(
    plan: &ProductionPlan,
    demands: &[Demand],
    profiles: &[Profile],
    book: &PriceBook,
    routes: &RouteTable,
) -> Vec<PriceRow> {
    let mut models: Vec<&str> = Vec::new();
    for model in demands.iter().filter_map(|demand| demand.model.as_deref()) {
        if !models.contains(&model) {
            models.push(model);
        }
    }
    let resolution = plan
        .video
        .as_ref()
        .and_then(|video| video.resolution)
        .or(routes
            .route(TaskType::Video)
            .video_settings()
            .map(|settings| settings.resolution))
        .unwrap_or_default();
    let mut rows = Vec::new();
    for model in models {
        for profile in profiles {
            let Some(entry) = book
                .price_set(&profile.price_set)
                .and_then(|set| set.get(model))
            else {
                continue;
            };
            let cost = |price: Option<Micros>| {
                price.map(|price| profile.cost_of(price.money(entry.currency)))
            };
            rows.push(PriceRow {
                model: model.into(),
                profile_id: profile.id.clone(),
                input_per_mtok: cost(entry.input_per_mtok),
                output_per_mtok: cost(entry.output_per_mtok),
                cached_input_per_mtok: cost(entry.cached_input_per_mtok),
                cache_write_per_mtok: cost(entry.cache_write_per_mtok),
                video: entry.video.and_then(|video| {
                    Some(VideoRate {
                        unit: video.unit,
                        resolution,
                        price: cost(video.at(resolution))?,
                    })
                }),
            });
        }
    }
    rows
}

/// One side of a route switch: a route table under a profile.
#[derive(Clone, Copy, Debug)]
pub struct RouteChoice<'a> {
    /// The routes.
    pub routes: &'a RouteTable,
    /// The profile's id (the price book's or the plan's own).
    pub profile: &'a str,
}

/// What switching routes and profile costs for a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteSwitch {
    /// The profile switched from.
    pub from_profile: String,
    /// The profile switched to.
    pub to_profile: String,
    /// The name of the profile switched to.
    pub to_profile_name: String,
    /// The plan's cost before the switch, in its period.
    pub from_total: Cost,
    /// The plan's cost after the switch, in its period.
    pub to_total: Cost,
    /// After minus before (positive: the switch costs more).
    pub difference: Cost,
    /// The difference per year.
    pub difference_per_year: Cost,
    /// The difference as a share of the cost before, in yuan.
    pub difference_percent: Option<RoundedPercent>,
    /// The plan's period.
    pub period: Period,
}

impl RouteSwitch {
    /// A sentence stating the difference, for the rollback dialog.
    pub fn statement(&self, lang: Lang) -> String {
        // The verb carries the sign, so amounts are shown without one.
        let abs = |money: Money| if money.units() < 0 { -money } else { money };
        let amount = |cost: Cost| (abs(cost.cny).display(), abs(cost.usd).display());
        let (cny, usd) = amount(self.difference);
        let (cny_year, _) = amount(self.difference_per_year);
        let percent = self.difference_percent.map(|p| {
            let sign = if p.tenths > 0 { "+" } else { "" };
            format!("{sign}{}", p.display())
        });
        let period = self.period.label(lang);
        let more = self.difference.cny.units() > 0;
        match lang {
            Lang::ZhCn => {
                let verb = if more { "多花" } else { "节省" };
                let percent = percent.map(|p| format!("，{p}")).unwrap_or_default();
                format!(
                    "切换到 {}：{period}{verb} {cny}（{usd}）{percent}；每年 {cny_year}。",
                    self.to_profile_name
                )
            }
            Lang::En => {
                let verb = if more { "costs" } else { "saves" };
                let extra = if more { " more" } else { "" };
                let percent = percent.map(|p| format!(" ({p})")).unwrap_or_default();
                format!(
                    "Switching to {} {verb} {cny}{extra} {period} ({usd}){percent}; {cny_year} a year.",
                    self.to_profile_name
                )
            }
        }
    }
}

/// Prices the plan before and after a switch of routes and profile. Lines bound to another
/// profile are left out of both sides.
pub fn route_switch(
    plan: &ProductionPlan,
    book: &PriceBook,
    from: RouteChoice<'_>,
    to: RouteChoice<'_>,
) -> Result<RouteSwitch, PlanError> {
    let profiles = checked_profiles(plan, plan.problems(), book)?;
    switch_routes(plan, &profiles, book, from, to)
}

/// The switch for a plan whose problems and profiles have been checked.
fn switch_routes(
    plan: &ProductionPlan,
    profiles: &[Profile],
    book: &PriceBook,
    from: RouteChoice<'_>,
    to: RouteChoice<'_>,
) -> Result<RouteSwitch, PlanError> {
    let find = |id: &str, path: &str| {
        profiles
            .iter()
            .chain(&book.profiles)
            .find(|profile| profile.id == id)
            .cloned()
            .ok_or_else(|| {
                PlanError::Invalid(vec![FieldError {
                    path: path.into(),
                    problem: FieldProblem::UnknownProfile(id.into()),
                }])
            })
    };
    let from_profile = find(from.profile, "profiles")?;
    let to_profile = find(to.profile, "profiles")?;
    let mut warnings = Vec::new();
    let side = |choice: RouteChoice<'_>, profile: &Profile, warnings: &mut Vec<EstimateWarning>| {
        let (structure, demands) = demands(plan, choice.routes);
        price_profile(plan, &structure, &demands, profile, book, warnings)
    };
    let before = side(from, &from_profile, &mut warnings);
    let after = side(to, &to_profile, &mut warnings);
    let difference = after.total - before.total;
    Ok(RouteSwitch {
        from_profile: from_profile.id,
        to_profile: to_profile.id,
        to_profile_name: to_profile.name,
        from_total: before.total,
        to_total: after.total,
        difference,
        difference_per_year: after.total_per_year - before.total_per_year,
        difference_percent: RoundedPercent::of_money(difference.cny, before.total.cny),
        period: plan.period,
    })
}

/// The seeds' rollback: from the price book's routes on the relay profile to the official
/// rollback routes on the official profile.
pub fn rollback_switch(plan: &ProductionPlan, book: &PriceBook) -> Result<RouteSwitch, PlanError> {
    rollback(plan, plan.problems(), book)
}

/// The same for a plan already checked: its problems are read from the check, not found again.
pub fn rollback_switch_checked(
    plan: &CheckedPlan,
    book: &PriceBook,
) -> Result<RouteSwitch, PlanError> {
    rollback(plan.plan(), plan.problems().to_vec(), book)
}

fn rollback(
    plan: &ProductionPlan,
    problems: Vec<FieldError>,
    book: &PriceBook,
) -> Result<RouteSwitch, PlanError> {
    let profiles = checked_profiles(plan, problems, book)?;
    let official = RouteTable::official_rollback();
    switch_routes(
        plan,
        &profiles,
        book,
        RouteChoice {
            routes: &book.routes,
            profile: Profile::RELAY,
        },
        RouteChoice {
            routes: &official,
            profile: Profile::OFFICIAL,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::plan::{
        bench_plan_200_series, seed_inventory_plan, PerUnit, StagePlan, VideoPlan, VolumeLine,
    };

    fn plan(json: &str) -> ProductionPlan {
        ProductionPlan::from_json(json).unwrap()
    }

    #[test]
    fn stages_follow_routes_and_cache_share() {
        let mut plan = ProductionPlan {
            episodes_per_series: 10,
            cache_hit_percent: Percent::whole(50),
            profiles: vec![ProfileChoice::Id("official-market".into())],
            ..ProductionPlan::default()
        };
        plan.stages.push(StagePlan {
            stage: Stage::Dialogue,
            per: PerUnit::Episode,
            input_tokens: 100_001,
            output_tokens: 10_000,
            requests: 0,
            task: None,
            model: None,
        });
        let estimate = estimate(&plan, &PriceBook::defaults()).unwrap();
        let line = &estimate.profiles[0].by_stage[0];
        assert_eq!(line.model, "claude-sonnet-4.5");
        assert_eq!(line.task, Some(TaskType::DialogueEmotion));
        // 1,000,010 input tokens: 500,005 cached at $0.30, 500,005 at $3; 100,000 output at $15.
        assert_eq!(line.volume.cached_input_tokens, 500_005);
        assert_eq!(
            line.cost.usd.units(),
            (500_005 * 300_000 + 500_005 * 3_000_000 + 100_000 * 15_000_000) * 1_000_000
        );
        assert_eq!(line.cost.usd.display(), "$3.15");
    }

    #[test]
    fn video_uses_takes_seconds_and_route_defaults() {
        let mut plan = ProductionPlan {
            series_per_studio: 4,
            episodes_per_series: 12,
            clips_per_episode: 47,
            profiles: vec![ProfileChoice::Id("holysheep-relay".into())],
            video: Some(VideoPlan {
                takes_per_shot: 3,
                seconds_per_clip: None,
                resolution: None,
                model: None,
            }),
            ..ProductionPlan::default()
        };
        let book = PriceBook::defaults();
        let relay = estimate(&plan, &book).unwrap();
        let video = &relay.profiles[0].by_stage[0];
        assert_eq!(
            (video.volume.videos, video.volume.video_seconds),
            (6_768, 33_840)
        );
        assert_eq!(video.cost.usd.display(), "$1,692.00");
        plan.video.as_mut().unwrap().resolution = Some(Resolution::P4k);
        plan.video.as_mut().unwrap().model = Some("video-official-openai".into());
        let missing = estimate(&plan, &book).unwrap();
        assert_eq!(missing.warnings.len(), 1);
        assert_eq!(
            missing.warnings[0].message(Lang::En),
            "profile holysheep-relay: video-official-openai has no 4k video price; that part counts as zero"
        );
    }

    #[test]
    fn unknown_profiles_and_models_are_reported() {
        let error = estimate(
            &plan(r#"{"version": 1, "profiles": ["nowhere"]}"#),
            &PriceBook::defaults(),
        )
        .unwrap_err();
        assert_eq!(
            error.field_errors()[0].describe(Lang::En),
            "profiles[0]: there is no profile \"nowhere\""
        );
        let unknown = estimate(
            &plan(r#"{"version": 1, "profiles": ["holysheep-relay"], "lines": [{"label": "x", "model": "mystery", "output_tokens": 5}]}"#),
            &PriceBook::defaults(),
        )
        .unwrap();
        assert_eq!(unknown.warnings[0].problem, WarningProblem::UnknownModel);
        assert!(unknown.profiles[0].total.usd.is_zero());
        let every = estimate(&plan(r#"{"version": 1}"#), &PriceBook::defaults()).unwrap();
        assert_eq!(every.profiles.len(), 3);
        assert_eq!(every.baseline_profile, "holysheep-relay");
    }

    #[test]
    fn roi_scales_and_per_year_multiplies() {
        let plan = plan(
            r#"{"version": 1, "period": "quarter", "roi_months": 4, "profiles": ["official-market"],
                "lines": [{"label": "gpt", "model": "gpt-4.1", "output_tokens": 3000000}]}"#,
        );
        let estimate = estimate(&plan, &PriceBook::defaults()).unwrap();
        assert_eq!(estimate.profiles[0].total.usd.display(), "$24.00");
        assert_eq!(estimate.profiles[0].total_per_year.usd.display(), "$96.00");
        assert_eq!(estimate.roi.rows[0].cost.usd.display(), "$32.00");
        assert_eq!(estimate.roi.rows[0].volume.tokens, 4_000_000);
    }

    #[test]
    fn rollback_states_the_difference() {
        let switch = rollback_switch(&seed_inventory_plan(), &PriceBook::defaults()).unwrap();
        // Relay: 240M deepseek at $0.42, 120M gpt-4.1 at $8, 90M claude at $15 = $2,410.80 at ¥1.
        assert_eq!(switch.from_total.cny.display(), "¥2,410.80");
        // Official: 360M gpt-4.1 output at $8 and 90M claude output at $15 = $4,230 at ¥7.3.
        assert_eq!(switch.to_total.usd.display(), "$4,230.00");
        assert_eq!(switch.to_total.cny.display(), "¥30,879.00");
        assert_eq!(
            switch.statement(Lang::En),
            "Switching to Official (market ¥7.3) costs ¥28,468.20 more per month ($1,819.20) (+1,180.9%); ¥341,618.40 a year."
        );
        assert!(switch
            .statement(Lang::ZhCn)
            .starts_with("切换到 Official (market ¥7.3)：每月多花 ¥28,468.20"));
    }

    #[test]
    fn price_matrix_shows_effective_prices() {
        let plan = plan(
            r#"{"version": 1, "profiles": ["official-market", "holysheep-relay"],
                "lines": [{"label": "c", "model": "claude-sonnet-4.5", "output_tokens": 1}]}"#,
        );
        let estimate = estimate(&plan, &PriceBook::defaults()).unwrap();
        let row = |profile: &str| {
            estimate
                .price_matrix
                .iter()
                .find(|row| row.profile_id == profile)
                .unwrap()
        };
        assert_eq!(
            row("official-market")
                .output_per_mtok
                .unwrap()
                .cny
                .display(),
            "¥109.50"
        );
        assert_eq!(
            row("official-market")
                .cache_write_per_mtok
                .unwrap()
                .usd
                .display(),
            "$3.75"
        );
        assert_eq!(
            row("holysheep-relay")
                .output_per_mtok
                .unwrap()
                .cny
                .display(),
            "¥15.00"
        );
    }

    #[test]
    fn explicit_clip_price_replaces_the_catalog() {
        let mut line = VolumeLine::new("clips");
        line.model = Some("video-gen-2.1".into());
        line.clips = 10;
        line.price_per_clip = Some(Micros(50_000));
        let plan = ProductionPlan {
            lines: vec![line],
            profiles: vec![ProfileChoice::Id("holysheep-relay".into())],
            ..ProductionPlan::default()
        };
        let estimate = estimate(&plan, &PriceBook::defaults()).unwrap();
        assert_eq!(estimate.profiles[0].total.usd.display(), "$0.50");
    }

    /// Every cap reached at once: debug builds panic on overflow, so this proves the bound
    /// documented in `plan::caps`.
    #[test]
    fn a_plan_at_every_cap_does_not_overflow() {
        use crate::domain::cost::plan::caps;
        use crate::domain::cost::pricing::{caps as price_caps, ModelPrice, VideoPrice};
        let mut max =
            ModelPrice::per_token("max", "max", price_caps::PER_MTOK, price_caps::PER_MTOK);
        max.cached_input_per_mtok = Some(price_caps::PER_MTOK);
        max.cache_write_per_mtok = Some(price_caps::PER_MTOK);
        max.per_request = Some(price_caps::PER_REQUEST);
        max.video = Some(VideoPrice::flat(VideoUnit::PerSecond, price_caps::VIDEO));
        let max_cny = ModelPrice {
            model: "max-cny".into(),
            currency: Currency::Cny,
            ..max.clone()
        };
        let mut book = PriceBook::defaults();
        book.price_sets.push(PriceSet {
            id: "max".into(),
            name: "max".into(),
            prices: vec![max, max_cny],
        });
        let profiles = (0..caps::PROFILES)
            .map(|index| {
                ProfileChoice::Custom(Profile {
                    id: format!("p{index}"),
                    name: format!("p{index}"),
                    base_url: String::new(),
                    price_set: "max".into(),
                    exchange_rate: ExchangeRate::new(if index.is_multiple_of(2) {
                        ExchangeRate::MAX
                    } else {
                        ExchangeRate::MIN
                    })
                    .unwrap(),
                    markup: Percent::HUNDRED,
                })
            })
            .collect();
        let stage = StagePlan {
            stage: Stage::Script,
            per: PerUnit::Clip,
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            requests: 10,
            task: None,
            model: Some("max".into()),
        };
        let line = |index: usize| VolumeLine {
            model: Some(
                if index.is_multiple_of(2) {
                    "max"
                } else {
                    "max-cny"
                }
                .into(),
            ),
            input_tokens: caps::TOKENS_PER_PERIOD,
            cached_input_tokens: caps::TOKENS_PER_PERIOD / 2,
            cache_write_tokens: caps::TOKENS_PER_PERIOD / 2,
            output_tokens: caps::TOKENS_PER_PERIOD,
            requests: caps::REQUESTS_PER_PERIOD,
            clips: caps::CLIPS_PER_PERIOD,
            seconds_per_clip: Some(caps::VIDEO_SECONDS_PER_PERIOD / caps::CLIPS_PER_PERIOD),
            ..VolumeLine::new("max")
        };
        let plan = ProductionPlan {
            studios: 100,
            series_per_studio: 100,
            episodes_per_series: 100,
            scenes_per_episode: caps::SCENES_PER_EPISODE,
            clips_per_episode: 100,
            stages: vec![stage; caps::STAGES],
            video: Some(VideoPlan {
                takes_per_shot: 1,
                seconds_per_clip: Some(100),
                resolution: None,
                model: Some("max".into()),
            }),
            lines: (0..caps::LINES).map(line).collect(),
            profiles,
            roi_months: caps::ROI_MONTHS,
            ..ProductionPlan::default()
        };
        assert_eq!(plan.problems(), []);
        let estimate = estimate(&plan, &book).unwrap();
        assert!(estimate.warnings.is_empty(), "{:?}", estimate.warnings);
        let roi = estimate
            .roi
            .rows
            .iter()
            .map(|row| row.cost.cny.units().max(row.cost.usd.units()))
            .max()
            .unwrap();
        assert!(roi < i128::MAX / 5, "{roi}");
        let _ = crate::domain::cost::estimate_csv::estimate_to_csv(&estimate, Lang::En);
        let _ = crate::domain::cost::spend_chart::spend_by_profile(&estimate, Currency::Cny);
    }

    #[test]
    fn estimate_is_independent_of_episode_count_in_time() {
        // O(stages × profiles): the same work for 1 or 1,000,000 episodes.
        let plan = bench_plan_200_series();
        let book = PriceBook::defaults();
        let estimate = estimate(&plan, &book).unwrap();
        assert_eq!(estimate.profiles[0].volume.episodes, 4_000);
        assert!(estimate.warnings.is_empty(), "{:?}", estimate.warnings);
        assert_eq!(estimate.profiles.len(), 3);
    }

    #[test]
    fn a_checked_plan_is_priced_from_its_check() {
        let book = PriceBook::defaults();
        let plan = seed_inventory_plan();
        let checked = CheckedPlan::new(plan.clone());
        assert_eq!(checked.problems(), []);
        assert_eq!(estimate_checked(&checked, &book), estimate(&plan, &book));
        assert_eq!(
            rollback_switch_checked(&checked, &book),
            rollback_switch(&plan, &book)
        );
        // The problems the check found are the ones reported, with the price book's own.
        let mut bad = plan;
        bad.roi_months = 0;
        bad.profiles = vec![ProfileChoice::Id("nowhere".into())];
        bad.baseline_profile = None;
        let checked = CheckedPlan::new(bad.clone());
        assert_eq!(checked.problems(), bad.problems());
        let error = estimate_checked(&checked, &book).unwrap_err();
        assert_eq!(
            error.message(Lang::En),
            "the plan has problems:\n- roi_months: must be at least 1\n- profiles[0]: there is no profile \"nowhere\""
        );
        assert_eq!(Err(error.clone()), estimate(&bad, &book));
        assert_eq!(rollback_switch_checked(&checked, &book), Err(error));
    }

    /// A profile costing `total` against a baseline costing `baseline` (both "$…" and "¥…").
    fn compared(total: (&str, &str), baseline: (&str, &str)) -> ProfileComparison {
        let cost = |(usd, cny): (&str, &str)| Cost {
            usd: Money::parse(Currency::Usd, usd).unwrap(),
            cny: Money::parse(Currency::Cny, cny).unwrap(),
        };
        let (total, baseline) = (cost(total), cost(baseline));
        let saving = baseline - total;
        ProfileComparison {
            profile_id: "p".into(),
            profile_name: "P".into(),
            total,
            total_per_year: total.times(12),
            saving,
            saving_per_year: saving.times(12),
            saving_percent: SavingPercent::of(saving, baseline),
        }
    }

    fn cost(usd_cents: i128, cny_cents: i128) -> Cost {
        Cost {
            usd: Money::from_cents(Currency::Usd, usd_cents),
            cny: Money::from_cents(Currency::Cny, cny_cents),
        }
    }

    #[test]
    fn savings_are_shown_as_a_direction_and_unsigned_figures() {
        // Cheaper: saves $60.00 · ¥438.00 of $100.00 · ¥730.00.
        let cheaper = compared(("40", "292"), ("100", "730")).saving_shown();
        assert_eq!(
            cheaper,
            SavingShown {
                costs_more: false,
                amount: cost(6_000, 43_800),
                percent: Some(RoundedPercent { tenths: 600 }),
            }
        );
        assert_eq!(cheaper.amount.usd.display(), "$60.00");
        assert_eq!(cheaper.percent.unwrap().display(), "60.0%");
        // Dearer: the saving is -$12.50 · -¥91.25, shown as 12.5 % more.
        let dearer = compared(("112.5", "821.25"), ("100", "730")).saving_shown();
        assert_eq!(
            dearer,
            SavingShown {
                costs_more: true,
                amount: cost(1_250, 9_125),
                percent: Some(RoundedPercent { tenths: 125 }),
            }
        );
        assert_eq!(dearer.amount.cny.display(), "¥91.25");
        assert_eq!(dearer.percent.unwrap().display(), "12.5%");
        // Equal: saves nothing, 0 %.
        assert_eq!(
            compared(("100", "730"), ("100", "730")).saving_shown(),
            SavingShown {
                costs_more: false,
                amount: cost(0, 0),
                percent: Some(RoundedPercent { tenths: 0 }),
            }
        );
        // A zero baseline has no share to show.
        assert_eq!(
            compared(("5", "36.5"), ("0", "0")).saving_shown(),
            SavingShown {
                costs_more: true,
                amount: cost(500, 3_650),
                percent: None,
            }
        );
    }

    #[test]
    fn a_call_is_priced_under_its_connections_profile_or_the_books_first() {
        use crate::domain::provider::connection::Preset;
        let book = PriceBook::defaults();
        let official = Connection::from_preset("c", Preset::OpenAi, Profile::OFFICIAL, Lang::En);
        let (prices, profile) = book.pricing_for(&official);
        assert_eq!(profile.id, Profile::OFFICIAL);
        assert_eq!(prices.id, profile.price_set);
        let gone = Connection::from_preset("c", Preset::OpenAi, "deleted-profile", Lang::En);
        assert_eq!(book.pricing_for(&gone).1.id, book.profiles[0].id);

        let model = prices.prices[0].model.clone();
        let usage = crate::domain::provider::chat::Usage {
            prompt: 1_000,
            completion: 500,
            total: 1_500,
            ..Default::default()
        };
        let call = CallSummary {
            usage: Some(&usage),
            ..CallSummary::new(0.0, &official, &model, "narrative")
        };
        let entry = book.price_call(&call);
        assert!(!entry.unpriced, "{model} is in its own price set");
        assert_eq!(entry.profile_id, Profile::OFFICIAL);
        let unknown = CallSummary {
            usage: Some(&usage),
            ..CallSummary::new(0.0, &official, "no-such-model", "narrative")
        };
        assert!(book.price_call(&unknown).unpriced);
    }
}
