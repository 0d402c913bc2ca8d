//! The LiteLLM map read onto full billing shapes, on entries cut verbatim from litellm
//! 1.110.2's own `model_prices_and_context_window_backup.json` (see
//! `fixtures/litellm/README.md`). Every expected price below is the fixture's float × 10⁶ (per
//! million tokens or characters) or as written (per second, per image), worked out by hand.

use duanju_studio::domain::cost::billing::{
    bill, AllowedDurations, BatchPrices, BillingShape, CacheWrite, ClipRate, ClipRates,
    ImageRequest, ImageTokens, LlmCall, SpeechRequest, TokenPrices, TokenRates, Usage,
    VideoRequest,
};
use duanju_studio::domain::cost::catalog::CatalogEntry;
use duanju_studio::domain::cost::litellm::{
    export_litellm_catalog, import_litellm_catalog, LiteLlmCatalogImport, UnmappedField, ANY_LABEL,
    BILLING_FIELD, DEFAULT_SOURCE,
};
use duanju_studio::domain::cost::money::{Currency, Micros, Money};
use duanju_studio::domain::i18n::Lang;

const FIXTURE: &str = include_str!("fixtures/litellm/model_prices_cut.json");

fn m(whole_millionths: i64) -> Micros {
    Micros(whole_millionths)
}

fn import() -> LiteLlmCatalogImport {
    let import = import_litellm_catalog(FIXTURE);
    assert!(import.diagnostics.is_empty(), "{:?}", import.diagnostics);
    import
}

fn entry<'a>(import: &'a LiteLlmCatalogImport, model: &str) -> &'a CatalogEntry {
    import
        .entries
        .iter()
        .find(|e| e.model == model)
        .unwrap_or_else(|| panic!("{model} not imported"))
}

fn tokens(import: &LiteLlmCatalogImport, model: &str) -> TokenRates {
    match &entry(import, model).billing {
        BillingShape::PerToken(rates) => rates.clone(),
        other => panic!("{model}: {other:?}"),
    }
}

/// Asserts the exact cost of one request, in millionths of a dollar.
fn costs(shape: &BillingShape, usage: Usage, micros: i128) {
    let got = bill(shape, &usage)
        .unwrap_or_else(|e| panic!("{}: {usage:?}", e.message(Lang::En)))
        .cost;
    assert_eq!(got, Money::from_micros(Currency::Usd, micros), "{usage:?}");
}

fn has_unmapped(import: &LiteLlmCatalogImport, model: &str, field: &str) -> bool {
    import.unmapped.contains(&UnmappedField {
        entry: model.into(),
        field: field.into(),
    })
}

#[test]
fn entries_shapes_and_skips() {
    let import = import();
    // 20 keys: sample_spec is skipped, whisper-1 and the per-pixel gpt-image-1 fit no shape.
    assert_eq!(import.entries.len(), 17);
    let skipped: Vec<&str> = import.skipped.iter().map(|s| s.entry.as_str()).collect();
    assert_eq!(skipped, ["high/1024-x-1024/gpt-image-1", "whisper-1"]);
    let counts = import.shape_counts();
    assert_eq!(counts["per_token"], 8);
    assert_eq!(counts["per_second"], 4);
    assert_eq!(counts["per_image"], 2);
    assert_eq!(counts["per_image_token"], 1);
    assert_eq!(counts["speech"], 2);
    let sonnet = entry(&import, "claude-sonnet-4-5");
    assert_eq!(sonnet.provider, "anthropic");
    assert_eq!(
        sonnet.source,
        "https://platform.claude.com/docs/en/about-claude/pricing"
    );
    assert_eq!(sonnet.read_on, "");
    let retired = sonnet.retired.as_ref().unwrap();
    assert_eq!(retired.on, "2026-11-30");
    assert_eq!(retired.note, "replaced by claude-sonnet-5-5");
    assert_ne!(sonnet.source, DEFAULT_SOURCE);
}

#[test]
fn tier_above_200k_is_a_complete_price_set() {
    let import = import();
    let gemini = tokens(&import, "gemini-2.5-pro");
    // input 1.25e-06, output 1e-05, cache read 1.25e-07; batches 6.25e-07 / 5e-06.
    assert_eq!(
        gemini.base,
        TokenPrices {
            input_per_mtok: m(1_250_000),
            output_per_mtok: m(10_000_000),
            cached_read_per_mtok: Some(m(125_000)),
            cache_write: CacheWrite::NotStated,
            reasoning_per_mtok: None,
            batch: Some(BatchPrices {
                input_per_mtok: m(625_000),
                output_per_mtok: m(5_000_000),
                cached_read_per_mtok: None,
                cache_write_per_mtok: None,
                reasoning_per_mtok: None,
            }),
        }
    );
    assert_eq!(gemini.tiers.len(), 1);
    let tier = &gemini.tiers[0];
    assert_eq!(tier.above_prompt_tokens, 200_000);
    // *_above_200k_tokens: input 2.5e-06, output 1.5e-05, cache read 2.5e-07, cache creation
    // 2.5e-07; *_above_200k_tokens_batches: 1.25e-06 / 7.5e-06.
    assert_eq!(tier.prices.input_per_mtok, m(2_500_000));
    assert_eq!(tier.prices.output_per_mtok, m(15_000_000));
    assert_eq!(tier.prices.cached_read_per_mtok, Some(m(250_000)));
    assert_eq!(
        tier.prices.cache_write,
        CacheWrite::Stated {
            per_mtok: m(250_000)
        }
    );
    let batch = tier.prices.batch.unwrap();
    assert_eq!(
        (batch.input_per_mtok, batch.output_per_mtok),
        (m(1_250_000), m(7_500_000))
    );
    let shape = BillingShape::PerToken(gemini);
    // At the threshold: base prices. 200,000 × $1.25/M + 1,000 × $10/M = $0.25 + $0.01.
    let at = LlmCall {
        input: 200_000,
        output: 1_000,
        ..LlmCall::default()
    };
    costs(&shape, Usage::Llm(at), 260_000);
    // Just above, the whole request at the tier: 200,004 × $2.50/M = $0.50001, + 1,000 ×
    // $15/M = $0.015.
    let above = LlmCall {
        input: 200_004,
        ..at
    };
    costs(&shape, Usage::Llm(above), 515_010);
    // Tier 272k of gpt-6-astra: input 2e-05, output 7.5e-05, read 2e-06, write 2.5e-05,
    // batches 1e-05 / 3.75e-05 / 1e-06 / 1.25e-05.
    let astra = tokens(&import, "gpt-6-astra");
    let tier = &astra.tiers[0];
    assert_eq!(astra.tiers.len(), 1);
    assert_eq!(tier.above_prompt_tokens, 272_000);
    assert_eq!(
        tier.prices.batch,
        Some(BatchPrices {
            input_per_mtok: m(10_000_000),
            output_per_mtok: m(37_500_000),
            cached_read_per_mtok: Some(m(1_000_000)),
            cache_write_per_mtok: Some(m(12_500_000)),
            reasoning_per_mtok: None,
        })
    );
    assert_eq!(
        tier.prices.cache_write,
        CacheWrite::Stated {
            per_mtok: m(25_000_000)
        }
    );
}

#[test]
fn tiered_pricing_table_becomes_tiers() {
    let import = import();
    // qwen-flash: [0, 256000] 5e-08 in / 4e-07 out; [256000, 1000000] 2.5e-07 / 2e-06.
    let qwen = tokens(&import, "dashscope/qwen-flash");
    assert_eq!(
        (qwen.base.input_per_mtok, qwen.base.output_per_mtok),
        (m(50_000), m(400_000))
    );
    assert_eq!(qwen.tiers.len(), 1);
    assert_eq!(qwen.tiers[0].above_prompt_tokens, 256_000);
    assert_eq!(
        (
            qwen.tiers[0].prices.input_per_mtok,
            qwen.tiers[0].prices.output_per_mtok
        ),
        (m(250_000), m(2_000_000))
    );
    // 300,000 in × $0.25/M + 1,000 out × $2/M = $0.075 + $0.002, all at the upper row.
    let call = LlmCall {
        input: 300_000,
        output: 1_000,
        ..LlmCall::default()
    };
    costs(&BillingShape::PerToken(qwen), Usage::Llm(call), 77_000);
    assert!(!has_unmapped(
        &import,
        "dashscope/qwen-flash",
        "tiered_pricing"
    ));
}

#[test]
fn cache_write_batches_and_reasoning() {
    let import = import();
    let sonnet = tokens(&import, "claude-sonnet-4-5");
    // cache_creation_input_token_cost 3.75e-06, cache_read 3e-07, batches 1.5e-06 / 7.5e-06,
    // cache read batches 1.5e-07, cache creation batches 1.875e-06.
    assert_eq!(
        sonnet.base.cache_write,
        CacheWrite::Stated {
            per_mtok: m(3_750_000)
        }
    );
    assert_eq!(sonnet.base.cached_read_per_mtok, Some(m(300_000)));
    assert_eq!(
        sonnet.base.batch,
        Some(BatchPrices {
            input_per_mtok: m(1_500_000),
            output_per_mtok: m(7_500_000),
            cached_read_per_mtok: Some(m(150_000)),
            cache_write_per_mtok: Some(m(1_875_000)),
            reasoning_per_mtok: None,
        })
    );
    assert!(sonnet.tiers.is_empty());
    // A batch call: 1,000 in × $1.50/M + 2,000 written × $1.875/M + 1,000 out × $7.50/M.
    let call = LlmCall {
        input: 1_000,
        cache_write: 2_000,
        output: 1_000,
        batch: true,
        ..LlmCall::default()
    };
    costs(&BillingShape::PerToken(sonnet), Usage::Llm(call), 12_750);
    // qwen-turbo: input 5e-08, output 2e-07, reasoning 5e-07.
    let qwen = tokens(&import, "dashscope/qwen-turbo");
    assert_eq!(qwen.base.reasoning_per_mtok, Some(m(500_000)));
    assert_eq!(qwen.base.input_per_mtok, m(50_000));
    let call = LlmCall {
        input: 1_000,
        output: 1_000,
        reasoning: 2_000,
        ..LlmCall::default()
    };
    // 1,000 × $0.05/M + 1,000 × $0.20/M + 2,000 × $0.50/M = $0.00125.
    costs(&BillingShape::PerToken(qwen), Usage::Llm(call), 1_250);
}

#[test]
fn per_second_video() {
    let import = import();
    let shape = |model: &str| entry(&import, model).billing.clone();
    let rates = |model: &str| match shape(model) {
        BillingShape::PerSecond(rates) => rates,
        other => panic!("{other:?}"),
    };
    // sora-2: output_cost_per_video_per_second 0.1, no resolution named.
    let sora = rates("openai/sora-2");
    assert_eq!(sora.rates.len(), 1);
    assert_eq!(
        (sora.rates[0].resolution.as_str(), sora.rates[0].per_second),
        (ANY_LABEL, m(100_000))
    );
    assert_eq!(sora.durations, AllowedDurations::Any);
    costs(
        &shape("openai/sora-2"),
        Usage::Video(VideoRequest::new("any", 8)),
        800_000,
    );
    // veo 3.1 fast: output_cost_per_second 0.1, _1080p 0.12, _4k 0.3.
    let veo = rates("gemini/veo-3.1-fast-generate-preview");
    let price = |res: &str| {
        veo.rates
            .iter()
            .find(|r| r.resolution == res)
            .map(|r| r.per_second)
    };
    assert_eq!(veo.rates.len(), 3);
    assert_eq!(price("1080p"), Some(m(120_000)));
    assert_eq!(price("4k"), Some(m(300_000)));
    assert_eq!(price(ANY_LABEL), Some(m(100_000)));
    let veo_shape = shape("gemini/veo-3.1-fast-generate-preview");
    costs(
        &veo_shape,
        Usage::Video(VideoRequest::new("1080P", 8)),
        960_000,
    );
    costs(
        &veo_shape,
        Usage::Video(VideoRequest::new("4k", 4)),
        1_200_000,
    );
    costs(
        &veo_shape,
        Usage::Video(VideoRequest::new("any", 4)),
        400_000,
    );
    // happyhorse: _720p 0.123769 exactly.
    let horse = shape("dashscope/happyhorse-1.0-t2v");
    costs(&horse, Usage::Video(VideoRequest::new("720p", 5)), 618_845);
    // runway gen4.5: flat output_cost_per_second 0.12.
    assert_eq!(rates("runwayml/gen4.5").rates[0].per_second, m(120_000));
}

#[test]
fn images_and_speech() {
    let import = import();
    let shape = |model: &str| entry(&import, model).billing.clone();
    // nova canvas: output_cost_per_image 0.06, size from the key's 1024-x-1024.
    let canvas = shape("1024-x-1024/50-steps/bedrock/amazon.nova-canvas-v1:0");
    let two = ImageRequest {
        size: "1024x1024".into(),
        count: 2,
        ..ImageRequest::default()
    };
    costs(&canvas, Usage::Image(two), 120_000);
    // nano-banana-2: _0.5K 0.06, _1K 0.08, _2K 0.12, _4K 0.16, flat 0.08 as `any`.
    let BillingShape::PerImage(banana) = shape("fal_ai/fal-ai/nano-banana-2") else {
        panic!()
    };
    assert_eq!(banana.rates.len(), 5);
    let one = |size: &str| ImageRequest {
        size: size.into(),
        count: 1,
        ..ImageRequest::default()
    };
    let banana = BillingShape::PerImage(banana);
    costs(&banana, Usage::Image(one("2K")), 120_000);
    costs(&banana, Usage::Image(one("0.5K")), 60_000);
    costs(&banana, Usage::Image(one("any")), 80_000);
    // gpt-image-1: input 5e-06, image input 1e-05, image output 4e-05 per token.
    let image = shape("gpt-image-1");
    let BillingShape::PerImageToken(rates) = &image else {
        panic!("{image:?}")
    };
    assert_eq!(
        (
            rates.text_input_per_mtok,
            rates.image_input_per_mtok,
            rates.image_output_per_mtok
        ),
        (m(5_000_000), m(10_000_000), m(40_000_000))
    );
    let tokens = ImageRequest {
        size: "1024x1024".into(),
        count: 1,
        image_tokens: Some(ImageTokens {
            text_input: 100,
            image_input: 0,
            image_output: 4_160,
        }),
        ..ImageRequest::default()
    };
    // 100 × $5/M + 4,160 × $40/M = $0.0005 + $0.1664.
    costs(&image, Usage::Image(tokens), 166_900);
    // tts-1: input_cost_per_character 1.5e-05 = $15 per million characters.
    let tts = shape("tts-1");
    let BillingShape::Speech(rates) = &tts else {
        panic!("{tts:?}")
    };
    assert_eq!(
        (rates.per_million_characters, rates.per_second),
        (Some(m(15_000_000)), None)
    );
    let line = SpeechRequest {
        characters: 1_000,
        milliseconds: None,
    };
    costs(&tts, Usage::Speech(line), 15_000);
    // gpt-4o-mini-tts on Azure: output_cost_per_second 0.00025; 10 s of audio.
    let mini = shape("azure/gpt-4o-mini-tts");
    let BillingShape::Speech(rates) = &mini else {
        panic!("{mini:?}")
    };
    assert_eq!(
        (rates.per_million_characters, rates.per_second),
        (None, Some(m(250)))
    );
    let spoken = SpeechRequest {
        characters: 120,
        milliseconds: Some(10_000),
    };
    costs(&mini, Usage::Speech(spoken), 2_500);
}

#[test]
fn unmapped_fields_are_listed() {
    let import = import();
    for (model, field) in [
        (
            "claude-sonnet-4-5",
            "cache_creation_input_token_cost_above_1hr",
        ),
        ("claude-sonnet-4-5", "search_context_cost_per_query"),
        ("gemini-2.5-pro", "input_cost_per_token_priority"),
        (
            "gemini-2.5-pro",
            "cache_read_input_token_cost_above_200k_tokens_priority",
        ),
        ("gemini-2.5-pro", "google_maps_grounding_cost_per_query"),
        (
            "gpt-6-astra",
            "cache_creation_input_token_cost_above_12hr_above_272k_tokens",
        ),
        ("gpt-image-1", "cache_read_input_image_token_cost"),
        ("gpt-image-1", "input_cost_per_token_batches"),
        ("azure/gpt-4o-mini-tts", "output_cost_per_audio_token"),
        ("whisper-1", "input_cost_per_second"),
        ("high/1024-x-1024/gpt-image-1", "input_cost_per_pixel"),
    ] {
        assert!(has_unmapped(&import, model, field), "{model} {field}");
    }
    for (model, field) in [
        (
            "gemini-2.5-pro",
            "input_cost_per_token_above_200k_tokens_batches",
        ),
        (
            "claude-sonnet-4-5",
            "cache_creation_input_token_cost_batches",
        ),
        ("dashscope/qwen-turbo", "output_cost_per_reasoning_token"),
        ("openai/sora-2", "output_cost_per_video_per_second"),
        ("tts-1", "input_cost_per_character"),
    ] {
        assert!(!has_unmapped(&import, model, field), "{model} {field}");
    }
    let summary = import.unmapped_summary();
    let count = |name: &str| summary.iter().find(|(f, _)| f == name).map(|(_, c)| *c);
    // gemini-2.5-pro, claude-sonnet-4-5, gpt-5, o3 and gpt-6-astra hold a search price.
    assert_eq!(count("search_context_cost_per_query"), Some(5));
    assert_eq!(count("input_cost_per_token"), Some(1)); // azure/gpt-4o-mini-tts
    assert!(summary.windows(2).all(|w| w[0].1 >= w[1].1));
}

#[test]
fn export_then_import_round_trips() {
    let import = import();
    let export = export_litellm_catalog(&import.entries);
    assert!(export.skipped.is_empty());
    let back = import_litellm_catalog(&export.json);
    assert!(back.diagnostics.is_empty(), "{:?}", back.diagnostics);
    assert!(back.unmapped.is_empty(), "{:?}", back.unmapped);
    let mut expected = import.entries.clone();
    expected.sort_by(|a, b| a.model.cmp(&b.model));
    let mut got = back.entries.clone();
    got.sort_by(|a, b| a.model.cmp(&b.model));
    assert_eq!(got, expected);
    // Plain LiteLLM fields suffice for these: no extension written.
    let root: serde_json::Value = serde_json::from_str(&export.json).unwrap();
    for model in [
        "gemini-2.5-pro",
        "claude-sonnet-4-5",
        "tts-1",
        "gpt-image-1",
    ] {
        assert!(root[model].get(BILLING_FIELD).is_none(), "{model}");
    }
    assert_eq!(
        root["gemini-2.5-pro"]["input_cost_per_token_above_200k_tokens"],
        serde_json::json!(2.5e-06)
    );
    assert_eq!(
        root["dashscope/happyhorse-1.0-t2v"]["output_cost_per_second_720p"],
        serde_json::json!(0.123769)
    );
    // A shape LiteLLM cannot hold travels in duanju_billing; yuan entries are skipped.
    let mut hailuo = import.entries[0].clone();
    hailuo.model = "MiniMax-Hailuo-02".into();
    hailuo.billing = BillingShape::PerClip(ClipRates {
        currency: Currency::Usd,
        clips: vec![ClipRate {
            resolution: "768P".into(),
            tier: None,
            seconds: 6,
            per_clip: m(280_000),
        }],
    });
    let mut yuan = hailuo.clone();
    yuan.model = "hailuo-cny".into();
    yuan.billing = BillingShape::PerClip(ClipRates {
        currency: Currency::Cny,
        clips: vec![],
    });
    let export = export_litellm_catalog(&[hailuo.clone(), yuan]);
    assert_eq!(export.skipped, ["hailuo-cny"]);
    assert!(export.json.contains(BILLING_FIELD));
    let back = import_litellm_catalog(&export.json);
    assert_eq!(back.entries, [hailuo]);
}

/// The whole file: `LITELLM_FULL_JSON=…/model_prices_and_context_window_backup.json cargo test
/// --test litellm_catalog -- --ignored --nocapture`.
#[test]
#[ignore = "needs LITELLM_FULL_JSON pointing to LiteLLM's full price file"]
fn full_file_imports_without_rejections() {
    let Ok(path) = std::env::var("LITELLM_FULL_JSON") else {
        panic!("set LITELLM_FULL_JSON to the full model_prices_and_context_window JSON");
    };
    let text = std::fs::read_to_string(&path).expect("read LITELLM_FULL_JSON");
    let import = import_litellm_catalog(&text);
    println!("entries imported: {}", import.entries.len());
    println!("per shape: {:?}", import.shape_counts());
    println!("skipped (no shape): {}", import.skipped.len());
    let mut modes = std::collections::BTreeMap::new();
    for skipped in &import.skipped {
        *modes
            .entry(skipped.mode.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    println!("skipped by mode: {modes:?}");
    println!("diagnostics: {}", import.diagnostics.len());
    for d in &import.diagnostics {
        println!("  {}", d.message(Lang::En));
    }
    println!("rejected entries: {}", import.rejected());
    println!(
        "unmapped: {} fields, {} distinct",
        import.unmapped.len(),
        import.unmapped_summary().len()
    );
    for (field, count) in import.unmapped_summary() {
        println!("  {count:5} {field}");
    }
    assert_eq!(import.rejected(), 0);
    let export = export_litellm_catalog(&import.entries);
    let back = import_litellm_catalog(&export.json);
    assert_eq!(back.rejected(), 0);
    assert_eq!(back.entries.len(), import.entries.len());
    let mut expected = import.entries.clone();
    expected.sort_by(|a, b| a.model.cmp(&b.model));
    let mut got = back.entries;
    got.sort_by(|a, b| a.model.cmp(&b.model));
    assert!(got == expected, "full file does not round-trip");
}
