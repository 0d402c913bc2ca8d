//! Robust extraction of JSON from a model's reply.
//!
//! Models asked for JSON (even with `response_format: json_object`) wrap it in code fences,
//! talk before and after it, write JavaScript or Python instead of JSON, put an object where
//! an array belongs, or stop mid-way when `max_tokens` runs out. [`extract_json`] finds the
//! JSON, reads it with a lenient reader that records every liberty it takes as a [`Repair`],
//! and brings it to the shape the caller [`Expect`]s. What cannot be read is a
//! [`JsonDiagnostic`]; a cut-off reply is [`JsonDiagnostic::Truncated`], so the caller can ask
//! the model once more, and [`close_truncated`] salvages the complete items of a cut reply.
//!
//! The reader accepts, each noted as a [`Repair`]:
//!
//! - a byte-order mark; ```` ```json ```` or plain ```` ``` ```` fences (with several fenced
//!   blocks, the first that reads wins); prose before and after; `<think>…</think>` reasoning;
//! - trailing and doubled commas, a missing comma between members or items;
//! - `'single'`, `“smart”` and `‘smart’` quotes, unquoted keys, unescaped quotes inside a
//!   string (a quote ends a string only when `,` `:` `}` `]` or the end follows it), raw line
//!   breaks and tabs inside strings;
//! - `//` and `/* */` comments;
//! - `NaN`, `Infinity`, `undefined` (read as `null`), Python's `True`, `False`, `None`,
//!   numbers such as `+1`, `.5`, `1.` or `007`;
//! - full-width `，` and `：` used as separators *outside* strings (a Chinese input method's
//!   habit). They are repaired, not rejected: outside a string they can only mean `,` and
//!   `:`. Inside strings every character is kept as written;
//! - a duplicate key: the last value wins, as in JavaScript's `JSON.parse`;
//! - a whole reply that is a JSON string holding JSON (double encoding).
//!
//! Text inside strings is data: `<script>` or `onerror=` in a value comes out verbatim, and
//! the UI shows it as text. Nothing here panics, whatever the input (a property test feeds it
//! arbitrary strings), and nesting deeper than [`MAX_DEPTH`] is rejected rather than recursed.
//!
//! ```
//! use duanju_studio::domain::storyboard::llm_json::{extract_json, Expect};
//!
//! let reply = "好的，分镜如下：\n```json\n{'shots': {shot_number: 1, action_description: '林梅推门而入',},}\n```";
//! let (value, repairs) = extract_json(reply, Expect::ArrayOf("shots")).unwrap();
//! assert_eq!(value["shots"][0]["action_description"], "林梅推门而入");
//! let kinds: Vec<&str> = repairs.iter().map(|r| r.kind()).collect();
//! assert!(kinds.contains(&"code_fence") && kinds.contains(&"wrapped_object"));
//! ```

use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::i18n::Lang;

/// The deepest nesting of arrays and objects the reader follows.
pub const MAX_DEPTH: usize = 100;

/// How many candidate starts (`{` or `[`) one reply may cost at most.
const MAX_CANDIDATES: usize = 64;

/// The shape the caller wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Expect {
    /// One JSON object (a dialogue take). An array whose first item is an object gives that
    /// object.
    Object,
    /// An object whose field `key` is an array of objects (`{"shots": […]}`). A bare array
    /// is wrapped into it, an object at `key` becomes a one-item array, an object without
    /// `key` is looked into (one level) or taken as the only item.
    ArrayOf(&'static str),
}

impl Expect {
    /// What is expected, in words.
    pub fn describe(self, lang: Lang) -> String {
        match (self, lang) {
            (Expect::Object, _) => lang.pick("一个 JSON 对象", "a JSON object").to_string(),
            (Expect::ArrayOf(key), Lang::ZhCn) => format!("含 “{key}” 数组的 JSON 对象"),
            (Expect::ArrayOf(key), Lang::En) => format!("a JSON object with a “{key}” array"),
        }
    }
}

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

/// A liberty the reader took with the reply. Each has a stable [`Repair::kind`] and a zh-CN
/// and en [`Repair::message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Repair {
    /// A byte-order mark was dropped.
    Bom,
    /// Markdown code fences were dropped.
    CodeFence,
    /// Text around the JSON (or `<think>` reasoning) was dropped.
    Prose,
    /// A trailing or doubled comma was dropped.
    TrailingComma,
    /// A missing comma was assumed between two members or items.
    MissingComma,
    /// Single-quoted strings or keys were read.
    SingleQuotes,
    /// Curly “smart” quotes were read as quotes.
    SmartQuotes,
    /// Keys without quotes were read.
    UnquotedKeys,
    /// A quote inside a string that was not escaped was kept as text.
    UnescapedQuote,
    /// A raw line break or other control character inside a string was kept.
    RawControlCharacter,
    /// `//` or `/* */` comments were dropped.
    Comments,
    /// `NaN`, `Infinity` or `undefined` became `null`.
    NonJsonLiteral,
    /// Python's `True`, `False` or `None` became `true`, `false` or `null`.
    PythonLiteral,
    /// A number in a form JSON does not allow (`+1`, `.5`, `1.`, `007`) was read.
    LenientNumber,
    /// Full-width `，` or `：` between values were read as `,` and `:`.
    FullWidthPunctuation,
    /// A key appeared twice; the last value was kept.
    DuplicateKey(String),
    /// The reply was a JSON string holding the JSON.
    DoubleEncoded,
    /// An object was found where an array was expected and became a one-item array.
    WrappedObject {
        /// The field that now holds the array.
        key: &'static str,
    },
    /// A bare array was put into `{"key": […]}`.
    WrappedArray {
        /// The field that now holds the array.
        key: &'static str,
    },
    /// The array was found under another name and moved to the expected field.
    RenamedKey {
        /// Where it was found (`storyboard`, or `storyboard.shots`).
        from: String,
        /// The expected field.
        to: &'static str,
    },
    /// An array was found where one object was expected; its first object was taken.
    UnwrappedArray {
        /// How many further items were ignored.
        ignored: usize,
    },
    /// A cut-off reply was closed after its last complete item (see [`close_truncated`]).
    ClosedTruncated,
}

impl Repair {
    /// A stable identifier for tests, logs and fixtures.
    pub fn kind(&self) -> &'static str {
        match self {
            Repair::Bom => "bom",
            Repair::CodeFence => "code_fence",
            Repair::Prose => "prose",
            Repair::TrailingComma => "trailing_comma",
            Repair::MissingComma => "missing_comma",
            Repair::SingleQuotes => "single_quotes",
            Repair::SmartQuotes => "smart_quotes",
            Repair::UnquotedKeys => "unquoted_keys",
            Repair::UnescapedQuote => "unescaped_quote",
            Repair::RawControlCharacter => "raw_control_character",
            Repair::Comments => "comments",
            Repair::NonJsonLiteral => "non_json_literal",
            Repair::PythonLiteral => "python_literal",
            Repair::LenientNumber => "lenient_number",
            Repair::FullWidthPunctuation => "full_width_punctuation",
            Repair::DuplicateKey(_) => "duplicate_key",
            Repair::DoubleEncoded => "double_encoded",
            Repair::WrappedObject { .. } => "wrapped_object",
            Repair::WrappedArray { .. } => "wrapped_array",
            Repair::RenamedKey { .. } => "renamed_key",
            Repair::UnwrappedArray { .. } => "unwrapped_array",
            Repair::ClosedTruncated => "closed_truncated",
        }
    }

    /// What was repaired, for the user.
    pub fn message(&self, lang: Lang) -> String {
        let (zh, en): (String, String) = match self {
            Repair::Bom => ("去掉了字节顺序标记（BOM）".into(), "Dropped a byte-order mark".into()),
            Repair::CodeFence => (
                "去掉了 Markdown 代码块标记".into(),
                "Dropped Markdown code fences".into(),
            ),
            Repair::Prose => (
                "忽略了 JSON 前后的说明文字".into(),
                "Ignored the text around the JSON".into(),
            ),
            Repair::TrailingComma => (
                "删除了多余的逗号".into(),
                "Dropped a trailing or doubled comma".into(),
            ),
            Repair::MissingComma => ("补上了缺少的逗号".into(), "Assumed a missing comma".into()),
            Repair::SingleQuotes => ("读取了单引号字符串".into(), "Read single-quoted strings".into()),
            Repair::SmartQuotes => (
                "把中文弯引号当作了引号".into(),
                "Read curly “smart” quotes as quotes".into(),
            ),
            Repair::UnquotedKeys => ("读取了没有引号的键".into(), "Read keys without quotes".into()),
            Repair::UnescapedQuote => (
                "字符串中未转义的引号按文字保留".into(),
                "Kept an unescaped quote inside a string as text".into(),
            ),
            Repair::RawControlCharacter => (
                "保留了字符串中的原始换行或控制字符".into(),
                "Kept a raw line break or control character inside a string".into(),
            ),
            Repair::Comments => ("去掉了注释".into(), "Dropped comments".into()),
            Repair::NonJsonLiteral => (
                "把 NaN、Infinity 或 undefined 读作 null".into(),
                "Read NaN, Infinity or undefined as null".into(),
            ),
            Repair::PythonLiteral => (
                "把 Python 的 True、False、None 读作 true、false、null".into(),
                "Read Python's True, False, None as true, false, null".into(),
            ),
            Repair::LenientNumber => (
                "读取了不规范的数字写法".into(),
                "Read a number written in a non-JSON form".into(),
            ),
            Repair::FullWidthPunctuation => (
                "把用作分隔符的全角“，”“：”读作“,”“:”".into(),
                "Read full-width “，” and “：” separators as “,” and “:”".into(),
            ),
            Repair::DuplicateKey(key) => (
                format!("键 “{key}” 出现了多次，保留最后一个值"),
                format!("The key “{key}” appears more than once; the last value was kept"),
            ),
            Repair::DoubleEncoded => (
                "回复是包着 JSON 的字符串，已解开".into(),
                "The reply was a string holding the JSON; it was unwrapped".into(),
            ),
            Repair::WrappedObject { key } => (
                format!("“{key}” 应为数组，收到的是单个对象，已当作一项"),
                format!("“{key}” should be an array but held one object; it was taken as one item"),
            ),
            Repair::WrappedArray { key } => (
                format!("收到的是裸数组，已放入 “{key}”"),
                format!("A bare array arrived; it was put under “{key}”"),
            ),
            Repair::RenamedKey { from, to } => (
                format!("在 “{from}” 下找到了数组，当作 “{to}”"),
                format!("Found the array under “{from}” and used it as “{to}”"),
            ),
            Repair::UnwrappedArray { ignored } => (
                format!("应为单个对象，收到的是数组；取第一项，忽略其余 {ignored} 项"),
                format!("Expected one object but got an array; took the first item and ignored {ignored} more"),
            ),
            Repair::ClosedTruncated => (
                "回复被截断，已在最后一个完整项之后补齐括号".into(),
                "The reply was cut off; it was closed after its last complete item".into(),
            ),
        };
        lang.pick(&zh, &en).to_string()
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
    /// model once more, or salvage with [`close_truncated`].
    Truncated {
        /// How many complete items (for [`Expect::ArrayOf`]) or fields (for
        /// [`Expect::Object`]) [`close_truncated`] would keep.
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

/// Takes the JSON the caller expects out of a model's reply. See the module documentation
/// for what is repaired; the repairs made are returned with the value, each once.
pub fn extract_json(text: &str, expect: Expect) -> Result<(Value, Vec<Repair>), JsonDiagnostic> {
    extract(text, expect, false)
}

/// Like [`extract_json`], but a cut-off reply is closed after its last complete item instead
/// of being rejected: complete items of an array are kept, a cut item is dropped, and a cut
/// field of an object is dropped unless it is itself an array or object (whose complete items
/// are kept). The result carries [`Repair::ClosedTruncated`]. Still
/// [`JsonDiagnostic::Truncated`] when nothing complete arrived.
pub fn close_truncated(text: &str, expect: Expect) -> Result<(Value, Vec<Repair>), JsonDiagnostic> {
    extract(text, expect, true)
}

/// A span of the reply (in characters).
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn contains(&self, i: usize) -> bool {
        self.start <= i && i < self.end
    }
}

fn extract(
    text: &str,
    expect: Expect,
    salvage: bool,
) -> Result<(Value, Vec<Repair>), JsonDiagnostic> {
    let mut repairs = Vec::new();
    let text = match text.strip_prefix('\u{FEFF}') {
        Some(rest) => {
            repairs.push(Repair::Bom);
            rest
        }
        None => text,
    };
    let chars: Vec<char> = text.chars().collect();
    let fences = fences(&chars);
    let thinks = think_blocks(&chars);
    if is_blank_outside_fences(&chars) {
        return Err(JsonDiagnostic::Empty);
    }

    if let Some(found) = double_encoded(&chars, expect, salvage) {
        let (value, inner) = found;
        push_all(&mut repairs, inner);
        push(&mut repairs, Repair::DoubleEncoded);
        return Ok((value, repairs));
    }

    // Candidate starts: inside fences first (in order), then everywhere, never inside
    // reasoning.
    let mut order: Vec<usize> = Vec::new();
    for fence in &fences {
        order.extend((fence.start..fence.end).filter(|&i| matches!(chars[i], '{' | '[')));
    }
    order.extend((0..chars.len()).filter(|&i| matches!(chars[i], '{' | '[')));
    order.retain(|&i| !thinks.iter().any(|t| t.contains(i)));

    let mut tried: Vec<Span> = Vec::new();
    let mut failure: Option<JsonDiagnostic> = None;
    let mut attempts = 0;
    for start in order {
        if tried.iter().any(|span| span.contains(start)) || !looks_like_json(&chars, start) {
            continue;
        }
        attempts += 1;
        if attempts > MAX_CANDIDATES {
            break;
        }
        let mut reader = Reader::new(&chars, start, salvage);
        let outcome = reader.value();
        let mut local = std::mem::take(&mut reader.repairs);
        match outcome {
            Ok(value) => {
                let end = reader.pos;
                tried.push(Span { start, end });
                match shape(value, expect, &mut local) {
                    Ok(value) => {
                        push_all(&mut repairs, local);
                        push_all(&mut repairs, surroundings(&chars, start, end, &thinks));
                        return Ok((value, repairs));
                    }
                    Err(diagnostic) => keep_worst(&mut failure, diagnostic),
                }
            }
            Err(Fail::Eof { partial }) => {
                tried.push(Span {
                    start,
                    end: chars.len(),
                });
                let partial = partial
                    .filter(|value| salvage_has_items(value, expect))
                    .and_then(|value| shape(value, expect, &mut local).ok());
                let complete = partial.as_ref().map_or(0, |v| count_items(v, expect));
                if salvage && complete > 0 {
                    if let Some(value) = partial {
                        push_all(&mut repairs, local);
                        push_all(
                            &mut repairs,
                            surroundings(&chars, start, chars.len(), &thinks),
                        );
                        push(&mut repairs, Repair::ClosedTruncated);
                        return Ok((value, repairs));
                    }
                }
                let salvageable = if salvage {
                    0
                } else {
                    salvageable(&chars, start, expect)
                };
                keep_worst(&mut failure, JsonDiagnostic::Truncated { salvageable });
            }
            Err(Fail::At(pos)) => {
                tried.push(Span {
                    start,
                    end: (pos + 1).max(extent(&chars, start)),
                });
                keep_worst(&mut failure, invalid_at(&chars, pos));
            }
            Err(Fail::TooDeep(pos)) => {
                tried.push(Span {
                    start,
                    end: chars.len(),
                });
                keep_worst(&mut failure, invalid_at(&chars, pos));
            }
        }
    }
    Err(failure.unwrap_or(JsonDiagnostic::NoJson))
}

/// How many complete items a salvage of the JSON starting at `start` would keep.
fn salvageable(chars: &[char], start: usize, expect: Expect) -> usize {
    let mut reader = Reader::new(chars, start, true);
    match reader.value() {
        Err(Fail::Eof {
            partial: Some(value),
        }) if salvage_has_items(&value, expect) => shape(value, expect, &mut Vec::new())
            .map(|v| count_items(&v, expect))
            .unwrap_or(0),
        _ => 0,
    }
}

/// True when a salvaged value holds items of its own: a cut object that never reached its
/// array (`{"title": "x", "sh…`) must not become a one-item list.
fn salvage_has_items(value: &Value, expect: Expect) -> bool {
    match (expect, value) {
        (Expect::ArrayOf(key), Value::Object(map)) => {
            map.contains_key(key) || map.values().any(|v| v.is_array() || v.get(key).is_some())
        }
        _ => true,
    }
}

/// The number of items of an `ArrayOf` value, or of fields of an `Object` value.
fn count_items(value: &Value, expect: Expect) -> usize {
    match expect {
        Expect::ArrayOf(key) => value.get(key).and_then(Value::as_array).map_or(0, Vec::len),
        Expect::Object => value.as_object().map_or(0, Map::len),
    }
}

/// Keeps the most telling failure: truncated, then invalid, then wrong shape.
fn keep_worst(kept: &mut Option<JsonDiagnostic>, new: JsonDiagnostic) {
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

fn push(repairs: &mut Vec<Repair>, repair: Repair) {
    if !repairs.contains(&repair) {
        repairs.push(repair);
    }
}

fn push_all(repairs: &mut Vec<Repair>, more: Vec<Repair>) {
    for repair in more {
        push(repairs, repair);
    }
}

/// The contents of ```` ``` ```` fences (an unclosed fence runs to the end).
fn fences(chars: &[char]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = find(chars, i, "```") {
        let content = (open + 3..chars.len())
            .find(|&j| chars[j] == '\n')
            .map_or(chars.len(), |j| j + 1);
        match find(chars, content, "```") {
            Some(close) => {
                out.push(Span {
                    start: content,
                    end: close,
                });
                i = close + 3;
            }
            None => {
                out.push(Span {
                    start: content,
                    end: chars.len(),
                });
                break;
            }
        }
    }
    out
}

/// `<think>…</think>` reasoning blocks (an unclosed one runs to the end).
fn think_blocks(chars: &[char]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = find(chars, i, "<think>") {
        match find(chars, open, "</think>") {
            Some(close) => {
                out.push(Span {
                    start: open,
                    end: close + 8,
                });
                i = close + 8;
            }
            None => {
                out.push(Span {
                    start: open,
                    end: chars.len(),
                });
                break;
            }
        }
    }
    out
}

/// The first index at or after `from` where `needle` (ASCII) starts.
fn find(chars: &[char], from: usize, needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    (from..chars.len()).find(|&i| chars[i..].starts_with(&needle))
}

/// True when the reply holds nothing but whitespace, byte-order marks and fence lines.
fn is_blank_outside_fences(chars: &[char]) -> bool {
    let text: String = chars.iter().collect();
    text.lines().all(|line| {
        let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
        line.is_empty()
            || line
                .strip_prefix("```")
                .is_some_and(|tag| tag.chars().all(char::is_alphanumeric))
    })
}

/// The repairs that describe what surrounded the JSON at `start..end`.
fn surroundings(chars: &[char], start: usize, end: usize, thinks: &[Span]) -> Vec<Repair> {
    let mut out = Vec::new();
    let outside: String = chars[..start]
        .iter()
        .enumerate()
        .chain(chars[end..].iter().enumerate().map(|(i, c)| (i + end, c)))
        .filter(|(i, _)| !thinks.iter().any(|t| t.contains(*i)))
        .map(|(_, c)| *c)
        .collect();
    if thinks.iter().any(|t| t.end <= start || t.start >= end) {
        out.push(Repair::Prose);
    }
    let mut prose = false;
    for line in outside.lines() {
        let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
        if let Some(tag) = line.strip_prefix("```") {
            push(&mut out, Repair::CodeFence);
            if !tag.chars().all(char::is_alphanumeric) {
                prose = true;
            }
        } else if !line.is_empty() {
            prose = true;
        }
    }
    if prose {
        push(&mut out, Repair::Prose);
    }
    if outside.contains('\u{FEFF}') {
        push(&mut out, Repair::Bom);
    }
    out
}

/// True when the `{` or `[` at `start` begins something that could be JSON rather than prose
/// such as `{name}` or `[1]`-style references in text.
fn looks_like_json(chars: &[char], start: usize) -> bool {
    let mut i = start + 1;
    while i < chars.len() && (chars[i].is_whitespace() || chars[i] == '\u{FEFF}') {
        i += 1;
    }
    let Some(&next) = chars.get(i) else {
        return true;
    };
    if matches!(next, '"' | '\'' | '“' | '”' | '‘' | '’' | '/') {
        return true;
    }
    if chars[start] == '{' {
        if next == '}' {
            return true;
        }
        // An unquoted key: a word followed by a colon.
        let mut j = i;
        while j < chars.len() && is_key_char(chars[j]) {
            j += 1;
        }
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        j > i && matches!(chars.get(j), Some(':' | '：'))
    } else {
        next.is_ascii_digit()
            || matches!(next, '{' | '[' | ']' | '-' | '+' | '.')
            || ["true", "false", "null", "True", "False", "None", "NaN"]
                .iter()
                .any(|word| chars[i..].starts_with(&word.chars().collect::<Vec<_>>()))
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’')
}

/// Where the bracketed text starting at `start` ends, by counting brackets outside `"`
/// strings: the index after the matching close, or the end of the text. A candidate that fails
/// covers this much, so that its inner objects are not taken for the answer.
fn extent(chars: &[char], start: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate().skip(start) {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    chars.len()
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | '-')
}

/// A whole reply that is a JSON string holding JSON.
fn double_encoded(chars: &[char], expect: Expect, salvage: bool) -> Option<(Value, Vec<Repair>)> {
    let start = chars.iter().position(|c| !c.is_whitespace())?;
    if chars[start] != '"' {
        return None;
    }
    let mut reader = Reader::new(chars, start, false);
    let Ok(Value::String(inner)) = reader.value() else {
        return None;
    };
    if chars[reader.pos..].iter().any(|c| !c.is_whitespace()) {
        return None;
    }
    let trimmed = inner.trim_start();
    if !trimmed.starts_with(['{', '[']) {
        return None;
    }
    let mut repairs = reader.repairs;
    let (value, inner_repairs) = extract(&inner, expect, salvage).ok()?;
    push_all(&mut repairs, inner_repairs);
    Some((value, repairs))
}

/// The diagnostic for a syntax error at `pos`.
fn invalid_at(chars: &[char], pos: usize) -> JsonDiagnostic {
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

/// Brings a value to the expected shape, noting what that took.
fn shape(value: Value, expect: Expect, repairs: &mut Vec<Repair>) -> Result<Value, JsonDiagnostic> {
    let wrong = |found: JsonType| JsonDiagnostic::WrongShape {
        expected: expect,
        found,
    };
    match (expect, value) {
        (Expect::Object, Value::Object(map)) => Ok(Value::Object(map)),
        (Expect::Object, Value::Array(items)) => {
            let ignored = items.len().saturating_sub(1);
            match items.into_iter().next() {
                Some(Value::Object(first)) => {
                    push(repairs, Repair::UnwrappedArray { ignored });
                    Ok(Value::Object(first))
                }
                _ => Err(wrong(JsonType::ArrayWithoutObjects)),
            }
        }
        (Expect::Object, other) => Err(wrong(JsonType::of(&other))),
        (Expect::ArrayOf(key), Value::Array(items)) => {
            if items.is_empty() || items.iter().any(Value::is_object) {
                push(repairs, Repair::WrappedArray { key });
                Ok(wrap(key, items))
            } else {
                Err(wrong(JsonType::ArrayWithoutObjects))
            }
        }
        (Expect::ArrayOf(key), Value::Object(mut map)) => match map.remove(key) {
            Some(Value::Array(items)) => {
                map.insert(key.to_string(), Value::Array(items));
                Ok(Value::Object(map))
            }
            Some(Value::Object(item)) => {
                push(repairs, Repair::WrappedObject { key });
                map.insert(key.to_string(), Value::Array(vec![Value::Object(item)]));
                Ok(Value::Object(map))
            }
            Some(other) => Err(wrong(JsonType::of(&other))),
            None => {
                // One level down: {"storyboard": {"shots": […]}}.
                for (name, inner) in &map {
                    if let Some(found) = inner.get(key).filter(|v| v.is_array() || v.is_object()) {
                        let items = match found {
                            Value::Array(items) => items.clone(),
                            object => vec![object.clone()],
                        };
                        push(
                            repairs,
                            Repair::RenamedKey {
                                from: format!("{name}.{key}"),
                                to: key,
                            },
                        );
                        return Ok(wrap(key, items));
                    }
                }
                // The only array of objects, under another name: {"storyboard": […]}.
                let arrays: Vec<&String> = map
                    .iter()
                    .filter(|(_, v)| v.as_array().is_some_and(|a| a.iter().any(Value::is_object)))
                    .map(|(k, _)| k)
                    .collect();
                if let [name] = arrays.as_slice() {
                    let name = (*name).clone();
                    let items = match map.remove(&name) {
                        Some(Value::Array(items)) => items,
                        _ => Vec::new(),
                    };
                    push(
                        repairs,
                        Repair::RenamedKey {
                            from: name,
                            to: key,
                        },
                    );
                    return Ok(wrap(key, items));
                }
                if map.is_empty() {
                    return Err(wrong(JsonType::EmptyObject));
                }
                push(repairs, Repair::WrappedObject { key });
                Ok(wrap(key, vec![Value::Object(map)]))
            }
        },
        (Expect::ArrayOf(_), other) => Err(wrong(JsonType::of(&other))),
    }
}

fn wrap(key: &str, items: Vec<Value>) -> Value {
    let mut map = Map::new();
    map.insert(key.to_string(), Value::Array(items));
    Value::Object(map)
}

/// What [`Reader::separator`] took.
enum Separator {
    Close,
    Comma,
}

/// Why the lenient reader stopped.
#[derive(Debug)]
enum Fail {
    /// The text ended inside a value. In salvage mode, `partial` holds the complete part of
    /// a cut array or object.
    Eof { partial: Option<Value> },
    /// An error at this position.
    At(usize),
    /// Nesting deeper than [`MAX_DEPTH`] at this position: no start inside is tried either.
    TooDeep(usize),
}

/// The lenient JSON reader over the reply's characters.
struct Reader<'a> {
    chars: &'a [char],
    pos: usize,
    depth: usize,
    salvage: bool,
    repairs: Vec<Repair>,
}

impl<'a> Reader<'a> {
    fn new(chars: &'a [char], start: usize, salvage: bool) -> Reader<'a> {
        Reader {
            chars,
            pos: start,
            depth: 0,
            salvage,
            repairs: Vec::new(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn note(&mut self, repair: Repair) {
        push(&mut self.repairs, repair);
    }

    /// Skips whitespace, byte-order marks and comments.
    fn skip(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += 1;
            } else if c == '\u{FEFF}' {
                self.note(Repair::Bom);
                self.pos += 1;
            } else if c == '/' && self.chars.get(self.pos + 1) == Some(&'/') {
                self.note(Repair::Comments);
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
            } else if c == '/' && self.chars.get(self.pos + 1) == Some(&'*') {
                self.note(Repair::Comments);
                self.pos += 2;
                while self.pos < self.chars.len()
                    && !(self.chars[self.pos] == '*' && self.chars.get(self.pos + 1) == Some(&'/'))
                {
                    self.pos += 1;
                }
                self.pos = (self.pos + 2).min(self.chars.len());
            } else {
                break;
            }
        }
    }

    fn eof(&self) -> Fail {
        Fail::Eof { partial: None }
    }

    fn value(&mut self) -> Result<Value, Fail> {
        self.skip();
        let Some(c) = self.peek() else {
            return Err(self.eof());
        };
        match c {
            '{' | '[' => {
                if self.depth >= MAX_DEPTH {
                    return Err(Fail::TooDeep(self.pos));
                }
                self.depth += 1;
                let result = if c == '{' {
                    self.object()
                } else {
                    self.array()
                };
                self.depth -= 1;
                result
            }
            '"' | '\'' | '“' | '”' | '‘' | '’' => self.string(false).map(Value::String),
            '-' | '+' | '.' | '0'..='9' => self.number(),
            c if c.is_alphabetic() => self.word(),
            _ => Err(Fail::At(self.pos)),
        }
    }

    /// At a container's closing bracket (taken) or a comma (taken, with the repairs it needs:
    /// a full-width comma, a comma with nothing before it, a comma right before the close).
    fn separator(&mut self, c: char, close: char, need_comma: &mut bool) -> Option<Separator> {
        if c == close {
            self.pos += 1;
            return Some(Separator::Close);
        }
        if c != ',' && c != '，' {
            return None;
        }
        if c == '，' {
            self.note(Repair::FullWidthPunctuation);
        }
        if !*need_comma {
            self.note(Repair::TrailingComma);
        }
        *need_comma = false;
        self.pos += 1;
        if self.next_closes(close) {
            self.note(Repair::TrailingComma);
        }
        Some(Separator::Comma)
    }

    fn object(&mut self) -> Result<Value, Fail> {
        self.pos += 1;
        let mut map = Map::new();
        let mut need_comma = false;
        loop {
            self.skip();
            let Some(c) = self.peek() else {
                return Err(self.cut(Value::Object(map)));
            };
            match self.separator(c, '}', &mut need_comma) {
                Some(Separator::Close) => return Ok(Value::Object(map)),
                Some(Separator::Comma) => continue,
                None => {}
            }
            if need_comma {
                self.note(Repair::MissingComma);
            }
            let key = match c {
                '"' | '\'' | '“' | '”' | '‘' | '’' => match self.string(true) {
                    Ok(key) => key,
                    Err(Fail::Eof { .. }) => return Err(self.cut(Value::Object(map))),
                    Err(at) => return Err(at),
                },
                c if is_key_char(c) => {
                    self.note(Repair::UnquotedKeys);
                    let start = self.pos;
                    while self.peek().is_some_and(is_key_char) {
                        self.pos += 1;
                    }
                    self.chars[start..self.pos].iter().collect()
                }
                _ => return Err(Fail::At(self.pos)),
            };
            self.skip();
            match self.peek() {
                None => return Err(self.cut(Value::Object(map))),
                Some(':') => self.pos += 1,
                Some('：') => {
                    self.note(Repair::FullWidthPunctuation);
                    self.pos += 1;
                }
                Some(_) => return Err(Fail::At(self.pos)),
            }
            let value = match self.value() {
                Ok(value) => value,
                Err(Fail::Eof { partial }) => {
                    if let Some(partial) = partial.filter(|_| self.salvage) {
                        self.insert(&mut map, key, partial);
                    }
                    return Err(self.cut(Value::Object(map)));
                }
                Err(at) => return Err(at),
            };
            self.insert(&mut map, key, value);
            need_comma = true;
        }
    }

    fn insert(&mut self, map: &mut Map<String, Value>, key: String, value: Value) {
        if map.contains_key(&key) {
            self.note(Repair::DuplicateKey(key.clone()));
        }
        map.insert(key, value);
    }

    fn array(&mut self) -> Result<Value, Fail> {
        self.pos += 1;
        let mut items = Vec::new();
        let mut need_comma = false;
        loop {
            self.skip();
            let Some(c) = self.peek() else {
                return Err(self.cut(Value::Array(items)));
            };
            match self.separator(c, ']', &mut need_comma) {
                Some(Separator::Close) => return Ok(Value::Array(items)),
                Some(Separator::Comma) => continue,
                None => {}
            }
            if need_comma {
                self.note(Repair::MissingComma);
            }
            match self.value() {
                Ok(value) => items.push(value),
                // A cut item is dropped; the complete ones before it are kept.
                Err(Fail::Eof { .. }) => return Err(self.cut(Value::Array(items))),
                Err(at) => return Err(at),
            }
            need_comma = true;
        }
    }

    /// True when, after whitespace and comments, `close` comes next.
    fn next_closes(&mut self, close: char) -> bool {
        let saved = self.pos;
        let saved_repairs = self.repairs.len();
        self.skip();
        let closes = self.peek() == Some(close);
        self.pos = saved;
        self.repairs.truncate(saved_repairs);
        closes
    }

    /// The text ended inside a container; in salvage mode it carries what was complete.
    fn cut(&self, partial: Value) -> Fail {
        Fail::Eof {
            partial: self.salvage.then_some(partial),
        }
    }

    /// Reads a string in any quotes; `key` when it is an object's key.
    fn string(&mut self, key: bool) -> Result<String, Fail> {
        let open = self.chars[self.pos];
        let closers: &[char] = match open {
            '"' => &['"'],
            '\'' => {
                self.note(Repair::SingleQuotes);
                &['\'']
            }
            '“' | '”' => {
                self.note(Repair::SmartQuotes);
                &['”', '“', '"']
            }
            _ => {
                self.note(Repair::SmartQuotes);
                &['’', '‘', '\'']
            }
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.eof());
            };
            self.pos += 1;
            if c == '\\' {
                let Some(escaped) = self.peek() else {
                    return Err(self.eof());
                };
                self.pos += 1;
                match escaped {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => out.push(self.unicode_escape()?),
                    '"' | '\\' | '/' | '\'' => out.push(escaped),
                    other => {
                        // Not a JSON escape: keep both characters as written.
                        out.push('\\');
                        out.push(other);
                    }
                }
            } else if closers.contains(&c) {
                if self.ends_string(key) {
                    return Ok(out);
                }
                self.note(Repair::UnescapedQuote);
                out.push(c);
            } else {
                if c.is_control() && (c as u32) < 0x20 {
                    self.note(Repair::RawControlCharacter);
                }
                out.push(c);
            }
        }
    }

    /// After a closing quote: true when what follows can follow a string. After a key that
    /// is `:` (or `：`). After a value it is `}`, `]`, a comment, the end of the text, a line
    /// break and another quote (a missing comma between members), or `,` (or `，`) followed
    /// by something that can start a key or value. So in `"她说"我回来了"，声音很轻"` the
    /// quotes are text: a comma followed by prose does not end a string.
    fn ends_string(&self, key: bool) -> bool {
        let rest = &self.chars[self.pos..];
        let gap = rest.iter().take_while(|c| c.is_whitespace()).count();
        match rest.get(gap) {
            None => true,
            Some(':' | '：') => key,
            Some('}' | ']' | '/') => true,
            Some(',' | '，') => {
                let after = &rest[gap + 1..];
                match after.iter().find(|c| !c.is_whitespace()) {
                    None => true,
                    Some(&c) => {
                        is_quote(c)
                            || c.is_ascii_alphanumeric()
                            || matches!(
                                c,
                                '{' | '[' | '}' | ']' | '-' | '+' | '.' | '/' | '_' | '$'
                            )
                    }
                }
            }
            Some(&c) => is_quote(c) && rest[..gap].contains(&'\n'),
        }
    }

    /// Reads the four hex digits after `\u` (and a following low surrogate).
    fn unicode_escape(&mut self) -> Result<char, Fail> {
        let high = self.hex4()?;
        if (0xD800..0xDC00).contains(&high) {
            if self.chars.get(self.pos) == Some(&'\\') && self.chars.get(self.pos + 1) == Some(&'u')
            {
                let saved = self.pos;
                self.pos += 2;
                let low = self.hex4()?;
                if (0xDC00..0xE000).contains(&low) {
                    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    return Ok(char::from_u32(code).unwrap_or('\u{FFFD}'));
                }
                self.pos = saved;
            }
            return Ok('\u{FFFD}');
        }
        Ok(char::from_u32(high).unwrap_or('\u{FFFD}'))
    }

    fn hex4(&mut self) -> Result<u32, Fail> {
        let mut code = 0;
        for _ in 0..4 {
            let Some(c) = self.peek() else {
                return Err(self.eof());
            };
            let Some(digit) = c.to_digit(16) else {
                return Err(Fail::At(self.pos));
            };
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }

    fn number(&mut self) -> Result<Value, Fail> {
        let start = self.pos;
        let sign_then_word = matches!(self.peek(), Some('-' | '+'))
            && self
                .chars
                .get(self.pos + 1)
                .is_some_and(|c| c.is_alphabetic());
        if sign_then_word {
            self.pos += 1;
            return self.word();
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.pos += 1;
        }
        if self.pos == self.chars.len() && self.depth > 0 {
            // A number at the very end of a cut reply may itself be cut (`12` of `125`).
            return Err(self.eof());
        }
        let token: String = self.chars[start..self.pos].iter().collect();
        if let Ok(value @ Value::Number(_)) = serde_json::from_str::<Value>(&token) {
            return Ok(value);
        }
        let lenient = lenient_number(&token).ok_or(Fail::At(start))?;
        self.note(Repair::LenientNumber);
        match serde_json::Number::from_f64(lenient) {
            Some(number) => Ok(Value::Number(number)),
            None => {
                self.note(Repair::NonJsonLiteral);
                Ok(Value::Null)
            }
        }
    }

    /// A bare word: a JSON, JavaScript or Python literal.
    fn word(&mut self) -> Result<Value, Fail> {
        let start = self.pos;
        while self.peek().is_some_and(char::is_alphanumeric) {
            self.pos += 1;
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        let (value, repair) = match word.as_str() {
            "true" => (Value::Bool(true), None),
            "false" => (Value::Bool(false), None),
            "null" => (Value::Null, None),
            "True" => (Value::Bool(true), Some(Repair::PythonLiteral)),
            "False" => (Value::Bool(false), Some(Repair::PythonLiteral)),
            "None" => (Value::Null, Some(Repair::PythonLiteral)),
            "NaN" | "Infinity" | "undefined" | "nan" | "inf" => {
                (Value::Null, Some(Repair::NonJsonLiteral))
            }
            _ => {
                let known = [
                    "true",
                    "false",
                    "null",
                    "True",
                    "False",
                    "None",
                    "NaN",
                    "Infinity",
                    "undefined",
                ];
                if self.pos == self.chars.len() && known.iter().any(|k| k.starts_with(&word)) {
                    return Err(self.eof());
                }
                return Err(Fail::At(start));
            }
        };
        if let Some(repair) = repair {
            self.note(repair);
        }
        Ok(value)
    }
}

/// Reads `+1`, `.5`, `1.`, `007`, `-.5e3` as a finite or infinite float; `None` for text that
/// is not a number at all.
fn lenient_number(token: &str) -> Option<f64> {
    let unsigned = token.strip_prefix('+').unwrap_or(token);
    if unsigned.is_empty() || !unsigned.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    unsigned.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Extracts `input` and compares the value and the repair kinds (or the diagnostic kind).
    fn check(input: &str, expect: Expect, outcome: Result<(Value, &[&str]), &str>) {
        let got = extract_json(input, expect);
        match (got, outcome) {
            (Ok((value, repairs)), Ok((want, kinds))) => {
                assert_eq!(value, want, "{input:?}");
                let got: Vec<&str> = repairs.iter().map(Repair::kind).collect();
                assert_eq!(got, kinds, "{input:?}");
            }
            (Err(diagnostic), Err(kind)) => assert_eq!(diagnostic.kind(), kind, "{input:?}"),
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }

    const TAKE: Expect = Expect::Object;
    const SHOTS: Expect = Expect::ArrayOf("shots");

    #[test]
    fn strict_json_needs_no_repair() {
        check(r#"{"a": 1}"#, TAKE, Ok((json!({"a": 1}), &[])));
        check(
            r#"{"shots": [{"a": "x\"y\\z\u00e9\ud83c\udfac"}]}"#,
            SHOTS,
            Ok((json!({"shots": [{"a": "x\"y\\zé🎬"}]}), &[])),
        );
        check(
            r#"{"a": [1, -2.5, 3e2, true, false, null]}"#,
            TAKE,
            Ok((json!({"a": [1, -2.5, 300.0, true, false, null]}), &[])),
        );
    }

    #[test]
    fn repairs() {
        check(
            "{'a': 'b',}",
            TAKE,
            Ok((json!({"a": "b"}), &["single_quotes", "trailing_comma"])),
        );
        check("{a: 1}", TAKE, Ok((json!({"a": 1}), &["unquoted_keys"])));
        check(
            "{“a”: “b”}",
            TAKE,
            Ok((json!({"a": "b"}), &["smart_quotes"])),
        );
        check(
            "{\"a\": 1 // one\n /* two */}",
            TAKE,
            Ok((json!({"a": 1}), &["comments"])),
        );
        check(
            "{\"a\": NaN, \"b\": undefined, \"c\": -Infinity}",
            TAKE,
            Ok((
                json!({"a": null, "b": null, "c": null}),
                &["non_json_literal"],
            )),
        );
        check(
            "{\"a\": True, \"b\": None}",
            TAKE,
            Ok((json!({"a": true, "b": null}), &["python_literal"])),
        );
        check(
            "{\"a\": +1, \"b\": .5}",
            TAKE,
            Ok((json!({"a": 1.0, "b": 0.5}), &["lenient_number"])),
        );
        check(
            "{\"a\"：1，\"b\"：2}",
            TAKE,
            Ok((json!({"a": 1, "b": 2}), &["full_width_punctuation"])),
        );
        check(
            "{\"a\": \"他说，“你好”：再见\"}",
            TAKE,
            Ok((json!({"a": "他说，“你好”：再见"}), &[])),
        );
        check(
            "{\"a\": 1, \"a\": 2}",
            TAKE,
            Ok((json!({"a": 2}), &["duplicate_key"])),
        );
        check(
            "{\"a\": \"line\nbreak\"}",
            TAKE,
            Ok((json!({"a": "line\nbreak"}), &["raw_control_character"])),
        );
        check(
            "{\"a\": \"he said \"hi\" twice\"}",
            TAKE,
            Ok((json!({"a": "he said \"hi\" twice"}), &["unescaped_quote"])),
        );
        check(
            "{'a': 'don't'}",
            TAKE,
            Ok((json!({"a": "don't"}), &["single_quotes", "unescaped_quote"])),
        );
        check(
            "{\"a\": 1 \"b\": 2}",
            TAKE,
            Ok((json!({"a": 1, "b": 2}), &["missing_comma"])),
        );
        check("\u{FEFF}{\"a\": 1}", TAKE, Ok((json!({"a": 1}), &["bom"])));
    }

    #[test]
    fn surroundings() {
        check(
            "```json\n{\"a\": 1}\n```",
            TAKE,
            Ok((json!({"a": 1}), &["code_fence"])),
        );
        check(
            "Sure! Here it is:\n{\"a\": 1}\nEnjoy.",
            TAKE,
            Ok((json!({"a": 1}), &["prose"])),
        );
        check(
            "```\n{bad json}\n```\n```json\n{\"a\": 2}\n```",
            TAKE,
            Ok((json!({"a": 2}), &["code_fence", "prose"])),
        );
        check(
            "<think>The user wants {\"a\": ...}</think>{\"a\": 3}",
            TAKE,
            Ok((json!({"a": 3}), &["prose"])),
        );
        check(
            "\"{\\\"a\\\": 1}\"",
            TAKE,
            Ok((json!({"a": 1}), &["double_encoded"])),
        );
    }

    #[test]
    fn shapes() {
        check(
            "[{\"a\": 1}]",
            SHOTS,
            Ok((json!({"shots": [{"a": 1}]}), &["wrapped_array"])),
        );
        check(
            "{\"shots\": {\"a\": 1}}",
            SHOTS,
            Ok((json!({"shots": [{"a": 1}]}), &["wrapped_object"])),
        );
        check(
            "{\"storyboard\": [{\"a\": 1}]}",
            SHOTS,
            Ok((json!({"shots": [{"a": 1}]}), &["renamed_key"])),
        );
        check(
            "{\"storyboard\": {\"shots\": [{\"a\": 1}]}}",
            SHOTS,
            Ok((json!({"shots": [{"a": 1}]}), &["renamed_key"])),
        );
        check(
            "{\"a\": 1}",
            SHOTS,
            Ok((json!({"shots": [{"a": 1}]}), &["wrapped_object"])),
        );
        check(
            "[{\"a\": 1}, {\"a\": 2}]",
            TAKE,
            Ok((json!({"a": 1}), &["unwrapped_array"])),
        );
        check("{\"shots\": \"four\"}", SHOTS, Err("wrong_shape"));
        check("{}", SHOTS, Err("wrong_shape"));
        check("see [1] and [2]", SHOTS, Err("wrong_shape"));
        check("42", TAKE, Err("no_json"));
    }

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
    fn salvage() {
        let cut = "```json\n{\"shots\": [{\"a\": 1}, {\"a\": 2}, {\"a\": \"thr";
        assert_eq!(
            extract_json(cut, SHOTS).unwrap_err(),
            JsonDiagnostic::Truncated { salvageable: 2 }
        );
        let (value, repairs) = close_truncated(cut, SHOTS).unwrap();
        assert_eq!(value, json!({"shots": [{"a": 1}, {"a": 2}]}));
        assert!(repairs.contains(&Repair::ClosedTruncated));
        let (value, _) =
            close_truncated("{\"dialogue\": \"你好\", \"stage_direction\": \"走", TAKE).unwrap();
        assert_eq!(value, json!({"dialogue": "你好"}));
        assert_eq!(
            close_truncated("{\"shots\": [{\"a\"", SHOTS)
                .unwrap_err()
                .kind(),
            "truncated"
        );
        // A complete reply passes through unchanged.
        assert_eq!(
            close_truncated("{\"a\": 1}", TAKE).unwrap(),
            (json!({"a": 1}), vec![])
        );
    }

    #[test]
    fn html_in_values_is_kept_verbatim() {
        let hostile = "<img src=x onerror=alert(1)><script>alert('x')</script>";
        let reply = format!("{{\"dialogue\": \"{}\"}}", hostile.replace('\'', "\\'"));
        let (value, _) = extract_json(&reply, TAKE).unwrap();
        assert_eq!(value["dialogue"], hostile);
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
