//! The price catalog editor: one price set's models and prices, edited in place, plus LiteLLM
//! import and export and a reset to the shipped sets.
//!
//! Every edit goes through the domain ([`PriceSet::set_price`], [`PriceSet::upsert`],
//! [`import_litellm`]); a refused value is shown at its field and leaves the book unchanged.

use crate::domain::cost::litellm::{export_litellm, import_litellm, ImportDiagnostic};
use crate::domain::cost::money::{DecimalError, Micros};
use crate::domain::cost::pricing::{
    ModelPrice, PriceError, PriceField, PriceSet, Resolution, VideoUnit,
};
use crate::domain::i18n::Lang;
use crate::ui::common::book_editing::{dom_id, edit_book, BookField, ConfirmButton, FieldError};
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::{use_app_state, AppState};
use crate::web::files::{download_text, picked_file, read_text, FileError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// The largest LiteLLM file read: the full upstream file is about 1 MB.
const IMPORT_CAP_BYTES: f64 = 5.0 * 1024.0 * 1024.0;

/// The prices edited in the table, in column order, with the suffix of their test ids.
const EDITED_FIELDS: [(PriceField, &str); 5] = [
    (PriceField::Input, "input"),
    (PriceField::Output, "output"),
    (PriceField::CachedInput, "cached-input"),
    (PriceField::CacheWrite, "cache-write"),
    (PriceField::PerRequest, "per-request"),
];

/// What became of the last picked file.
#[derive(Clone, Debug, PartialEq)]
enum ImportOutcome {
    /// The file could not be read (too large, unreadable); nothing changed.
    Unread(FileError),
    /// The file is not a LiteLLM price file (not JSON, not an object); nothing changed.
    Refused(Vec<ImportDiagnostic>),
    /// The readable entries were added to (or replaced in) the set.
    Imported {
        set_name: String,
        count: usize,
        diagnostics: Vec<ImportDiagnostic>,
        refused: Vec<PriceError>,
    },
}

/// What became of the last export.
#[derive(Clone, Debug, PartialEq)]
enum ExportOutcome {
    /// The file was offered; the models priced in yuan were left out.
    Offered {
        filename: String,
        skipped: Vec<String>,
    },
    /// The browser refused the download.
    Failed,
}

/// The price catalog editor: pick a price set, edit its models' prices in place (a refused
/// value is shown at its field and the book keeps the last valid one), remove and add models,
/// import LiteLLM's price file into the set, export the set in that format, and reset every
/// set to the shipped prices.
#[component]
pub fn CatalogEditor() -> impl IntoView {
    let state = use_app_state();
    let book = state.book;
    let selected = RwSignal::new(String::new());
    // The chosen set, or the first one when the choice no longer exists (after a reset).
    let set_id = Memo::new(move |_| {
        book.with(|book| {
            selected
                .with(|id| book.price_set(id))
                .or(book.price_sets.first())
                .map(|set| set.id.clone())
        })
    });
    let sets = Memo::new(move |_| {
        book.with(|book| {
            book.price_sets
                .iter()
                .map(|set| (set.id.clone(), set.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    // Bumped by a reset or an import, so that rows start afresh and drop what was typed.
    let generation = RwSignal::new(0u32);
    let rows = Memo::new(move |_| {
        let id = set_id.get().unwrap_or_default();
        let generation = generation.get();
        book.with(|book| {
            book.price_set(&id)
                .map(|set| {
                    set.prices
                        .iter()
                        .map(|price| (generation, id.clone(), price.model.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let reset = move |()| {
        state.update_book(|book| book.price_sets = PriceSet::defaults());
        generation.update(|generation| *generation += 1);
    };

    view! {
        <div class="ds-editor" data-testid="catalog-editor">
            <div class="ds-editor__bar">
                <div class="ds-field">
                    <label for="catalog-set">{t("价格表", "Price set")}</label>
                    <select
                        id="catalog-set"
                        data-testid="catalog-set-select"
                        on:change=move |ev| selected.set(event_target_value(&ev))
                    >
                        <For
                            each=move || sets.get()
                            key=|set| set.clone()
                            children=move |(id, name)| {
                                let value = id.clone();
                                view! {
                                    <option
                                        value=value
                                        prop:selected=move || set_id.with(|s| s.as_ref() == Some(&id))
                                    >
                                        {name}
                                    </option>
                                }
                            }
                        />
                    </select>
                </div>
                <ConfirmButton
                    testid="catalog-reset"
                    label=Signal::derive(t("重置为内置价格", "Reset prices to shipped defaults"))
                    on_confirm=reset
                />
            </div>
            <div class="ds-editor__scroll">
                <table class="ds-table ds-editor__table" data-testid="catalog-table">
                    <caption class="ds-visually-hidden">{t("模型价格", "Model prices")}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t("模型", "Model")}</th>
                            <th scope="col">{t("提供方", "Provider")}</th>
                            <th scope="col">{t("币种", "Currency")}</th>
                            <th scope="col">{t("输入 / 百万 token", "Input / MTok")}</th>
                            <th scope="col">{t("输出 / 百万 token", "Output / MTok")}</th>
                            <th scope="col">{t("缓存命中 / 百万 token", "Cached input / MTok")}</th>
                            <th scope="col">{t("缓存写入 / 百万 token", "Cache write / MTok")}</th>
                            <th scope="col">{t("每次请求", "Per request")}</th>
                            <th scope="col">{t("视频", "Video")}</th>
                            <th scope="col">{t("来源与日期", "Source and date")}</th>
                            <th scope="col">
                                <span class="ds-visually-hidden">{t("操作", "Actions")}</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || rows.get()
                            key=|row| row.clone()
                            children=move |(_, set_id, model)| view! { <ModelRow set_id model/> }
                        />
                    </tbody>
                </table>
            </div>
            <AddModel set_id/>
            <ImportExport set_id generation/>
        </div>
    }
}

/// One model's row: its prices as fields, its video price, source and a remove button.
#[component]
fn ModelRow(set_id: String, model: String) -> impl IntoView {
    let state = use_app_state();
    let book = state.book;
    let lang = use_lang();
    let entry = {
        let (set_id, model) = (set_id.clone(), model.clone());
        Memo::new(move |_| {
            book.with(|book| {
                book.price_set(&set_id)?
                    .prices
                    .iter()
                    .find(|price| price.model == model)
                    .cloned()
            })
        })
    };
    let read = move |part: fn(&ModelPrice) -> String| {
        move || entry.with(|entry| entry.as_ref().map(part).unwrap_or_default())
    };
    let fields = EDITED_FIELDS
        .into_iter()
        .map(|(field, suffix)| {
            let (set_id, model) = (set_id.clone(), model.clone());
            let label = {
                let model = model.clone();
                Signal::derive(move || price_label(&model, field, lang.get()))
            };
            let current = Signal::derive(move || {
                entry.with(|entry| {
                    entry
                        .as_ref()
                        .and_then(|entry| entry.get(field))
                        .map(Micros::to_decimal)
                        .unwrap_or_default()
                })
            });
            let id = dom_id(&format!("catalog-{set_id}-{model}-{suffix}"));
            let testid = format!("catalog-price-{model}-{suffix}");
            let commit = move |text: String| commit_price(state, &set_id, &model, field, &text);
            view! {
                <td>
                    <BookField
                        id
                        testid
                        label
                        current
                        commit
                        placeholder="—"
                        inputmode="decimal"
                    />
                </td>
            }
        })
        .collect_view();
    let video =
        move || entry.with(|entry| entry.as_ref().map(|entry| video_text(entry, lang.get())));
    let remove = {
        let (set_id, model) = (set_id.clone(), model.clone());
        move |_| {
            state.update_book(|book| {
                if let Some(set) = book.price_sets.iter_mut().find(|set| set.id == set_id) {
                    set.remove(&model);
                }
            })
        }
    };
    let remove_label = {
        let model = model.clone();
        move || match lang.get() {
            Lang::ZhCn => format!("删除 {model}"),
            Lang::En => format!("Remove {model}"),
        }
    };
    view! {
        <tr data-testid=format!("catalog-row-{model}")>
            <th scope="row" class="ds-mono">{model.clone()}</th>
            <td>{read(|entry| entry.provider.clone())}</td>
            <td>{read(|entry| entry.currency.code().to_owned())}</td>
            {fields}
            <td data-testid=format!("catalog-video-{model}")>{video}</td>
            <td class="ds-editor__source" data-testid=format!("catalog-source-{model}")>
                {read(|entry| entry.source.clone())}
                " "
                <span class="ds-tag">{read(|entry| entry.as_of.clone())}</span>
            </td>
            <td>
                <button
                    type="button"
                    class="ds-btn ds-btn--ghost ds-btn--small"
                    data-testid=format!("catalog-remove-{model}")
                    aria-label=remove_label
                    on:click=remove
                >
                    {t("删除", "Remove")}
                </button>
            </td>
        </tr>
    }
}

/// The accessible name of a price field: "gpt-4.1 input price".
fn price_label(model: &str, field: PriceField, lang: Lang) -> String {
    let field = field.label(lang);
    match lang {
        Lang::ZhCn => format!("{model} 的{field}"),
        Lang::En => format!("{model} {field}"),
    }
}

/// Stores a typed price (blank removes it), or says why not.
fn commit_price(
    state: AppState,
    set_id: &str,
    model: &str,
    field: PriceField,
    text: &str,
) -> Result<(), FieldError> {
    let value = if text.trim().is_empty() {
        None
    } else {
        let price = Micros::parse(text).map_err(|error| {
            FieldError::new(|lang| price_text_error(model, field, &error, lang))
        })?;
        Some(price)
    };
    edit_book(state, |book| {
        let set = book
            .price_sets
            .iter_mut()
            .find(|set| set.id == set_id)
            .ok_or_else(|| PriceError::UnknownModel(model.into()))?;
        set.set_price(model, field, value)
    })
    .map_err(|error| FieldError::new(|lang| error.message(lang)))
}

/// A price text that is not a number, worded like [`PriceError::message`].
fn price_text_error(model: &str, field: PriceField, error: &DecimalError, lang: Lang) -> String {
    let (field, problem) = (field.label(lang), error.message(lang));
    match (model.is_empty(), lang) {
        (true, Lang::ZhCn) => format!("{field}{problem}"),
        (true, Lang::En) => format!("the {field} {problem}"),
        (false, Lang::ZhCn) => format!("{model} 的{field}{problem}"),
        (false, Lang::En) => format!("{model}: the {field} {problem}"),
    }
}

/// A video price as one line: "$0.05 / s (720p, 1080p, 4k)".
fn video_text(entry: &ModelPrice, lang: Lang) -> String {
    let Some(video) = entry.video else {
        return "—".into();
    };
    let unit = match video.unit {
        VideoUnit::PerSecond => lang.pick("每秒", "per second"),
        VideoUnit::PerClip => lang.pick("每段", "per clip"),
    };
    let symbol = entry.currency.symbol();
    let mut parts: Vec<(Micros, Vec<&str>)> = Vec::new();
    for resolution in Resolution::ALL {
        if let Some(price) = video.at(resolution) {
            match parts.iter_mut().find(|(p, _)| *p == price) {
                Some((_, names)) => names.push(resolution.as_str()),
                None => parts.push((price, vec![resolution.as_str()])),
            }
        }
    }
    if parts.is_empty() {
        return unit.into();
    }
    parts
        .iter()
        .map(|(price, names)| {
            format!(
                "{symbol}{} {unit} ({})",
                price.to_decimal(),
                names.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The form that adds a model priced per token.
#[component]
fn AddModel(set_id: Memo<Option<String>>) -> impl IntoView {
    let state = use_app_state();
    let book = state.book;
    let lang = use_lang();
    let name = RwSignal::new(String::new());
    let provider = RwSignal::new(String::new());
    let input = RwSignal::new(String::new());
    let output = RwSignal::new(String::new());
    let name_error = RwSignal::new(None::<FieldError>);
    let input_error = RwSignal::new(None::<FieldError>);
    let output_error = RwSignal::new(None::<FieldError>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = set_id.get_untracked() else {
            return;
        };
        let model = name.get_untracked().trim().to_owned();
        let parse = |text: String, field: PriceField| {
            Micros::parse(&text)
                .map_err(|error| FieldError::new(|lang| price_text_error("", field, &error, lang)))
        };
        let input_price = parse(input.get_untracked(), PriceField::Input);
        let output_price = parse(output.get_untracked(), PriceField::Output);
        input_error.set(input_price.clone().err());
        output_error.set(output_price.clone().err());
        name_error.set(None);
        let (Ok(input_price), Ok(output_price)) = (input_price, output_price) else {
            return;
        };
        let exists = book.with_untracked(|book| {
            book.price_set(&id)
                .is_some_and(|set| set.prices.iter().any(|price| price.answers_to(&model)))
        });
        if exists {
            name_error.set(Some(FieldError::new(|lang| match lang {
                Lang::ZhCn => format!("价格表中已有 {model}，请直接修改该行"),
                Lang::En => format!("{model} is already in this price set; edit its row"),
            })));
            return;
        }
        let price = ModelPrice {
            source: lang
                .get_untracked()
                .pick("手动录入", "Entered by hand")
                .into(),
            as_of: this_month(),
            ..ModelPrice::per_token(
                &model,
                provider.get_untracked().trim(),
                input_price,
                output_price,
            )
        };
        let added = edit_book(state, |book| {
            match book.price_sets.iter_mut().find(|set| set.id == id) {
                Some(set) => set.upsert(price),
                None => Ok(()),
            }
        });
        match added {
            Ok(()) => {
                for text in [name, provider, input, output] {
                    text.set(String::new());
                }
            }
            // The prices parsed, so the refusal is about the name or a cap: show it at the
            // field it names.
            Err(error) => {
                let message = FieldError::new(|lang| error.message(lang));
                match &error {
                    PriceError::Field {
                        field: PriceField::Output,
                        ..
                    } => output_error.set(Some(message)),
                    PriceError::Field { .. } => input_error.set(Some(message)),
                    PriceError::EmptyModel | PriceError::UnknownModel(_) => {
                        name_error.set(Some(message))
                    }
                }
            }
        }
    };

    view! {
        <form class="ds-editor__add" data-testid="catalog-add-form" on:submit=submit>
            <fieldset class="ds-fieldset">
                <legend>{t("添加模型（按 token 计价）", "Add a model (priced per token)")}</legend>
                <div class="ds-editor__add-fields">
                    <FormField
                        id="catalog-add-model"
                        label=Signal::derive(t("模型名称", "Model name"))
                        text=name
                        error=name_error
                    />
                    <FormField
                        id="catalog-add-provider"
                        label=Signal::derive(t("提供方", "Provider"))
                        text=provider
                        error=RwSignal::new(None)
                    />
                    <FormField
                        id="catalog-add-input"
                        label=Signal::derive(t("输入价格 / 百万 token", "Input / MTok"))
                        text=input
                        error=input_error
                        decimal=true
                    />
                    <FormField
                        id="catalog-add-output"
                        label=Signal::derive(t("输出价格 / 百万 token", "Output / MTok"))
                        text=output
                        error=output_error
                        decimal=true
                    />
                </div>
                <button type="submit" class="ds-btn ds-btn--small" data-testid="catalog-add">
                    {t("添加", "Add")}
                </button>
            </fieldset>
        </form>
    }
}

/// A labelled text field of the add form, with its message when refused.
#[component]
fn FormField(
    id: &'static str,
    label: Signal<&'static str>,
    text: RwSignal<String>,
    error: RwSignal<Option<FieldError>>,
    #[prop(optional)] decimal: bool,
) -> impl IntoView {
    let lang = use_lang();
    let error_id = format!("{id}-error");
    let class = move || {
        if error.with(Option::is_some) {
            "ds-field ds-field--invalid"
        } else {
            "ds-field"
        }
    };
    let described_by = {
        let error_id = error_id.clone();
        move || error.with(Option::is_some).then(|| error_id.clone())
    };
    view! {
        <div class=class>
            <label for=id>{move || label.get()}</label>
            <input
                type="text"
                id=id
                data-testid=id
                autocomplete="off"
                inputmode=decimal.then_some("decimal")
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby=described_by
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            {move || {
                error
                    .get()
                    .map(|error| {
                        view! {
                            <span class="ds-field__error" id=error_id.clone() data-testid=format!("{id}-error")>
                                {move || error.message(lang.get()).to_owned()}
                            </span>
                        }
                    })
            }}
        </div>
    }
}

/// The current month as `2026-11`, the catalog's date format.
fn this_month() -> String {
    let now = js_sys::Date::new_0();
    format!("{:04}-{:02}", now.get_full_year(), now.get_month() + 1)
}

/// LiteLLM import into the chosen set, and export of it.
#[component]
fn ImportExport(set_id: Memo<Option<String>>, generation: RwSignal<u32>) -> impl IntoView {
    let state = use_app_state();
    let book = state.book;
    let lang = use_lang();
    let imported = RwSignal::new(None::<ImportOutcome>);
    let exported = RwSignal::new(None::<ExportOutcome>);

    let on_pick = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else {
            return;
        };
        // Clears the input so that picking the same file again imports it again.
        if let Some(input) = ev
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.set_value("");
        }
        spawn_local(async move {
            let outcome = match read_text(&file, IMPORT_CAP_BYTES).await {
                Ok(text) => import_into_set(state, set_id.get_untracked(), &text),
                Err(error) => ImportOutcome::Unread(error),
            };
            if matches!(outcome, ImportOutcome::Imported { .. }) {
                generation.update(|generation| *generation += 1);
            }
            imported.set(Some(outcome));
        });
    };

    let export = move |_| {
        let Some(id) = set_id.get_untracked() else {
            return;
        };
        let Some(export) =
            book.with_untracked(|book| book.price_set(&id).map(|set| export_litellm(&set.prices)))
        else {
            return;
        };
        let filename = format!("prices-{id}.json");
        let outcome = match download_text(&filename, "application/json", &export.json) {
            Ok(()) => ExportOutcome::Offered {
                filename,
                skipped: export.skipped,
            },
            Err(_) => ExportOutcome::Failed,
        };
        exported.set(Some(outcome));
    };

    let import_report = move || {
        let outcome = imported.get()?;
        let lang = lang.get();
        Some(match outcome {
            ImportOutcome::Unread(error) => view! {
                <p class="ds-alert ds-alert--error" role="alert" data-testid="catalog-import-status">
                    {error.message(lang)}
                </p>
            }
            .into_any(),
            ImportOutcome::Refused(diagnostics) => {
                let messages = diagnostics.iter().map(|d| d.message(lang)).collect::<Vec<_>>().join("; ");
                let text = match lang {
                    Lang::ZhCn => format!("这不是 LiteLLM 价格文件，未做任何修改：{messages}"),
                    Lang::En => format!("This is not a LiteLLM price file; nothing was changed: {messages}"),
                };
                view! {
                    <p class="ds-alert ds-alert--error" role="alert" data-testid="catalog-import-status">
                        {text}
                    </p>
                }
                .into_any()
            }
            ImportOutcome::Imported { set_name, count, diagnostics, refused } => {
                let summary = match lang {
                    Lang::ZhCn => format!("已导入 {count} 个模型到 “{set_name}”"),
                    Lang::En => format!("Imported {count} models into \"{set_name}\""),
                };
                let rejected = diagnostics.iter().filter(|d| d.rejects_entry()).count() + refused.len();
                let heading = match lang {
                    Lang::ZhCn => format!("{rejected} 个条目未导入；提示如下："),
                    Lang::En => format!("{rejected} entries were not imported; notes:"),
                };
                let list = (!diagnostics.is_empty() || !refused.is_empty()).then(|| {
                    view! {
                        <div class="ds-alert ds-alert--warn">
                            <p>{heading}</p>
                            <ul data-testid="catalog-diagnostics">
                                {diagnostics.iter().map(|d| view! { <li>{d.message(lang)}</li> }).collect_view()}
                                {refused.iter().map(|e| view! { <li>{e.message(lang)}</li> }).collect_view()}
                            </ul>
                        </div>
                    }
                });
                view! {
                    <div role="status">
                        <p class="ds-alert ds-alert--ok" data-testid="catalog-import-status">{summary}</p>
                        {list}
                    </div>
                }
                .into_any()
            }
        })
    };

    let export_report = move || {
        let outcome = exported.get()?;
        let lang = lang.get();
        Some(match outcome {
            ExportOutcome::Offered { filename, skipped } if skipped.is_empty() => {
                let text = match lang {
                    Lang::ZhCn => format!("已导出 {filename}"),
                    Lang::En => format!("Exported {filename}"),
                };
                view! { <p class="ds-alert ds-alert--ok" role="status" data-testid="catalog-export-status">{text}</p> }
                    .into_any()
            }
            ExportOutcome::Offered { filename, skipped } => {
                let skipped = skipped.join(", ");
                let text = match lang {
                    Lang::ZhCn => format!("已导出 {filename}；以下模型以人民币计价，LiteLLM 格式无法表示，未导出：{skipped}"),
                    Lang::En => format!("Exported {filename}; left out (priced in yuan, which LiteLLM's format cannot hold): {skipped}"),
                };
                view! { <p class="ds-alert ds-alert--warn" role="status" data-testid="catalog-export-status">{text}</p> }
                    .into_any()
            }
            ExportOutcome::Failed => view! {
                <p class="ds-alert ds-alert--error" role="alert" data-testid="catalog-export-status">
                    {lang.pick("浏览器未能开始下载。", "The browser could not start the download.")}
                </p>
            }
            .into_any(),
        })
    };

    view! {
        <div class="ds-editor__io">
            <div class="ds-editor__bar">
                <div class="ds-field">
                    <label for="catalog-import">{t("导入 LiteLLM 价格文件（JSON，最大 5 MB）", "Import a LiteLLM price file (JSON, up to 5 MB)")}</label>
                    <input
                        type="file"
                        id="catalog-import"
                        data-testid="catalog-import"
                        accept=".json,application/json"
                        on:change=on_pick
                    />
                </div>
                <button type="button" class="ds-btn ds-btn--ghost ds-btn--small" data-testid="catalog-export" on:click=export>
                    {t("导出为 LiteLLM JSON", "Export as LiteLLM JSON")}
                </button>
            </div>
            {import_report}
            {export_report}
        </div>
    }
}

/// Reads a LiteLLM file into the set: the valid entries replace or join the set's models, each
/// rejected entry is reported; a file that is not a price file changes nothing.
fn import_into_set(state: AppState, set_id: Option<String>, text: &str) -> ImportOutcome {
    let (prices, mut diagnostics) = import_litellm(text);
    if diagnostics
        .iter()
        .any(|d| d.entry.is_none() && d.rejects_entry())
    {
        return ImportOutcome::Refused(diagnostics);
    }
    let set_id = set_id.unwrap_or_default();
    let mut count = 0;
    let mut set_name = set_id.clone();
    // Import validates every entry it returns, so `upsert` is not expected to refuse one; if
    // it does, the refusal is reported with the rest.
    let mut refused = Vec::new();
    let edited: Result<(), std::convert::Infallible> = edit_book(state, |book| {
        if let Some(set) = book.price_sets.iter_mut().find(|set| set.id == set_id) {
            set_name = set.name.clone();
            for price in prices {
                match set.upsert(price) {
                    Ok(()) => count += 1,
                    Err(error) => refused.push(error),
                }
            }
        }
        Ok(())
    });
    let Ok(()) = edited;
    // Rejected entries first, then the rounded prices that were kept.
    diagnostics.sort_by_key(|d| !d.rejects_entry());
    ImportOutcome::Imported {
        set_name,
        count,
        diagnostics,
        refused,
    }
}
