//! The shell: preferences, the ready marker and the language switch in a mounted app.

use crate::support::{document, tick};
use duanju_studio::domain::i18n::Lang;
use duanju_studio::ui::app::App;
use duanju_studio::web::{dom, files, prefs};
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
    // When, to a tenth of a millisecond.
    let ms = document().body().unwrap().dataset().get("readyMs").unwrap();
    let value: f64 = ms.parse().unwrap();
    assert!(value > 0.0, "{ms}");
    assert!(
        ms.split('.').nth(1).is_none_or(|tenths| tenths.len() == 1),
        "{ms}"
    );
}

#[wasm_bindgen_test]
fn a_file_too_large_is_told_in_whole_kb() {
    let error = files::FileError::TooLarge {
        size: 1_572_864.0,
        cap: 1_048_576.0,
    };
    assert_eq!(
        error.message(Lang::En),
        "The file is too large (1536 KB, limit 1024 KB) and was not read."
    );
    assert_eq!(
        error.message(Lang::ZhCn),
        "文件太大（1536 KB，上限 1024 KB），未读取。"
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
