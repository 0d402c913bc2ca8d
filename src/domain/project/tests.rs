//! Tests of the series model, the projects-list helpers, the trash and snapshots.

use super::*;
use crate::domain::project::sample::sample_series;

const DAY_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;

fn meta(id: &str, name: &str, opened_ms: f64) -> ProjectMeta {
    let mut project = Project::new(id, name, 0.0, "t");
    project.opened_ms = opened_ms;
    project.meta()
}

#[test]
fn the_sample_series_has_564_shots_with_unique_ids() {
    let series = sample_series(12, 47);
    assert_eq!(series.episodes.len(), 12);
    assert_eq!(series.shot_count(), 564);
    assert!(series.episodes.iter().all(|e| e.scenes.len() == 8));
    let ids: std::collections::HashSet<&str> = series.shots().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), 564);
    assert_eq!(series.video_jobs.len(), 47);
    assert_eq!(series, sample_series(12, 47), "the sample is deterministic");
}

#[test]
fn a_project_survives_a_json_round_trip() {
    let series = sample_series(12, 47);
    let text = serde_json::to_string(&series).unwrap();
    let back: Project = serde_json::from_str(&text).unwrap();
    assert_eq!(back, series);
}

#[test]
fn settings_default_to_a_vertical_frame() {
    let project = Project::new("p1", "剧", 0.0, "t");
    assert_eq!(project.settings.aspect_ratio, "9:16");
    let bare: ProjectSettings = serde_json::from_str("{}").unwrap();
    assert_eq!(bare.aspect_ratio, DEFAULT_ASPECT_RATIO);
}

#[test]
fn a_project_has_no_place_for_an_api_key() {
    fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.to_lowercase());
                    keys(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let mut series = sample_series(2, 10);
    series.settings.routes_override =
        Some(crate::domain::provider::routing::RouteTable::seed_defaults());
    let mut names = Vec::new();
    keys(&serde_json::to_value(&series).unwrap(), &mut names);
    for name in names {
        assert!(
            !name.contains("key") && !name.contains("secret") && !name.contains("bearer"),
            "unexpected field {name}"
        );
    }
}

#[test]
fn editing_a_shot_bumps_its_version_and_stamp() {
    let mut series = sample_series(1, 6);
    let id = series.shots().next().unwrap().id.clone();
    let header = series.version;
    assert!(
        series.edit_shot(&id, 5_000.0 + SAMPLE, "tab-x", |s| s.action =
            "新动作".into())
    );
    let shot = series.shot(&id).unwrap();
    assert_eq!((shot.version, shot.updated_by.as_str()), (2, "tab-x"));
    assert_eq!(shot.updated_ms, 5_000.0 + SAMPLE);
    assert_eq!(series.version, header, "a shot edit is not a header edit");
    assert!(!series.edit_shot("nope", 0.0, "tab-x", |_| {}));
}

const SAMPLE: f64 = crate::domain::project::sample::SAMPLE_MS;

#[test]
fn header_edits_bump_the_project_version() {
    let mut project = Project::new("p1", "旧名", 1_000.0, "a");
    project.edit(2_000.0, "b", |p| p.name = "新名".into());
    assert_eq!((project.version, project.updated_by.as_str()), (2, "b"));
    assert_eq!(project.updated_ms, 2_000.0);
}

#[test]
fn removing_a_shot_leaves_a_marker() {
    let mut series = sample_series(1, 6);
    let id = series.shots().nth(2).unwrap().id.clone();
    let removed = series.remove_shot(&id, 9.0, "a").unwrap();
    assert_eq!(removed.id, id);
    assert_eq!(series.shot_count(), 5);
    assert_eq!(series.removed_shots[0].shot_id, id);
    assert_eq!(series.removed_shots[0].version, removed.version + 1);
    assert!(series.remove_shot(&id, 9.0, "a").is_none());
}

#[test]
fn adding_shots_refuses_duplicates_and_unknown_scenes() {
    let mut ids = IdGen::new("t");
    let mut project = Project::new("p", "剧", 0.0, "t");
    let scene = project.edit(1.0, "t", |p| {
        let episode = p.add_episode(&mut ids, "第1集");
        p.add_scene(&episode, &mut ids, "INT. 客厅 - 夜").unwrap()
    });
    assert!(project
        .add_shot(&scene, Shot::new("s1", "1A"), 2.0, "t")
        .is_some());
    assert!(project
        .add_shot(&scene, Shot::new("s1", "1B"), 2.0, "t")
        .is_none());
    assert!(project
        .add_shot("missing", Shot::new("s2", "1B"), 2.0, "t")
        .is_none());
    assert_eq!(project.episodes[0].number, 1);
}

#[test]
fn scene_ids_come_from_fountain_numbers_or_positions() {
    assert_eq!(scene_id(3, Some("12A"), 0), "e3-s12A");
    assert_eq!(scene_id(3, Some("  "), 4), "e3-i5");
    assert_eq!(scene_id(3, None, 0), "e3-i1");
}

#[test]
fn trashed_projects_are_restorable_for_30_days() {
    let mut project = Project::new("p", "剧", 0.0, "t");
    assert!(project.is_restorable(1e15));
    project.deleted_ms = Some(1_000.0);
    assert!(project.is_in_trash());
    assert!(project.is_restorable(1_000.0 + 30.0 * DAY_MS));
    assert!(!project.is_restorable(1_000.0 + 30.0 * DAY_MS + 1.0));
    assert_eq!(project.meta().purge_at_ms(), Some(1_000.0 + 30.0 * DAY_MS));
}

#[test]
fn purging_takes_only_expired_trash() {
    let now = 100.0 * DAY_MS;
    let mut live = meta("live", "a", 0.0);
    live.deleted_ms = None;
    let mut recent = meta("recent", "b", 0.0);
    recent.deleted_ms = Some(now - 29.0 * DAY_MS);
    let mut old = meta("old", "c", 0.0);
    old.deleted_ms = Some(now - 31.0 * DAY_MS);
    let mut list = vec![live, recent, old];
    let purged = purge_expired(&mut list, now);
    assert_eq!(
        purged
            .expired
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>(),
        ["old"]
    );
    assert_eq!(purged.clock_settled, []);
    assert_eq!(
        list.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["live", "recent"]
    );
}

#[test]
fn a_clock_set_back_neither_purges_the_trash_early_nor_keeps_it_for_ever() {
    let day = DAY_MS;
    let deleted = 1_000.0 * day;
    let mut future = meta("future", "a", 0.0);
    future.deleted_ms = Some(deleted);
    let mut old = meta("old", "b", 0.0);
    old.deleted_ms = Some(deleted - 40.0 * day);
    // The project was deleted, then the clock was set back a year: it is not purged, and its
    // 30 days now count from the clock's new reading.
    let now = deleted - 365.0 * day;
    let mut list = vec![future.clone(), old.clone()];
    let sweep = purge_expired(&mut list, now);
    assert_eq!(sweep.expired, []);
    assert_eq!(
        sweep.clock_settled.len(),
        2,
        "both lie after the clock's new reading"
    );
    assert!(list.iter().all(|m| m.deleted_ms == Some(now)));
    assert!(list.iter().all(|m| m.is_restorable(now + 30.0 * day)));
    // Stored so, they leave the trash 30 days later, not a year and 30 days later.
    let sweep = purge_expired(&mut list, now + 30.0 * day + 1.0);
    assert_eq!(sweep.expired.len(), 2);
    assert_eq!(sweep.clock_settled, []);
    assert!(list.is_empty());
    // A time in the past is left alone; so is a clock that is not a number.
    assert_eq!(settled_deletion_ms(5.0, 10.0), 5.0);
    assert_eq!(settled_deletion_ms(50.0, 10.0), 10.0);
    assert_eq!(settled_deletion_ms(f64::NAN, 10.0), 10.0);
    assert_eq!(settled_deletion_ms(50.0, f64::NAN), 50.0);
}

#[test]
fn the_list_shows_the_last_opened_first() {
    let mut list = vec![
        meta("a", "甲", 10.0),
        meta("b", "乙", 30.0),
        meta("c", "丙", 20.0),
    ];
    sort_recent(&mut list);
    assert_eq!(
        list.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["b", "c", "a"]
    );
}

fn check_search(query: &str, expected: &[&str]) {
    let series = sample_series(2, 12);
    let mut other = Project::new("p-en", "Rise of the CEO", 0.0, "t");
    other.characters.push(Character {
        id: "c1".into(),
        name: "Ａｌｉｃｅ".into(),
        description: String::new(),
        voice: String::new(),
        look: String::new(),
        reference_notes: String::new(),
    });
    let list = [series.meta(), other.meta()];
    let found: Vec<&str> = search(&list, query).iter().map(|m| m.id.as_str()).collect();
    assert_eq!(found, expected, "query {query:?}");
}

#[test]
fn search_matches_names_characters_and_headings() {
    check_search("", &["sample-series", "p-en"]);
    check_search("真假", &["sample-series"]);
    check_search("顾承泽", &["sample-series"]);
    check_search("医院走廊", &["sample-series"]);
    check_search("rise ceo", &["p-en"]);
    check_search("ＲＩＳＥ", &["p-en"]);
    check_search("alice", &["p-en"]);
    check_search("int.", &["sample-series"]);
    check_search("真假 医院", &["sample-series"]);
    check_search("真假 alice", &[]);
    check_search("不存在", &[]);
}

#[test]
fn names_are_checked_and_trimmed() {
    assert_eq!(validate_name("  逆袭千金 "), Ok("逆袭千金".into()));
    assert_eq!(validate_name(" \t "), Err(NameError::Empty));
    let longest = "剧".repeat(NAME_MAX_CHARS);
    assert_eq!(validate_name(&longest), Ok(longest.clone()));
    let error = validate_name(&format!("{longest}集")).unwrap_err();
    assert_eq!(error, NameError::TooLong { chars: 201 });
    assert!(error.message(Lang::ZhCn).contains("201"));
    assert!(error.message(Lang::En).contains("at most 200"));
    assert_ne!(
        NameError::Empty.message(Lang::ZhCn),
        NameError::Empty.message(Lang::En)
    );
}

#[test]
fn a_duplicate_has_new_ids_and_a_copy_name() {
    assert_eq!(duplicate_name("逆袭千金", Lang::ZhCn), "逆袭千金 (副本)");
    assert_eq!(duplicate_name("Rise", Lang::En), "Rise (copy)");
    let long = duplicate_name(&"剧".repeat(NAME_MAX_CHARS), Lang::En);
    assert!(validate_name(&long).is_ok());

    let series = sample_series(2, 12);
    let copy = series.with_new_ids(&mut IdGen::new("dup"), 7.0, "tab");
    assert_ne!(copy.id, series.id);
    assert_eq!(copy.shot_count(), series.shot_count());
    let old: std::collections::HashSet<&str> = series.shots().map(|s| s.id.as_str()).collect();
    assert!(copy.shots().all(|s| !old.contains(s.id.as_str())));
    for (a, b) in series.shots().zip(copy.shots()) {
        assert_eq!(a.action, b.action);
    }
    let scene = &copy.episodes[0].scenes[0];
    let picked = scene.picked_take.as_ref().unwrap();
    assert!(scene.takes.iter().any(|t| &t.id == picked));
    assert_eq!(copy.video_jobs.len(), series.video_jobs.len());
    assert!(copy
        .video_jobs
        .iter()
        .all(|j| copy.shot(&j.shot_id).is_some()));
}

#[test]
fn a_replacement_outranks_every_current_version() {
    let current = sample_series(1, 12);
    let mut content = sample_series(1, 12);
    let dropped = content.episodes[0].scenes[1].shots.remove(0).id;
    let mut current_edited = current.clone();
    let first = current.shots().next().unwrap().id.clone();
    for _ in 0..5 {
        current_edited.edit_shot(&first, 1.0, "other", |s| s.notes.push('!'));
    }
    let next = current_edited.replaced_by(&content, 99.0, "me");
    assert_eq!(next.id, current.id);
    assert!(next.version > current_edited.version);
    assert!(next.shot(&first).unwrap().version > current_edited.shot(&first).unwrap().version);
    assert!(next.removed_shots.iter().any(|r| r.shot_id == dropped));
}

#[test]
fn snapshot_ids_group_by_project() {
    let series = sample_series(1, 6);
    let snapshot = Snapshot::take(&series, " 定稿 ", 5.0, &mut IdGen::new("x"));
    assert!(snapshot.id.starts_with("sample-series~"));
    assert_eq!(snapshot.meta().name, "定稿");
    assert_eq!(before_restore_name("定稿", Lang::ZhCn), "恢复「定稿」之前");
    assert!(before_import_name(Lang::En).contains("import"));
}

#[test]
fn a_project_budget_parses_and_subtracts_the_projects_calls_only() {
    use crate::domain::cost::ledger::{CallSummary, LedgerEntry};
    use crate::domain::cost::money::{Currency, Money};
    use crate::domain::cost::pricing::PriceSet;
    use crate::domain::cost::profile::Profile;
    use crate::domain::provider::chat::Usage;
    use crate::domain::provider::connection::{Connection, Preset};

    assert_eq!(Budget::parse(Currency::Usd, "  "), Ok(None));
    assert!(Budget::parse(Currency::Usd, "ten").is_err());
    let budget = Budget::parse(Currency::Usd, "0.01").unwrap().unwrap();
    assert_eq!(budget.money(), Money::parse(Currency::Usd, "0.01").unwrap());

    let connection = Connection::from_preset("c1", Preset::OpenAi, Profile::OFFICIAL, Lang::En);
    let official = Profile::defaults().remove(1);
    // 1,000 × $2/MTok + 500 × $8/MTok = $0.006 per call on gpt-4.1.
    let usage = Usage {
        prompt: 1_000,
        completion: 500,
        total: 1_500,
        ..Usage::default()
    };
    let call = |project: Option<&'static str>| {
        let summary = CallSummary {
            usage: Some(&usage),
            project,
            ..CallSummary::new(1_767_225_600_000.0, &connection, "gpt-4.1", "storyboard")
        };
        LedgerEntry::priced(&summary, &PriceSet::list(), &official)
    };
    let ledger = vec![call(Some("p1")), call(Some("p2")), call(None)];
    // Only p1's call counts: $0.01 − $0.006.
    assert_eq!(
        budget.remaining(&ledger, "p1"),
        Money::parse(Currency::Usd, "0.004").unwrap()
    );
    // A second call puts p1 over its cap: the remainder goes negative.
    let over = vec![call(Some("p1")), call(Some("p1"))];
    assert!(budget.remaining(&over, "p1") < Money::zero(Currency::Usd));
    // In yuan the same calls are charged at the profile's rate (¥7.3 per $).
    let yuan = Budget::parse(Currency::Cny, "1").unwrap().unwrap();
    assert_eq!(
        yuan.remaining(&ledger, "p1"),
        Money::parse(Currency::Cny, "0.9562").unwrap()
    );
    // One batch of p1 whose own billed call is the ledger's $0.006, while the project's other
    // work has $0.003 at risk: the batch may commit $0.01 − $0.006 + $0.006 − $0.003.
    let usd = |s: &str| Money::parse(Currency::Usd, s).unwrap();
    assert_eq!(
        budget.remaining_for_batch(&ledger, "p1", usd("0.006"), usd("0.003")),
        usd("0.007")
    );
    // Nothing else at risk and nothing of its own: what the ledger leaves.
    assert_eq!(
        budget.remaining_for_batch(&ledger, "p1", usd("0"), usd("0")),
        budget.remaining(&ledger, "p1")
    );
}

#[test]
fn applied_batch_items_are_capped_and_not_copied_to_a_duplicate() {
    let mut series = sample_series(1, 2);
    for i in 0..APPLIED_RUNS_CAP + 3 {
        assert!(series.mark_run_applied(&format!("b#{i}")));
    }
    assert_eq!(series.applied_runs.len(), APPLIED_RUNS_CAP);
    assert!(!series.run_applied("b#0"), "the oldest go first");
    assert!(series.run_applied(&format!("b#{}", APPLIED_RUNS_CAP + 2)));
    let json = serde_json::to_string(&series).unwrap();
    let back: Project = serde_json::from_str(&json).unwrap();
    assert_eq!(back.applied_runs, series.applied_runs);
}

#[test]
fn a_new_shot_takes_the_next_free_letter_of_its_scene() {
    let mut series = sample_series(1, 47);
    assert!(series.episodes[0].scenes.len() >= 2 && series.episodes[0].scenes[1].shots.len() >= 2);
    let episode = &mut series.episodes[0];
    let scene_id = episode.scenes[1].id.clone();
    let shots = &mut episode.scenes[1].shots;
    shots.truncate(2);
    shots[0].number = "2A".into();
    shots[1].number = "2C".into();
    // The scene is second in its episode; two shots exist, so the third letter comes next,
    // and a taken number is skipped.
    assert_eq!(next_shot_number(&series, &scene_id), "2D");
    series.episodes[0].scenes[1].shots[1].number = "2B".into();
    assert_eq!(next_shot_number(&series, &scene_id), "2C");
    // Past Z the letters carry: the 27th shot is AA.
    let template = series.episodes[0].scenes[1].shots[0].clone();
    let shots = &mut series.episodes[0].scenes[1].shots;
    shots.clear();
    for i in 0..26 {
        let mut shot = template.clone();
        shot.id = format!("s{i}");
        shot.number = format!("2{}", (b'A' + i as u8) as char);
        shots.push(shot);
    }
    assert_eq!(next_shot_number(&series, &scene_id), "2AA");
    assert_eq!(next_shot_number(&series, "no-such-scene"), "1A");
}

#[test]
fn a_frame_setting_becomes_a_css_aspect_ratio() {
    assert_eq!(css_aspect_ratio("9:16"), "9 / 16");
    assert_eq!(css_aspect_ratio(" 16 x 9 "), "16 / 9");
    assert_eq!(css_aspect_ratio("2.39/1"), "2.39 / 1");
    assert_eq!(css_aspect_ratio("4×3"), "4 / 3");
    for bad in ["", "wide", "0:1", "-1:2", "9:", "NaN:1", "inf:1"] {
        assert_eq!(css_aspect_ratio(bad), "9 / 16", "{bad:?}");
    }
}
