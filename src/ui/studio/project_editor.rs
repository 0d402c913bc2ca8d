//! The open project: its name and frame, its characters, its named versions, and its episodes,
//! scenes and shots, with the save status.
//!
//! The panels read and edit the project through its [`EditorModel`] (`editor_model.rs`).
//!
//! **Other tabs.** When another tab saves the open project, the stored copy is merged into this
//! one ([`apply_remote`]): the other tab's edit appears here and an edit in progress here is
//! kept. When the tab turns read-only, every field is disabled (the body is a disabled
//! `<fieldset>`).

use crate::domain::cost::money::Currency;
use crate::domain::i18n::Lang;
use crate::domain::project::{
    css_aspect_ratio, validate_name, Budget, Character, Project, ProjectMeta, Scene, SnapshotMeta,
    DEFAULT_ASPECT_RATIO,
};
use crate::domain::tabs::budget_share::left_of;
use crate::ui::common::book_editing::{ConfirmButton, FieldError};
use crate::ui::common::ledger_view::{exact_amount, StudioLedger};
use crate::ui::common::reveal::Reveal;
use crate::ui::i18n::{t, use_lang};
use crate::ui::studio::batch_panel::BatchService;
use crate::ui::studio::budget_share;
use crate::ui::studio::editor_model::{EditorModel, SceneHead};
use crate::ui::studio::shot_card::ShotGrid;
use crate::web::dom::{format_time, perf_measure};
use crate::web::drafts::{DraftError, DraftsEvent, SaveStatus};
use crate::web::tabs;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::rc::Rc;

/// The frames a project can be set to (the first is the default, vertical short drama).
const ASPECT_RATIOS: [(&str, &str, &str); 5] = [
    (DEFAULT_ASPECT_RATIO, "9:16 竖屏", "9:16 vertical"),
    ("3:4", "3:4 竖屏", "3:4 vertical"),
    ("1:1", "1:1 方形", "1:1 square"),
    ("4:3", "4:3 横屏", "4:3 landscape"),
    ("16:9", "16:9 横屏", "16:9 landscape"),
];

/// The save indicator: "已保存 / Saved", "正在保存… / Saving…", or the failure with its full
/// message and a retry (the edit stays in memory until a save succeeds).
#[component]
fn SaveIndicator(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let lang = use_lang();
    let state = move || match model.status.get() {
        SaveStatus::Idle => "idle",
        SaveStatus::Pending => "pending",
        SaveStatus::Saving => "saving",
        SaveStatus::Saved { .. } => "saved",
        SaveStatus::Error(_) => "error",
    };
    let label = move || match model.status.get() {
        SaveStatus::Idle => lang.get().pick("已保存", "Saved").to_owned(),
        status => status.label(lang.get()),
    };
    let failed = move || matches!(model.status.get(), SaveStatus::Error(_));
    let retry = move |_| {
        spawn_local(async move {
            let _ = model.flush().await;
        });
    };
    view! {
        <div class="ds-proj-status">
            <p
                class="ds-proj-status__text"
                class:ds-proj-status__text--error=failed
                data-testid="save-status"
                data-state=state
                role="status"
            >
                {label}
            </p>
            <Show when=failed>
                <button
                    type="button"
                    class="ds-btn ds-btn--small"
                    data-testid="save-retry"
                    on:click=retry
                >
                    {t("重试保存", "Retry saving")}
                </button>
            </Show>
        </div>
    }
}

/// How many lines a header field takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

/// A labelled text field (an input, or a textarea for [`Lines::Many`]) bound to one string of
/// the header.
fn header_field(
    model: EditorModel,
    lines: Lines,
    label: impl Fn() -> &'static str + Send + Sync + Copy + 'static,
    testid: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    commit: impl Fn(&mut Project, String) + Copy + 'static,
) -> impl IntoView {
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        model.edit(move |p, _| commit(p, text));
    };
    let control = match lines {
        Lines::One => view! {
            <input type="text" data-testid=testid autocomplete="off" prop:value=value on:input=on_input/>
        }
        .into_any(),
        Lines::Many => view! {
            <textarea rows="6" data-testid=testid prop:value=value on:input=on_input></textarea>
        }
        .into_any(),
    };
    view! {
        <label class="ds-field">
            <span class="ds-field__label">{label}</span>
            {control}
        </label>
    }
}

/// A labelled one-line text input bound to one string of the header.
fn header_input(
    model: EditorModel,
    label: impl Fn() -> &'static str + Send + Sync + Copy + 'static,
    testid: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    commit: impl Fn(&mut Project, String) + Copy + 'static,
) -> impl IntoView {
    header_field(model, Lines::One, label, testid, value, commit)
}

/// The project's spending cap: an amount and its currency. Every pipeline batch of the project
/// stops before the project's ledger total could pass it; what is left is shown here.
#[component]
fn ProjectBudget(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let lang = use_lang();
    let header = model.header;
    let ledger = use_context::<StudioLedger>();
    let service = use_context::<BatchService>();
    let initial = header.with_untracked(|h| h.budget);
    let text = RwSignal::new(initial.map(|b| b.amount.to_decimal()).unwrap_or_default());
    let currency = RwSignal::new(initial.map_or(Currency::Usd, |b| b.currency));
    let error = RwSignal::new(None::<FieldError>);
    let commit = move || match Budget::parse(currency.get_untracked(), &text.get_untracked()) {
        Ok(budget) => {
            error.set(None);
            model.edit(move |p, _| p.settings.budget = budget);
            if let Some(service) = service {
                service.project_budget_changed(&model.id(), budget);
            }
        }
        Err(e) => error.set(Some(FieldError::new(|l| {
            format!(
                "{}{}",
                l.pick(
                    "预算格式不对，例如 500 或 12.5：",
                    "The budget is not an amount, e.g. 500 or 12.5: "
                ),
                e.message(l)
            )
        }))),
    };
    let left = move || {
        let budget = header.with(|h| h.budget)?;
        let project = model.id();
        // Other tabs' spend too, as last counted (see `budget_share`).
        if let Some(service) = service {
            service.spent_changed.track();
        }
        let tallied = budget_share::spent(&project);
        let remaining = match ledger {
            Some(StudioLedger(all)) => all.with(|all| left_of(budget, all, &project, tallied)),
            None => left_of(budget, &[], &project, tallied),
        };
        let (remaining, cap) = (exact_amount(remaining), exact_amount(budget.money()));
        Some(match lang.get() {
            Lang::ZhCn => format!("剩余 {remaining} / 预算 {cap}（按本项目在账本中的花费计算）"),
            Lang::En => format!("{remaining} left of {cap} (the project's spend in the ledger)"),
        })
    };
    view! {
        <div class="ds-field" class:ds-field--invalid=move || error.with(Option::is_some)>
            <label for="proj-editor-budget">{t("项目预算（可空）", "Project budget (optional)")}</label>
            <div class="ds-budget-row">
                <input
                    id="proj-editor-budget"
                    type="text"
                    inputmode="decimal"
                    data-testid="editor-budget"
                    autocomplete="off"
                    aria-invalid=move || error.with(Option::is_some).then_some("true")
                    aria-describedby="proj-editor-budget-help"
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        commit();
                    }
                />
                <select
                    data-testid="editor-budget-currency"
                    aria-label=move || lang.get().pick("预算币种", "Budget currency")
                    on:change=move |ev| {
                        currency.set(if event_target_value(&ev) == "CNY" { Currency::Cny } else { Currency::Usd });
                        commit();
                    }
                >
                    <option value="USD" selected=move || currency.get() == Currency::Usd>"USD $"</option>
                    <option value="CNY" selected=move || currency.get() == Currency::Cny>"CNY ¥"</option>
                </select>
            </div>
            <span class="ds-field__hint" class:ds-field__error=move || error.with(Option::is_some) id="proj-editor-budget-help" data-testid="editor-budget-left" aria-live="polite">
                {move || match error.get() {
                    Some(e) => e.message(lang.get()).to_owned(),
                    None => left().unwrap_or_else(|| lang.get().pick(
                        "不设上限。设置后，本项目的批量任务会在可能超出预算前停止。",
                        "No cap. With one, this project's batches stop before they could pass it.",
                    ).to_owned()),
                }}
            </span>
        </div>
    }
}

/// The project's name (checked as it is typed), frame and style.
#[component]
fn ProjectSettings(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let lang = use_lang();
    let name_error = RwSignal::new(None::<FieldError>);
    let header = model.header;
    let on_name = move |ev| match validate_name(&event_target_value(&ev)) {
        Ok(name) => {
            name_error.set(None);
            model.edit(move |p, _| p.name = name);
        }
        Err(e) => name_error.set(Some(FieldError::new(|l| e.message(l)))),
    };
    view! {
        <div class="ds-proj-settings">
            <div class="ds-field" class:ds-field--invalid=move || name_error.with(Option::is_some)>
                <label for="proj-editor-name">{t("项目名称", "Project name")}</label>
                <input
                    id="proj-editor-name"
                    type="text"
                    data-testid="editor-name"
                    autocomplete="off"
                    aria-invalid=move || name_error.with(Option::is_some).then_some("true")
                    aria-describedby=move || {
                        name_error.with(Option::is_some).then_some("proj-editor-name-error")
                    }
                    prop:value=move || header.with(|h| h.name.clone())
                    on:input=on_name
                />
                {move || name_error.get().map(|e| view! {
                    <span class="ds-field__error" id="proj-editor-name-error" data-testid="editor-name-error">
                        {move || e.message(lang.get()).to_owned()}
                    </span>
                })}
            </div>
            <label class="ds-field">
                <span class="ds-field__label">{t("画幅", "Frame")}</span>
                <select
                    data-testid="editor-aspect"
                    prop:value=move || header.with(|h| h.aspect_ratio.clone())
                    on:change=move |ev| {
                        let ratio = event_target_value(&ev);
                        model.edit(move |p, _| p.settings.aspect_ratio = ratio);
                    }
                >
                    {move || {
                        let current = header.with_untracked(|h| h.aspect_ratio.clone());
                        let known = ASPECT_RATIOS.iter().any(|(v, ..)| *v == current);
                        let custom = (!known).then(|| view! {
                            <option value=current.clone() selected=true>{current.clone()}</option>
                        });
                        let options = ASPECT_RATIOS
                            .iter()
                            .map(|(value, zh, en)| view! {
                                <option value=*value selected=current == *value>
                                    {lang.get().pick(zh, en)}
                                </option>
                            })
                            .collect_view();
                        (custom, options)
                    }}
                </select>
            </label>
            {header_input(
                model,
                t("画面风格", "Visual style"),
                "editor-style",
                move || header.with(|h| h.style.clone()),
                |p, v| p.settings.style = v,
            )}
            <ProjectBudget model=model/>
        </div>
    }
}

/// The cast: one card per character, and a button to add one.
#[component]
fn CharacterList(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let header = model.header;
    let ids = move || {
        header.with(|h| {
            h.characters
                .iter()
                .map(|c| c.id.clone())
                .collect::<Vec<_>>()
        })
    };
    let add = move |_| {
        model.edit(|p, ids| {
            p.characters.push(Character {
                id: ids.next_id("c"),
                name: String::new(),
                description: String::new(),
                voice: String::new(),
                look: String::new(),
                reference_notes: String::new(),
            })
        });
    };
    view! {
        <section class="ds-proj-section" aria-labelledby="proj-cast-title">
            <h3 id="proj-cast-title">{t("角色", "Characters")}</h3>
            <Show when=move || header.with(|h| h.characters.is_empty())>
                <p class="ds-field__hint">{t("还没有角色。", "No characters yet.")}</p>
            </Show>
            <div class="ds-proj-cast">
                <For each=ids key=|id| id.clone() let:id>
                    <CharacterCard model id/>
                </For>
            </div>
            <button type="button" class="ds-btn ds-btn--ghost" data-testid="char-add" on:click=add>
                {t("添加角色", "Add character")}
            </button>
        </section>
    }
}

/// One character: name, description, voice, look and reference notes.
#[component]
fn CharacterCard(
    /// The open project.
    model: EditorModel,
    /// The character's id.
    id: String,
) -> impl IntoView {
    let header = model.header;
    let key = StoredValue::new(id);
    let character = Memo::new(move |_| {
        key.with_value(|id| header.with(|h| h.characters.iter().find(|c| &c.id == id).cloned()))
    });
    let field = move |get: fn(&Character) -> &str| {
        move || {
            character
                .with(|c| c.as_ref().map(|c| get(c).to_owned()))
                .unwrap_or_default()
        }
    };
    let set = move |set: fn(&mut Character, String)| {
        move |p: &mut Project, text: String| {
            let id = key.get_value();
            if let Some(c) = p.characters.iter_mut().find(|c| c.id == id) {
                set(c, text);
            }
        }
    };
    let remove = Callback::new(move |()| {
        let id = key.get_value();
        model.edit(move |p, _| p.characters.retain(|c| c.id != id));
    });
    view! {
        <div class="ds-proj-character" data-testid="char-item">
            {header_input(model, t("名字", "Name"), "char-name", field(|c| &c.name), set(|c, v| c.name = v))}
            {header_input(model, t("人物简介", "Description"), "char-description", field(|c| &c.description), set(|c, v| c.description = v))}
            {header_input(model, t("声音", "Voice"), "char-voice", field(|c| &c.voice), set(|c, v| c.voice = v))}
            {header_input(model, t("外形", "Look"), "char-look", field(|c| &c.look), set(|c, v| c.look = v))}
            {header_input(model, t("参考图备注", "Reference notes"), "char-notes", field(|c| &c.reference_notes), set(|c, v| c.reference_notes = v))}
            <ConfirmButton testid="char-remove" label=Signal::derive(t("删除角色", "Remove character")) on_confirm=remove/>
        </div>
    }
}

/// Named versions: take one, list them, restore one (the state before is kept as a version).
#[component]
fn Snapshots(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let lang = use_lang();
    let list = RwSignal::new(Vec::<SnapshotMeta>::new());
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<FieldError>);
    let busy = RwSignal::new(false);
    let report = move |e: DraftError| problem.set(Some(FieldError::new(|l| e.message(l))));
    let refresh = move || {
        spawn_local(async move {
            if !model.alive() {
                return;
            }
            match model.drafts().snapshots(&model.id()).await {
                Ok(items) => list.set(items),
                Err(e) => report(e),
            }
        })
    };
    Effect::new(move |_| {
        model.versions_changed.track();
        refresh();
    });
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = name.get_untracked();
        let label = if typed.trim().is_empty() {
            format!(
                "{} {}",
                lang.get_untracked().pick("版本", "Version"),
                format_time(tabs::now_ms(), lang.get_untracked())
            )
        } else {
            typed
        };
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let result = async {
                model.flush().await?;
                model.drafts().create_snapshot(&model.id(), &label).await
            }
            .await;
            busy.set(false);
            match result {
                Ok(_) => {
                    name.set(String::new());
                    refresh();
                }
                Err(e) => report(e),
            }
        });
    };
    let restore = move |snapshot_id: String| {
        Callback::new(move |()| {
            let snapshot_id = snapshot_id.clone();
            problem.set(None);
            spawn_local(async move {
                let result = async {
                    model.flush().await?;
                    model
                        .drafts()
                        .restore_snapshot(&snapshot_id, lang.get_untracked())
                        .await
                }
                .await;
                match result {
                    Ok(project) => {
                        model.adopt(&project);
                        refresh();
                    }
                    Err(e) => report(e),
                }
            });
        })
    };
    view! {
        <section class="ds-proj-section" aria-labelledby="proj-snapshots-title">
            <h3 id="proj-snapshots-title">{t("版本快照", "Named versions")}</h3>
            <form class="ds-proj-inline" on:submit=create>
                <label class="ds-field">
                    <span class="ds-field__label">{t("版本名称（可留空）", "Version name (optional)")}</span>
                    <input
                        type="text"
                        data-testid="snapshot-name"
                        autocomplete="off"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" class="ds-btn" data-testid="snapshot-create" disabled=move || busy.get()>
                    {t("保存为版本", "Save as version")}
                </button>
            </form>
            {move || problem.get().map(|e| view! {
                <p class="ds-alert ds-alert--error" role="alert" data-testid="snapshot-error">
                    {move || e.message(lang.get()).to_owned()}
                </p>
            })}
            <Show
                when=move || list.with(|l| !l.is_empty())
                fallback=|| view! { <p class="ds-field__hint">{t("还没有保存的版本。", "No saved versions yet.")}</p> }
            >
                <ul class="ds-proj-snapshots">
                    <For each=move || list.get() key=|s| s.id.clone() let:snapshot>
                        <li class="ds-proj-snapshot" data-testid="snapshot-item" data-id=snapshot.id.clone()>
                            <span class="ds-proj-snapshot__name">{snapshot.name.clone()}</span>
                            <span class="ds-field__hint">
                                {move || format_time(snapshot.created_ms, lang.get())}
                            </span>
                            <ConfirmButton
                                testid="snapshot-restore"
                                label=Signal::derive(t("恢复此版本", "Restore this version"))
                                on_confirm=restore(snapshot.id.clone())
                            />
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// One scene: heading, synopsis, script text (shown on demand), and its shots as cards.
#[component]
fn SceneView(
    /// The open project.
    model: EditorModel,
    /// The scene's id.
    id: String,
    /// Its place in the episode, from 1.
    number: usize,
) -> impl IntoView {
    let lang = use_lang();
    let header = model.header;
    let key = StoredValue::new(id);
    let scene = Memo::new(move |_| key.with_value(|id| header.with(|h| h.scene(id).cloned())));
    let text = move |get: fn(&SceneHead) -> &str| {
        move || {
            scene
                .with(|s| s.as_ref().map(|s| get(s).to_owned()))
                .unwrap_or_default()
        }
    };
    let set = move |set: fn(&mut Scene, String)| {
        move |p: &mut Project, value: String| {
            let id = key.get_value();
            if let Some(scene) = p.scene_mut(&id) {
                set(scene, value);
            }
        }
    };
    let shot_ids = move || {
        scene
            .with(|s| s.as_ref().map(|s| s.shot_ids.clone()))
            .unwrap_or_default()
    };
    let script_open = RwSignal::new(false);
    // Built in its turn (a long storyboard is built a slice at a time: see `reveal`).
    let shots = scene.with_untracked(|s| s.as_ref().map_or(0, |s| s.shot_ids.len()));
    let shown = use_context::<Reveal>().map_or_else(|| RwSignal::new(true), |r| r.admit(shots));
    let add = move |_| {
        if let Some(id) = model.add_shot(&key.get_value()) {
            // Put the cursor in the new shot's action.
            request_animation_frame(move || focus_shot_field(&id, "shot-action"));
        }
    };
    let title = move || match lang.get() {
        Lang::ZhCn => format!("第 {number} 场 {}", text(|s| &s.heading)()),
        Lang::En => format!("Scene {number} {}", text(|s| &s.heading)()),
    };
    view! {
        <section class="ds-proj-scene" data-testid="scene" data-id=key.get_value()
            aria-busy=move || (!shown.get()).then_some("true")>
            <h4 class="ds-proj-scene__title">{title}</h4>
            <Show when=move || shown.get() fallback=move || view! {
                // About the height of the scene's cards (four to a row on a laptop).
                <div class="ds-proj-scene__pending" style:--ds-pending-rows=shots.div_ceil(4).max(1).to_string()></div>
            }>
            <div class="ds-proj-scene__fields">
                {header_input(model, t("场景标题", "Scene heading"), "scene-heading", text(|s| &s.heading), set(|s, v| s.heading = v))}
                {header_input(model, t("梗概", "Synopsis"), "scene-synopsis", text(|s| &s.synopsis), set(|s, v| s.synopsis = v))}
            </div>
            <details class="ds-proj-scene__script" on:toggle=move |ev| {
                let open = ev
                    .target()
                    .and_then(|t| js_sys::Reflect::get(&t, &"open".into()).ok())
                    .and_then(|open| open.as_bool())
                    .unwrap_or(false);
                script_open.set(open);
            }>
                <summary>{t("剧本", "Script")}</summary>
                <Show when=move || script_open.get()>
                    {header_field(model, Lines::Many, t("剧本文本（Fountain）", "Script text (Fountain)"), "scene-script", text(|s| &s.script_text), set(|s, v| s.script_text = v))}
                </Show>
            </details>
            <ShotGrid model shot_ids=Signal::derive(shot_ids)/>
            <button type="button" class="ds-btn ds-btn--ghost ds-btn--small" data-testid="shot-add" on:click=add>
                {t("添加镜头", "Add shot")}
            </button>
            </Show>
        </section>
    }
}

/// Moves the focus to one field of a shot's card.
fn focus_shot_field(shot_id: &str, testid: &str) {
    use wasm_bindgen::JsCast;
    let selector =
        format!("[data-testid=\"shot-card\"][data-id=\"{shot_id}\"] [data-testid=\"{testid}\"]");
    let field = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(field) = field {
        let _ = field.focus();
    }
}

/// One episode: its title, its scenes and a button to add one.
#[component]
fn EpisodeView(
    /// The open project.
    model: EditorModel,
    /// The episode's id.
    id: String,
) -> impl IntoView {
    let lang = use_lang();
    let header = model.header;
    let key = StoredValue::new(id);
    let number = move || {
        key.with_value(|id| header.with(|h| h.episode(id).map(|e| e.number)))
            .unwrap_or(0)
    };
    let scene_ids = move || {
        key.with_value(|id| {
            header.with(|h| {
                h.episode(id)
                    .map(|e| {
                        e.scenes
                            .iter()
                            .enumerate()
                            .map(|(i, s)| (i + 1, s.id.clone()))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
        })
    };
    let title_value = move || {
        key.with_value(|id| header.with(|h| h.episode(id).map(|e| e.title.clone())))
            .unwrap_or_default()
    };
    let set_title = move |p: &mut Project, title: String| {
        let id = key.get_value();
        if let Some(e) = p.episodes.iter_mut().find(|e| e.id == id) {
            e.title = title;
        }
    };
    let add_scene = move |_| {
        let id = key.get_value();
        model.edit(move |p, ids| p.add_scene(&id, ids, ""));
    };
    view! {
        <section class="ds-proj-episode" data-testid="episode" data-id=key.get_value()>
            <h3 class="ds-proj-episode__title">
                {move || match lang.get() {
                    Lang::ZhCn => format!("第 {} 集", number()),
                    Lang::En => format!("Episode {}", number()),
                }}
            </h3>
            {header_input(model, t("本集标题", "Episode title"), "episode-title", title_value, set_title)}
            <For each=scene_ids key=|(n, id)| (*n, id.clone()) let:((number, id))>
                <SceneView model id number/>
            </For>
            <button type="button" class="ds-btn ds-btn--ghost ds-btn--small" data-testid="scene-add" on:click=add_scene>
                {t("添加一场", "Add scene")}
            </button>
        </section>
    }
}

/// The editor of the open project.
///
/// What the projects list does for the editor it opened. Plain closures: a save may end after
/// the editor is gone (the autosaver outlives it until then).
#[derive(Clone)]
pub struct EditorExits {
    /// The user closes the project.
    pub close: Rc<dyn Fn()>,
    /// The project was saved: the list's entry follows (counts, names for search).
    pub saved: Rc<dyn Fn(ProjectMeta)>,
    /// Another tab deleted the project.
    pub closed_elsewhere: Rc<dyn Fn()>,
}

/// Test ids: `project-editor` (with `data-id` and `data-rendered` once the cards are in the
/// page), `save-status` (`data-state`: idle, pending, saving, saved, error), `editor-name`,
/// `editor-aspect`, `editor-style`, `char-*`, `snapshot-*`, `episode-add`, `scene-add`,
/// `shot-add`, `proj-close`, and the cards' ids (see [`ShotCard`]).
#[component]
pub fn ProjectEditor(
    /// The open project.
    model: EditorModel,
    /// What the projects list it was opened from does when the editor closes or saves.
    exits: EditorExits,
) -> impl IntoView {
    let header = model.header;
    let rendered = RwSignal::new(false);
    // The scenes are built in turn (see `reveal`); the last one ends the full render's measure.
    let reveal = Reveal::new(Callback::new(|()| {
        perf_measure("duanju:render-all", "duanju:render-start");
    }));
    provide_context(reveal);
    // Runs once the first render is in the page: the render benchmark's end mark.
    Effect::new(move |_| {
        perf_measure("duanju:render", "duanju:render-start");
        perf_measure("duanju:open-to-render", "duanju:open");
        rendered.set(true);
        reveal.settle();
    });
    // Another tab saved the open project: merge the stored copy into this one. The copy is
    // read first and merged after, so edits made here meanwhile are kept.
    let drafts = model.drafts();
    let EditorExits {
        close,
        saved,
        closed_elsewhere,
    } = exits;
    let listener = drafts.on_event(move |event| {
        let DraftsEvent::RemoteSaved(notice) = event else {
            return;
        };
        if !model.alive() || notice.project_id != model.id() {
            return;
        }
        let ahead = model.is_behind(notice);
        if !ahead {
            return;
        }
        let closed_elsewhere = closed_elsewhere.clone();
        spawn_local(async move {
            if !model.alive() {
                return;
            }
            match model.drafts().load(&model.id()).await {
                Ok(stored) => {
                    model.adopt(&stored);
                    if stored.deleted_ms.is_some() {
                        closed_elsewhere();
                    }
                }
                Err(e) => model.status.set(SaveStatus::Error(e)),
            }
        });
    });
    // Keep the projects list's entry (counts, names for search) in step with each save.
    model
        .autosaver()
        .on_saved(move |merged| saved(merged.meta()));
    let listener_owner = StoredValue::new_local(drafts);
    let autosaver = model.autosaver_handle();
    on_cleanup(move || {
        if let Some(drafts) = listener_owner.try_get_value() {
            drafts.remove_listener(listener);
        }
        // Leaving the page with an edit pending: write it (the autosaver outlives the editor
        // until the save ends).
        if let Some(saver) = autosaver.try_get_value() {
            if saver.has_unsaved() {
                spawn_local(async move {
                    let _ = saver.flush().await;
                });
            }
        }
    });
    let ratio = move || header.with(|h| css_aspect_ratio(&h.aspect_ratio));
    let episode_ids =
        move || header.with(|h| h.episodes.iter().map(|e| e.id.clone()).collect::<Vec<_>>());
    let add_episode = move |_| {
        model.edit(|p, ids| p.add_episode(ids, ""));
    };
    let close = move |_| close();
    view! {
        <section
            class="ds-card ds-proj-editor"
            aria-labelledby="proj-editor-title"
            data-testid="project-editor"
            data-id=model.id()
            data-rendered=move || rendered.get().to_string()
            data-complete=move || reveal.complete.get().to_string()
        >
            <div class="ds-proj-editor__top">
                <h2 id="proj-editor-title">{move || header.with(|h| h.name.clone())}</h2>
                <SaveIndicator model/>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="proj-close" on:click=close>
                    {t("关闭项目", "Close project")}
                </button>
            </div>
            <fieldset class="ds-proj-editor__body" disabled=move || model.read_only.get()>
                <legend class="ds-visually-hidden">{t("编辑项目", "Edit the project")}</legend>
                <ProjectSettings model/>
                <CharacterList model/>
                <Snapshots model/>
                <crate::ui::studio::script_panel::ScriptPanel model/>
                <crate::ui::studio::storyboard_panel::StoryboardPanel model/>
                <crate::ui::studio::takes_panel::TakesPanel model/>
                <crate::ui::studio::clips_panel::ClipsPanel model/>
                <section class="ds-proj-section" aria-labelledby="proj-board-title">
                    <h3 id="proj-board-title">{t("分集与分镜", "Episodes and storyboard")}</h3>
                    <div class="ds-proj-board" style:--ds-shot-ratio=ratio>
                        <For each=episode_ids key=|id| id.clone() let:id>
                            <EpisodeView model id/>
                        </For>
                    </div>
                    <button type="button" class="ds-btn ds-btn--ghost" data-testid="episode-add" on:click=add_episode>
                        {t("添加一集", "Add episode")}
                    </button>
                </section>
            </fieldset>
            <p class="ds-visually-hidden" aria-live="polite" data-testid="shot-announce">
                {move || model.announcement.get()}
            </p>
        </section>
    }
}
