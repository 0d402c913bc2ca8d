//! Schema validation of the JSON a model returns for a storyboard or a dialogue take.
//!
//! [`validate_storyboard`] reads `{"shots": [...]}` (as [`crate::domain::storyboard::llm_json::extract_json`]
//! delivers it) shot by shot: a shot that can be used becomes a [`ShotDraft`], one that cannot
//! is listed with its [`Problem`]s, and the others are kept. [`validate_take`] reads one
//! `{dialogue, stage_direction, emotional_tone}` take. Both are forgiving where the meaning is
//! clear and say so in a warning:
//!
//! - keys in another case or spelling (`shotNumber`, `Camera Angle`), common synonyms
//!   (`action` for `action_description`, `duration` for `duration_s`) and the Chinese keys a
//!   model prompted in Chinese tends to use (`镜头号`, `机位`, `画面描述`, `台词`…);
//! - numbers written as text (`"5s"`, `"5 秒"`), text written as numbers, lists written as
//!   one comma-separated string (`,` `，` `、` `;` are all separators), a dialogue written as
//!   an array of lines or of `{character, line}` objects;
//! - a missing optional field gets a default (`shot_number` counts from 1, `camera_angle`,
//!   `emotional_tone`, `stage_direction` are left empty, `visual_elements` is an empty list),
//!   with a note;
//! - text longer than [`MAX_FIELD_CHARS`] characters is cut, with a warning.
//!
//! Only `action_description` (shots) and `dialogue` (takes) are required: without them a shot
//! or take cannot be used. A storyboard outside [`SHOTS_EXPECTED`] shots is a warning. Text is
//! kept as written (trimmed at the ends): the UI renders it as text, so `<script>` is harmless.
//!
//! ```
//! use duanju_studio::domain::storyboard::schema::{validate_storyboard, validate_take};
//! use serde_json::json;
//!
//! let result = validate_storyboard(&json!({"shots": [
//!     {"shot_number": "1A", "camera_angle": "低角度", "action_description": "林梅推门而入",
//!      "emotional_tone": "紧张", "visual_elements": "雨夜，霓虹"},
//!     {"shot_number": 2, "camera_angle": "特写"},
//! ]}));
//! assert_eq!(result.shots[0].visual_elements, ["雨夜", "霓虹"]);
//! assert_eq!(result.invalid[0].0, 1);
//! assert_eq!(result.invalid[0].1[0].kind_id(), "missing");
//!
//! let take = validate_take(&json!({"台词": "你终于回来了。", "情绪": "冷"})).unwrap();
//! assert_eq!(take.dialogue, "你终于回来了。");
//! ```

use std::ops::RangeInclusive;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::i18n::Lang;
use crate::domain::storyboard::llm_json::JsonType;

/// The longest text field kept, in characters; longer text is cut with a warning.
pub const MAX_FIELD_CHARS: usize = 4_000;
/// The longest item of a list field (`visual_elements`, `characters`), in characters.
pub const MAX_ITEM_CHARS: usize = 200;
/// The most items a list field keeps.
pub const MAX_LIST_ITEMS: usize = 32;
/// The longest shot number kept, in characters.
pub const MAX_SHOT_NUMBER_CHARS: usize = 16;
/// The most shots read from one reply; the rest are dropped with a warning.
pub const MAX_SHOTS: usize = 100;
/// How many shots a scene's storyboard should have; outside this range is a warning.
pub const SHOTS_EXPECTED: RangeInclusive<usize> = 4..=8;
/// The longest shot duration accepted, in seconds.
pub const MAX_DURATION_S: f64 = 600.0;

/// Whether a problem makes the shot or take unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The shot or take cannot be used.
    Error,
    /// Something was repaired or defaulted; the shot or take is kept.
    Warning,
}

/// One problem with a shot, a take or the whole storyboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// The field concerned (its canonical name), if one is.
    pub field: Option<&'static str>,
    /// What happened.
    pub kind: ProblemKind,
    /// Whether it makes the shot or take unusable.
    pub severity: Severity,
}

/// The kinds of [`Problem`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProblemKind {
    /// The shot or take is not a JSON object.
    NotAnObject {
        /// What it is instead.
        found: JsonType,
    },
    /// The reply has no array of shots.
    NotAStoryboard,
    /// A required field is missing or empty.
    Missing,
    /// A field has a type that cannot be used; a required field makes the item unusable, an
    /// optional one is dropped or defaulted.
    WrongType {
        /// What it is instead.
        found: JsonType,
    },
    /// An optional field was missing; the default was used.
    Defaulted {
        /// The default, as text (may be empty).
        value: String,
    },
    /// A value was converted (a number from text, a list from a comma-separated string…).
    Coerced {
        /// What it was.
        from: JsonType,
    },
    /// The field was found under another key.
    Renamed {
        /// The key in the reply.
        from: String,
    },
    /// The text was longer than allowed and was cut.
    Truncated {
        /// The limit, in characters.
        max: usize,
    },
    /// A list had more items than allowed; the rest were dropped.
    TooManyItems {
        /// The limit.
        max: usize,
    },
    /// A duration that is not a positive number of seconds up to [`MAX_DURATION_S`]; dropped.
    OutOfRange,
    /// The storyboard has fewer or more shots than [`SHOTS_EXPECTED`].
    ShotCount {
        /// The number of usable shots.
        count: usize,
    },
    /// More than [`MAX_SHOTS`] shots; the rest were dropped.
    TooManyShots {
        /// How many arrived.
        count: usize,
    },
    /// Two usable shots share a shot number.
    DuplicateShotNumber {
        /// The number.
        number: String,
    },
}

impl Problem {
    fn error(field: Option<&'static str>, kind: ProblemKind) -> Problem {
        Problem {
            field,
            kind,
            severity: Severity::Error,
        }
    }

    fn warning(field: Option<&'static str>, kind: ProblemKind) -> Problem {
        Problem {
            field,
            kind,
            severity: Severity::Warning,
        }
    }

    /// True for an [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A stable identifier of the kind, for tests, logs and fixtures.
    pub fn kind_id(&self) -> &'static str {
        match self.kind {
            ProblemKind::NotAnObject { .. } => "not_an_object",
            ProblemKind::NotAStoryboard => "not_a_storyboard",
            ProblemKind::Missing => "missing",
            ProblemKind::WrongType { .. } => "wrong_type",
            ProblemKind::Defaulted { .. } => "defaulted",
            ProblemKind::Coerced { .. } => "coerced",
            ProblemKind::Renamed { .. } => "renamed",
            ProblemKind::Truncated { .. } => "truncated",
            ProblemKind::TooManyItems { .. } => "too_many_items",
            ProblemKind::OutOfRange => "out_of_range",
            ProblemKind::ShotCount { .. } => "shot_count",
            ProblemKind::TooManyShots { .. } => "too_many_shots",
            ProblemKind::DuplicateShotNumber { .. } => "duplicate_shot_number",
        }
    }

    /// The message shown to the user (the UI adds which shot or take it is about).
    pub fn message(&self, lang: Lang) -> String {
        let field = self.field.unwrap_or("");
        let (zh, en) = match &self.kind {
            ProblemKind::NotAnObject { found } => (
                format!("不是 JSON 对象（收到的是{}）", found.name(Lang::ZhCn)),
                format!("is not a JSON object (got {})", found.name(Lang::En)),
            ),
            ProblemKind::NotAStoryboard => (
                "回复中没有镜头数组 shots".to_string(),
                "The reply has no array of shots".to_string(),
            ),
            ProblemKind::Missing => (
                format!("缺少必填字段 {field} 或为空"),
                format!("the required field {field} is missing or empty"),
            ),
            ProblemKind::WrongType { found } => (
                format!("字段 {field} 的类型不对（收到的是{}）", found.name(Lang::ZhCn)),
                format!("the field {field} has the wrong type (got {})", found.name(Lang::En)),
            ),
            ProblemKind::Defaulted { value } if value.is_empty() => (
                format!("缺少字段 {field}，已留空"),
                format!("the field {field} was missing and was left empty"),
            ),
            ProblemKind::Defaulted { value } => (
                format!("缺少字段 {field}，已使用默认值 {value}"),
                format!("the field {field} was missing; the default {value} was used"),
            ),
            ProblemKind::Coerced { from } => (
                format!("字段 {field} 由{}转换而来", from.name(Lang::ZhCn)),
                format!("the field {field} was converted from {}", from.name(Lang::En)),
            ),
            ProblemKind::Renamed { from } => (
                format!("字段 {field} 写成了 “{from}”"),
                format!("the field {field} was written as “{from}”"),
            ),
            ProblemKind::Truncated { max } => (
                format!("字段 {field} 超过 {max} 个字符，已截断"),
                format!("the field {field} was longer than {max} characters and was cut"),
            ),
            ProblemKind::TooManyItems { max } => (
                format!("字段 {field} 超过 {max} 项，多余的已丢弃"),
                format!("the field {field} had more than {max} items; the rest were dropped"),
            ),
            ProblemKind::OutOfRange => (
                format!("字段 {field} 不是 0 到 {MAX_DURATION_S} 秒之间的时长，已忽略"),
                format!("the field {field} is not a duration between 0 and {MAX_DURATION_S} s; it was ignored"),
            ),
            ProblemKind::ShotCount { count } => (
                format!(
                    "分镜有 {count} 个可用镜头，预期 {} 到 {} 个",
                    SHOTS_EXPECTED.start(),
                    SHOTS_EXPECTED.end()
                ),
                format!(
                    "The storyboard has {count} usable shots; {} to {} were expected",
                    SHOTS_EXPECTED.start(),
                    SHOTS_EXPECTED.end()
                ),
            ),
            ProblemKind::TooManyShots { count } => (
                format!("回复有 {count} 个镜头，只保留前 {MAX_SHOTS} 个"),
                format!("The reply has {count} shots; only the first {MAX_SHOTS} were kept"),
            ),
            ProblemKind::DuplicateShotNumber { number } => (
                format!("镜头号 {number} 重复"),
                format!("Shot number {number} is used more than once"),
            ),
        };
        lang.pick(&zh, &en).to_string()
    }
}

/// A usable shot, as read from the reply.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShotDraft {
    /// The shot's position in the reply's array (0-based).
    pub index: usize,
    /// `1`, `2`, `1A`…: numbers become text.
    pub shot_number: String,
    /// Camera angle (`low angle`, `俯拍`); may be empty.
    pub camera_angle: String,
    /// What happens in the shot; never empty.
    pub action_description: String,
    /// Emotional tone; may be empty.
    pub emotional_tone: String,
    /// Visual elements to include.
    pub visual_elements: Vec<String>,
    /// Shot size (`close-up`, `全景`), if given.
    pub shot_size: Option<String>,
    /// Camera movement (`dolly in`, `推`), if given.
    pub movement: Option<String>,
    /// Duration in seconds, if given.
    pub duration_s: Option<f64>,
    /// Dialogue spoken in the shot, if any.
    pub dialogue: Option<String>,
    /// Characters in the shot.
    pub characters: Vec<String>,
    /// Warnings about this shot (defaults, conversions, cuts).
    pub notes: Vec<Problem>,
}

/// The outcome of validating a storyboard.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StoryboardResult {
    /// The usable shots, in order.
    pub shots: Vec<ShotDraft>,
    /// The unusable shots: their index in the reply and all their problems (at least one an
    /// error).
    pub invalid: Vec<(usize, Vec<Problem>)>,
    /// Problems with the storyboard as a whole (shot count, duplicate numbers, no shots array).
    pub problems: Vec<Problem>,
}

/// A usable dialogue take.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TakeDraft {
    /// The lines; never empty.
    pub dialogue: String,
    /// How to play it; may be empty.
    pub stage_direction: String,
    /// The emotional tone; may be empty.
    pub emotional_tone: String,
    /// Warnings about this take.
    pub notes: Vec<Problem>,
}

/// Validates `{"shots": [...]}` (a bare array of shots, or an object at `shots`, is read too).
pub fn validate_storyboard(value: &Value) -> StoryboardResult {
    let mut result = StoryboardResult::default();
    let one;
    let items: &[Value] = match value.get("shots").unwrap_or(value) {
        Value::Array(items) => items,
        object @ Value::Object(map) if value.get("shots").is_some() || !map.is_empty() => {
            one = [object.clone()];
            &one
        }
        _ => {
            result
                .problems
                .push(Problem::error(None, ProblemKind::NotAStoryboard));
            return result;
        }
    };
    if items.len() > MAX_SHOTS {
        result.problems.push(Problem::warning(
            None,
            ProblemKind::TooManyShots { count: items.len() },
        ));
    }
    for (index, item) in items.iter().take(MAX_SHOTS).enumerate() {
        match shot(index, item) {
            Ok(shot) => result.shots.push(shot),
            Err(problems) => result.invalid.push((index, problems)),
        }
    }
    let count = result.shots.len();
    if !SHOTS_EXPECTED.contains(&count) {
        result
            .problems
            .push(Problem::warning(None, ProblemKind::ShotCount { count }));
    }
    let mut seen: Vec<&str> = Vec::new();
    for shot in &result.shots {
        let number = shot.shot_number.as_str();
        if seen.contains(&number) {
            let duplicate = ProblemKind::DuplicateShotNumber {
                number: number.to_string(),
            };
            if !result.problems.iter().any(|p| p.kind == duplicate) {
                result
                    .problems
                    .push(Problem::warning(Some("shot_number"), duplicate));
            }
        } else {
            seen.push(number);
        }
    }
    result
}

/// Validates one take `{dialogue, stage_direction, emotional_tone}`. A take wrapped in a
/// single object field (`{"take": {...}}`) is read too. On failure, all problems are returned
/// (at least one is an error).
pub fn validate_take(value: &Value) -> Result<TakeDraft, Vec<Problem>> {
    let Value::Object(map) = value else {
        return Err(vec![Problem::error(
            None,
            ProblemKind::NotAnObject {
                found: JsonType::of(value),
            },
        )]);
    };
    let mut fields = Fields::new(map);
    let take_keys = [DIALOGUE_KEYS, STAGE_DIRECTION_KEYS, TONE_KEYS];
    if !take_keys.iter().any(|keys| fields.find(keys).is_some()) {
        let objects: Vec<(&String, &Map<String, Value>)> = map
            .iter()
            .filter_map(|(k, v)| v.as_object().map(|o| (k, o)))
            .collect();
        if let [(key, inner)] = objects.as_slice() {
            fields = Fields::new(inner);
            fields.problems.push(Problem::warning(
                None,
                ProblemKind::Renamed {
                    from: (*key).clone(),
                },
            ));
        }
    }
    let dialogue = fields.text("dialogue", DIALOGUE_KEYS, Join::Lines);
    let stage_direction = fields.text("stage_direction", STAGE_DIRECTION_KEYS, Join::Comma);
    let emotional_tone = fields.text("emotional_tone", TONE_KEYS, Join::Comma);
    let dialogue = fields.required("dialogue", dialogue);
    let stage_direction = fields.or_empty("stage_direction", stage_direction);
    let emotional_tone = fields.or_empty("emotional_tone", emotional_tone);
    let problems = fields.problems;
    match dialogue {
        Some(dialogue) if !problems.iter().any(Problem::is_error) => Ok(TakeDraft {
            dialogue,
            stage_direction,
            emotional_tone,
            notes: problems,
        }),
        _ => Err(problems),
    }
}

// Keys each field is found under: the canonical key first, then synonyms. Keys match ignoring
// case, spaces, `_` and `-`.
const SHOT_NUMBER_KEYS: &[&str] = &[
    "shot_number",
    "shot",
    "number",
    "shot_no",
    "id",
    "镜头号",
    "镜号",
    "序号",
];
const CAMERA_ANGLE_KEYS: &[&str] = &[
    "camera_angle",
    "angle",
    "camera",
    "机位",
    "镜头角度",
    "角度",
];
const ACTION_KEYS: &[&str] = &[
    "action_description",
    "action",
    "description",
    "画面描述",
    "动作描述",
    "画面",
    "动作",
    "描述",
];
const TONE_KEYS: &[&str] = &[
    "emotional_tone",
    "tone",
    "emotion",
    "mood",
    "情绪",
    "情感基调",
    "情感",
    "语气",
];
const VISUAL_KEYS: &[&str] = &[
    "visual_elements",
    "visuals",
    "elements",
    "视觉元素",
    "画面元素",
];
const SHOT_SIZE_KEYS: &[&str] = &["shot_size", "size", "framing", "景别"];
const MOVEMENT_KEYS: &[&str] = &["movement", "camera_movement", "运镜", "镜头运动"];
const DURATION_KEYS: &[&str] = &[
    "duration_s",
    "duration",
    "duration_seconds",
    "seconds",
    "时长",
];
const DIALOGUE_KEYS: &[&str] = &["dialogue", "dialog", "lines", "line", "台词", "对白"];
const CHARACTER_KEYS: &[&str] = &["characters", "character", "cast", "角色", "人物"];
const STAGE_DIRECTION_KEYS: &[&str] = &[
    "stage_direction",
    "stage_directions",
    "direction",
    "action",
    "舞台指示",
    "表演提示",
    "动作",
];

/// Reads one shot.
fn shot(index: usize, item: &Value) -> Result<ShotDraft, Vec<Problem>> {
    let Value::Object(map) = item else {
        return Err(vec![Problem::error(
            None,
            ProblemKind::NotAnObject {
                found: JsonType::of(item),
            },
        )]);
    };
    let mut fields = Fields::new(map);
    let shot_number = fields.shot_number(index);
    let camera_angle = fields.text("camera_angle", CAMERA_ANGLE_KEYS, Join::Comma);
    let action = fields.text("action_description", ACTION_KEYS, Join::Lines);
    let emotional_tone = fields.text("emotional_tone", TONE_KEYS, Join::Comma);
    let visual_elements = fields.list("visual_elements", VISUAL_KEYS);
    let shot_size = fields.text("shot_size", SHOT_SIZE_KEYS, Join::Comma);
    let movement = fields.text("movement", MOVEMENT_KEYS, Join::Comma);
    let duration_s = fields.duration();
    let dialogue = fields.text("dialogue", DIALOGUE_KEYS, Join::Lines);
    let characters = fields.list("characters", CHARACTER_KEYS);

    let action_description = fields.required("action_description", action);
    let camera_angle = fields.or_empty("camera_angle", camera_angle);
    let emotional_tone = fields.or_empty("emotional_tone", emotional_tone);
    let visual_elements = match visual_elements {
        Some(list) => list,
        None => {
            fields.default("visual_elements", "[]");
            Vec::new()
        }
    };
    let notes = fields.problems;
    match action_description {
        Some(action_description) if !notes.iter().any(Problem::is_error) => Ok(ShotDraft {
            index,
            shot_number,
            camera_angle,
            action_description,
            emotional_tone,
            visual_elements,
            shot_size,
            movement,
            duration_s,
            dialogue,
            characters: characters.unwrap_or_default(),
            notes,
        }),
        _ => Err(notes),
    }
}

/// How an array is joined into one text field.
#[derive(Clone, Copy)]
enum Join {
    /// One item per line (dialogue, descriptions).
    Lines,
    /// Items separated by `, ` (short labels).
    Comma,
}

/// The fields of one object and the problems found reading them.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    problems: Vec<Problem>,
    /// Fields whose value was present but unusable (so "missing" is not reported again).
    unusable: Vec<&'static str>,
}

/// A key folded for comparison: lower case, without spaces, `_` and `-`.
fn fold(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl<'a> Fields<'a> {
    fn new(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            map,
            problems: Vec::new(),
            unusable: Vec::new(),
        }
    }

    /// The key and value of a field: the canonical key exactly, else the first synonym that
    /// matches a key once folded. Null counts as absent.
    fn find(&self, keys: &[&str]) -> Option<(&'a String, &'a Value)> {
        if let Some((key, value)) = self.map.get_key_value(keys[0]) {
            return (!value.is_null()).then_some((key, value));
        }
        keys.iter().find_map(|wanted| {
            let wanted = fold(wanted);
            self.map
                .iter()
                .find(|(key, value)| fold(key) == wanted && !value.is_null())
        })
    }

    /// Looks a field up, noting a synonym.
    fn lookup(&mut self, field: &'static str, keys: &[&str]) -> Option<&'a Value> {
        let (key, value) = self.find(keys)?;
        if key != field {
            self.problems.push(Problem::warning(
                Some(field),
                ProblemKind::Renamed { from: key.clone() },
            ));
        }
        Some(value)
    }

    fn warn(&mut self, field: &'static str, kind: ProblemKind) {
        self.problems.push(Problem::warning(Some(field), kind));
    }

    fn wrong_type(&mut self, field: &'static str, value: &Value) {
        self.unusable.push(field);
        self.warn(
            field,
            ProblemKind::WrongType {
                found: JsonType::of(value),
            },
        );
    }

    fn default(&mut self, field: &'static str, value: &str) {
        self.warn(
            field,
            ProblemKind::Defaulted {
                value: value.to_string(),
            },
        );
    }

    /// A required field: a missing or unusable one is an error.
    fn required(&mut self, field: &'static str, value: Option<String>) -> Option<String> {
        if value.is_none() {
            let unusable = self.unusable.contains(&field);
            for problem in &mut self.problems {
                if unusable && problem.field == Some(field) && problem.kind_id() == "wrong_type" {
                    problem.severity = Severity::Error;
                }
            }
            if !unusable {
                self.problems
                    .push(Problem::error(Some(field), ProblemKind::Missing));
            }
        }
        value
    }

    /// A field defaulted to empty text when missing.
    fn or_empty(&mut self, field: &'static str, value: Option<String>) -> String {
        value.unwrap_or_else(|| {
            self.default(field, "");
            String::new()
        })
    }

    /// Cuts text longer than `max` characters, with a warning.
    fn capped(&mut self, field: &'static str, text: &str, max: usize) -> String {
        if text.chars().count() > max {
            self.warn(field, ProblemKind::Truncated { max });
            text.chars().take(max).collect()
        } else {
            text.to_string()
        }
    }

    /// A text field; `None` when missing, empty or unusable.
    fn text(&mut self, field: &'static str, keys: &[&str], join: Join) -> Option<String> {
        let value = self.lookup(field, keys)?;
        let text = match value {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => {
                self.warn(
                    field,
                    ProblemKind::Coerced {
                        from: JsonType::Number,
                    },
                );
                n.to_string()
            }
            Value::Bool(b) => {
                self.warn(
                    field,
                    ProblemKind::Coerced {
                        from: JsonType::Boolean,
                    },
                );
                b.to_string()
            }
            Value::Array(items) => {
                let Some(parts) = items.iter().map(line_text).collect::<Option<Vec<_>>>() else {
                    self.wrong_type(field, value);
                    return None;
                };
                self.warn(
                    field,
                    ProblemKind::Coerced {
                        from: JsonType::Array,
                    },
                );
                let separator = match join {
                    Join::Lines => "\n",
                    Join::Comma => ", ",
                };
                parts
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(separator)
            }
            Value::Object(_) | Value::Null => {
                self.wrong_type(field, value);
                return None;
            }
        };
        if text.is_empty() {
            return None;
        }
        Some(self.capped(field, &text, MAX_FIELD_CHARS))
    }

    /// A list field from an array, or from one string split at `,` `，` `、` `;` `；` and line
    /// breaks; `None` when missing.
    fn list(&mut self, field: &'static str, keys: &[&str]) -> Option<Vec<String>> {
        let value = self.lookup(field, keys)?;
        let mut items: Vec<String> = match value {
            Value::String(s) => {
                let parts: Vec<String> = s
                    .split([',', '，', '、', ';', '；', '\n'])
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect();
                if parts.len() > 1 {
                    self.warn(
                        field,
                        ProblemKind::Coerced {
                            from: JsonType::String,
                        },
                    );
                }
                parts
            }
            Value::Array(values) => {
                let mut out = Vec::new();
                let mut dropped = None;
                for item in values {
                    match item {
                        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                        Value::String(_) | Value::Null => {}
                        Value::Number(n) => {
                            out.push(n.to_string());
                        }
                        other => dropped = Some(JsonType::of(other)),
                    }
                }
                if let Some(found) = dropped {
                    self.warn(field, ProblemKind::WrongType { found });
                }
                out
            }
            Value::Number(n) => {
                self.warn(
                    field,
                    ProblemKind::Coerced {
                        from: JsonType::Number,
                    },
                );
                vec![n.to_string()]
            }
            other => {
                self.wrong_type(field, other);
                return None;
            }
        };
        if items.len() > MAX_LIST_ITEMS {
            self.warn(
                field,
                ProblemKind::TooManyItems {
                    max: MAX_LIST_ITEMS,
                },
            );
            items.truncate(MAX_LIST_ITEMS);
        }
        Some(
            items
                .iter()
                .map(|item| self.capped(field, item, MAX_ITEM_CHARS))
                .collect(),
        )
    }

    /// The shot number as text; the 1-based position when missing or unusable.
    fn shot_number(&mut self, index: usize) -> String {
        const FIELD: &str = "shot_number";
        let fallback = (index + 1).to_string();
        let text = match self.lookup(FIELD, SHOT_NUMBER_KEYS) {
            Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => i.to_string(),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
                _ => n.to_string(),
            },
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => {
                self.wrong_type(FIELD, other);
                String::new()
            }
            None => String::new(),
        };
        if text.is_empty() {
            self.default(FIELD, &fallback);
            return fallback;
        }
        self.capped(FIELD, &text, MAX_SHOT_NUMBER_CHARS)
    }

    /// The duration in seconds, from a number or from text such as `"5s"` or `"约 5.5 秒"`.
    fn duration(&mut self) -> Option<f64> {
        const FIELD: &str = "duration_s";
        let value = self.lookup(FIELD, DURATION_KEYS)?;
        let seconds = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => {
                let parsed = leading_number(s);
                if parsed.is_some() {
                    self.warn(
                        FIELD,
                        ProblemKind::Coerced {
                            from: JsonType::String,
                        },
                    );
                }
                parsed
            }
            other => {
                self.wrong_type(FIELD, other);
                return None;
            }
        };
        match seconds {
            Some(s) if s > 0.0 && s <= MAX_DURATION_S => Some(s),
            _ => {
                self.warn(FIELD, ProblemKind::OutOfRange);
                None
            }
        }
    }
}

/// One line of a dialogue or description array: a string, a number, or an object with a
/// speaker and a line (`{"character": "林梅", "line": "…"}` → `林梅: …`). `None` for anything
/// else.
fn line_text(item: &Value) -> Option<String> {
    match item {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(map) => {
            let fields = Fields::new(map);
            let speaker = fields
                .find(&["character", "speaker", "name", "role", "角色", "人物"])
                .and_then(|(_, v)| v.as_str());
            let line = fields
                .find(&["line", "dialogue", "text", "content", "台词", "对白"])
                .and_then(|(_, v)| v.as_str())?;
            Some(match speaker {
                Some(speaker) => format!("{}: {}", speaker.trim(), line.trim()),
                None => line.trim().to_string(),
            })
        }
        _ => None,
    }
}

/// The first decimal number in a text (`"约 5.5 秒"` → 5.5).
fn leading_number(text: &str) -> Option<f64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.trim_end_matches('.').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Validates one shot and compares the problem kinds (errors make it invalid).
    fn check(shot: Value, expect_valid: bool, kinds: &[&str]) -> Option<ShotDraft> {
        let result = validate_storyboard(&json!({ "shots": [shot.clone()] }));
        let (valid, problems) = match (result.shots.first(), result.invalid.first()) {
            (Some(draft), None) => (true, draft.notes.clone()),
            (None, Some((_, problems))) => (false, problems.clone()),
            _ => panic!("{shot}: one shot in, one out"),
        };
        assert_eq!(valid, expect_valid, "{shot}: {problems:?}");
        let got: Vec<&str> = problems.iter().map(Problem::kind_id).collect();
        assert_eq!(got, kinds, "{shot}");
        for p in &problems {
            assert!(!p.message(Lang::ZhCn).is_empty() && !p.message(Lang::En).is_empty());
        }
        result.shots.into_iter().next()
    }

    fn full() -> Value {
        json!({"shot_number": 1, "camera_angle": "low angle", "action_description": "She enters.",
               "emotional_tone": "tense", "visual_elements": ["rain", "neon"]})
    }

    #[test]
    fn shots() {
        let shot = check(full(), true, &[]).unwrap();
        assert_eq!(shot.shot_number, "1");
        assert_eq!(shot.visual_elements, ["rain", "neon"]);

        check(
            json!({"action_description": "x"}),
            true,
            &["defaulted", "defaulted", "defaulted", "defaulted"],
        );
        check(
            json!({"camera_angle": "low"}),
            false,
            &["defaulted", "missing", "defaulted", "defaulted"],
        );
        check(
            json!({"action_description": "   "}),
            false,
            &[
                "defaulted",
                "missing",
                "defaulted",
                "defaulted",
                "defaulted",
            ],
        );
        check(json!("镜头一：推门"), false, &["not_an_object"]);
        check(json!(null), false, &["not_an_object"]);

        let mut v = full();
        v["action_description"] = json!({"text": "x"});
        check(v, false, &["wrong_type"]);

        let mut v = full();
        v["shot_number"] = json!("1A");
        v["duration_s"] = json!("5 秒");
        v["visual_elements"] = json!("雨夜，霓虹、 车灯");
        let shot = check(v, true, &["coerced", "coerced"]).unwrap();
        assert_eq!(shot.shot_number, "1A");
        assert_eq!(shot.duration_s, Some(5.0));
        assert_eq!(shot.visual_elements, ["雨夜", "霓虹", "车灯"]);

        let mut v = full();
        v["shot_number"] = json!(2.0);
        v["duration_s"] = json!(-3);
        v["camera_angle"] = json!(45);
        let shot = check(v, true, &["coerced", "out_of_range"]).unwrap();
        assert_eq!(shot.shot_number, "2");
        assert_eq!(shot.camera_angle, "45");

        let shot = check(
            json!({"镜头号": "3", "机位": "俯拍", "画面描述": "林梅转身", "情绪": "决绝", "视觉元素": ["雨"]}),
            true,
            &["renamed", "renamed", "renamed", "renamed", "renamed"],
        )
        .unwrap();
        assert_eq!(shot.action_description, "林梅转身");

        let mut v = full();
        v["action_description"] = json!("长".repeat(MAX_FIELD_CHARS + 10));
        let shot = check(v, true, &["truncated"]).unwrap();
        assert_eq!(shot.action_description.chars().count(), MAX_FIELD_CHARS);

        let mut v = full();
        v["dialogue"] = json!([{"character": "林梅", "line": "走。"}, "好。"]);
        let shot = check(v, true, &["coerced"]).unwrap();
        assert_eq!(shot.dialogue.as_deref(), Some("林梅: 走。\n好。"));
    }

    #[test]
    fn storyboard_level() {
        let five = json!({"shots": [full(), full(), full(), full(), full()]});
        let result = validate_storyboard(&five);
        assert_eq!(result.shots.len(), 5);
        assert_eq!(
            result
                .problems
                .iter()
                .map(Problem::kind_id)
                .collect::<Vec<_>>(),
            ["duplicate_shot_number"]
        );
        let result = validate_storyboard(&json!({"shots": []}));
        assert_eq!(result.problems[0].kind, ProblemKind::ShotCount { count: 0 });
        let result = validate_storyboard(&json!([full()]));
        assert_eq!(result.shots.len(), 1);
        let result = validate_storyboard(&json!({"shots": "four"}));
        assert_eq!(result.problems[0].kind_id(), "not_a_storyboard");
        assert!(result.problems[0].is_error());
        let many: Vec<Value> = (0..MAX_SHOTS + 5).map(|_| full()).collect();
        let result = validate_storyboard(&json!({ "shots": many }));
        assert_eq!(result.shots.len(), MAX_SHOTS);
        assert_eq!(result.problems[0].kind_id(), "too_many_shots");
    }

    #[test]
    fn takes() {
        let take = validate_take(
            &json!({"dialogue": "你好", "stage_direction": "转身", "emotional_tone": "冷"}),
        )
        .unwrap();
        assert_eq!((take.dialogue.as_str(), take.notes.len()), ("你好", 0));
        let take = validate_take(&json!({"take": {"dialogue": ["你好", "再见"]}})).unwrap();
        assert_eq!(take.dialogue, "你好\n再见");
        let kinds: Vec<&str> = take.notes.iter().map(Problem::kind_id).collect();
        assert_eq!(kinds, ["renamed", "coerced", "defaulted", "defaulted"]);
        let problems = validate_take(&json!({"stage_direction": "x"})).unwrap_err();
        assert_eq!(problems[0].kind_id(), "missing");
        let problems = validate_take(&json!({"dialogue": {"a": 1}})).unwrap_err();
        assert_eq!(problems[0].kind_id(), "wrong_type");
        assert!(problems[0].is_error());
        let problems = validate_take(&json!(["x"])).unwrap_err();
        assert_eq!(problems[0].kind_id(), "not_an_object");
        let hostile = "<script>alert(1)</script>";
        assert_eq!(
            validate_take(&json!({ "dialogue": hostile }))
                .unwrap()
                .dialogue,
            hostile
        );
    }
}
