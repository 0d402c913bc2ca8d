//! The app offline (PWA): registers the service worker (`public/sw.js`, served at `/sw.js` so
//! its scope is the whole app) and tells the page when a newer version is ready.
//!
//! The worker caches the app shell, so the app opens with the network off. When a new version
//! is deployed, the worker downloads it beside the running one and posts `update-ready`; the
//! page offers "Reload to update" and nothing changes until the user accepts
//! ([`apply_update`]). A new worker script waiting to take over is offered the same way.
//!
//! Only release builds register the worker: a development build (`trunk serve`) changes on
//! every save and must never be served from a cache. Once a worker controls the page, the body
//! carries `data-offline-ready="true"`.

use crate::web::dom::reload;
use std::rc::Rc;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{MessageEvent, ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration};

/// Where the worker script is served.
pub const WORKER_URL: &str = "/sw.js";

fn container() -> Option<ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    let present = Reflect::get(&navigator, &"serviceWorker".into()).ok()?;
    if present.is_undefined() {
        return None;
    }
    Some(navigator.service_worker())
}

fn message(kind: &str) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"type".into(), &kind.into());
    object.into()
}

fn mark_offline_ready() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.dataset().set("offlineReady", "true");
    }
}

/// Registers the service worker (release builds only) and calls `on_update` whenever a newer
/// version of the app is ready to be used.
pub fn register(on_update: impl Fn() + 'static) {
    if cfg!(debug_assertions) {
        return;
    }
    let Some(container) = container() else {
        return;
    };
    let on_update: Rc<dyn Fn()> = Rc::new(on_update);
    let notify = on_update.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let kind = Reflect::get(&event.data(), &"type".into())
            .ok()
            .and_then(|v| v.as_string());
        match kind.as_deref() {
            Some("update-ready") => notify(),
            Some("update-applied") => reload(),
            _ => {}
        }
    });
    container.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // The worker's first install downloads the shell again: wait until the page has loaded so
    // it never competes with the page's own start.
    after_load(move || register_now(container, on_update));
}

/// Runs `f` once the page's `load` event has fired.
fn after_load(f: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let loaded = window
        .document()
        .is_some_and(|d| d.ready_state() == "complete");
    if loaded {
        return f();
    }
    let callback = Closure::once_into_js(f);
    let options = web_sys::AddEventListenerOptions::new();
    options.set_once(true);
    let _ = window.add_event_listener_with_callback_and_add_event_listener_options(
        "load",
        callback.unchecked_ref(),
        &options,
    );
}

fn register_now(container: ServiceWorkerContainer, on_update: Rc<dyn Fn()>) {
    spawn_local(async move {
        let Ok(registration) = JsFuture::from(container.register(WORKER_URL)).await else {
            return;
        };
        // Anything but a registration (an automated browser that blocks workers resolves with
        // undefined) means no worker.
        let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() else {
            return;
        };
        watch_new_workers(&container, &registration, on_update);
        if let Ok(ready) = container.ready() {
            if JsFuture::from(ready).await.is_ok() {
                mark_offline_ready();
                if let Some(active) = registration.active() {
                    let _ = active.post_message(&message("check"));
                }
            }
        }
    });
}

/// Offers a new worker script as an update once it is installed and waiting.
fn watch_new_workers(
    container: &ServiceWorkerContainer,
    registration: &ServiceWorkerRegistration,
    on_update: Rc<dyn Fn()>,
) {
    // A worker waiting from an earlier visit: only an update when one already controls the page.
    if registration.waiting().is_some() && container.controller().is_some() {
        on_update();
    }
    let registration_for_event = registration.clone();
    let container = container.clone();
    let on_found = Closure::<dyn Fn()>::new(move || {
        let Some(installing) = registration_for_event.installing() else {
            return;
        };
        let worker = installing.clone();
        let container = container.clone();
        let on_update = on_update.clone();
        let on_state = Closure::<dyn Fn()>::new(move || {
            if worker.state() == web_sys::ServiceWorkerState::Installed
                && container.controller().is_some()
            {
                on_update();
            }
        });
        installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
        on_state.forget();
    });
    registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
    on_found.forget();
}

/// Switches to the new version, then reloads the page. Call it only when the user asked.
pub fn apply_update() {
    let Some(container) = container() else {
        return reload();
    };
    spawn_local(async move {
        let registration = JsFuture::from(container.get_registration()).await.ok();
        let registration: Option<ServiceWorkerRegistration> = registration
            .filter(|r| !r.is_undefined())
            .map(JsCast::unchecked_into);
        let waiting: Option<ServiceWorker> = registration.as_ref().and_then(|r| r.waiting());
        if let Some(waiting) = waiting {
            // A new worker script: let it take over, then reload under it.
            let on_change = Closure::<dyn Fn()>::new(reload);
            container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
            on_change.forget();
            let _ = waiting.post_message(&message("skip-waiting"));
        } else if let Some(controller) = container.controller() {
            // A new shell staged by the running worker: it answers `update-applied`.
            let _ = controller.post_message(&message("apply-update"));
        } else {
            reload();
        }
    });
}
