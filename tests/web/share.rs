//! Share links in the browser: passphrase protection with WebCrypto, a link made by the share
//! panel while the app holds API keys (none of them, nor the ledger or clips, is in it), and
//! the viewer showing a link's text as text.

use std::cell::RefCell;
use std::rc::Rc;

use crate::support::{document, tick};
use duanju_studio::domain::cost::profile::Profile;
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::project::sample::sample_series;
use duanju_studio::domain::provider::connection::{ApiKey, Connection, Preset};
use duanju_studio::domain::share::{
    inflate, parse_fragment, plain_fragment, Fragment, ShareError, SharePayload, ShareScope,
    PBKDF2_ITERATIONS,
};
use duanju_studio::ui::i18n::UiLang;
use duanju_studio::ui::shared::share_panel::SharePanel;
use duanju_studio::ui::shared::storyboard_sheet::StoryboardSheet;
use duanju_studio::ui::state::AppState;
use duanju_studio::web::share_link;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

const OPENAI_KEY: &str = "sk-proj-SECRET0123456789abcdefghijklmnopqrstuv";
const RELAY_KEY: &str = "hs_SECRET0123456789abcdefghijklmnopqrstuvwx";

fn scene_payload() -> SharePayload {
    let series = sample_series(1, 12);
    let scope = ShareScope::Scene {
        id: series.episodes[0].scenes[1].id.clone(),
    };
    SharePayload::storyboard(&series, &scope, 1.0).unwrap()
}

#[wasm_bindgen_test]
async fn a_protected_link_opens_only_with_its_passphrase() {
    const { assert!(PBKDF2_ITERATIONS >= 100_000) };
    let payload = scene_payload();
    let fragment = share_link::encode(&payload, "月光 moon").await.unwrap();
    assert!(fragment.starts_with("ds1k."));
    assert!(share_link::is_sealed(&fragment));
    // A fresh salt and nonce every time.
    let again = share_link::encode(&payload, "月光 moon").await.unwrap();
    assert_ne!(fragment, again);
    assert_eq!(
        share_link::decode(&fragment, Some("月光 moon"))
            .await
            .unwrap(),
        payload
    );
    assert_eq!(
        share_link::decode(&fragment, Some("wrong")).await,
        Err(ShareError::WrongPassphrase)
    );
    assert_eq!(
        share_link::decode(&fragment, None).await,
        Err(ShareError::NeedsPassphrase)
    );
    // A changed character in the ciphertext fails authentication.
    let mut bytes = fragment.clone().into_bytes();
    let at = bytes.len() - 5;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(
        share_link::decode(&tampered, Some("月光 moon")).await,
        Err(ShareError::WrongPassphrase)
    );
    // No passphrase: a plain link, the same as the domain's.
    let plain = share_link::encode(&payload, "  ").await.unwrap();
    assert_eq!(plain, plain_fragment(&payload));
    assert_eq!(share_link::decode(&plain, None).await.unwrap(), payload);
}

/// The text a link carries, decompressed.
fn link_text(url: &str) -> String {
    let Fragment::Plain(bytes) = parse_fragment(url).unwrap() else {
        panic!("a plain link");
    };
    String::from_utf8(inflate(&bytes).unwrap()).unwrap()
}

#[wasm_bindgen_test]
async fn a_link_never_holds_an_api_key_the_ledger_or_clips() {
    let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let series = sample_series(1, 12);
    assert!(!series.video_jobs.is_empty(), "the project has clips");
    let project = RwSignal::new(series);
    let slot = Rc::new(RefCell::new(None));
    let handle = {
        let slot = slot.clone();
        mount_to(host.clone(), move || {
            provide_context(UiLang(RwSignal::new(Lang::En)));
            let state = AppState::new();
            provide_context(state);
            *slot.borrow_mut() = Some(state);
            view! { <SharePanel project scope=Signal::derive(|| ShareScope::Project)/> }
        })
    };
    let state: AppState = slot.borrow_mut().take().unwrap();
    for _ in 0..5 {
        tick().await;
    }
    // The app holds two keys in memory while the link is made.
    state.connections.add(
        Connection::from_preset("openai", Preset::OpenAi, Profile::OFFICIAL, Lang::En),
        ApiKey::new(OPENAI_KEY),
    );
    state.connections.add(
        Connection::from_preset("relay", Preset::HolySheep, Profile::RELAY, Lang::En),
        ApiKey::new(RELAY_KEY),
    );
    tick().await;
    let create: web_sys::HtmlElement = host
        .query_selector("[data-testid=share-create]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    create.click();
    let mut url = String::new();
    for _ in 0..50 {
        tick().await;
        if let Some(input) = host.query_selector("[data-testid=share-link]").unwrap() {
            url = input.unchecked_into::<web_sys::HtmlInputElement>().value();
            break;
        }
    }
    assert!(url.contains("/view#ds1."), "{url}");
    let text = link_text(&url);
    assert!(text.contains("\"format\":\"duanju-share\""));
    for secret in [
        "sk-",
        "hs_",
        OPENAI_KEY,
        RELAY_KEY,
        "video_jobs",
        "clip_ref",
        "provider_job_id",
        "cost",
        "claude-sonnet",
    ] {
        assert!(!text.contains(secret), "the link holds {secret}");
    }
    // The URL itself is the encoded link: a short name can turn up in it by chance (and did,
    // about one run in a hundred), a whole key cannot.
    for key in [OPENAI_KEY, RELAY_KEY] {
        assert!(!url.contains(key), "the URL holds a key");
    }
    let length: String = host
        .query_selector("[data-testid=share-length]")
        .unwrap()
        .unwrap()
        .get_attribute("data-length")
        .unwrap();
    assert_eq!(length, url.chars().count().to_string());
    drop(handle);
    host.remove();
}

#[wasm_bindgen_test]
async fn the_sheet_shows_a_link_text_as_text_never_html() {
    let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let mut payload = scene_payload();
    let shot_id = payload.storyboard.shots().next().unwrap().id.clone();
    let shot = payload.storyboard.shot_mut(&shot_id).unwrap();
    shot.action = "<img src=x onerror=alert(1)><script>alert(2)</script>".into();
    let decoded = share_link::decode(&plain_fragment(&payload), None)
        .await
        .unwrap();
    let board = decoded.storyboard.clone();
    let handle = mount_to(host.clone(), move || {
        provide_context(UiLang(RwSignal::new(Lang::ZhCn)));
        view! { <StoryboardSheet board/> }
    });
    tick().await;
    let html = host.inner_html();
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;"));
    assert_eq!(html.matches("data-testid=\"sheet-shot\"").count(), 6);
    let action = host
        .query_selector("[data-testid=sheet-field-action]")
        .unwrap()
        .unwrap();
    assert_eq!(
        action.text_content().unwrap(),
        "<img src=x onerror=alert(1)><script>alert(2)</script>"
    );
    drop(handle);
    host.remove();
}
