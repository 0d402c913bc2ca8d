//! The repairs: the lenient reader that takes every liberty the module documentation lists
//! and records each as a [`Repair`], bringing a value to the [`Expect`]ed shape, and closing a
//! cut-off reply after its last complete item.

use serde_json::{Map, Value};

use super::{Expect, JsonDiagnostic, JsonType, MAX_DEPTH};
use crate::domain::i18n::Lang;

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
    /// A cut-off reply was closed after its last complete item (see
    /// [`close_truncated`](super::close_truncated)).
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

/// How many complete items a salvage of the JSON starting at `start` would keep.
pub(super) fn salvageable(chars: &[char], start: usize, expect: Expect) -> usize {
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
pub(super) fn salvage_has_items(value: &Value, expect: Expect) -> bool {
    match (expect, value) {
        (Expect::ArrayOf(key), Value::Object(map)) => {
            map.contains_key(key) || map.values().any(|v| v.is_array() || v.get(key).is_some())
        }
        _ => true,
    }
}

/// The number of items of an `ArrayOf` value, or of fields of an `Object` value.
pub(super) fn count_items(value: &Value, expect: Expect) -> usize {
    match expect {
        Expect::ArrayOf(key) => value.get(key).and_then(Value::as_array).map_or(0, Vec::len),
        Expect::Object => value.as_object().map_or(0, Map::len),
    }
}

pub(super) fn push(repairs: &mut Vec<Repair>, repair: Repair) {
    if !repairs.contains(&repair) {
        repairs.push(repair);
    }
}

pub(super) fn push_all(repairs: &mut Vec<Repair>, more: Vec<Repair>) {
    for repair in more {
        push(repairs, repair);
    }
}

pub(super) fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’')
}

pub(super) fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | '-')
}

/// Brings a value to the expected shape, noting what that took.
pub(super) fn shape(
    value: Value,
    expect: Expect,
    repairs: &mut Vec<Repair>,
) -> Result<Value, JsonDiagnostic> {
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
pub(super) enum Fail {
    /// The text ended inside a value. In salvage mode, `partial` holds the complete part of
    /// a cut array or object.
    Eof { partial: Option<Value> },
    /// An error at this position.
    At(usize),
    /// Nesting deeper than [`MAX_DEPTH`] at this position: no start inside is tried either.
    TooDeep(usize),
}

/// The lenient JSON reader over the reply's characters.
pub(super) struct Reader<'a> {
    chars: &'a [char],
    pub(super) pos: usize,
    depth: usize,
    salvage: bool,
    pub(super) repairs: Vec<Repair>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(chars: &'a [char], start: usize, salvage: bool) -> Reader<'a> {
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

    pub(super) fn value(&mut self) -> Result<Value, Fail> {
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
    use super::super::tests::{check, SHOTS, TAKE};
    use super::super::{close_truncated, extract_json, JsonDiagnostic};
    use super::Repair;
    use serde_json::json;

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
}
