//! The sandbox's token counter.
//!
//! Real providers count tokens with their own tokenizers, which a browser cannot
//! reproduce exactly. The sandbox uses ONE documented deterministic rule instead,
//! so tests and benchmarks can predict every usage figure:
//!
//! * whitespace (anything `char::is_whitespace` accepts, including the
//!   ideographic space U+3000) is free;
//! * each maximal run of ASCII letters and digits costs `ceil(len / 4)` tokens;
//! * every other character costs 1 token. This covers CJK characters (Han,
//!   kana, Hangul, CJK punctuation, fullwidth forms), ASCII punctuation and any
//!   other symbol or letter.
//!
//! A chat request's prompt costs the sum over its messages of
//! `count_tokens(content) + 4`, plus 2 (see [`prompt_tokens`]).

/// Tokens added per message for the role and the message framing.
pub const TOKENS_PER_MESSAGE: u64 = 4;
/// Tokens added once per request for priming the assistant's reply.
pub const TOKENS_PER_REQUEST: u64 = 2;

/// Counts the tokens of `text` with the sandbox rule described in the module docs.
pub fn count_tokens(text: &str) -> u64 {
    let mut tokens = 0u64;
    let mut run = 0u64;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run += 1;
            continue;
        }
        tokens += run.div_ceil(4);
        run = 0;
        if !c.is_whitespace() {
            tokens += 1;
        }
    }
    tokens + run.div_ceil(4)
}

/// Counts the prompt tokens of a request whose messages have these contents.
pub fn prompt_tokens<'a>(contents: impl IntoIterator<Item = &'a str>) -> u64 {
    contents
        .into_iter()
        .map(|content| count_tokens(content) + TOKENS_PER_MESSAGE)
        .sum::<u64>()
        + TOKENS_PER_REQUEST
}

/// Returns true for characters of the CJK scripts: Han ideographs, kana,
/// Hangul, Bopomofo, CJK punctuation and symbols, and fullwidth forms.
///
/// The token rule does not need this (these characters cost 1 token like any
/// other symbol); the sandbox uses it to decide the reply language.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF      // Hangul Jamo
        | 0x2E80..=0x2FDF    // CJK radicals and Kangxi radicals
        | 0x3000..=0x303F    // CJK symbols and punctuation
        | 0x3040..=0x30FF    // Hiragana and Katakana
        | 0x3100..=0x312F    // Bopomofo
        | 0x3130..=0x318F    // Hangul compatibility Jamo
        | 0x31C0..=0x31FF    // CJK strokes and Katakana extensions
        | 0x3200..=0x33FF    // Enclosed CJK letters and CJK compatibility
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFE10..=0xFE1F    // Vertical forms
        | 0xFE30..=0xFE4F    // CJK compatibility forms
        | 0xFF00..=0xFFEF    // Halfwidth and fullwidth forms
        | 0x20000..=0x3134F  // CJK extensions B to G and compatibility supplement
    )
}

/// Returns true when `text` contains at least one CJK character (the
/// ideographic space does not count: it is whitespace).
pub fn contains_cjk(text: &str) -> bool {
    text.chars().any(|c| !c.is_whitespace() && is_cjk(c))
}

/// Splits `text` into pieces of one token each, for streaming.
///
/// The pieces concatenate back to exactly `text`. Whitespace is attached to the
/// token that follows it (trailing whitespace to the last piece), and a long run
/// of letters or digits is cut every 4 characters. Because of that,
/// `split_tokens(t).len() == count_tokens(t)` for any text that has at least
/// one token, and any prefix made of the first `k` pieces has exactly `k`
/// tokens. A text made only of whitespace is returned as a single piece.
pub fn split_tokens(text: &str) -> Vec<&str> {
    // Byte offsets where each piece starts.
    let mut starts: Vec<usize> = Vec::new();
    // Start of the piece being built; it may hold leading whitespace only.
    let mut start = 0usize;
    // Whether the piece being built already holds its token.
    let mut has_token = false;
    // Letters or digits in the current piece's token (0 when it is a symbol).
    let mut alnum_len = 0usize;

    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if has_token {
                starts.push(start);
                start = i;
                has_token = false;
                alnum_len = 0;
            }
            continue;
        }
        let alnum = c.is_ascii_alphanumeric();
        if alnum && has_token && (1..4).contains(&alnum_len) {
            alnum_len += 1;
            continue;
        }
        if has_token {
            starts.push(start);
            start = i;
        }
        has_token = true;
        alnum_len = usize::from(alnum);
    }
    if has_token || starts.is_empty() {
        starts.push(start);
    }
    // Trailing whitespace (if any) joins the last piece, because each piece
    // runs up to the next start.
    let mut pieces = Vec::with_capacity(starts.len());
    for (index, &begin) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        pieces.push(&text[begin..end]);
    }
    if text.is_empty() {
        pieces.clear();
    }
    pieces
}

/// Returns the prefix of `text` made of its first `max_tokens` tokens, or the
/// whole text when it is not longer than that.
pub fn truncate_tokens(text: &str, max_tokens: u64) -> &str {
    let pieces = split_tokens(text);
    if (pieces.len() as u64) <= max_tokens {
        return text;
    }
    let len: usize = pieces[..max_tokens as usize].iter().map(|p| p.len()).sum();
    &text[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_documented_rule() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("   \n\t"), 0);
        assert_eq!(count_tokens("a"), 1);
        assert_eq!(count_tokens("abcd"), 1);
        assert_eq!(count_tokens("abcde"), 2);
        assert_eq!(count_tokens("Hello, world!"), 6); // Hell|o , worl|d !
        assert_eq!(count_tokens("gpt-4.1"), 5); // gpt - 4 . 1
        assert_eq!(count_tokens("你好，世界。"), 6);
        assert_eq!(count_tokens("カタカナ 한국어"), 7);
        assert_eq!(count_tokens("ＡＢＣ１２"), 5); // fullwidth forms are one each
        assert_eq!(count_tokens("a\u{3000}b"), 2); // the ideographic space is free
        assert_eq!(count_tokens("café"), 2); // caf + é
        assert_eq!(count_tokens("总裁abc"), 3);
    }

    #[test]
    fn prompt_tokens_add_framing() {
        assert_eq!(prompt_tokens([]), 2);
        assert_eq!(prompt_tokens(["hi"]), 1 + 4 + 2);
        assert_eq!(prompt_tokens(["hi", "你好"]), 1 + 4 + 2 + 4 + 2);
    }

    #[test]
    fn cjk_detection() {
        assert!(contains_cjk("写一个分镜"));
        assert!(contains_cjk("hello 。"));
        assert!(contains_cjk("ひらがな"));
        assert!(!contains_cjk("plain English, café"));
        assert!(!contains_cjk("wide\u{3000}space"));
    }

    #[test]
    fn split_pieces_reassemble_and_count_one_token_each() {
        let samples = [
            "Hello, world! The heiress returns.",
            "  leading and trailing  ",
            "她攥紧了手里的离婚协议。",
            "supercalifragilistic 1234567890 x",
            "{\"shots\":[{\"shot_number\":1}]}",
            "a",
            "   ",
        ];
        for text in samples {
            let pieces = split_tokens(text);
            assert_eq!(pieces.concat(), text);
            if count_tokens(text) > 0 {
                assert_eq!(pieces.len() as u64, count_tokens(text), "{text:?}");
                for piece in &pieces {
                    assert_eq!(count_tokens(piece), 1, "{piece:?} in {text:?}");
                }
                for k in 0..=pieces.len() {
                    assert_eq!(count_tokens(&pieces[..k].concat()), k as u64);
                }
            }
        }
        assert!(split_tokens("").is_empty());
        assert_eq!(split_tokens("   "), vec!["   "]);
    }

    #[test]
    fn truncation_keeps_a_token_prefix() {
        assert_eq!(truncate_tokens("one two three", 2), "one two");
        assert_eq!(truncate_tokens("abcdefgh", 1), "abcd");
        assert_eq!(truncate_tokens("short", 10), "short");
        assert_eq!(truncate_tokens("你好世界", 2), "你好");
    }
}
