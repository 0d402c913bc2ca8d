//! Finding the JSON in a model's reply: fences, `<think>` reasoning and prose around it, the
//! candidate starts tried in order (inside fences first, never inside reasoning), and a whole
//! reply that is a JSON string holding JSON.

use serde_json::Value;

use super::diagnostics::{invalid_at, keep_worst};
use super::repairs::{
    count_items, is_key_char, push, push_all, salvage_has_items, salvageable, shape, Fail, Reader,
    Repair,
};
use super::{Expect, JsonDiagnostic};

/// How many candidate starts (`{` or `[`) one reply may cost at most.
const MAX_CANDIDATES: usize = 64;

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

pub(super) fn extract(
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

#[cfg(test)]
mod tests {
    use super::super::tests::{check, TAKE};
    use serde_json::json;

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
}
