//! Editing one field of a plan from a form.
//!
//! A form field holds text. An edit reads that text by the rules of the same field in a plan
//! file (the plan's `parse_*_field` readers, shared with the file reader), sets that one field on
//! a copy of the plan, and checks the copy once ([`CheckedPlan::new`]: the caps and cross-field
//! checks of a plan file). An edit that breaks any rule returns the error for that field (or the
//! first error, for a cross-field rule) and leaves the plan as it was; an accepted edit returns
//! the checked plan, whose check the estimate then reads instead of checking again.

use crate::domain::cost::money::{decimal_to_json_number, float_text};
use crate::domain::cost::plan::{
    parse_count_field, parse_percent_field, parse_period_field, parse_resolution_field,
    CheckedPlan, FieldError, FieldProblem, ProductionPlan, Stage, StagePlan, VideoPlan,
};

/// Returns the plan with the field at `path` set from `text`, checked; or the error to show at
/// that field. The paths are the plan form's: `name`, `period`, `studios`, `series_per_studio`,
/// `episodes_per_series`, `scenes_per_episode`, `clips_per_episode`, `cache_hit_percent`,
/// `roi_months`, `stages[i].input_tokens`, `stages[i].output_tokens`, `video.takes_per_shot`,
/// `video.seconds_per_clip` and `video.resolution` (a `video.` field adds the video section,
/// with its defaults, when the plan has none). Any other path is refused as missing.
pub fn with_field(
    plan: &ProductionPlan,
    path: &str,
    text: &str,
) -> Result<CheckedPlan, FieldError> {
    let field = FormField::at(path).ok_or_else(|| not_found(path))?;
    let mut next = plan.clone();
    field.set(&mut next, path, text.trim())?;
    let next = CheckedPlan::new(next);
    let problems = next.problems();
    match problems
        .iter()
        .find(|e| e.path == path)
        .or(problems.first())
    {
        Some(error) => Err(error.clone()),
        None => Ok(next),
    }
}

/// The text a form shows for the field at `path` (a path [`with_field`] edits): numbers and
/// names as the plan's JSON writes them, empty when the field is absent.
pub fn field_text(plan: &ProductionPlan, path: &str) -> String {
    let video = plan.video.as_ref();
    match FormField::at(path) {
        None => String::new(),
        Some(FormField::Name) => plan.name.clone(),
        Some(FormField::Period) => plan.period.as_str().into(),
        // As JSON writes the percentage: `12.5`, `35.0`.
        Some(FormField::CacheHitPercent) => float_text(decimal_to_json_number(
            i128::from(plan.cache_hit_percent.basis_points),
            2,
        ))
        .unwrap_or_default(),
        Some(FormField::Resolution) => video
            .and_then(|video| video.resolution)
            .map_or_else(String::new, |resolution| resolution.as_str().into()),
        Some(FormField::SecondsPerClip) => video
            .and_then(|video| video.seconds_per_clip)
            .map_or_else(String::new, |seconds| seconds.to_string()),
        Some(count) => count
            .count(plan)
            .map_or_else(String::new, |count| count.to_string()),
    }
}

/// Returns the plan with video generation switched on (with the route's defaults) or off.
pub fn with_video(plan: &ProductionPlan, enabled: bool) -> ProductionPlan {
    let mut next = plan.clone();
    next.video = match (enabled, next.video.take()) {
        (true, Some(video)) => Some(video),
        (true, None) => Some(new_video()),
        (false, _) => None,
    };
    next
}

/// Returns the plan with a zero stage added for every stage it lacks, in the usual order, so
/// a form can show one row per stage. Zero stages cost nothing.
pub fn with_every_stage(plan: &ProductionPlan) -> ProductionPlan {
    let mut next = plan.clone();
    for stage in Stage::TEXT {
        if !next.stages.iter().any(|s| s.stage == stage) {
            next.stages.push(StagePlan {
                stage,
                per: Default::default(),
                input_tokens: 0,
                output_tokens: 0,
                requests: 0,
                task: None,
                model: None,
            });
        }
    }
    next
}

/// Video generation with the route's defaults: one take per shot, as a plan file's `"video": {}`
/// reads.
fn new_video() -> VideoPlan {
    VideoPlan {
        takes_per_shot: 1,
        seconds_per_clip: None,
        resolution: None,
        model: None,
    }
}

fn not_found(path: &str) -> FieldError {
    FieldError {
        path: path.to_owned(),
        problem: FieldProblem::Missing,
    }
}

/// A field of the plan form, found from its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FormField {
    Name,
    Period,
    Studios,
    SeriesPerStudio,
    EpisodesPerSeries,
    ScenesPerEpisode,
    ClipsPerEpisode,
    CacheHitPercent,
    RoiMonths,
    InputTokens(usize),
    OutputTokens(usize),
    TakesPerShot,
    SecondsPerClip,
    Resolution,
}

impl FormField {
    fn at(path: &str) -> Option<FormField> {
        Some(match path {
            "name" => FormField::Name,
            "period" => FormField::Period,
            "studios" => FormField::Studios,
            "series_per_studio" => FormField::SeriesPerStudio,
            "episodes_per_series" => FormField::EpisodesPerSeries,
            "scenes_per_episode" => FormField::ScenesPerEpisode,
            "clips_per_episode" => FormField::ClipsPerEpisode,
            "cache_hit_percent" => FormField::CacheHitPercent,
            "roi_months" => FormField::RoiMonths,
            "video.takes_per_shot" => FormField::TakesPerShot,
            "video.seconds_per_clip" => FormField::SecondsPerClip,
            "video.resolution" => FormField::Resolution,
            _ => {
                let (index, field) = path.strip_prefix("stages[")?.split_once("].")?;
                let index = index.parse().ok()?;
                match field {
                    "input_tokens" => FormField::InputTokens(index),
                    "output_tokens" => FormField::OutputTokens(index),
                    _ => return None,
                }
            }
        })
    }

    /// Sets the field from `text`, read by the rules of the field in a plan file.
    fn set(self, plan: &mut ProductionPlan, path: &str, text: &str) -> Result<(), FieldError> {
        match self {
            FormField::Name => plan.name = text.to_owned(),
            FormField::Period => plan.period = parse_period_field(path, text)?,
            FormField::CacheHitPercent => plan.cache_hit_percent = parse_percent_field(path, text)?,
            FormField::SecondsPerClip => {
                let seconds = parse_count_field(path, text)?;
                plan.video.get_or_insert_with(new_video).seconds_per_clip = Some(seconds);
            }
            FormField::Resolution => {
                let resolution = parse_resolution_field(path, text)?;
                plan.video.get_or_insert_with(new_video).resolution = Some(resolution);
            }
            count => {
                let slot = count.count_mut(plan).ok_or_else(|| not_found(path))?;
                *slot = parse_count_field(path, text)?;
            }
        }
        Ok(())
    }

    /// A count field's value; none for another field, a missing stage or a missing video section.
    fn count(self, plan: &ProductionPlan) -> Option<u64> {
        match self {
            FormField::Studios => Some(plan.studios),
            FormField::SeriesPerStudio => Some(plan.series_per_studio),
            FormField::EpisodesPerSeries => Some(plan.episodes_per_series),
            FormField::ScenesPerEpisode => Some(plan.scenes_per_episode),
            FormField::ClipsPerEpisode => Some(plan.clips_per_episode),
            FormField::RoiMonths => Some(plan.roi_months),
            FormField::InputTokens(index) => plan.stages.get(index).map(|s| s.input_tokens),
            FormField::OutputTokens(index) => plan.stages.get(index).map(|s| s.output_tokens),
            FormField::TakesPerShot => plan.video.as_ref().map(|video| video.takes_per_shot),
            _ => None,
        }
    }

    /// A count field's slot (the video section is added when absent); none for another field or
    /// a missing stage.
    fn count_mut(self, plan: &mut ProductionPlan) -> Option<&mut u64> {
        match self {
            FormField::Studios => Some(&mut plan.studios),
            FormField::SeriesPerStudio => Some(&mut plan.series_per_studio),
            FormField::EpisodesPerSeries => Some(&mut plan.episodes_per_series),
            FormField::ScenesPerEpisode => Some(&mut plan.scenes_per_episode),
            FormField::ClipsPerEpisode => Some(&mut plan.clips_per_episode),
            FormField::RoiMonths => Some(&mut plan.roi_months),
            FormField::InputTokens(index) => {
                plan.stages.get_mut(index).map(|s| &mut s.input_tokens)
            }
            FormField::OutputTokens(index) => {
                plan.stages.get_mut(index).map(|s| &mut s.output_tokens)
            }
            FormField::TakesPerShot => {
                Some(&mut plan.video.get_or_insert_with(new_video).takes_per_shot)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::money::Percent;
    use crate::domain::cost::plan::{bench_plan_200_series, seed_inventory_plan, Period};
    use crate::domain::cost::pricing::Resolution;
    use crate::domain::i18n::Lang;

    fn check(path: &str, text: &str, expect: Result<&str, FieldProblem>) {
        let plan = with_every_stage(&seed_inventory_plan());
        match (with_field(&plan, path, text), expect) {
            (Ok(next), Ok(json_fragment)) => {
                let json = serde_json::to_string(&next).unwrap();
                assert!(json.contains(json_fragment), "{path}={text}: {json}");
            }
            (Err(error), Err(problem)) => {
                assert_eq!(error.path, path, "{path}={text}");
                assert_eq!(error.problem, problem, "{path}={text}");
            }
            (got, want) => panic!("{path}={text}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn counts() {
        check("studios", "7", Ok(r#""studios":7"#));
        check("studios", " 12 ", Ok(r#""studios":12"#));
        check("studios", "-3", Err(FieldProblem::Negative));
        check("studios", "abc", Err(FieldProblem::NotANumber));
        check("studios", "", Err(FieldProblem::Empty));
        check("studios", "2.5", Err(FieldProblem::NotAWholeNumber));
        assert!(matches!(
            with_field(&seed_inventory_plan(), "studios", "99999999999")
                .unwrap_err()
                .problem,
            FieldProblem::TooLarge { .. }
        ));
    }

    #[test]
    fn nested_fields() {
        check(
            "stages[0].output_tokens",
            "900000",
            Ok(r#""output_tokens":900000"#),
        );
        check(
            "stages[0].output_tokens",
            "x",
            Err(FieldProblem::NotANumber),
        );
        check("cache_hit_percent", "35", Ok(r#""cache_hit_percent""#));
        let video = with_video(&seed_inventory_plan(), true);
        let next = with_field(&video, "video.takes_per_shot", "3").unwrap();
        assert_eq!(next.plan().video.as_ref().unwrap().takes_per_shot, 3);
        assert_eq!(with_video(&next_plan(), false).video, None);
    }

    fn next_plan() -> ProductionPlan {
        with_video(&seed_inventory_plan(), true)
    }

    #[test]
    fn a_failed_edit_leaves_the_plan_alone() {
        let plan = seed_inventory_plan();
        let before = plan.clone();
        assert!(with_field(&plan, "episodes_per_series", "-1").is_err());
        assert_eq!(plan, before);
        assert!(with_field(&plan, "no_such[7].field", "1").is_err());
    }

    #[test]
    fn every_stage_is_added_once_and_costs_nothing_new() {
        let plan = with_every_stage(&seed_inventory_plan());
        assert_eq!(plan.stages.len(), Stage::TEXT.len());
        assert_eq!(with_every_stage(&plan), plan);
    }

    /// The benchmark plan: every stage, video, lines and profiles, so that an edit has much to
    /// leave alone.
    fn bench() -> ProductionPlan {
        with_every_stage(&bench_plan_200_series())
    }

    #[test]
    fn an_edit_changes_its_field_and_nothing_else() {
        type Change = fn(&mut ProductionPlan);
        let cases: [(&str, &str, Change); 14] = [
            ("name", "  Pilot season ", |p| {
                p.name = "Pilot season".into()
            }),
            ("period", "year", |p| p.period = Period::Year),
            ("studios", "12", |p| p.studios = 12),
            ("series_per_studio", "21", |p| p.series_per_studio = 21),
            ("episodes_per_series", " 30 ", |p| {
                p.episodes_per_series = 30
            }),
            ("scenes_per_episode", "0", |p| p.scenes_per_episode = 0),
            ("clips_per_episode", "60", |p| p.clips_per_episode = 60),
            ("cache_hit_percent", "12.5", |p| {
                p.cache_hit_percent = Percent {
                    basis_points: 1_250,
                }
            }),
            ("roi_months", "24", |p| p.roi_months = 24),
            ("stages[2].input_tokens", "7000", |p| {
                p.stages[2].input_tokens = 7_000
            }),
            ("stages[4].output_tokens", "1", |p| {
                p.stages[4].output_tokens = 1
            }),
            ("video.takes_per_shot", "3", |p| {
                p.video.as_mut().unwrap().takes_per_shot = 3
            }),
            ("video.seconds_per_clip", "8", |p| {
                p.video.as_mut().unwrap().seconds_per_clip = Some(8)
            }),
            ("video.resolution", "4K", |p| {
                p.video.as_mut().unwrap().resolution = Some(Resolution::P4k)
            }),
        ];
        let plan = bench();
        for (path, text, change) in cases {
            let mut expected = plan.clone();
            change(&mut expected);
            let next = with_field(&plan, path, text).unwrap();
            assert_eq!(next.plan(), &expected, "{path}={text}");
            // The check the edit made travels with the plan: the estimate reads it.
            assert_eq!(next.problems(), [], "{path}={text}");
        }
        // A video field of a plan without video adds the section with its defaults.
        let next = with_field(&seed_inventory_plan(), "video.seconds_per_clip", "6").unwrap();
        assert_eq!(
            next.plan().video,
            Some(VideoPlan {
                takes_per_shot: 1,
                seconds_per_clip: Some(6),
                resolution: None,
                model: None,
            })
        );
    }

    #[test]
    fn a_refused_edit_reports_the_fields_error_as_a_plan_file_does() {
        let plan = bench();
        for (path, text, error) in [
            ("studios", "-3", "studios: must not be negative"),
            ("studios", "abc", "studios: must be a number"),
            ("studios", "", "studios: must not be empty"),
            ("studios", "99999999999", "studios: must not exceed 10000"),
            (
                "stages[0].input_tokens",
                "2.5",
                "stages[0].input_tokens: must be a whole number",
            ),
            (
                "stages[0].output_tokens",
                "2000000000",
                "stages[0].output_tokens: must not exceed 1000000000",
            ),
            (
                "period",
                "week",
                "period: must be one of: month, quarter, year",
            ),
            (
                "cache_hit_percent",
                "12.345",
                "cache_hit_percent: allows at most 2 decimal places",
            ),
            (
                "cache_hit_percent",
                "101",
                "cache_hit_percent: must be between 0 and 100",
            ),
            (
                "video.resolution",
                "8k",
                "video.resolution: must be one of: 720p, 1080p, 4k",
            ),
            // The route default is not a value a plan file can write either.
            (
                "video.resolution",
                "",
                "video.resolution: must be one of: 720p, 1080p, 4k",
            ),
            (
                "video.takes_per_shot",
                "0",
                "video.takes_per_shot: must be at least 1",
            ),
            (
                "video.seconds_per_clip",
                "601",
                "video.seconds_per_clip: must not exceed 600",
            ),
            ("roi_months", "61", "roi_months: must not exceed 60"),
            // A cross-field rule broken by this field is reported where the rule sits.
            (
                "studios",
                "10000",
                "episodes_per_series: makes the period's total exceed the cap of 1000000",
            ),
            // A stage the plan lacks, and a field the form does not show, are not there to set.
            (
                "stages[9].input_tokens",
                "1",
                "stages[9].input_tokens: is required",
            ),
            ("lines[0].label", "x", "lines[0].label: is required"),
        ] {
            let got = with_field(&plan, path, text).unwrap_err();
            assert_eq!(got.describe(Lang::En), error, "{path}={text}");
        }
    }

    #[test]
    fn a_plan_with_a_problem_elsewhere_refuses_edits_with_that_problem() {
        // A stored plan is read by structure only; its problems surface at the first edit.
        let mut stored = bench();
        stored.roi_months = 0;
        let error = with_field(&stored, "studios", "3").unwrap_err();
        assert_eq!(error.describe(Lang::En), "roi_months: must be at least 1");
        let fixed = with_field(&stored, "roi_months", "6").unwrap();
        assert_eq!(fixed.plan().roi_months, 6);
        assert_eq!(fixed.problems(), []);
    }

    /// The edit and the form's text agree with the JSON route they replace: writing the text into
    /// the plan's JSON at the path and reading the whole plan back.
    #[test]
    fn edits_and_texts_match_the_json_route() {
        let paths = [
            "name",
            "period",
            "studios",
            "series_per_studio",
            "episodes_per_series",
            "scenes_per_episode",
            "clips_per_episode",
            "cache_hit_percent",
            "roi_months",
            "stages[0].input_tokens",
            "stages[4].output_tokens",
            "stages[5].output_tokens",
            "video.takes_per_shot",
            "video.seconds_per_clip",
            "video.resolution",
        ];
        let texts = [
            "",
            "0",
            "1",
            " 7 ",
            "35",
            "12.5",
            "12.345",
            "-1",
            "-1.5",
            "2.5",
            "1e3",
            "abc",
            "600",
            "601",
            "10000",
            "99999999999",
            "month",
            "quarter",
            "720p",
            "4K",
            "hd",
            "Pilot",
        ];
        let mut bad_stored = seed_inventory_plan();
        bad_stored.stages[0].output_tokens = 2_000_000_000;
        for plan in [
            with_every_stage(&seed_inventory_plan()),
            bench(),
            bad_stored,
        ] {
            for path in paths {
                assert_eq!(
                    field_text(&plan, path),
                    json_route::field_text(&plan, path),
                    "{path}"
                );
                for text in texts {
                    let edit = with_field(&plan, path, text).map(|next| next.plan().clone());
                    assert_eq!(
                        edit,
                        json_route::with_field(&plan, path, text),
                        "{path}={text}"
                    );
                }
            }
        }
    }

    /// The edit as it was: the plan through JSON and back, kept to compare against.
    mod json_route {
        use crate::domain::cost::plan::{FieldError, FieldProblem, PlanError, ProductionPlan};
        use serde_json::Value;

        pub fn with_field(
            plan: &ProductionPlan,
            path: &str,
            text: &str,
        ) -> Result<ProductionPlan, FieldError> {
            let mut value = serde_json::to_value(plan).map_err(|_| not_found(path))?;
            let slot = slot_at(&mut value, path).ok_or_else(|| not_found(path))?;
            *slot = Value::String(text.trim().to_owned());
            match ProductionPlan::from_value(&value) {
                Ok(plan) => Ok(plan),
                Err(PlanError::Invalid(errors)) => {
                    let own = errors
                        .iter()
                        .find(|e| e.path == path)
                        .or_else(|| errors.first());
                    Err(own.cloned().unwrap_or_else(|| not_found(path)))
                }
                Err(_) => Err(not_found(path)),
            }
        }

        pub fn field_text(plan: &ProductionPlan, path: &str) -> String {
            let Ok(mut value) = serde_json::to_value(plan) else {
                return String::new();
            };
            match slot_at(&mut value, path) {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Null) | None => String::new(),
                Some(Value::Number(number)) => number.to_string(),
                Some(other) => serde_json::to_string(other).unwrap_or_default(),
            }
        }

        fn not_found(path: &str) -> FieldError {
            FieldError {
                path: path.to_owned(),
                problem: FieldProblem::Missing,
            }
        }

        fn slot_at<'a>(mut value: &'a mut Value, path: &str) -> Option<&'a mut Value> {
            for step in path.split('.') {
                let (name, index) = match step.split_once('[') {
                    Some((name, rest)) => {
                        (name, Some(rest.strip_suffix(']')?.parse::<usize>().ok()?))
                    }
                    None => (step, None),
                };
                let object = value.as_object_mut()?;
                value = object.entry(name.to_owned()).or_insert(Value::Null);
                if value.is_null()
                    && index.is_none()
                    && step != path.rsplit('.').next().unwrap_or("")
                {
                    *value = Value::Object(Default::default());
                }
                if let Some(i) = index {
                    value = value.as_array_mut()?.get_mut(i)?;
                }
            }
            Some(value)
        }
    }
}

#[cfg(test)]
mod field_text_tests {
    use super::*;
    use crate::domain::cost::plan::seed_inventory_plan;

    #[test]
    fn reads_what_with_field_wrote() {
        let plan = with_every_stage(&seed_inventory_plan());
        assert_eq!(field_text(&plan, "studios"), "15");
        assert_eq!(field_text(&plan, "stages[0].output_tokens"), "800000");
        assert_eq!(field_text(&plan, "period"), "month");
        let next = with_field(&plan, "cache_hit_percent", "12.5").unwrap();
        assert_eq!(field_text(next.plan(), "cache_hit_percent"), "12.5");
        assert_eq!(field_text(&plan, "video.takes_per_shot"), "");
    }
}
