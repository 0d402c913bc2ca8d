//! The review: what a collaborator sends back — their [`ShotComment`]s, and for each field they
//! changed its value before ([`FieldEdit`]) — with the fields of a shot named ([`ShotField`]),
//! valued ([`FieldValue`]) and typed the same way for edits, conflicts and the review editor.
//! Merging a review into the project is [`crate::domain::storyboard::merge`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::codec::{SHARE_FORMAT, SHARE_VERSION};
use super::payload::{
    ShareKind, SharePayload, SharedShot, Storyboard, MAX_LIST_ITEMS, MAX_SHOT_SECONDS,
};
use crate::domain::i18n::Lang;
use crate::domain::project::ShotStatus;

/// A comment on a shot, kept with who wrote it and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShotComment {
    /// Unique id (the author's device makes it).
    pub id: String,
    /// The shot it is about.
    pub shot_id: String,
    /// The author's name.
    pub author: String,
    /// When it was written (ms since the epoch).
    pub time_ms: f64,
    /// The comment, plain text.
    pub text: String,
}

/// A field a collaborator changed: which, and its value before the change. The new value is
/// the one in the payload's storyboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldEdit {
    /// The shot.
    pub shot_id: String,
    /// The field.
    pub field: ShotField,
    /// The value it had in the storyboard they received.
    pub base: FieldValue,
}

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

impl SharePayload {
    /// A review sent back: the `received` storyboard as `from` edited it, with the comments.
    /// The edits are the fields where `edited` differs from what was received (see
    /// [`review_edits`]).
    pub fn review(
        received: &SharePayload,
        edited: &Storyboard,
        comments: Vec<ShotComment>,
        from: &str,
        now_ms: f64,
    ) -> SharePayload {
        SharePayload {
            format: SHARE_FORMAT.into(),
            version: SHARE_VERSION,
            kind: ShareKind::Review,
            scope: received.scope.clone(),
            sent_ms: now_ms,
            from: from.trim().into(),
            storyboard: edited.clone(),
            comments,
            edits: review_edits(&received.storyboard, edited),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
