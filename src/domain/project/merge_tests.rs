//! Tests of the per-shot merge: determinism, order independence and that no edit is lost.

use super::*;
use crate::domain::project::sample::{sample_series, SAMPLE_MS};
use crate::domain::project::{Project, Shot, HISTORY_CAP};
use proptest::prelude::*;

fn shot(version: u64, updated_ms: f64, tab: &str, action: &str) -> Shot {
    let mut shot = Shot::new("s1", "1A");
    shot.version = version;
    shot.updated_ms = updated_ms;
    shot.updated_by = tab.into();
    shot.action = action.into();
    shot
}

fn first_shot(project: &Project) -> String {
    project.shots().next().unwrap().id.clone()
}

#[test]
fn the_higher_version_wins_and_the_loser_is_kept() {
    let old = shot(2, 9_000.0, "a", "旧");
    let new = shot(3, 1_000.0, "b", "新");
    let (winner, loser) = merge_shot(&old, &new);
    assert_eq!(winner.action, "新");
    assert_eq!(loser.unwrap().action, "旧");
}

#[test]
fn ties_go_to_the_later_edit_then_to_the_greater_tab() {
    let (winner, _) = merge_shot(&shot(2, 5.0, "z", "早"), &shot(2, 6.0, "a", "晚"));
    assert_eq!(winner.action, "晚");
    let (winner, loser) = merge_shot(&shot(2, 5.0, "tab-a", "甲"), &shot(2, 5.0, "tab-b", "乙"));
    assert_eq!(
        (winner.action.as_str(), loser.unwrap().action.as_str()),
        ("乙", "甲")
    );
}

#[test]
fn identical_content_and_own_ancestors_are_not_history() {
    let (_, loser) = merge_shot(&shot(2, 5.0, "a", "同"), &shot(3, 6.0, "b", "同"));
    assert!(loser.is_none(), "the same words are not a lost edit");
    let mut later = shot(2, 5.0, "a", "第一稿");
    later.touch(6.0, "b");
    later.action = "他改的".into();
    let (winner, loser) = merge_shot(&shot(2, 5.0, "a", "第一稿"), &later);
    assert_eq!(winner.action, "他改的");
    assert!(
        loser.is_none(),
        "another tab's edit built on it is a descendant"
    );
    let (winner, loser) = merge_shot(&shot(2, 5.0, "a", "第一稿"), &shot(3, 6.0, "a", "第二稿"));
    assert_eq!(winner.action, "第二稿");
    assert!(loser.is_none(), "a tab's own older edit is an ancestor");
}

#[test]
fn edits_of_different_shots_in_two_tabs_both_survive() {
    let base = sample_series(2, 12);
    let ids: Vec<String> = base.shots().map(|s| s.id.clone()).collect();
    let mut a = base.clone();
    a.edit_shot(&ids[0], SAMPLE_MS + 10.0, "tab-a", |s| {
        s.action = "A 改".into()
    });
    let mut b = base.clone();
    b.edit_shot(&ids[5], SAMPLE_MS + 20.0, "tab-b", |s| {
        s.dialogue = "B 改".into()
    });
    let merged = merge_projects(&a, &b, 1.0);
    assert_eq!(merged.shot(&ids[0]).unwrap().action, "A 改");
    assert_eq!(merged.shot(&ids[5]).unwrap().dialogue, "B 改");
    assert!(merged.history.is_empty());
    assert_eq!(merged, merge_projects(&b, &a, 1.0));
}

#[test]
fn a_concurrent_edit_of_one_shot_resolves_by_version_with_the_loser_in_history() {
    let base = sample_series(1, 12);
    let id = first_shot(&base);
    let mut a = base.clone();
    a.edit_shot(&id, SAMPLE_MS + 10.0, "tab-a", |s| s.action = "A 一".into());
    a.edit_shot(&id, SAMPLE_MS + 11.0, "tab-a", |s| s.action = "A 二".into());
    let mut b = base.clone();
    b.edit_shot(&id, SAMPLE_MS + 50.0, "tab-b", |s| s.action = "B".into());
    let mut merged = b.clone();
    apply_remote(&mut merged, &a, 77.0);
    assert_eq!(
        merged.shot(&id).unwrap().action,
        "A 二",
        "version 3 beats version 2"
    );
    assert_eq!(merged.history.len(), 1);
    assert_eq!(merged.history[0].shot.action, "B");
    assert_eq!(merged.history[0].lost_at_ms, 77.0);
    // Merging again changes nothing: the history does not grow.
    let again = merge_projects(&merged, &a, 99.0);
    assert_eq!(again.history.len(), 1);
    assert_eq!(again.shot(&id), merged.shot(&id));
}

#[test]
fn a_rename_in_one_tab_and_a_shot_edit_in_another_both_survive() {
    let base = sample_series(1, 6);
    let id = first_shot(&base);
    let mut a = base.clone();
    a.edit(SAMPLE_MS + 10.0, "tab-a", |p| p.name = "新名字".into());
    let mut b = base.clone();
    b.edit_shot(&id, SAMPLE_MS + 99.0, "tab-b", |s| {
        s.notes = "B 的备注".into()
    });
    for merged in [merge_projects(&a, &b, 0.0), merge_projects(&b, &a, 0.0)] {
        assert_eq!(merged.name, "新名字");
        assert_eq!(merged.shot(&id).unwrap().notes, "B 的备注");
    }
}

#[test]
fn a_shot_added_in_another_tab_lands_after_its_predecessor() {
    let base = sample_series(1, 12);
    let scene_id = base.episodes[0].scenes[0].id.clone();
    let after = base.episodes[0].scenes[0].shots[2].id.clone();
    let mut b = base.clone();
    let mut extra = Shot::new("new-shot", "1C+");
    extra.action = "插入的镜头".into();
    b.add_shot(&scene_id, extra, SAMPLE_MS + 5.0, "tab-b")
        .unwrap();
    let scene = &mut b.episodes[0].scenes[0];
    let added = scene.shots.pop().unwrap();
    scene.shots.insert(3, added);
    let merged = merge_projects(&base, &b, 0.0);
    let order: Vec<&str> = merged.episodes[0].scenes[0]
        .shots
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    let at = order.iter().position(|id| *id == "new-shot").unwrap();
    assert_eq!(order[at - 1], after);
}

#[test]
fn a_removal_wins_over_older_copies_and_loses_to_newer_edits() {
    let base = sample_series(1, 12);
    let ids: Vec<String> = base.shots().map(|s| s.id.clone()).collect();
    let mut a = base.clone();
    a.remove_shot(&ids[0], SAMPLE_MS + 5.0, "tab-a");
    a.remove_shot(&ids[1], SAMPLE_MS + 5.0, "tab-a");
    let mut b = base.clone();
    // Two edits: version 3, newer than the removal (version 2).
    b.edit_shot(&ids[1], SAMPLE_MS + 6.0, "tab-b", |s| {
        s.action = "B 一".into()
    });
    b.edit_shot(&ids[1], SAMPLE_MS + 7.0, "tab-b", |s| {
        s.action = "B 二".into()
    });
    let merged = merge_projects(&a, &b, 0.0);
    assert!(
        merged.shot(&ids[0]).is_none(),
        "the unedited removed shot stays removed"
    );
    assert_eq!(merged.shot(&ids[1]).unwrap().action, "B 二");
    assert!(merged.removed_shots.iter().all(|r| r.shot_id != ids[1]));

    // One edit (version 2) against the removal (version 2): removed, and kept in history.
    let mut c = base.clone();
    c.edit_shot(&ids[0], SAMPLE_MS + 6.0, "tab-c", |s| s.action = "C".into());
    let merged = merge_projects(&a, &c, 0.0);
    assert!(merged.shot(&ids[0]).is_none());
    assert_eq!(merged.history[0].shot.action, "C");
}

#[test]
fn shots_of_a_scene_the_winner_dropped_go_to_history() {
    let base = sample_series(1, 12);
    let mut a = base.clone();
    a.edit(SAMPLE_MS + 5.0, "tab-a", |p| {
        p.episodes[0].scenes.truncate(1)
    });
    let mut b = base.clone();
    let mut extra = Shot::new("orphan", "2Z");
    extra.action = "孤儿镜头".into();
    let scene = b.episodes[0].scenes[1].id.clone();
    b.add_shot(&scene, extra, SAMPLE_MS + 6.0, "tab-b");
    let merged = merge_projects(&a, &b, 0.0);
    assert!(merged.shot("orphan").is_none());
    assert!(merged.history.iter().any(|h| h.shot_id == "orphan"));
}

#[test]
fn the_history_is_capped() {
    let mut a = sample_series(1, 6);
    let b = a.clone();
    let id = first_shot(&a);
    for n in 0..(HISTORY_CAP + 20) {
        let mut rival = b.clone();
        rival.edit_shot(&id, n as f64, &format!("rival-{n}"), |s| {
            s.action = format!("版本 {n}")
        });
        a.edit_shot(&id, n as f64 + 0.5, "main", |s| {
            s.action = format!("主 {n}")
        });
        apply_remote(&mut a, &rival, n as f64);
    }
    assert_eq!(a.history.len(), HISTORY_CAP);
    assert_eq!(
        a.history.last().unwrap().lost_at_ms,
        (HISTORY_CAP + 19) as f64
    );
}

#[test]
fn merging_a_project_with_itself_changes_nothing() {
    let series = sample_series(12, 47);
    assert_eq!(merge_projects(&series, &series, 1.0), series);
}

#[test]
fn notices_tell_newer_versions_and_missing_edits() {
    let base = sample_series(1, 6);
    let mut theirs = base.clone();
    let notice = SavedNotice::of(&theirs, "tab-b", 2, 5.0);
    assert!(!notice.is_ahead_of(&base));
    assert!(!notice.is_from_newer_version(2, 2));
    assert!(SavedNotice {
        db_version: 3,
        ..notice.clone()
    }
    .is_from_newer_version(2, 2));
    assert!(SavedNotice {
        schema_version: 3,
        ..notice.clone()
    }
    .is_from_newer_version(2, 2));
    let id = first_shot(&theirs);
    theirs.edit_shot(&id, 9.0, "tab-b", |s| s.notes = "改".into());
    assert!(SavedNotice::of(&theirs, "tab-b", 2, 9.0).is_ahead_of(&base));
    assert!(!SavedNotice::of(&theirs, "tab-b", 2, 9.0).is_ahead_of(&theirs));
    let text = serde_json::to_string(&notice).unwrap();
    assert_eq!(serde_json::from_str::<SavedNotice>(&text).unwrap(), notice);
}

fn arb_shot() -> impl Strategy<Value = Shot> {
    (
        1u64..5,
        prop::sample::select(vec![0.0, 1.0, 2.0]),
        prop::sample::select(vec!["tab-a", "tab-b", "tab-c"]),
        prop::sample::select(vec!["推门", "回头", "落泪", ""]),
        prop::sample::select(vec!["", "备注"]),
        prop::collection::vec(
            (
                prop::sample::select(vec!["tab-a", "tab-b", "tab-c"]),
                1u64..5,
            ),
            0..3,
        ),
    )
        .prop_map(|(version, ms, tab, action, notes, lineage)| {
            let mut s = shot(version, ms, tab, action);
            s.notes = notes.into();
            for (t, v) in lineage {
                if v < version {
                    s.remember(t, v);
                }
            }
            s
        })
}

/// A copy of `base` with a random sequence of shot edits made by one tab.
fn arb_edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((0usize..12, 0u8..4), 0..8)
}

fn edited(base: &Project, tab: &str, edits: &[(usize, u8)], t0: f64) -> Project {
    let mut project = base.clone();
    let ids: Vec<String> = base.shots().map(|s| s.id.clone()).collect();
    for (n, (index, kind)) in edits.iter().enumerate() {
        let id = &ids[*index];
        let now = t0 + n as f64;
        match kind {
            0 => {
                project.edit_shot(id, now, tab, |s| s.action = format!("{tab} {n}"));
            }
            1 => {
                project.edit_shot(id, now, tab, |s| s.notes = format!("{tab} {n}"));
            }
            2 => {
                project.remove_shot(id, now, tab);
            }
            _ => {
                project.edit(now, tab, |p| p.name = format!("{tab} {n}"));
            }
        }
    }
    project
}

proptest! {
    #[test]
    fn the_winner_does_not_depend_on_the_order(a in arb_shot(), b in arb_shot()) {
        let (w1, l1) = merge_shot(&a, &b);
        let (w2, l2) = merge_shot(&b, &a);
        prop_assert_eq!(w1, w2);
        prop_assert_eq!(l1, l2);
    }

    #[test]
    fn no_shot_edit_is_lost(a in arb_shot(), b in arb_shot()) {
        let (winner, loser) = merge_shot(&a, &b);
        let stamp = |s: &Shot| (s.version, s.updated_ms.to_bits(), s.updated_by.clone());
        let a_won = winner.same_content(&a) && stamp(&winner) == stamp(&a);
        prop_assert!(a_won || (winner.same_content(&b) && stamp(&winner) == stamp(&b)));
        let other = if a_won { &b } else { &a };
        match loser {
            Some(loser) => prop_assert_eq!(&loser, other),
            None => prop_assert!(other.same_content(&winner) || other.is_ancestor_of(&winner)),
        }
    }

    #[test]
    fn project_merges_are_order_independent_and_keep_every_edit(
        edits_a in arb_edits(),
        edits_b in arb_edits(),
    ) {
        let base = sample_series(1, 12);
        let a = edited(&base, "tab-a", &edits_a, SAMPLE_MS + 100.0);
        let b = edited(&base, "tab-b", &edits_b, SAMPLE_MS + 200.0);
        let ab = merge_projects(&a, &b, 1.0);
        let ba = merge_projects(&b, &a, 1.0);
        prop_assert_eq!(&ab.name, &ba.name);
        let shots_ab: Vec<&Shot> = ab.shots().collect();
        let shots_ba: Vec<&Shot> = ba.shots().collect();
        prop_assert_eq!(shots_ab, shots_ba);
        prop_assert_eq!(ab.history.len(), ba.history.len());
        // Every shot version either side ended with is in the result, in its past, or in the
        // history, unless a newer removal took it out.
        for side in [&a, &b] {
            for shot in side.shots() {
                let kept = ab.shots().any(|s| s.same_content(shot) || shot.is_ancestor_of(s))
                    || ab.history.iter().any(|h| h.shot.same_content(shot))
                    || ab.removed_shots.iter().any(|r| r.shot_id == shot.id && r.version > shot.version);
                prop_assert!(kept, "lost {:?}", shot);
            }
        }
    }
}

#[test]
fn applied_batch_items_from_either_copy_stay_applied() {
    let mut a = sample_series(1, 2);
    let mut b = a.clone();
    assert!(a.mark_run_applied("batch-1#0"));
    assert!(
        !a.mark_run_applied("batch-1#0"),
        "a second mark says it was there"
    );
    b.mark_run_applied("batch-1#1");
    b.edit(SAMPLE_MS + 5.0, "tab-b", |p| p.name = "B".into());
    for merged in [
        merge_projects(&a, &b, SAMPLE_MS + 9.0),
        merge_projects(&b, &a, SAMPLE_MS + 9.0),
    ] {
        assert!(merged.run_applied("batch-1#0"));
        assert!(merged.run_applied("batch-1#1"));
        assert_eq!(merged.applied_runs.len(), 2);
    }
}
