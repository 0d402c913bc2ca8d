//! Bringing a storyboard that comes back by link into the project it was shared from: by shot
//! id, field by field, with conflicts listed for the user and comments kept.
//!
//! **Fields.** A shot's storyboard fields are named by [`ShotField`] and read and written as a
//! [`FieldValue`] (text, seconds or a list), so edits, conflicts and the review editor treat
//! every field the same way.
//!
//! **Whose edit is it?** A review link carries the collaborator's storyboard and, for each
//! field they changed, its value in the storyboard they received ([`FieldEdit::base`]). For a
//! field they changed, [`plan_merge`] compares that base with your current value:
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

use serde::{Deserialize, Serialize};

use crate::domain::i18n::Lang;
use crate::domain::project::{cap_front, HistoryEntry, Project, ShotStatus, HISTORY_CAP};
use crate::domain::share::{
    FieldEdit, ShareKind, SharePayload, SharedShot, ShotComment, Storyboard, MAX_LIST_ITEMS,
    MAX_SHOT_SECONDS,
};

/// A storyboard field of a shot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShotField {
    /// The shot number, `1A`.
    Number,
    /// Shot size.
    ShotSize,
    /// Camera angle.
    CameraAngle,
    /// Camera movement.
    Movement,
    /// Duration in seconds.
    DurationS,
    /// What happens.
    Action,
    /// Spoken lines.
    Dialogue,
    /// Emotional tone.
    EmotionalTone,
    /// Visual elements.
    VisualElements,
    /// Characters in frame.
    Characters,
    /// Notes.
    Notes,
    /// Production status.
    Status,
}

/// How a field is typed and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// One line of text.
    Line,
    /// Text that may span lines.
    Text,
    /// A duration in seconds.
    Seconds,
    /// A list of names, typed separated by commas.
    List,
    /// A [`ShotStatus`].
    Status,
}

/// The value of one field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// Text (and a status, by its tag: `draft`, `ready`…).
    Text(String),
    /// Seconds.
    Seconds(f64),
    /// A list.
    List(Vec<String>),
}

/// Why a typed value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputError {
    /// Not a number of seconds between 0 and [`MAX_SHOT_SECONDS`].
    NotSeconds,
    /// More than [`MAX_LIST_ITEMS`] items.
    TooManyItems,
    /// Not a known status.
    UnknownStatus,
}

impl InputError {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            InputError::NotSeconds => lang
                .pick(
                    "请输入 0 到 3600 之间的秒数。",
                    "Enter a number of seconds from 0 to 3600.",
                )
                .into(),
            InputError::TooManyItems => match lang {
                Lang::ZhCn => format!("最多 {MAX_LIST_ITEMS} 项。"),
                Lang::En => format!("At most {MAX_LIST_ITEMS} items."),
            },
            InputError::UnknownStatus => lang.pick("未知的状态。", "Unknown status.").into(),
        }
    }
}

/// The statuses in order, for a select.
pub const STATUSES: [ShotStatus; 5] = [
    ShotStatus::Draft,
    ShotStatus::Ready,
    ShotStatus::Generating,
    ShotStatus::Done,
    ShotStatus::Failed,
];

/// A status's stored tag, as in project files.
pub fn status_tag(status: ShotStatus) -> &'static str {
    match status {
        ShotStatus::Draft => "draft",
        ShotStatus::Ready => "ready",
        ShotStatus::Generating => "generating",
        ShotStatus::Done => "done",
        ShotStatus::Failed => "failed",
    }
}

/// The status of a tag.
pub fn status_from_tag(tag: &str) -> Option<ShotStatus> {
    STATUSES.into_iter().find(|s| status_tag(*s) == tag)
}

/// A status for people.
pub fn status_label(status: ShotStatus, lang: Lang) -> &'static str {
    match status {
        ShotStatus::Draft => lang.pick("草稿", "Draft"),
        ShotStatus::Ready => lang.pick("可生成", "Ready"),
        ShotStatus::Generating => lang.pick("生成中", "Generating"),
        ShotStatus::Done => lang.pick("已完成", "Done"),
        ShotStatus::Failed => lang.pick("失败", "Failed"),
    }
}

/// Seconds as typed and exported: `5`, `4.5`, `2.25` (at most three decimals, no trailing
/// zeros).
pub fn format_seconds(seconds: f64) -> String {
    let text = format!("{seconds:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

impl ShotField {
    /// Every field, in the order cards and editors show them.
    pub const ALL: [ShotField; 12] = [
        ShotField::Number,
        ShotField::ShotSize,
        ShotField::CameraAngle,
        ShotField::Movement,
        ShotField::DurationS,
        ShotField::Action,
        ShotField::Dialogue,
        ShotField::EmotionalTone,
        ShotField::VisualElements,
        ShotField::Characters,
        ShotField::Notes,
        ShotField::Status,
    ];

    /// How the field is typed.
    pub fn kind(self) -> FieldKind {
        match self {
            ShotField::Number
            | ShotField::ShotSize
            | ShotField::CameraAngle
            | ShotField::Movement
            | ShotField::EmotionalTone => FieldKind::Line,
            ShotField::Action | ShotField::Dialogue | ShotField::Notes => FieldKind::Text,
            ShotField::DurationS => FieldKind::Seconds,
            ShotField::VisualElements | ShotField::Characters => FieldKind::List,
            ShotField::Status => FieldKind::Status,
        }
    }

    /// The field's stable name, as in files (`shot_size`).
    pub fn key(self) -> &'static str {
        match self {
            ShotField::Number => "number",
            ShotField::ShotSize => "shot_size",
            ShotField::CameraAngle => "camera_angle",
            ShotField::Movement => "movement",
            ShotField::DurationS => "duration_s",
            ShotField::Action => "action",
            ShotField::Dialogue => "dialogue",
            ShotField::EmotionalTone => "emotional_tone",
            ShotField::VisualElements => "visual_elements",
            ShotField::Characters => "characters",
            ShotField::Notes => "notes",
            ShotField::Status => "status",
        }
    }

    /// The field's name for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            ShotField::Number => lang.pick("镜号", "Shot"),
            ShotField::ShotSize => lang.pick("景别", "Size"),
            ShotField::CameraAngle => lang.pick("角度", "Angle"),
            ShotField::Movement => lang.pick("运镜", "Movement"),
            ShotField::DurationS => lang.pick("时长（秒）", "Duration (s)"),
            ShotField::Action => lang.pick("动作", "Action"),
            ShotField::Dialogue => lang.pick("台词", "Dialogue"),
            ShotField::EmotionalTone => lang.pick("情绪", "Tone"),
            ShotField::VisualElements => lang.pick("画面元素", "Visual elements"),
            ShotField::Characters => lang.pick("角色", "Characters"),
            ShotField::Notes => lang.pick("备注", "Notes"),
            ShotField::Status => lang.pick("状态", "Status"),
        }
    }

    /// The field's value in a shot.
    pub fn get(self, shot: &SharedShot) -> FieldValue {
        let text = |t: &String| FieldValue::Text(t.clone());
        match self {
            ShotField::Number => text(&shot.number),
            ShotField::ShotSize => text(&shot.shot_size),
            ShotField::CameraAngle => text(&shot.camera_angle),
            ShotField::Movement => text(&shot.movement),
            ShotField::DurationS => FieldValue::Seconds(shot.duration_s),
            ShotField::Action => text(&shot.action),
            ShotField::Dialogue => text(&shot.dialogue),
            ShotField::EmotionalTone => text(&shot.emotional_tone),
            ShotField::VisualElements => FieldValue::List(shot.visual_elements.clone()),
            ShotField::Characters => FieldValue::List(shot.characters.clone()),
            ShotField::Notes => text(&shot.notes),
            ShotField::Status => FieldValue::Text(status_tag(shot.status).into()),
        }
    }

    /// Whether `value` is of this field's kind (and a known status for [`ShotField::Status`]).
    pub fn accepts(self, value: &FieldValue) -> bool {
        match (self.kind(), value) {
            (FieldKind::Line | FieldKind::Text, FieldValue::Text(_)) => true,
            (FieldKind::Seconds, FieldValue::Seconds(s)) => s.is_finite(),
            (FieldKind::List, FieldValue::List(_)) => true,
            (FieldKind::Status, FieldValue::Text(tag)) => status_from_tag(tag).is_some(),
            _ => false,
        }
    }

    /// Sets the field; `false` (and nothing changed) when the value is of another kind.
    pub fn set(self, shot: &mut SharedShot, value: &FieldValue) -> bool {
        if !self.accepts(value) {
            return false;
        }
        match (self, value) {
            (ShotField::DurationS, FieldValue::Seconds(s)) => shot.duration_s = *s,
            (ShotField::VisualElements, FieldValue::List(l)) => shot.visual_elements = l.clone(),
            (ShotField::Characters, FieldValue::List(l)) => shot.characters = l.clone(),
            (ShotField::Status, FieldValue::Text(tag)) => {
                shot.status = status_from_tag(tag).unwrap_or_default()
            }
            (field, FieldValue::Text(t)) => {
                let target = match field {
                    ShotField::Number => &mut shot.number,
                    ShotField::ShotSize => &mut shot.shot_size,
                    ShotField::CameraAngle => &mut shot.camera_angle,
                    ShotField::Movement => &mut shot.movement,
                    ShotField::Action => &mut shot.action,
                    ShotField::Dialogue => &mut shot.dialogue,
                    ShotField::EmotionalTone => &mut shot.emotional_tone,
                    _ => &mut shot.notes,
                };
                *target = t.clone();
            }
            _ => return false,
        }
        true
    }

    /// The field as it appears in an input: lists joined by `, `, seconds as a number, a
    /// status by its tag.
    pub fn input_text(self, shot: &SharedShot) -> String {
        match self.get(shot) {
            FieldValue::Text(t) => t,
            FieldValue::Seconds(s) => format_seconds(s),
            FieldValue::List(l) => l.join(", "),
        }
    }

    /// Reads what the user typed: seconds (`5`, `4.5`, `5s`, `5秒`), a list separated by
    /// commas (`,` `，` `、`) or line breaks, a status tag, or text as it is.
    pub fn parse_input(self, text: &str) -> Result<FieldValue, InputError> {
        match self.kind() {
            FieldKind::Line | FieldKind::Text => Ok(FieldValue::Text(text.into())),
            FieldKind::Seconds => {
                let number = text
                    .trim()
                    .trim_end_matches(['s', 'S', '秒'])
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| InputError::NotSeconds)?;
                if (0.0..=MAX_SHOT_SECONDS).contains(&number) {
                    Ok(FieldValue::Seconds(number))
                } else {
                    Err(InputError::NotSeconds)
                }
            }
            FieldKind::List => {
                let items: Vec<String> = text
                    .split([',', '，', '、', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                if items.len() > MAX_LIST_ITEMS {
                    Err(InputError::TooManyItems)
                } else {
                    Ok(FieldValue::List(items))
                }
            }
            FieldKind::Status => status_from_tag(text.trim())
                .map(|s| FieldValue::Text(status_tag(s).into()))
                .ok_or(InputError::UnknownStatus),
        }
    }
}

impl FieldValue {
    /// The value for people: seconds with their unit, lists joined, statuses named.
    pub fn display(&self, field: ShotField, lang: Lang) -> String {
        match self {
            FieldValue::Text(tag) if field == ShotField::Status => status_from_tag(tag)
                .map(|s| status_label(s, lang).to_owned())
                .unwrap_or_else(|| tag.clone()),
            FieldValue::Text(text) => text.clone(),
            FieldValue::Seconds(s) => match lang {
                Lang::ZhCn => format!("{} 秒", format_seconds(*s)),
                Lang::En => format!("{} s", format_seconds(*s)),
            },
            FieldValue::List(items) => items.join(lang.pick("、", ", ")),
        }
    }
}

/// The fields where `edited` differs from `base`, shot by shot, with their values in `base`:
/// the edit list of a review. Shots only one side has are not edits.
pub fn review_edits(base: &Storyboard, edited: &Storyboard) -> Vec<FieldEdit> {
    let before: HashMap<&str, &SharedShot> = base.shots().map(|s| (s.id.as_str(), s)).collect();
    let mut edits = Vec::new();
    for shot in edited.shots() {
        let Some(old) = before.get(shot.id.as_str()) else {
            continue;
        };
        for field in ShotField::ALL {
            let was = field.get(old);
            if field.get(shot) != was {
                edits.push(FieldEdit {
                    shot_id: shot.id.clone(),
                    field,
                    base: was,
                });
            }
        }
    }
    edits
}

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
    use crate::domain::share::ShareScope;

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
    fn typed_values() {
        let f = ShotField::DurationS;
        assert_eq!(f.parse_input(" 4.5 "), Ok(FieldValue::Seconds(4.5)));
        assert_eq!(f.parse_input("5秒"), Ok(FieldValue::Seconds(5.0)));
        assert_eq!(f.parse_input("5s"), Ok(FieldValue::Seconds(5.0)));
        assert_eq!(f.parse_input("-1"), Err(InputError::NotSeconds));
        assert_eq!(f.parse_input("NaN"), Err(InputError::NotSeconds));
        assert_eq!(f.parse_input("abc"), Err(InputError::NotSeconds));
        assert_eq!(
            ShotField::Characters.parse_input("林晚晴，顾承泽、 周妈,"),
            Ok(FieldValue::List(vec![
                "林晚晴".into(),
                "顾承泽".into(),
                "周妈".into()
            ]))
        );
        assert_eq!(
            ShotField::Status.parse_input("ready"),
            Ok(FieldValue::Text("ready".into()))
        );
        assert_eq!(
            ShotField::Status.parse_input("nope"),
            Err(InputError::UnknownStatus)
        );
        assert_eq!(format_seconds(5.0), "5");
        assert_eq!(format_seconds(2.25), "2.25");
        assert_eq!(format_seconds(-0.0), "0");
        assert_eq!(
            FieldValue::Seconds(3.0).display(ShotField::DurationS, Lang::En),
            "3 s"
        );
        assert_eq!(
            FieldValue::Text("done".into()).display(ShotField::Status, Lang::ZhCn),
            "已完成"
        );
        let mut shot = SharedShot::of(&crate::domain::project::Shot::new("s", "1A"));
        for field in ShotField::ALL {
            let value = field.get(&shot);
            assert!(field.accepts(&value), "{field:?}");
            assert!(field.set(&mut shot, &value));
            assert_eq!(
                field.parse_input(&field.input_text(&shot)),
                Ok(value),
                "{field:?}"
            );
            assert!(!field.label(Lang::ZhCn).is_empty() && !field.key().is_empty());
        }
        assert!(!ShotField::Action.set(&mut shot, &FieldValue::Seconds(1.0)));
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
