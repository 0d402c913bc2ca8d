//! Small DOM facts the shell needs: the ready marker, the document language, the browser's
//! language preferences and the URL fragment.

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
        let _ = body.dataset().set("readyMs", &format!("{now:.1}"));
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
