//! Code loaded when first needed (ARCHITECTURE.md, "Bundle size").
//!
//! [`split_view!`] defines a loader: an async function returning a view. In a split build
//! (`cfg(duanju_split)`: release wasm builds, set by build.rs) it is a wasm-split point: the view's
//! code, and everything only it uses, goes into a wasm chunk that is fetched the first time the
//! loader runs; scripts/post-build.mjs makes the chunks. Without the cfg (debug builds, the wasm
//! tests) the loader simply returns the view. A chunk that cannot be fetched (offline before the
//! service worker cached it, or a deploy replaced it) is a [`ChunkLoadError`], shown with a way
//! to retry, never a crash; the failure is not remembered, so the next call fetches again.
//!
//! [`Deferred`] renders a loader's view where it stands; the app's lazy routes await theirs.

use crate::ui::i18n::t;
use leptos::prelude::*;
use leptos::task::spawn_local_scoped;
use std::future::Future;

/// A view's code could not be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLoadError;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkLoadError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkLoadError
    }
}

/// `split_view!(loader, chunk, view)` defines `async fn loader() -> Result<AnyView,
/// ChunkLoadError>` that produces `view`, in the wasm chunk `chunk` of a split build.
macro_rules! split_view {
    ($load:ident, $chunk:ident, $view:expr) => {
        #[cfg(duanju_split)]
        #[leptos::wasm_split::wasm_split($chunk, wasm_split_path = leptos::wasm_split, fallible)]
        fn $load() -> Result<::leptos::prelude::AnyView, $crate::ui::lazy::ChunkLoadError> {
            Ok(::leptos::prelude::IntoAny::into_any($view))
        }

        #[cfg(not(duanju_split))]
        async fn $load() -> Result<::leptos::prelude::AnyView, $crate::ui::lazy::ChunkLoadError> {
            Ok(::leptos::prelude::IntoAny::into_any($view))
        }
    };
}
pub(crate) use split_view;

/// A loader's future, boxed so that every loader has one type.
pub type LoadFuture = std::pin::Pin<Box<dyn Future<Output = Result<AnyView, ChunkLoadError>>>>;

/// A `split_view!` loader behind a box (`|| Box::pin(load_x())`): one type for every loader, so
/// [`Deferred`] and the sections that hold one are compiled once, not once per loader (each
/// copy sat in the start-up module).
pub type Loader = fn() -> LoadFuture;

/// Renders the view of `load` once its code is there: meanwhile a busy placeholder
/// (`data-deferred="loading"`), and if it cannot be fetched, the reason and a Retry button.
#[component]
pub fn Deferred(load: Loader) -> impl IntoView {
    #[derive(Clone, Copy, PartialEq)]
    enum Phase {
        Loading,
        Ready,
        Failed,
    }
    let phase = RwSignal::new(Phase::Loading);
    // The loaded view, taken once by the render below (an AnyView is not Clone).
    let loaded = StoredValue::new_local(None::<AnyView>);
    // The view is built when the load completes, in a task: under this component's owner, so
    // it finds the app's context and is disposed with this component.
    let owner = Owner::current().expect("Deferred is rendered inside the app");
    let fetch = move || {
        phase.set(Phase::Loading);
        owner.with(|| {
            spawn_local_scoped(async move {
                match load().await {
                    Ok(view) => {
                        if loaded.try_set_value(Some(view)).is_none() {
                            phase.try_set(Phase::Ready);
                        }
                    }
                    Err(ChunkLoadError) => {
                        phase.try_set(Phase::Failed);
                    }
                }
            })
        });
    };
    fetch();
    move || match phase.get() {
        Phase::Loading => view! {
            <p class="ds-field__hint" data-deferred="loading" aria-busy="true">
                {t("正在加载…", "Loading…")}
            </p>
        }
        .into_any(),
        Phase::Ready => loaded.try_update_value(Option::take).flatten().into_any(),
        Phase::Failed => {
            let retry = fetch.clone();
            view! {
            <div class="ds-alert ds-alert--error" role="alert" data-deferred="failed">
                <p>{t(
                    "无法下载这一部分的代码：可能已离线，或应用刚刚更新。",
                    "The code for this part could not be downloaded: you may be offline, or the app was just updated.",
                )}</p>
                <button type="button" class="ds-btn ds-btn--small" on:click=move |_| retry()>
                    {t("重试", "Retry")}
                </button>
            </div>
            }
            .into_any()
        }
    }
}
