//! Script in, enhance, script out — for one episode of the open project.
//!
//! - **Script in**: paste text or pick a `.fountain` file (either capped at
//!   [`SCRIPT_CAP_BYTES`], and parsed once: [`read_script`]); its scene headings become the
//!   episode's scenes, merged by scene id ([`import_parsed`]), so importing an edited script
//!   again updates the scenes and keeps their shots. **Export** downloads the episode as
//!   Fountain with the ids as scene numbers.
//! - **Enhance** a scene: the `narrative` route rewrites it, streamed in through the executor
//!   ([`crate::web::exec::once`]: stored before it is sent, within the project's budget, in the
//!   ledger once answered); the prompt starts with the character bible of the scene's cast as a
//!   stable system message ([`scene_messages`]). When the reply is complete a word diff against
//!   the scene's text is shown; **Accept** replaces the text (saved in the drafts), **Reject**
//!   discards it, **Cancel** aborts the stream. Every call goes to the ledger, and the cached
//!   prompt tokens the provider reports are shown with what they saved.
//!
//! Script text and model output are text nodes, never HTML.

use crate::domain::cost::ledger::LedgerEntry;
use crate::domain::cost::money::{format_count, Money};
use crate::domain::i18n::Lang;
use crate::domain::project::Project;
use crate::domain::provider::routing::{Route, TaskType};
use crate::domain::script::import::{
    export_episode, export_file_name, import_parsed, read_script, SCRIPT_CAP_BYTES,
};
use crate::domain::script::text_diff::{diff_words, stats, Change, Piece};
use crate::domain::storyboard::character_bible::{cache_savings, scene_messages, CacheTally};
use crate::ui::common::ledger_view::exact_amount;
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::use_app_state;
use crate::ui::studio::batch_panel::{use_batch_service, OnceCall};
use crate::ui::studio::editor_model::EditorModel;
use crate::web::exec::once::OnceOptions;
use crate::web::files::{download_text, picked_file, read_text};
use crate::web::http::{CallOptions, CancelHandle};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What the narrative route is asked to do with a scene.
const ENHANCE_INSTRUCTION: &str = "Enhance this scene of a vertical short drama (短剧): sharper \
conflict, vivid visual action, natural dialogue true to each character. Keep the Fountain format, \
the scene heading line exactly as it is, the characters and the plot. Reply with the rewritten \
scene only, no commentary.";

/// The route a project's calls of `task` take: the project's own table when it has one, else
/// the book's.
pub(crate) fn project_route(
    project: &Project,
    book_route: impl FnOnce() -> Route,
    task: TaskType,
) -> Route {
    match &project.settings.routes_override {
        Some(table) => table.route(task).clone(),
        None => book_route(),
    }
}

/// The episode the panels work on: the chosen one while it exists, else the first.
pub(crate) fn current_episode(
    model: EditorModel,
    chosen: RwSignal<Option<String>>,
) -> Option<String> {
    model.header.with(|h| {
        let chosen = chosen.get();
        chosen
            .filter(|id| h.episodes.iter().any(|e| &e.id == id))
            .or_else(|| h.episodes.first().map(|e| e.id.clone()))
    })
}

/// The scenes of the panels' episode: number (from 1), id, heading and shot count.
pub(crate) fn episode_scenes(
    model: EditorModel,
    chosen: RwSignal<Option<String>>,
) -> Vec<(usize, String, String, usize)> {
    let episode = current_episode(model, chosen);
    model.header.with(|h| {
        h.episodes
            .iter()
            .find(|e| Some(&e.id) == episode.as_ref())
            .map(|e| {
                e.scenes
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (i + 1, s.id.clone(), s.heading.clone(), s.shot_ids.len()))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The episode picker shared by the pipeline panels.
#[component]
pub fn EpisodePicker(
    model: EditorModel,
    chosen: RwSignal<Option<String>>,
    testid: &'static str,
) -> impl IntoView {
    let lang = use_lang();
    let options = move || {
        model.header.with(|h| {
            h.episodes
                .iter()
                .map(|e| {
                    let label = match (lang.get(), e.title.trim()) {
                        (Lang::ZhCn, "") => format!("第 {} 集", e.number),
                        (Lang::En, "") => format!("Episode {}", e.number),
                        (Lang::ZhCn, title) => format!("第 {} 集 · {title}", e.number),
                        (Lang::En, title) => format!("Episode {} · {title}", e.number),
                    };
                    (e.id.clone(), label)
                })
                .collect::<Vec<_>>()
        })
    };
    let selected = move || current_episode(model, chosen);
    view! {
        <label class="ds-field ds-pipe-episode">
            <span>{t("分集", "Episode")}</span>
            <select data-testid=testid on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                {move || options().into_iter().map(|(id, label)| {
                    let is = selected() == Some(id.clone());
                    view! { <option value=id selected=is>{label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// One enhancement in progress or waiting for a decision.
#[derive(Clone, Debug, PartialEq)]
struct Enhancement {
    scene_id: String,
    original: String,
}

/// How a finished call is summed up under the diff.
#[derive(Clone, Debug, PartialEq)]
struct CallNote {
    entry: LedgerEntry,
    saved: Option<Money>,
}

/// Script in/out and per-scene enhancement for one episode.
#[component]
pub fn ScriptPanel(
    /// The open project.
    model: EditorModel,
) -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let service = use_batch_service();
    let chosen = RwSignal::new(None::<String>);
    let paste = RwSignal::new(String::new());
    let notice = RwSignal::new(None::<(bool, String, &'static str)>);
    // Counts the notices shown, so a test (or a screen reader) can tell a new one from the last.
    let notice_seq = RwSignal::new(0u32);
    Effect::new(move |_| {
        notice.track();
        notice_seq.update(|n| *n += 1);
    });
    let tally = RwSignal::new(CacheTally::default());

    // Pasted or picked, the text is checked against the cap and parsed once, here; the import
    // takes the parsed script.
    let import = move |source: String| {
        let lang = lang.get_untracked();
        let parsed = match read_script(&source) {
            Ok(parsed) => parsed,
            Err(e) => {
                notice.set(Some((false, e.message(lang), e.kind())));
                return;
            }
        };
        drop(source);
        let episode =
            current_episode(model, chosen).or_else(|| model.edit(|p, ids| p.add_episode(ids, "")));
        let Some(episode) = episode else {
            notice.set(Some((
                false,
                lang.pick(
                    "此标签页只读，未导入。",
                    "This tab is read-only; nothing was imported.",
                )
                .into(),
                "read_only",
            )));
            return;
        };
        chosen.set(Some(episode.clone()));
        match model.edit(move |p, ids| import_parsed(p, &episode, &parsed, ids)) {
            Some(Ok(report)) => notice.set(Some((true, report.summary(lang), "imported"))),
            Some(Err(e)) => notice.set(Some((false, e.message(lang), e.kind()))),
            None => notice.set(Some((
                false,
                lang.pick(
                    "此标签页只读，未导入。",
                    "This tab is read-only; nothing was imported.",
                )
                .into(),
                "read_only",
            ))),
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else { return };
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        spawn_local(async move {
            match read_text(&file, SCRIPT_CAP_BYTES).await {
                Ok(text) => import(text),
                Err(e) => notice.set(Some((false, e.message(lang.get_untracked()), "file"))),
            }
            // The same file can be picked again after an edit.
            input.set_value("");
        });
    };
    let export = move |_| {
        let Some(episode) = current_episode(model, chosen) else {
            return;
        };
        let project = model.project();
        if let Some(text) = export_episode(&project, &episode) {
            let name = export_file_name(&project, &episode);
            if download_text(&name, "text/plain;charset=utf-8", &text).is_err() {
                notice.set(Some((
                    false,
                    lang.get_untracked()
                        .pick("无法下载文件。", "The file could not be downloaded.")
                        .into(),
                    "download",
                )));
            }
        }
    };

    // Enhancement.
    let current = RwSignal::new(None::<Enhancement>);
    let output = RwSignal::new(String::new());
    let running = RwSignal::new(false);
    let finished = RwSignal::new(false);
    let problem = RwSignal::new(None::<(String, &'static str)>);
    let call_note = RwSignal::new(None::<CallNote>);
    let cancel = StoredValue::new_local(None::<CancelHandle>);

    let enhance = move |scene_id: String| {
        if running.get_untracked() {
            return;
        }
        let lang_now = lang.get_untracked();
        let Some(active) = state.connection.get_untracked() else {
            problem.set(Some((
                lang_now
                    .pick(
                        "还没有连接。请先在「设置」中添加一个连接。",
                        "There is no connection yet. Add one in Settings first.",
                    )
                    .into(),
                "no_connection",
            )));
            return;
        };
        if active.key.is_empty() {
            problem.set(Some((
                lang_now
                    .pick(
                        "当前连接还没有填写 API 密钥。",
                        "The active connection has no API key.",
                    )
                    .into(),
                "no_key",
            )));
            return;
        }
        let project = model.project();
        let Some(scene) = project.scene(&scene_id).cloned() else {
            return;
        };
        let route = project_route(
            &project,
            || {
                state
                    .book
                    .with_untracked(|b| b.routes.route(TaskType::Narrative).clone())
            },
            TaskType::Narrative,
        );
        let handle = CancelHandle::new();
        cancel.set_value(Some(handle.clone()));
        current.set(Some(Enhancement {
            scene_id,
            original: scene.script_text.clone(),
        }));
        output.set(String::new());
        finished.set(false);
        problem.set(None);
        call_note.set(None);
        running.set(true);
        let model_name = route.model.clone();
        let call = OnceCall {
            messages: scene_messages(&project.characters, &scene, ENHANCE_INSTRUCTION),
            label: format!("{} · {}", route.task.label(Lang::En), scene.heading),
            route,
            project: Some(project.id.clone()),
            project_budget: project.settings.budget,
        };
        let options = OnceOptions {
            stream: true,
            call: CallOptions {
                cancel: Some(handle),
                ..CallOptions::default()
            },
        };
        spawn_local(async move {
            let on_delta = move |delta: &str| {
                output.try_update(|text| text.push_str(delta));
            };
            match service.call_once(call, options, on_delta).await {
                Ok(done) => {
                    let entry = done.entry;
                    let saved = state.book.with_untracked(|book| {
                        let (prices, _) = book.pricing_for(&active.connection);
                        prices
                            .get(&model_name)
                            .and_then(|p| cache_savings(p, &entry.usage()))
                    });
                    tally.update(|t| t.add(entry.cached_tokens, saved));
                    call_note.set(Some(CallNote { entry, saved }));
                    match done.error {
                        None => finished.set(true),
                        Some(e) => problem.set(Some((e.message(lang.get_untracked()), e.kind()))),
                    }
                }
                Err(e) => problem.set(Some((e.message(lang.get_untracked()), e.kind()))),
            }
            cancel.set_value(None);
            running.set(false);
        });
    };
    let stop = move |_| {
        cancel.with_value(|h| {
            if let Some(h) = h {
                h.cancel()
            }
        })
    };
    let discard = move || {
        current.set(None);
        output.set(String::new());
        finished.set(false);
        problem.set(None);
    };
    let accept = move |_| {
        let Some(enhancement) = current.get_untracked() else {
            return;
        };
        let text = output.get_untracked();
        let id = enhancement.scene_id.clone();
        let done = model.edit(move |p, _| {
            let scene = p
                .episodes
                .iter_mut()
                .flat_map(|e| e.scenes.iter_mut())
                .find(|s| s.id == id);
            scene.map(|s| s.script_text = text).is_some()
        });
        if done == Some(true) {
            notice.set(Some((
                true,
                lang.get_untracked()
                    .pick(
                        "已采用改写，场景文本已更新。",
                        "Rewrite accepted: the scene's text was updated.",
                    )
                    .into(),
                "accepted",
            )));
            discard();
        }
    };
    let diff = Memo::new(move |_| {
        if !finished.get() {
            return Vec::<Piece>::new();
        }
        current
            .with(|c| {
                c.as_ref()
                    .map(|c| output.with(|o| diff_words(&c.original, o)))
            })
            .unwrap_or_default()
    });

    let scenes = move || episode_scenes(model, chosen);
    let enhancing_id = move || current.with(|c| c.as_ref().map(|c| c.scene_id.clone()));

    view! {
        <section class="ds-proj-section ds-pipe" data-testid="script-panel" aria-labelledby="script-panel-title">
            <h3 id="script-panel-title">{t("剧本：导入、润色、导出", "Script: import, enhance, export")}</h3>
            <EpisodePicker model chosen testid="script-episode"/>
            <div class="ds-field">
                <label for="script-paste">{t("粘贴剧本（Fountain 或纯文本）", "Paste a script (Fountain or plain text)")}</label>
                <textarea id="script-paste" data-testid="script-paste" rows="6"
                    prop:value=move || paste.get()
                    on:input=move |ev| paste.set(event_target_value(&ev))></textarea>
                <span class="ds-field__hint">{t(
                    "场景编号（#12#）或 [[id: …]] 注释会作为场景 ID 保留；再次导入修改后的剧本会更新已有场景并保留其镜头，不会重复。",
                    "Scene numbers (#12#) or [[id: …]] notes are kept as scene ids: importing an edited script again updates the existing scenes and keeps their shots, without duplicates.",
                )}</span>
            </div>
            <div class="ds-pipe-actions">
                <button type="button" class="ds-btn" data-testid="script-import" on:click=move |_| import(paste.get_untracked())>
                    {t("导入到本集", "Import into this episode")}
                </button>
                <label class="ds-btn ds-btn--ghost ds-file">
                    {t("导入 .fountain 文件…", "Import a .fountain file…")}
                    <input type="file" class="ds-visually-hidden" data-testid="script-file" accept=".fountain,.spmd,.txt,text/plain" on:change=on_file/>
                </label>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="script-export" on:click=export>
                    {t("导出 Fountain", "Export Fountain")}
                </button>
            </div>
            {move || notice.get().map(|(ok, message, kind)| view! {
                <p class=if ok { "ds-alert ds-alert--ok" } else { "ds-alert ds-alert--error" }
                    role=if ok { "status" } else { "alert" } data-testid="script-notice" data-kind=kind data-seq=move || notice_seq.get().to_string()>{message}</p>
            })}
            <ol class="ds-pipe-scenes" data-testid="pipe-scenes">
                <For each=scenes key=|s| s.clone() let:((number, id, heading, shots))>
                    {
                        let scene_id = id.clone();
                        let is_running = move || running.get();
                        view! {
                            <li class="ds-pipe-scene" data-testid="pipe-scene" data-id=id.clone()>
                                <span class="ds-pipe-scene__heading">{format!("{number}. ")}{heading}</span>
                                <span class="ds-tag">{move || match lang.get() {
                                    Lang::ZhCn => format!("{shots} 个镜头"),
                                    Lang::En => format!("{shots} shots"),
                                }}</span>
                                <button type="button" class="ds-btn ds-btn--small" data-testid="scene-enhance"
                                    disabled=is_running on:click=move |_| enhance(scene_id.clone())>
                                    {t("润色", "Enhance")}
                                </button>
                            </li>
                        }
                    }
                </For>
            </ol>
            <Show when=move || enhancing_id().is_some()>
                <div class="ds-pipe-enhance" data-testid="enhance-panel"
                    data-scene=move || enhancing_id().unwrap_or_default()
                    data-state=move || if running.get() { "running" } else if finished.get() { "done" } else { "stopped" }>
                    <h4>{t("润色结果（叙事路由）", "Rewrite (narrative route)")}</h4>
                    <pre class="ds-play-output" data-testid="enhance-output" aria-busy=move || running.get().to_string()>{move || output.get()}</pre>
                    {move || problem.get().map(|(message, kind)| view! {
                        <p class="ds-alert ds-alert--error" role="alert" data-testid="enhance-error" data-kind=kind>{message}</p>
                    })}
                    <Show when=move || finished.get()>
                        <h5>{t("与当前文本的差异", "Changes against the current text")}</h5>
                        <p class="ds-field__hint" data-testid="enhance-diff-stats">{move || {
                            let s = stats(&diff.get());
                            match lang.get() {
                                Lang::ZhCn => format!("新增 {} 处，删除 {} 处", s.added, s.removed),
                                Lang::En => format!("{} additions, {} removals", s.added, s.removed),
                            }
                        }}</p>
                        <pre class="ds-diff" data-testid="enhance-diff">
                            {move || diff.get().into_iter().map(|piece| match piece.change {
                                Change::Same => view! { <span data-change="same">{piece.text}</span> }.into_any(),
                                Change::Added => view! { <ins data-change="added">{piece.text}</ins> }.into_any(),
                                Change::Removed => view! { <del data-change="removed">{piece.text}</del> }.into_any(),
                            }).collect_view()}
                        </pre>
                    </Show>
                    {move || call_note.get().map(|note| {
                        let saved = note.saved.map(exact_amount).unwrap_or_else(|| "—".into());
                        let cached = note.entry.cached_tokens.to_string();
                        view! {
                            <p class="ds-field__hint" data-testid="enhance-usage" data-cached=cached>
                                {move || match lang.get() {
                                    Lang::ZhCn => format!("输入 {} tokens（缓存命中 {}）· 输出 {} · 费用 {} · 缓存节省 {}",
                                        format_count(note.entry.prompt_tokens), format_count(note.entry.cached_tokens),
                                        format_count(note.entry.completion_tokens), exact_amount(note.entry.cost().usd), saved),
                                    Lang::En => format!("{} prompt tokens ({} cached) · {} completion · cost {} · cache saved {}",
                                        format_count(note.entry.prompt_tokens), format_count(note.entry.cached_tokens),
                                        format_count(note.entry.completion_tokens), exact_amount(note.entry.cost().usd), saved),
                                }}
                            </p>
                        }
                    })}
                    <div class="ds-pipe-actions">
                        <button type="button" class="ds-btn" data-testid="enhance-accept" disabled=move || !finished.get() on:click=accept>
                            {t("采用", "Accept")}
                        </button>
                        <button type="button" class="ds-btn ds-btn--ghost" data-testid="enhance-reject" disabled=move || running.get() on:click=move |_| discard()>
                            {t("放弃", "Reject")}
                        </button>
                        <button type="button" class="ds-btn ds-btn--ghost" data-testid="enhance-cancel" disabled=move || !running.get() on:click=stop>
                            {t("取消", "Cancel")}
                        </button>
                    </div>
                </div>
            </Show>
            <p class="ds-field__hint" data-testid="bible-savings" data-cached=move || tally.get().cached_tokens.to_string()>
                {move || {
                    let CacheTally { cached_tokens, saved } = tally.get();
                    let saved = saved.map(exact_amount).unwrap_or_else(|| "—".into());
                    match lang.get() {
                        Lang::ZhCn => format!("角色设定作为固定前缀注入每个场景提示。本次会话缓存命中 {} tokens，节省 {}（按价格表的缓存输入价）。", format_count(cached_tokens), saved),
                        Lang::En => format!("The character bible is a fixed prefix of every scene prompt. This session: {} cached prompt tokens, {} saved (catalog cached-input price).", format_count(cached_tokens), saved),
                    }
                }}
            </p>
        </section>
    }
}
