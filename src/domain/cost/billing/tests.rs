//! Unit tests: rounding, errors, duration fitting and the JSON of every shape.

use super::*;
use crate::domain::i18n::Lang;

fn usd(micros: i64) -> Micros {
    Micros(micros)
}

fn seedance(per_mtok: i64) -> BillingShape {
    BillingShape::PerVideoToken(VideoTokenRates {
        currency: Currency::Usd,
        rates: vec![VideoTokenRate {
            resolution: "tiny".into(),
            video_input: None,
            per_mtok: usd(per_mtok),
        }],
        durations: AllowedDurations::Any,
    })
}

fn tiny(seconds: u32, width: u32, height: u32, fps: u32) -> Usage {
    Usage::Video(VideoRequest {
        width,
        height,
        fps,
        ..VideoRequest::new("tiny", seconds)
    })
}

#[test]
fn the_video_token_division_is_rounded_once_half_away_from_zero() {
    // 1 s × 2 × 2 × 2 fps = 8 pixel-frames = 8/1024 tokens at 1 micro-dollar per million
    // tokens: 8 × 10⁶ / 1024 = 7,812.5 grid units, rounded up to 7,813.
    let cost = cost(&seedance(1), &tiny(1, 2, 2, 2)).unwrap();
    assert_eq!(cost.units(), 7_813);
    // 1 pixel-frame: 10⁶ / 1024 = 976.5625 → 977.
    assert_eq!(cost_units(&seedance(1), &tiny(1, 1, 1, 1)), 977);
    // 3 pixel-frames: 2,929.6875 → 2,930; the rounding happens once on the whole
    // numerator, not per token or per second (3 × 977 would be 2,931).
    assert_eq!(cost_units(&seedance(1), &tiny(3, 1, 1, 1)), 2_930);
    // A negative (refund-like) rate rounds away from zero too: −7,812.5 → −7,813.
    assert_eq!(cost_units(&seedance(-1), &tiny(1, 2, 2, 2)), -7_813);
}

fn cost_units(shape: &BillingShape, usage: &Usage) -> i128 {
    cost(shape, usage).unwrap().units()
}

#[test]
fn token_arithmetic_is_exact_to_the_grid() {
    let shape = BillingShape::PerToken(TokenRates {
        currency: Currency::Usd,
        base: prices(1, 1),
        tiers: vec![],
    });
    // One token at 1 micro-dollar per million tokens is 10⁻¹² dollars = 10⁶ grid units.
    let one = LlmCall {
        input: 1,
        ..LlmCall::default()
    };
    assert_eq!(cost_units(&shape, &Usage::Llm(one)), 1_000_000);
}

fn prices(input: i64, output: i64) -> TokenPrices {
    TokenPrices {
        input_per_mtok: usd(input),
        output_per_mtok: usd(output),
        cached_read_per_mtok: None,
        cache_write: CacheWrite::NotStated,
        reasoning_per_mtok: None,
        batch: None,
    }
}

#[test]
fn missing_token_prices_are_errors_naming_the_price() {
    let shape = BillingShape::PerToken(TokenRates {
        currency: Currency::Usd,
        base: prices(3_000_000, 15_000_000),
        tiers: vec![TokenTier {
            above_prompt_tokens: 200_000,
            prices: prices(6_000_000, 22_500_000),
        }],
    });
    let call = |call: LlmCall| cost(&shape, &Usage::Llm(call)).unwrap_err();
    let write = call(LlmCall {
        cache_write: 10,
        ..LlmCall::default()
    });
    assert_eq!(
        write,
        BillingError::MissingRate(MissingRate::of(RateKind::CacheWrite))
    );
    assert_eq!(write.message(Lang::En), "no cache-write price is given");
    assert_eq!(write.message(Lang::ZhCn), "缺少缓存写入价格");
    let read = call(LlmCall {
        cached_read: 10,
        ..LlmCall::default()
    });
    assert_eq!(read.message(Lang::En), "no cached-input price is given");
    let batch = call(LlmCall {
        input: 300_000,
        batch: true,
        ..LlmCall::default()
    });
    assert_eq!(
        batch.message(Lang::En),
        "no batch price is given for prompts above 200000 tokens"
    );
    assert_eq!(
        batch.message(Lang::ZhCn),
        "缺少批处理价格（提示超过 200000 tokens）"
    );
    // No tokens of a kind need no price of that kind.
    assert!(cost(&shape, &Usage::Llm(LlmCall::default()))
        .unwrap()
        .is_zero());
}

#[test]
fn a_missing_video_rate_names_the_resolution_tier_and_audio() {
    let shape = BillingShape::PerSecond(PerSecondRates {
        currency: Currency::Usd,
        rates: vec![SecondRate {
            audio: Some(true),
            ..SecondRate::new("720p", usd(84_000))
        }],
        durations: AllowedDurations::Any,
    });
    let request = VideoRequest {
        tier: Some("pro".into()),
        audio: true,
        ..VideoRequest::new("1080p", 5)
    };
    let error = cost(&shape, &Usage::Video(request)).unwrap_err();
    assert_eq!(
        error.message(Lang::En),
        "no per-second video price is given for 1080p, tier pro, audio on"
    );
    assert_eq!(
        error.message(Lang::ZhCn),
        "缺少每秒视频价格（1080p，档位 pro，有声）"
    );
    // Audio off does not match a row stating audio on.
    let silent = cost(&shape, &Usage::Video(VideoRequest::new("720p", 5))).unwrap_err();
    assert_eq!(
        silent.message(Lang::En),
        "no per-second video price is given for 720p, audio off"
    );
}

#[test]
fn other_errors_have_both_messages() {
    let image = BillingShape::PerImage(ImageRates {
        currency: Currency::Usd,
        rates: vec![ImageRate {
            size: "1024x1024".into(),
            quality: Some("standard".into()),
            per_image: usd(40_000),
        }],
    });
    let hd = ImageRequest {
        size: "1024x1024".into(),
        quality: Some("hd".into()),
        count: 1,
        image_tokens: None,
    };
    let error = cost(&image, &Usage::Image(hd)).unwrap_err();
    assert_eq!(
        error.message(Lang::En),
        "no per-image price is given for 1024x1024, quality hd"
    );
    let wrong = cost(&image, &Usage::Llm(LlmCall::default())).unwrap_err();
    assert_eq!(
        wrong,
        BillingError::WrongUsage {
            shape: MediaKind::Image,
            usage: MediaKind::Llm
        }
    );
    assert_eq!(
        wrong.message(Lang::En),
        "this billing shape prices image generations, not language-model calls"
    );
    assert_eq!(
        wrong.message(Lang::ZhCn),
        "该计费方式用于图像生成，不能为语言模型调用计价"
    );
    let speech = BillingShape::Speech(SpeechRates {
        currency: Currency::Usd,
        per_million_characters: None,
        per_second: Some(usd(250)),
    });
    let unknown_length = SpeechRequest {
        characters: 10,
        milliseconds: None,
    };
    let error = cost(&speech, &Usage::Speech(unknown_length)).unwrap_err();
    assert_eq!(
        error,
        BillingError::MissingUsage(UsageField::SpeechDuration)
    );
    assert_eq!(error.message(Lang::ZhCn), "请求缺少语音时长，无法计价");
    let no_rate = BillingShape::Speech(SpeechRates {
        currency: Currency::Usd,
        per_million_characters: None,
        per_second: None,
    });
    assert_eq!(
        cost(&no_rate, &Usage::Speech(unknown_length))
            .unwrap_err()
            .message(Lang::En),
        "no speech price is given"
    );
    let empty = AllowedDurations::Lengths { seconds: vec![] };
    assert_eq!(empty.fit(5), Err(BillingError::NoAllowedDurations));
    assert_eq!(
        AllowedDurations::Range { min: 9, max: 4 }.fit(5),
        Err(BillingError::NoAllowedDurations)
    );
    assert_eq!(
        cost(
            &seedance(i64::MAX),
            &tiny(u32::MAX, u32::MAX, u32::MAX, u32::MAX)
        ),
        Err(BillingError::Overflow)
    );
    assert_eq!(
        cost(&seedance(1), &tiny(5, 0, 720, 24)),
        Err(BillingError::MissingUsage(UsageField::VideoSize))
    );
}

#[test]
fn durations_fit_to_the_smallest_allowed_length_at_or_above_else_the_longest() {
    let sora = [4, 8, 12];
    let check = |requested: u32, chosen: u32, note: Option<DurationNote>| {
        let fit = fit_duration(&sora, requested).unwrap();
        assert_eq!(
            fit,
            DurationFit {
                requested,
                chosen,
                note
            },
            "{requested}"
        );
    };
    check(4, 4, None);
    check(
        0,
        4,
        Some(DurationNote::RoundedUp {
            requested: 0,
            chosen: 4,
        }),
    );
    check(
        6,
        8,
        Some(DurationNote::RoundedUp {
            requested: 6,
            chosen: 8,
        }),
    );
    check(12, 12, None);
    check(
        15,
        12,
        Some(DurationNote::CutToLongest {
            requested: 15,
            chosen: 12,
        }),
    );
    // Order does not matter.
    assert_eq!(fit_duration(&[10, 6], 7).unwrap().chosen, 10);
    assert_eq!(fit_duration(&[], 7), None);
    // A range clamps.
    let seedance = AllowedDurations::Range { min: 4, max: 15 };
    assert_eq!(seedance.fit(9).unwrap().note, None);
    assert_eq!(seedance.fit(2).unwrap().chosen, 4);
    assert_eq!(seedance.fit(20).unwrap().chosen, 15);
    assert_eq!(AllowedDurations::Any.fit(7).unwrap().chosen, 7);
}

#[test]
fn duration_notes_read_in_both_languages() {
    let up = DurationNote::RoundedUp {
        requested: 6,
        chosen: 8,
    };
    assert_eq!(
        up.message(Lang::En),
        "the model makes no 6 s clip, so it makes and bills one of 8 s"
    );
    assert_eq!(up.message(Lang::ZhCn), "模型不支持 6 秒，按 8 秒生成并计费");
    let cut = DurationNote::CutToLongest {
        requested: 15,
        chosen: 12,
    };
    assert_eq!(
        cut.message(Lang::En),
        "the model makes at most 12 s: the 15 s shot gets a 12 s clip"
    );
    assert_eq!(
        cut.message(Lang::ZhCn),
        "模型最长 12 秒，15 秒的镜头按 12 秒生成并计费"
    );
}

#[test]
fn the_most_specific_matching_row_wins() {
    let shape = BillingShape::PerSecond(PerSecondRates {
        currency: Currency::Usd,
        rates: vec![
            SecondRate::new("1080p", usd(100_000)),
            SecondRate {
                audio: Some(true),
                ..SecondRate::new("1080P", usd(168_000))
            },
        ],
        durations: AllowedDurations::Any,
    });
    let with_audio = VideoRequest {
        audio: true,
        ..VideoRequest::new("1080p", 1)
    };
    assert_eq!(
        cost(&shape, &Usage::Video(with_audio)).unwrap().micros(),
        168_000
    );
    let silent = VideoRequest::new("1080p", 1);
    assert_eq!(
        cost(&shape, &Usage::Video(silent)).unwrap().micros(),
        100_000
    );
}

/// One value of every shape, with every optional field used somewhere.
fn every_shape() -> Vec<BillingShape> {
    let full = TokenPrices {
        input_per_mtok: usd(3_000_000),
        output_per_mtok: usd(15_000_000),
        cached_read_per_mtok: Some(usd(300_000)),
        cache_write: CacheWrite::Stated {
            per_mtok: usd(3_750_000),
        },
        reasoning_per_mtok: Some(usd(20_000_000)),
        batch: Some(BatchPrices {
            input_per_mtok: usd(1_500_000),
            output_per_mtok: usd(7_500_000),
            cached_read_per_mtok: Some(usd(150_000)),
            cache_write_per_mtok: Some(usd(1_875_000)),
            reasoning_per_mtok: None,
        }),
    };
    vec![
        BillingShape::PerToken(TokenRates {
            currency: Currency::Usd,
            base: full.clone(),
            tiers: vec![TokenTier {
                above_prompt_tokens: 200_000,
                prices: TokenPrices {
                    cache_write: CacheWrite::Input,
                    ..prices(6_000_000, 22_500_000)
                },
            }],
        }),
        BillingShape::PerSecond(PerSecondRates {
            currency: Currency::Usd,
            rates: vec![SecondRate {
                tier: Some("pro".into()),
                audio: Some(false),
                ..SecondRate::new("720p", usd(300_000))
            }],
            durations: AllowedDurations::Lengths {
                seconds: vec![4, 8, 12],
            },
        }),
        BillingShape::PerClip(ClipRates {
            currency: Currency::Usd,
            clips: vec![ClipRate {
                resolution: "768P".into(),
                tier: Some("standard".into()),
                seconds: 6,
                per_clip: usd(280_000),
            }],
        }),
        BillingShape::BasePlusPerSecond(BasePlusPerSecondRates {
            currency: Currency::Cny,
            rates: vec![BaseRate {
                resolution: "720p".into(),
                tier: None,
                base: usd(1_000_000),
                included_seconds: 1,
                per_second: usd(250_000),
            }],
            durations: AllowedDurations::Range { min: 1, max: 8 },
        }),
        BillingShape::PerVideoToken(VideoTokenRates {
            currency: Currency::Cny,
            rates: vec![VideoTokenRate {
                resolution: "1080P".into(),
                video_input: Some(true),
                per_mtok: usd(31_000_000),
            }],
            durations: AllowedDurations::Range { min: 4, max: 15 },
        }),
        BillingShape::PerImage(ImageRates {
            currency: Currency::Usd,
            rates: vec![ImageRate {
                size: "1024x1792".into(),
                quality: Some("hd".into()),
                per_image: usd(120_000),
            }],
        }),
        BillingShape::PerImageToken(ImageTokenRates {
            currency: Currency::Usd,
            text_input_per_mtok: usd(5_000_000),
            image_input_per_mtok: usd(10_000_000),
            image_output_per_mtok: usd(40_000_000),
        }),
        BillingShape::Speech(SpeechRates {
            currency: Currency::Cny,
            per_million_characters: Some(usd(200_000_000)),
            per_second: Some(usd(250)),
        }),
        BillingShape::Credits(CreditRates {
            currency: Currency::Usd,
            credit_price: usd(10_000),
            per: CreditUnit::Second,
            credits: vec![
                CreditRate {
                    resolution: None,
                    credits: Micros::whole(5),
                },
                CreditRate {
                    resolution: Some("1080p".into()),
                    credits: Micros(7_500_000),
                },
            ],
            durations: AllowedDurations::Lengths {
                seconds: vec![5, 10],
            },
        }),
    ]
}

#[test]
fn every_shape_round_trips_through_json_under_its_tag() {
    let shapes = every_shape();
    let names: Vec<&str> = shapes.iter().map(BillingShape::name).collect();
    assert_eq!(
        names,
        [
            "per_token",
            "per_second",
            "per_clip",
            "base_plus_per_second",
            "per_video_token",
            "per_image",
            "per_image_token",
            "speech",
            "credits"
        ]
    );
    for shape in shapes {
        let json = serde_json::to_value(&shape).unwrap();
        assert_eq!(json["shape"], shape.name(), "{json}");
        let back: BillingShape = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, shape, "{json}");
        let text = serde_json::to_string(&shape).unwrap();
        assert_eq!(serde_json::from_str::<BillingShape>(&text).unwrap(), shape);
    }
}

#[test]
fn the_json_reads_as_written_by_hand() {
    let sonnet: BillingShape = serde_json::from_str(
        r#"{"shape":"per_token","currency":"USD","input_per_mtok":3,"output_per_mtok":15,
            "cached_read_per_mtok":0.3,"cache_write":{"billed_as":"stated","per_mtok":3.75}}"#,
    )
    .unwrap();
    let BillingShape::PerToken(rates) = &sonnet else {
        panic!("{sonnet:?}")
    };
    assert_eq!(
        rates.base.cache_write,
        CacheWrite::Stated {
            per_mtok: usd(3_750_000)
        }
    );
    assert_eq!(rates.base.cached_read_per_mtok, Some(usd(300_000)));
    // A cache-write price left out reads as "not stated", never as a guess.
    let bare: BillingShape = serde_json::from_str(
        r#"{"shape":"per_token","currency":"USD","input_per_mtok":3,"output_per_mtok":15}"#,
    )
    .unwrap();
    let BillingShape::PerToken(bare) = bare else {
        panic!()
    };
    assert_eq!(bare.base.cache_write, CacheWrite::NotStated);
    let json = serde_json::to_value(BillingShape::PerToken(bare)).unwrap();
    assert_eq!(json["cache_write"]["billed_as"], "not_stated");
    assert!(serde_json::from_str::<BillingShape>(r#"{"shape":"per_gram"}"#).is_err());
}
