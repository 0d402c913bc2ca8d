//! The header: brand, navigation, the active connection and the language switch.

use crate::domain::i18n::Lang;
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::use_app_state;
use crate::web::prefs;
use leptos::prelude::*;
use leptos_router::components::A;

/// The top bar on every page.
#[component]
pub fn Header() -> impl IntoView {
    let lang = use_lang();
    let state = use_app_state();
    let switch = move |_| {
        let next = match lang.get_untracked() {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        };
        lang.set(next);
        prefs::set("lang", next.tag());
    };
    // The active connection's name (its base URL as a tooltip); a connection without a key,
    // or none at all, links to Settings.
    let connection = move || {
        match state.connection.get() {
        Some(active) if !active.key.is_empty() => view! {
            <span
                class="ds-conn ds-conn--on"
                data-testid="active-connection"
                data-state="ready"
                title=active.connection.base_url.clone()
            >
                <span class="ds-conn__dot" aria-hidden="true"></span>
                {active.connection.name.clone()}
            </span>
        }
        .into_any(),
        Some(active) => view! {
            <A
                href="/settings"
                attr:class="ds-conn ds-conn--off"
                attr:data-testid="active-connection"
                attr:data-state="no-key"
                attr:title=active.connection.base_url.clone()
            >
                {active.connection.name.clone()}
                {t(" · 未填密钥", " · no key")}
            </A>
        }
        .into_any(),
        None => view! {
            <A href="/settings" attr:class="ds-conn ds-conn--off" attr:data-testid="active-connection" attr:data-state="none">
                {t("未连接 · 去设置", "No connection · Settings")}
            </A>
        }
        .into_any(),
    }
    };
    view! {
        <header class="ds-header">
            <A href="/" attr:class="ds-header__brand">
                <span class="ds-header__logo" aria-hidden="true">"▶"</span>
                {t("短剧工作室", "Duanju Studio")}
            </A>
            <nav class="ds-header__nav" aria-label=t("主导航", "Main")>
                <A href="/" exact=true>{t("成本估算", "Estimate")}</A>
                <A href="/studio">{t("工作室", "Studio")}</A>
                <A href="/settings">{t("设置", "Settings")}</A>
            </nav>
            <div class="ds-header__end">
                {connection}
                <button
                    type="button"
                    class="ds-btn ds-btn--ghost"
                    data-testid="lang-switch"
                    on:click=switch
                    lang=move || match lang.get() { Lang::ZhCn => "en", Lang::En => "zh-CN" }
                >
                    {move || match lang.get() { Lang::ZhCn => "English", Lang::En => "中文" }}
                </button>
            </div>
        </header>
    }
}
