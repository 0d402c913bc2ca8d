//! The two UI languages and the choice between them.
//!
//! UI strings live in `crate::ui::i18n`; domain errors carry their own zh-CN and en text and
//! pick one with a [`Lang`].

use serde::{Deserialize, Serialize};

/// A UI language. Simplified Chinese is the default for browsers that prefer any Chinese.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    /// 简体中文 (zh-CN).
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// The BCP 47 tag used in `<html lang>` and in storage.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses a stored tag; anything unknown is `None`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "zh-CN" | "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Chooses the language: a remembered choice wins, then the browser's preference list
    /// (the first entry that is Chinese or English decides), then Chinese.
    pub fn choose(stored: Option<&str>, preferred: &[String]) -> Lang {
        if let Some(lang) = stored.and_then(Lang::from_tag) {
            return lang;
        }
        for tag in preferred {
            let primary = tag
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match primary.as_str() {
                "zh" => return Lang::ZhCn,
                "en" => return Lang::En,
                _ => {}
            }
        }
        Lang::ZhCn
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(stored: Option<&str>, preferred: &[&str], expect: Lang) {
        let preferred: Vec<String> = preferred.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            Lang::choose(stored, &preferred),
            expect,
            "{stored:?} {preferred:?}"
        );
    }

    #[test]
    fn choice_order() {
        check(None, &["zh-CN", "en"], Lang::ZhCn);
        check(None, &["zh-TW"], Lang::ZhCn);
        check(None, &["en-US", "zh-CN"], Lang::En);
        check(None, &["fr-FR", "en-GB"], Lang::En);
        check(None, &["fr-FR"], Lang::ZhCn);
        check(None, &[], Lang::ZhCn);
        check(Some("en"), &["zh-CN"], Lang::En);
        check(Some("zh-CN"), &["en-US"], Lang::ZhCn);
        check(Some("garbage"), &["en-US"], Lang::En);
    }

    #[test]
    fn tags_round_trip() {
        for lang in [Lang::ZhCn, Lang::En] {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        }
    }
}
