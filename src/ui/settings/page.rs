//! Settings: connections (base URL, key, price profile).

use crate::ui::i18n::t;
use crate::ui::settings::connections::ConnectionsPanel;
use leptos::prelude::*;

/// Settings: add connections from provider presets, paste keys, pick the active connection and
/// test it.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <section class="ds-page" data-testid="page-settings">
            <h1>{t("设置", "Settings")}</h1>
            <p class="ds-lead">{t(
                "选择一个预设（HolySheep、OpenAI、DeepSeek、OpenRouter、Anthropic、本地沙盒或自定义），粘贴密钥，即可从浏览器直接调用。",
                "Choose a preset (HolySheep, OpenAI, DeepSeek, OpenRouter, Anthropic, the local sandbox or custom) and paste a key to call the API straight from the browser.",
            )}</p>
            <ConnectionsPanel/>
        </section>
    }
}
