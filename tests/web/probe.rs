//! The connection test's steps against the real sandbox (at `SANDBOX_URL` when it was set at
//! compile time, else http://127.0.0.1:18787/v1): a refused preflight, a relay that lets `GET`
//! through and blocks `POST`, a refused header, a wrong key and an unreachable server are each
//! named at their step, with a zh-CN and an en message that says what to do and never holds
//! the key; a working connection passes every step, and only its last step is billed. The
//! Settings panel lists the steps (`conn-probe-step`) and shows the failed one's message
//! (`conn-test-result`) in the current language. Every test sets the sandbox's configuration
//! first and restores the defaults at its end.

use std::cell::RefCell;
use std::rc::Rc;

use crate::http::{control, start};
use crate::support::{document, tick};
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::provider::connection::{
    ApiKey, Connection, Preset, Protocol, ANTHROPIC_BROWSER_HEADER, SANDBOX_KEY,
};
use duanju_studio::domain::provider::probe::{Note, ProbeReport, Problem, Status, Step};
use duanju_studio::ui::i18n::UiLang;
use duanju_studio::ui::settings::connections::ConnectionsPanel;
use duanju_studio::ui::state::AppState;
use duanju_studio::web::http::test_connection;
use duanju_studio::web::probe::{finish, free_steps};
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

/// The sandbox's API base URL.
fn api() -> &'static str {
    option_env!("SANDBOX_URL").unwrap_or("http://127.0.0.1:18787/v1")
}

/// Restores the defaults.
async fn finish_sandbox() {
    start("{}").await;
}

async fn billed_requests() -> u64 {
    let stats = control("GET", "/_sandbox/stats", None).await;
    stats["billed"]["requests"].as_u64().unwrap_or(0)
}

fn sandbox() -> Connection {
    Connection {
        base_url: api().to_string(),
        ..Connection::from_preset("sandbox", Preset::LocalSandbox, "relay", Lang::ZhCn)
    }
}

fn key() -> ApiKey {
    ApiKey::new(SANDBOX_KEY)
}

fn statuses(report: &ProbeReport) -> Vec<(&'static str, &'static str)> {
    report
        .steps()
        .iter()
        .map(|line| (line.step.id(), line.status.id()))
        .collect()
}

/// The report failed at `step` with `kind`; its messages in both languages are there,
/// differ, name the fix, and hold neither key.
fn assert_failed(report: &ProbeReport, step: Step, kind: &str, fixes: [&str; 2], keys: &[&str]) {
    let (failed, problem) = report.failure().expect("a step failed");
    assert_eq!(failed, step, "{report:?}");
    assert_eq!(problem.kind(), kind, "{report:?}");
    assert_eq!(report.kind(), kind);
    assert_eq!(report.status(step), Status::Failed);
    let after = Step::ALL.into_iter().skip_while(|s| *s != step).skip(1);
    for later in after {
        assert_eq!(report.status(later), Status::Skipped, "{later:?}");
    }
    let zh = report.message(Lang::ZhCn);
    let en = report.message(Lang::En);
    assert!(!zh.is_empty() && !en.is_empty());
    assert_ne!(zh, en);
    assert!(zh.contains(fixes[0]), "{zh}");
    assert!(en.contains(fixes[1]), "{en}");
    assert!(
        zh.contains(step.label(Lang::ZhCn)),
        "the message names the step: {zh}"
    );
    assert!(
        en.contains(step.label(Lang::En)),
        "the message names the step: {en}"
    );
    for text in [&zh, &en] {
        for key in keys {
            assert!(!text.contains(key), "{text}");
        }
    }
}

/// The paid step as the app runs it (the app sends it through the executor; here it is the
/// same one-token request, straight), recorded with [`finish`].
async fn paid_step(conn: &Connection, key: &ApiKey, report: &mut ProbeReport) {
    let outcome = test_connection(conn, key).await;
    let outcome = outcome.map(|done| (done.latency_ms, done.model));
    finish(conn, key, report, outcome).await;
}

#[wasm_bindgen_test]
async fn a_working_connection_passes_every_step_and_only_the_last_is_billed() {
    start("{}").await;
    let mut seen = Vec::new();
    let mut report = free_steps(&sandbox(), &key(), |so_far| seen.push(statuses(so_far))).await;
    assert_eq!(
        statuses(&report),
        [
            ("preflight", "ok"),
            ("models", "ok"),
            ("post", "pending"),
            ("completion", "pending")
        ]
    );
    assert_eq!(
        seen.last(),
        Some(&statuses(&report)),
        "progress is reported"
    );
    assert!(
        matches!(report.steps()[1].note, Some(Note::Models(n)) if n > 0),
        "{report:?}"
    );
    assert!(report.is_clear());
    let stats = control("GET", "/_sandbox/stats", None).await;
    assert_eq!(stats["requests"]["GET /v1/models"], 1, "{stats}");
    assert!(
        stats["requests"].get("POST /v1/chat/completions").is_none(),
        "{stats}"
    );
    assert_eq!(billed_requests().await, 0, "the free steps cost nothing");

    paid_step(&sandbox(), &key(), &mut report).await;
    assert_eq!(report.kind(), "ok");
    assert!(
        report.steps().iter().all(|line| line.status == Status::Ok),
        "{report:?}"
    );
    assert!(report.failure().is_none());
    assert!(report
        .message(Lang::ZhCn)
        .starts_with("连接正常：deepseek-v3.2"));
    assert!(report
        .message(Lang::En)
        .starts_with("Connection OK: deepseek-v3.2"));
    let stats = control("GET", "/_sandbox/stats", None).await;
    assert_eq!(
        stats["requests"]["POST /v1/chat/completions"], 1,
        "one POST: {stats}"
    );
    assert_eq!(billed_requests().await, 1);
    finish_sandbox().await;
}

#[wasm_bindgen_test]
async fn a_refused_preflight_is_named_at_the_first_step() {
    // Gemini's OpenAI-compatible endpoint: every preflight refused.
    start(r#"{"cors_refuse_preflight": true}"#).await;
    let report = free_steps(&sandbox(), &key(), |_| {}).await;
    assert_failed(
        &report,
        Step::Preflight,
        "preflight_refused",
        ["CORS 预检被拒绝", "CORS preflight was refused"],
        &[SANDBOX_KEY],
    );
    assert!(report.message(Lang::ZhCn).contains("中转"));
    assert!(report.message(Lang::En).contains("Use a relay"));
    assert_eq!(billed_requests().await, 0);
    finish_sandbox().await;
}

#[wasm_bindgen_test]
async fn a_relay_that_lets_get_through_and_blocks_post_is_named_at_the_post() {
    start(r#"{"cors_block_post": true}"#).await;
    let mut report = free_steps(&sandbox(), &key(), |_| {}).await;
    assert_eq!(report.status(Step::Preflight), Status::Ok);
    assert_eq!(report.status(Step::Models), Status::Ok, "GET gets through");
    assert!(report.is_clear());
    paid_step(&sandbox(), &key(), &mut report).await;
    assert_failed(
        &report,
        Step::Post,
        "post_blocked",
        ["放行 POST", "allow POST"],
        &[SANDBOX_KEY],
    );
    let stats = control("GET", "/_sandbox/stats", None).await;
    assert!(
        stats["requests"].get("POST /v1/chat/completions").is_none(),
        "no POST arrived: {stats}"
    );
    assert_eq!(billed_requests().await, 0);
    finish_sandbox().await;
}

#[wasm_bindgen_test]
async fn a_refused_header_is_named() {
    // An Anthropic organisation that turned browser access off: its opt-in header is refused.
    let (opt_in, _) = ANTHROPIC_BROWSER_HEADER;
    start(&format!(r#"{{"cors_refuse_headers": ["{opt_in}"]}}"#)).await;
    let anthropic = Connection {
        preset: Preset::Anthropic,
        ..sandbox()
    };
    assert_eq!(anthropic.protocol(), Protocol::AnthropicMessages);
    let report = free_steps(&anthropic, &key(), |_| {}).await;
    assert_failed(
        &report,
        Step::Preflight,
        "header_refused",
        [opt_in, opt_in],
        &[SANDBOX_KEY],
    );
    assert_eq!(
        report.failure().unwrap().1,
        &Problem::HeaderRefused {
            headers: vec![opt_in.to_string()]
        },
        "only the refused header is named, not anthropic-version"
    );
    assert!(report.message(Lang::ZhCn).contains("自定义"));
    assert!(report.message(Lang::En).contains("Custom preset"));
    // Without the opt-in (a relay speaking Messages), the same sandbox passes the free steps.
    let relay = Connection {
        preset: Preset::Custom,
        protocol: Some(Protocol::AnthropicMessages),
        ..sandbox()
    };
    let report = free_steps(&relay, &key(), |_| {}).await;
    assert!(report.is_clear(), "{report:?}");
    assert_eq!(report.status(Step::Models), Status::Ok);
    assert_eq!(billed_requests().await, 0);
    finish_sandbox().await;
}

#[wasm_bindgen_test]
async fn a_wrong_key_is_named_at_the_model_list_and_never_echoed() {
    start("{}").await;
    let wrong = "sk-sandbox-WRONG0123456789abcdefWRONG0123";
    let report = free_steps(&sandbox(), &ApiKey::new(wrong), |_| {}).await;
    assert_eq!(report.status(Step::Preflight), Status::Ok);
    assert_failed(
        &report,
        Step::Models,
        "invalid_key",
        ["重新粘贴密钥", "Paste the key again"],
        &[wrong, "WRONG0123", SANDBOX_KEY],
    );
    let stats = control("GET", "/_sandbox/stats", None).await;
    assert!(
        stats["requests"].get("POST /v1/chat/completions").is_none(),
        "the test stops at the wrong key: {stats}"
    );
    finish_sandbox().await;
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_named_at_the_first_step() {
    start("{}").await;
    let nowhere = Connection {
        base_url: "http://127.0.0.1:9/v1".into(),
        ..sandbox()
    };
    let report = free_steps(&nowhere, &key(), |_| {}).await;
    assert_failed(
        &report,
        Step::Preflight,
        "unreachable",
        ["无法连接到服务器", "Could not reach the server"],
        &[SANDBOX_KEY],
    );
    assert!(report.message(Lang::ZhCn).contains("Base URL"));
    assert!(report.message(Lang::En).contains("base URL"));
    finish_sandbox().await;
}

/// The connections panel, mounted with a fresh app state in English, and the connection it
/// tests (removed again when dropped).
struct Panel {
    host: web_sys::HtmlElement,
    state: AppState,
    lang: RwSignal<Lang>,
    id: String,
    _handle: Box<dyn std::any::Any>,
}

impl Drop for Panel {
    fn drop(&mut self) {
        self.state.connections.remove(&self.id);
        self.host.remove();
    }
}

impl Panel {
    /// Mounts the panel and adds `conn` (with `key`) as the active connection.
    async fn open(conn: Connection, key: ApiKey) -> Panel {
        let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
        document().body().unwrap().append_child(&host).unwrap();
        let slot = Rc::new(RefCell::new(None));
        let lang = RwSignal::new(Lang::En);
        let handle = {
            let slot = slot.clone();
            mount_to(host.clone(), move || {
                provide_context(UiLang(lang));
                let state = AppState::new();
                provide_context(state);
                *slot.borrow_mut() = Some(state);
                view! { <ConnectionsPanel/> }
            })
        };
        let state: AppState = slot.borrow_mut().take().unwrap();
        for _ in 0..200 {
            if state.connections.loaded.get_untracked() {
                break;
            }
            tick().await;
        }
        assert!(
            state.connections.loaded.get_untracked(),
            "the connections load"
        );
        let id = conn.id.clone();
        state.connections.add(conn, key);
        tick().await;
        Panel {
            host,
            state,
            lang,
            id,
            _handle: Box::new(handle),
        }
    }

    fn find(&self, testid: &str) -> Option<web_sys::Element> {
        self.host
            .query_selector(&format!("[data-testid=\"{testid}\"]"))
            .unwrap()
    }

    /// Clicks "Test connection" and waits for the result.
    async fn test(&self) -> web_sys::Element {
        let button: web_sys::HtmlElement = self.find("conn-test").unwrap().unchecked_into();
        button.click();
        for _ in 0..500 {
            if let Some(result) = self.find("conn-test-result") {
                return result;
            }
            tick().await;
        }
        panic!("no conn-test-result");
    }

    /// Each listed step's `data-step` and `data-status`.
    fn steps(&self) -> Vec<(String, String)> {
        let mut steps = Vec::new();
        let list = self.find("conn-probe").expect("the steps are listed");
        let mut line = list.first_element_child();
        while let Some(item) = line {
            assert_eq!(
                item.get_attribute("data-testid").as_deref(),
                Some("conn-probe-step")
            );
            let attr = |name| item.get_attribute(name).unwrap_or_default();
            steps.push((attr("data-step"), attr("data-status")));
            line = item.next_element_sibling();
        }
        steps
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[wasm_bindgen_test]
async fn the_panel_lists_the_steps_and_names_the_refused_preflight_in_both_languages() {
    start(r#"{"cors_refuse_preflight": true}"#).await;
    let conn = Connection {
        id: "probe-ui-preflight".into(),
        ..sandbox()
    };
    let panel = Panel::open(conn, key()).await;
    let result = panel.test().await;
    assert_eq!(
        result.get_attribute("data-kind").as_deref(),
        Some("preflight_refused")
    );
    assert_eq!(
        result.get_attribute("data-step").as_deref(),
        Some("preflight")
    );
    assert_eq!(
        panel.steps(),
        pairs(&[
            ("preflight", "failed"),
            ("models", "skipped"),
            ("post", "skipped"),
            ("completion", "skipped")
        ])
    );
    let en = result.text_content().unwrap_or_default();
    assert!(en.contains("CORS preflight was refused"), "{en}");
    assert!(en.contains("Use a relay"), "{en}");
    panel.lang.set(Lang::ZhCn);
    tick().await;
    let result = panel.find("conn-test-result").unwrap();
    let zh = result.text_content().unwrap_or_default();
    assert!(
        zh.contains("CORS 预检被拒绝") && zh.contains("中转"),
        "{zh}"
    );
    assert_ne!(zh, en);
    for text in [&zh, &en] {
        assert!(!text.contains(SANDBOX_KEY), "{text}");
    }
    assert_eq!(billed_requests().await, 0, "nothing paid was sent");
    let stats = control("GET", "/_sandbox/stats", None).await;
    assert!(
        stats["requests"].get("POST /v1/chat/completions").is_none(),
        "{stats}"
    );
    drop(panel);
    finish_sandbox().await;
}

#[wasm_bindgen_test]
async fn the_panel_stops_at_a_wrong_key_without_a_paid_call() {
    start("{}").await;
    let conn = Connection {
        id: "probe-ui-wrong-key".into(),
        ..sandbox()
    };
    let wrong = "sk-sandbox-WRONG0123456789abcdefWRONG0123";
    let panel = Panel::open(conn, ApiKey::new(wrong)).await;
    let result = panel.test().await;
    assert_eq!(
        result.get_attribute("data-kind").as_deref(),
        Some("invalid_key")
    );
    assert_eq!(result.get_attribute("data-step").as_deref(), Some("models"));
    assert_eq!(
        panel.steps(),
        pairs(&[
            ("preflight", "ok"),
            ("models", "failed"),
            ("post", "skipped"),
            ("completion", "skipped")
        ])
    );
    let text = panel.host.text_content().unwrap_or_default();
    assert!(
        !text.contains("WRONG0123"),
        "the page never shows the key: {text}"
    );
    let stats = control("GET", "/_sandbox/stats", None).await;
    assert!(
        stats["requests"].get("POST /v1/chat/completions").is_none(),
        "{stats}"
    );
    drop(panel);
    finish_sandbox().await;
}
