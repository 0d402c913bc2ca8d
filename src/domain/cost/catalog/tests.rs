//! The shipped catalog: it parses, every entry is sourced and dated, every priced shape bills,
//! and several bills match PROVIDERS.md (read 2026-12) by hand.

use super::*;
use crate::domain::cost::billing::{
    bill, cost, BillingError, ImageRequest, ImageTokens, LlmCall, MediaKind, SpeechRequest, Usage,
    VideoRequest,
};
use crate::domain::cost::money::{Currency, Micros};

fn entry<'a>(catalog: &'a [CatalogEntry], model: &str) -> &'a CatalogEntry {
    find(catalog, model).unwrap_or_else(|| panic!("no {model} in the catalog"))
}

fn video(resolution: &str, seconds: u32) -> Usage {
    Usage::Video(VideoRequest::new(resolution, seconds))
}

/// A request each shape can bill, at the entry's first stated resolution or size.
fn representative(entry: &CatalogEntry) -> Usage {
    let first = match &entry.billing {
        BillingShape::PerClip(r) => r.clips.first().map(|row| row.resolution.clone()),
        BillingShape::BasePlusPerSecond(r) => r.rates.first().map(|row| row.resolution.clone()),
        BillingShape::PerVideoToken(r) => r.rates.first().map(|row| row.resolution.clone()),
        BillingShape::Credits(r) => r.credits.iter().find_map(|row| row.resolution.clone()),
        _ => None,
    }
    .unwrap_or_else(|| "720p".into());
    match &entry.billing {
        BillingShape::PerToken(_) => Usage::Llm(LlmCall {
            input: 10_000,
            cached_read: 2_000,
            cache_write: 0,
            output: 1_000,
            reasoning: 0,
            batch: false,
        }),
        BillingShape::PerVideoToken(_) => Usage::Video(VideoRequest {
            width: 1280,
            height: 720,
            fps: 24,
            ..VideoRequest::new(&first, 5)
        }),
        BillingShape::PerSecond(rates) => {
            let row = &rates.rates[0];
            Usage::Video(VideoRequest {
                tier: row.tier.clone(),
                audio: row.audio.unwrap_or(false),
                ..VideoRequest::new(&row.resolution, 5)
            })
        }
        BillingShape::PerClip(_)
        | BillingShape::BasePlusPerSecond(_)
        | BillingShape::Credits(_) => video(&first, 5),
        BillingShape::PerImage(rates) => Usage::Image(ImageRequest {
            size: rates
                .rates
                .first()
                .map_or("1024x1024".into(), |r| r.size.clone()),
            quality: rates.rates.first().and_then(|r| r.quality.clone()),
            count: 1,
            image_tokens: None,
        }),
        BillingShape::PerImageToken(_) => Usage::Image(ImageRequest {
            size: "1024x1536".into(),
            quality: Some("medium".into()),
            count: 1,
            image_tokens: Some(ImageTokens {
                text_input: 100,
                image_input: 0,
                image_output: 1_584,
            }),
        }),
        BillingShape::Speech(_) => Usage::Speech(SpeechRequest {
            characters: 1_000,
            milliseconds: Some(60_000),
        }),
    }
}

#[test]
fn the_json_parses_and_every_entry_is_sourced_and_dated() {
    let catalog = shipped();
    assert!(catalog.len() >= 25, "{}", catalog.len());
    for entry in &catalog {
        assert!(!entry.model.trim().is_empty());
        assert!(!entry.provider.trim().is_empty(), "{}", entry.model);
        assert!(
            !entry.source.trim().is_empty(),
            "{} has no source",
            entry.model
        );
        let date = entry.read_on.as_str();
        assert!(
            date.len() >= 7 && date.as_bytes()[4] == b'-' && date[..4].parse::<u32>().is_ok(),
            "{}: read_on {date:?}",
            entry.model
        );
    }
    // Round trip: what the catalog writes, it reads back.
    let json = serde_json::to_string(&catalog).unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<CatalogEntry>>(&json).unwrap(),
        catalog
    );
}

#[test]
fn the_issue_s_models_all_ship() {
    let catalog = shipped();
    for model in [
        // The LLMs the presets' routes use (seed defaults, official rollback, probes).
        "deepseek-v3.2",
        "claude-sonnet-4.5",
        "claude-sonnet-4-5",
        "gemini-2.5-flash",
        "gpt-4.1",
        "deepseek-chat",
        "anthropic/claude-sonnet-4.5",
        // Video.
        "sora-2",
        "sora-2-pro",
        "veo-3.1",
        "veo-3.1-fast",
        "veo-3.1-lite",
        "kling-v3",
        "MiniMax-Hailuo-02",
        "vidu-q2",
        "seedance-2.0",
        "gen4_turbo",
        // Images and speech.
        "gpt-image-1",
        "dall-e-3",
        "seedream",
        "tts-1",
        "tts-1-hd",
        "gpt-4o-mini-tts",
        "speech-02-hd",
        // The seeds' video prices.
        "video-gen-2.1",
        "video-official-openai",
        "video-official-anthropic",
        "video-previous-providers",
    ] {
        assert!(find(&catalog, model).is_some(), "{model}");
    }
    assert_eq!(
        entry(&catalog, "claude-sonnet-4-5").model,
        "claude-sonnet-4.5"
    );
    assert_eq!(
        find_on(&catalog, "seedance-2.0", "volcengine")
            .unwrap()
            .billing
            .currency(),
        Currency::Cny
    );
    assert_eq!(
        find_on(&catalog, "seedance-2.0", "byteplus")
            .unwrap()
            .billing
            .currency(),
        Currency::Usd
    );
    assert!(find(&catalog, "no-such-model").is_none());
    // Kinds.
    assert_eq!(
        entry(&catalog, "gen4_turbo").billing.media(),
        MediaKind::Video
    );
    assert_eq!(
        entry(&catalog, "dall-e-3").billing.media(),
        MediaKind::Image
    );
    assert_eq!(entry(&catalog, "tts-1").billing.media(), MediaKind::Speech);
}

#[test]
fn every_priced_shape_bills_and_unpriced_ones_say_what_is_missing() {
    let catalog = shipped();
    let mut unpriced = Vec::new();
    for entry in &catalog {
        let usage = representative(entry);
        let result = bill(&entry.billing, &usage);
        if entry.is_priced() {
            let bill =
                result.unwrap_or_else(|e| panic!("{}: {}", entry.model, e.message(Lang::En)));
            assert!(!bill.cost.is_zero(), "{}", entry.model);
        } else {
            assert!(
                matches!(result, Err(BillingError::MissingRate(_))),
                "{}: {result:?}",
                entry.model
            );
            unpriced.push(entry.model.as_str());
        }
    }
    // No figure is stated for these in PROVIDERS.md: none is invented.
    assert_eq!(unpriced, ["vidu-q2", "seedream", "speech-02-hd"]);
}

#[test]
fn bills_match_the_figures_by_hand() {
    let catalog = shipped();
    let money = |model: &str, usage: Usage| cost(&entry(&catalog, model).billing, &usage).unwrap();

    // Sora 2 Pro, a 6 s shot at 1024x1792: made as 8 s (4/8/12 s) × $0.50/s = $4.00.
    let sora = bill(
        &entry(&catalog, "sora-2-pro").billing,
        &video("1024x1792", 6),
    )
    .unwrap();
    assert_eq!(sora.cost.micros(), 4_000_000);
    assert_eq!(sora.duration.unwrap().chosen, 8);
    // Sora 2, 4 s at 720p: 4 × $0.10 = $0.40.
    assert_eq!(money("sora-2", video("720x1280", 4)).micros(), 400_000);

    // Hailuo-02, 6 s at 768P: one clip, $0.28; 10 s: $0.56; 6 s at 1080P: $0.49.
    assert_eq!(
        money("MiniMax-Hailuo-02", video("768P", 6)).micros(),
        280_000
    );
    assert_eq!(
        money("MiniMax-Hailuo-02", video("768p", 10)).micros(),
        560_000
    );
    assert_eq!(money("hailuo-02", video("1080P", 6)).micros(), 490_000);

    // Veo 3.1 Fast, 8 s at 1080p: 8 × $0.12 = $0.96. Veo 3.1 standard 8 s: 8 × $0.40 = $3.20.
    assert_eq!(money("veo-3.1-fast", video("1080p", 8)).micros(), 960_000);
    assert_eq!(money("veo-3.1", video("720p", 8)).micros(), 3_200_000);
    // Veo 3.1 Lite, a 5 s shot made as 6 s: 6 × $0.05 = $0.30.
    assert_eq!(money("veo-3.1-lite", video("720p", 5)).micros(), 300_000);

    // Kling v3 10 s at 1080p with audio: 10 × $0.168 = $1.68; silent 1080p is not stated.
    let with_audio = VideoRequest {
        audio: true,
        ..VideoRequest::new("1080p", 10)
    };
    assert_eq!(
        money("kling-v3", Usage::Video(with_audio)).micros(),
        1_680_000
    );
    assert!(cost(&entry(&catalog, "kling-v3").billing, &video("1080p", 10)).is_err());

    // Runway gen4_turbo 10 s: 10 × 5 credits = 50 credits × $0.01 = $0.50.
    assert_eq!(money("gen4_turbo", video("720p", 10)).micros(), 500_000);

    // Seedance 2.0 (BytePlus) 5 s at 1280x720, 24 fps: 5 × 1280 × 720 × 24 ÷ 1024 = 108,000
    // video tokens × $10.0/M = $1.08. PROVIDERS.md's "5 s 720p clip $1.156" is about 7 % more
    // (it implies ≈$10.70/M): its two figures disagree, and the catalog ships the per-token one.
    let seedance = |provider: &str, resolution: &str, width, height, input_video_seconds| {
        let entry = find_on(&catalog, "seedance-2.0", provider).unwrap();
        let request = VideoRequest {
            width,
            height,
            fps: 24,
            input_video_seconds,
            ..VideoRequest::new(resolution, 5)
        };
        cost(&entry.billing, &Usage::Video(request)).unwrap()
    };
    let byteplus = seedance("byteplus", "720p", 1280, 720, 0);
    assert_eq!(byteplus.micros(), 1_080_000);
    assert_eq!(byteplus.display(), "$1.08");
    // Volcengine 5 s at 1920x1080, 24 fps: 243,000 tokens × ¥51/M = ¥12.393; with 5 s of input
    // video: 486,000 tokens × ¥31/M = ¥15.066.
    assert_eq!(
        seedance("volcengine", "1080P", 1920, 1080, 0).micros(),
        12_393_000
    );
    assert_eq!(
        seedance("volcengine", "1080P", 1920, 1080, 5).micros(),
        15_066_000
    );

    // gpt-image-1, one medium portrait (1024x1536): 1,584 image-output tokens × $40/M =
    // $0.06336 (PROVIDERS.md: about $0.063), plus 100 prompt tokens × $5/M = $0.0005.
    let portrait = Usage::Image(ImageRequest {
        size: "1024x1536".into(),
        quality: Some("medium".into()),
        count: 1,
        image_tokens: Some(ImageTokens {
            text_input: 100,
            image_input: 0,
            image_output: 1_584,
        }),
    });
    assert_eq!(money("gpt-image-1", portrait).micros(), 63_860);
    // dall-e-3 1024x1792 standard: $0.08.
    let tall = Usage::Image(ImageRequest {
        size: "1024x1792".into(),
        quality: Some("standard".into()),
        count: 2,
        image_tokens: None,
    });
    assert_eq!(money("dall-e-3", tall).micros(), 160_000);

    // tts-1, 1,000 characters × $15/M = $0.015; tts-1-hd $0.03.
    let line = || {
        Usage::Speech(SpeechRequest {
            characters: 1_000,
            milliseconds: None,
        })
    };
    assert_eq!(money("tts-1", line()).micros(), 15_000);
    assert_eq!(money("tts-1-hd", line()).micros(), 30_000);
    // gpt-4o-mini-tts, one minute of audio: 60 s × $0.00025 = $0.015 (PROVIDERS.md's ≈ figure).
    let minute = Usage::Speech(SpeechRequest {
        characters: 1_000,
        milliseconds: Some(60_000),
    });
    assert_eq!(money("gpt-4o-mini-tts", minute).micros(), 15_000);

    // The seeds: video-gen-2.1 5 s × $0.05 = $0.25; the seed's official OpenAI clip $0.35.
    assert_eq!(money("video-gen-2.1", video("1080p", 5)).micros(), 250_000);
    assert_eq!(
        money("video-official-openai", video("1080p", 5)).micros(),
        350_000
    );
    assert_eq!(
        money("video-official-anthropic", video("1080p", 5)).micros(),
        420_000
    );
}

#[test]
fn llm_prices_bill_cache_batch_and_the_long_prompt_tier() {
    let catalog = shipped();
    let sonnet = &entry(&catalog, "claude-sonnet-4.5").billing;
    let call = |call: LlmCall| cost(sonnet, &Usage::Llm(call)).unwrap().micros();
    // 10,000 cache-written tokens × $3.75/M + 100,000 cache reads × $0.30/M + 1,000 output ×
    // $15/M = $0.0375 + $0.03 + $0.015 = $0.0825.
    assert_eq!(
        call(LlmCall {
            cache_write: 10_000,
            cached_read: 100_000,
            output: 1_000,
            ..LlmCall::default()
        }),
        82_500
    );
    // Just below the tier: 200,000 input × $3/M = $0.60; just above, the whole request is at
    // $6/M: 200,001 × $6/M = $1.200006.
    let input = |input| LlmCall {
        input,
        ..LlmCall::default()
    };
    assert_eq!(call(input(200_000)), 600_000);
    assert_eq!(call(input(200_001)), 1_200_006);
    // Batch: 100,000 input × $1.50/M + 100,000 output × $7.50/M = $0.15 + $0.75 = $0.90.
    let batch = |input| LlmCall {
        input,
        output: 100_000,
        batch: true,
        ..LlmCall::default()
    };
    assert_eq!(call(batch(100_000)), 900_000);
    // No batch price is stated above 200K tokens: an error naming the tier, not a guess.
    assert_eq!(
        cost(sonnet, &Usage::Llm(batch(300_000)))
            .unwrap_err()
            .message(Lang::En),
        "no batch price is given for prompts above 200000 tokens"
    );
    // DeepSeek: 1M cache hits × $0.028 + 1M misses × $0.28 + 1M output × $0.42 = $0.728.
    let deepseek = &entry(&catalog, "deepseek-chat").billing;
    let mixed = LlmCall {
        input: 1_000_000,
        cached_read: 1_000_000,
        output: 1_000_000,
        ..LlmCall::default()
    };
    assert_eq!(
        cost(deepseek, &Usage::Llm(mixed)).unwrap().micros(),
        728_000
    );
    // No batch price is stated for DeepSeek: a batch call is an error, not an invented half.
    let batch = LlmCall {
        batch: true,
        ..mixed
    };
    assert!(cost(deepseek, &Usage::Llm(batch)).is_err());
}

#[test]
fn retirement_compares_dates_on_their_common_prefix() {
    let catalog = shipped();
    let sora = entry(&catalog, "sora-2");
    assert_eq!(
        sora.retired,
        Some(Retirement {
            on: "2026-09".into(),
            note: "OpenAI announced the end of the Sora 2 API".into()
        })
    );
    assert!(entry(&catalog, "sora-2-pro").retired.is_some());
    assert!(sora.is_retired("2026-12"));
    assert!(sora.is_retired("2026-09"));
    assert!(sora.is_retired("2026-09-01"));
    assert!(!sora.is_retired("2026-08-31"));
    assert!(!sora.is_retired("2026-08"));
    assert!(!sora.is_retired(""));
    assert!(!entry(&catalog, "veo-3.1").is_retired("2030-01"));
    let retired: Vec<&str> = catalog
        .iter()
        .filter(|e| e.retired.is_some())
        .map(|e| e.model.as_str())
        .collect();
    assert_eq!(retired, ["sora-2", "sora-2-pro"]);
}

#[test]
fn warnings_read_in_both_languages() {
    let catalog = shipped();
    let sora = entry(&catalog, "sora-2");
    assert_eq!(
        sora.warning("2026-12", Lang::En).unwrap(),
        "sora-2: OpenAI ended this API in 2026-09; a plan that uses it cannot be produced"
    );
    assert_eq!(
        sora.warning("2026-12", Lang::ZhCn).unwrap(),
        "sora-2：OpenAI 已于 2026-09 停止该 API，使用它的方案无法生成"
    );
    assert_eq!(
        sora.warning("2026-06", Lang::En).unwrap(),
        "sora-2: OpenAI ends this API in 2026-09; after that a plan that uses it cannot be produced"
    );
    assert!(sora
        .warning("2026-06", Lang::ZhCn)
        .unwrap()
        .contains("将于 2026-09"));

    let anthropic = entry(&catalog, "video-official-anthropic");
    assert!(anthropic.seed_only && anthropic.is_seed_price());
    assert!(anthropic.source.contains("Anthropic has no video API"));
    assert_eq!(
        anthropic.warning("2026-12", Lang::En).unwrap(),
        "video-official-anthropic: this is the seed article's own figure; Anthropic has no video API, so no one sells this price"
    );
    assert_eq!(
        anthropic.warning("2026-12", Lang::ZhCn).unwrap(),
        "video-official-anthropic：这是种子文章自己的数字，Anthropic 没有视频 API，该价格无法实际购买"
    );
    let openai = entry(&catalog, "video-official-openai");
    assert_eq!(
        openai.warning("2026-12", Lang::En).unwrap(),
        "video-official-openai: this is the seed article's own figure, not any model's list price"
    );
    assert_eq!(
        openai.warning("2026-12", Lang::ZhCn).unwrap(),
        "video-official-openai：这是种子文章自己的数字，不是任何模型的公开价格"
    );
    // The seeds' set is labelled as theirs; the relay's own model is not flagged as invented.
    let relay = entry(&catalog, "video-gen-2.1");
    assert!(relay.is_seed_price() && !relay.seed_only);
    assert_eq!(relay.warning("2026-12", Lang::En), None);
    let seed_only: Vec<&str> = catalog
        .iter()
        .filter(|e| e.seed_only)
        .map(|e| e.model.as_str())
        .collect();
    assert_eq!(
        seed_only,
        [
            "video-official-openai",
            "video-official-anthropic",
            "video-previous-providers"
        ]
    );
    assert!(!entry(&catalog, "sora-2").is_seed_price());

    // A model shipped without a price says so.
    let vidu = entry(&catalog, "vidu-q2");
    assert!(vidu
        .warning("2026-12", Lang::En)
        .unwrap()
        .contains("ships no price"));
    assert!(vidu
        .warning("2026-12", Lang::ZhCn)
        .unwrap()
        .contains("未收录其价格"));
    // A current, priced model has nothing to say.
    assert_eq!(
        entry(&catalog, "veo-3.1-fast").warning("2026-12", Lang::ZhCn),
        None
    );
}

#[test]
fn model_price_projects_what_the_flat_fields_can_hold() {
    let catalog = shipped();
    let sonnet = entry(&catalog, "claude-sonnet-4.5").model_price().unwrap();
    assert_eq!(sonnet.model, "claude-sonnet-4.5");
    assert_eq!(
        sonnet.aliases,
        ["claude-sonnet-4-5", "anthropic/claude-sonnet-4.5"]
    );
    assert_eq!(sonnet.input_per_mtok, Some(Micros::whole(3)));
    assert_eq!(sonnet.output_per_mtok, Some(Micros::whole(15)));
    assert_eq!(sonnet.cached_input_per_mtok, Some(Micros(300_000)));
    assert_eq!(sonnet.cache_write_per_mtok, Some(Micros(3_750_000)));
    assert_eq!(sonnet.max_tokens, Some(64_000));
    assert_eq!(sonnet.as_of, "2026-12");
    assert!(sonnet.problems().is_empty());
    // An automatic cache's writes are input: the flat "none" means exactly that.
    let gpt = entry(&catalog, "gpt-4.1").model_price().unwrap();
    assert_eq!(gpt.cache_write_per_mtok, None);
    assert_eq!(gpt.cached_input_per_mtok, Some(Micros(500_000)));

    // Per clip: the seed's official OpenAI clip at 1080p.
    let clip = entry(&catalog, "video-official-openai")
        .model_price()
        .unwrap();
    let video = clip.video.unwrap();
    assert_eq!(video.unit, VideoUnit::PerClip);
    assert_eq!(
        (video.p720, video.p1080, video.p4k),
        (None, Some(Micros(350_000)), None)
    );
    assert!(clip.source.starts_with("Seed 001"));
    // Per second: Veo 3.1 Fast at 720p and 1080p; Kling's audio-only 1080p row stays out.
    let veo = entry(&catalog, "veo-3.1-fast")
        .model_price()
        .unwrap()
        .video
        .unwrap();
    assert_eq!(veo.unit, VideoUnit::PerSecond);
    assert_eq!(
        (veo.p720, veo.p1080),
        (Some(Micros(100_000)), Some(Micros(120_000)))
    );
    let kling = entry(&catalog, "kling-v3")
        .model_price()
        .unwrap()
        .video
        .unwrap();
    assert_eq!((kling.p720, kling.p1080), (Some(Micros(84_000)), None));
    // Shapes the flat price cannot hold.
    // Hailuo-02: 1080P has one length (6 s), so it lands on the flat 1080p per-clip price;
    // 768P is no flat label and has two lengths.
    let hailuo = entry(&catalog, "MiniMax-Hailuo-02")
        .model_price()
        .unwrap()
        .video
        .unwrap();
    assert_eq!(hailuo.unit, VideoUnit::PerClip);
    assert_eq!((hailuo.p720, hailuo.p1080), (None, Some(Micros(490_000))));
    for model in [
        "gen4_turbo",
        "seedance-2.0",
        "gpt-image-1",
        "tts-1",
        "vidu-q2",
    ] {
        assert_eq!(entry(&catalog, model).model_price(), None, "{model}");
    }
    // Every projection is a valid flat price.
    for entry in &catalog {
        if let Some(price) = entry.model_price() {
            assert!(price.problems().is_empty(), "{}", entry.model);
        }
    }
}
