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
//!
//! The code has three rooms: `spans` finds the JSON in the reply (fences, reasoning, prose
//! around it, the candidate starts, a double-encoded reply); `repairs` is the lenient reader
//! and the shape fixes, each liberty recorded as a [`Repair`]; `diagnostics` says why nothing
//! could be taken ([`JsonDiagnostic`]).

use serde::Serialize;
use serde_json::Value;

use crate::domain::i18n::Lang;

mod diagnostics;
mod repairs;
mod spans;

pub use diagnostics::{JsonDiagnostic, JsonType};
pub use repairs::Repair;

/// The deepest nesting of arrays and objects the reader follows.
pub const MAX_DEPTH: usize = 100;

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

/// Takes the JSON the caller expects out of a model's reply. See the module documentation
/// for what is repaired; the repairs made are returned with the value, each once.
pub fn extract_json(text: &str, expect: Expect) -> Result<(Value, Vec<Repair>), JsonDiagnostic> {
    spans::extract(text, expect, false)
}

/// Like [`extract_json`], but a cut-off reply is closed after its last complete item instead
/// of being rejected: complete items of an array are kept, a cut item is dropped, and a cut
/// field of an object is dropped unless it is itself an array or object (whose complete items
/// are kept). The result carries [`Repair::ClosedTruncated`]. Still
/// [`JsonDiagnostic::Truncated`] when nothing complete arrived.
pub fn close_truncated(text: &str, expect: Expect) -> Result<(Value, Vec<Repair>), JsonDiagnostic> {
    spans::extract(text, expect, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extracts `input` and compares the value and the repair kinds (or the diagnostic kind).
    pub(super) fn check(input: &str, expect: Expect, outcome: Result<(Value, &[&str]), &str>) {
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

    pub(super) const TAKE: Expect = Expect::Object;
    pub(super) const SHOTS: Expect = Expect::ArrayOf("shots");

    #[test]
    fn html_in_values_is_kept_verbatim() {
        let hostile = "<img src=x onerror=alert(1)><script>alert('x')</script>";
        let reply = format!("{{\"dialogue\": \"{}\"}}", hostile.replace('\'', "\\'"));
        let (value, _) = extract_json(&reply, TAKE).unwrap();
        assert_eq!(value["dialogue"], hostile);
    }
}
