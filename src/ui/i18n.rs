//! UI text in Simplified Chinese and English.
//!
//! Every string sits where it is used, as `t("中文", "English")`, so a reader sees both
//! languages at once and a missing translation cannot compile. The language is a signal in
//! context; switching it re-renders only the text nodes.

use crate::domain::i18n::Lang;
use leptos::prelude::*;

/// The UI language, provided as context by the app shell.
#[derive(Clone, Copy)]
pub struct UiLang(pub RwSignal<Lang>);

/// The current UI language signal.
pub fn use_lang() -> RwSignal<Lang> {
    expect_context::<UiLang>().0
}

/// A reactive text in the current language: use it directly inside `view!`.
pub fn t(
    zh: &'static str,
    en: &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_lang();
    move || lang.get().pick(zh, en)
}
