//! The connections panel of Settings: add a connection from a preset, pick the active one, and
//! edit it (name, base URL, key, price profile, "remember on this device"; its protocol, limits
//! and model ids in [`crate::ui::settings::connection_api`]), then test it.
//!
//! The key is kept in memory ([`crate::ui::state::Connections`]) unless the user ticks
//! "remember", which is explained next to the box. Base URLs go through
//! [`validate_base_url`] and keys through [`key_hint`]: a bad URL is refused at its field (the
//! connection keeps its last valid URL), an odd key only gets a warning. A base URL is checked
//! as it is typed but stored only when the field is left (`change`): a URL that moves the
//! connection to another origin clears its key (see [`Connection::keeps_key`]), so a key pasted
//! for one site is never sent to another without the user pasting it again.
//!
//! The test runs the steps a browser takes ([`crate::domain::provider::probe`]): the free ones
//! first ([`crate::web::probe::free_steps`]: the CORS preflight and `GET /models`), which name
//! a refused preflight, a refused header, an unreachable server or a wrong key without paying;
//! then a real one-token `POST` (the same request as [`http::test_connection`]) through the
//! executor ([`crate::web::exec::once`]) like any other paid call, so its billed usage is in
//! the ledger. When that `POST` gets no answer, its preflight was refused and nothing was
//! sent: [`crate::web::probe::finish`] names the relay that blocks `POST` or the refused
//! header. The steps are listed (`conn-probe-step`, with `data-step` and `data-status`) and
//! the summary is `conn-test-result` (with `data-kind`, and `data-step` for a failure), all as
//! text.

use crate::domain::batch::{plan_request, RunInput};
use crate::domain::cost::profile::Profile;
use crate::domain::i18n::Lang;
use crate::domain::provider::connection::{
    key_hint, probe_request, validate_base_url, ApiKey, Connection, Preset, UrlError,
};
use crate::domain::provider::probe::{ProbeReport, Status};
use crate::domain::provider::routing::TaskType;
use crate::domain::provider::token_estimate::Calibration;
use crate::ui::common::book_editing::ConfirmButton;
use crate::ui::i18n::{t, use_lang};
use crate::ui::settings::connection_api::ConnectionApiSettings;
use crate::ui::state::use_app_state;
use crate::web::exec::once::{run_once, OnceOptions, OnceProblem};
use crate::web::exec::{BatchMeta, ExecError};
use crate::web::http::{CallOptions, TEST_TIMEOUT_MS};
use crate::web::idb;
use crate::web::probe::{finish, free_steps};
use crate::web::tabs::new_tab_id;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The ledger task name of a connection test.
const TEST_TASK: &str = "connection_test";

/// The profile a new connection from `preset` is priced with: the relay's ¥1 = $1 for the
/// relay and the sandbox, list prices at ¥7.3 for official APIs, seed prices at ¥7.3 otherwise.
fn default_profile(preset: Preset) -> &'static str {
    match preset {
        Preset::HolySheep | Preset::LocalSandbox => Profile::RELAY,
        Preset::OpenAi | Preset::DeepSeek | Preset::OpenRouter | Preset::Anthropic => {
            Profile::OFFICIAL
        }
        Preset::Custom => Profile::RELAY_MARKET,
    }
}

/// The preset's stable name (`local_sandbox`), used as a select value and a test id.
fn preset_value(preset: Preset) -> String {
    serde_json::to_value(preset)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A fresh connection id, unique on this device.
fn new_connection_id() -> String {
    let now = js_sys::Date::now() as u64;
    let salt = (js_sys::Math::random() * 1_000_000.0) as u64;
    format!("conn-{now:x}-{salt:x}")
}

/// The outcome of a connection test.
#[derive(Clone, Debug, PartialEq)]
enum TestResult {
    /// No key was entered.
    NoKey,
    /// The base URL in the field is not valid.
    BadUrl(UrlError),
    /// The steps ran: each one's status, and the failed one's problem.
    Report(ProbeReport),
    /// The free steps passed but the paid request was not sent (it could not be stored first).
    NotSent(ProbeReport, OnceProblem),
}

impl TestResult {
    /// `ok`, or the failure's kind (see [`ProbeReport::kind`]).
    fn kind(&self) -> &'static str {
        match self {
            TestResult::NoKey => "no_key",
            TestResult::BadUrl(_) => "bad_url",
            TestResult::Report(report) => report.kind(),
            TestResult::NotSent(..) => "not_sent",
        }
    }

    /// True when every step passed.
    fn is_ok(&self) -> bool {
        self.kind() == "ok"
    }

    /// What happened, in the user's language.
    fn message(&self, lang: Lang) -> String {
        match self {
            TestResult::NoKey => lang
                .pick("请先填写 API 密钥。", "Enter an API key first.")
                .into(),
            TestResult::BadUrl(error) => error.message(lang).into(),
            TestResult::Report(report) => report.message(lang),
            TestResult::NotSent(_, problem) => problem.message(lang),
        }
    }
}

/// The connections panel: add from a preset, choose the active connection, edit it.
#[component]
pub fn ConnectionsPanel() -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let connections = state.connections;
    let preset = RwSignal::new(Preset::LocalSandbox);
    let ids = Memo::new(move |_| {
        connections
            .list
            .with(|list| list.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
    });

    // Adding before the stored list is read would be overwritten by it.
    let loading = move || !connections.loaded.get();
    let choose_preset = move |ev| {
        let value = event_target_value(&ev);
        if let Some(chosen) = Preset::ALL.into_iter().find(|p| preset_value(*p) == value) {
            preset.set(chosen);
        }
    };
    let add = move |_| {
        let preset = preset.get_untracked();
        let profile = state.book.with_untracked(|book| {
            let wanted = default_profile(preset);
            match book.profile(wanted) {
                Some(_) => wanted.to_string(),
                None => book
                    .profiles
                    .first()
                    .map(|p| p.id.clone())
                    .unwrap_or_default(),
            }
        });
        let connection =
            Connection::from_preset(new_connection_id(), preset, profile, lang.get_untracked());
        let key = ApiKey::new(preset.spec().prefilled_key.unwrap_or(""));
        connections.add(connection, key);
    };

    view! {
        <section class="ds-card ds-conn-panel" data-testid="connections" aria-labelledby="conn-title">
            <h2 id="conn-title">{t("连接", "Connections")}</h2>
            <p class="ds-field__hint">{t(
                "密钥默认只保存在本页内存中，刷新或关闭页面后需要重新粘贴。它只会发送到该连接自己的 Base URL（仅带 Authorization 与 Content-Type 两个请求头），不会出现在网址、分享链接、导出文件或错误信息中。",
                "By default the key is kept only in this page's memory: after a reload or closing the tab, paste it again. It is sent only to the connection's own base URL (with just the Authorization and Content-Type headers) and never appears in a URL, share link, export or error message.",
            )}</p>
            <div class="ds-conn-add">
                <div class="ds-field">
                    <label for="conn-preset">{t("预设", "Preset")}</label>
                    <select id="conn-preset" data-testid="conn-preset" on:change=choose_preset>
                        {Preset::ALL
                            .into_iter()
                            .map(|option| {
                                let label = move || option.name(lang.get());
                                view! {
                                    <option value=preset_value(option) selected=move || preset.get() == option>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <button type="button" class="ds-btn" data-testid="conn-add" disabled=loading on:click=add>
                    {t("添加连接", "Add connection")}
                </button>
            </div>
            <Show
                when=move || connections.loaded.get()
                fallback=|| view! { <p class="ds-field__hint">{t("正在读取已保存的连接…", "Reading the saved connections…")}</p> }
            >
                <Show
                    when=move || !ids.with(Vec::is_empty)
                    fallback=|| view! {
                        <p class="ds-alert ds-alert--warn" data-testid="conn-empty">{t(
                            "还没有连接。选择一个预设并点「添加连接」，然后粘贴密钥。",
                            "No connection yet. Pick a preset, press Add connection, then paste the key.",
                        )}</p>
                    }
                >
                    <fieldset class="ds-fieldset ds-conn-list">
                        <legend>{t("当前使用的连接", "Active connection")}</legend>
                        <ul class="ds-conn-list__items">
                            <For each=move || ids.get() key=|id| id.clone() children=move |id| view! { <ConnectionItem id/> }/>
                        </ul>
                    </fieldset>
                </Show>
                {move || connections.active.get().map(|id| view! { <ConnectionEditor id/> })}
            </Show>
        </section>
    }
}

/// One connection in the list: a radio button that makes it active, its name, base URL,
/// preset and key status, and a delete button that asks first.
#[component]
fn ConnectionItem(
    /// The connection's id.
    id: String,
) -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let connections = state.connections;
    let connection = {
        let id = id.clone();
        Memo::new(move |_| {
            connections
                .list
                .with(|list| list.iter().find(|c| c.id == id).cloned())
        })
    };
    let has_key = {
        let id = id.clone();
        Memo::new(move |_| {
            connections
                .keys
                .with(|keys| keys.get(&id).is_some_and(|key| !key.is_empty()))
        })
    };
    let is_active = {
        let id = id.clone();
        Memo::new(move |_| connections.active.get().as_deref() == Some(id.as_str()))
    };
    let read = move |part: fn(&Connection, Lang) -> String| {
        move || connection.with(|c| c.as_ref().map(|c| part(c, lang.get())).unwrap_or_default())
    };
    let key_status = move || {
        let remembered = connection.with(|c| c.as_ref().is_some_and(|c| c.remember_key));
        match (has_key.get(), remembered) {
            (false, _) => lang.get().pick("未填密钥", "no key"),
            (true, true) => lang.get().pick("密钥已记在本机", "key remembered"),
            (true, false) => lang.get().pick("密钥仅在内存", "key in memory only"),
        }
    };
    let select = {
        let id = id.clone();
        move |_| connections.choose(&id)
    };
    let remove = {
        let id = id.clone();
        move |()| connections.remove(&id)
    };
    let pick_id = format!("conn-pick-{id}");
    view! {
        <li class="ds-conn-item" class:ds-conn-item--active=is_active data-testid="conn-item" data-id=id.clone()>
            <input
                type="radio"
                name="ds-active-connection"
                id=pick_id.clone()
                data-testid="conn-pick"
                prop:checked=is_active
                on:change=select
            />
            <label for=pick_id class="ds-conn-item__label">
                <span class="ds-conn-item__name" data-testid="conn-item-name">{read(|c, _| c.name.clone())}</span>
                <span class="ds-mono ds-conn-item__url">{read(|c, _| c.base_url.clone())}</span>
            </label>
            <span class="ds-tag">{read(|c, lang| c.preset.name(lang).to_string())}</span>
            <span class="ds-tag" data-testid="conn-item-key">{key_status}</span>
            <ConfirmButton testid="conn-delete" label=Signal::derive(t("删除", "Delete")) on_confirm=remove/>
        </li>
    }
}

/// The editor of one connection.
#[component]
fn ConnectionEditor(
    /// The connection's id.
    id: String,
) -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let connections = state.connections;
    let connection = {
        let id = id.clone();
        Memo::new(move |_| {
            connections
                .list
                .with(|list| list.iter().find(|c| c.id == id).cloned())
        })
    };
    let Some(initial) = connection.get_untracked() else {
        return ().into_any();
    };
    let preset = initial.preset;
    // The fields start from the stored values and are the source of truth while the editor is
    // open: each edit is stored at once, a base URL only when its field is left, once it is
    // valid and in its normalized spelling (shown in the list). The field keeps what was typed,
    // so its warnings stay in place and nothing moves under the pointer when it loses focus.
    let key_text = RwSignal::new(connections.keys.with_untracked(|keys| {
        keys.get(&id)
            .map(|key| key.expose().to_string())
            .unwrap_or_default()
    }));
    // Set when a new origin cleared the key, until a key is typed.
    let key_dropped = RwSignal::new(false);
    let url_text = RwSignal::new(initial.base_url.clone());
    let url_check = Memo::new(move |_| validate_base_url(&url_text.get()));
    let key_warning = {
        let id = id.clone();
        Memo::new(move |_| {
            connections
                .keys
                .with(|keys| key_hint(preset, keys.get(&id).map_or("", ApiKey::expose)))
        })
    };
    let show_key = RwSignal::new(false);
    let testing = RwSignal::new(false);
    let result = RwSignal::new(None::<TestResult>);
    // The steps as they run (and after), shown as a list.
    let progress = RwSignal::new(None::<ProbeReport>);
    let remember =
        Memo::new(move |_| connection.with(|c| c.as_ref().is_some_and(|c| c.remember_key)));
    let profile_id = Memo::new(move |_| {
        connection.with(|c| {
            c.as_ref()
                .map(|c| c.price_profile_id.clone())
                .unwrap_or_default()
        })
    });
    // (id, name); a profile the book no longer has stays listed, marked missing.
    let profiles = Memo::new(move |_| {
        let chosen = profile_id.get();
        state.book.with(|book| {
            let mut options = book
                .profiles
                .iter()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect::<Vec<_>>();
            if book.profile(&chosen).is_none() {
                options.push((chosen.clone(), format!("{chosen} (?)")));
            }
            options
        })
    });

    let edit_name = {
        let id = id.clone();
        move |ev| {
            let name = event_target_value(&ev);
            connections.edit(&id, |c| c.name = name);
        }
    };
    // Another tab changed this connection (`Connections::reload`): the URL it stored replaces
    // what the field shows, and a key this page forgot for it (the URL moved) leaves the field.
    let shown_url = StoredValue::new(initial.base_url.clone());
    Effect::new({
        let id = id.clone();
        move |_| {
            let url = connection.with(|c| c.as_ref().map(|c| c.base_url.clone()));
            if let Some(url) = url.filter(|url| shown_url.with_value(|shown| shown != url)) {
                shown_url.set_value(url.clone());
                url_text.set(url);
            }
            let held = connections.keys.with(|keys| keys.contains_key(&id));
            if !held && !key_text.with_untracked(String::is_empty) {
                key_text.set(String::new());
                key_dropped.set(true);
            }
        }
    });
    let commit_url = {
        let id = id.clone();
        move |ev| {
            let text = event_target_value(&ev);
            url_text.set(text.clone());
            let (Ok(url), Some(old)) = (validate_base_url(&text), connection.get_untracked())
            else {
                return;
            };
            // This field's own edit: it keeps what was typed.
            shown_url.set_value(url.as_str().to_string());
            let key = connections
                .keys
                .with_untracked(|keys| keys.get(&id).cloned())
                .unwrap_or_default();
            if !key.is_empty() && !old.keeps_key(url.as_str(), &key) {
                // An empty key is not remembered either: the stored copy goes with it.
                connections.set_key(&id, ApiKey::default());
                key_text.set(String::new());
                key_dropped.set(true);
            }
            connections.edit(&id, |c| c.base_url = url.as_str().to_string());
        }
    };
    let edit_key = {
        let id = id.clone();
        move |ev| {
            key_dropped.set(false);
            connections.set_key(&id, ApiKey::new(&event_target_value(&ev)));
        }
    };
    let edit_remember = {
        let id = id.clone();
        move |ev| {
            let on = event_target_checked(&ev);
            connections.edit(&id, |c| c.remember_key = on);
        }
    };
    let edit_profile = {
        let id = id.clone();
        move |ev| {
            let profile = event_target_value(&ev);
            connections.edit(&id, |c| c.price_profile_id = profile);
        }
    };
    let test = {
        let id = id.clone();
        move |_| {
            if testing.get_untracked() {
                return;
            }
            let Some(connection) = connection.get_untracked() else {
                return;
            };
            let key = connections
                .keys
                .with_untracked(|keys| keys.get(&id).cloned())
                .unwrap_or_default();
            if let Err(error) = url_check.get_untracked() {
                progress.set(None);
                result.set(Some(TestResult::BadUrl(error)));
                return;
            }
            if key.is_empty() {
                progress.set(None);
                result.set(Some(TestResult::NoKey));
                return;
            }
            testing.set(true);
            result.set(None);
            progress.set(Some(ProbeReport::new(&connection)));
            spawn_local(async move {
                // The free steps first: they name a CORS refusal or a wrong key without paying.
                let mut report = free_steps(&connection, &key, |so_far| {
                    progress.set(Some(so_far.clone()));
                })
                .await;
                if !report.is_clear() {
                    progress.set(Some(report.clone()));
                    result.set(Some(TestResult::Report(report)));
                    testing.set(false);
                    return;
                }
                let model = connection.preset.spec().probe_model;
                let plan = state.book.with_untracked(|book| {
                    let (prices, profile) = book.pricing_for(&connection);
                    plan_request(
                        probe_request(model),
                        RunInput {
                            route: book.routes.route(TaskType::DEFAULT),
                            connection_id: &connection.id,
                            conversations: Vec::new(),
                            prices: &prices,
                            profile: &profile,
                            limits: connection.batch_limits(),
                            budget: None,
                            calibration: &Calibration::default(),
                        },
                    )
                });
                let meta = BatchMeta {
                    connection_id: connection.id.clone(),
                    task: TEST_TASK.into(),
                    project: None,
                    label: "connection test".into(),
                    purpose: None,
                    created_ms: js_sys::Date::now(),
                };
                let options = OnceOptions {
                    stream: false,
                    call: CallOptions {
                        timeout_ms: TEST_TIMEOUT_MS,
                        cancel: None,
                    },
                };
                let id = format!("test-{}", new_tab_id());
                let outcome = match idb::shared().await {
                    Ok(db) => {
                        let link = (connection.clone(), key.clone());
                        run_once(db, &id, meta, plan, link, options, |_| {}, |_| {}).await
                    }
                    Err(e) => Err(OnceProblem::Exec(ExecError::Storage(e))),
                };
                let done = match outcome {
                    Ok(done) => {
                        let outcome = match done.error {
                            None => Ok((
                                done.entry.latency_ms,
                                done.answered_by.unwrap_or_else(|| model.to_string()),
                            )),
                            Some(error) => Err(error),
                        };
                        finish(&connection, &key, &mut report, outcome).await;
                        TestResult::Report(report.clone())
                    }
                    Err(problem) => {
                        report.skip_rest();
                        TestResult::NotSent(report.clone(), problem)
                    }
                };
                progress.set(Some(report));
                result.set(Some(done));
                testing.set(false);
            });
        }
    };

    let url_error = move || url_check.with(|check| check.as_ref().err().copied());
    let url_warnings = move || {
        url_check.with(|check| {
            check
                .as_ref()
                .map(|url| url.warnings().to_vec())
                .unwrap_or_default()
        })
    };
    let test_label = t("测试连接", "Test connection");
    let testing_label = t("测试中…", "Testing…");

    view! {
        <div class="ds-conn-editor" data-testid="conn-editor" data-id=id.clone()>
            <h3>{t("编辑连接", "Edit connection")}</h3>
            <div class="ds-row">
                <div class="ds-field">
                    <label for="conn-name">{t("名称", "Name")}</label>
                    <input id="conn-name" data-testid="conn-name" type="text" prop:value=initial.name.clone() on:input=edit_name/>
                </div>
                <div class="ds-field" class:ds-field--invalid=move || url_error().is_some()>
                    <label for="conn-base-url">"Base URL"</label>
                    <input
                        id="conn-base-url"
                        data-testid="conn-base-url"
                        type="url"
                        inputmode="url"
                        spellcheck="false"
                        autocomplete="off"
                        placeholder="https://api.example.com/v1"
                        aria-invalid=move || url_error().is_some().to_string()
                        aria-describedby="conn-base-url-note"
                        prop:value=move || url_text.get()
                        on:input=move |ev| url_text.set(event_target_value(&ev))
                        on:change=commit_url
                    />
                    <div id="conn-base-url-note">
                        {move || url_error().map(|error| view! {
                            <span class="ds-field__error" data-testid="conn-base-url-error">
                                {move || error.message(lang.get())}
                                {t("（仍使用上一个有效地址）", " (the last valid URL stays in use)")}
                            </span>
                        })}
                        {move || url_warnings().into_iter().map(|warning| view! {
                            <span class="ds-field__hint ds-conn-warning" data-testid="conn-base-url-warning">
                                {move || warning.message(lang.get())}
                            </span>
                        }).collect_view()}
                    </div>
                </div>
            </div>
            <div class="ds-row">
                <div class="ds-field">
                    <label for="conn-key">{t("API 密钥", "API key")}</label>
                    <div class="ds-conn-key">
                        <input
                            id="conn-key"
                            data-testid="conn-key"
                            type=move || if show_key.get() { "text" } else { "password" }
                            autocomplete="new-password"
                            spellcheck="false"
                            aria-describedby="conn-key-note"
                            prop:value=move || key_text.get()
                            on:input=edit_key
                        />
                        <button
                            type="button"
                            class="ds-btn ds-btn--ghost ds-btn--small"
                            data-testid="conn-key-toggle"
                            aria-controls="conn-key"
                            aria-pressed=move || show_key.get().to_string()
                            on:click=move |_| show_key.update(|shown| *shown = !*shown)
                        >
                            {t("显示密钥", "Show key")}
                        </button>
                    </div>
                    <div id="conn-key-note">
                        <Show when=move || key_dropped.get()>
                            <span class="ds-field__error" role="alert" data-testid="conn-key-dropped">{t(
                                "地址已换到另一个网站，原密钥不会发给它，已清空：请为新地址重新粘贴密钥。",
                                "The address changed to another site, so the key was cleared instead of being sent there: paste the key for it again.",
                            )}</span>
                        </Show>
                        {move || key_warning.get().map(|warning| view! {
                            <span class="ds-field__hint ds-conn-warning" data-testid="conn-key-hint">
                                {move || warning.message(lang.get())}
                            </span>
                        })}
                    </div>
                </div>
                <div class="ds-field">
                    <label for="conn-profile">{t("价格配置", "Price profile")}</label>
                    <select id="conn-profile" data-testid="conn-profile" on:change=edit_profile>
                        <For
                            each=move || profiles.get()
                            key=|(id, name)| (id.clone(), name.clone())
                            children=move |(value, name)| {
                                let chosen = value.clone();
                                view! {
                                    <option value=value selected=move || profile_id.get() == chosen>{name}</option>
                                }
                            }
                        />
                    </select>
                    <span class="ds-field__hint">{t(
                        "账本与试运行按此配置的价格表和汇率计算费用。",
                        "The ledger and the playground price calls with this profile's prices and exchange rate.",
                    )}</span>
                </div>
            </div>
            <ConnectionApiSettings id=id.clone() connection/>
            <label class="ds-check" for="conn-remember">
                <input
                    type="checkbox"
                    id="conn-remember"
                    data-testid="conn-remember"
                    prop:checked=move || remember.get()
                    on:change=edit_remember
                />
                {t("在此设备上记住密钥", "Remember the key on this device")}
            </label>
            <Show when=move || remember.get()>
                <p class="ds-alert ds-alert--warn" data-testid="conn-remember-warning">{t(
                    "密钥将以未加密的明文保存在此浏览器的 IndexedDB 中。任何能使用这台设备或这个浏览器配置文件的人（以及在本站运行的脚本）都能读取它。只在自己的设备上勾选；取消勾选会立即删除已保存的密钥。",
                    "The key will be stored unencrypted in this browser's IndexedDB. Anyone with access to this device or browser profile (and any script running on this site) can read it. Tick this only on your own device; unticking deletes the stored key at once.",
                )}</p>
            </Show>
            <div class="ds-actions ds-conn-test">
                <button
                    type="button"
                    class="ds-btn"
                    data-testid="conn-test"
                    disabled=move || testing.get()
                    on:click=test
                >
                    {move || if testing.get() { testing_label() } else { test_label() }}
                </button>
                <span class="ds-field__hint">{t(
                    "先检查 CORS 预检与 GET /models（不计费），通过后再发送一次真实的 1 token 请求（会计入账本）；哪一步失败会写明原因和解决办法。",
                    "Checks the CORS preflight and GET /models first (free), then sends one real one-token request (recorded in the ledger); a failed step is named, with what to do.",
                )}</span>
            </div>
            {move || progress.get().map(|report| view! {
                <ol class="ds-lines ds-conn-probe" data-testid="conn-probe">
                    {report.steps().iter().cloned().map(|line| {
                        let status = line.status;
                        let mark = match status {
                            Status::Ok => "✓",
                            Status::Failed => "✗",
                            Status::Skipped => "–",
                            Status::Pending => "…",
                        };
                        view! {
                            <li
                                class="ds-conn-probe__step"
                                class:ds-conn-probe__step--failed=status == Status::Failed
                                data-testid="conn-probe-step"
                                data-step=line.step.id()
                                data-status=status.id()
                            >
                                <span aria-hidden="true">{mark}" "</span>
                                {move || line.step.label(lang.get())}
                                {line.note.clone().map(|note| view! {
                                    <span class="ds-field__hint">" — "{move || note.text(lang.get())}</span>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            })}
            <div role="status" aria-live="polite">
                {move || result.get().map(|outcome| {
                    let ok = outcome.is_ok();
                    let failed = !ok;
                    let kind = outcome.kind();
                    let failed_step = match &outcome {
                        TestResult::Report(report) => report.failure().map(|(step, _)| step.id()),
                        _ => None,
                    };
                    view! {
                        <p
                            class="ds-alert"
                            class:ds-alert--ok=ok
                            class:ds-alert--error=failed
                            data-testid="conn-test-result"
                            data-kind=kind
                            data-step=failed_step
                        >
                            {move || outcome.message(lang.get())}
                        </p>
                    }
                })}
            </div>
        </div>
    }
    .into_any()
}
