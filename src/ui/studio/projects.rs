//! The projects list of the Studio: create, search, open, rename, duplicate, export, delete to
//! the trash and restore from it; export the whole workspace; import a project file or a
//! backup. The open project's editor ([`ProjectEditor`]) sits below the list.
//!
//! **Never overwrite without asking.** An imported project whose id is already in the
//! workspace (live or in the trash) is not written until the user picks "import as a copy" or
//! confirms "replace"; a replace keeps the state before as a named version. A file that does
//! not read shows its [`ImportError`](crate::domain::project::file::ImportError) message and
//! changes nothing.
//!
//! **The open project first.** Before any operation that reads the open project from storage
//! (export, duplicate, version, replace), its pending edits are saved; if that save fails the
//! operation stops and the edit stays in the editor.
//!
//! **Timings.** Opening a project records `performance` measures the storage benchmark reads:
//! `duanju:load` (reading and parsing the stored project), `duanju:render` (from the project in
//! hand to its cards in the page) and `duanju:open-to-render` (the whole click); each autosave
//! records `duanju:save`.

use crate::domain::i18n::Lang;
use crate::domain::project::file::{file_stem, load_any, Loaded, MAX_IMPORT_BYTES};
use crate::domain::project::{search, validate_name, Project, ProjectMeta, TRASH_RETENTION_MS};
use crate::ui::common::book_editing::{ConfirmButton, FieldError};
use crate::ui::i18n::{t, use_lang};
use crate::ui::studio::editor_model::EditorModel;
use crate::ui::studio::project_editor::{EditorExits, ProjectEditor};
use crate::web::dom::{format_time, perf_mark, perf_measure};
use crate::web::drafts::{DraftError, Drafts, DraftsEvent, ImportMode, Persistence, ReadOnly};
use crate::web::files::{download_text, picked_file, read_text};
use crate::web::tabs;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::rc::Rc;
use wasm_bindgen::JsCast;

const DAY_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;

/// The whole days a trashed project has left before it is deleted for good (rounded up; 0 once
/// its 30 days are over).
pub fn days_left(meta: &ProjectMeta, now_ms: f64) -> u32 {
    let deleted = meta.deleted_ms.unwrap_or(now_ms);
    let left = (deleted + TRASH_RETENTION_MS - now_ms) / DAY_MS;
    left.ceil().max(0.0) as u32
}

/// The download name of a project: `duanju-<name>.json`, without the characters file systems
/// refuse.
pub fn export_file_name(name: &str) -> String {
    format!("duanju-{}.json", file_stem(name, "project"))
}

/// A project file whose project is already in the workspace, waiting for the user's choice.
#[derive(Clone, Debug, PartialEq)]
struct ImportConflict {
    /// The id in the file and in the workspace.
    id: String,
    /// The project's name in the file.
    name: String,
}

/// The projects of this workspace as the Studio shows them, and the open project. Cheap to
/// copy: every part is a handle owned by the panel.
#[derive(Clone, Copy)]
pub struct Workspace {
    drafts: StoredValue<Option<Drafts>, LocalStorage>,
    /// Live projects, the last opened first.
    pub list: RwSignal<Vec<ProjectMeta>>,
    /// Projects in the trash, the most recently deleted first.
    pub trash: RwSignal<Vec<ProjectMeta>>,
    /// Why this tab stopped writing, if it did.
    pub read_only: RwSignal<Option<ReadOnly>>,
    /// The last failure of a list operation.
    pub problem: RwSignal<Option<FieldError>>,
    /// The last success worth telling (an import, a backup).
    pub notice: RwSignal<Option<FieldError>>,
    /// Set once the drafts are open and the list is read.
    pub ready: RwSignal<bool>,
    /// Whether the browser stores the drafts persistently, once it was asked.
    pub persist: RwSignal<Option<Persistence>>,
    import_error: RwSignal<Option<FieldError>>,
    conflict: RwSignal<Option<ImportConflict>>,
    conflict_text: StoredValue<Option<String>>,
    opened: RwSignal<Option<(String, u32)>>,
    opening: StoredValue<Option<Project>>,
    editor: StoredValue<Option<(u32, EditorModel)>>,
    epoch: StoredValue<u32>,
    /// The interface language (read here: imports finish outside the reactive context in
    /// which `use_context` finds it).
    lang: RwSignal<Lang>,
}

impl Workspace {
    fn new(lang: RwSignal<Lang>) -> Workspace {
        Workspace {
            lang,
            drafts: StoredValue::new_local(None),
            list: RwSignal::new(Vec::new()),
            trash: RwSignal::new(Vec::new()),
            read_only: RwSignal::new(None),
            problem: RwSignal::new(None),
            notice: RwSignal::new(None),
            ready: RwSignal::new(false),
            persist: RwSignal::new(Persistence::stored()),
            import_error: RwSignal::new(None),
            conflict: RwSignal::new(None),
            conflict_text: StoredValue::new(None),
            opened: RwSignal::new(None),
            opening: StoredValue::new(None),
            editor: StoredValue::new(None),
            epoch: StoredValue::new(0),
        }
    }

    fn drafts(&self) -> Option<Drafts> {
        self.drafts.try_get_value().flatten()
    }

    fn fail(&self, error: DraftError) {
        self.problem
            .try_set(Some(FieldError::new(|l| error.message(l))));
    }

    fn tell(&self, message: impl Fn(Lang) -> String) {
        self.notice.try_set(Some(FieldError::new(message)));
    }

    /// The open project's editor.
    fn editor(&self) -> Option<EditorModel> {
        self.editor
            .try_get_value()
            .flatten()
            .map(|(_, model)| model)
    }

    /// The id of the open project.
    pub fn open_id(&self) -> Option<String> {
        self.opened.try_get_untracked().flatten().map(|(id, _)| id)
    }

    /// Reads the list and the trash again.
    pub async fn refresh(&self) {
        let Some(drafts) = self.drafts() else {
            return;
        };
        match drafts.list().await {
            Ok(list) => {
                self.list.try_set(list);
            }
            Err(e) => self.fail(e),
        }
        match drafts.list_trash().await {
            Ok(trash) => {
                self.trash.try_set(trash);
            }
            Err(e) => self.fail(e),
        }
    }

    /// Takes in the list entry of a project this tab just saved.
    pub fn saved(&self, meta: ProjectMeta) {
        let stale = self
            .list
            .try_with_untracked(|list| list.iter().any(|m| m.id == meta.id && *m != meta))
            .unwrap_or(false);
        if stale {
            self.list.update(|list| {
                if let Some(entry) = list.iter_mut().find(|m| m.id == meta.id) {
                    *entry = meta;
                }
            });
        }
    }

    /// Saves the open project's pending edits now. A read-only tab cannot save; the banner
    /// already says so, and nothing waits for it.
    pub async fn flush_open(&self) -> Result<(), DraftError> {
        if self
            .read_only
            .try_with_untracked(Option::is_some)
            .unwrap_or(true)
        {
            return Ok(());
        }
        match self.editor() {
            Some(model) => model.flush().await,
            None => Ok(()),
        }
    }

    /// Shows `project` in the editor (replacing the open one, whose edits were saved).
    fn show(&self, project: Project) {
        perf_mark("duanju:render-start");
        let epoch = self.epoch.get_value() + 1;
        self.epoch.set_value(epoch);
        let id = project.id.clone();
        self.opening.set_value(Some(project));
        self.opened.set(Some((id, epoch)));
    }

    /// Opens a project: saves the open one's edits, reads the project, shows it, then records
    /// that it was opened (the list's order).
    pub fn open(&self, id: String) {
        perf_mark("duanju:open");
        let ws = *self;
        spawn_local(async move {
            let Some(drafts) = ws.drafts() else {
                return;
            };
            if let Err(e) = ws.flush_open().await {
                // The open project's edit is not saved: keep it on screen.
                return ws.fail(e);
            }
            perf_mark("duanju:load-start");
            let loaded = drafts.load(&id).await;
            perf_measure("duanju:load", "duanju:load-start");
            match loaded {
                Ok(project) => {
                    ws.problem.set(None);
                    ws.show(project);
                    if let Err(e) = drafts.open_project(&id).await {
                        ws.fail(e);
                    }
                    ws.refresh().await;
                }
                Err(e) => ws.fail(e),
            }
        });
    }

    /// Closes the editor once its edits are saved (at once when this tab no longer writes).
    pub fn close(&self) {
        let ws = *self;
        spawn_local(async move {
            if let Err(e) = ws.flush_open().await {
                return ws.fail(e);
            }
            ws.opened.set(None);
            ws.refresh().await;
        });
    }

    /// The open project was moved to the trash in another tab.
    pub fn closed_elsewhere(&self) {
        self.opened.try_set(None);
        self.tell(|l| {
            l.pick(
                "该项目已在另一个标签页中移到回收站。",
                "This project was moved to the trash in another tab.",
            )
            .into()
        });
        let ws = *self;
        spawn_local(async move { ws.refresh().await });
    }

    /// Runs `op` on the drafts, then reads the list again; failures are shown.
    fn run<F, Fut>(&self, op: F)
    where
        F: FnOnce(Drafts) -> Fut + 'static,
        Fut: std::future::Future<Output = Result<(), DraftError>> + 'static,
    {
        let ws = *self;
        spawn_local(async move {
            let Some(drafts) = ws.drafts() else {
                return;
            };
            ws.problem.set(None);
            ws.notice.set(None);
            if let Err(e) = op(drafts).await {
                ws.fail(e);
            }
            ws.refresh().await;
        });
    }

    fn create(&self, name: String) {
        let ws = *self;
        self.run(move |drafts| async move {
            ws.flush_open().await?;
            let project = drafts.create(&name).await?;
            ws.show(project);
            Ok(())
        });
    }

    fn rename(&self, id: String, name: String) {
        let ws = *self;
        self.run(move |drafts| async move {
            match ws.editor().filter(|m| m.id() == id) {
                // The open project is renamed through its editor, like any other edit.
                Some(model) => {
                    model.edit(move |p, _| p.name = name);
                    model.flush().await
                }
                None => drafts.rename(&id, &name).await.map(|_| ()),
            }
        });
    }

    fn duplicate(&self, id: String, lang: Lang) {
        let ws = *self;
        self.run(move |drafts| async move {
            ws.flush_open().await?;
            drafts.duplicate(&id, lang).await.map(|_| ())
        });
    }

    fn delete(&self, id: String) {
        let ws = *self;
        self.run(move |drafts| async move {
            if ws.open_id().as_deref() == Some(id.as_str()) {
                ws.flush_open().await?;
                ws.opened.set(None);
            }
            drafts.delete(&id).await.map(|_| ())
        });
    }

    fn restore(&self, id: String) {
        self.run(move |drafts| async move { drafts.restore(&id).await.map(|_| ()) });
    }

    fn export(&self, id: String, name: String) {
        let ws = *self;
        self.run(move |drafts| async move {
            ws.flush_open().await?;
            let text = drafts.export_project(&id).await?;
            offer_download(&export_file_name(&name), &text);
            Ok(())
        });
    }

    fn export_all(&self) {
        let ws = *self;
        self.run(move |drafts| async move {
            ws.flush_open().await?;
            let (text, damaged) = drafts.export_workspace().await?;
            let day: String = js_sys::Date::new_0()
                .to_iso_string()
                .as_string()
                .unwrap_or_default()
                .chars()
                .take(10)
                .collect();
            offer_download(&format!("duanju-workspace-{day}.json"), &text);
            if !damaged.is_empty() {
                let count = damaged.len();
                ws.tell(move |l| match l {
                    Lang::ZhCn => format!("备份已导出；有 {count} 个已损坏的项目无法读取，未包含在内。"),
                    Lang::En => format!("The backup was exported; {count} damaged project(s) could not be read and were left out."),
                });
            }
            Ok(())
        });
    }

    /// Reads a picked file and imports it, or asks first when its project is already here.
    fn import_file(&self, file: web_sys::File) {
        let ws = *self;
        self.import_error.set(None);
        self.conflict.set(None);
        self.notice.set(None);
        spawn_local(async move {
            let text = match read_text(&file, MAX_IMPORT_BYTES as f64).await {
                Ok(text) => text,
                Err(e) => {
                    ws.import_error.set(Some(FieldError::new(|l| e.message(l))));
                    return;
                }
            };
            let existing = match load_any(&text) {
                Err(e) => {
                    ws.import_error.set(Some(FieldError::new(|l| e.message(l))));
                    return;
                }
                Ok(Loaded::Project(project)) => {
                    let here = |list: &Vec<ProjectMeta>| list.iter().any(|m| m.id == project.id);
                    (ws.list.with_untracked(here) || ws.trash.with_untracked(here)).then(|| {
                        ImportConflict {
                            id: project.id.clone(),
                            name: project.name.clone(),
                        }
                    })
                }
                Ok(Loaded::Workspace(_)) => None,
            };
            match existing {
                Some(conflict) => {
                    ws.conflict_text.set_value(Some(text));
                    ws.conflict.set(Some(conflict));
                }
                None => ws.import(text, ImportMode::Copy),
            }
        });
    }

    /// Imports the file's text; a replace of the open project is shown in its editor.
    fn import(&self, text: String, mode: ImportMode) {
        let ws = *self;
        let lang = self.lang.get_untracked();
        self.run(move |drafts| async move {
            let replaced = match &mode {
                ImportMode::Replace { id } => Some(id.clone()),
                ImportMode::Copy => None,
            };
            if replaced.is_some() {
                ws.flush_open().await?;
            }
            let written = match drafts.import(&text, mode, lang).await {
                Ok(written) => written,
                Err(e @ DraftError::Import(_)) => {
                    ws.import_error.set(Some(FieldError::new(|l| e.message(l))));
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            if let (Some(id), Some(model)) = (replaced, ws.editor()) {
                if model.id() == id {
                    model.adopt(&drafts.load(&id).await?);
                    model.versions_changed.update(|n| *n += 1);
                }
            }
            let names: Vec<String> = written.iter().map(|m| m.name.clone()).collect();
            ws.tell(move |l| match l {
                Lang::ZhCn => format!("已导入 {} 个项目：{}", names.len(), names.join("、")),
                Lang::En => format!("Imported {} project(s): {}", names.len(), names.join(", ")),
            });
            Ok(())
        });
    }

    fn resolve_conflict(&self, mode: Option<ImportMode>) {
        let text = self.conflict_text.try_update_value(Option::take).flatten();
        self.conflict.set(None);
        if let (Some(text), Some(mode)) = (text, mode) {
            self.import(text, mode);
        }
    }
}

fn offer_download(name: &str, text: &str) {
    if let Err(e) = download_text(name, "application/json", text) {
        web_sys::console::error_2(&"download failed".into(), &e);
    }
}

/// The projects panel of the Studio, with the open project's editor below it.
///
/// Test ids: `proj-new-name`, `proj-new-name-error`, `proj-create`, `proj-search`,
/// `proj-item` (`data-id`; with `proj-open`, `proj-rename`, `proj-rename-input`,
/// `proj-rename-save`, `proj-rename-error`, `proj-duplicate`, `proj-export`, `proj-delete`),
/// `proj-trash` (its items `proj-trash-item` with `proj-days-left` and `proj-restore`),
/// `proj-export-all`, `proj-import`, `proj-import-error`, `proj-import-conflict`
/// (`proj-import-copy`, `proj-import-replace`, `proj-import-cancel`), `proj-notice`,
/// `proj-error`, `readonly-banner`, `proj-persist` (`data-persist`: `granted` or `refused`).
#[component]
pub fn ProjectsPanel() -> impl IntoView {
    let lang = use_lang();
    let ws = Workspace::new(lang);
    let listener = StoredValue::new(None::<u32>);
    spawn_local(async move {
        match Drafts::open().await {
            Ok(drafts) => {
                if let Some(reason) = drafts.read_only() {
                    ws.read_only.try_set(Some(reason));
                }
                let id = drafts.on_event(move |event| match event {
                    DraftsEvent::ReadOnly(reason) => {
                        ws.read_only.try_set(Some(reason.clone()));
                    }
                    DraftsEvent::RemoteSaved(_) => spawn_local(async move { ws.refresh().await }),
                    DraftsEvent::Persisted(answer) => {
                        ws.persist.try_set(Some(*answer));
                    }
                });
                listener.try_set_value(Some(id));
                if ws.drafts.try_set_value(Some(drafts.clone())).is_some() {
                    // The panel is gone already.
                    drafts.remove_listener(id);
                    return;
                }
                if let Err(e) = drafts.purge_expired().await {
                    ws.fail(e);
                }
                ws.refresh().await;
                ws.ready.try_set(true);
            }
            Err(e) => ws.fail(e),
        }
    });
    on_cleanup(move || {
        if let (Some(Some(drafts)), Some(Some(id))) =
            (ws.drafts.try_get_value(), listener.try_get_value())
        {
            drafts.remove_listener(id);
        }
    });

    let query = RwSignal::new(String::new());
    let shown = Memo::new(move |_| {
        query.with(|q| {
            ws.list
                .with(|list| search(list, q).into_iter().cloned().collect::<Vec<_>>())
        })
    });
    let read_only = move || ws.read_only.with(Option::is_some);
    let editor = move || {
        let (_, epoch) = ws.opened.get()?;
        let project = ws.opening.try_update_value(Option::take).flatten()?;
        let drafts = ws.drafts()?;
        let read_only = Signal::derive(move || ws.read_only.with(Option::is_some));
        let model = EditorModel::new(project, drafts, read_only);
        ws.editor.set_value(Some((epoch, model)));
        on_cleanup(move || {
            ws.editor.try_update_value(|open| {
                if open.as_ref().is_some_and(|(e, _)| *e == epoch) {
                    *open = None;
                }
            });
        });
        let exits = EditorExits {
            close: Rc::new(move || ws.close()),
            saved: Rc::new(move |meta| ws.saved(meta)),
            closed_elsewhere: Rc::new(move || ws.closed_elsewhere()),
        };
        Some(view! { <ProjectEditor model exits/> })
    };
    let reload = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };

    view! {
        <section class="ds-card ds-proj" aria-labelledby="proj-title" data-testid="projects" data-ready=move || ws.ready.get().to_string()>
            <div class="ds-heading-row">
                <h2 id="proj-title">{t("项目", "Projects")}</h2>
                <button
                    type="button"
                    class="ds-btn ds-btn--ghost"
                    data-testid="proj-export-all"
                    on:click=move |_| ws.export_all()
                >
                    {t("导出工作区备份", "Export workspace backup")}
                </button>
            </div>
            {move || ws.read_only.get().map(|reason| view! {
                <div class="ds-alert ds-alert--warn ds-proj-banner" role="alert" data-testid="readonly-banner">
                    <span>{move || reason.message(lang.get())}</span>
                    <button type="button" class="ds-btn ds-btn--small" on:click=reload>
                        {t("刷新本页", "Reload this page")}
                    </button>
                </div>
            })}
            {move || ws.problem.get().map(|e| view! {
                <div class="ds-alert ds-alert--error" role="alert" data-testid="proj-error">
                    {move || e.message(lang.get()).to_owned()}
                    " "
                    <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" on:click=move |_| ws.problem.set(None)>
                        {t("知道了", "Dismiss")}
                    </button>
                </div>
            })}
            <div class="ds-proj-tools">
                <CreateForm ws/>
                <ImportField ws/>
            </div>
            <ImportMessages ws/>
            {move || ws.persist.get().map(|answer| view! {
                <p
                    class="ds-field__hint"
                    data-testid="proj-persist"
                    data-persist=if answer == Persistence::Granted { "granted" } else { "refused" }
                >
                    {move || answer.message(lang.get())}
                </p>
            })}
            <label class="ds-field ds-proj-search">
                <span class="ds-field__label">{t("搜索项目（名称、角色、场景）", "Search projects (name, characters, scenes)")}</span>
                <input
                    type="search"
                    data-testid="proj-search"
                    autocomplete="off"
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
            </label>
            <Show
                when=move || shown.with(|l| !l.is_empty())
                fallback=move || {
                    let empty = move || ws.list.with(Vec::is_empty);
                    view! {
                        <p class="ds-field__hint" data-testid="proj-empty">
                            {move || if empty() {
                                t("还没有项目：输入名称创建第一个。", "No projects yet: type a name to create the first one.")()
                            } else {
                                t("没有匹配的项目。", "No project matches.")()
                            }}
                        </p>
                    }
                }
            >
                <ul class="ds-proj-list">
                    <For
                        each=move || shown.get()
                        key=|m| (m.id.clone(), m.name.clone(), m.episodes, m.scenes, m.shots, m.opened_ms.to_bits())
                        let:meta
                    >
                        <ProjectItem ws meta/>
                    </For>
                </ul>
            </Show>
            <TrashList ws/>
            <p class="ds-visually-hidden" aria-live="polite">
                {move || if read_only() { t("本页只读。", "This page is read-only.")() } else { "" }}
            </p>
        </section>
        {editor}
    }
}

/// The name field and button that create a project.
#[component]
fn CreateForm(
    /// The workspace.
    ws: Workspace,
) -> impl IntoView {
    let lang = use_lang();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<FieldError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match validate_name(&name.get_untracked()) {
            Ok(valid) => {
                error.set(None);
                name.set(String::new());
                ws.create(valid);
            }
            Err(e) => error.set(Some(FieldError::new(|l| e.message(l)))),
        }
    };
    view! {
        <form class="ds-proj-inline" on:submit=submit>
            <div class="ds-field" class:ds-field--invalid=move || error.with(Option::is_some)>
                <label for="proj-new-name">{t("新项目名称", "New project name")}</label>
                <input
                    id="proj-new-name"
                    type="text"
                    data-testid="proj-new-name"
                    autocomplete="off"
                    aria-invalid=move || error.with(Option::is_some).then_some("true")
                    aria-describedby=move || error.with(Option::is_some).then_some("proj-new-name-error")
                    prop:value=move || name.get()
                    on:input=move |ev| {
                        name.set(event_target_value(&ev));
                        error.set(None);
                    }
                />
                {move || error.get().map(|e| view! {
                    <span class="ds-field__error" id="proj-new-name-error" data-testid="proj-new-name-error">
                        {move || e.message(lang.get()).to_owned()}
                    </span>
                })}
            </div>
            <button type="submit" class="ds-btn" data-testid="proj-create">
                {t("创建项目", "Create project")}
            </button>
        </form>
    }
}

/// The file picker that imports a project file or a workspace backup.
#[component]
fn ImportField(
    /// The workspace.
    ws: Workspace,
) -> impl IntoView {
    let on_change = move |ev: web_sys::Event| {
        let file = picked_file(&ev);
        // Let the same file be picked again later.
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.set_value("");
        }
        if let Some(file) = file {
            ws.import_file(file);
        }
    };
    view! {
        <label class="ds-field ds-proj-import">
            <span class="ds-field__label">
                {t("导入项目文件或工作区备份（JSON，最大 20 MB）", "Import a project file or workspace backup (JSON, up to 20 MB)")}
            </span>
            <input type="file" accept=".json,application/json" data-testid="proj-import" on:change=on_change/>
        </label>
    }
}

/// What an import said: its error, the question when the project is already here, or what it
/// imported.
#[component]
fn ImportMessages(
    /// The workspace.
    ws: Workspace,
) -> impl IntoView {
    let lang = use_lang();
    let replace = Callback::new(move |()| {
        if let Some(conflict) = ws.conflict.get_untracked() {
            ws.resolve_conflict(Some(ImportMode::Replace { id: conflict.id }));
        }
    });
    view! {
        {move || ws.import_error.get().map(|e| view! {
            <div class="ds-alert ds-alert--error" role="alert" data-testid="proj-import-error">
                {move || e.message(lang.get()).to_owned()}
            </div>
        })}
        {move || ws.conflict.get().map(|conflict| view! {
            <div class="ds-alert ds-alert--warn ds-proj-conflict" role="alert" data-testid="proj-import-conflict">
                <p>
                    {move || match lang.get() {
                        Lang::ZhCn => format!("文件中的项目「{}」已在本工作区中。要怎样导入？", conflict.name),
                        Lang::En => format!("The project “{}” in this file is already in this workspace. How should it be imported?", conflict.name),
                    }}
                </p>
                <div class="ds-actions">
                    <button
                        type="button"
                        class="ds-btn ds-btn--small"
                        data-testid="proj-import-copy"
                        on:click=move |_| ws.resolve_conflict(Some(ImportMode::Copy))
                    >
                        {t("作为副本导入", "Import as a copy")}
                    </button>
                    <ConfirmButton
                        testid="proj-import-replace"
                        label=Signal::derive(t("替换现有项目", "Replace the existing project"))
                        on_confirm=replace
                    />
                    <button
                        type="button"
                        class="ds-btn ds-btn--small ds-btn--ghost"
                        data-testid="proj-import-cancel"
                        on:click=move |_| ws.resolve_conflict(None)
                    >
                        {t("不导入", "Don’t import")}
                    </button>
                </div>
            </div>
        })}
        {move || ws.notice.get().map(|n| view! {
            <p class="ds-alert ds-alert--ok" role="status" data-testid="proj-notice">
                {move || n.message(lang.get()).to_owned()}
            </p>
        })}
    }
}

/// One project of the list, with its actions; the name is renamed in place.
#[component]
fn ProjectItem(
    /// The workspace.
    ws: Workspace,
    /// The project's list entry.
    meta: ProjectMeta,
) -> impl IntoView {
    let lang = use_lang();
    let id = StoredValue::new(meta.id.clone());
    let name = StoredValue::new(meta.name.clone());
    let renaming = RwSignal::new(false);
    let draft = RwSignal::new(meta.name.clone());
    let error = RwSignal::new(None::<FieldError>);
    let dom = format!("proj-{}", crate::ui::common::book_editing::dom_id(&meta.id));
    let name_id = format!("{dom}-name");
    let input_id = format!("{dom}-rename");
    let error_id = format!("{dom}-rename-error");
    let is_open = move || {
        ws.opened.with(|o| {
            o.as_ref()
                .is_some_and(|(open, _)| id.with_value(|id| id == open))
        })
    };
    let save = move || match validate_name(&draft.get_untracked()) {
        Ok(valid) => {
            renaming.set(false);
            ws.rename(id.get_value(), valid);
        }
        Err(e) => error.set(Some(FieldError::new(|l| e.message(l)))),
    };
    let on_key = move |ev: web_sys::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            save();
        }
        "Escape" => renaming.set(false),
        _ => {}
    };
    let details = move || {
        let (e, s, k) = (meta.episodes, meta.scenes, meta.shots);
        let opened = format_time(meta.opened_ms, lang.get());
        match lang.get() {
            Lang::ZhCn => format!("{e} 集 · {s} 场 · {k} 个镜头 · 上次打开 {opened}"),
            Lang::En => format!("{e} episodes · {s} scenes · {k} shots · last opened {opened}"),
        }
    };
    let delete = Callback::new(move |()| ws.delete(id.get_value()));
    let rename_view = {
        let (input_id, error_id) = (input_id.clone(), error_id.clone());
        move || {
            let (input_id, error_id) = (input_id.clone(), error_id.clone());
            renaming.get().then(|| view! {
                <div class="ds-proj-rename">
                    <div class="ds-field" class:ds-field--invalid=move || error.with(Option::is_some)>
                        <label for=input_id.clone()>{t("新名称", "New name")}</label>
                        <input
                            id=input_id.clone()
                            type="text"
                            data-testid="proj-rename-input"
                            autocomplete="off"
                            aria-invalid=move || error.with(Option::is_some).then_some("true")
                            aria-describedby={
                                let error_id = error_id.clone();
                                move || error.with(Option::is_some).then(|| error_id.clone())
                            }
                            prop:value=move || draft.get()
                            on:input=move |ev| {
                                let text = event_target_value(&ev);
                                error.set(validate_name(&text).err().map(|e| FieldError::new(|l| e.message(l))));
                                draft.set(text);
                            }
                            on:keydown=on_key
                        />
                        {
                            let error_id = error_id.clone();
                            move || error.get().map(|e| view! {
                                <span class="ds-field__error" id=error_id.clone() data-testid="proj-rename-error">
                                    {move || e.message(lang.get()).to_owned()}
                                </span>
                            })
                        }
                    </div>
                    <button type="button" class="ds-btn ds-btn--small" data-testid="proj-rename-save" on:click=move |_| save()>
                        {t("保存名称", "Save name")}
                    </button>
                    <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" data-testid="proj-rename-cancel" on:click=move |_| renaming.set(false)>
                        {t("取消", "Cancel")}
                    </button>
                </div>
            })
        }
    };
    let start_rename = {
        let input_id = input_id.clone();
        move |_| {
            draft.set(name.get_value());
            error.set(None);
            renaming.set(true);
            let input_id = input_id.clone();
            request_animation_frame(move || {
                if let Some(input) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(&input_id))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                {
                    let _ = input.focus();
                    input.select();
                }
            });
        }
    };
    view! {
        <li
            class="ds-proj-item"
            class:ds-proj-item--open=is_open
            data-testid="proj-item"
            data-id=meta.id.clone()
            aria-current=move || is_open().then_some("true")
        >
            <div class="ds-proj-item__text">
                <span class="ds-proj-item__name" id=name_id.clone() data-testid="proj-name">{meta.name.clone()}</span>
                <span class="ds-proj-item__meta">{details}</span>
            </div>
            {rename_view}
            <div class="ds-proj-item__actions" role="group" aria-labelledby=name_id>
                <button type="button" class="ds-btn ds-btn--small" data-testid="proj-open" on:click=move |_| ws.open(id.get_value())>
                    {t("打开", "Open")}
                </button>
                <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" data-testid="proj-rename" on:click=start_rename>
                    {t("重命名", "Rename")}
                </button>
                <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" data-testid="proj-duplicate" on:click=move |_| ws.duplicate(id.get_value(), lang.get_untracked())>
                    {t("复制", "Duplicate")}
                </button>
                <button type="button" class="ds-btn ds-btn--small ds-btn--ghost" data-testid="proj-export" on:click=move |_| ws.export(id.get_value(), name.get_value())>
                    {t("导出", "Export")}
                </button>
                <ConfirmButton testid="proj-delete" label=Signal::derive(t("删除", "Delete")) on_confirm=delete/>
            </div>
        </li>
    }
}

/// The trash: deleted projects with the days they have left, each restorable.
#[component]
fn TrashList(
    /// The workspace.
    ws: Workspace,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="ds-proj-trash" data-testid="proj-trash" aria-labelledby="proj-trash-title">
            <h3 id="proj-trash-title">
                {move || match lang.get() {
                    Lang::ZhCn => format!("回收站（{}）", ws.trash.with(Vec::len)),
                    Lang::En => format!("Trash ({})", ws.trash.with(Vec::len)),
                }}
            </h3>
            <p class="ds-field__hint">
                {t("删除的项目会在回收站保留 30 天，之后永久删除。", "Deleted projects stay in the trash for 30 days, then are deleted for good.")}
            </p>
            <ul class="ds-proj-list">
                <For each=move || ws.trash.get() key=|m| (m.id.clone(), m.deleted_ms.map(f64::to_bits)) let:meta>
                    {
                        let id = meta.id.clone();
                        let days = days_left(&meta, tabs::now_ms());
                        view! {
                            <li class="ds-proj-item ds-proj-item--trashed" data-testid="proj-trash-item" data-id=meta.id.clone()>
                                <div class="ds-proj-item__text">
                                    <span class="ds-proj-item__name">{meta.name.clone()}</span>
                                    <span class="ds-proj-item__meta" data-testid="proj-days-left" data-days=days>
                                        {move || match lang.get() {
                                            Lang::ZhCn => format!("还剩 {days} 天"),
                                            Lang::En => format!("{days} days left"),
                                        }}
                                    </span>
                                </div>
                                <button
                                    type="button"
                                    class="ds-btn ds-btn--small ds-btn--ghost"
                                    data-testid="proj-restore"
                                    on:click=move |_| ws.restore(id.clone())
                                >
                                    {t("恢复", "Restore")}
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}
