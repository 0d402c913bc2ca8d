//! A connection's API settings in Settings: the protocol it speaks (OpenAI chat completions or
//! Anthropic Messages), its rate limits (requests and tokens per minute, concurrency), and the
//! ids it gives the catalog models the routes name.
//!
//! The ids come from the preset's shipped mapping unless the user sets one
//! ([`Connection::model_id`]). "Read the model list" asks the provider's `GET /models` (all
//! pages), keeps the listing for this connection ([`crate::web::models`]), and shows every model
//! a route needs that the listing lacks, with the proposed match to accept in one click
//! ([`missing_models`]). The same listing is checked before a run starts.

use crate::domain::i18n::Lang;
use crate::domain::provider::connection::{Connection, ConnectionLimits, LimitError, Protocol};
use crate::domain::provider::model_map::{missing_models, needed_models, ModelIdError};
use crate::domain::provider::routing::TaskType;
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::use_app_state;
use crate::web::models::{self, ListModelsError};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Which limit a field edits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LimitField {
    Rpm,
    Tpm,
    Concurrency,
}

impl LimitField {
    fn read(self, limits: &ConnectionLimits) -> Option<u64> {
        match self {
            LimitField::Rpm => limits.rpm.map(u64::from),
            LimitField::Tpm => limits.tpm,
            LimitField::Concurrency => limits.concurrency.map(u64::from),
        }
    }

    /// `limits` with this field set to `value` (`None`: unknown). A number too large for the
    /// field is kept at the type's maximum, which validation then refuses with its message.
    fn write(self, limits: &mut ConnectionLimits, value: Option<u64>) {
        let small = value.map(|v| u32::try_from(v).unwrap_or(u32::MAX));
        match self {
            LimitField::Rpm => limits.rpm = small,
            LimitField::Tpm => limits.tpm = value,
            LimitField::Concurrency => limits.concurrency = small,
        }
    }

    fn id(self) -> &'static str {
        match self {
            LimitField::Rpm => "conn-rpm",
            LimitField::Tpm => "conn-tpm",
            LimitField::Concurrency => "conn-concurrency",
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match self {
            LimitField::Rpm => lang.pick("每分钟请求数（RPM）", "Requests per minute (RPM)"),
            LimitField::Tpm => lang.pick("每分钟 tokens（TPM）", "Tokens per minute (TPM)"),
            LimitField::Concurrency => lang.pick("并发请求数", "Concurrent requests"),
        }
    }
}

/// The protocol, limits and model ids of the connection `id`.
#[component]
pub fn ConnectionApiSettings(
    /// The connection's id.
    id: String,
    /// The connection as stored (updated by every edit).
    connection: Memo<Option<Connection>>,
) -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let connections = state.connections;
    let protocol = Memo::new(move |_| connection.with(|c| c.as_ref().map(Connection::protocol)));
    let limits = Memo::new(move |_| {
        connection.with(|c| c.as_ref().map(Connection::limits).unwrap_or_default())
    });
    let limit_errors = RwSignal::new(Vec::<LimitError>::new());
    let id_error = RwSignal::new(None::<(String, ModelIdError)>);
    let listing = RwSignal::new(None::<Vec<String>>);
    let list_error = RwSignal::new(None::<ListModelsError>);
    let reading = RwSignal::new(false);

    // The listing read earlier (this tab or another) for this connection.
    if let Some(conn) = connection.get_untracked() {
        spawn_local(async move {
            if let Some(stored) = models::listing_for(&conn).await {
                if listing.try_get_untracked().flatten().is_none() {
                    listing.set(Some(stored));
                }
            }
        });
    }

    let choose_protocol = {
        let id = id.clone();
        move |ev| {
            let value = event_target_value(&ev);
            if let Some(protocol) = Protocol::ALL.into_iter().find(|p| p.as_str() == value) {
                connections.edit(&id, |c| c.set_protocol(protocol));
                // Another protocol is another listing (and another model-list shape).
                listing.set(None);
            }
        }
    };
    let edit_limit = {
        let id = id.clone();
        move |field: LimitField, text: String| {
            let text = text.trim();
            let value = if text.is_empty() {
                Some(None)
            } else {
                text.parse::<u64>().ok().map(Some)
            };
            let Some(value) = value else {
                limit_errors.set(vec![match field {
                    LimitField::Rpm => LimitError::Rpm,
                    LimitField::Tpm => LimitError::Tpm,
                    LimitField::Concurrency => LimitError::Concurrency,
                }]);
                return;
            };
            let mut next = limits.get_untracked();
            field.write(&mut next, value);
            let problems = next.problems();
            if problems.is_empty() {
                connections.edit(&id, |c| {
                    // `problems` was empty: this cannot fail.
                    let _ = c.set_limits(next);
                });
            }
            limit_errors.set(problems);
        }
    };
    let set_id = {
        let id = id.clone();
        move |catalog: String, value: String| {
            let value = value.trim().to_string();
            let mut error = None;
            connections.edit(&id, |c| {
                if value.is_empty() {
                    c.clear_model_id(&catalog);
                } else if let Err(e) = c.set_model_id(&catalog, &value) {
                    error = Some((catalog.clone(), e));
                }
            });
            id_error.set(error);
        }
    };
    let read_list = {
        let id = id.clone();
        move |_| {
            if reading.get_untracked() {
                return;
            }
            let Some(conn) = connection.get_untracked() else {
                return;
            };
            let key = connections
                .keys
                .with_untracked(|keys| keys.get(&id).cloned())
                .unwrap_or_default();
            reading.set(true);
            list_error.set(None);
            spawn_local(async move {
                match models::read_listing(&conn, &key).await {
                    Ok(ids) => listing.set(Some(ids)),
                    Err(error) => list_error.set(Some(error)),
                }
                reading.set(false);
            });
        }
    };

    let needed = Memo::new(move |_| {
        state
            .book
            .with(|book| needed_models(&book.routes, &TaskType::ALL))
    });
    let missing = Memo::new(move |_| {
        let needed = needed.get();
        let needed: Vec<&str> = needed.iter().map(String::as_str).collect();
        connection.with(|c| {
            c.as_ref().map_or_else(Vec::new, |c| {
                listing.with(|listed| missing_models(c, &needed, listed.as_deref()))
            })
        })
    });
    let datalist_id = format!("conn-models-{id}");
    let set_row_id = set_id.clone();

    view! {
        <fieldset class="ds-conn-api" data-testid="conn-api">
            <legend>{t("接口与限额", "API and limits")}</legend>
            <div class="ds-row">
                <div class="ds-field">
                    <label for="conn-protocol">{t("协议", "Protocol")}</label>
                    <select id="conn-protocol" data-testid="conn-protocol" on:change=choose_protocol>
                        {Protocol::ALL.into_iter().map(|p| view! {
                            <option value=p.as_str() selected=move || protocol.get() == Some(p)>
                                {move || p.label(lang.get())}
                            </option>
                        }).collect_view()}
                    </select>
                    <span class="ds-field__hint">{t(
                        "OpenAI 兼容接口发往 /chat/completions；Anthropic Messages 发往 /v1/messages（Base URL 已以 /v1 结尾时不再重复）。",
                        "OpenAI-compatible calls go to /chat/completions; Anthropic Messages to /v1/messages (not doubled when the base URL already ends in /v1).",
                    )}</span>
                </div>
                {[LimitField::Rpm, LimitField::Tpm, LimitField::Concurrency].into_iter().map(|field| {
                    let edit_limit = edit_limit.clone();
                    view! {
                        <div class="ds-field">
                            <label for=field.id()>{move || field.label(lang.get())}</label>
                            <input
                                id=field.id()
                                data-testid=field.id()
                                type="number"
                                min="1"
                                inputmode="numeric"
                                placeholder=move || lang.get().pick("未知", "unknown")
                                prop:value=move || limits.with(|l| field.read(l).map(|v| v.to_string()).unwrap_or_default())
                                on:change=move |ev| edit_limit(field, event_target_value(&ev))
                            />
                        </div>
                    }
                }).collect_view()}
            </div>
            <p class="ds-field__hint">{t(
                "留空表示未知。此连接上的所有调用（批量、分镜流水线、视频）都按这些限额排队。",
                "Leave empty for unknown. Every call on this connection (batches, the storyboard pipeline, video) is paced by these limits.",
            )}</p>
            <div role="alert">
                {move || limit_errors.get().into_iter().map(|e| view! {
                    <p class="ds-field__error" data-testid="conn-limit-error">{move || e.message(lang.get())}</p>
                }).collect_view()}
            </div>

            <h4>{t("模型 ID", "Model ids")}</h4>
            <datalist id=datalist_id.clone()>
                {move || listing.get().unwrap_or_default().into_iter().map(|m| view! { <option value=m/> }).collect_view()}
            </datalist>
            <table class="ds-table ds-conn-models" data-testid="conn-models">
                <thead><tr>
                    <th scope="col">{t("路由使用的模型", "Model the routes use")}</th>
                    <th scope="col">{t("此连接发送的 ID", "Id this connection sends")}</th>
                </tr></thead>
                <tbody>
                    <For each=move || needed.get() key=|m| m.clone() children=move |catalog: String| {
                        let set_id = set_row_id.clone();
                        let shown = catalog.clone();
                        let for_value = catalog.clone();
                        let input_id = format!("conn-model-{catalog}");
                        let row_model = catalog.clone();
                        view! {
                            <tr data-testid="conn-model-row" data-model=row_model>
                                <td><label for=input_id.clone()>{shown}</label></td>
                                <td>
                                    <input
                                        id=input_id
                                        data-testid="conn-model-id"
                                        type="text"
                                        spellcheck="false"
                                        autocomplete="off"
                                        list=datalist_id.clone()
                                        prop:value=move || connection.with(|c| c.as_ref().map(|c| c.model_id(&for_value).to_string()).unwrap_or_default())
                                        on:change=move |ev| set_id(catalog.clone(), event_target_value(&ev))
                                    />
                                </td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
            {move || id_error.get().map(|(model, e)| view! {
                <p class="ds-field__error" role="alert" data-testid="conn-model-error">{format!("{model}: {}", e.message(lang.get()))}</p>
            })}
            <div class="ds-actions">
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="conn-list-models"
                    disabled=move || reading.get() on:click=read_list>
                    {move || if reading.get() { lang.get().pick("读取中…", "Reading…") } else { lang.get().pick("读取模型列表", "Read the model list") }}
                </button>
                <span class="ds-field__hint" data-testid="conn-listing-count">{move || listing.get().map(|l| match lang.get() {
                    Lang::ZhCn => format!("服务商列出 {} 个模型。", l.len()),
                    Lang::En => format!("The provider lists {} models.", l.len()),
                })}</span>
            </div>
            <div role="status" aria-live="polite">
                {move || list_error.get().map(|e| view! {
                    <p class="ds-alert ds-alert--error" data-testid="conn-list-error" data-kind=e.kind()>{e.message(lang.get())}</p>
                })}
                {move || missing.get().into_iter().map(|m| {
                    let set_id = set_id.clone();
                    let shown_lang = lang.get();
                    let fix = m.fix().map(str::to_string);
                    let catalog = m.catalog_model.clone();
                    view! {
                        <div class="ds-alert ds-alert--warn" data-testid="conn-missing-model" data-model=m.catalog_model.clone()>
                            <p>{m.message(shown_lang)}</p>
                            {fix.map(|fix| {
                                let label = fix.clone();
                                view! {
                                    <button type="button" class="ds-btn ds-btn--small" data-testid="conn-accept-model"
                                        on:click=move |_| set_id(catalog.clone(), fix.clone())>
                                        {move || match lang.get() {
                                            Lang::ZhCn => format!("改用 {label}"),
                                            Lang::En => format!("Use {label}"),
                                        }}
                                    </button>
                                }
                            })}
                        </div>
                    }
                }).collect_view()}
            </div>
        </fieldset>
    }
}
