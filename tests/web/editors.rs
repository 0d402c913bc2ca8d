//! The catalog, profile and route editors, mounted with the app's context: a refused value is
//! shown at its field and leaves the price book unchanged; an accepted one is stored.

use std::cell::RefCell;
use std::rc::Rc;

use crate::support::{document, tick};
use duanju_studio::domain::cost::estimate::PriceBook;
use duanju_studio::domain::cost::money::{Micros, Percent};
use duanju_studio::domain::cost::profile::{ExchangeRate, Profile};
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::provider::routing::{TaskType, Temperature};
use duanju_studio::ui::estimate::catalog_editor::CatalogEditor;
use duanju_studio::ui::estimate::profiles_editor::ProfilesEditor;
use duanju_studio::ui::estimate::routes_editor::RoutesEditor;
use duanju_studio::ui::i18n::UiLang;
use duanju_studio::ui::state::AppState;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

/// A mounted editor, its host element and the app state it edits.
struct Mounted {
    host: web_sys::HtmlElement,
    state: AppState,
    _handle: Box<dyn std::any::Any>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.host.remove();
    }
}

impl Mounted {
    /// The element of that test id; panics when absent.
    fn get(&self, testid: &str) -> web_sys::HtmlElement {
        self.find(testid)
            .unwrap_or_else(|| panic!("no element with data-testid={testid}"))
    }

    fn find(&self, testid: &str) -> Option<web_sys::HtmlElement> {
        self.host
            .query_selector(&format!("[data-testid=\"{testid}\"]"))
            .unwrap()
            .map(JsCast::unchecked_into)
    }

    fn text(&self, testid: &str) -> String {
        self.get(testid).text_content().unwrap_or_default()
    }

    fn book(&self) -> PriceBook {
        self.state.book.get_untracked()
    }

    /// Types `text` into the input of that test id, as a user's keystrokes would.
    async fn type_into(&self, testid: &str, text: &str) {
        let input: web_sys::HtmlInputElement = self.get(testid).unchecked_into();
        input.set_value(text);
        fire(&input, "input");
        tick().await;
    }

    /// The error message shown at the field of that test id, if any.
    fn error_at(&self, testid: &str) -> Option<String> {
        let field = self.get(testid).parent_element().unwrap();
        let marked = field.class_list().contains("ds-field--invalid");
        let message = self
            .find(&format!("{testid}-error"))
            .map(|e| e.text_content().unwrap());
        assert_eq!(
            marked,
            message.is_some(),
            "{testid}: mark and message disagree"
        );
        message
    }
}

fn fire(target: &web_sys::EventTarget, kind: &str) {
    let event = document().create_event("Event").unwrap();
    event.init_event_with_bubbles_and_cancelable(kind, true, true);
    target.dispatch_event(&event).unwrap();
}

/// Mounts `editor` in English with a fresh app state whose book holds the shipped defaults.
async fn mount<V: IntoView + 'static>(editor: fn() -> V) -> Mounted {
    let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let slot = Rc::new(RefCell::new(None));
    let handle = {
        let slot = slot.clone();
        mount_to(host.clone(), move || {
            provide_context(UiLang(RwSignal::new(Lang::En)));
            let state = AppState::new();
            provide_context(state);
            *slot.borrow_mut() = Some(state);
            editor()
        })
    };
    let state = slot.borrow_mut().take().unwrap();
    // Lets the stored book load, then starts every test from the shipped one.
    for _ in 0..5 {
        tick().await;
    }
    state.book.set(PriceBook::defaults());
    tick().await;
    Mounted {
        host,
        state,
        _handle: Box::new(handle),
    }
}

fn seed_price(book: &PriceBook, model: &str) -> Option<Micros> {
    book.price_set("seed")?.get(model)?.input_per_mtok
}

#[wasm_bindgen_test]
async fn catalog_refuses_invalid_prices_and_stores_valid_ones() {
    let page = mount(CatalogEditor).await;
    let field = "catalog-price-gpt-4.1-input";
    assert_eq!(page.error_at(field), None);
    let before = page.book();

    for (typed, expected) in [
        ("-1", "must not be negative"),
        ("abc", "is not a number"),
        ("20000", "must not exceed 10000"),
    ] {
        page.type_into(field, typed).await;
        let message = page
            .error_at(field)
            .unwrap_or_else(|| panic!("{typed} was accepted"));
        assert!(message.contains(expected), "{typed}: {message}");
        assert!(message.contains("gpt-4.1"), "{message}");
        assert_eq!(page.book(), before, "{typed} changed the book");
    }

    page.type_into(field, "2.5").await;
    assert_eq!(page.error_at(field), None);
    assert_eq!(
        seed_price(&page.book(), "gpt-4.1"),
        Micros::parse("2.5").ok()
    );
    // A later refusal keeps the last valid value.
    page.type_into(field, "2.5.1").await;
    assert!(page.error_at(field).is_some());
    assert_eq!(
        seed_price(&page.book(), "gpt-4.1"),
        Micros::parse("2.5").ok()
    );

    // Another set shows its own prices, and no stale message.
    let select: web_sys::HtmlSelectElement = page.get("catalog-set-select").unchecked_into();
    select.set_value("list");
    fire(&select, "change");
    tick().await;
    let input: web_sys::HtmlInputElement = page.get(field).unchecked_into();
    assert_eq!(input.value(), "2");
    assert_eq!(page.error_at(field), None);
    assert!(page.text("catalog-source-gpt-4.1").contains("2026-11"));
}

#[wasm_bindgen_test]
async fn catalog_adds_removes_and_resets_models() {
    let page = mount(CatalogEditor).await;
    let count = |page: &Mounted| page.book().price_set("seed").unwrap().prices.len();
    let shipped = count(&page);

    page.type_into("catalog-add-model", "qwen-max").await;
    page.type_into("catalog-add-input", "x").await;
    page.type_into("catalog-add-output", "6.4").await;
    page.get("catalog-add").click();
    tick().await;
    assert!(page
        .error_at("catalog-add-input")
        .unwrap()
        .contains("not a number"));
    assert_eq!(count(&page), shipped);

    page.type_into("catalog-add-input", "1.6").await;
    page.get("catalog-add").click();
    tick().await;
    assert_eq!(page.error_at("catalog-add-input"), None);
    assert_eq!(
        seed_price(&page.book(), "qwen-max"),
        Micros::parse("1.6").ok()
    );
    assert!(page.find("catalog-row-qwen-max").is_some());

    page.get("catalog-remove-qwen-max").click();
    tick().await;
    assert_eq!(count(&page), shipped);
    assert!(page.find("catalog-row-qwen-max").is_none());

    page.type_into("catalog-price-gpt-4.1-input", "3").await;
    let reset = page.get("catalog-reset");
    reset.click();
    tick().await;
    assert!(reset.text_content().unwrap().contains("Sure?"));
    assert_eq!(seed_price(&page.book(), "gpt-4.1"), Some(Micros::whole(3)));
    reset.click();
    tick().await;
    assert_eq!(page.book().price_sets, PriceBook::defaults().price_sets);
    let input: web_sys::HtmlInputElement = page.get("catalog-price-gpt-4.1-input").unchecked_into();
    assert_eq!(input.value(), "8");
}

/// Picks a file with `text` in the catalog's import input.
async fn import(page: &Mounted, name: &str, text: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let file = web_sys::File::new_with_str_sequence(&parts, name).unwrap();
    let transfer_class = js_sys::Reflect::get(&js_sys::global(), &"DataTransfer".into()).unwrap();
    let transfer = js_sys::Reflect::construct::<fn() -> JsValue>(
        transfer_class.unchecked_ref(),
        &js_sys::Array::new(),
    )
    .unwrap();
    let items = js_sys::Reflect::get(&transfer, &"items".into()).unwrap();
    let add: js_sys::Function = js_sys::Reflect::get(&items, &"add".into())
        .unwrap()
        .unchecked_into();
    add.call1(&items, &file).unwrap();
    let files = js_sys::Reflect::get(&transfer, &"files".into()).unwrap();
    let input = page.get("catalog-import");
    js_sys::Reflect::set(&input, &"files".into(), &files).unwrap();
    fire(&input, "change");
    for _ in 0..5 {
        tick().await;
    }
}

#[wasm_bindgen_test]
async fn catalog_imports_litellm_and_lists_rejected_entries() {
    let page = mount(CatalogEditor).await;
    let before = page.book();
    import(&page, "broken.json", "not json {").await;
    assert!(page
        .text("catalog-import-status")
        .contains("not a LiteLLM price file"));
    assert_eq!(page.book(), before);

    import(
        &page,
        "prices.json",
        r#"{"qwen-max": {"input_cost_per_token": 1.6e-06, "output_cost_per_token": 6.4e-06,
            "litellm_provider": "alibaba"},
           "bad-model": {"input_cost_per_token": -1, "output_cost_per_token": 1e-06}}"#,
    )
    .await;
    assert!(page
        .text("catalog-import-status")
        .contains("Imported 1 models"));
    let diagnostics = page.text("catalog-diagnostics");
    assert!(diagnostics.contains("bad-model"), "{diagnostics}");
    assert!(
        diagnostics.contains("input_cost_per_token"),
        "{diagnostics}"
    );
    assert_eq!(
        seed_price(&page.book(), "qwen-max"),
        Micros::parse("1.6").ok()
    );
    assert!(page
        .book()
        .price_set("seed")
        .unwrap()
        .get("bad-model")
        .is_none());
}

#[wasm_bindgen_test]
async fn profiles_refuse_invalid_rates_and_store_valid_ones() {
    let page = mount(ProfilesEditor).await;
    let id = Profile::OFFICIAL;
    let rate_field = format!("profile-rate-{id}");
    let rate = |page: &Mounted| page.book().profile(id).unwrap().exchange_rate;
    let before = page.book();

    for (typed, expected) in [
        ("abc", "not a number"),
        ("0", "between"),
        ("101", "between"),
    ] {
        page.type_into(&rate_field, typed).await;
        let message = page
            .error_at(&rate_field)
            .unwrap_or_else(|| panic!("{typed} was accepted"));
        assert!(message.contains(expected), "{typed}: {message}");
        assert_eq!(page.book(), before, "{typed} changed the book");
    }

    page.type_into(&rate_field, "7.25").await;
    assert_eq!(page.error_at(&rate_field), None);
    assert_eq!(rate(&page), ExchangeRate::parse("7.25").unwrap());
    assert!(page
        .text(&format!("profile-rate-display-{id}"))
        .contains("¥7.25 = $1"));

    page.get(&format!("profile-rate-relay-{id}")).click();
    tick().await;
    assert_eq!(rate(&page), ExchangeRate::RELAY);
    let input: web_sys::HtmlInputElement = page.get(&rate_field).unchecked_into();
    assert_eq!(input.value(), "1");

    let markup_field = format!("profile-markup-{id}");
    page.type_into(&markup_field, "150").await;
    assert!(page
        .error_at(&markup_field)
        .unwrap()
        .contains("between -100% and 100%"));
    page.type_into(&markup_field, "12.5").await;
    assert_eq!(
        page.book().profile(id).unwrap().markup,
        Percent::parse("12.5").unwrap()
    );
    page.type_into(&markup_field, "").await;
    assert_eq!(page.error_at(&markup_field), None);
    assert_eq!(page.book().profile(id).unwrap().markup, Percent::ZERO);

    let select: web_sys::HtmlSelectElement =
        page.get(&format!("profile-set-{id}")).unchecked_into();
    assert_eq!(select.value(), "list");
    select.set_value("seed");
    fire(&select, "change");
    tick().await;
    assert_eq!(page.book().profile(id).unwrap().price_set, "seed");
}

#[wasm_bindgen_test]
async fn routes_refuse_invalid_settings() {
    let page = mount(RoutesEditor).await;
    let task = TaskType::Storyboard.as_str();
    let field = format!("route-temperature-{task}");
    let route = |page: &Mounted| page.book().routes.route(TaskType::Storyboard).clone();
    let before = page.book();

    for typed in ["2.5", "-0.1", "0.123", "warm"] {
        page.type_into(&field, typed).await;
        let message = page
            .error_at(&field)
            .unwrap_or_else(|| panic!("{typed} was accepted"));
        assert!(message.contains("between 0 and 2"), "{typed}: {message}");
        assert_eq!(page.book(), before, "{typed} changed the book");
    }
    page.type_into(&field, "0.9").await;
    assert_eq!(page.error_at(&field), None);
    assert_eq!(
        route(&page).chat_settings().unwrap().temperature,
        Temperature::parse("0.9").unwrap()
    );

    let model = format!("route-model-{task}");
    page.type_into(&model, " ").await;
    assert!(page.error_at(&model).unwrap().contains("must not be empty"));
    assert_eq!(route(&page).model, "gemini-2.5-flash");

    let max_tokens = format!("route-max-tokens-{task}");
    page.type_into(&max_tokens, "0").await;
    assert!(page.error_at(&max_tokens).unwrap().contains("max_tokens"));

    page.type_into(
        &format!("route-fallbacks-{task}"),
        "gpt-4.1, deepseek-v3.2,",
    )
    .await;
    assert_eq!(route(&page).fallbacks, ["gpt-4.1", "deepseek-v3.2"]);

    let seconds = "route-seconds-video";
    page.type_into(seconds, "0").await;
    assert!(page.error_at(seconds).unwrap().contains("clip length"));

    let reset = page.get("routes-reset");
    reset.click();
    tick().await;
    assert_ne!(page.book().routes, PriceBook::defaults().routes);
    reset.click();
    tick().await;
    assert_eq!(page.book().routes, PriceBook::defaults().routes);
    assert_eq!(page.error_at(&max_tokens), None);
}
