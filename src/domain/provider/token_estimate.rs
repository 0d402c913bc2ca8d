//! Token estimates from text, per model family, and a calibration that learns from billed usage.
//!
//! The browser has no tokenizer, so the app estimates from character classes. Chinese scripts
//! dominate this app's prompts and tokenize very differently from English, so the two are
//! counted separately. The rates (in thousandths of a token per character, to keep the
//! arithmetic exact) come from the providers' own guidance:
//!
//! | family | CJK char | other char | source |
//! |---|---|---|---|
//! | DeepSeek | 0.6 | 0.3 | api-docs.deepseek.com "Token & Token Usage": 1 Chinese character ≈ 0.6 token, 1 English character ≈ 0.3 token |
//! | OpenAI | 1.0 | 0.25 | OpenAI Help Center "What are tokens": 1 token ≈ 4 English characters; CJK taken as 1 token per character (an upper bound for o200k) |
//! | Gemini | 1.0 | 0.25 | ai.google.dev "Understand and count tokens": 1 token ≈ 4 characters; CJK as for OpenAI |
//! | Claude | 1.0 | 0.286 | Anthropic publishes no ratio; 3.5 English characters per token is the commonly quoted figure for Claude's tokenizer |
//! | other | 1.0 | 0.3 | the most conservative of the above |
//!
//! Whitespace and punctuation count as "other" characters; scripts that are neither Latin nor CJK
//! (Cyrillic, emoji…) are charged the CJK rate, since byte-level tokenizers split them finely.
//! Each message adds 4 tokens of framing and every reply 2 more for its priming, the figures of
//! OpenAI's cookbook ("How to count tokens with tiktoken").
//!
//! Estimates are rough by nature: [`Calibration`] learns each model's ratio of billed to
//! estimated tokens and corrects later estimates.
//!
//! ```
//! use duanju_studio::domain::provider::token_estimate::estimate_text;
//!
//! // Four Chinese characters at 0.6 token each round up to 3 tokens on DeepSeek…
//! assert_eq!(estimate_text("deepseek-v3.2", "你好世界"), 3);
//! // …and count 1 token each on GPT-4.1.
//! assert_eq!(estimate_text("gpt-4.1", "你好世界"), 4);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::provider::chat::ChatMessage;

/// Framing tokens added per message (`<|start|>{role}\n … <|end|>\n`).
pub const TOKENS_PER_MESSAGE: u64 = 4;
/// Tokens that prime every reply (`<|start|>assistant`).
pub const TOKENS_PER_REPLY: u64 = 2;

/// The tokenizer family a model belongs to, guessed from its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelFamily {
    /// `deepseek-*`.
    DeepSeek,
    /// `gpt-*`, `o1`/`o3`/`o4*`, `chatgpt-*`.
    OpenAi,
    /// `claude-*`.
    Claude,
    /// `gemini-*`, `gemma-*`.
    Gemini,
    /// Anything else.
    Other,
}

/// Tokens per character, in thousandths of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRates {
    /// Per CJK character (Han, kana, Hangul, full-width punctuation) and other non-Latin scripts.
    pub cjk_millitokens: u64,
    /// Per Latin letter, digit, space or punctuation mark.
    pub latin_millitokens: u64,
}

impl ModelFamily {
    /// Guesses the family from a model id, ignoring case and a router's `vendor/` prefix.
    pub fn of(model: &str) -> ModelFamily {
        let lower = model.trim().to_ascii_lowercase();
        let name = lower.rsplit('/').next().unwrap_or("");
        if lower.contains("deepseek") {
            ModelFamily::DeepSeek
        } else if lower.contains("claude") {
            ModelFamily::Claude
        } else if lower.contains("gemini") || lower.contains("gemma") {
            ModelFamily::Gemini
        } else if name.starts_with("gpt")
            || name.starts_with("chatgpt")
            || ["o1", "o3", "o4"]
                .iter()
                .any(|o| name == *o || name.starts_with(&format!("{o}-")))
        {
            ModelFamily::OpenAi
        } else {
            ModelFamily::Other
        }
    }

    /// This family's per-character rates (see the module table for their sources).
    pub fn rates(self) -> TokenRates {
        let (cjk_millitokens, latin_millitokens) = match self {
            ModelFamily::DeepSeek => (600, 300),
            ModelFamily::OpenAi | ModelFamily::Gemini => (1000, 250),
            ModelFamily::Claude => (1000, 286),
            ModelFamily::Other => (1000, 300),
        };
        TokenRates {
            cjk_millitokens,
            latin_millitokens,
        }
    }
}

/// True for characters charged the CJK rate: CJK scripts and full-width forms, and every script
/// that is not Latin.
fn is_cjk_rate(c: char) -> bool {
    let code = c as u32;
    let latin = code < 0x0250 || (0x2000..=0x206F).contains(&code);
    !latin
}

/// The estimate for `text` in thousandths of a token.
fn text_millitokens(rates: TokenRates, text: &str) -> u64 {
    text.chars()
        .map(|c| {
            if is_cjk_rate(c) {
                rates.cjk_millitokens
            } else {
                rates.latin_millitokens
            }
        })
        .sum()
}

/// Estimated tokens for a piece of text sent to or received from `model`, rounded up.
pub fn estimate_text(model: &str, text: &str) -> u64 {
    text_millitokens(ModelFamily::of(model).rates(), text).div_ceil(1000)
}

/// Estimated prompt tokens for a conversation: the text of every message, 4 tokens of framing
/// per message, and 2 for the reply's priming.
pub fn estimate_messages(model: &str, messages: &[ChatMessage]) -> u64 {
    let rates = ModelFamily::of(model).rates();
    let text: u64 = messages
        .iter()
        .map(|m| text_millitokens(rates, &m.content))
        .sum();
    text.div_ceil(1000) + TOKENS_PER_MESSAGE * messages.len() as u64 + TOKENS_PER_REPLY
}

/// What one model's calls taught us: decayed sums of estimated and billed tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalibrationEntry {
    /// Sum of our estimates.
    pub estimated: u64,
    /// Sum of what the provider billed for the same calls.
    pub billed: u64,
    /// Calls observed (not decayed), for "calibrated from N calls".
    pub samples: u32,
}

/// Learns each model's billed ÷ estimated ratio from real calls and applies it to new estimates.
///
/// The ratio is cumulative and weighted by size (one 20-token probe cannot swing it), with a
/// memory: once the estimated sum passes [`Calibration::WINDOW_TOKENS`] both sums are halved, so
/// old calls fade when a provider changes its tokenizer. Pairs whose ratio lies outside
/// ⅛…8 are ignored as mismatches (an image in the prompt, a wrong model), and the applied ratio
/// is clamped to ¼…4. Feed it prompt-side pairs, `(estimated_prompt_tokens, usage.prompt)`, from
/// usage that is not itself estimated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calibration {
    /// Per model id (lower-cased).
    pub models: BTreeMap<String, CalibrationEntry>,
}

impl Calibration {
    /// The estimated-token mass after which old observations are halved.
    pub const WINDOW_TOKENS: u64 = 200_000;

    /// Records one call: we estimated `estimated` tokens and the provider billed `billed`.
    /// Returns false when the pair was ignored.
    pub fn observe(&mut self, model: &str, estimated: u64, billed: u64) -> bool {
        if estimated == 0 || billed == 0 || billed > estimated * 8 || billed * 8 < estimated {
            return false;
        }
        let entry = self.models.entry(model_key(model)).or_default();
        entry.estimated += estimated;
        entry.billed += billed;
        entry.samples = entry.samples.saturating_add(1);
        while entry.estimated > Calibration::WINDOW_TOKENS {
            entry.estimated /= 2;
            entry.billed /= 2;
        }
        true
    }

    /// The learned ratio billed ÷ estimated, if this model has been observed.
    pub fn ratio(&self, model: &str) -> Option<f64> {
        let entry = self.models.get(&model_key(model))?;
        (entry.estimated > 0).then(|| entry.billed as f64 / entry.estimated as f64)
    }

    /// Calls observed for this model.
    pub fn samples(&self, model: &str) -> u32 {
        self.models
            .get(&model_key(model))
            .map_or(0, |entry| entry.samples)
    }

    /// `estimate` corrected by the learned ratio (rounded to the nearest token, clamped to
    /// ¼…4 × `estimate`); unchanged for a model never observed.
    pub fn apply(&self, model: &str, estimate: u64) -> u64 {
        let Some(entry) = self
            .models
            .get(&model_key(model))
            .filter(|e| e.estimated > 0)
        else {
            return estimate;
        };
        let (num, den) = (
            u128::from(estimate) * u128::from(entry.billed),
            u128::from(entry.estimated),
        );
        let rounded = u64::try_from((2 * num + den) / (2 * den)).unwrap_or(u64::MAX);
        rounded.clamp(estimate / 4, estimate.saturating_mul(4))
    }
}

fn model_key(model: &str) -> String {
    model.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(model: &str, text: &str, expect: u64) {
        assert_eq!(estimate_text(model, text), expect, "{model} {text:?}");
    }

    #[test]
    fn text_estimates() {
        // 13 characters: DeepSeek 13 × 0.3 = 3.9 → 4; GPT 13 × 0.25 = 3.25 → 4 (o200k counts
        // "Hello", ",", " world", "!" = 4).
        check("deepseek-v3.2", "Hello, world!", 4);
        check("gpt-4.1", "Hello, world!", 4);
        // 100 Latin characters: 30 / 25 / 29 (28.6) / 25 / 30.
        let latin = "a".repeat(100);
        check("deepseek-v3.2", &latin, 30);
        check("gpt-4.1", &latin, 25);
        check("claude-sonnet-4.5", &latin, 29);
        check("gemini-2.5-flash", &latin, 25);
        check("video-gen-2.1", &latin, 30);
        // A 1,100-character Chinese scene: 0.6 token a character on DeepSeek, 1 on GPT-4.1.
        let scene = "雨夜，她站在天台边缘。".repeat(100);
        assert_eq!(scene.chars().count(), 1_100);
        check("deepseek-v3.2", &scene, 660);
        check("gpt-4.1", &scene, 1_100);
        // A mixed heading: 6 CJK and 10 Latin characters (digits, letters, spaces, "-", ".").
        // DeepSeek: 6 × 0.6 + 10 × 0.3 = 6.6 → 7.
        check("deepseek-v3.2", "第1场 INT. 咖啡馆 - 夜", 7);
        check("gemini-2.5-flash", "第1场 INT. 咖啡馆 - 夜", 9);
        // Full-width punctuation and kana are CJK; curly quotes and dashes are not.
        check("deepseek-v3.2", "！？。", 2);
        check("deepseek-v3.2", "“—”", 1);
        check("deepseek-v3.2", "", 0);
    }

    #[test]
    fn families() {
        let cases = [
            ("deepseek-v3.2", ModelFamily::DeepSeek),
            ("deepseek/deepseek-chat", ModelFamily::DeepSeek),
            ("gpt-4.1", ModelFamily::OpenAi),
            ("openai/gpt-4.1-mini", ModelFamily::OpenAi),
            ("o3-mini", ModelFamily::OpenAi),
            ("o1", ModelFamily::OpenAi),
            ("claude-sonnet-4.5", ModelFamily::Claude),
            ("anthropic/claude-sonnet-4-5", ModelFamily::Claude),
            ("Gemini-2.5-Flash", ModelFamily::Gemini),
            ("qwen-max", ModelFamily::Other),
            ("omni-moderation", ModelFamily::Other),
        ];
        for (model, expect) in cases {
            assert_eq!(ModelFamily::of(model), expect, "{model}");
        }
    }

    #[test]
    fn message_overhead() {
        let messages = [
            ChatMessage::system("You are a screenwriter."),
            ChatMessage::user("写一场雨夜戏"),
        ];
        // Text: 23 Latin × 0.25 + 6 CJK × 1.0 = 11.75 → 12; framing 2 × 4 + 2 = 10.
        assert_eq!(estimate_messages("gpt-4.1", &messages), 22);
        // DeepSeek: 23 × 0.3 + 6 × 0.6 = 10.5 → 11, plus 10.
        assert_eq!(estimate_messages("deepseek-v3.2", &messages), 21);
        assert_eq!(estimate_messages("gpt-4.1", &[]), 2);
    }

    #[test]
    fn calibration_learns_and_applies() {
        let mut calibration = Calibration::default();
        assert_eq!(calibration.apply("deepseek-v3.2", 2_000), 2_000);
        assert_eq!(calibration.ratio("deepseek-v3.2"), None);

        assert!(calibration.observe("deepseek-v3.2", 600, 540));
        assert!(calibration.observe("DeepSeek-V3.2", 1_000, 930));
        // Cumulative: 1,470 billed / 1,600 estimated = 0.91875; 2,000 × 0.91875 = 1,837.5 → 1,838.
        assert_eq!(calibration.ratio("deepseek-v3.2"), Some(0.91875));
        assert_eq!(calibration.apply("deepseek-v3.2", 2_000), 1_838);
        assert_eq!(calibration.samples("deepseek-v3.2"), 2);
        // Other models are untouched.
        assert_eq!(calibration.apply("gpt-4.1", 2_000), 2_000);

        // Mismatched and empty pairs are ignored.
        assert!(!calibration.observe("deepseek-v3.2", 100, 5_000));
        assert!(!calibration.observe("deepseek-v3.2", 0, 10));
        assert_eq!(calibration.samples("deepseek-v3.2"), 2);

        // A big call weighs more than a probe.
        let mut weighted = Calibration::default();
        weighted.observe("gpt-4.1", 10, 20);
        weighted.observe("gpt-4.1", 10_000, 11_000);
        assert_eq!(weighted.apply("gpt-4.1", 1_000), 1_101);
    }

    #[test]
    fn calibration_forgets_old_calls() {
        let mut calibration = Calibration::default();
        calibration.observe("gpt-4.1", 150_000, 150_000);
        // The window is passed: (150,000 + 100,000) / 2 estimated, (150,000 + 200,000) / 2 billed.
        calibration.observe("gpt-4.1", 100_000, 200_000);
        let entry = &calibration.models["gpt-4.1"];
        assert_eq!(
            (entry.estimated, entry.billed, entry.samples),
            (125_000, 175_000, 2)
        );
        assert_eq!(calibration.apply("gpt-4.1", 1_000), 1_400);
        // Round-trips through storage.
        let json = serde_json::to_string(&calibration).unwrap();
        assert_eq!(
            serde_json::from_str::<Calibration>(&json).unwrap(),
            calibration
        );
    }
}
