//! Small DOM facts the shell needs: the ready marker, the document language, the browser's
//! language preferences, the URL fragment, performance marks and local times.

use wasm_bindgen::JsValue;

/// Marks the app as interactive: `document.body.dataset.ready = "true"`, and records when, in
/// milliseconds since navigation start, as `data-ready-ms`. Tests and the cold-start benchmark
/// wait for the first and read the second.
pub fn mark_ready() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let now = window.performance().map(|p| p.now()).unwrap_or(0.0);
    if let Some(body) = window.document().and_then(|d| d.body()) {
        // To a tenth of a millisecond, written by JS: Rust's float formatting is not linked
        // into the start-up module for this alone.
        let tenths = js_sys::Number::from((now * 10.0).round() / 10.0).to_string_with_radix(10);
        if let Ok(text) = tenths {
            let _ = body.dataset().set("readyMs", &String::from(text));
        }
        let _ = body.dataset().set("ready", "true");
    }
}

/// Sets `<html lang>` so screen readers and fonts follow the UI language.
pub fn set_document_lang(tag: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", tag);
    }
}

/// The browser's ordered language preferences (`navigator.languages`).
pub fn preferred_languages() -> Vec<String> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    window
        .navigator()
        .languages()
        .iter()
        .filter_map(|v: JsValue| v.as_string())
        .collect()
}

/// The URL fragment without its `#`, if any.
pub fn fragment() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let hash = hash.strip_prefix('#').unwrap_or(&hash).to_owned();
    (!hash.is_empty()).then_some(hash)
}

/// Replaces the URL fragment without adding a history entry or scrolling.
pub fn replace_fragment(fragment: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(href) = window.location().href() else {
        return;
    };
    let base = href.split('#').next().unwrap_or(&href);
    if let Ok(history) = window.history() {
        let _ =
            history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{base}#{fragment}")));
    }
}

/// The page's full URL.
pub fn href() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// Reloads the page (the service worker answers it from its cache when offline).
pub fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// Records a `performance` mark (a no-op where the browser has no Performance API).
pub fn perf_mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Records a `performance` measure from the mark `start` to now (a no-op without the mark).
pub fn perf_measure(name: &str, start: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.measure_with_start_mark(name, start);
    }
}

/// A moment as the user's locale writes it, to the minute.
pub fn format_time(ms: f64, lang: crate::domain::i18n::Lang) -> String {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    js_sys::Date::new(&JsValue::from_f64(ms))
        .to_locale_string(lang.tag(), &options)
        .into()
}
