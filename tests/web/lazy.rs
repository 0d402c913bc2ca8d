//! Code loaded when first needed (`ui::lazy::Deferred`): a busy placeholder while the loader
//! runs, the view once it is there, and for a chunk that cannot be fetched a message and a Retry
//! that fetches again. (In these debug builds the loaders are not split; the release build's
//! real chunks are tested end to end in tests/e2e/split.test.mjs.)

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{document, sleep, tick};
use duanju_studio::domain::i18n::Lang;
use duanju_studio::ui::i18n::UiLang;
use duanju_studio::ui::lazy::{ChunkLoadError, Deferred};
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

static CALLS: AtomicUsize = AtomicUsize::new(0);

/// Fails the first time, like a chunk download while offline, then succeeds after a delay.
async fn flaky_loader() -> Result<AnyView, ChunkLoadError> {
    let call = CALLS.fetch_add(1, Ordering::SeqCst);
    sleep(30).await;
    if call == 0 {
        return Err(ChunkLoadError);
    }
    // Built after an await, like a split view: it must still find the app's context.
    let lang = use_context::<UiLang>()
        .expect("the app's context reaches a deferred view")
        .0;
    Ok(
        view! { <p data-testid="loaded">{move || format!("the editor ({:?})", lang.get())}</p> }
            .into_any(),
    )
}

/// The host and the mount handle (the view lives as long as the handle).
fn mount_deferred() -> (web_sys::HtmlElement, impl Sized) {
    let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let handle = mount_to(host.clone(), || {
        provide_context(UiLang(RwSignal::new(Lang::En)));
        view! { <Deferred load=|| Box::pin(flaky_loader())/> }
    });
    (host, handle)
}

fn has(host: &web_sys::HtmlElement, selector: &str) -> bool {
    host.query_selector(selector).unwrap().is_some()
}

#[wasm_bindgen_test]
async fn a_failed_load_shows_the_reason_and_retry_loads_it() {
    CALLS.store(0, Ordering::SeqCst);
    let (host, _handle) = mount_deferred();
    tick().await;
    assert!(
        has(&host, "[data-deferred=\"loading\"][aria-busy=\"true\"]"),
        "busy while loading"
    );
    assert!(!has(&host, "[data-testid=\"loaded\"]"));

    sleep(80).await;
    let alert = host
        .query_selector("[role=\"alert\"][data-deferred=\"failed\"]")
        .unwrap();
    let alert = alert.expect("a failed load is reported");
    assert!(alert
        .text_content()
        .unwrap()
        .contains("could not be downloaded"));
    assert!(!has(&host, "[data-deferred=\"loading\"]"));

    let retry: web_sys::HtmlElement = alert
        .query_selector("button")
        .unwrap()
        .expect("a Retry button")
        .unchecked_into();
    assert_eq!(retry.text_content().unwrap(), "Retry");
    retry.click();
    tick().await;
    assert!(
        has(&host, "[data-deferred=\"loading\"]"),
        "busy again while retrying"
    );
    sleep(80).await;
    let loaded = host.query_selector("[data-testid=\"loaded\"]").unwrap();
    assert_eq!(
        loaded
            .expect("the retry loads the view")
            .text_content()
            .unwrap(),
        "the editor (En)"
    );
    assert!(
        !has(&host, "[data-deferred]"),
        "no placeholder or error left"
    );
    assert_eq!(CALLS.load(Ordering::SeqCst), 2, "one fetch per attempt");
}
