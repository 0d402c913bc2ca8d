//! Fountain 1.1 screenplays (fountain.io): a parser that never fails, an exporter, and the
//! scene list the studio imports.
//!
//! [`parse`] reads any text into a [`Script`] (title page plus a flat list of [`Element`]s) and
//! a list of [`FountainDiagnostic`]s for what it had to guess about (an unclosed boneyard or
//! note, a repeated scene number). [`to_fountain`] writes a script back. The two agree: for
//! every text `t`, `parse(&to_fountain(&parse(t).0)).0 == parse(t).0`, which the tests check on
//! the fixtures and with generated scripts.
//!
//! What the parser recognises, in the order it tries at the start of each paragraph:
//!
//! - the **title page**: `Key: value` lines at the very top (indented lines continue a value),
//!   ended by a blank line. To keep pasted plain text such as `JOHN: Hi.` from turning into a
//!   title page, keys are ASCII words and the block must use at least one of Fountain's usual
//!   keys (`Title`, `Credit`, `Author`, `Source`, `Draft date`, `Contact`…);
//! - `/* boneyard */` and `[[notes]]` standing alone (they may span lines; a note may not span
//!   an empty line, as the specification says). Inline ones stay inside their element's text;
//! - `!` forced action, `@` forced character cue (how Chinese scripts write `@林梅`), `~` lyrics,
//!   `.` forced scene heading (a period followed by a letter or digit), `#` sections, `===`
//!   page breaks, `=` synopses, `>centered<` and `>` forced transitions;
//! - after a blank line: scene headings (`INT`, `EXT`, `EST`, `INT./EXT`, `INT/EXT`, `I/E`,
//!   any case, followed by `.` or a space), transitions (upper case, ending in `TO:`, followed
//!   by a blank line) and character cues (upper-case ASCII with at least one letter, followed
//!   by a non-blank line). A cue's `(V.O.)`-style extension and `^` dual-dialogue mark are
//!   split off; the lines after a cue are dialogue and `(parentheticals)` up to a blank line
//!   (full-width `（…）` parentheses count too, as Chinese scripts write them);
//! - anything else is action, one element per paragraph.
//!
//! Forcing marks (`!`, `@`, `.`, `>`) are syntax, not content: the model does not record them,
//! and the exporter writes one exactly where the text would otherwise read as something else.
//! A whitespace-only line counts as blank. Text is data: nothing is removed or escaped.
//!
//! [`parse`] and [`scenes`] take time linear in the text, hostile text included: a block's scan
//! for its close remembers where it stopped, so thousands of unclosed `/*` (or `[[` over
//! whitespace-only lines) do not each rescan the rest of the script, and cue names and scene
//! ids are kept in sets.
//!
//! ```
//! use duanju_studio::domain::script::fountain::{parse, scenes, to_fountain, Element};
//!
//! let (script, diagnostics) = parse("Title: 霸总归来\n\nINT. 林家客厅 - 夜 #3#\n\n@林梅\n(冷笑)\n你终于回来了。\n");
//! assert!(diagnostics.is_empty());
//! assert_eq!(script.title_page, vec![("Title".to_string(), "霸总归来".to_string())]);
//! assert_eq!(script.elements[1], Element::Character { name: "林梅".into(), extension: None, dual: false });
//! assert_eq!(scenes(&script)[0].id, "3");
//! assert_eq!(parse(&to_fountain(&script)).0, script);
//! ```

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::domain::encoding::hash::fnv1a32;
use crate::domain::i18n::Lang;

/// A parsed screenplay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// The title page's `Key: value` pairs in order; a multi-line value joins its lines with
    /// `\n`.
    pub title_page: Vec<(String, String)>,
    /// The body, in order.
    pub elements: Vec<Element>,
}

/// One element of a screenplay's body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    /// `INT. HOUSE - DAY #1A#`.
    SceneHeading {
        /// The heading without the scene number.
        text: String,
        /// The scene number between `#` marks, when present.
        scene_number: Option<String>,
    },
    /// A paragraph of action; its lines are joined with `\n` and keep their indentation.
    Action {
        /// The paragraph.
        text: String,
    },
    /// A character cue.
    Character {
        /// The name, without extension or dual-dialogue mark.
        name: String,
        /// The extension with its parentheses, such as `(V.O.)`, `(O.S.) (CONT'D)` or `（画外音）`.
        extension: Option<String>,
        /// True for the second speaker of dual dialogue (a trailing `^`).
        dual: bool,
    },
    /// Lines of dialogue, joined with `\n`.
    Dialogue {
        /// The speech.
        text: String,
    },
    /// A parenthetical inside dialogue, with its parentheses: `(beat)` or `（冷笑）`.
    Parenthetical {
        /// The parenthetical.
        text: String,
    },
    /// `CUT TO:` or a forced `> transition`.
    Transition {
        /// The transition.
        text: String,
    },
    /// `> centered text <`.
    Centered {
        /// The text between the marks.
        text: String,
    },
    /// `## Section`, an outline heading that is not printed.
    Section {
        /// The number of `#` marks (1 or more).
        depth: usize,
        /// The section's title.
        text: String,
    },
    /// `= synopsis` of the section or scene above.
    Synopsis {
        /// The synopsis.
        text: String,
    },
    /// A `[[note]]` standing alone (inline notes stay in their element's text).
    Note {
        /// The note's text, verbatim, possibly over several lines.
        text: String,
    },
    /// A `/* boneyard */` standing alone: text that is kept but not part of the script.
    Boneyard {
        /// The text between the marks, verbatim.
        text: String,
    },
    /// `===`.
    PageBreak,
    /// A paragraph of `~lyrics`, the lines joined with `\n`.
    Lyric {
        /// The lyrics, without the `~` marks.
        text: String,
    },
}

/// Something the parser noticed and worked around.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FountainDiagnostic {
    /// The 1-based line where the problem starts.
    pub line: usize,
    /// What it is.
    pub problem: FountainProblem,
}

/// The kinds of [`FountainDiagnostic`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FountainProblem {
    /// `/*` with no `*/` after it: the line was read as action instead of hiding the rest of
    /// the script.
    UnclosedBoneyard,
    /// `[[` with no `]]` before an empty line or the end: the line was read as action.
    UnclosedNote,
    /// A scene number already used by an earlier heading: re-importing cannot tell the two
    /// scenes apart, so [`scenes`] gives the later one a suffixed id.
    DuplicateSceneNumber(String),
}

impl FountainDiagnostic {
    /// A stable identifier for tests and logs.
    pub fn kind(&self) -> &'static str {
        match self.problem {
            FountainProblem::UnclosedBoneyard => "unclosed_boneyard",
            FountainProblem::UnclosedNote => "unclosed_note",
            FountainProblem::DuplicateSceneNumber(_) => "duplicate_scene_number",
        }
    }

    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        let line = self.line;
        match (&self.problem, lang) {
            (FountainProblem::UnclosedBoneyard, Lang::ZhCn) => {
                format!("第 {line} 行的注释块 /* 没有以 */ 结束，已按动作描述读取")
            }
            (FountainProblem::UnclosedBoneyard, Lang::En) => {
                format!("Line {line}: the boneyard /* is never closed with */; it was read as action")
            }
            (FountainProblem::UnclosedNote, Lang::ZhCn) => {
                format!("第 {line} 行的备注 [[ 在空行或结尾前没有以 ]] 结束，已按动作描述读取")
            }
            (FountainProblem::UnclosedNote, Lang::En) => format!(
                "Line {line}: the note [[ is not closed with ]] before an empty line or the end; it was read as action"
            ),
            (FountainProblem::DuplicateSceneNumber(number), Lang::ZhCn) => {
                format!("第 {line} 行的场景编号 #{number}# 与前面的场景重复")
            }
            (FountainProblem::DuplicateSceneNumber(number), Lang::En) => {
                format!("Line {line}: scene number #{number}# is already used by an earlier scene")
            }
        }
    }
}

/// Title-page keys from the specification (and two the studio uses), lower case. A block at
/// the top is a title page only if it uses at least one of them.
const TITLE_KEYS: [&str; 14] = [
    "title",
    "credit",
    "author",
    "authors",
    "source",
    "draft date",
    "date",
    "contact",
    "copyright",
    "notes",
    "revision",
    "episode",
    "series",
    "format",
];

/// Scene-heading prefixes, upper case; each must be followed by `.` or a space.
const HEADING_PREFIXES: [&str; 6] = ["INT./EXT", "INT/EXT", "I/E", "INT", "EXT", "EST"];

/// Parses Fountain text. Never fails: whatever cannot be read as anything else is action.
pub fn parse(source: &str) -> (Script, Vec<FountainDiagnostic>) {
    let text = source.strip_prefix('\u{FEFF}').unwrap_or(source);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let (title_page, start) = match title_page(&lines) {
        Some((entries, next)) => (entries, next),
        None => (Vec::new(), 0),
    };
    let mut parser = Parser::new(&lines);
    parser.body(start);
    let Parser {
        elements,
        mut diagnostics,
        ..
    } = parser;
    diagnostics.sort_by_key(|d| d.line);
    (
        Script {
            title_page,
            elements,
        },
        diagnostics,
    )
}

/// True when a line is blank (empty or whitespace only).
fn is_blank(line: &str) -> bool {
    // What `line.trim().is_empty()` says, in one pass that stops at the first other character.
    line.chars().all(char::is_whitespace)
}

/// Reads the title page at the top of `lines`: its entries and the index of the line after it.
fn title_page(lines: &[&str]) -> Option<(Vec<(String, String)>, usize)> {
    let end = lines
        .iter()
        .position(|l| is_blank(l))
        .unwrap_or(lines.len());
    if end == 0 {
        return None;
    }
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    for line in &lines[..end] {
        let line = line.trim_end();
        if line.starts_with([' ', '\t']) {
            entries.last_mut()?.1.push(line.trim().to_string());
        } else {
            let (key, value) = key_line(line)?;
            let parts = if value.is_empty() {
                Vec::new()
            } else {
                vec![value.to_string()]
            };
            entries.push((key.to_string(), parts));
        }
    }
    let first_has_value = !entries.first()?.1.is_empty();
    let known = entries
        .iter()
        .any(|(key, _)| TITLE_KEYS.contains(&key.to_ascii_lowercase().as_str()));
    if !first_has_value || !known {
        return None;
    }
    let entries = entries
        .into_iter()
        .map(|(key, parts)| (key, parts.join("\n")))
        .collect();
    Some((entries, end))
}

/// Splits a `Key: value` title-page line. Keys are ASCII words of at most 32 characters.
fn key_line(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let key = key.trim_end();
    let valid = key.len() <= 32
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_'));
    valid.then_some((key, value.trim()))
}

/// How a line reads at the start of a paragraph, before any multi-line scanning.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Start {
    Blank,
    /// Starts with `/*`: a boneyard if it closes.
    Boneyard,
    /// Starts with `[[`: a note if it closes.
    Note,
    /// `!text`: the text is the line without that mark.
    ForcedAction(String),
    Lyric,
    Heading {
        text: String,
        scene_number: Option<String>,
    },
    Section {
        depth: usize,
        text: String,
    },
    PageBreak,
    Synopsis(String),
    Centered(String),
    Transition(String),
    Character {
        name: String,
        extension: Option<String>,
        dual: bool,
    },
    /// A plain action line.
    Action,
}

/// Classifies a line at the start of a paragraph. `prev_blank`: a blank line (or the start)
/// comes before it; `next_blank`: a blank line (or the end) comes after it.
fn classify(line: &str, prev_blank: bool, next_blank: bool) -> Start {
    let t = line.trim();
    if t.is_empty() {
        return Start::Blank;
    }
    if t.starts_with("/*") {
        return Start::Boneyard;
    }
    if t.starts_with("[[") {
        return Start::Note;
    }
    if t.starts_with('!') {
        let line = line.trim_end();
        let text = line.replacen('!', "", 1);
        return Start::ForcedAction(text);
    }
    if let Some(rest) = t.strip_prefix('@') {
        if !next_blank {
            if let Some((name, extension, dual)) = split_cue(rest) {
                return Start::Character {
                    name,
                    extension,
                    dual,
                };
            }
        }
        return Start::Action;
    }
    if t.starts_with('~') {
        return Start::Lyric;
    }
    if let Some(rest) = t.strip_prefix('.') {
        if rest.starts_with(char::is_alphanumeric) {
            let (text, scene_number) = split_scene_number(rest);
            return Start::Heading { text, scene_number };
        }
    }
    if t.starts_with('#') {
        let depth = t.chars().take_while(|&c| c == '#').count();
        return Start::Section {
            depth,
            text: t[depth..].trim().to_string(),
        };
    }
    if let Some(rest) = t.strip_prefix('=') {
        if t.len() >= 3 && t.chars().all(|c| c == '=') {
            return Start::PageBreak;
        }
        return Start::Synopsis(rest.trim().to_string());
    }
    if let Some(rest) = t.strip_prefix('>') {
        if let Some(inner) = rest.strip_suffix('<') {
            return Start::Centered(inner.trim().to_string());
        }
        return Start::Transition(rest.trim().to_string());
    }
    if prev_blank && is_natural_heading(t) {
        let (text, scene_number) = split_scene_number(t);
        return Start::Heading { text, scene_number };
    }
    if prev_blank && next_blank && is_natural_transition(t) {
        return Start::Transition(t.to_string());
    }
    if prev_blank && !next_blank {
        if let Some((name, extension, dual)) = split_cue(t) {
            if is_natural_cue_name(&name) {
                return Start::Character {
                    name,
                    extension,
                    dual,
                };
            }
        }
    }
    Start::Action
}

/// True for `INT. …`, `ext …`, `I/E …` and the other standard prefixes.
fn is_natural_heading(t: &str) -> bool {
    HEADING_PREFIXES.iter().any(|prefix| {
        let head = t.get(..prefix.len());
        head.is_some_and(|h| h.eq_ignore_ascii_case(prefix))
            && matches!(t[prefix.len()..].chars().next(), Some('.' | ' '))
    })
}

/// True for an upper-case line ending in `TO:`.
fn is_natural_transition(t: &str) -> bool {
    t.ends_with("TO:") && !t.chars().any(char::is_lowercase)
}

/// True for a name that reads as a cue without `@`: ASCII, no lower case, at least one letter.
fn is_natural_cue_name(name: &str) -> bool {
    name.is_ascii()
        && !name.chars().any(|c| c.is_ascii_lowercase())
        && name.chars().any(|c| c.is_ascii_alphabetic())
}

/// Splits a cue (without `@`) into name, extension and dual mark; `None` if the name is empty.
fn split_cue(cue: &str) -> Option<(String, Option<String>, bool)> {
    let mut cue = cue.trim();
    let dual = match cue.strip_suffix('^') {
        Some(rest) => {
            cue = rest.trim_end();
            true
        }
        None => false,
    };
    let (name, extension) = match cue.find(['(', '（']) {
        Some(open) if cue.ends_with([')', '）']) => {
            (cue[..open].trim(), Some(cue[open..].trim().to_string()))
        }
        _ => (cue, None),
    };
    if name.is_empty() {
        return None;
    }
    Some((name.to_string(), extension, dual))
}

/// True for a `(parenthetical)` line (ASCII or full-width `（…）` parentheses).
fn is_parenthetical(t: &str) -> bool {
    (t.starts_with('(') && t.ends_with(')')) || (t.starts_with('（') && t.ends_with('）'))
}

/// Splits a trailing `#1A#` scene number off a heading. A scene number has no spaces.
fn split_scene_number(heading: &str) -> (String, Option<String>) {
    let heading = heading.trim();
    if let Some(body) = heading.strip_suffix('#') {
        if let Some(open) = body.rfind('#') {
            let number = &body[open + 1..];
            if !number.is_empty() && !number.chars().any(char::is_whitespace) {
                return (
                    body[..open].trim_end().to_string(),
                    Some(number.to_string()),
                );
            }
        }
    }
    (heading.to_string(), None)
}

/// The byte offset of the first `mark` (`*/` or `]]`: two ASCII bytes) in `line`. The same as
/// `line.find(mark)`, without setting up a substring searcher for each of a script's lines.
fn find_mark(line: &str, mark: &str) -> Option<usize> {
    line.as_bytes()
        .windows(mark.len())
        .position(|w| w == mark.as_bytes())
}

/// The parser's state over the body's lines.
struct Parser<'a> {
    lines: &'a [&'a str],
    elements: Vec<Element>,
    diagnostics: Vec<FountainDiagnostic>,
    /// Where the scan for a boneyard's `*/` stops (see [`Parser::block`]).
    boneyard_stop: StopLine,
    /// Where the scan for a note's `]]` (or the empty line that ends it) stops.
    note_stop: StopLine,
}

/// The last answer to "which is the first line at or after `from` that stops a block's scan".
/// The parser asks from ever later lines, and the answer stays right for every line from
/// `from` up to the line found (or to the end when none was found), so no line is scanned
/// twice: a text of many unclosed `/*` (or `[[` over whitespace-only lines) is read in linear
/// time instead of rescanning the rest of the script from each opener.
#[derive(Clone, Copy, Debug)]
struct StopLine {
    from: usize,
    found: Option<usize>,
    /// How many lines were looked at, over the whole parse (at most the number of lines).
    scanned: usize,
}

impl StopLine {
    /// Nothing scanned yet.
    const NONE: StopLine = StopLine {
        from: usize::MAX,
        found: None,
        scanned: 0,
    };

    /// The first line at or after `from` for which `stops` holds, if any.
    fn at_or_after(
        &mut self,
        lines: &[&str],
        from: usize,
        stops: impl Fn(&str) -> bool,
    ) -> Option<usize> {
        let known = self.from <= from && self.found.is_none_or(|found| from <= found);
        if !known {
            let found = (from..lines.len()).find(|&j| stops(lines[j]));
            self.scanned += found.map_or(lines.len(), |j| j + 1).saturating_sub(from);
            self.from = from;
            self.found = found;
        }
        self.found
    }
}

impl<'a> Parser<'a> {
    fn new(lines: &'a [&'a str]) -> Self {
        Parser {
            lines,
            elements: Vec::new(),
            diagnostics: Vec::new(),
            boneyard_stop: StopLine::NONE,
            note_stop: StopLine::NONE,
        }
    }

    /// Parses the body from line `start`, which follows a blank line or the start.
    fn body(&mut self, start: usize) {
        let mut seen_numbers: HashSet<String> = HashSet::new();
        let mut i = start;
        let mut prev_blank = true;
        while i < self.lines.len() {
            let line = self.lines[i];
            let next_blank = self.lines.get(i + 1).is_none_or(|l| is_blank(l));
            let start = classify(line, prev_blank, next_blank);
            i = match start {
                Start::Blank => {
                    prev_blank = true;
                    i += 1;
                    continue;
                }
                Start::Boneyard => match self.block(i, "/*", "*/", false) {
                    Ok((text, next)) => {
                        self.elements.push(Element::Boneyard { text });
                        next
                    }
                    Err(unclosed) => {
                        if unclosed {
                            self.diagnose(i, FountainProblem::UnclosedBoneyard);
                        }
                        self.action(i, line.trim_end().to_string())
                    }
                },
                Start::Note => match self.block(i, "[[", "]]", true) {
                    Ok((text, next)) => {
                        self.elements.push(Element::Note { text });
                        next
                    }
                    Err(unclosed) => {
                        if unclosed {
                            self.diagnose(i, FountainProblem::UnclosedNote);
                        }
                        self.action(i, line.trim_end().to_string())
                    }
                },
                Start::ForcedAction(text) => self.action(i, text),
                Start::Action => self.action(i, line.trim_end().to_string()),
                Start::Lyric => self.lyric(i),
                Start::Character {
                    name,
                    extension,
                    dual,
                } => {
                    self.elements.push(Element::Character {
                        name,
                        extension,
                        dual,
                    });
                    self.dialogue(i + 1)
                }
                Start::Heading { text, scene_number } => {
                    if let Some(number) = &scene_number {
                        if !seen_numbers.insert(number.clone()) {
                            let problem = FountainProblem::DuplicateSceneNumber(number.clone());
                            self.diagnose(i, problem);
                        }
                    }
                    self.elements
                        .push(Element::SceneHeading { text, scene_number });
                    i + 1
                }
                Start::Section { depth, text } => {
                    self.elements.push(Element::Section { depth, text });
                    i + 1
                }
                Start::PageBreak => {
                    self.elements.push(Element::PageBreak);
                    i + 1
                }
                Start::Synopsis(text) => {
                    self.elements.push(Element::Synopsis { text });
                    i + 1
                }
                Start::Centered(text) => {
                    self.elements.push(Element::Centered { text });
                    i + 1
                }
                Start::Transition(text) => {
                    self.elements.push(Element::Transition { text });
                    i + 1
                }
            };
            prev_blank = false;
        }
    }

    fn diagnose(&mut self, index: usize, problem: FountainProblem) {
        self.diagnostics.push(FountainDiagnostic {
            line: index + 1,
            problem,
        });
    }

    /// Scans a `/* … */` or `[[ … ]]` block that starts on line `first`. Returns its text and
    /// the next line, or `Err(true)` when it never closes (or, for notes, an empty line comes
    /// first) and `Err(false)` when text follows the close on its line (so it is inline).
    ///
    /// The close is looked for on the opener's line after the mark, then on the first later
    /// line that holds it (or, for notes, is empty), which [`StopLine`] finds without scanning
    /// any line twice over the whole parse. The text is only built once the block is known to
    /// close.
    fn block(
        &mut self,
        first: usize,
        open: &str,
        close: &str,
        stop_at_empty_line: bool,
    ) -> Result<(String, usize), bool> {
        let lines = self.lines;
        let after_open = &lines[first].trim_start()[open.len()..];
        if let Some(end) = find_mark(after_open, close) {
            if !is_blank(&after_open[end + close.len()..]) {
                return Err(false);
            }
            return Ok((after_open[..end].to_string(), first + 1));
        }
        let stop = if stop_at_empty_line {
            self.note_stop.at_or_after(lines, first + 1, |l| {
                l.is_empty() || find_mark(l, close).is_some()
            })
        } else {
            self.boneyard_stop
                .at_or_after(lines, first + 1, |l| find_mark(l, close).is_some())
        };
        let Some(last) = stop.filter(|&j| !lines[j].is_empty()) else {
            return Err(true);
        };
        let end = find_mark(lines[last], close).expect("the stop line holds the close");
        if !is_blank(&lines[last][end + close.len()..]) {
            return Err(false);
        }
        let mut text = String::from(after_open);
        for line in &lines[first + 1..last] {
            text.push('\n');
            text.push_str(line);
        }
        text.push('\n');
        text.push_str(&lines[last][..end]);
        Ok((text, last + 1))
    }

    /// Reads an action paragraph whose first line (already without any `!`) is `first_text`.
    fn action(&mut self, first: usize, first_text: String) -> usize {
        let mut text = first_text;
        let mut i = first + 1;
        while let Some(line) = self.lines.get(i).filter(|l| !is_blank(l)) {
            text.push('\n');
            text.push_str(line.trim_end());
            i += 1;
        }
        self.elements.push(Element::Action { text });
        i
    }

    /// Reads consecutive `~` lines.
    fn lyric(&mut self, first: usize) -> usize {
        let mut lines = Vec::new();
        let mut i = first;
        while let Some(rest) = self.lines.get(i).and_then(|l| l.trim().strip_prefix('~')) {
            lines.push(rest.trim().to_string());
            i += 1;
        }
        self.elements.push(Element::Lyric {
            text: lines.join("\n"),
        });
        i
    }

    /// Reads the dialogue and parentheticals after a cue, up to a blank line.
    fn dialogue(&mut self, first: usize) -> usize {
        let mut i = first;
        while let Some(line) = self.lines.get(i).filter(|l| !is_blank(l)) {
            let t = line.trim();
            if is_parenthetical(t) {
                self.elements.push(Element::Parenthetical {
                    text: t.to_string(),
                });
            } else if let Some(Element::Dialogue { text }) = self.elements.last_mut() {
                text.push('\n');
                text.push_str(t);
            } else {
                self.elements.push(Element::Dialogue {
                    text: t.to_string(),
                });
            }
            i += 1;
        }
        i
    }
}

/// Writes a script as Fountain text. Elements are separated by a blank line, except the
/// dialogue and parentheticals under a cue. Forcing marks are added only where needed, so a
/// script read from Fountain reads back identically.
pub fn to_fountain(script: &Script) -> String {
    let mut out = String::new();
    for (key, value) in &script.title_page {
        out.push_str(key);
        out.push(':');
        if value.contains('\n') {
            for line in value.split('\n') {
                out.push_str("\n    ");
                out.push_str(line);
            }
        } else if !value.is_empty() {
            out.push(' ');
            out.push_str(value);
        }
        out.push('\n');
    }
    if !script.title_page.is_empty() {
        out.push('\n');
    }
    let body = body_text(&script.elements);
    if script.title_page.is_empty() {
        let lines: Vec<&str> = body.split('\n').collect();
        if title_page(&lines).is_some() {
            // A leading blank line keeps action such as `Title: …` from reading as a title page.
            out.push('\n');
        }
    }
    out.push_str(&body);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The body's Fountain text, without a final newline.
fn body_text(elements: &[Element]) -> String {
    let mut out = String::new();
    let mut previous: Option<&Element> = None;
    for element in elements {
        if let Some(prev) = previous {
            let in_dialogue = matches!(
                element,
                Element::Dialogue { .. } | Element::Parenthetical { .. }
            ) && matches!(
                prev,
                Element::Character { .. }
                    | Element::Dialogue { .. }
                    | Element::Parenthetical { .. }
            );
            out.push_str(if in_dialogue { "\n" } else { "\n\n" });
        }
        out.push_str(&element_text(element));
        previous = Some(element);
    }
    out
}

/// One element's Fountain text.
fn element_text(element: &Element) -> String {
    match element {
        Element::SceneHeading { text, scene_number } => {
            let line = match scene_number {
                Some(number) => format!("{text} #{number}#"),
                None => text.clone(),
            };
            let natural = Start::Heading {
                text: text.clone(),
                scene_number: scene_number.clone(),
            };
            if classify(&line, true, true) == natural {
                line
            } else {
                format!(".{line}")
            }
        }
        Element::Action { text } => {
            let (first, rest) = match text.split_once('\n') {
                Some((first, rest)) => (first, Some(rest)),
                None => (text.as_str(), None),
            };
            if classify(first, true, rest.is_none()) == Start::Action {
                text.clone()
            } else {
                format!("!{text}")
            }
        }
        Element::Character {
            name,
            extension,
            dual,
        } => {
            let mut line = name.clone();
            if let Some(extension) = extension {
                line.push(' ');
                line.push_str(extension);
            }
            if *dual {
                line.push_str(" ^");
            }
            let natural = Start::Character {
                name: name.clone(),
                extension: extension.clone(),
                dual: *dual,
            };
            if classify(&line, true, false) == natural {
                line
            } else {
                format!("@{line}")
            }
        }
        Element::Dialogue { text } | Element::Parenthetical { text } => text.clone(),
        Element::Transition { text } => {
            if classify(text, true, true) == Start::Transition(text.clone()) && !text.is_empty() {
                text.clone()
            } else {
                format!("> {text}").trim_end().to_string()
            }
        }
        Element::Centered { text } => format!("> {text} <"),
        Element::Section { depth, text } => format!("{} {text}", "#".repeat((*depth).max(1)))
            .trim_end()
            .to_string(),
        Element::Synopsis { text } => format!("= {text}").trim_end().to_string(),
        Element::Note { text } => format!("[[{text}]]"),
        Element::Boneyard { text } => format!("/*{text}*/"),
        Element::PageBreak => "===".to_string(),
        Element::Lyric { text } => text
            .split('\n')
            .map(|line| format!("~{line}"))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Where a scene's id came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SceneIdSource {
    /// The heading's `#12A#` scene number.
    SceneNumber,
    /// An `[[id: xyz]]` note in the scene.
    Note,
    /// Derived from the scene's position and heading: write it back with [`with_scene_ids`]
    /// so that a re-import after edits keeps it.
    Derived,
}

/// A scene as the studio imports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneDraft {
    /// The scene's id, unique within the script (see [`scenes`]).
    pub id: String,
    /// Where [`Self::id`] came from.
    pub id_source: SceneIdSource,
    /// The heading text, without the scene number.
    pub heading: String,
    /// The scene's synopses (`= …`), joined with `\n`, if it has any.
    pub synopsis: Option<String>,
    /// The scene's elements, heading included, written back as Fountain.
    pub script_text: String,
    /// The speaking characters, by cue name, in order of first appearance.
    pub characters: Vec<String>,
    /// The scene's elements as indices into [`Script::elements`].
    pub elements: Range<usize>,
}

/// The scenes of a script: each heading and the elements after it, up to the next heading.
/// Elements before the first heading belong to no scene.
///
/// A scene's id is, in order of preference:
/// 1. its heading's scene number (`INT. HOUSE #12A#` → `12A`);
/// 2. an `[[id: xyz]]` note anywhere in the scene, standing alone or inline, heading included
///    (`xyz`; an id must not contain spaces or `#`);
/// 3. otherwise `s{n}-{hash}`: `n` is the scene's 1-based position among the headings and
///    `hash` eight hex digits of the 32-bit FNV-1a hash of the heading, upper-cased with its
///    spaces collapsed (`s3-1c2d3e4f`). It is deterministic but moves when scenes are inserted
///    above, which is why the studio writes ids back with [`with_scene_ids`].
///
/// An id already taken by an earlier scene gets `-2`, `-3`… appended.
pub fn scenes(script: &Script) -> Vec<SceneDraft> {
    let headings: Vec<(usize, &String, &Option<String>)> = script
        .elements
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Element::SceneHeading { text, scene_number } => Some((i, text, scene_number)),
            _ => None,
        })
        .collect();
    let mut taken: HashSet<String> = HashSet::new();
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(headings.len());
    for (position, &(start, heading, scene_number)) in headings.iter().enumerate() {
        let end = headings
            .get(position + 1)
            .map_or(script.elements.len(), |next| next.0);
        let elements = &script.elements[start..end];
        let heading = heading.clone();
        let scene_number = scene_number.clone();
        let (id, id_source) = if let Some(number) = scene_number {
            (number, SceneIdSource::SceneNumber)
        } else if let Some(id) = elements.iter().find_map(id_note) {
            (id, SceneIdSource::Note)
        } else {
            let hash = fnv1a32(normalized_heading(&heading).as_bytes());
            (
                format!("s{}-{hash:08x}", position + 1),
                SceneIdSource::Derived,
            )
        };
        let unique = if taken.insert(id.clone()) {
            id
        } else {
            // The suffixes below the one remembered for this id are all taken (and stay so):
            // a thousand headings numbered `#1#` do not try `1-2`, `1-3`… a thousand times.
            let suffix = next_suffix.entry(id.clone()).or_insert(2);
            loop {
                let candidate = format!("{id}-{suffix}");
                *suffix += 1;
                if taken.insert(candidate.clone()) {
                    break candidate;
                }
            }
        };
        let synopses: Vec<&str> = elements
            .iter()
            .filter_map(|e| match e {
                Element::Synopsis { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let mut characters: Vec<String> = Vec::new();
        let mut cast: HashSet<&str> = HashSet::new();
        for element in elements {
            if let Element::Character { name, .. } = element {
                if cast.insert(name) {
                    characters.push(name.clone());
                }
            }
        }
        out.push(SceneDraft {
            id: unique,
            id_source,
            heading,
            synopsis: (!synopses.is_empty()).then(|| synopses.join("\n")),
            script_text: body_text(elements) + "\n",
            characters,
            elements: start..end,
        });
    }
    out
}

/// The id in an `[[id: xyz]]` note of an element, standing alone or inline.
fn id_note(element: &Element) -> Option<String> {
    match element {
        Element::Note { text } => id_in_note(text),
        Element::SceneHeading { text, .. }
        | Element::Action { text }
        | Element::Dialogue { text }
        | Element::Parenthetical { text } => {
            let mut rest = text.as_str();
            while let Some(open) = rest.find("[[") {
                let after = &rest[open + 2..];
                let close = after.find("]]")?;
                if let Some(id) = id_in_note(&after[..close]) {
                    return Some(id);
                }
                rest = &after[close + 2..];
            }
            None
        }
        _ => None,
    }
}

/// `id: xyz` (any case, `:` or `：`) → `xyz`, if it is a valid id.
fn id_in_note(note: &str) -> Option<String> {
    let note = note.trim();
    let head = note.get(..2)?;
    if !head.eq_ignore_ascii_case("id") {
        return None;
    }
    let rest = note[2..].trim_start();
    let value = rest
        .strip_prefix(':')
        .or_else(|| rest.strip_prefix('：'))?
        .trim();
    let valid = !value.is_empty() && !value.chars().any(|c| c.is_whitespace() || c == '#');
    valid.then(|| value.to_string())
}

/// A heading upper-cased with runs of whitespace collapsed to one space.
fn normalized_heading(heading: &str) -> String {
    heading
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// Returns the script with the `n`-th scene heading numbered `ids[n]` (`#id#`), so the ids
/// survive an export and a re-import. Headings beyond `ids` keep their numbers. In an id,
/// whitespace and `#` (which a scene number cannot hold) become `-`; an empty id is skipped.
pub fn with_scene_ids<S: AsRef<str>>(script: &Script, ids: &[S]) -> Script {
    let mut out = script.clone();
    let headings = out.elements.iter_mut().filter_map(|e| match e {
        Element::SceneHeading { scene_number, .. } => Some(scene_number),
        _ => None,
    });
    for (scene_number, id) in headings.zip(ids) {
        let id: String = id
            .as_ref()
            .trim()
            .chars()
            .map(|c| {
                if c.is_whitespace() || c == '#' {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        if !id.is_empty() {
            *scene_number = Some(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(text: &str) -> Element {
        Element::Action { text: text.into() }
    }
    fn heading(text: &str, number: Option<&str>) -> Element {
        Element::SceneHeading {
            text: text.into(),
            scene_number: number.map(Into::into),
        }
    }
    fn cue(name: &str, extension: Option<&str>, dual: bool) -> Element {
        Element::Character {
            name: name.into(),
            extension: extension.map(Into::into),
            dual,
        }
    }
    fn dialogue(text: &str) -> Element {
        Element::Dialogue { text: text.into() }
    }
    fn paren(text: &str) -> Element {
        Element::Parenthetical { text: text.into() }
    }
    fn transition(text: &str) -> Element {
        Element::Transition { text: text.into() }
    }

    /// Parses `input`, compares the body with `expect`, and checks that the export reads back
    /// to the same script.
    fn check(input: &str, expect: &[Element]) {
        let (script, _) = parse(input);
        assert_eq!(script.elements, expect, "parsing {input:?}");
        let exported = to_fountain(&script);
        assert_eq!(
            parse(&exported).0,
            script,
            "round trip of {input:?} via {exported:?}"
        );
    }

    #[test]
    fn scene_headings() {
        check("INT. HOUSE - DAY", &[heading("INT. HOUSE - DAY", None)]);
        check("ext. park", &[heading("ext. park", None)]);
        check("EST. CITY", &[heading("EST. CITY", None)]);
        check("INT./EXT. CAR", &[heading("INT./EXT. CAR", None)]);
        check("INT/EXT CAR", &[heading("INT/EXT CAR", None)]);
        check("I/E CAR", &[heading("I/E CAR", None)]);
        check("INT HOUSE", &[heading("INT HOUSE", None)]);
        check("INTERIOR", &[action("INTERIOR")]);
        check(".客厅 - 夜", &[heading("客厅 - 夜", None)]);
        check("...and then", &[action("...and then")]);
        check(
            "INT. HOUSE - DAY #1A#",
            &[heading("INT. HOUSE - DAY", Some("1A"))],
        );
        check(".FLASHBACK #I-1-A#", &[heading("FLASHBACK", Some("I-1-A"))]);
        check("INT. ROOM ##", &[heading("INT. ROOM ##", None)]);
        // A heading needs a blank line before it.
        check("He waits.\nINT. HOUSE", &[action("He waits.\nINT. HOUSE")]);
        check(
            "INT. A\nINT. B",
            &[heading("INT. A", None), action("INT. B")],
        );
    }

    #[test]
    fn characters_and_dialogue() {
        check("BOB\nHi.", &[cue("BOB", None, false), dialogue("Hi.")]);
        check(
            "BOB (V.O.)\n(quietly)\nHi.\nStill me.\n(beat)\nBye.",
            &[
                cue("BOB", Some("(V.O.)"), false),
                paren("(quietly)"),
                dialogue("Hi.\nStill me."),
                paren("(beat)"),
                dialogue("Bye."),
            ],
        );
        check(
            "BOB (cont'd)\nHi.",
            &[cue("BOB", Some("(cont'd)"), false), dialogue("Hi.")],
        );
        check("MARY ^\nHi.", &[cue("MARY", None, true), dialogue("Hi.")]);
        check(
            "@林梅 (O.S.)\n你回来了。",
            &[cue("林梅", Some("(O.S.)"), false), dialogue("你回来了。")],
        );
        check(
            "@McCLANE\nYippee.",
            &[cue("McCLANE", None, false), dialogue("Yippee.")],
        );
        check(
            "R2D2\nBeep.",
            &[cue("R2D2", None, false), dialogue("Beep.")],
        );
        // Not cues: followed by a blank line, no letter, lower case.
        check("BOB\n\nHi.", &[action("BOB"), action("Hi.")]);
        check("123\nHi.", &[action("123\nHi.")]);
        check("Bob\nHi.", &[action("Bob\nHi.")]);
        // After a heading with no blank line, only a forced cue is a cue.
        check(
            ".客厅\n@林梅\n你好",
            &[
                heading("客厅", None),
                cue("林梅", None, false),
                dialogue("你好"),
            ],
        );
    }

    #[test]
    fn transitions_centered_sections() {
        check("CUT TO:", &[transition("CUT TO:")]);
        check("> FADE OUT.", &[transition("FADE OUT.")]);
        check(
            ">THE END<",
            &[Element::Centered {
                text: "THE END".into(),
            }],
        );
        check(
            "## Act two",
            &[Element::Section {
                depth: 2,
                text: "Act two".into(),
            }],
        );
        check(
            "= 林梅发现真相。",
            &[Element::Synopsis {
                text: "林梅发现真相。".into(),
            }],
        );
        check("===", &[Element::PageBreak]);
        check(
            "~Row, row\n~your boat",
            &[Element::Lyric {
                text: "Row, row\nyour boat".into(),
            }],
        );
        check("!CUT TO:", &[action("CUT TO:")]);
        check("!BOB\nHi.", &[action("BOB\nHi.")]);
    }

    #[test]
    fn notes_and_boneyard() {
        check(
            "[[id: s1]]",
            &[Element::Note {
                text: "id: s1".into(),
            }],
        );
        check(
            "[[a\n  \nb]]",
            &[Element::Note {
                text: "a\n  \nb".into(),
            }],
        );
        check(
            "/* old\n\nscene */\nHe runs.",
            &[
                Element::Boneyard {
                    text: " old\n\nscene ".into(),
                },
                action("He runs."),
            ],
        );
        check("[[a]] b", &[action("[[a]] b")]);
        check("He runs [[fast]].", &[action("He runs [[fast]].")]);
    }

    #[test]
    fn unclosed_blocks_are_action_with_a_diagnostic() {
        let (script, diagnostics) = parse("INT. A\n\n/* never closed\n\nBOB\nHi.");
        assert_eq!(script.elements[1], action("/* never closed"));
        assert_eq!(script.elements[2], cue("BOB", None, false));
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].kind(), "unclosed_boneyard");
        assert_eq!(diagnostics[0].line, 3);
        let (script, diagnostics) = parse("[[ note\n\nmore");
        assert_eq!(script.elements, [action("[[ note"), action("more")]);
        assert_eq!(diagnostics[0].kind(), "unclosed_note");
        for d in diagnostics {
            assert!(!d.message(Lang::ZhCn).is_empty() && !d.message(Lang::En).is_empty());
        }
    }

    #[test]
    fn title_page() {
        let (script, _) =
            parse("Title: 霸总归来\nCredit: 编剧\nAuthor:\n    王五\n    赵六\n\nINT. A");
        assert_eq!(
            script.title_page,
            vec![
                ("Title".into(), "霸总归来".into()),
                ("Credit".into(), "编剧".into()),
                ("Author".into(), "王五\n赵六".into()),
            ]
        );
        assert_eq!(script.elements, [heading("INT. A", None)]);
        assert_eq!(parse(&to_fountain(&script)).0, script);
        // Plain text that merely has colons is not a title page.
        check(
            "JOHN: Hi.\nMARY: Hello.",
            &[action("JOHN: Hi.\nMARY: Hello.")],
        );
        check(
            "FADE IN:\n\nINT. A",
            &[action("FADE IN:"), heading("INT. A", None)],
        );
        // Action that would read as a title page is exported after a blank line.
        check(
            "\nTitle: not a title page",
            &[action("Title: not a title page")],
        );
    }

    #[test]
    fn scene_ids() {
        let (script, diagnostics) = parse(
            "INT. A #7#\n\nBOB\nHi.\n\nINT. B\n[[id: b-1]]\n\nEXT. C\n\n@林梅\n走。\n\nINT. A #7#",
        );
        assert_eq!(diagnostics[0].kind(), "duplicate_scene_number");
        let list = scenes(&script);
        let ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
        let derived = format!("s3-{:08x}", fnv1a32("EXT. C".as_bytes()));
        assert_eq!(ids, ["7", "b-1", derived.as_str(), "7-2"]);
        assert_eq!(list[0].characters, ["BOB"]);
        assert_eq!(list[2].characters, ["林梅"]);
        assert_eq!(list[1].id_source, SceneIdSource::Note);
        assert_eq!(list[0].script_text, "INT. A #7#\n\nBOB\nHi.\n");
        // Writing the ids back makes every one a scene number that re-imports unchanged.
        let ids: Vec<String> = list.iter().map(|s| s.id.clone()).collect();
        let numbered = with_scene_ids(&script, &ids);
        let again = scenes(&parse(&to_fountain(&numbered)).0);
        assert_eq!(again.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), ids);
        assert!(again
            .iter()
            .all(|s| s.id_source == SceneIdSource::SceneNumber));
        let spaced = with_scene_ids(&script, &["a b#c"]);
        assert_eq!(spaced.elements[0], heading("INT. A", Some("a-b-c")));
    }

    #[test]
    fn text_is_kept_verbatim() {
        let hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)>";
        check(hostile, &[action(hostile)]);
        check(
            &format!("BOB\n{hostile}"),
            &[cue("BOB", None, false), dialogue(hostile)],
        );
    }

    #[test]
    fn line_endings_and_bom() {
        check(
            "\u{FEFF}INT. A\r\n\r\nBOB\r\nHi.\rBye.",
            &[
                heading("INT. A", None),
                cue("BOB", None, false),
                dialogue("Hi.\nBye."),
            ],
        );
    }

    /// The block scan as it was before it remembered its stop line (it rescanned the rest of
    /// the script from every opener): the reference the linear one must agree with.
    fn naive_block(
        lines: &[&str],
        first: usize,
        open: &str,
        close: &str,
        stop_at_empty_line: bool,
    ) -> Result<(String, usize), bool> {
        let mut text = String::new();
        let mut current = lines[first].trim_start()[open.len()..].to_string();
        let mut index = first;
        loop {
            if let Some(end) = current.find(close) {
                text.push_str(&current[..end]);
                if !is_blank(&current[end + close.len()..]) {
                    return Err(false);
                }
                return Ok((text, index + 1));
            }
            text.push_str(&current);
            index += 1;
            match lines.get(index) {
                Some(next) if !(stop_at_empty_line && next.is_empty()) => {
                    text.push('\n');
                    current = next.to_string();
                }
                _ => return Err(true),
            }
        }
    }

    /// Scans every block of `text` the way the parser does (openers in order, each kind with
    /// its own memory), querying only the openers `keep` accepts, and compares each answer with
    /// the naive scan's. Returns the lines each kind's scan looked at.
    fn block_scans_agree(text: &str, keep: impl Fn(usize) -> bool) -> [usize; 2] {
        let lines: Vec<&str> = text.split('\n').collect();
        let mut parser = Parser::new(&lines);
        for (open, close, notes) in [("/*", "*/", false), ("[[", "]]", true)] {
            let openers = (0..lines.len()).filter(|&i| lines[i].trim_start().starts_with(open));
            for (_, first) in openers.enumerate().filter(|&(k, _)| keep(k)) {
                assert_eq!(
                    parser.block(first, open, close, notes),
                    naive_block(&lines, first, open, close, notes),
                    "{open} on line {first} of {text:?}"
                );
            }
        }
        [parser.boneyard_stop.scanned, parser.note_stop.scanned]
    }

    #[test]
    fn block_scans_match_the_naive_scan() {
        let cases = [
            "/* a\n\nb */\n/* c\n/*\n*/ x\n/* d */\n/*\n\n*/",
            "[[a\n  \nb]]\n[[c\n\n[[d\n \n]] e\n[[ f ]]\n[[\n]]",
            "/*\n[[\n*/\n]]\n/* [[ */ ]]\n[[ /* ]] */",
            "  /* indented\n\t[[ tabbed\n*/  \n]]\t",
            "/*/\n*/",
        ];
        for text in cases {
            block_scans_agree(text, |_| true);
            block_scans_agree(text, |k| k % 2 == 1);
        }
    }

    /// No line is looked at twice by a block scan over a whole parse, however many openers
    /// never close: the work is linear in the text, where the naive scan did a rescan of the
    /// rest of the script per opener (about n²/2 lines for n openers).
    #[test]
    fn block_scans_look_at_each_line_once() {
        for (unit, tail) in [
            ("/*\n\n", ""),
            ("/*\n\n", "*/ x"),
            ("/*\n\n", "*/"),
            ("[[\n \n", ""),
            ("[[\n \n", "]] x"),
            ("[[ a\nb\n", "]]"),
        ] {
            let text = unit.repeat(1_000) + tail;
            let lines = text.split('\n').count();
            let [boneyard, notes] = block_scans_agree(&text, |_| true);
            assert!(
                boneyard <= lines && notes <= lines,
                "{unit:?}{tail:?}: {boneyard}, {notes} of {lines}"
            );
            // The whole parse, too (it asks only from paragraph starts).
            let lines_vec: Vec<&str> = text.split('\n').collect();
            let mut parser = Parser::new(&lines_vec);
            parser.body(0);
            assert!(parser.boneyard_stop.scanned <= lines && parser.note_stop.scanned <= lines);
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn block_scans_match_the_naive_scan_on_any_text(
                parts in proptest::collection::vec(
                    prop_oneof![
                        Just("/*"), Just("*/"), Just("[["), Just("]]"), Just(" "), Just("x"),
                        Just("林"), Just("\n"), Just("\n"), Just("\n\n"),
                    ],
                    0..40,
                ),
                every in 1usize..4,
            ) {
                let text = parts.concat();
                block_scans_agree(&text, |k| k % every == 0);
                let lines = text.split('\n').count();
                let [boneyard, notes] = block_scans_agree(&text, |_| true);
                prop_assert!(boneyard <= lines && notes <= lines);
            }
        }
    }
}
