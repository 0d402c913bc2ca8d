//! Bringing a storyboard that comes back by link into the project it was shared from: by shot
//! id, field by field, with conflicts listed for the user and comments kept.
//!
//! **Fields.** A shot's storyboard fields are named by [`ShotField`] and read and written as a
//! [`FieldValue`] (text, seconds or a list), so edits, conflicts and the review editor treat
//! every field the same way. They are part of the share format
//! ([`crate::domain::share`], which a review's edits are written in) and re-exported here.
//!
//! **Whose edit is it?** A review link carries the collaborator's storyboard and, for each
//! field they changed, its value in the storyboard they received
//! ([`FieldEdit::base`](crate::domain::share::FieldEdit::base)). For a field they changed,
//! [`plan_merge`] compares that base with your current value:
//!
//! | your value | result |
//! |---|---|
//! | equal to theirs | nothing to do |
//! | equal to the base (you did not touch it) | their edit applies ([`MergePlan::applied`]) |
//! | anything else (you both changed it) | a [`Conflict`] for you to resolve |
//!
//! A field they did not change holds the shared value, so where yours differs it is your own
//! later edit, and it stays ([`MergePlan::kept`]). A plain storyboard link (no edit list) of a
//! project you have is settled by the shots' versions: where the link's shot is at your
//! version or newer, differing fields are conflicts (nobody knows the base); where yours is
//! newer, yours stay.
//!
//! **Nothing is dropped silently.** Every edit of either side is applied, kept, or listed as a
//! conflict; [`apply_merge`] writes the losing side of each resolved conflict, and the edits on
//! shots you have since removed, to the project's history ([`Project::history`]), where they
//! can be recovered. Comments are merged by id ([`merge_comments`]).
//!
//! ```
//! use duanju_studio::domain::project::sample::sample_series;
//! use duanju_studio::domain::share::{SharePayload, ShareScope};
//! use duanju_studio::domain::storyboard::merge::{apply_merge, plan_merge, FieldValue, ShotField};
//!
//! let mine = sample_series(1, 6);
//! let shared = SharePayload::storyboard(&mine, &ShareScope::Project, 0.0).unwrap();
//! let mut edited = shared.storyboard.clone();
//! let shot_id = edited.episodes[0].scenes[0].shots[0].id.clone();
//! ShotField::Action.set(edited.shot_mut(&shot_id).unwrap(), &FieldValue::Text("她笑了".into()));
//! let review = SharePayload::review(&shared, &edited, Vec::new(), "导演", 1.0);
//! let plan = plan_merge(&mine, &review);
//! assert_eq!(plan.applied.len(), 1);
//! let merged = apply_merge(&mine, &plan, &[], 2.0, "tab");
//! assert_eq!(merged.shot(&shot_id).unwrap().action, "她笑了");
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::domain::project::{cap_front, HistoryEntry, Project, HISTORY_CAP};
use crate::domain::share::{ShareKind, SharePayload, SharedShot, ShotComment};

// The field vocabulary and a review's edit list belong to the share format (a review carries
// them); they are re-exported here, where merges and the review editor have always found them.
pub use crate::domain::share::{
    format_seconds, review_edits, status_from_tag, status_label, status_tag, FieldKind, FieldValue,
    InputError, ShotField, STATUSES,
};

/// Which shot a change is about, for people: its episode and number.
#[derive(Clone, Debug, PartialEq)]
pub struct ShotRef {
    /// The shot's id.
    pub shot_id: String,
    /// The episode number it is in (yours).
    pub episode: u32,
    /// The shot number (yours).
    pub number: String,
}

/// One field that changes or stays.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// The shot.
    pub shot: ShotRef,
    /// The field.
    pub field: ShotField,
    /// The value before.
    pub from: FieldValue,
    /// The value after.
    pub to: FieldValue,
}

/// A field both sides changed differently.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    /// The shot.
    pub shot: ShotRef,
    /// The field.
    pub field: ShotField,
    /// The value when it was shared, when known.
    pub base: Option<FieldValue>,
    /// Your current value.
    pub mine: FieldValue,
    /// Theirs.
    pub theirs: FieldValue,
}

/// Edits on a shot your project no longer has.
#[derive(Clone, Debug, PartialEq)]
pub struct Unmatched {
    /// Their shot, as they left it.
    pub shot: SharedShot,
    /// The fields they changed.
    pub fields: Vec<ShotField>,
}

/// How the user settled a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Resolution {
    /// Keep my value (theirs goes to the history).
    #[default]
    Mine,
    /// Take theirs (mine goes to the history).
    Theirs,
}

/// What merging a link into a project will do.
#[derive(Clone, Debug, PartialEq)]
pub struct MergePlan {
    /// Who sent the link.
    pub from: String,
    /// When they sent it.
    pub sent_ms: f64,
    /// Their edits that apply: you had not changed those fields.
    pub applied: Vec<FieldChange>,
    /// Your edits since you shared, which stay (`from` is the shared value).
    pub kept: Vec<FieldChange>,
    /// Fields you both changed: you choose.
    pub conflicts: Vec<Conflict>,
    /// Their edits on shots you have removed since.
    pub unmatched: Vec<Unmatched>,
    /// The link's comments.
    pub comments: Vec<ShotComment>,
}

impl MergePlan {
    /// Whether merging would change nothing and there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty()
            && self.conflicts.is_empty()
            && self.unmatched.is_empty()
            && self.comments.is_empty()
    }
}

/// Plans the merge of a link's storyboard into `local` (see the module docs).
pub fn plan_merge(local: &Project, incoming: &SharePayload) -> MergePlan {
    let mut plan = MergePlan {
        from: incoming.from.clone(),
        sent_ms: incoming.sent_ms,
        applied: Vec::new(),
        kept: Vec::new(),
        conflicts: Vec::new(),
        unmatched: Vec::new(),
        comments: incoming.comments.clone(),
    };
    let mut bases: HashMap<&str, BTreeMap<ShotField, &FieldValue>> = HashMap::new();
    for edit in &incoming.edits {
        bases
            .entry(edit.shot_id.as_str())
            .or_default()
            .insert(edit.field, &edit.base);
    }
    let review = incoming.kind == ShareKind::Review;
    let mut locals = HashMap::new();
    for episode in &local.episodes {
        for shot in episode.scenes.iter().flat_map(|s| s.shots.iter()) {
            locals.insert(shot.id.as_str(), (episode.number, SharedShot::of(shot)));
        }
    }
    for theirs in incoming.storyboard.shots() {
        let edited = bases.get(theirs.id.as_str());
        let Some((episode, mine)) = locals.get(theirs.id.as_str()) else {
            if let Some(edited) = edited {
                plan.unmatched.push(Unmatched {
                    shot: theirs.clone(),
                    fields: edited.keys().copied().collect(),
                });
            }
            continue;
        };
        let shot = ShotRef {
            shot_id: theirs.id.clone(),
            episode: *episode,
            number: mine.number.clone(),
        };
        for field in ShotField::ALL {
            let (their_value, my_value) = (field.get(theirs), field.get(mine));
            if their_value == my_value {
                continue;
            }
            let base = edited.and_then(|fields| fields.get(&field)).copied();
            let theirs_is_newer = mine.version <= theirs.version;
            match (review, base) {
                (true, Some(base)) if *base == my_value => plan.applied.push(FieldChange {
                    shot: shot.clone(),
                    field,
                    from: my_value,
                    to: their_value,
                }),
                (true, Some(base)) => plan.conflicts.push(Conflict {
                    shot: shot.clone(),
                    field,
                    base: Some(base.clone()),
                    mine: my_value,
                    theirs: their_value,
                }),
                (false, _) if theirs_is_newer => plan.conflicts.push(Conflict {
                    shot: shot.clone(),
                    field,
                    base: None,
                    mine: my_value,
                    theirs: their_value,
                }),
                _ => plan.kept.push(FieldChange {
                    shot: shot.clone(),
                    field,
                    from: their_value,
                    to: my_value,
                }),
            }
        }
    }
    plan
}

/// Applies a plan to `local`: the applied edits, and each conflict as `resolutions` says (in
/// the order of [`MergePlan::conflicts`]; missing ones keep yours). Each changed shot is one
/// edit made now by `tab`. The losing side of every conflict and the edits on removed shots go
/// to the history, stamped `now_ms`.
pub fn apply_merge(
    local: &Project,
    plan: &MergePlan,
    resolutions: &[Resolution],
    now_ms: f64,
    tab: &str,
) -> Project {
    let mut out = local.clone();
    let mut changes: BTreeMap<&str, Vec<(ShotField, &FieldValue)>> = BTreeMap::new();
    for change in &plan.applied {
        changes
            .entry(change.shot.shot_id.as_str())
            .or_default()
            .push((change.field, &change.to));
    }
    let mut theirs_lost: BTreeMap<&str, Vec<(ShotField, &FieldValue)>> = BTreeMap::new();
    let mut mine_lost: HashSet<&str> = HashSet::new();
    for (index, conflict) in plan.conflicts.iter().enumerate() {
        let id = conflict.shot.shot_id.as_str();
        match resolutions.get(index).copied().unwrap_or_default() {
            Resolution::Theirs => {
                changes
                    .entry(id)
                    .or_default()
                    .push((conflict.field, &conflict.theirs));
                mine_lost.insert(id);
            }
            Resolution::Mine => theirs_lost
                .entry(id)
                .or_default()
                .push((conflict.field, &conflict.theirs)),
        }
    }
    let author = if plan.from.is_empty() {
        "review".to_owned()
    } else {
        format!("review:{}", plan.from)
    };
    let mut lost = Vec::new();
    for (id, fields) in &theirs_lost {
        if let Some(shot) = local.shot(id) {
            let mut theirs = SharedShot::of(shot);
            for (field, value) in fields {
                field.set(&mut theirs, value);
            }
            let mut version = shot.clone();
            theirs.write_into(&mut version);
            version.updated_ms = plan.sent_ms;
            version.updated_by = author.clone();
            lost.push(version);
        }
    }
    for id in &mine_lost {
        if let Some(shot) = local.shot(id) {
            lost.push(shot.clone());
        }
    }
    for unmatched in &plan.unmatched {
        let mut shot = unmatched.shot.to_shot();
        shot.updated_ms = plan.sent_ms;
        shot.updated_by = author.clone();
        lost.push(shot);
    }
    for (id, fields) in &changes {
        out.edit_shot(id, now_ms, tab, |shot| {
            let mut shared = SharedShot::of(shot);
            for (field, value) in fields {
                field.set(&mut shared, value);
            }
            shared.write_into(shot);
        });
    }
    out.history
        .extend(lost.into_iter().map(|shot| HistoryEntry {
            shot_id: shot.id.clone(),
            shot,
            lost_at_ms: now_ms,
        }));
    cap_front(&mut out.history, HISTORY_CAP);
    out
}

/// Both lists of comments, each once (by id), oldest first.
pub fn merge_comments(a: &[ShotComment], b: &[ShotComment]) -> Vec<ShotComment> {
    let mut seen = HashSet::new();
    let mut out: Vec<ShotComment> = a
        .iter()
        .chain(b)
        .filter(|c| seen.insert(c.id.clone()))
        .cloned()
        .collect();
    out.sort_by(|x, y| {
        x.time_ms
            .total_cmp(&y.time_ms)
            .then_with(|| x.id.cmp(&y.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::project::sample::sample_series;
    use crate::domain::share::{ShareScope, Storyboard};

    fn shared(project: &Project) -> SharePayload {
        SharePayload::storyboard(project, &ShareScope::Project, 0.0).unwrap()
    }

    fn edit(board: &mut Storyboard, shot: &str, field: ShotField, value: FieldValue) {
        assert!(field.set(board.shot_mut(shot).unwrap(), &value));
    }

    fn edit_local(project: &mut Project, shot: &str, field: ShotField, value: FieldValue) {
        project.edit_shot(shot, 5.0, "producer", |s| {
            let mut shared = SharedShot::of(s);
            assert!(field.set(&mut shared, &value));
            shared.write_into(s);
        });
    }

    #[test]
    fn one_sided_edits_apply_and_both_sides_are_kept() {
        let base = sample_series(1, 6);
        let ids: Vec<String> = base.shots().map(|s| s.id.clone()).collect();
        let out = shared(&base);
        let mut theirs = out.storyboard.clone();
        edit(
            &mut theirs,
            &ids[0],
            ShotField::Action,
            FieldValue::Text("他们改的".into()),
        );
        edit(
            &mut theirs,
            &ids[2],
            ShotField::Dialogue,
            FieldValue::Text("他们的台词".into()),
        );
        edit(
            &mut theirs,
            &ids[3],
            ShotField::DurationS,
            FieldValue::Seconds(7.5),
        );
        let comment = ShotComment {
            id: "c1".into(),
            shot_id: ids[0].clone(),
            author: "导演".into(),
            time_ms: 3.0,
            text: "节奏再快一点".into(),
        };
        let review = SharePayload::review(&out, &theirs, vec![comment.clone()], "导演", 4.0);
        assert_eq!(review.edits.len(), 3);

        let mut mine = base.clone();
        edit_local(
            &mut mine,
            &ids[1],
            ShotField::Notes,
            FieldValue::Text("我的备注".into()),
        );
        edit_local(
            &mut mine,
            &ids[2],
            ShotField::Dialogue,
            FieldValue::Text("我的台词".into()),
        );
        edit_local(
            &mut mine,
            &ids[3],
            ShotField::DurationS,
            FieldValue::Seconds(7.5),
        );

        let plan = plan_merge(&mine, &review);
        assert_eq!(plan.applied.len(), 1, "{:?}", plan.applied);
        assert_eq!(plan.applied[0].field, ShotField::Action);
        assert_eq!(plan.kept.len(), 1);
        assert_eq!(plan.kept[0].field, ShotField::Notes);
        assert_eq!(plan.conflicts.len(), 1);
        let conflict = &plan.conflicts[0];
        assert_eq!(conflict.mine, FieldValue::Text("我的台词".into()));
        assert_eq!(conflict.theirs, FieldValue::Text("他们的台词".into()));
        assert_eq!(
            conflict.base,
            Some(FieldValue::Text(
                base.shot(&ids[2]).unwrap().dialogue.clone()
            ))
        );
        assert_eq!(plan.comments, vec![comment]);

        let kept_mine = apply_merge(&mine, &plan, &[Resolution::Mine], 9.0, "producer");
        assert_eq!(kept_mine.shot(&ids[0]).unwrap().action, "他们改的");
        assert_eq!(kept_mine.shot(&ids[1]).unwrap().notes, "我的备注");
        assert_eq!(kept_mine.shot(&ids[2]).unwrap().dialogue, "我的台词");
        let lost = kept_mine.history.last().unwrap();
        assert_eq!(lost.shot.dialogue, "他们的台词");
        assert_eq!(lost.shot.updated_by, "review:导演");
        assert!(kept_mine.shot(&ids[0]).unwrap().version > mine.shot(&ids[0]).unwrap().version);

        let took_theirs = apply_merge(&mine, &plan, &[Resolution::Theirs], 9.0, "producer");
        assert_eq!(took_theirs.shot(&ids[2]).unwrap().dialogue, "他们的台词");
        assert_eq!(
            took_theirs.history.last().unwrap().shot.dialogue,
            "我的台词"
        );
    }

    #[test]
    fn edits_on_removed_shots_go_to_the_history() {
        let base = sample_series(1, 6);
        let id = base.shots().next().unwrap().id.clone();
        let out = shared(&base);
        let mut theirs = out.storyboard.clone();
        edit(
            &mut theirs,
            &id,
            ShotField::Notes,
            FieldValue::Text("保留这个镜头".into()),
        );
        let review = SharePayload::review(&out, &theirs, Vec::new(), "编剧", 1.0);
        let mut mine = base.clone();
        mine.remove_shot(&id, 2.0, "producer");
        let plan = plan_merge(&mine, &review);
        assert_eq!(plan.unmatched.len(), 1);
        assert_eq!(plan.unmatched[0].fields, vec![ShotField::Notes]);
        let merged = apply_merge(&mine, &plan, &[], 3.0, "producer");
        assert!(merged.shot(&id).is_none());
        assert_eq!(merged.history.last().unwrap().shot.notes, "保留这个镜头");
    }

    #[test]
    fn a_plain_link_is_settled_by_versions() {
        let base = sample_series(1, 6);
        let ids: Vec<String> = base.shots().map(|s| s.id.clone()).collect();
        let mut newer_there = base.clone();
        edit_local(
            &mut newer_there,
            &ids[0],
            ShotField::Action,
            FieldValue::Text("新".into()),
        );
        let link = shared(&newer_there);
        let mut mine = base.clone();
        edit_local(
            &mut mine,
            &ids[1],
            ShotField::Action,
            FieldValue::Text("我的".into()),
        );
        let plan = plan_merge(&mine, &link);
        assert_eq!(plan.conflicts.len(), 1);
        assert_eq!(plan.conflicts[0].shot.shot_id, ids[0]);
        assert_eq!(plan.conflicts[0].base, None);
        assert_eq!(plan.kept.len(), 1);
        assert_eq!(plan.kept[0].shot.shot_id, ids[1]);
        // My own link, opened again: nothing to do.
        assert!(plan_merge(&mine, &shared(&mine)).is_empty());
    }

    #[test]
    fn comments_merge_by_id() {
        let c = |id: &str, t: f64| ShotComment {
            id: id.into(),
            shot_id: "s".into(),
            author: "a".into(),
            time_ms: t,
            text: "x".into(),
        };
        let merged = merge_comments(&[c("b", 2.0), c("a", 1.0)], &[c("a", 1.0), c("c", 0.5)]);
        let ids: Vec<&str> = merged.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
    }
}
