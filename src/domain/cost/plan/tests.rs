//! The plan's native tests: reading, every problem at its path, caps, messages, round trips.

use super::*;
use crate::domain::cost::profile::ExchangeRate;

/// Reads `json` and compares the problems found with `expect` (`path: English message`).
fn check(json: &str, expect: &[&str]) {
    let got: Vec<String> = match ProductionPlan::from_json(json) {
        Ok(_) => Vec::new(),
        Err(PlanError::Invalid(errors)) => errors.iter().map(|e| e.describe(Lang::En)).collect(),
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

#[test]
fn a_checked_plan_is_stored_as_its_plan_and_checked_when_read() {
    let checked = CheckedPlan::new(seed_inventory_plan());
    assert_eq!(checked.problems(), []);
    let json = serde_json::to_string(&checked).unwrap();
    assert_eq!(json, seed_inventory_plan().to_compact_json());
    assert_eq!(serde_json::from_str::<CheckedPlan>(&json).unwrap(), checked);
    // A stored plan is read by its structure; the check finds what is wrong with its values.
    let stored: CheckedPlan = serde_json::from_str(r#"{"version": 1, "roi_months": 0}"#).unwrap();
    let found: Vec<String> = stored
        .problems()
        .iter()
        .map(|e| e.describe(Lang::En))
        .collect();
    assert_eq!(found, ["roi_months: must be at least 1"]);
    assert_eq!(stored.plan().roi_months, 0);
}
