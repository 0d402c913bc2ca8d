//! The app shell: context, header, router and the ready marker.

use crate::domain::i18n::Lang;
use crate::ui::common::header::Header;
use crate::ui::estimate::page::EstimatePage;
use crate::ui::i18n::{t, UiLang};
use crate::ui::lazy::{split_view, ChunkLoadError};
use crate::ui::state::AppState;
use crate::web::{dom, prefs};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, Lazy, LazyRoute};

/// The root component: provides the language and app state, renders the header and the page
/// for the current route, and marks the body ready once that page is in the document.
#[component]
pub fn App() -> impl IntoView {
    let stored = prefs::get("lang");
    let lang = RwSignal::new(Lang::choose(stored.as_deref(), &dom::preferred_languages()));
    provide_context(UiLang(lang));
    provide_context(AppState::new());

    Effect::new(move |_| dom::set_document_lang(lang.get().tag()));

    view! {
        <Router>
            <a class="ds-skip" href="#main">{t("跳到主要内容", "Skip to main content")}</a>
            <Header/>
            <crate::ui::common::update_banner::UpdateBanner/>
            <main id="main" class="ds-main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <EstimatePage/><MarkReady/> }/>
                    <Route path=path!("/studio") view={Lazy::<StudioRoute>::new()}/>
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()}/>
                    <Route path=path!("/view") view={Lazy::<SharedViewRoute>::new()}/>
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
        <MarkReady/>
    }
}

/// Marks the app interactive (`body[data-ready]`) once the routed page is mounted: at once for
/// the Estimate page, after its code has loaded for a lazy one.
#[component]
fn MarkReady() -> impl IntoView {
    Effect::new(move |_| dom::mark_ready());
}

/// A route whose page is loaded the first time it is visited (ui::lazy; in a split build its
/// code is a wasm chunk of its own). A page whose code cannot be fetched shows
/// [`PageLoadFailed`] instead of aborting the module.
macro_rules! lazy_page {
    ($route:ident, $load:ident, $chunk:ident, $page:path) => {
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_: Self) -> AnyView {
                match $load().await {
                    Ok(page) => view! { {page}<MarkReady/> }.into_any(),
                    Err(ChunkLoadError) => view! { <PageLoadFailed/><MarkReady/> }.into_any(),
                }
            }
        }

        split_view!($load, $chunk, view! { <$page/> });
    };
}

lazy_page!(
    StudioRoute,
    load_studio,
    studio,
    crate::ui::studio::page::StudioPage
);
lazy_page!(
    SettingsRoute,
    load_settings,
    settings,
    crate::ui::settings::page::SettingsPage
);
lazy_page!(
    SharedViewRoute,
    load_view,
    shared_view,
    crate::ui::shared::page::SharedViewPage
);

/// Shown when a page's code could not be loaded: the reason and a way to try again. The load is
/// not cached as failed, so following a link to the page again retries it.
#[component]
fn PageLoadFailed() -> impl IntoView {
    view! {
        <section class="ds-page" data-testid="page-load-failed">
            <h1>{t("页面未能加载", "This page could not be loaded")}</h1>
            <p role="alert">
                {t(
                    "无法下载此页面的代码：可能已离线，或应用刚刚更新。你的草稿都保存在本机，不受影响。",
                    "Its code could not be downloaded: you may be offline, or the app was just \
                     updated. Your drafts are kept in this browser and are not affected.",
                )}
            </p>
            <p>
                <button type="button" class="ds-btn" on:click=move |_| dom::reload()>
                    {t("重新加载", "Reload")}
                </button>
            </p>
        </section>
    }
}
