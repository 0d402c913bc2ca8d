//! The "new version" banner: shown when the service worker has a newer version of the app
//! ready ([`crate::web::pwa`]). The update is offered, never forced: the page keeps running the
//! version it started with until the user presses "Reload to update" (drafts are saved as they
//! are edited, so nothing is lost by reloading) or dismisses the banner.
//!
//! Test ids: `update-banner`, `update-reload`, `update-later`.

use crate::ui::i18n::t;
use crate::web::pwa;
use leptos::prelude::*;

/// Registers the service worker and offers the update when one is ready.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let ready = RwSignal::new(false);
    pwa::register(move || ready.set(true));
    view! {
        <Show when=move || ready.get()>
            <div class="ds-update ds-noprint" role="status" data-testid="update-banner">
                <span>{t(
                    "新版本已准备好。你的草稿已自动保存。",
                    "A new version is ready. Your drafts are saved.",
                )}</span>
                <button type="button" class="ds-btn ds-btn--small" data-testid="update-reload" on:click=|_| pwa::apply_update()>
                    {t("重新加载以更新", "Reload to update")}
                </button>
                <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" data-testid="update-later" on:click=move |_| ready.set(false)>
                    {t("稍后", "Later")}
                </button>
            </div>
        </Show>
    }
}
