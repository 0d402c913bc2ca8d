//! Golden cases for the billing shapes: one real model per shape, priced with the figures in
//! `../shared/PROVIDERS.md` (read 2026-12), each expected total worked out by hand in the
//! comment above it. Shapes are written as the JSON a price catalog would hold, so the tests
//! also pin the field names. One helper, [`check`], compares exactly (to Money's 10⁻¹⁸ grid,
//! not to the cent).

use duanju_studio::domain::cost::billing::{
    bill, cost, BillingError, BillingShape, DurationNote, ImageRequest, ImageTokens, LlmCall,
    MissingRate, RateKind, SpeechRequest, Usage, VideoRequest,
};
use duanju_studio::domain::cost::money::{Currency, Money};
use duanju_studio::domain::i18n::Lang;

/// Reads a shape from its catalog JSON.
fn shape(json: &str) -> BillingShape {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// Asserts that `usage` under `shape` costs exactly `micros` millionths of `currency`.
fn check(shape: &BillingShape, usage: Usage, currency: Currency, micros: i128) {
    let got = cost(shape, &usage).unwrap_or_else(|e| panic!("{}: {usage:?}", e.message(Lang::En)));
    assert_eq!(
        got,
        Money::from_micros(currency, micros),
        "{usage:?}: got {got}"
    );
}

fn usd(shape: &BillingShape, usage: Usage, micros: i128) {
    check(shape, usage, Currency::Usd, micros);
}

fn llm(call: LlmCall) -> Usage {
    Usage::Llm(call)
}

fn video(resolution: &str, seconds: u32) -> VideoRequest {
    VideoRequest::new(resolution, seconds)
}

/// Claude Sonnet 4.5 on the Anthropic Messages API: input $3/M, cache write $3.75/M (1.25×,
/// 5-minute TTL), cache read $0.30/M (0.1×), output $15/M; batch $1.50/M in, $7.50/M out;
/// prompts above 200k tokens (1M-context beta) $6/M in, $22.50/M out, write $7.50/M, read
/// $0.60/M.
fn sonnet_4_5() -> BillingShape {
    shape(
        r#"{"shape": "per_token", "currency": "USD",
            "input_per_mtok": 3, "output_per_mtok": 15, "cached_read_per_mtok": 0.3,
            "cache_write": {"billed_as": "stated", "per_mtok": 3.75},
            "batch": {"input_per_mtok": 1.5, "output_per_mtok": 7.5},
            "tiers": [{"above_prompt_tokens": 200000,
                       "input_per_mtok": 6, "output_per_mtok": 22.5, "cached_read_per_mtok": 0.6,
                       "cache_write": {"billed_as": "stated", "per_mtok": 7.5}}]}"#,
    )
}

#[test]
fn per_token_cache_write_and_cached_read_as_on_anthropic_messages() {
    let sonnet = sonnet_4_5();
    // First call writes the character bible to the cache:
    // 100 in × $3/M = $0.0003; 10,000 written × $3.75/M = $0.0375; 500 out × $15/M = $0.0075;
    // total $0.0453.
    usd(
        &sonnet,
        llm(LlmCall {
            input: 100,
            cache_write: 10_000,
            output: 500,
            ..LlmCall::default()
        }),
        45_300,
    );
    // Next call reads it back:
    // 100 in × $3/M = $0.0003; 10,000 read × $0.30/M = $0.003; 500 out × $15/M = $0.0075;
    // total $0.0108.
    usd(
        &sonnet,
        llm(LlmCall {
            input: 100,
            cached_read: 10_000,
            output: 500,
            ..LlmCall::default()
        }),
        10_800,
    );
    // Extended thinking is billed as output (no reasoning price is stated):
    // (500 out + 1,500 reasoning) × $15/M = $0.03.
    usd(
        &sonnet,
        llm(LlmCall {
            output: 500,
            reasoning: 1_500,
            ..LlmCall::default()
        }),
        30_000,
    );
}

#[test]
fn per_token_tier_prices_the_whole_request_once_the_prompt_passes_the_threshold() {
    let sonnet = sonnet_4_5();
    // Just below (200,000 is not above 200k): 200,000 × $3/M = $0.60; 1,000 × $15/M = $0.015;
    // total $0.615.
    usd(
        &sonnet,
        llm(LlmCall {
            input: 200_000,
            output: 1_000,
            ..LlmCall::default()
        }),
        615_000,
    );
    // Just above: every token at the tier price, not only the one above the threshold:
    // 200,001 × $6/M = $1.200006; 1,000 × $22.50/M = $0.0225; total $1.222506.
    // (Pricing only the one token above 200k at $6/M gives $0.600006 for the input instead of
    // $1.200006: the bug users report in other tools.)
    usd(
        &sonnet,
        llm(LlmCall {
            input: 200_001,
            output: 1_000,
            ..LlmCall::default()
        }),
        1_222_506,
    );
    // Cached tokens count towards the prompt: 150,000 + 60,000 read = 210,000 > 200k.
    // 150,000 × $6/M = $0.90; 60,000 × $0.60/M = $0.036; 2,000 × $22.50/M = $0.045;
    // total $0.981.
    usd(
        &sonnet,
        llm(LlmCall {
            input: 150_000,
            cached_read: 60_000,
            output: 2_000,
            ..LlmCall::default()
        }),
        981_000,
    );
}

#[test]
fn per_token_batch_uses_the_stated_batch_prices() {
    let sonnet = sonnet_4_5();
    // 150,000 in × $1.50/M = $0.225; 100,000 out × $7.50/M = $0.75; total $0.975 (half of
    // the $0.45 + $1.50 = $1.95 the same call costs outside the batch).
    let call = LlmCall {
        input: 150_000,
        output: 100_000,
        batch: true,
        ..LlmCall::default()
    };
    usd(&sonnet, llm(call), 975_000);
    usd(
        &sonnet,
        llm(LlmCall {
            batch: false,
            ..call
        }),
        1_950_000,
    );
    // A long prompt in a batch: the tier states no batch price, so it is an error, not a
    // guessed half of the tier price.
    let long = LlmCall {
        input: 300_000,
        ..call
    };
    let error = cost(&sonnet, &llm(long)).unwrap_err();
    assert_eq!(
        error.message(Lang::En),
        "no batch price is given for prompts above 200000 tokens"
    );
}

#[test]
fn per_second_by_resolution_tier_and_audio() {
    // Sora 2 $0.10/s 720p; Sora 2 Pro $0.30/s 720p, $0.50/s 1024×1792; lengths 4/8/12 s.
    let sora_2 = shape(
        r#"{"shape": "per_second", "currency": "USD",
            "rates": [{"resolution": "720p", "per_second": 0.1}],
            "durations": {"kind": "lengths", "seconds": [4, 8, 12]}}"#,
    );
    let sora_2_pro = shape(
        r#"{"shape": "per_second", "currency": "USD",
            "rates": [{"resolution": "720p", "per_second": 0.3},
                      {"resolution": "1024x1792", "per_second": 0.5}],
            "durations": {"kind": "lengths", "seconds": [4, 8, 12]}}"#,
    );
    // Sora 2 Pro 1024×1792, 8 s at $0.50/s = $4.00.
    usd(&sora_2_pro, Usage::Video(video("1024x1792", 8)), 4_000_000);
    // Sora 2 Pro 720p, 12 s at $0.30/s = $3.60.
    usd(&sora_2_pro, Usage::Video(video("720p", 12)), 3_600_000);
    // Sora 2 720p, 4 s at $0.10/s = $0.40.
    usd(&sora_2, Usage::Video(video("720p", 4)), 400_000);
    // A 6 s shot on Sora 2 Pro 1024×1792 is made as 8 s: 8 s × $0.50/s = $4.00, and the bill
    // says so.
    let six = bill(&sora_2_pro, &Usage::Video(video("1024x1792", 6))).unwrap();
    assert_eq!(six.cost, Money::from_micros(Currency::Usd, 4_000_000));
    let fit = six.duration.unwrap();
    assert_eq!(
        fit.note,
        Some(DurationNote::RoundedUp {
            requested: 6,
            chosen: 8
        })
    );
    assert_eq!(
        fit.note.unwrap().message(Lang::ZhCn),
        "模型不支持 6 秒，按 8 秒生成并计费"
    );
    // Sora 2 has no 1080p price: an error naming it, never $0.
    let error = cost(&sora_2, &Usage::Video(video("1080p", 8))).unwrap_err();
    assert_eq!(
        error,
        BillingError::MissingRate(MissingRate {
            rate: RateKind::VideoPerSecond,
            resolution: Some("1080p".into()),
            tier: None,
            quality: None,
            audio: None,
            video_input: None,
            above_prompt_tokens: None,
        })
    );
    assert_eq!(
        error.message(Lang::En),
        "no per-second video price is given for 1080p"
    );

    // Veo 3.1: standard $0.40/s; Fast $0.10/s 720p, $0.12/s 1080p; Lite $0.05/s; 4/6/8 s.
    let veo_3_1 = shape(
        r#"{"shape": "per_second", "currency": "USD",
            "rates": [{"resolution": "1080p", "tier": "standard", "per_second": 0.4},
                      {"resolution": "720p", "tier": "fast", "per_second": 0.1},
                      {"resolution": "1080p", "tier": "fast", "per_second": 0.12},
                      {"resolution": "720p", "tier": "lite", "per_second": 0.05}],
            "durations": {"kind": "lengths", "seconds": [4, 6, 8]}}"#,
    );
    let tier = |resolution: &str, tier: &str, seconds: u32| {
        Usage::Video(VideoRequest {
            tier: Some(tier.into()),
            ..video(resolution, seconds)
        })
    };
    // Veo 3.1 Fast 1080p, 8 s at $0.12/s = $0.96.
    usd(&veo_3_1, tier("1080p", "fast", 8), 960_000);
    // Veo 3.1 standard 1080p, 8 s at $0.40/s = $3.20.
    usd(&veo_3_1, tier("1080p", "standard", 8), 3_200_000);
    // Veo 3.1 Fast 720p, a 5 s shot made as 6 s: 6 × $0.10 = $0.60.
    usd(&veo_3_1, tier("720p", "fast", 5), 600_000);
    // Veo 3.1 Lite 720p, 4 s at $0.05/s = $0.20.
    usd(&veo_3_1, tier("720p", "lite", 4), 200_000);

    // Kling v3: ≈$0.084/s 720p, ≈$0.168/s 1080p with audio; 5/10 s.
    let kling_v3 = shape(
        r#"{"shape": "per_second", "currency": "USD",
            "rates": [{"resolution": "720p", "per_second": 0.084},
                      {"resolution": "1080p", "audio": true, "per_second": 0.168}],
            "durations": {"kind": "lengths", "seconds": [5, 10]}}"#,
    );
    // Kling v3 1080p with audio, 10 s at $0.168/s = $1.68.
    let with_audio = VideoRequest {
        audio: true,
        ..video("1080p", 10)
    };
    usd(&kling_v3, Usage::Video(with_audio), 1_680_000);
    // Kling v3 720p, 5 s at $0.084/s = $0.42.
    usd(&kling_v3, Usage::Video(video("720p", 5)), 420_000);
    // 1080p without audio has no stated price.
    let error = cost(&kling_v3, &Usage::Video(video("1080p", 10))).unwrap_err();
    assert_eq!(
        error.message(Lang::En),
        "no per-second video price is given for 1080p, audio off"
    );
}

#[test]
fn per_clip_by_length_and_resolution() {
    // Hailuo-02: $0.28 (6 s, 768P), $0.56 (10 s, 768P), $0.49 (6 s, 1080P).
    let hailuo_02 = shape(
        r#"{"shape": "per_clip", "currency": "USD",
            "clips": [{"resolution": "768P", "seconds": 6, "per_clip": 0.28},
                      {"resolution": "768P", "seconds": 10, "per_clip": 0.56},
                      {"resolution": "1080P", "seconds": 6, "per_clip": 0.49}]}"#,
    );
    // 6 s at 768P is one 6 s clip: $0.28.
    usd(&hailuo_02, Usage::Video(video("768P", 6)), 280_000);
    // An 8 s shot at 768P needs the 10 s clip: $0.56.
    let eight = bill(&hailuo_02, &Usage::Video(video("768p", 8))).unwrap();
    assert_eq!(eight.cost, Money::from_micros(Currency::Usd, 560_000));
    assert_eq!(eight.duration.unwrap().chosen, 10);
    // A 10 s shot at 1080P: only 6 s clips exist there, so a 6 s clip, $0.49, and a note.
    let ten = bill(&hailuo_02, &Usage::Video(video("1080P", 10))).unwrap();
    assert_eq!(ten.cost, Money::from_micros(Currency::Usd, 490_000));
    let note = ten.duration.unwrap().note.unwrap();
    assert_eq!(
        note,
        DurationNote::CutToLongest {
            requested: 10,
            chosen: 6
        }
    );
    assert_eq!(
        note.message(Lang::En),
        "the model makes at most 6 s: the 10 s shot gets a 6 s clip"
    );
    // 720p is not in the table.
    let error = cost(&hailuo_02, &Usage::Video(video("720p", 6))).unwrap_err();
    assert_eq!(error.message(Lang::ZhCn), "缺少每段视频价格（720p）");

    // Kling v2.5-turbo pro: ≈$0.35 per 5 s clip.
    let kling_turbo = shape(
        r#"{"shape": "per_clip", "currency": "USD",
            "clips": [{"resolution": "1080p", "tier": "pro", "seconds": 5, "per_clip": 0.35}]}"#,
    );
    let pro = VideoRequest {
        tier: Some("pro".into()),
        ..video("1080p", 5)
    };
    usd(&kling_turbo, Usage::Video(pro), 350_000);
}

#[test]
fn base_plus_per_second() {
    // Vidu Q2 prices its first second apart. PROVIDERS.md names the shape but gives no
    // figures, so these are illustrative: $0.10 for the first second, then $0.05/s.
    // A 5 s clip: $0.10 + 4 s × $0.05 = $0.30.
    let vidu_q2 = shape(
        r#"{"shape": "base_plus_per_second", "currency": "USD",
            "rates": [{"resolution": "720p", "base": 0.1, "included_seconds": 1,
                       "per_second": 0.05}],
            "durations": {"kind": "range", "min": 1, "max": 8}}"#,
    );
    usd(&vidu_q2, Usage::Video(video("720p", 5)), 300_000);
    // A 1 s clip is the base fee alone: $0.10.
    usd(&vidu_q2, Usage::Video(video("720p", 1)), 100_000);
    // A 12 s shot is cut to the 8 s maximum: $0.10 + 7 × $0.05 = $0.45.
    usd(&vidu_q2, Usage::Video(video("720p", 12)), 450_000);
}

#[test]
fn per_video_token_by_the_seedance_formula() {
    let seedance = |resolution: &str, width: u32, height: u32, seconds: u32, input: u32| {
        Usage::Video(VideoRequest {
            width,
            height,
            fps: 24,
            input_video_seconds: input,
            ..video(resolution, seconds)
        })
    };
    // Seedance 2.0 (BytePlus) ≤720p ≈$10.0/M tokens. A 5 s 1280×720 clip at 24 fps:
    // tokens = 5 × 1280 × 720 × 24 ÷ 1024 = 108,000; × $10/M = $1.08.
    let byteplus = shape(
        r#"{"shape": "per_video_token", "currency": "USD",
            "rates": [{"resolution": "720p", "per_mtok": 10}],
            "durations": {"kind": "range", "min": 4, "max": 15}}"#,
    );
    usd(&byteplus, seedance("720p", 1280, 720, 5, 0), 1_080_000);

    // Volcengine ¥51/M at 1080P, ¥31/M with video input.
    let volcengine = shape(
        r#"{"shape": "per_video_token", "currency": "CNY",
            "rates": [{"resolution": "1080P", "video_input": false, "per_mtok": 51},
                      {"resolution": "1080P", "video_input": true, "per_mtok": 31}],
            "durations": {"kind": "range", "min": 4, "max": 15}}"#,
    );
    let cny = |usage: Usage, micros: i128| check(&volcengine, usage, Currency::Cny, micros);
    // 5 s 1920×1080 at 24 fps: 5 × 1920 × 1080 × 24 ÷ 1024 = 243,000 tokens × ¥51/M = ¥12.393.
    cny(seedance("1080P", 1920, 1080, 5, 0), 12_393_000);
    // With 3 s of input video: (3 + 5) × 1920 × 1080 × 24 ÷ 1024 = 388,800 tokens × ¥31/M
    // = ¥12.0528.
    cny(seedance("1080P", 1920, 1080, 5, 3), 12_052_800);
    // A 20 s shot is cut to 15 s: 15 × 1920 × 1080 × 24 ÷ 1024 = 729,000 tokens × ¥51/M
    // = ¥37.179.
    let long = bill(&volcengine, &seedance("1080p", 1920, 1080, 20, 0)).unwrap();
    assert_eq!(long.cost, Money::from_micros(Currency::Cny, 37_179_000));
    assert_eq!(long.duration.unwrap().chosen, 15);
}

#[test]
fn per_image_by_size_and_quality() {
    // dall-e-3: $0.04 at 1024², $0.08 at 1024×1792 (standard quality).
    let dall_e_3 = shape(
        r#"{"shape": "per_image", "currency": "USD",
            "rates": [{"size": "1024x1024", "quality": "standard", "per_image": 0.04},
                      {"size": "1024x1792", "quality": "standard", "per_image": 0.08}]}"#,
    );
    let images = |size: &str, quality: &str, count: u32| {
        Usage::Image(ImageRequest {
            size: size.into(),
            quality: Some(quality.into()),
            count,
            image_tokens: None,
        })
    };
    // 3 square images × $0.04 = $0.12.
    usd(&dall_e_3, images("1024x1024", "standard", 3), 120_000);
    // 1 portrait image × $0.08 = $0.08.
    usd(&dall_e_3, images("1024x1792", "standard", 1), 80_000);
    // HD has no price here: an error, not the standard price.
    let error = cost(&dall_e_3, &images("1024x1792", "hd", 1)).unwrap_err();
    assert_eq!(
        error.message(Lang::En),
        "no per-image price is given for 1024x1792, quality hd"
    );
}

#[test]
fn per_image_token() {
    // gpt-image-1: text in $5/M, image in $10/M, image out $40/M.
    let gpt_image_1 = shape(
        r#"{"shape": "per_image_token", "currency": "USD", "text_input_per_mtok": 5,
            "image_input_per_mtok": 10, "image_output_per_mtok": 40}"#,
    );
    let tokens = |text_input: u64, image_input: u64, image_output: u64| {
        Usage::Image(ImageRequest {
            size: "1024x1536".into(),
            quality: Some("high".into()),
            count: 1,
            image_tokens: Some(ImageTokens {
                text_input,
                image_input,
                image_output,
            }),
        })
    };
    // A high-quality portrait (6,240 output tokens, OpenAI's table) from a 50-token prompt:
    // 50 × $5/M = $0.00025; 6,240 × $40/M = $0.2496; total $0.24985 (PROVIDERS.md: ≈$0.25).
    usd(&gpt_image_1, tokens(50, 0, 6_240), 249_850);
    // With a 1,000-token reference image: + 1,000 × $10/M = $0.01; total $0.25985.
    usd(&gpt_image_1, tokens(50, 1_000, 6_240), 259_850);
    // Low quality (400 output tokens): 400 × $40/M = $0.016 (PROVIDERS.md: ≈$0.016).
    usd(&gpt_image_1, tokens(0, 0, 400), 16_000);
}

#[test]
fn speech_per_character_and_per_second() {
    let chars = |characters: u64| {
        Usage::Speech(SpeechRequest {
            characters,
            milliseconds: None,
        })
    };
    // tts-1 $15 per 1M characters: 2,000 characters × $15/M = $0.03.
    let tts_1 = shape(r#"{"shape": "speech", "currency": "USD", "per_million_characters": 15}"#);
    usd(&tts_1, chars(2_000), 30_000);
    // tts-1-hd $30/M: 2,000 characters = $0.06.
    let tts_1_hd = shape(r#"{"shape": "speech", "currency": "USD", "per_million_characters": 30}"#);
    usd(&tts_1_hd, chars(2_000), 60_000);
    // gpt-4o-mini-tts ≈$0.015 per minute = $0.00025/s: 90.5 s × $0.00025 = $0.022625.
    let mini_tts = shape(r#"{"shape": "speech", "currency": "USD", "per_second": 0.00025}"#);
    let spoken = Usage::Speech(SpeechRequest {
        characters: 1_200,
        milliseconds: Some(90_500),
    });
    usd(&mini_tts, spoken, 22_625);
    // A Chinese TTS priced per 10,000 characters in ¥ (illustrative ¥2 per 10k = ¥200/M):
    // a 350-character line × ¥200/M = ¥0.07.
    let chinese = shape(r#"{"shape": "speech", "currency": "CNY", "per_million_characters": 200}"#);
    check(&chinese, chars(350), Currency::Cny, 70_000);
}

#[test]
fn credits_at_a_credit_price() {
    // Runway gen4_turbo: 5 credits/s at $0.01 per credit.
    let runway = shape(
        r#"{"shape": "credits", "currency": "USD", "credit_price": 0.01, "per": "second",
            "credits": [{"credits": 5}]}"#,
    );
    // 10 s × 5 credits/s = 50 credits × $0.01 = $0.50.
    usd(&runway, Usage::Video(video("720p", 10)), 500_000);
    // 5 s = 25 credits = $0.25.
    usd(&runway, Usage::Video(video("720p", 5)), 250_000);
    // Credits per second do not price a language-model call.
    assert!(matches!(
        cost(&runway, &llm(LlmCall::default())),
        Err(BillingError::WrongUsage { .. })
    ));
}
