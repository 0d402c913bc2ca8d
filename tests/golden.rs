//! Golden tests: every seed figure (S1–S8 in PRODUCT.md), reproduced to the cent from the plan
//! files in `tests/fixtures/plans/`, read from the same JSON that `cargo run --example estimate`
//! prints. One data-driven helper, [`check`], does the work.

use duanju_studio::domain::cost::estimate::{estimate, PriceBook};
use duanju_studio::domain::cost::litellm::{import_litellm, ImportProblem};
use duanju_studio::domain::cost::plan::{bench_plan_200_series, ProductionPlan};
use duanju_studio::domain::cost::plan_link::{plan_from_fragment, plan_to_fragment};
use duanju_studio::domain::cost::pricing::PriceSet;
use duanju_studio::domain::cost::seed_figures::seed_corrections;
use duanju_studio::domain::i18n::Lang;
use serde_json::Value;

const CASES: [&str; 8] = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"];

/// Reads a plan fixture.
fn plan(case: &str) -> ProductionPlan {
    let path = format!(
        "{}/tests/fixtures/plans/{case}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    ProductionPlan::from_json(&text).unwrap_or_else(|e| panic!("{path}: {}", e.message(Lang::En)))
}

/// The estimate of a case as the example prints it.
fn estimate_json(case: &str) -> Value {
    let estimate = estimate(&plan(case), &PriceBook::defaults()).expect("the seed plans estimate");
    assert!(
        estimate.warnings.is_empty(),
        "{case}: {:?}",
        estimate.warnings
    );
    serde_json::to_value(&estimate).expect("an estimate serialises")
}

/// Estimates `case` and compares each figure, found by `path`, with its expected text.
///
/// A path is dot-separated: `profiles[profile_id=holysheep-relay].total.usd.display`. A
/// bracket selects the array element whose fields equal the given values (`[a=x,b=y]`) or the
/// element at an index (`[0]`); dots inside brackets belong to the values.
fn check(case: &str, expect: &[(&str, &str)]) {
    let json = estimate_json(case);
    for (path, expected) in expect {
        let found = lookup(&json, path).unwrap_or_else(|| panic!("{case}: no {path}"));
        let found = match found {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        assert_eq!(&found, expected, "{case}: {path}");
    }
}

fn lookup<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    let mut value = json;
    let mut rest = path;
    while !rest.is_empty() {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let (key, after) = rest.split_at(end);
        if !key.is_empty() {
            value = value.get(key)?;
        }
        rest = after;
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']')?;
            let selector = &after[..close];
            rest = &after[close + 1..];
            value = match selector.parse::<usize>() {
                Ok(index) => value.get(index)?,
                Err(_) => value.as_array()?.iter().find(|item| {
                    selector.split(',').all(|pair| {
                        let (field, wanted) = pair.split_once('=').unwrap_or((pair, ""));
                        item.get(field).and_then(Value::as_str) == Some(wanted)
                    })
                })?,
            };
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    Some(value)
}

#[test]
fn s1_monthly_script_tokens() {
    check(
        "S1",
        &[
            (
                "profiles[profile_id=holysheep-relay].by_stage[key=script].volume.tokens",
                "240000000",
            ),
            (
                "profiles[profile_id=holysheep-relay].volume.episodes",
                "300",
            ),
        ],
    );
}

#[test]
fn s2_video_on_official_openai() {
    check(
        "S2",
        &[
            ("profiles[0].volume.videos", "2256"),
            ("profiles[0].total.usd.display", "$789.60"),
            ("profiles[0].total_per_year.usd.display", "$9,475.20"),
            ("roi.rows[0].cost.usd.display", "$9,475.20"),
        ],
    );
}

#[test]
fn s3_video_on_official_anthropic_and_both_providers() {
    let anthropic = "profiles[0].by_model[model=video-official-anthropic]";
    check(
        "S3",
        &[
            (&format!("{anthropic}.volume.videos"), "2256"),
            (&format!("{anthropic}.cost.usd.display"), "$947.52"),
            (
                &format!("{anthropic}.cost_per_year.usd.display"),
                "$11,370.24",
            ),
            (
                "profiles[0].by_model[model=video-official-openai].cost_per_year.usd.display",
                "$9,475.20",
            ),
            ("profiles[0].total_per_year.usd.display", "$20,845.44"),
        ],
    );
}

#[test]
fn s4_fifty_million_tokens_on_gpt_at_market_rate() {
    check(
        "S4",
        &[
            ("profiles[0].total.usd.display", "$400.00"),
            ("profiles[0].total.cny.display", "¥2,920.00"),
        ],
    );
}

#[test]
fn s5_the_same_tokens_on_deepseek_through_the_relay() {
    let relay = "comparison[profile_id=holysheep-relay]";
    check(
        "S5",
        &[
            (
                "profiles[profile_id=holysheep-relay].total.usd.display",
                "$21.00",
            ),
            (
                "profiles[profile_id=holysheep-relay].total.cny.display",
                "¥21.00",
            ),
            (&format!("{relay}.saving.cny.display"), "¥2,899.00"),
            (&format!("{relay}.saving_percent.cny.display"), "99.3%"),
            (
                &format!("{relay}.saving_per_year.cny.display"),
                "¥34,788.00",
            ),
        ],
    );
}

#[test]
fn s6_cost_comparison_matrix() {
    let official = |model: &str| {
        format!("price_matrix[model={model},profile_id=official-market].output_per_mtok")
    };
    check(
        "S6",
        &[
            (&format!("{}.usd.display", official("claude-sonnet-4.5")), "$15.00"),
            (&format!("{}.cny.display", official("claude-sonnet-4.5")), "¥109.50"),
            (&format!("{}.cny.display", official("gemini-2.5-flash")), "¥18.25"),
            (&format!("{}.cny.display", official("gpt-4.1")), "¥58.40"),
            ("price_matrix[model=deepseek-v3.2,profile_id=holysheep-relay].output_per_mtok.cny.display", "¥0.42"),
            ("price_matrix[model=claude-sonnet-4.5,profile_id=holysheep-relay].output_per_mtok.cny.display", "¥15.00"),
        ],
    );
}

#[test]
fn s7_three_month_roi_previous_providers() {
    let row = "roi.rows[profile_id=previous-providers]";
    check(
        "S7",
        &[
            (
                &format!("{row}.by_model[model=gpt-4.1].cost.usd.display"),
                "$6,776.00",
            ),
            (
                &format!("{row}.by_model[model=claude-sonnet-4.5].cost.usd.display"),
                "$1,005.00",
            ),
            (
                &format!("{row}.by_model[model=video-previous-providers].cost.usd.display"),
                "$2,256.00",
            ),
            (&format!("{row}.cost.usd.display"), "$10,037.00"),
            (&format!("{row}.volume.videos"), "5640"),
            (&format!("{row}.volume.episodes"), "40"),
        ],
    );
}

#[test]
fn s8_three_month_roi_relay_corrected() {
    let row = "roi.rows[profile_id=holysheep-relay]";
    check(
        "S8",
        &[
            (
                &format!("{row}.by_model[model=deepseek-v3.2].cost.usd.display"),
                "$327.60",
            ),
            (
                &format!("{row}.by_model[model=gemini-2.5-flash].cost.usd.display"),
                "$167.50",
            ),
            (
                &format!("{row}.by_model[model=video-gen-2.1].cost.usd.display"),
                "$282.00",
            ),
            (&format!("{row}.cost.usd.display"), "$777.10"),
            (&format!("{row}.cost.cny.display"), "¥777.10"),
            (&format!("{row}.saving.usd.display"), "$9,259.90"),
            (&format!("{row}.saving_percent.usd.display"), "92.3%"),
            (&format!("{row}.volume.tokens"), "847000000"),
            (
                "roi.rows[profile_id=previous-providers].cost.usd.display",
                "$10,037.00",
            ),
        ],
    );
}

#[test]
fn seed_corrections_match_the_estimator() {
    let json = estimate_json("S8");
    let relay = lookup(&json, "roi.rows[profile_id=holysheep-relay]").unwrap();
    let corrections = seed_corrections();
    let pinned: Vec<(String, String)> = corrections
        .iter()
        .map(|c| (c.claimed.display(), c.corrected.display()))
        .collect();
    assert_eq!(
        pinned[..3],
        [
            ("$423.40".to_string(), "$777.10".to_string()),
            ("$9,613.60".to_string(), "$9,259.90".to_string()),
            ("95.8%".to_string(), "92.3%".to_string()),
        ]
    );
    assert_eq!(
        relay["cost"]["usd"]["display"],
        corrections[0].corrected.display()
    );
    assert_eq!(
        relay["saving"]["usd"]["display"],
        corrections[1].corrected.display()
    );
    assert_eq!(
        relay["saving_percent"]["usd"]["display"],
        corrections[2].corrected.display()
    );
    // The per-second reading: 5,640 clips × 5 s × $0.05.
    let mut per_second = plan("S8");
    per_second.lines[5].price_per_clip = None;
    let estimate = estimate(&per_second, &PriceBook::defaults()).unwrap();
    let video = estimate
        .profile("holysheep-relay")
        .unwrap()
        .by_model
        .iter()
        .find(|m| m.model == "video-gen-2.1")
        .unwrap();
    assert_eq!(video.cost.usd.display(), corrections[3].corrected.display());
}

/// The seeds' other two errors, both the claimed and the corrected figure from the estimator.
#[test]
fn seed_inventory_and_s7_double_count_are_corrected() {
    use duanju_studio::domain::cost::plan::{seed_inventory_plan, ProfileChoice};
    use duanju_studio::domain::cost::profile::{ExchangeRate, Profile};
    let corrections = seed_corrections();
    let by_case = |case: &str| {
        corrections
            .iter()
            .find(|c| c.case == case)
            .unwrap_or_else(|| panic!("no correction for {case}"))
    };
    // The inventory at the seeds' own (blended) route prices, through a profile of the plan.
    let mut inventory = seed_inventory_plan();
    inventory.profiles = vec![ProfileChoice::Custom(Profile {
        id: "seeds".into(),
        name: "The seeds' prices".into(),
        base_url: String::new(),
        price_set: "seed".into(),
        exchange_rate: ExchangeRate::RELAY,
        markup: Default::default(),
    })];
    inventory.baseline_profile = None;
    let total = estimate(&inventory, &PriceBook::defaults())
        .unwrap()
        .profile("seeds")
        .unwrap()
        .total
        .usd
        .display();
    let inventory_fix = by_case("000");
    assert_eq!(total, inventory_fix.corrected.display());
    assert_eq!(total, "$2,410.80");
    assert_eq!(inventory_fix.claimed.display(), "$18,400.00");

    // S7 as the seed writes it bills the 67 M planning tokens twice…
    let previous = |plan: &ProductionPlan| {
        estimate(plan, &PriceBook::defaults())
            .unwrap()
            .profile("previous-providers")
            .unwrap()
            .total
            .usd
            .display()
    };
    let as_written = plan("S7");
    let s7 = by_case("S7");
    assert_eq!(previous(&as_written), s7.claimed.display());
    assert_eq!(s7.claimed.display(), "$10,037.00");
    // …and split as the relay side splits the same 847 M, it is $9,501.00.
    let mut split = as_written.clone();
    assert_eq!(split.lines[0].output_tokens, 847_000_000);
    split.lines[0].output_tokens = 847_000_000 - split.lines[1].output_tokens;
    assert_eq!(previous(&split), s7.corrected.display());
    assert_eq!(s7.corrected.display(), "$9,501.00");
    let saving = by_case("S7 · S8");
    assert_eq!(saving.corrected.display(), "$8,723.90");
}

#[test]
fn every_seed_plan_round_trips_through_json_and_links() {
    for case in CASES {
        let plan = plan(case);
        assert_eq!(
            ProductionPlan::from_json(&plan.to_json()).unwrap(),
            plan,
            "{case}"
        );
        assert_eq!(
            plan_from_fragment(&plan_to_fragment(&plan)).unwrap(),
            plan,
            "{case}"
        );
    }
}

#[test]
fn litellm_sample_imports_five_models_and_names_two_bad_entries() {
    let path = format!(
        "{}/tests/fixtures/litellm_sample.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let (prices, diagnostics) = import_litellm(&std::fs::read_to_string(path).unwrap());
    let models: Vec<&str> = prices.iter().map(|p| p.model.as_str()).collect();
    assert_eq!(
        models,
        [
            "claude-sonnet-4.5",
            "deepseek-v3.2",
            "gemini-2.5-flash",
            "gpt-4.1",
            "video-gen-2.1"
        ]
    );
    let list = PriceSet::list();
    for price in &prices {
        let expected = list.get(&price.model).unwrap();
        assert_eq!(
            (
                price.input_per_mtok,
                price.output_per_mtok,
                price.cached_input_per_mtok,
                price.cache_write_per_mtok
            ),
            (
                expected.input_per_mtok,
                expected.output_per_mtok,
                expected.cached_input_per_mtok,
                expected.cache_write_per_mtok
            ),
            "{}",
            price.model
        );
        assert_eq!(price.video, expected.video, "{}", price.model);
    }
    let messages: Vec<String> = diagnostics.iter().map(|d| d.message(Lang::En)).collect();
    assert_eq!(
        messages,
        [
            "entry \"broken-nan-model\", field input_cost_per_token is NaN or infinite; the entry was not imported",
            "entry \"broken-nan-model\", field output_cost_per_token exceeds the cap of $10000/MTok; the entry was not imported",
            "entry \"broken-relay-model\", field input_cost_per_token is negative; the entry was not imported",
            "entry \"broken-relay-model\", field output_cost_per_token is not a number; the entry was not imported",
        ]
    );
    assert!(diagnostics
        .iter()
        .all(|d| d.rejects_entry() && d.problem != ImportProblem::Rounded));
}

#[test]
fn a_large_plan_scales_exactly_with_its_volume() {
    // The estimate's speed is measured by `make bench` (`estimate_200_series`), not here. This
    // checks what that speed rests on: a plan is priced from its counts, never episode by
    // episode, so twice the studios is exactly twice the volume and, to the micro-unit per
    // priced part, twice the cost.
    let mut plan = bench_plan_200_series();
    plan.lines.clear();
    let mut doubled = plan.clone();
    doubled.studios *= 2;
    let book = PriceBook::defaults();
    let one = estimate(&plan, &book).unwrap();
    let two = estimate(&doubled, &book).unwrap();
    assert_eq!(one.profiles.len(), two.profiles.len());
    // 10 studios × 20 series × 20 episodes.
    assert_eq!(one.profiles[0].volume.episodes, 4_000);
    assert_eq!(two.profiles[0].volume.episodes, 8_000);
    for (a, b) in one.profiles.iter().zip(&two.profiles) {
        assert_eq!(
            b.volume.input_tokens,
            2 * a.volume.input_tokens,
            "{}",
            a.profile_id
        );
        assert_eq!(
            b.volume.output_tokens,
            2 * a.volume.output_tokens,
            "{}",
            a.profile_id
        );
        assert_eq!(b.volume.videos, 2 * a.volume.videos, "{}", a.profile_id);
        let parts = a.by_stage.len() as i128 + a.by_model.len() as i128;
        let drift = (b.total.usd.micros() - 2 * a.total.usd.micros()).abs();
        assert!(
            drift <= parts,
            "{}: {} vs 2 × {}",
            a.profile_id,
            b.total.usd.display(),
            a.total.usd.display()
        );
        assert!(a.total.usd.micros() > 0, "{}", a.profile_id);
    }
}

#[test]
fn the_documented_example_is_a_valid_plan() {
    let path = format!("{}/docs/plan-format.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc.find("```json\n").expect("the doc has a JSON example") + "```json\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let plan = ProductionPlan::from_json(&doc[start..end])
        .unwrap_or_else(|e| panic!("{}", e.message(Lang::En)));
    let estimate = estimate(&plan, &PriceBook::defaults()).unwrap();
    assert!(estimate.warnings.is_empty(), "{:?}", estimate.warnings);
    assert_eq!(estimate.profiles[0].volume.videos, 4_800);
}
