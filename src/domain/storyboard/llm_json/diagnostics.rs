//! Why no JSON could be taken from a reply ([`JsonDiagnostic`]), in words for the user: where
//! a syntax error is (line and column), and which failure of several candidates is reported.

use serde::Serialize;
use serde_json::Value;

use super::Expect;
use crate::domain::i18n::Lang;

/// The type of a JSON value, as messages name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true` or `false`.
    Boolean,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An array with no object in it.
    ArrayWithoutObjects,
    /// An object.
    Object,
    /// `{}`.
    EmptyObject,
}

impl JsonType {
    /// The type of a value.
    pub fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// The type's name in a message.
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            JsonType::Null => lang.pick("null", "null"),
            JsonType::Boolean => lang.pick("布尔值", "a boolean"),
            JsonType::Number => lang.pick("数字", "a number"),
            JsonType::String => lang.pick("字符串", "a string"),
            JsonType::Array => lang.pick("数组", "an array"),
            JsonType::ArrayWithoutObjects => {
                lang.pick("不含对象的数组", "an array without objects")
            }
            JsonType::Object => lang.pick("对象", "an object"),
            JsonType::EmptyObject => lang.pick("空对象", "an empty object"),
        }
    }
}

/// Why no JSON could be taken from a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonDiagnostic {
    /// The reply is empty (or only whitespace and fences).
    Empty,
    /// The reply holds no JSON at all (a refusal, an explanation).
    NoJson,
    /// The JSON stops before it is complete (an unclosed string, array or object): ask the
    /// model once more, or salvage with [`close_truncated`](super::close_truncated).
    Truncated {
        /// How many complete items (for [`Expect::ArrayOf`]) or fields (for
        /// [`Expect::Object`]) [`close_truncated`](super::close_truncated) would keep.
        salvageable: usize,
    },
    /// The JSON has an error the reader could not get past.
    Invalid {
        /// 1-based line in the reply.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// The character found there.
        found: char,
    },
    /// The JSON reads, but is not what was expected.
    WrongShape {
        /// What was expected.
        expected: Expect,
        /// What arrived (at the expected field, when the reply is an object that has it).
        found: JsonType,
    },
}

impl JsonDiagnostic {
    /// A stable identifier for tests, logs and fixtures.
    pub fn kind(&self) -> &'static str {
        match self {
            JsonDiagnostic::Empty => "empty",
            JsonDiagnostic::NoJson => "no_json",
            JsonDiagnostic::Truncated { .. } => "truncated",
            JsonDiagnostic::Invalid { .. } => "invalid",
            JsonDiagnostic::WrongShape { .. } => "wrong_shape",
        }
    }

    /// True when asking the model again is the remedy (a cut-off or empty reply).
    pub fn worth_retrying(&self) -> bool {
        matches!(
            self,
            JsonDiagnostic::Truncated { .. } | JsonDiagnostic::Empty
        )
    }

    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (JsonDiagnostic::Empty, _) => lang
                .pick("模型返回了空内容", "The model returned empty content")
                .into(),
            (JsonDiagnostic::NoJson, _) => lang
                .pick(
                    "模型的回复中没有 JSON（可能是拒绝或说明文字）",
                    "The model's reply holds no JSON (perhaps a refusal or an explanation)",
                )
                .into(),
            (JsonDiagnostic::Truncated { salvageable }, Lang::ZhCn) => format!(
                "回复在 JSON 结束前被截断（可能超出了 max_tokens）；可重试一次，或保留已完整的 {salvageable} 项"
            ),
            (JsonDiagnostic::Truncated { salvageable }, Lang::En) => format!(
                "The reply stops before its JSON ends (max_tokens reached?); retry once, or keep the {salvageable} complete item(s)"
            ),
            (JsonDiagnostic::Invalid { line, column, found }, Lang::ZhCn) => format!(
                "JSON 在第 {line} 行第 {column} 列有无法修复的语法错误（“{}”）",
                found.escape_debug()
            ),
            (JsonDiagnostic::Invalid { line, column, found }, Lang::En) => format!(
                "The JSON has a syntax error it could not be repaired past at line {line}, column {column} (“{}”)",
                found.escape_debug()
            ),
            (JsonDiagnostic::WrongShape { expected, found }, Lang::ZhCn) => format!(
                "JSON 的结构不对：应为{}，收到的是{}",
                expected.describe(lang),
                found.name(lang)
            ),
            (JsonDiagnostic::WrongShape { expected, found }, Lang::En) => format!(
                "The JSON has the wrong shape: expected {}, got {}",
                expected.describe(lang),
                found.name(lang)
            ),
        }
    }
}

/// Keeps the most telling failure: truncated, then invalid, then wrong shape.
pub(super) fn keep_worst(kept: &mut Option<JsonDiagnostic>, new: JsonDiagnostic) {
    let rank = |d: &JsonDiagnostic| match d {
        JsonDiagnostic::Truncated { .. } => 3,
        JsonDiagnostic::Invalid { .. } => 2,
        JsonDiagnostic::WrongShape { .. } => 1,
        _ => 0,
    };
    if kept.as_ref().is_none_or(|k| rank(&new) > rank(k)) {
        *kept = Some(new);
    }
}

/// The diagnostic for a syntax error at `pos`.
pub(super) fn invalid_at(chars: &[char], pos: usize) -> JsonDiagnostic {
    let (line, column) = line_column(chars, pos);
    let found = chars.get(pos).copied().unwrap_or(' ');
    JsonDiagnostic::Invalid {
        line,
        column,
        found,
    }
}

/// 1-based line and column (in characters) of a position.
fn line_column(chars: &[char], pos: usize) -> (usize, usize) {
    let before = &chars[..pos.min(chars.len())];
    let line = before.iter().filter(|&&c| c == '\n').count() + 1;
    let column = before.iter().rev().take_while(|&&c| c != '\n').count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, SHOTS, TAKE};
    use super::super::{extract_json, Expect};
    use super::*;

    #[test]
    fn failures() {
        check("", TAKE, Err("empty"));
        check(" \n\t", TAKE, Err("empty"));
        check("```json\n```", TAKE, Err("empty"));
        check("I'm sorry, I can't help with that.", TAKE, Err("no_json"));
        check("Use {name} in [brackets].", TAKE, Err("no_json"));
        check("{\"a\": \"cut", TAKE, Err("truncated"));
        check(
            "{\"shots\": [{\"a\": 1}, {\"a\": 2",
            SHOTS,
            Err("truncated"),
        );
        check("{\"a\": tru", TAKE, Err("truncated"));
        check("{\"a\": 1, oops}", TAKE, Err("invalid"));
        check("{\"a\": bogus}", TAKE, Err("invalid"));
        let deep = "[".repeat(500);
        check(&deep, SHOTS, Err("invalid"));
    }

    #[test]
    fn invalid_reports_the_place() {
        let error = extract_json("{\n  \"a\": 1,\n  \"b\": @\n}", TAKE).unwrap_err();
        assert_eq!(
            error,
            JsonDiagnostic::Invalid {
                line: 3,
                column: 8,
                found: '@'
            }
        );
    }

    #[test]
    fn messages_exist_in_both_languages() {
        let diagnostics = [
            JsonDiagnostic::Empty,
            JsonDiagnostic::NoJson,
            JsonDiagnostic::Truncated { salvageable: 3 },
            JsonDiagnostic::Invalid {
                line: 1,
                column: 2,
                found: '\u{0}',
            },
            JsonDiagnostic::WrongShape {
                expected: Expect::ArrayOf("shots"),
                found: JsonType::String,
            },
        ];
        for d in diagnostics {
            assert!(!d.message(Lang::ZhCn).is_empty() && !d.message(Lang::En).is_empty());
            assert_ne!(d.message(Lang::ZhCn), d.message(Lang::En));
        }
    }
}
