//! The shell: preferences, the ready marker and the language switch in a mounted app.

use crate::support::{document, tick};
use duanju_studio::ui::app::App;
use duanju_studio::web::{dom, prefs};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn prefs_round_trip() {
    assert!(prefs::set("test.key", "值 value"));
    assert_eq!(prefs::get("test.key").as_deref(), Some("值 value"));
    assert_eq!(prefs::get("test.missing"), None);
}

#[wasm_bindgen_test]
fn ready_marker_is_set() {
    dom::mark_ready();
    assert_eq!(
        document().body().unwrap().dataset().get("ready").as_deref(),
        Some("true")
    );
}

#[wasm_bindgen_test]
async fn app_mounts_and_switches_language() {
    prefs::set("lang", "zh-CN");
    let host = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone().unchecked_into(), App);
    tick().await;

    let nav = host
        .query_selector("header nav")
        .unwrap()
        .expect("the header has a nav");
    assert!(nav.text_content().unwrap().contains("成本估算"));
    let switch: web_sys::HtmlElement = host
        .query_selector("[data-testid=lang-switch]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    switch.click();
    tick().await;
    assert!(nav.text_content().unwrap().contains("Estimate"));
    assert_eq!(prefs::get("lang").as_deref(), Some("en"));
    assert_eq!(
        document()
            .document_element()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("en")
    );
    drop(handle);
}
