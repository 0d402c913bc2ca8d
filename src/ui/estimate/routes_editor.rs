//! The routes editor: which model, with which settings, serves each task type.
//!
//! Temperatures go through [`Temperature::parse`] and every edited route through
//! [`RouteTable::set_route`], which checks it with [`Route::problems`]; a refused value is shown
//! at its field and leaves the book unchanged.

use crate::domain::cost::pricing::Resolution;
use crate::domain::i18n::Lang;
use crate::domain::provider::routing::{
    ResponseFormat, Route, RouteError, RouteSettings, RouteTable, TaskType, Temperature,
};
use crate::ui::common::book_editing::{edit_book, BookField, ConfirmButton, FieldError};
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::{use_app_state, AppState};
use leptos::prelude::*;

/// The routes editor: one row per task type with its model, temperature, `max_tokens`,
/// response format and fallbacks (the video route: clip length and resolution), and a reset to
/// the seed routes.
#[component]
pub fn RoutesEditor() -> impl IntoView {
    let state = use_app_state();
    // Bumped by a reset, so that rows start afresh and drop what was typed.
    let generation = RwSignal::new(0u32);
    let reset = move |()| {
        state.update_book(|book| book.routes = RouteTable::seed_defaults());
        generation.update(|generation| *generation += 1);
    };
    let rows = move || {
        generation.track();
        TaskType::ALL
            .into_iter()
            .map(|task| view! { <RouteRow task/> })
            .collect_view()
    };
    view! {
        <div class="ds-editor" data-testid="routes-editor">
            <div class="ds-editor__scroll">
                <table class="ds-table ds-editor__table">
                    <caption class="ds-visually-hidden">{t("模型路由", "Model routes")}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t("任务", "Task")}</th>
                            <th scope="col">{t("模型", "Model")}</th>
                            <th scope="col">{t("温度", "Temperature")}</th>
                            <th scope="col">"max_tokens"</th>
                            <th scope="col">{t("输出格式", "Response format")}</th>
                            <th scope="col">{t("备用模型（逗号分隔）", "Fallbacks (comma-separated)")}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <ConfirmButton
                testid="routes-reset"
                label=Signal::derive(t("重置为种子路由", "Reset routes to seed defaults"))
                on_confirm=reset
            />
        </div>
    }
}

/// The shape of a route's settings, which decides the row's cells.
#[derive(Clone, Debug, PartialEq)]
enum Shape {
    /// A chat route answering in text or any JSON object (both offered in a select).
    Chat { json_object: bool },
    /// A chat route bound to a JSON schema (shown, not edited here).
    Schema(String),
    /// A video route.
    Video,
}

/// One task's row.
#[component]
fn RouteRow(task: TaskType) -> impl IntoView {
    let state = use_app_state();
    let book = state.book;
    let lang = use_lang();
    let name = task.as_str();
    // The task's own route, or `None` when it uses the default route.
    let own = Memo::new(move |_| {
        book.with(|book| {
            book.routes
                .routes()
                .iter()
                .find(|route| route.task == task)
                .cloned()
        })
    });
    let route = Memo::new(move |_| book.with(|book| book.routes.route(task).clone()));
    let shape = Memo::new(move |_| {
        route.with(|route| match &route.settings {
            RouteSettings::Video(_) => Shape::Video,
            RouteSettings::Chat(chat) => match &chat.response_format {
                ResponseFormat::Text => Shape::Chat { json_object: false },
                ResponseFormat::JsonObject => Shape::Chat { json_object: true },
                ResponseFormat::JsonSchema { name, .. } => Shape::Schema(name.clone()),
            },
        })
    });
    // "Storyboard temperature": the task names a field that has no visible label.
    let label = move |zh: &'static str, en: &'static str| {
        Signal::derive(move || {
            let lang = lang.get();
            match lang {
                Lang::ZhCn => format!("{}{zh}", task.label(lang)),
                Lang::En => format!("{} {en}", task.label(lang)),
            }
        })
    };
    let text = move |part: fn(&Route) -> String| Signal::derive(move || route.with(part));
    let commit = move |change: fn(&mut Route, &str) -> Result<(), Vec<RouteError>>| {
        move |typed: String| {
            edit_route(state, task, |route| change(route, &typed)).map_err(route_field_error)
        }
    };

    let chat_cells = move || {
        view! {
            <td>
                <BookField
                    id=format!("route-temperature-{name}")
                    testid=format!("route-temperature-{name}")
                    label=label("的温度（0–2）", "temperature (0–2)")
                    current=text(|route| {
                        route.chat_settings().map(|chat| chat.temperature.to_string()).unwrap_or_default()
                    })
                    commit=commit(set_temperature)
                    inputmode="decimal"
                />
            </td>
            <td>
                <BookField
                    id=format!("route-max-tokens-{name}")
                    testid=format!("route-max-tokens-{name}")
                    label=label("的 max_tokens", "max_tokens")
                    current=text(|route| {
                        route.chat_settings().map(|chat| chat.max_tokens.to_string()).unwrap_or_default()
                    })
                    commit=commit(set_max_tokens)
                    inputmode="numeric"
                />
            </td>
        }
    };
    let format_cell = move || match shape.get() {
        Shape::Chat { json_object } => {
            let change = move |ev| {
                let format = match event_target_value(&ev).as_str() {
                    "json_object" => ResponseFormat::JsonObject,
                    _ => ResponseFormat::Text,
                };
                let _ = edit_route(state, task, |route| {
                    if let RouteSettings::Chat(chat) = &mut route.settings {
                        chat.response_format = format;
                    }
                    Ok(())
                });
            };
            view! {
                <td>
                    <select
                        id=format!("route-format-{name}")
                        data-testid=format!("route-format-{name}")
                        aria-label=label("的输出格式", "response format")
                        on:change=change
                    >
                        <option value="text" prop:selected=!json_object>{t("文本", "text")}</option>
                        <option value="json_object" prop:selected=json_object>"json_object"</option>
                    </select>
                </td>
            }
            .into_any()
        }
        Shape::Schema(schema) => view! {
            <td class="ds-mono" data-testid=format!("route-format-{name}")>
                {format!("json_schema: {schema}")}
            </td>
        }
        .into_any(),
        Shape::Video => view! { <td>"—"</td> }.into_any(),
    };
    let is_video = Memo::new(move |_| shape.with(|shape| *shape == Shape::Video));
    let settings_cells = move || {
        match is_video.get() {
        false => chat_cells().into_any(),
        true => view! {
            <td colspan="2">
                <div class="ds-editor__video">
                    <BookField
                        id=format!("route-seconds-{name}")
                        testid=format!("route-seconds-{name}")
                        label=Signal::derive(move || lang.get().pick("每段秒数", "Seconds per clip").to_owned())
                        visible_label=true
                        current=text(|route| {
                            route.video_settings().map(|video| video.seconds_per_clip.to_string()).unwrap_or_default()
                        })
                        commit=commit(set_seconds)
                        inputmode="numeric"
                    />
                    <ResolutionSelect task route/>
                </div>
            </td>
        }
        .into_any(),
    }
    };
    let uses_default = move || {
        own.with(Option::is_none).then(|| {
            view! { <span class="ds-tag">{t("使用默认路由", "uses the default route")}</span> }
        })
    };
    let endpoint = move || {
        route.with(|route| route.endpoint.clone()).map(|endpoint| {
            view! {
                <span class="ds-field__hint ds-mono" data-testid=format!("route-endpoint-{name}")>
                    {endpoint}
                </span>
            }
        })
    };

    view! {
        <tr data-testid=format!("route-row-{name}")>
            <th scope="row">{move || task.label(lang.get())} " " {uses_default}</th>
            <td>
                <BookField
                    id=format!("route-model-{name}")
                    testid=format!("route-model-{name}")
                    label=label("的模型", "model")
                    current=text(|route| route.model.clone())
                    commit=commit(set_model)
                />
                {endpoint}
            </td>
            {settings_cells}
            {format_cell}
            <td>
                <BookField
                    id=format!("route-fallbacks-{name}")
                    testid=format!("route-fallbacks-{name}")
                    label=label("的备用模型（逗号分隔）", "fallbacks (comma-separated)")
                    current=text(|route| route.fallbacks.join(", "))
                    commit=commit(set_fallbacks)
                />
            </td>
        </tr>
    }
}

/// The video route's resolution.
#[component]
fn ResolutionSelect(task: TaskType, route: Memo<Route>) -> impl IntoView {
    let state = use_app_state();
    let name = task.as_str();
    let chosen = Memo::new(move |_| {
        route.with(|route| route.video_settings().map(|video| video.resolution))
    });
    let change = move |ev| {
        let Some(resolution) = Resolution::parse(&event_target_value(&ev)) else {
            return;
        };
        let _ = edit_route(state, task, |route| {
            if let RouteSettings::Video(video) = &mut route.settings {
                video.resolution = resolution;
            }
            Ok(())
        });
    };
    view! {
        <div class="ds-field ds-editor__field">
            <label for=format!("route-resolution-{name}")>{t("分辨率", "Resolution")}</label>
            <select
                id=format!("route-resolution-{name}")
                data-testid=format!("route-resolution-{name}")
                on:change=change
            >
                {Resolution::ALL
                    .into_iter()
                    .map(|resolution| {
                        view! {
                            <option
                                value=resolution.as_str()
                                prop:selected=move || chosen.get() == Some(resolution)
                            >
                                {resolution.as_str()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// Changes the route of `task` (a task without its own route starts from the default route's
/// settings); refused with the domain's problems when the changed route is invalid.
fn edit_route(
    state: AppState,
    task: TaskType,
    change: impl FnOnce(&mut Route) -> Result<(), Vec<RouteError>>,
) -> Result<(), Vec<RouteError>> {
    edit_book(state, |book| {
        let mut route = book.routes.route(task).clone();
        route.task = task;
        change(&mut route)?;
        book.routes.set_route(route)
    })
}

/// The domain's problems as one message at the field.
fn route_field_error(problems: Vec<RouteError>) -> FieldError {
    FieldError::new(|lang: Lang| {
        problems
            .iter()
            .map(|problem| problem.message(lang))
            .collect::<Vec<_>>()
            .join(lang.pick("；", "; "))
    })
}

fn set_model(route: &mut Route, text: &str) -> Result<(), Vec<RouteError>> {
    route.model = text.trim().to_owned();
    Ok(())
}

fn set_temperature(route: &mut Route, text: &str) -> Result<(), Vec<RouteError>> {
    let temperature = Temperature::parse(text).map_err(|error| vec![error])?;
    if let RouteSettings::Chat(chat) = &mut route.settings {
        chat.temperature = temperature;
    }
    Ok(())
}

fn set_max_tokens(route: &mut Route, text: &str) -> Result<(), Vec<RouteError>> {
    let max_tokens = text
        .trim()
        .parse::<u32>()
        .map_err(|_| vec![RouteError::MaxTokensOutOfRange(route.task)])?;
    if let RouteSettings::Chat(chat) = &mut route.settings {
        chat.max_tokens = max_tokens;
    }
    Ok(())
}

fn set_seconds(route: &mut Route, text: &str) -> Result<(), Vec<RouteError>> {
    let seconds = text
        .trim()
        .parse::<u32>()
        .map_err(|_| vec![RouteError::ClipSecondsOutOfRange(route.task)])?;
    if let RouteSettings::Video(video) = &mut route.settings {
        video.seconds_per_clip = seconds;
    }
    Ok(())
}

/// Fallbacks typed as `a, b`: blank pieces (a trailing comma while typing) are ignored.
fn set_fallbacks(route: &mut Route, text: &str) -> Result<(), Vec<RouteError>> {
    route.fallbacks = text
        .split([',', '，'])
        .map(str::trim)
        .filter(|model| !model.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(())
}
