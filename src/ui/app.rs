//! The app shell: context, header, router and the ready marker.

use crate::domain::i18n::Lang;
use crate::ui::components::header::Header;
use crate::ui::i18n::{t, UiLang};
use crate::ui::pages::{
    estimate::EstimatePage, settings::SettingsPage, studio::StudioPage, view::SharedViewPage,
};
use crate::ui::state::AppState;
use crate::web::{dom, prefs};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The root component: provides the language and app state, renders the header and the page
/// for the current route, and marks the body ready once interactive.
#[component]
pub fn App() -> impl IntoView {
    let stored = prefs::get("lang");
    let lang = RwSignal::new(Lang::choose(stored.as_deref(), &dom::preferred_languages()));
    provide_context(UiLang(lang));
    provide_context(AppState::new());

    Effect::new(move |_| dom::set_document_lang(lang.get().tag()));
    Effect::new(move |_| dom::mark_ready());

    view! {
        <Router>
            <a class="ds-skip" href="#main">{t("跳到主要内容", "Skip to main content")}</a>
            <Header/>
            <crate::ui::components::update_banner::UpdateBanner/>
            <main id="main" class="ds-main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=EstimatePage/>
                    <Route path=path!("/studio") view=StudioPage/>
                    <Route path=path!("/settings") view=SettingsPage/>
                    <Route path=path!("/view") view=SharedViewPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// Shown for an unknown path, with a way back.
#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="ds-page" data-testid="not-found">
            <h1>{t("页面不存在", "Page not found")}</h1>
            <p><A href="/">{t("返回成本估算", "Back to the estimate")}</A></p>
        </section>
    }
}
