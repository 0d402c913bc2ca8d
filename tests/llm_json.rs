//! The malformed-reply fixture: every file in `tests/fixtures/malformed_json/` goes through
//! `extract_json` and the schema validation, and must come out as `expect.json` says — parsed
//! to the expected shots or take with exactly the expected repairs, or rejected with the
//! expected diagnostic — with every message present in both languages. Property tests then
//! check that nothing panics on arbitrary input and that strict JSON reads back unchanged.

use std::fs;
use std::path::{Path, PathBuf};

use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::storyboard::llm_json::{
    close_truncated, extract_json, Expect, JsonDiagnostic,
};
use duanju_studio::domain::storyboard::schema::{
    validate_storyboard, validate_take, Problem, StoryboardResult,
};
use proptest::prelude::*;
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/malformed_json")
}

fn manifest() -> Vec<Value> {
    let text = fs::read_to_string(fixture_dir().join("expect.json")).expect("expect.json");
    let manifest: Value = serde_json::from_str(&text).expect("expect.json is JSON");
    manifest["cases"].as_array().expect("cases").clone()
}

fn strings(value: &Value) -> Vec<String> {
    let mut out: Vec<String> = value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn sorted_unique<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = kinds.into_iter().map(String::from).collect();
    out.sort();
    out.dedup();
    out
}

fn assert_bilingual(file: &str, zh: String, en: String) {
    assert!(!zh.trim().is_empty(), "{file}: empty zh-CN message");
    assert!(!en.trim().is_empty(), "{file}: empty en message");
}

fn assert_problems_bilingual(file: &str, problems: &[Problem]) {
    for p in problems {
        assert_bilingual(file, p.message(Lang::ZhCn), p.message(Lang::En));
    }
}

/// Every string inside a value, for the verbatim checks.
fn all_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\u{1}');
        }
        Value::Array(items) => items.iter().for_each(|v| all_text(v, out)),
        Value::Object(map) => map.values().for_each(|v| all_text(v, out)),
        _ => {}
    }
}

fn storyboard_text(result: &StoryboardResult) -> String {
    let mut out = String::new();
    for shot in &result.shots {
        for text in [
            &shot.shot_number,
            &shot.camera_angle,
            &shot.action_description,
            &shot.emotional_tone,
        ] {
            out.push_str(text);
            out.push('\u{1}');
        }
        for text in shot.visual_elements.iter().chain(&shot.characters) {
            out.push_str(text);
            out.push('\u{1}');
        }
    }
    out
}

/// Runs one fixture file against its manifest entry.
fn check(case: &Value) {
    let file = case["file"].as_str().expect("file");
    let bytes = fs::read(fixture_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    let storyboard = match case["kind"].as_str() {
        Some("storyboard") => true,
        Some("take") => false,
        other => panic!("{file}: unknown kind {other:?}"),
    };
    let expect = if storyboard {
        Expect::ArrayOf("shots")
    } else {
        Expect::Object
    };
    let should_parse = case["parse"].as_bool().expect("parse");
    let contains = strings(&case["contains"]);

    let (value, repairs) = match extract_json(&text, expect) {
        Ok(found) => found,
        Err(diagnostic) => {
            assert!(!should_parse, "{file}: rejected with {diagnostic:?}");
            assert_eq!(Some(diagnostic.kind()), case["reject"].as_str(), "{file}");
            assert_bilingual(
                file,
                diagnostic.message(Lang::ZhCn),
                diagnostic.message(Lang::En),
            );
            check_salvage(file, &text, expect, &diagnostic, case);
            return;
        }
    };
    for repair in &repairs {
        assert_bilingual(file, repair.message(Lang::ZhCn), repair.message(Lang::En));
    }
    let repair_kinds = sorted_unique(repairs.iter().map(|r| r.kind()));

    if storyboard {
        assert!(should_parse, "{file}: parsed, but a rejection was expected");
        assert_eq!(repair_kinds, strings(&case["repairs"]), "{file}: repairs");
        let result = validate_storyboard(&value);
        assert_eq!(
            result.shots.len() as u64,
            case["shots"].as_u64().expect("shots"),
            "{file}: usable shots ({:?})",
            result.invalid
        );
        let invalid: Vec<u64> = result.invalid.iter().map(|(i, _)| *i as u64).collect();
        let want: Vec<u64> = case["invalid"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        assert_eq!(invalid, want, "{file}: invalid shots");
        for (index, problems) in &result.invalid {
            assert!(
                problems.iter().any(Problem::is_error),
                "{file}: shot {index}"
            );
            assert_problems_bilingual(file, problems);
        }
        assert_eq!(
            sorted_unique(result.problems.iter().map(Problem::kind_id)),
            strings(&case["problems"]),
            "{file}: storyboard problems"
        );
        assert_problems_bilingual(file, &result.problems);
        let notes: Vec<&Problem> = result.shots.iter().flat_map(|s| &s.notes).collect();
        assert_eq!(
            sorted_unique(notes.iter().map(|p| p.kind_id())),
            strings(&case["notes"]),
            "{file}: shot notes"
        );
        for shot in &result.shots {
            assert_problems_bilingual(file, &shot.notes);
            assert!(!shot.action_description.trim().is_empty(), "{file}");
        }
        let kept = storyboard_text(&result);
        for text in contains {
            assert!(kept.contains(&text), "{file}: {text:?} kept verbatim");
        }
    } else {
        let take = validate_take(&value);
        let mut raw = String::new();
        all_text(&value, &mut raw);
        match (take, case["reject"].as_str()) {
            (Err(problems), Some(kind)) => {
                assert!(!should_parse, "{file}");
                let first_error = problems.iter().find(|p| p.is_error()).expect("an error");
                assert_eq!(first_error.kind_id(), kind, "{file}");
                assert_problems_bilingual(file, &problems);
            }
            (Ok(take), None) => {
                assert!(should_parse, "{file}");
                assert_eq!(repair_kinds, strings(&case["repairs"]), "{file}: repairs");
                let fields = case["take"].as_object().expect("take fields");
                for (name, want) in fields {
                    let got = match name.as_str() {
                        "dialogue" => &take.dialogue,
                        "stage_direction" => &take.stage_direction,
                        "emotional_tone" => &take.emotional_tone,
                        other => panic!("{file}: unknown take field {other}"),
                    };
                    assert_eq!(Some(got.as_str()), want.as_str(), "{file}: {name}");
                }
                assert!(!take.dialogue.is_empty(), "{file}");
                assert_eq!(
                    sorted_unique(take.notes.iter().map(Problem::kind_id)),
                    strings(&case["notes"]),
                    "{file}: take notes"
                );
                assert_problems_bilingual(file, &take.notes);
                let kept = format!(
                    "{}\u{1}{}\u{1}{}",
                    take.dialogue, take.stage_direction, take.emotional_tone
                );
                for text in contains {
                    assert!(kept.contains(&text), "{file}: {text:?} kept verbatim");
                }
            }
            (got, want) => panic!("{file}: got {got:?}, expected rejection {want:?}"),
        }
    }
}

/// A truncated reply says how much can be salvaged, and `close_truncated` keeps exactly that.
fn check_salvage(
    file: &str,
    text: &str,
    expect: Expect,
    diagnostic: &JsonDiagnostic,
    case: &Value,
) {
    let Some(want) = case["salvage"].as_u64() else {
        assert!(
            !matches!(diagnostic, JsonDiagnostic::Truncated { .. }),
            "{file}: give `salvage` for truncated replies"
        );
        return;
    };
    let want = want as usize;
    assert_eq!(
        diagnostic,
        &JsonDiagnostic::Truncated { salvageable: want },
        "{file}"
    );
    assert!(diagnostic.worth_retrying(), "{file}");
    match (close_truncated(text, expect), want) {
        (Err(again), 0) => assert_eq!(again.kind(), "truncated", "{file}"),
        (Ok((value, repairs)), n) if n > 0 => {
            assert!(
                repairs.iter().any(|r| r.kind() == "closed_truncated"),
                "{file}: {repairs:?}"
            );
            let got = match expect {
                Expect::ArrayOf(key) => {
                    let result = validate_storyboard(&value);
                    assert!(result.invalid.is_empty(), "{file}: {:?}", result.invalid);
                    value[key].as_array().map_or(0, Vec::len)
                }
                Expect::Object => value.as_object().map_or(0, |m| m.len()),
            };
            assert_eq!(got, n, "{file}: salvaged items");
        }
        (got, n) => panic!("{file}: close_truncated gave {got:?}, expected {n} item(s)"),
    }
}

#[test]
fn malformed_replies_fixture() {
    let cases = manifest();
    assert!(cases.len() >= 30, "at least 30 malformed replies");
    let mut listed: Vec<String> = cases
        .iter()
        .map(|c| c["file"].as_str().expect("file").to_string())
        .collect();
    listed.sort();
    let mut on_disk: Vec<String> = fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "expect.json")
        .collect();
    on_disk.sort();
    assert_eq!(
        listed, on_disk,
        "every fixture file is in expect.json and vice versa"
    );
    for case in &cases {
        check(case);
    }
    // The fixture covers each way of failing.
    let rejected = sorted_unique(cases.iter().filter_map(|c| c["reject"].as_str()));
    for kind in [
        "empty",
        "no_json",
        "truncated",
        "invalid",
        "wrong_shape",
        "missing",
    ] {
        assert!(
            rejected.contains(&kind.to_string()),
            "no fixture rejected as {kind}"
        );
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[<>\"'“”，：/*\\\\ a-z林]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Reply-like text: JSON punctuation, quotes of every kind, fences and words.
fn replyish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("“".to_string()),
        Just("”".to_string()),
        Just("，".to_string()),
        Just("\\".to_string()),
        Just("```json\n".to_string()),
        Just("<think>".to_string()),
        Just("</think>".to_string()),
        Just("//".to_string()),
        Just("/*".to_string()),
        Just("\"shots\"".to_string()),
        Just("NaN".to_string()),
        Just("\\ud83c".to_string()),
        "[a-z0-9 .\n-]{0,6}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Nothing panics on arbitrary text, and every outcome has messages in both languages.
    #[test]
    fn never_panics(text in any::<String>(), reply in replyish()) {
        for input in [text.as_str(), reply.as_str()] {
            for expect in [Expect::Object, Expect::ArrayOf("shots")] {
                for outcome in [extract_json(input, expect), close_truncated(input, expect)] {
                    match outcome {
                        Ok((value, repairs)) => {
                            for r in repairs {
                                prop_assert!(!r.message(Lang::ZhCn).is_empty());
                                prop_assert!(!r.message(Lang::En).is_empty());
                            }
                            let _ = validate_storyboard(&value);
                            let _ = validate_take(&value);
                        }
                        Err(d) => {
                            prop_assert!(!d.message(Lang::ZhCn).is_empty());
                            prop_assert!(!d.message(Lang::En).is_empty());
                        }
                    }
                }
            }
        }
    }

    /// Strict JSON objects read back exactly as `serde_json` reads them, with no repairs,
    /// compact or pretty.
    #[test]
    fn strict_json_reads_back(value in json_value()) {
        let object = match value {
            Value::Object(map) => Value::Object(map),
            other => {
                let mut map = serde_json::Map::new();
                map.insert("v".into(), other);
                Value::Object(map)
            }
        };
        for text in [serde_json::to_string(&object).unwrap(), serde_json::to_string_pretty(&object).unwrap()] {
            let (got, repairs) = extract_json(&text, Expect::Object).unwrap();
            let strict: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&got, &strict);
            prop_assert!(repairs.is_empty(), "{:?}", repairs);
        }
    }
}
