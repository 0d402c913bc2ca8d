use super::*;
use crate::domain::cost::money::Currency;

fn entry(model: &str, billing: &str) -> CatalogEntry {
    CatalogEntry {
        model: model.into(),
        aliases: Vec::new(),
        provider: "test".into(),
        billing: serde_json::from_str(billing).unwrap(),
        source: "test".into(),
        read_on: "2026-12".into(),
        retired: None,
        seed_only: false,
        max_tokens: None,
    }
}

/// The figures of PROVIDERS.md (read 2026-12), as catalog entries.
fn catalog() -> Vec<CatalogEntry> {
    vec![
        entry(
            "gpt-image-1",
            r#"{"shape":"per_image_token","currency":"USD","text_input_per_mtok":5,
                "image_input_per_mtok":10,"image_output_per_mtok":40}"#,
        ),
        entry(
            "veo-3.1-fast",
            r#"{"shape":"per_second","currency":"USD",
                "rates":[{"resolution":"720p","per_second":0.10},{"resolution":"1080p","per_second":0.12}],
                "durations":{"kind":"lengths","seconds":[4,6,8]}}"#,
        ),
        entry(
            "hailuo-02",
            r#"{"shape":"per_clip","currency":"USD",
                "clips":[{"resolution":"768P","seconds":6,"per_clip":0.28},
                         {"resolution":"768P","seconds":10,"per_clip":0.56}]}"#,
        ),
        entry(
            "tts-1",
            r#"{"shape":"speech","currency":"USD","per_million_characters":15}"#,
        ),
    ]
}

fn episode() -> EpisodeMedia {
    EpisodeMedia {
        keyframes: Some(KeyframeLine {
            model: "gpt-image-1".into(),
            frames_per_shot: 1,
            takes: 2,
            size: "1024x1536".into(),
            quality: Some("medium".into()),
        }),
        clips: vec![
            ClipLine {
                model: "veo-3.1-fast".into(),
                shots: 10,
                seconds: 6,
                resolution: "1080p".into(),
                takes: 2,
                audio: false,
                frame: None,
            },
            ClipLine {
                model: "hailuo-02".into(),
                shots: 37,
                seconds: 5,
                resolution: "768P".into(),
                takes: 2,
                audio: false,
                frame: None,
            },
        ],
        dubbing: vec![DubbingLine {
            model: "tts-1".into(),
            characters: 3_000,
            seconds: None,
            takes: 1,
        }],
    }
}

fn usd(text: &str) -> Money {
    Money::parse(Currency::Usd, text).unwrap()
}

#[test]
fn an_episode_is_priced_line_by_line_and_per_finished_minute() {
    let cost = episode().price(&catalog()).unwrap();
    let by_model = |model: &str| cost.lines.iter().find(|l| l.model == model).unwrap();
    // Keyframes: 47 shots × 1 frame × 2 takes = 94 portrait images at medium quality, each
    // 1,584 output tokens × $40/M = $0.06336: $5.95584.
    assert_eq!(by_model("gpt-image-1").requests, 94);
    assert_eq!(by_model("gpt-image-1").cost, usd("5.95584"));
    // Veo 3.1 Fast: 10 shots × 2 takes of 6 s at $0.12/s 1080p = $14.40.
    assert_eq!(by_model("veo-3.1-fast").cost, usd("14.40"));
    assert_eq!(by_model("veo-3.1-fast").made_seconds, None);
    // Hailuo-02 makes 6 or 10 s: a 5 s shot is made as 6 s, 74 clips × $0.28 = $20.72.
    assert_eq!(by_model("hailuo-02").cost, usd("20.72"));
    assert_eq!(by_model("hailuo-02").made_seconds, Some(6));
    // Dubbing: 3,000 characters × $15/M = $0.045.
    assert_eq!(by_model("tts-1").cost, usd("0.045"));
    // Runtime: 10 × 6 s + 37 × 5 s = 245 s.
    assert_eq!(cost.finished_seconds, 245);

    let official = Profile::defaults()
        .into_iter()
        .find(|p| p.id == Profile::OFFICIAL)
        .unwrap();
    let under = cost.under(&official);
    // $41.12084 per episode, × 60 ÷ 245 = $10.0704… per finished minute; ¥7.3 per $1.
    assert_eq!(under.per_episode.usd, usd("41.12084"));
    assert_eq!(under.per_episode.cny.display(), "¥300.18");
    assert_eq!(under.per_finished_minute.usd.display(), "$10.07");

    // The Veo shots on Hailuo instead (per clip): 20 × $0.28 = $5.60, so $32.32084 per
    // episode and × 60 ÷ 245 = $7.9153… per finished minute.
    let mut switched = episode();
    switched.clips[0].model = "hailuo-02".into();
    switched.clips[0].resolution = "768P".into();
    let under = switched.price(&catalog()).unwrap().under(&official);
    assert_eq!(under.per_episode.usd, usd("32.32084"));
    assert_eq!(under.per_finished_minute.usd.display(), "$7.92");
}

#[test]
fn every_problem_is_named_and_nothing_is_guessed() {
    let mut broken = episode();
    broken.clips[0].model = "sora-9".into();
    broken.clips[1].resolution = "4k".into();
    let problems = broken.price(&catalog()).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0], MediaProblem::UnknownModel("sora-9".into()));
    assert!(matches!(&problems[1], MediaProblem::Billing { model, .. } if model == "hailuo-02"));
    for problem in &problems {
        assert!(problem.message(Lang::En).contains(' '));
        assert_ne!(problem.message(Lang::ZhCn), problem.message(Lang::En));
    }
    let empty = EpisodeMedia::default().price(&catalog()).unwrap_err();
    assert_eq!(empty, [MediaProblem::NoRuntime]);
}

#[test]
fn gpt_image_tokens_follow_the_published_table() {
    // $40/M × 408 / 1,584 / 6,240 tokens: $0.016 / $0.063 / $0.25 per portrait image.
    assert_eq!(gpt_image_output_tokens("1024x1536", "low"), Some(408));
    assert_eq!(gpt_image_output_tokens("1536x1024", "high"), Some(6_240));
    assert_eq!(gpt_image_output_tokens("1024x1024", "medium"), Some(1_056));
    assert_eq!(gpt_image_output_tokens("auto", "medium"), None);
}

#[test]
fn a_video_shape_lists_its_resolutions_once() {
    let catalog = catalog();
    assert_eq!(resolutions(&catalog[1].billing), ["720p", "1080p"]);
    assert_eq!(resolutions(&catalog[2].billing), ["768P"]);
    assert!(resolutions(&catalog[3].billing).is_empty());
}
