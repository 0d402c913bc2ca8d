//! A small line and word diff for showing a rewrite against the text it replaces.
//!
//! [`diff_words`] splits both texts into tokens (a run of letters or digits of a space-separated
//! script, one character of Chinese or Japanese, a run of whitespace, one punctuation mark) and
//! [`diff_lines`] into lines, then keeps a longest common subsequence of tokens. The result is a
//! list of [`Piece`]s: concatenating the `Same` and `Removed` pieces gives the old text back, the
//! `Same` and `Added` pieces the new text (the tests check it on generated texts).
//!
//! Why not a crate: `similar` is well kept but brings several algorithms and Unicode tables the
//! page does not need; a scene is at most a few thousand tokens, and a quadratic LCS with the
//! common head and tail trimmed first stays under [`CELL_CAP`] cells. Past the cap the diff
//! falls back to lines, then to "all removed, all added", which is still correct.
//!
//! ```
//! use duanju_studio::domain::script::text_diff::{diff_words, Change};
//!
//! let pieces = diff_words("她推门而入。", "她缓缓推门而入。");
//! assert!(pieces.iter().any(|p| p.change == Change::Added && p.text == "缓缓"));
//! ```

use serde::Serialize;

/// The most LCS table cells one diff may use (about 4 MB).
pub const CELL_CAP: usize = 4_000_000;

/// What happened to a piece of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// In both texts.
    Same,
    /// Only in the new text.
    Added,
    /// Only in the old text.
    Removed,
}

impl Change {
    /// A stable name for `data-change`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Same => "same",
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }
}

/// A run of text with one [`Change`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Piece {
    /// What happened to it.
    pub change: Change,
    /// The text.
    pub text: String,
}

/// How much changed, in tokens of the diff that made them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffStats {
    /// Pieces added.
    pub added: usize,
    /// Pieces removed.
    pub removed: usize,
}

/// Counts the added and removed pieces.
pub fn stats(pieces: &[Piece]) -> DiffStats {
    let mut out = DiffStats::default();
    for piece in pieces {
        match piece.change {
            Change::Added => out.added += 1,
            Change::Removed => out.removed += 1,
            Change::Same => {}
        }
    }
    out
}

/// The word-level diff of two texts (see the module documentation).
pub fn diff_words(old: &str, new: &str) -> Vec<Piece> {
    let (a, b) = (words(old), words(new));
    match diff_tokens(&a, &b) {
        Some(pieces) => pieces,
        None => diff_lines(old, new),
    }
}

/// The line-level diff of two texts; each line keeps its `\n`.
pub fn diff_lines(old: &str, new: &str) -> Vec<Piece> {
    let (a, b): (Vec<&str>, Vec<&str>) = (
        old.split_inclusive('\n').collect(),
        new.split_inclusive('\n').collect(),
    );
    diff_tokens(&a, &b).unwrap_or_else(|| {
        let mut out = Vec::new();
        push(&mut out, Change::Removed, old);
        push(&mut out, Change::Added, new);
        out
    })
}

/// Splits a text into diff tokens.
fn words(text: &str) -> Vec<&str> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Word,
        Space,
        Single,
    }
    let class = |c: char| {
        if c.is_whitespace() {
            Class::Space
        } else if c.is_alphanumeric() && !is_cjk(c) {
            Class::Word
        } else {
            Class::Single
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut current: Option<Class> = None;
    for (i, c) in text.char_indices() {
        let k = class(c);
        match current {
            Some(prev) if prev == k && k != Class::Single => {}
            Some(_) => {
                out.push(&text[start..i]);
                start = i;
            }
            None => {}
        }
        current = Some(k);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Chinese, Japanese and Korean characters, each its own token.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
        | 0x20000..=0x2FA1F)
}

/// Appends text to the last piece when it has the same change, else a new piece.
fn push(out: &mut Vec<Piece>, change: Change, text: &str) {
    if text.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.change == change => last.text.push_str(text),
        _ => out.push(Piece {
            change,
            text: text.to_string(),
        }),
    }
}

/// The LCS diff of two token lists; `None` when the table would pass [`CELL_CAP`].
fn diff_tokens(a: &[&str], b: &[&str]) -> Option<Vec<Piece>> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let (n, m) = (ma.len(), mb.len());
    if (n + 1).saturating_mul(m + 1) > CELL_CAP {
        return None;
    }
    let mut out = Vec::new();
    push(&mut out, Change::Same, &a[..head].concat());
    // lcs[i][j]: the LCS length of ma[i..] and mb[j..].
    let width = m + 1;
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if ma[i] == mb[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && ma[i] == mb[j] {
            push(&mut out, Change::Same, ma[i]);
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
            push(&mut out, Change::Removed, ma[i]);
            i += 1;
        } else {
            push(&mut out, Change::Added, mb[j]);
            j += 1;
        }
    }
    push(&mut out, Change::Same, &a[a.len() - tail..].concat());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(pieces: &[Piece], keep: Change) -> String {
        pieces
            .iter()
            .filter(|p| p.change == Change::Same || p.change == keep)
            .map(|p| p.text.as_str())
            .collect()
    }

    #[test]
    fn equal_texts_are_one_same_piece() {
        let pieces = diff_words("MEI\nYou're late.\n", "MEI\nYou're late.\n");
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].change, Change::Same);
        assert_eq!(stats(&pieces), DiffStats::default());
        assert!(diff_words("", "").is_empty());
    }

    #[test]
    fn words_change_as_words() {
        let pieces = diff_words("She walks in slowly.", "She storms in.");
        assert_eq!(
            pieces,
            vec![
                Piece {
                    change: Change::Same,
                    text: "She ".into()
                },
                Piece {
                    change: Change::Removed,
                    text: "walks".into()
                },
                Piece {
                    change: Change::Added,
                    text: "storms".into()
                },
                Piece {
                    change: Change::Same,
                    text: " in".into()
                },
                Piece {
                    change: Change::Removed,
                    text: " slowly".into()
                },
                Piece {
                    change: Change::Same,
                    text: ".".into()
                },
            ]
        );
        assert_eq!(
            stats(&pieces),
            DiffStats {
                added: 1,
                removed: 2
            }
        );
    }

    #[test]
    fn chinese_changes_by_character() {
        let pieces = diff_words("林梅冷笑。", "林梅轻声冷笑。");
        assert_eq!(side(&pieces, Change::Added), "林梅轻声冷笑。");
        assert!(pieces.contains(&Piece {
            change: Change::Added,
            text: "轻声".into()
        }));
    }

    #[test]
    fn lines_keep_their_newlines() {
        let pieces = diff_lines("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(
            pieces,
            vec![
                Piece {
                    change: Change::Same,
                    text: "a\n".into()
                },
                Piece {
                    change: Change::Removed,
                    text: "b\n".into()
                },
                Piece {
                    change: Change::Added,
                    text: "B\n".into()
                },
                Piece {
                    change: Change::Same,
                    text: "c\n".into()
                },
            ]
        );
    }

    #[test]
    fn huge_texts_fall_back_but_stay_correct() {
        let old: String = (0..3000).map(|i| format!("w{i} ")).collect();
        let new: String = (0..3000).map(|i| format!("x{i} ")).collect();
        let pieces = diff_words(&old, &new);
        assert_eq!(side(&pieces, Change::Removed), old);
        assert_eq!(side(&pieces, Change::Added), new);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn both_texts_come_back(old in "[a-c 林梅\n。]{0,40}", new in "[a-c 林梅\n。]{0,40}") {
                let words = diff_words(&old, &new);
                prop_assert_eq!(side(&words, Change::Removed), old.clone());
                prop_assert_eq!(side(&words, Change::Added), new.clone());
                let lines = diff_lines(&old, &new);
                prop_assert_eq!(side(&lines, Change::Removed), old);
                prop_assert_eq!(side(&lines, Change::Added), new);
                // Neighbouring pieces never share a change.
                prop_assert!(words.windows(2).all(|w| w[0].change != w[1].change));
            }
        }
    }
}
