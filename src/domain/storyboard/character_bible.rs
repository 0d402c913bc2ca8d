//! The character bible as a cache-friendly prompt prefix, and the savings its cache hits bring.
//!
//! Providers cache the longest prompt prefix they have seen recently (OpenAI from 1,024 tokens,
//! DeepSeek by 64-token blocks, Anthropic at marked breakpoints from 1,024 tokens, 2,048 on Haiku;
//! the sandbox follows the OpenAI and Anthropic rules). A prefix shorter than the provider's
//! minimum saves nothing, which [`cache_notice`] says before a run. A prefix only hits when its bytes are identical, so
//! [`bible_prefix`] writes the characters of a scene in one fixed form, sorted by name then id,
//! with nothing that changes between calls (no date, no scene text, no counter): every prompt
//! about a scene with the same cast starts with the same system message, and the task's own
//! instructions and text come after it, in the user message ([`scene_messages`]).
//!
//! A character appears in a scene when its name is one of the scene's cue names or occurs in
//! its heading, synopsis or text (ASCII letters compared without case).

use crate::domain::cost::money::{format_count, Money};
use crate::domain::cost::pricing::{ModelPrice, Usage as PriceUsage};
use crate::domain::i18n::Lang;
use crate::domain::project::{Character, Scene};
use crate::domain::provider::chat::{ChatMessage, Usage};
use crate::domain::provider::connection::Protocol;
use crate::domain::provider::token_estimate::{estimate_text, TOKENS_PER_MESSAGE};
use crate::domain::script::fountain::{self, Element};

/// The characters of `cast` that appear in `scene`, sorted by name then id.
pub fn characters_in<'a>(cast: &'a [Character], scene: &Scene) -> Vec<&'a Character> {
    let text = format!(
        "{}\n{}\n{}",
        scene.heading, scene.synopsis, scene.script_text
    )
    .to_uppercase();
    let cues: Vec<String> = fountain::parse(&scene.script_text)
        .0
        .elements
        .into_iter()
        .filter_map(|e| match e {
            Element::Character { name, .. } => Some(name.to_uppercase()),
            _ => None,
        })
        .collect();
    let mut found: Vec<&Character> = cast
        .iter()
        .filter(|c| {
            let name = c.name.trim().to_uppercase();
            !name.is_empty() && (cues.contains(&name) || text.contains(&name))
        })
        .collect();
    found.sort_by(|a, b| {
        a.name
            .trim()
            .cmp(b.name.trim())
            .then_with(|| a.id.cmp(&b.id))
    });
    found
}

/// The system message that starts every prompt about a scene with these characters: the same
/// bytes for the same characters, whatever their order in `characters`. Empty fields are left
/// out; each field is trimmed. `None` when there is no character.
pub fn bible_prefix(characters: &[&Character]) -> Option<String> {
    if characters.is_empty() {
        return None;
    }
    let mut sorted: Vec<&&Character> = characters.iter().collect();
    sorted.sort_by(|a, b| {
        a.name
            .trim()
            .cmp(b.name.trim())
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut out = String::from(
        "You are the writers' room of a vertical short drama (短剧). Keep every character \
         consistent with this character bible (角色设定).\n\n# Character bible\n",
    );
    for character in sorted {
        out.push_str("\n## ");
        out.push_str(character.name.trim());
        out.push('\n');
        for (label, value) in [
            ("Who", &character.description),
            ("Voice", &character.voice),
            ("Look", &character.look),
            ("Reference", &character.reference_notes),
        ] {
            let value = value.trim();
            if !value.is_empty() {
                out.push_str(label);
                out.push_str(": ");
                out.push_str(value);
                out.push('\n');
            }
        }
    }
    Some(out)
}

/// The messages of a prompt about `scene`: the bible of its characters as a system message
/// (when it has any), then `instruction` and the scene text as the user message.
pub fn scene_messages(cast: &[Character], scene: &Scene, instruction: &str) -> Vec<ChatMessage> {
    let mut messages = Vec::with_capacity(2);
    if let Some(prefix) = bible_prefix(&characters_in(cast, scene)) {
        messages.push(ChatMessage::system(prefix));
    }
    messages.push(ChatMessage::user(format!(
        "{instruction}\n\n---\n{}",
        scene.script_text
    )));
    messages
}

/// What the character bible's cached prefix saved over a session of calls.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CacheTally {
    /// Cached prompt tokens, all calls.
    pub cached_tokens: u64,
    /// What they saved (see [`cache_savings`]); `None` until a call saved something.
    pub saved: Option<Money>,
}

impl CacheTally {
    /// Counts one call's cached tokens and what they saved. A saving in another currency than
    /// the tally's replaces it (the catalog's currency changed).
    pub fn add(&mut self, cached_tokens: u64, saved: Option<Money>) {
        self.cached_tokens += cached_tokens;
        if let Some(saved) = saved {
            self.saved = Some(match self.saved {
                Some(sum) if sum.currency() == saved.currency() => sum + saved,
                _ => saved,
            });
        }
    }
}

/// The fewest prompt tokens a provider caches, for a request to `model` over `protocol`:
/// OpenAI's automatic cache and Anthropic's `cache_control` both start at 1,024 tokens, Anthropic
/// at 2,048 on Haiku models (`shared/PROVIDERS.md`, "Prompt caching rules").
pub fn min_cached_prefix(protocol: Protocol, model: &str) -> u64 {
    match protocol {
        Protocol::AnthropicMessages if model.to_ascii_lowercase().contains("haiku") => 2048,
        Protocol::AnthropicMessages | Protocol::OpenAiChat => 1024,
    }
}

/// Why a run's shared prefix (its character bible) will not be cached: it is shorter than the
/// provider's minimum. Shown before the run, so nobody counts on savings that cannot come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheNotice {
    /// The prefix's estimated tokens.
    pub prefix_tokens: u64,
    /// The provider's minimum ([`min_cached_prefix`]).
    pub needed_tokens: u64,
}

impl CacheNotice {
    /// The notice: "no cache: prefix 640 tokens; it needs 1,024".
    pub fn message(&self, lang: Lang) -> String {
        let (have, need) = (
            format_count(self.prefix_tokens),
            format_count(self.needed_tokens),
        );
        match lang {
            Lang::ZhCn => format!(
                "不会命中缓存：人物小传前缀约 {have} tokens，服务商至少需要 {need} tokens 才缓存。"
            ),
            Lang::En => format!(
                "No cache: the character-bible prefix is about {have} tokens; the provider \
                 caches from {need}."
            ),
        }
    }
}

/// The notice for a run whose requests share the system prompt `prefix` (estimated for
/// `model`), or `None` when it is long enough to be cached (or there is no prefix).
pub fn cache_notice(protocol: Protocol, model: &str, prefix: &str) -> Option<CacheNotice> {
    if prefix.is_empty() {
        return None;
    }
    let prefix_tokens = estimate_text(model, prefix) + TOKENS_PER_MESSAGE;
    let needed_tokens = min_cached_prefix(protocol, model);
    (prefix_tokens < needed_tokens).then_some(CacheNotice {
        prefix_tokens,
        needed_tokens,
    })
}

/// The notice for a run whose items carry these system prefixes: about the longest prefix sent
/// more than once (only a repeated prefix can be read back from a cache), `None` when it is long
/// enough or nothing repeats.
pub fn run_cache_notice(
    protocol: Protocol,
    model: &str,
    prefixes: &[Option<String>],
) -> Option<CacheNotice> {
    let mut uses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for prefix in prefixes.iter().flatten() {
        *uses.entry(prefix.as_str()).or_default() += 1;
    }
    let longest = uses
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(prefix, _)| prefix)
        .max_by_key(|prefix| prefix.len())?;
    cache_notice(protocol, model, longest)
}

/// What the cached prompt tokens of one call saved: their price at the full input rate minus
/// their price at the cached rate. `None` when the catalog has no input price for the model.
pub fn cache_savings(price: &ModelPrice, usage: &Usage) -> Option<Money> {
    if usage.cached == 0 {
        return None;
    }
    let full = price.input_per_mtok?;
    let cached = price.cached_input_per_mtok.unwrap_or(full);
    let as_full = PriceUsage {
        input_tokens: usage.cached,
        ..PriceUsage::default()
    };
    let (full_cost, _) = ModelPrice {
        cached_input_per_mtok: None,
        output_per_mtok: None,
        per_request: None,
        video: None,
        ..price.clone()
    }
    .cost_of(&as_full);
    let (cached_cost, _) = ModelPrice {
        input_per_mtok: Some(cached),
        cached_input_per_mtok: None,
        output_per_mtok: None,
        per_request: None,
        video: None,
        ..price.clone()
    }
    .cost_of(&as_full);
    Some(Money::from_units(
        full_cost.currency(),
        full_cost.units() - cached_cost.units(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::pricing::PriceSet;

    fn character(id: &str, name: &str, description: &str) -> Character {
        Character {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            voice: String::new(),
            look: " red coat ".into(),
            reference_notes: String::new(),
        }
    }

    fn scene(text: &str) -> Scene {
        Scene {
            id: "e1-s1".into(),
            heading: "INT. 客厅 - 夜".into(),
            synopsis: String::new(),
            script_text: text.into(),
            shots: Vec::new(),
            takes: Vec::new(),
            picked_take: None,
        }
    }

    #[test]
    fn the_prefix_is_the_same_bytes_whatever_the_order() {
        let cast = vec![
            character("c2", "林梅", "千金"),
            character("c1", "MEI", "sharp"),
            character("c3", "陈总", "the chairman"),
        ];
        let s = scene("INT. 客厅 - 夜\n\nMEI\nYou're late.\n\n林梅看着她。\n");
        let found = characters_in(&cast, &s);
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["MEI", "林梅"], "陈总 is not in the scene");
        let reversed: Vec<&Character> = found.iter().rev().copied().collect();
        let a = bible_prefix(&found).unwrap();
        assert_eq!(Some(a.clone()), bible_prefix(&reversed));
        assert!(a.contains("## MEI\nWho: sharp\nLook: red coat\n"));
        assert!(!a.contains("Voice"));
        assert_eq!(bible_prefix(&[]), None);
        let messages = scene_messages(&cast, &s, "Rewrite");
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].content, a);
        let other = scene_messages(
            &cast,
            &scene("INT. 客厅 - 夜\n\nMEI\nAgain.\n\n林梅\n好。\n"),
            "Polish",
        );
        assert_eq!(
            other[0], messages[0],
            "another scene with the same cast shares the prefix"
        );
        assert_eq!(scene_messages(&[], &s, "x").len(), 1);
    }

    #[test]
    fn savings_come_from_the_cached_tokens() {
        let list = PriceSet::list();
        let deepseek = list.get("deepseek-v3.2").unwrap();
        let usage = Usage {
            prompt: 2_000_000,
            cached: 1_000_000,
            ..Usage::default()
        };
        // 1M cached tokens: $0.28 at the input price, $0.028 cached.
        assert_eq!(cache_savings(deepseek, &usage).unwrap().display(), "$0.25");
        assert_eq!(
            cache_savings(deepseek, &usage).unwrap().units(),
            Money::parse(deepseek.currency, "0.252").unwrap().units()
        );
        assert_eq!(cache_savings(deepseek, &Usage::default()), None);
    }

    #[test]
    fn a_tally_sums_cached_tokens_and_savings_in_one_currency() {
        use crate::domain::cost::money::Currency;
        let mut tally = CacheTally::default();
        tally.add(0, None);
        assert_eq!(tally, CacheTally::default());
        tally.add(1_200, Some(Money::from_units(Currency::Usd, 30)));
        tally.add(800, Some(Money::from_units(Currency::Usd, 12)));
        assert_eq!(tally.cached_tokens, 2_000);
        assert_eq!(tally.saved, Some(Money::from_units(Currency::Usd, 42)));
        tally.add(100, Some(Money::from_units(Currency::Cny, 5)));
        assert_eq!(tally.cached_tokens, 2_100);
        assert_eq!(tally.saved, Some(Money::from_units(Currency::Cny, 5)));
    }

    #[test]
    fn a_bible_under_the_minimum_gets_a_notice_and_one_over_it_none() {
        let short = "林夏：外冷内热。".repeat(20);
        let notice = cache_notice(Protocol::OpenAiChat, "gpt-4.1", &short).expect("too short");
        assert_eq!(notice.needed_tokens, 1024);
        assert!(notice.prefix_tokens < 1024 && notice.prefix_tokens > 0);
        assert!(notice.message(Lang::En).contains("caches from 1,024"));
        assert!(notice.message(Lang::ZhCn).contains("1,024"));
        let long = "林夏：外冷内热，说话简短，从不哭。".repeat(200);
        assert_eq!(cache_notice(Protocol::OpenAiChat, "gpt-4.1", &long), None);
        assert_eq!(cache_notice(Protocol::OpenAiChat, "gpt-4.1", ""), None);
    }

    #[test]
    fn haiku_needs_twice_the_prefix_on_messages() {
        assert_eq!(
            min_cached_prefix(Protocol::AnthropicMessages, "claude-haiku-4-5"),
            2048
        );
        assert_eq!(
            min_cached_prefix(Protocol::AnthropicMessages, "claude-sonnet-4.5"),
            1024
        );
        assert_eq!(
            min_cached_prefix(Protocol::OpenAiChat, "claude-haiku-4-5"),
            1024
        );
    }

    #[test]
    fn a_run_is_told_about_its_longest_repeated_prefix_only() {
        let short = Some("林夏：外冷内热。".to_string());
        let once = Some("陈总：".repeat(600));
        let run = [short.clone(), short.clone(), once, None];
        let notice = run_cache_notice(Protocol::OpenAiChat, "gpt-4.1", &run).expect("short");
        assert!(notice.prefix_tokens < 100);
        assert_eq!(
            run_cache_notice(Protocol::OpenAiChat, "gpt-4.1", &[short, None]),
            None
        );
    }
}
