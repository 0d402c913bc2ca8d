//! Tests of export, import checks and the v1 → v2 migration, on the committed v1 fixture.

use super::*;
use crate::domain::project::limits::{
    MAX_CHARACTERS, MAX_EPISODES, MAX_ID_CHARS, MAX_SCRIPT_CHARS, MAX_SHOTS, MAX_TEXT_CHARS,
};
use crate::domain::project::sample::sample_series;
use crate::domain::project::{Character, Shot, ShotStatus};

const V1: &str = include_str!("../../../tests/fixtures/idb_v1/project_v1.json");

fn v1_file() -> String {
    format!(r#"{{"format":"duanju-project","schema_version":1,"project":{V1}}}"#)
}

#[test]
fn the_v1_fixture_migrates_to_the_current_shape() {
    let project = load_record(V1).unwrap();
    assert_eq!(project.schema_version, 2);
    assert_eq!(project.id, "p-v1-rain");
    assert_eq!(project.settings.aspect_ratio, "9:16");
    assert_eq!(project.settings.style, "冷色调，胶片颗粒");
    assert_eq!(project.opened_ms, project.updated_ms);
    let ids: Vec<&str> = project.characters.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    assert_eq!(project.episodes[0].id, "ep1");
    assert_eq!(project.episodes[1].id, "ep2");
    let scenes = &project.episodes[0].scenes;
    assert_eq!(scenes[0].id, "e1-s1A", "from the Fountain scene number");
    assert_eq!(scenes[1].id, "e1-i2", "from the position");
    assert_eq!(scenes[0].picked_take.as_deref(), Some("e1-s1A-t2"));
    assert_eq!(scenes[0].takes[1].dialogue, "我回来了——你们没想到吧？");
    assert_eq!(project.shot_count(), 3);
    for shot in project.shots() {
        assert_eq!((shot.version, shot.updated_by.as_str()), (1, MIGRATION_TAB));
        assert_eq!(shot.updated_ms, 1_760_086_400_000.0);
    }
    let statuses: Vec<ShotStatus> = project.shots().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [ShotStatus::Ready, ShotStatus::Draft, ShotStatus::Done]
    );
    assert_eq!(project.shots().nth(2).unwrap().duration_s, 4.5);
}

#[test]
fn the_v1_migration_is_an_explicit_value_to_value_step() {
    let v1: Value = serde_json::from_str(V1).unwrap();
    let v2 = migrate_v1_to_v2(v1).unwrap();
    assert_eq!(v2["schema_version"], 2);
    assert!(v2.get("aspect_ratio").is_none());
    assert_eq!(v2["settings"]["aspect_ratio"], "9:16");
    assert!(v2["episodes"][0]["scenes"][0].get("scene_number").is_none());
    assert!(v2["episodes"][0]["scenes"][0]["takes"][1]
        .get("picked")
        .is_none());
    assert_eq!(
        v2["episodes"][0]["scenes"][0]["shots"][0]["status"],
        "ready"
    );
    assert!(migrate_v1_to_v2(json!([])).is_err());
    let error =
        migrate_v1_to_v2(json!({"updated_ms": 1, "episodes": [{"scenes": 3}]})).unwrap_err();
    assert_eq!(
        error,
        ImportError::InvalidField {
            path: "episodes[0].scenes".into(),
            detail: "expected an array".into()
        }
    );
}

#[test]
fn a_v1_export_file_imports_migrated() {
    let Loaded::Project(project) = load_any(&v1_file()).unwrap() else {
        panic!("a project file");
    };
    assert_eq!(*project, load_record(V1).unwrap());
}

#[test]
fn an_export_reads_back_the_same() {
    let series = sample_series(12, 47);
    let text = export_project(&series);
    assert!(text.starts_with("{\n  \"format\": \"duanju-project\""));
    assert_eq!(
        load_any(&text).unwrap(),
        Loaded::Project(Box::new(series.clone()))
    );
    let mut other = sample_series(1, 3);
    other.id = "second".into();
    other.deleted_ms = Some(5.0);
    let backup = export_workspace(&[series.clone(), other.clone()], 9.0);
    assert_eq!(
        load_any(&backup).unwrap(),
        Loaded::Workspace(vec![series, other])
    );
}

#[test]
fn stored_records_read_fast_and_refuse_newer_versions() {
    let series = sample_series(2, 10);
    let text = serde_json::to_string(&series).unwrap();
    assert_eq!(load_record(&text).unwrap(), series);
    let newer = text.replacen("\"schema_version\":2", "\"schema_version\":3", 1);
    assert_eq!(
        load_record(&newer),
        Err(ImportError::NewerVersion {
            found: 3,
            supported: 2
        })
    );
    assert!(matches!(
        load_record("{\"id\":"),
        Err(ImportError::Truncated)
    ));
}

fn check_error(text: &str, expected: ImportError) {
    let error = load_any(text).unwrap_err();
    assert_eq!(error, expected);
    let (zh, en) = (error.message(Lang::ZhCn), error.message(Lang::En));
    assert!(zh.contains("现有数据未改动"), "{zh}");
    assert!(en.contains("existing data is unchanged"), "{en}");
}

#[test]
fn a_truncated_file_is_told_apart() {
    let text = export_project(&sample_series(1, 6));
    check_error(&text[..text.len() / 2], ImportError::Truncated);
}

#[test]
fn a_corrupted_file_names_the_position() {
    let text = export_project(&sample_series(1, 6)).replacen("\"name\":", "\"name\" ", 1);
    let error = load_any(&text).unwrap_err();
    assert!(
        matches!(error, ImportError::NotJson { line: 7, .. }),
        "{error:?}"
    );
    check_error("hello", ImportError::NotJson { line: 1, column: 1 });
    check_error("  \n ", ImportError::Empty);
}

#[test]
fn other_json_is_not_a_project_file() {
    check_error("[1, 2]", ImportError::NotAProjectFile);
    check_error(r#"{"name":"x"}"#, ImportError::NotAProjectFile);
    check_error(
        r#"{"format":"excalidraw","version":2}"#,
        ImportError::NotAProjectFile,
    );
}

#[test]
fn a_newer_file_asks_for_a_newer_app() {
    check_error(
        r#"{"format":"duanju-workspace","schema_version":7,"projects":[]}"#,
        ImportError::NewerVersion {
            found: 7,
            supported: 2,
        },
    );
    let message = load_any(r#"{"format":"duanju-project","schema_version":3}"#)
        .unwrap_err()
        .message(Lang::ZhCn);
    assert!(message.contains("更新版本"), "{message}");
}

#[test]
fn a_huge_file_is_refused_before_parsing() {
    let huge = " ".repeat(MAX_IMPORT_BYTES + 1);
    check_error(
        &huge,
        ImportError::TooLarge {
            bytes: MAX_IMPORT_BYTES + 1,
            cap: MAX_IMPORT_BYTES,
        },
    );
    assert!(load_any(&huge)
        .unwrap_err()
        .message(Lang::En)
        .contains("20.0 MB"));
}

#[test]
fn bad_fields_are_named_by_path() {
    let series = sample_series(1, 12);
    let mut value = serde_json::to_value(ProjectFile {
        format: PROJECT_FORMAT.into(),
        schema_version: 2,
        project: series.clone(),
    })
    .unwrap();
    value["project"]["episodes"][0]["scenes"][1]["shots"][2]["duration_s"] = json!("五秒");
    let error = load_any(&value.to_string()).unwrap_err();
    let ImportError::InvalidField { path, detail } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(path, "project.episodes[0].scenes[1].shots[2].duration_s");
    assert!(detail.starts_with("invalid type: string"), "{detail}");
    assert!(error.message(Lang::ZhCn).contains("类型不对"));

    let mut value = serde_json::to_value(ProjectFile {
        format: PROJECT_FORMAT.into(),
        schema_version: 2,
        project: series.clone(),
    })
    .unwrap();
    value["project"]["episodes"][0]["scenes"][0]
        .as_object_mut()
        .unwrap()
        .remove("id");
    let error = load_any(&value.to_string()).unwrap_err();
    assert_eq!(
        error,
        ImportError::InvalidField {
            path: "project.episodes[0].scenes[0]".into(),
            detail: "missing field `id`".into(),
        }
    );
    assert!(error.message(Lang::ZhCn).contains("缺少字段 id"));

    let mut twice = series;
    let copy = twice.episodes[0].scenes[0].shots[0].clone();
    twice.episodes[0].scenes[1].shots.push(copy);
    let error = load_any(&export_project(&twice)).unwrap_err();
    assert_eq!(
        error,
        ImportError::Invalid {
            path: "project.episodes[0].scenes[1].shots[6].id".into(),
            rule: Rule::Duplicate,
        }
    );
    check_error(
        r#"{"format":"duanju-project","schema_version":"2","project":{}}"#,
        ImportError::InvalidField {
            path: "schema_version".into(),
            detail: "expected a positive whole number".into(),
        },
    );
    check_error(
        r#"{"format":"duanju-project","schema_version":2}"#,
        ImportError::InvalidField {
            path: "project".into(),
            detail: "missing field `project`".into(),
        },
    );
}

fn check_path(text: &str, expected: &str) {
    let error = serde_json::from_str::<serde_json::Value>(text).err();
    let (line, column) = match error {
        Some(e) => (e.line(), e.column()),
        None => {
            let lines: Vec<&str> = text.split('\n').collect();
            (lines.len(), lines.last().unwrap().len() + 1)
        }
    };
    assert_eq!(path_at(text, line, column), expected, "{text}");
}

#[test]
fn paths_are_read_from_positions() {
    check_path(r#"{"a": [1, {"b": x"#, "a[1].b");
    check_path("{\"a\": {\"c\": 1, \"d\": [0, 0, ", "a.d[2]");
    check_path("{\"k\\\"q\": ", "k\"q");
    check_path("{\"a\": {\"c\": 1}, ", "");
}

#[test]
fn a_file_stem_has_no_refused_characters_and_falls_back_when_empty() {
    use super::file_stem;
    assert_eq!(file_stem(" 逆袭千金: 第1集/终 ", "x"), "逆袭千金_ 第1集_终");
    assert_eq!(file_stem("a\tb<c>|d?\"e*", "x"), "a_b_c__d__e_");
    assert_eq!(file_stem("   ", "storyboard"), "storyboard");
    assert_eq!(file_stem(&"长".repeat(100), "x").chars().count(), 80);
}

#[test]
fn a_file_stem_drops_bidi_controls() {
    use super::{file_stem, is_bidi_control};
    let bidi = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
    ];
    for c in bidi {
        assert!(is_bidi_control(c), "{c:?}");
        assert_eq!(file_stem(&format!("a{c}b"), "x"), "ab", "{c:?}");
    }
    assert!(
        !is_bidi_control('\u{200D}'),
        "a zero-width joiner is part of emoji"
    );
    assert_eq!(file_stem("invoice\u{202E}txt.exe", "x"), "invoicetxt.exe");
    assert_eq!(file_stem("\u{202E} 逆袭 \u{2066}", "x"), "逆袭");
    assert_eq!(file_stem("\u{202E}\u{200F}", "storyboard"), "storyboard");
    assert_eq!(file_stem(&"\u{202E}".repeat(100), "x"), "x");
}

/// A hostile project file: the sample series as exported, changed by `spoil`.
fn spoiled(spoil: impl FnOnce(&mut Project)) -> String {
    let mut series = sample_series(2, 12);
    spoil(&mut series);
    export_project(&series)
}

/// Refused with `rule` at `path`, with a message in both languages that says nothing changed.
fn check_refused(text: &str, path: &str, rule: Rule) {
    check_error(
        text,
        ImportError::Invalid {
            path: path.into(),
            rule,
        },
    );
    let error = load_any(text).unwrap_err();
    assert!(error.message(Lang::En).contains(path));
    assert!(error.message(Lang::ZhCn).contains(path));
}

#[test]
fn what_the_app_exports_passes_the_limits() {
    let series = sample_series(8, 80);
    assert!(matches!(
        load_any(&export_project(&series)),
        Ok(Loaded::Project(_))
    ));
    let backup = export_workspace(&[series.clone(), sample_series(1, 6)], 1.0);
    assert!(matches!(load_any(&backup), Ok(Loaded::Workspace(list)) if list.len() == 2));
    // A scene holding a whole pasted script (the script importer's 2 MiB) still imports, and
    // so does text with tabs, line breaks, page breaks and right-to-left marks.
    let text = spoiled(|p| {
        p.episodes[0].scenes[0].script_text = "台词\n".repeat(MAX_SCRIPT_CHARS / 3);
        p.episodes[0].scenes[0].shots[0].notes = "a\tb\r\n\u{000C}c \u{200F}ש".into();
    });
    assert!(load_any(&text).is_ok());
}

#[test]
fn huge_strings_are_refused() {
    let long = "长".repeat(MAX_TEXT_CHARS + 1);
    check_refused(
        &spoiled(|p| p.episodes[1].scenes[1].shots[3].action = long.clone()),
        "project.episodes[1].scenes[1].shots[3].action",
        Rule::TooLong {
            max: MAX_TEXT_CHARS,
        },
    );
    check_refused(
        &spoiled(|p| p.characters[0].description = long.clone()),
        "project.characters[0].description",
        Rule::TooLong {
            max: MAX_TEXT_CHARS,
        },
    );
    check_refused(
        &spoiled(|p| p.episodes[0].scenes[0].script_text = "x".repeat(MAX_SCRIPT_CHARS + 1)),
        "project.episodes[0].scenes[0].script_text",
        Rule::TooLong {
            max: MAX_SCRIPT_CHARS,
        },
    );
    check_refused(
        &spoiled(|p| p.episodes[0].scenes[0].shots[0].visual_elements = vec![String::new(); 201]),
        "project.episodes[0].scenes[0].shots[0].visual_elements",
        Rule::TooLong { max: 200 },
    );
}

#[test]
fn thousands_of_shots_episodes_or_characters_are_refused() {
    let shots = spoiled(|p| {
        let scene = &mut p.episodes[0].scenes[0];
        for i in 0..MAX_SHOTS {
            scene.shots.push(Shot::new(format!("flood-{i}"), "1"));
        }
    });
    check_refused(&shots, "project.episodes", Rule::TooLong { max: MAX_SHOTS });
    let episodes = spoiled(|p| {
        let template = p.episodes[0].clone();
        for i in 0..MAX_EPISODES {
            let mut episode = template.clone();
            episode.id = format!("ep-flood-{i}");
            episode.scenes.clear();
            p.episodes.push(episode);
        }
    });
    check_refused(
        &episodes,
        "project.episodes",
        Rule::TooLong { max: MAX_EPISODES },
    );
    let cast = spoiled(|p| {
        let template = p.characters[0].clone();
        p.characters = (0..=MAX_CHARACTERS)
            .map(|i| Character {
                id: format!("c-{i}"),
                ..template.clone()
            })
            .collect();
    });
    check_refused(
        &cast,
        "project.characters",
        Rule::TooLong {
            max: MAX_CHARACTERS,
        },
    );
}

#[test]
fn bad_ids_are_refused() {
    check_refused(
        &spoiled(|p| p.episodes[0].scenes[1].shots[0].id = "  ".into()),
        "project.episodes[0].scenes[1].shots[0].id",
        Rule::Empty,
    );
    check_refused(
        &spoiled(|p| p.episodes[1].id = "x".repeat(MAX_ID_CHARS + 1)),
        "project.episodes[1].id",
        Rule::TooLong { max: MAX_ID_CHARS },
    );
    check_refused(
        &spoiled(|p| p.episodes[1].id = p.episodes[0].id.clone()),
        "project.episodes[1].id",
        Rule::Duplicate,
    );
    check_refused(
        &spoiled(|p| {
            let id = p.episodes[0].scenes[0].id.clone();
            p.episodes[1].scenes[0].id = id;
        }),
        "project.episodes[1].scenes[0].id",
        Rule::Duplicate,
    );
    // A storage key separator, a bidi override, a noncharacter: each could split a key or
    // disguise a name.
    for id in ["ep\u{1}x", "shot\u{202E}gpj", "p\u{FFFF}", "a\nb"] {
        check_refused(
            &spoiled(|p| p.episodes[0].id = id.into()),
            "project.episodes[0].id",
            Rule::ForbiddenCharacter,
        );
    }
    check_refused(
        &spoiled(|p| p.video_jobs[0].clip_ref = Some("clip\u{0}".into())),
        "project.video_jobs[0].clip_ref",
        Rule::ForbiddenCharacter,
    );
}

#[test]
fn control_and_bidi_characters_are_refused_where_they_do_harm() {
    // Free text: a NUL or an escape code means binary data or a damaged file.
    for bad in ["\u{0}", "\u{1B}[31m", "\u{7}"] {
        check_refused(
            &spoiled(|p| p.episodes[0].scenes[0].shots[0].dialogue = format!("台词{bad}")),
            "project.episodes[0].scenes[0].shots[0].dialogue",
            Rule::ForbiddenCharacter,
        );
    }
    // Labels shown on one line: no line break, no direction override.
    check_refused(
        &spoiled(|p| p.name = "逆袭\u{202E}千金".into()),
        "project.name",
        Rule::ForbiddenCharacter,
    );
    check_refused(
        &spoiled(|p| p.characters[1].name = "林\n婉".into()),
        "project.characters[1].name",
        Rule::ForbiddenCharacter,
    );
    check_refused(
        &spoiled(|p| p.episodes[0].scenes[0].shots[2].number = "1\u{2066}A".into()),
        "project.episodes[0].scenes[0].shots[2].number",
        Rule::ForbiddenCharacter,
    );
}

#[test]
fn numbers_out_of_range_are_refused() {
    check_refused(
        &spoiled(|p| p.episodes[0].scenes[0].shots[1].duration_s = 86_400.0),
        "project.episodes[0].scenes[0].shots[1].duration_s",
        Rule::OutOfRange,
    );
    check_refused(
        &spoiled(|p| p.episodes[0].scenes[0].shots[1].duration_s = -1.0),
        "project.episodes[0].scenes[0].shots[1].duration_s",
        Rule::OutOfRange,
    );
    check_refused(
        &spoiled(|p| p.created_ms = -5.0),
        "project.created_ms",
        Rule::OutOfRange,
    );
    check_refused(
        &spoiled(|p| {
            p.settings.budget = Some(crate::domain::project::Budget {
                currency: crate::domain::cost::money::Currency::Usd,
                amount: crate::domain::cost::money::Micros(-1),
            })
        }),
        "project.settings.budget.amount",
        Rule::OutOfRange,
    );
}

#[test]
fn wrong_types_and_bad_backups_are_refused_whole() {
    let mut value: Value = serde_json::from_str(&export_project(&sample_series(1, 6))).unwrap();
    value["project"]["episodes"][0]["scenes"][0]["shots"] = json!({"not": "a list"});
    let error = load_any(&value.to_string()).unwrap_err();
    assert!(
        matches!(&error, ImportError::InvalidField { path, .. } if path == "project.episodes[0].scenes[0].shots"),
        "{error:?}"
    );
    value["project"]["episodes"][0]["scenes"][0]["shots"] = json!([]);
    value["project"]["name"] = json!(["a", "list"]);
    assert!(matches!(
        load_any(&value.to_string()),
        Err(ImportError::InvalidField { .. })
    ));
    // One bad project in a backup refuses the whole backup, named by its place.
    let mut bad = sample_series(1, 6);
    bad.episodes[0].scenes[0].shots[0].id = "\u{202E}".into();
    let backup = export_workspace(&[sample_series(1, 6), bad], 1.0);
    check_refused(
        &backup,
        "projects[1].episodes[0].scenes[0].shots[0].id",
        Rule::ForbiddenCharacter,
    );
}
