//! Reading: JSON value → plan, collecting field errors. Every field is read even after a
//! mistake, so that one read reports every problem at its path.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::domain::cost::money::{
    decimal_from_json, float_text, parse_decimal, Currency, DecimalError, Micros, Percent,
};
use crate::domain::cost::plan::{
    FieldError, FieldProblem, PerUnit, Period, PlanError, ProductionPlan, ProfileChoice, Stage,
    StagePlan, VideoPlan, VolumeLine, PLAN_VERSION,
};
use crate::domain::cost::pricing::Resolution;
use crate::domain::cost::profile::{ExchangeRate, Profile};
use crate::domain::i18n::Lang;
use crate::domain::provider::routing::TaskType;

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
        read_decimal(self.get(key)?, decimals)
            .map_err(|problem| self.fail(key, problem, errors))
            .ok()
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
        read_choice(&text, parse, allowed)
            .map_err(|problem| self.fail(key, problem, errors))
            .ok()
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

/// Reads an exact decimal with `decimals` places from a JSON number or numeric text.
fn read_decimal(value: &Value, decimals: u32) -> Result<i64, FieldProblem> {
    let value = decimal_from_json(value, decimals).map_err(decimal_problem)?;
    i64::try_from(value).map_err(|_| FieldProblem::TooLarge {
        max: i64::MAX.to_string(),
    })
}

/// Reads one of the allowed words.
fn read_choice<T>(
    text: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &'static str,
) -> Result<T, FieldProblem> {
    parse(text).ok_or(FieldProblem::UnknownOption { allowed })
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

// Form fields: the text typed or picked into one field, read by the rules of that field in a
// plan file (where the text stands for the field's value), so that both report one problem the
// same way. Each error is reported at `path`.

/// Parses a count typed into a form field (`"1,200"` is not accepted: digits only).
pub fn parse_count_field(path: &str, text: &str) -> Result<u64, FieldError> {
    at(path, read_count(&Value::String(text.into())))
}

/// Parses a percentage typed into a form field (`12.5`: at most two decimals), as
/// `cache_hit_percent` is read.
pub fn parse_percent_field(path: &str, text: &str) -> Result<Percent, FieldError> {
    at(path, read_decimal(&Value::String(text.into()), 2))
        .map(|basis_points| Percent { basis_points })
}

/// Parses a period (`month`, `quarter`, `year`) picked in a form field.
pub fn parse_period_field(path: &str, text: &str) -> Result<Period, FieldError> {
    at(path, read_choice(text, Period::parse, PERIODS))
}

/// Parses a resolution (`720p`, `1080p`, `4k`) picked in a form field.
pub fn parse_resolution_field(path: &str, text: &str) -> Result<Resolution, FieldError> {
    at(path, read_choice(text, Resolution::parse, RESOLUTIONS))
}

fn at<T>(path: &str, read: Result<T, FieldProblem>) -> Result<T, FieldError> {
    read.map_err(|problem| FieldError {
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

pub(super) fn read_plan(value: &Value, errors: &mut Vec<FieldError>) -> Option<ProductionPlan> {
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
