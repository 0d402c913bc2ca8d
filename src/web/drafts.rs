//! Project drafts in IndexedDB: the projects list, saves that merge instead of overwrite,
//! the trash, snapshots, export and import, the autosaver, and the tabs' coordination.
//!
//! **Stores** (schema 2, see [`crate::web::idb`]): `projects` (the project as JSON, by id),
//! `project_meta` (its list entry, written in the same transaction), `snapshots`
//! (`{project id}~…`). Every operation is one transaction: it lands whole or not at all, so a
//! full disk or a crash never leaves half a save, and the record saved before stays as it was.
//!
//! **Saves merge.** [`Drafts::save`] reads the stored copy in the same transaction and merges
//! it shot by shot with the one being saved ([`merge_projects`]): an edit made meanwhile in
//! another tab is kept, and a losing edit of the same shot goes to the project's history. The
//! merged project is returned; the caller adopts it.
//!
//! **Tabs.** After each write the tab posts a [`SavedNotice`] on the `duanju-drafts` channel;
//! the others get a [`DraftsEvent::RemoteSaved`] and call [`Drafts::merge_remote`]. A tab that
//! hears from a newer version of the app, or whose connection another tab upgrades
//! (`versionchange`), becomes read-only ([`ReadOnly`]) and asks the user to reload.
//!
//! **Closing the page.** The [`Autosaver`] debounces saves (300 ms) and flushes when the page
//! is hidden or left. Then there may be no later turn to wait for a read (mobile browsers may
//! kill a hidden page without `pagehide`), so on `visibilitychange` to hidden and on `pagehide`
//! the unsaved project is first written as it is to a journal record in `kv` (one put,
//! committed at once); the next [`Drafts::open`] merges every journal into its project, and
//! the autosaver's next successful save deletes it. A failed save is retried (1 s, 2 s, 4 s…
//! up to 30 s), and until one succeeds the browser warns before the page is left
//! (`beforeunload`).
//!
//! **Persistence.** After a project is created, the browser is asked once to keep this
//! origin's storage under pressure (`navigator.storage.persist()`); the answer is kept as a
//! preference ([`Persistence::stored`]) and heard as [`DraftsEvent::Persisted`].
//!
//! ```no_run
//! # async fn example() -> Result<(), duanju_studio::web::drafts::DraftError> {
//! use duanju_studio::web::drafts::{Autosaver, Drafts};
//!
//! let drafts = Drafts::open().await?;
//! let mut project = drafts.create("逆袭千金").await?;
//! let autosaver = Autosaver::new(drafts.clone());
//! autosaver.on_status(|status| web_sys::console::log_1(&format!("{status:?}").into()));
//! project.edit(duanju_studio::web::tabs::now_ms(), drafts.tab_id(), |p| p.settings.style = "冷色调".into());
//! autosaver.schedule(project);
//! # Ok(()) }
//! ```

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::{Rc, Weak};

use wasm_bindgen::prelude::*;

use crate::domain::i18n::Lang;
use crate::domain::project::file::{
    export_project, export_workspace, load_any, load_record, ImportError, Loaded,
};
use crate::domain::project::merge::{merge_projects, SavedNotice};
use crate::domain::project::{
    before_import_name, before_restore_name, duplicate_name, purge_expired, settled_deletion_ms,
    sort_recent, validate_name, Episode, IdGen, NameError, Project, ProjectMeta, Snapshot,
    SnapshotMeta, PROJECT_SCHEMA_VERSION,
};
use crate::web::idb::{
    self, Db, StorageError, Tx, EPISODES, KV, PROJECTS, PROJECT_META, SNAPSHOTS,
};
use crate::web::prefs;
use crate::web::tabs::{self, PageHideHooks, TabChannel};
use crate::web::timer::Timer;

/// The `kv` keys under which schema-1 databases kept projects (`project:<id>`).
pub const V1_PROJECT_PREFIX: &str = "project:";
/// The `kv` keys of pagehide journals (`drafts.journal:<id>`).
pub const JOURNAL_PREFIX: &str = "drafts.journal:";
/// The `kv` keys where a stored project that no longer reads is kept before it is replaced.
pub const DAMAGED_PREFIX: &str = "drafts.damaged:";
/// The autosave delay.
pub const AUTOSAVE_DELAY_MS: i32 = 300;
/// The longest wait before a failed save is retried.
pub const RETRY_MAX_MS: i32 = 30_000;
/// The preference ([`crate::web::prefs`]) holding the answer to `navigator.storage.persist()`:
/// `granted`, `refused`, or `asked` while (or if ever) no answer came.
pub const PERSIST_PREF: &str = "storage.persist";

/// Whether the browser keeps the drafts when storage runs low: its answer to
/// `navigator.storage.persist()`, asked once after a project is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// Stored persistently: not cleared under storage pressure.
    Granted,
    /// Best effort: the browser may clear the drafts under storage pressure.
    Refused,
}

impl Persistence {
    /// The answer the browser gave, if it was asked and answered.
    pub fn stored() -> Option<Persistence> {
        match prefs::get(PERSIST_PREF)?.as_str() {
            "granted" => Some(Persistence::Granted),
            "refused" => Some(Persistence::Refused),
            _ => None,
        }
    }

    /// What the answer means for the user.
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            Persistence::Granted => lang.pick(
                "草稿已持久保存：存储空间紧张时浏览器也不会清除。",
                "Drafts are stored persistently: the browser will not clear them when storage runs low.",
            ),
            Persistence::Refused => lang.pick(
                "浏览器未同意持久保存：存储空间紧张时可能清除草稿。请用「导出工作区备份」保留一份备份。",
                "The browser did not agree to store persistently: it may clear the drafts when storage runs low. Keep a backup with “Export workspace backup”.",
            ),
        }
    }
}

/// Calls `navigator.storage.persist()`; `None` where the browser has no storage manager or
/// gives no answer.
async fn ask_persist() -> Option<Persistence> {
    use js_sys::{Function, Promise, Reflect};
    let navigator = web_sys::window()?.navigator();
    let storage = Reflect::get(&navigator, &"storage".into()).ok()?;
    let persist: Function = Reflect::get(&storage, &"persist".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: Promise = persist.call0(&storage).ok()?.dyn_into().ok()?;
    let granted = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    Some(match granted.as_bool() {
        Some(true) => Persistence::Granted,
        _ => Persistence::Refused,
    })
}

/// Why this tab stopped writing.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadOnly {
    /// Another tab announced a save made by a newer version of the app.
    NewerVersionInAnotherTab {
        /// Its project shape.
        schema_version: u32,
        /// Its storage schema.
        db_version: u32,
    },
    /// Another tab upgraded the database: this tab's connection was closed.
    UpgradedElsewhere,
    /// A stored project was written by a newer version of the app.
    NewerRecord,
}

impl ReadOnly {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        lang.pick(
            "另一个标签页运行着更新的版本：请刷新本页。在刷新之前，本页的修改不会保存。",
            "Another tab runs a newer version: reload this page. Until then, changes made here are not saved.",
        )
        .into()
    }
}

/// Why a drafts operation failed. Whatever the reason, what was saved before is unchanged.
#[derive(Clone, Debug, PartialEq)]
pub enum DraftError {
    /// IndexedDB refused (full disk, blocked upgrade, unavailable, damaged record).
    Storage(StorageError),
    /// An import file (or a stored record) could not be read.
    Import(ImportError),
    /// No project (or snapshot) with this id.
    NotFound(String),
    /// This tab no longer writes.
    ReadOnly(ReadOnly),
    /// The name was refused.
    Name(NameError),
    /// The project's 30 days in the trash are over.
    Expired,
    /// Replacing takes a file of one project, not a workspace backup.
    ReplaceNeedsOneProject,
}

impl DraftError {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            DraftError::Storage(e) => e.message(lang),
            DraftError::Import(e) => e.message(lang),
            DraftError::NotFound(id) => match lang {
                Lang::ZhCn => format!("找不到该项目或版本（{id}），可能已在另一个标签页中删除。"),
                Lang::En => format!("This project or version ({id}) was not found; another tab may have deleted it."),
            },
            DraftError::ReadOnly(reason) => reason.message(lang),
            DraftError::Name(e) => e.message(lang),
            DraftError::Expired => lang
                .pick(
                    "该项目在回收站中已超过 30 天，无法恢复。",
                    "This project has been in the trash for more than 30 days and can no longer be restored.",
                )
                .into(),
            DraftError::ReplaceNeedsOneProject => lang
                .pick(
                    "工作区备份只能作为副本导入；替换需要单个项目文件。",
                    "A workspace backup can only be imported as copies; replacing takes a single project file.",
                )
                .into(),
        }
    }
}

impl From<StorageError> for DraftError {
    fn from(e: StorageError) -> DraftError {
        DraftError::Storage(e)
    }
}

/// How an import treats the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportMode {
    /// Add the file's projects as new projects with new ids: nothing existing changes.
    Copy,
    /// Replace the project `id` with the file's project, after the user confirmed. The current
    /// state is kept as a snapshot first.
    Replace {
        /// The project to replace.
        id: String,
    },
}

/// What a tab hears about the workspace.
#[derive(Clone, Debug, PartialEq)]
pub enum DraftsEvent {
    /// Another tab saved a project: merge it if it is open ([`Drafts::merge_remote`]).
    RemoteSaved(SavedNotice),
    /// This tab stopped writing.
    ReadOnly(ReadOnly),
    /// The browser answered whether it stores the drafts persistently.
    Persisted(Persistence),
}

type Listener = Rc<dyn Fn(&DraftsEvent)>;
/// Per project id: the stored text last seen and its parse.
/// Per project: the record text last read or written, its project, and the ids of the
/// episodes that have their own record (none for a record of schema 2).
type KnownRecords = HashMap<String, (Rc<str>, Rc<Project>, Rc<HashSet<String>>)>;

struct Inner {
    db: Db,
    tab_id: String,
    ids: RefCell<IdGen>,
    read_only: RefCell<Option<ReadOnly>>,
    channel: RefCell<Option<TabChannel>>,
    listeners: RefCell<Vec<(u32, Listener)>>,
    next_listener: Cell<u32>,
    /// The last text this tab read or wrote per project, with its parse: a stored text equal
    /// to it needs no parsing.
    known: RefCell<KnownRecords>,
    /// Writes of project records by this tab (see [`Drafts::put_project`]).
    writes: Cell<u64>,
    fail_next_write: RefCell<Option<StorageError>>,
}

/// The drafts of this workspace, as seen by this tab. Cheap to clone; open it once per page.
#[derive(Clone)]
pub struct Drafts {
    inner: Rc<Inner>,
}

impl Drafts {
    /// Opens the app's drafts (the shared database and the `duanju-drafts` channel), merges any
    /// journal a closed page left and moves any schema-1 project into its stores.
    pub async fn open() -> Result<Drafts, DraftError> {
        let db = idb::shared().await?;
        Drafts::with_db(db, tabs::CHANNEL).await
    }

    /// Opens the drafts of another database on its own connection: tests use their own
    /// names, and two calls with one name act as two tabs.
    pub async fn open_named(name: &str) -> Result<Drafts, DraftError> {
        let db = Db::open_named(name).await?;
        Drafts::with_db(db, &format!("{}:{name}", tabs::CHANNEL)).await
    }

    async fn with_db(db: Db, channel: &str) -> Result<Drafts, DraftError> {
        let tab_id = tabs::new_tab_id();
        let inner = Rc::new(Inner {
            db,
            ids: RefCell::new(IdGen::new(tab_id.trim_start_matches("tab-"))),
            tab_id,
            read_only: RefCell::new(None),
            channel: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(0),
            known: RefCell::new(HashMap::new()),
            writes: Cell::new(0),
            fail_next_write: RefCell::new(None),
        });
        let weak = Rc::downgrade(&inner);
        inner.db.on_version_change(move || {
            if let Some(inner) = weak.upgrade() {
                Drafts { inner }.become_read_only(ReadOnly::UpgradedElsewhere);
            }
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let channel = TabChannel::open(channel, move |notice: SavedNotice| {
            if let Some(inner) = weak.upgrade() {
                Drafts { inner }.hear(notice);
            }
        });
        *inner.channel.borrow_mut() = channel;
        let drafts = Drafts { inner };
        drafts.settle_kv_records().await?;
        Ok(drafts)
    }

    /// This tab's id, written on its edits.
    pub fn tab_id(&self) -> &str {
        &self.inner.tab_id
    }

    /// Why this tab no longer writes, if it does not.
    pub fn read_only(&self) -> Option<ReadOnly> {
        self.inner.read_only.borrow().clone()
    }

    /// Calls `f` for every [`DraftsEvent`]; returns an id for [`Drafts::remove_listener`].
    pub fn on_event(&self, f: impl Fn(&DraftsEvent) + 'static) -> u32 {
        let id = self.inner.next_listener.get() + 1;
        self.inner.next_listener.set(id);
        self.inner.listeners.borrow_mut().push((id, Rc::new(f)));
        id
    }

    /// Stops calling a listener.
    pub fn remove_listener(&self, id: u32) {
        self.inner.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }

    /// Makes the next write fail with `error` after its records were queued, aborting its
    /// transaction (as a full disk does). For tests of the failure path.
    #[doc(hidden)]
    pub fn fail_next_write(&self, error: StorageError) {
        *self.inner.fail_next_write.borrow_mut() = Some(error);
    }

    /// Closes the connection and the channel.
    pub fn close(&self) {
        self.inner.channel.borrow_mut().take();
        self.inner.db.close();
    }

    fn emit(&self, event: DraftsEvent) {
        let listeners: Vec<Listener> = self
            .inner
            .listeners
            .borrow()
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        for listener in listeners {
            listener(&event);
        }
    }

    fn become_read_only(&self, reason: ReadOnly) {
        if self.inner.read_only.borrow().is_some() {
            return;
        }
        *self.inner.read_only.borrow_mut() = Some(reason.clone());
        self.emit(DraftsEvent::ReadOnly(reason));
    }

    fn hear(&self, notice: SavedNotice) {
        if notice.tab_id == self.inner.tab_id {
            return;
        }
        if notice.is_from_newer_version(PROJECT_SCHEMA_VERSION, idb::SCHEMA_VERSION) {
            self.become_read_only(ReadOnly::NewerVersionInAnotherTab {
                schema_version: notice.schema_version,
                db_version: notice.db_version,
            });
        }
        self.emit(DraftsEvent::RemoteSaved(notice));
    }

    fn writable(&self) -> Result<(), DraftError> {
        match self.read_only() {
            Some(reason) => Err(DraftError::ReadOnly(reason)),
            None => Ok(()),
        }
    }

    fn next_id(&self, kind: &str) -> String {
        self.inner.ids.borrow_mut().next_id(kind)
    }

    /// Reads a stored project from its record's text (read in `tx`) and its episodes' records,
    /// using the cache when the text is the one last seen: the record is rewritten with every
    /// change, so the same text means the same project, episodes included.
    async fn parse(&self, tx: &Tx, id: &str, text: &str) -> Result<Rc<Project>, DraftError> {
        if let Some((known, project, _)) = self.inner.known.borrow().get(id) {
            if **known == *text {
                return Ok(project.clone());
            }
        }
        let corrupt = |e: String| DraftError::Storage(StorageError::Corrupt(e));
        let mut project = match load_record(text) {
            Ok(project) => project,
            Err(ImportError::NewerVersion { .. }) => {
                self.become_read_only(ReadOnly::NewerRecord);
                return Err(DraftError::ReadOnly(ReadOnly::NewerRecord));
            }
            Err(e) => return Err(corrupt(format!("{PROJECTS}/{id}: {}", e.message(Lang::En)))),
        };
        // Schema 3 keeps each episode apart; a record written by schema 2 has them inline
        // (and no episode records), and reads as it is.
        let (lower, upper) = episode_range(id);
        let mut apart = HashSet::new();
        for record in tx.texts_in_range(EPISODES, &lower, &upper).await? {
            let episode: Episode = serde_json::from_str(&record)
                .map_err(|e| corrupt(format!("{EPISODES}/{id}: {e}")))?;
            if let Some(slot) = project.episodes.iter_mut().find(|e| e.id == episode.id) {
                apart.insert(episode.id.clone());
                *slot = episode;
            }
        }
        let project = Rc::new(project);
        self.remember(id, text, project.clone(), apart);
        Ok(project)
    }

    fn remember(&self, id: &str, text: &str, project: Rc<Project>, apart: HashSet<String>) {
        self.inner
            .known
            .borrow_mut()
            .insert(id.to_owned(), (Rc::from(text), project, Rc::new(apart)));
    }

    /// Queues the writes of a project and its list entry: its record without the episodes'
    /// scenes, and each episode apart. An episode equal to the stored one (this tab's last
    /// read or write of the project, which every write of an existing project makes first in
    /// the same transaction) is not written again.
    fn put_project(&self, tx: &Tx, project: &Project) -> Result<String, DraftError> {
        let before = self
            .inner
            .known
            .borrow()
            .get(&project.id)
            .map(|(_, p, apart)| (p.clone(), apart.clone()));
        let stored_as = |id: &str| {
            before
                .as_ref()
                .filter(|(_, apart)| apart.contains(id))
                .and_then(|(b, _)| b.episodes.iter().find(|e| e.id == id))
        };
        for episode in &project.episodes {
            if stored_as(&episode.id) != Some(episode) {
                tx.put(EPISODES, &episode_key(&project.id, &episode.id), episode)?;
            }
        }
        if let Some((before, _)) = &before {
            for gone in before
                .episodes
                .iter()
                .filter(|e| !project.episodes.iter().any(|n| n.id == e.id))
            {
                tx.delete(EPISODES, &episode_key(&project.id, &gone.id))?;
            }
        }
        let json = serde_json::to_string(&record_of(project))
            .map_err(|e| StorageError::Other(e.to_string()))?;
        // Every write's record text is new (a field the reader ignores names the write), so
        // an unchanged text means unchanged episodes too: see [`Self::parse`].
        let write = self.inner.writes.get() + 1;
        self.inner.writes.set(write);
        let text = format!(
            "{{\"write\":\"{}-{write}\",{}",
            self.inner.tab_id,
            &json[1..]
        );
        tx.put_text(PROJECTS, &project.id, &text)?;
        tx.put(PROJECT_META, &project.id, &project.meta())?;
        Ok(text)
    }

    /// Commits, or aborts when a failure was injected for tests.
    async fn finish(&self, tx: Tx) -> Result<(), DraftError> {
        let injected = self.inner.fail_next_write.borrow_mut().take();
        if let Some(error) = injected {
            tx.abort();
            let _ = tx.finished().await;
            return Err(DraftError::Storage(error));
        }
        tx.commit().await.map_err(DraftError::Storage)
    }

    fn announce(&self, project: &Project) {
        let notice = SavedNotice::of(
            project,
            &self.inner.tab_id,
            idb::SCHEMA_VERSION,
            tabs::now_ms(),
        );
        if let Some(channel) = self.inner.channel.borrow().as_ref() {
            channel.post(&notice);
        }
    }

    /// Reads the stored copy inside `tx`, or `NotFound`.
    async fn stored(&self, tx: &Tx, id: &str) -> Result<Rc<Project>, DraftError> {
        let text = tx
            .get_text(PROJECTS, id)
            .await?
            .ok_or_else(|| DraftError::NotFound(id.to_owned()))?;
        self.parse(tx, id, &text).await
    }

    /// Writes `project` in `tx`, commits, remembers and announces it.
    async fn write(&self, tx: Tx, project: Project) -> Result<Project, DraftError> {
        let text = match self.put_project(&tx, &project) {
            Ok(text) => text,
            Err(e) => {
                tx.abort();
                return Err(e);
            }
        };
        self.finish(tx).await?;
        let id = project.id.clone();
        let project = Rc::new(project);
        let apart = project.episodes.iter().map(|e| e.id.clone()).collect();
        self.remember(&id, &text, project.clone(), apart);
        self.announce(&project);
        Ok(Rc::unwrap_or_clone(project))
    }

    /// Applies `change` to the stored project in one transaction and returns the result.
    async fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut Project) -> Result<(), DraftError>,
    ) -> Result<Project, DraftError> {
        self.writable()?;
        let tx = self
            .inner
            .db
            .transaction(&[PROJECTS, EPISODES, PROJECT_META], true)?;
        let mut project = (*self.stored(&tx, id).await?).clone();
        if let Err(e) = change(&mut project) {
            tx.abort();
            return Err(e);
        }
        self.write(tx, project).await
    }

    /// The live projects, the last opened first.
    pub async fn list(&self) -> Result<Vec<ProjectMeta>, DraftError> {
        let mut list = self.metas().await?;
        list.retain(|m| m.deleted_ms.is_none());
        sort_recent(&mut list);
        Ok(list)
    }

    /// The projects in the trash, the most recently deleted first.
    pub async fn list_trash(&self) -> Result<Vec<ProjectMeta>, DraftError> {
        let mut list = self.metas().await?;
        list.retain(|m| m.deleted_ms.is_some());
        list.sort_by(|a, b| {
            b.deleted_ms
                .unwrap_or(0.0)
                .total_cmp(&a.deleted_ms.unwrap_or(0.0))
        });
        Ok(list)
    }

    async fn metas(&self) -> Result<Vec<ProjectMeta>, DraftError> {
        let tx = self.inner.db.transaction(&[PROJECT_META], false)?;
        let texts = tx.all_texts(PROJECT_META).await?;
        Ok(texts
            .iter()
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect())
    }

    /// One project.
    pub async fn load(&self, id: &str) -> Result<Project, DraftError> {
        let tx = self.inner.db.transaction(&[PROJECTS, EPISODES], false)?;
        let project = self.stored(&tx, id).await?;
        Ok((*project).clone())
    }

    /// Opens a project: loads it and records that it was opened now (the list's order).
    pub async fn open_project(&self, id: &str) -> Result<Project, DraftError> {
        if self.read_only().is_some() {
            return self.load(id).await;
        }
        let now = tabs::now_ms();
        self.update(id, |p| {
            p.opened_ms = now;
            Ok(())
        })
        .await
    }

    /// Creates an empty project.
    pub async fn create(&self, name: &str) -> Result<Project, DraftError> {
        self.writable()?;
        let name = validate_name(name).map_err(DraftError::Name)?;
        let project = Project::new(self.next_id("p"), name, tabs::now_ms(), &self.inner.tab_id);
        let tx = self
            .inner
            .db
            .transaction(&[PROJECTS, EPISODES, PROJECT_META], true)?;
        let project = self.write(tx, project).await?;
        self.ask_persistence_once();
        Ok(project)
    }

    /// Asks the browser, once per origin (remembered in [`PERSIST_PREF`]), to store the drafts
    /// persistently, without waiting (a browser may ask the user); the answer is kept and
    /// heard as [`DraftsEvent::Persisted`].
    fn ask_persistence_once(&self) {
        if prefs::get(PERSIST_PREF).is_some() {
            return;
        }
        prefs::set(PERSIST_PREF, "asked");
        let drafts = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(answer) = ask_persist().await {
                let tag = match answer {
                    Persistence::Granted => "granted",
                    Persistence::Refused => "refused",
                };
                prefs::set(PERSIST_PREF, tag);
                drafts.emit(DraftsEvent::Persisted(answer));
            }
        });
    }

    /// Saves a project: merged, in one transaction, with the copy stored meanwhile (by another
    /// tab, or by this one through another path). Returns the merged project, which the
    /// caller adopts.
    pub async fn save(&self, project: &Project) -> Result<Project, DraftError> {
        self.writable()?;
        let tx = self
            .inner
            .db
            .transaction(&[PROJECTS, EPISODES, PROJECT_META], true)?;
        let merged = match tx.get_text(PROJECTS, &project.id).await? {
            None => project.clone(),
            Some(text) => match self.parse(&tx, &project.id, &text).await {
                Ok(stored) => merge_projects(project, &stored, tabs::now_ms()),
                Err(DraftError::Storage(StorageError::Corrupt(_))) => {
                    // Keep what no longer reads beside the project before replacing it.
                    let key = format!("{DAMAGED_PREFIX}{}:{}", project.id, tabs::now_ms());
                    self.inner.known.borrow_mut().remove(&project.id);
                    tx.abort();
                    let _ = tx.finished().await;
                    self.inner.db.put(KV, &key, &text).await?;
                    return self.write_fresh(project).await;
                }
                Err(e) => {
                    tx.abort();
                    return Err(e);
                }
            },
        };
        self.write(tx, merged).await
    }

    async fn write_fresh(&self, project: &Project) -> Result<Project, DraftError> {
        let tx = self
            .inner
            .db
            .transaction(&[PROJECTS, EPISODES, PROJECT_META], true)?;
        self.write(tx, project.clone()).await
    }

    /// The stored copy merged into `local`, without writing: what a tab shows after another
    /// tab saved the project it has open.
    pub async fn merge_remote(&self, local: &Project) -> Result<Project, DraftError> {
        let stored = self.load(&local.id).await?;
        Ok(merge_projects(local, &stored, tabs::now_ms()))
    }

    /// Renames a project (the name is checked and trimmed).
    pub async fn rename(&self, id: &str, name: &str) -> Result<Project, DraftError> {
        let name = validate_name(name).map_err(DraftError::Name)?;
        let (now, tab) = (tabs::now_ms(), self.inner.tab_id.clone());
        self.update(id, |p| {
            p.edit(now, &tab, |p| p.name = name);
            Ok(())
        })
        .await
    }

    /// Copies a project under a new id, with new shot ids and the name `… (副本)` / `… (copy)`.
    pub async fn duplicate(&self, id: &str, lang: Lang) -> Result<Project, DraftError> {
        self.writable()?;
        let tx = self
            .inner
            .db
            .transaction(&[PROJECTS, EPISODES, PROJECT_META], true)?;
        let source = self.stored(&tx, id).await?;
        let mut copy = {
            let mut ids = self.inner.ids.borrow_mut();
            source.with_new_ids(&mut ids, tabs::now_ms(), &self.inner.tab_id)
        };
        copy.name = duplicate_name(&source.name, lang);
        self.write(tx, copy).await
    }

    /// Moves a project to the trash, restorable for 30 days.
    pub async fn delete(&self, id: &str) -> Result<Project, DraftError> {
        let (now, tab) = (tabs::now_ms(), self.inner.tab_id.clone());
        self.update(id, |p| {
            p.edit(now, &tab, |p| p.deleted_ms = Some(now));
            Ok(())
        })
        .await
    }

    /// Takes a project out of the trash.
    pub async fn restore(&self, id: &str) -> Result<Project, DraftError> {
        let (now, tab) = (tabs::now_ms(), self.inner.tab_id.clone());
        self.update(id, |p| {
            if !p.is_restorable(now) {
                return Err(DraftError::Expired);
            }
            p.edit(now, &tab, |p| p.deleted_ms = None);
            Ok(())
        })
        .await
    }

    /// Deletes a project and its snapshots for good. (Its clips stay until the batch engine's
    /// clean-up, since clips may be shared with a duplicate.)
    pub async fn purge(&self, id: &str) -> Result<(), DraftError> {
        self.purge_all(&[id.to_owned()]).await
    }

    async fn purge_all(&self, ids: &[String]) -> Result<(), DraftError> {
        self.writable()?;
        let tx = self
            .inner
            .db
            .transaction(&[PROJECTS, EPISODES, PROJECT_META, SNAPSHOTS], true)?;
        for id in ids {
            let (lower, upper) = episode_range(id);
            let queued = tx
                .delete(PROJECTS, id)
                .and_then(|_| tx.delete_range(EPISODES, &lower, &upper))
                .and_then(|_| tx.delete(PROJECT_META, id))
                .and_then(|_| {
                    tx.delete_range(SNAPSHOTS, &format!("{id}~"), &format!("{id}~\u{FFFF}"))
                });
            if let Err(e) = queued {
                tx.abort();
                return Err(e.into());
            }
        }
        self.finish(tx).await?;
        let mut known = self.inner.known.borrow_mut();
        for id in ids {
            known.remove(id);
        }
        Ok(())
    }

    /// Deletes for good the projects whose 30 days in the trash are over; returns their ids.
    /// A project deleted "in the future" (the clock was set back since) is kept, and its
    /// deletion time stored as now, so its 30 days count from today
    /// ([`crate::domain::project::settled_deletion_ms`]).
    pub async fn purge_expired(&self) -> Result<Vec<String>, DraftError> {
        let mut list = self.metas().await?;
        let now = tabs::now_ms();
        let sweep = purge_expired(&mut list, now);
        let tab = self.inner.tab_id.clone();
        for meta in &sweep.clock_settled {
            let settled = self
                .update(&meta.id, |p| {
                    if let Some(deleted) = p.deleted_ms {
                        p.edit(now, &tab, |p| {
                            p.deleted_ms = Some(settled_deletion_ms(deleted, now))
                        });
                    }
                    Ok(())
                })
                .await;
            match settled {
                // A list entry whose project is gone has nothing to settle.
                Ok(_) | Err(DraftError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let expired: Vec<String> = sweep.expired.into_iter().map(|m| m.id).collect();
        if !expired.is_empty() {
            self.purge_all(&expired).await?;
        }
        Ok(expired)
    }

    /// Keeps the stored project as a named version. (Flush the autosaver first so the version
    /// has the latest edits.)
    pub async fn create_snapshot(&self, id: &str, name: &str) -> Result<SnapshotMeta, DraftError> {
        self.writable()?;
        let name = validate_name(name).map_err(DraftError::Name)?;
        let tx = self
            .inner
            .db
            .transaction(&[PROJECTS, EPISODES, SNAPSHOTS], true)?;
        let project = self.stored(&tx, id).await?;
        let snapshot = {
            let mut ids = self.inner.ids.borrow_mut();
            Snapshot::take(&project, &name, tabs::now_ms(), &mut ids)
        };
        if let Err(e) = tx.put(SNAPSHOTS, &snapshot.id, &snapshot) {
            tx.abort();
            return Err(e.into());
        }
        self.finish(tx).await?;
        Ok(snapshot.meta())
    }

    /// A project's snapshots, the newest first.
    pub async fn snapshots(&self, id: &str) -> Result<Vec<SnapshotMeta>, DraftError> {
        let tx = self.inner.db.transaction(&[SNAPSHOTS], false)?;
        let texts = tx
            .texts_in_range(SNAPSHOTS, &format!("{id}~"), &format!("{id}~\u{FFFF}"))
            .await?;
        let mut list: Vec<SnapshotMeta> = texts
            .iter()
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect();
        list.sort_by(|a, b| b.created_ms.total_cmp(&a.created_ms));
        Ok(list)
    }

    /// Makes a snapshot the project's current state, as a new edit that other tabs take too.
    /// The state before is kept as a snapshot named "Before restoring …".
    pub async fn restore_snapshot(
        &self,
        snapshot_id: &str,
        lang: Lang,
    ) -> Result<Project, DraftError> {
        self.writable()?;
        let tx = self
            .inner
            .db
            .transaction(&[PROJECTS, EPISODES, PROJECT_META, SNAPSHOTS], true)?;
        let text = tx
            .get_text(SNAPSHOTS, snapshot_id)
            .await?
            .ok_or_else(|| DraftError::NotFound(snapshot_id.to_owned()))?;
        let snapshot: Snapshot = match serde_json::from_str(&text) {
            Ok(snapshot) => snapshot,
            Err(e) => {
                tx.abort();
                return Err(
                    StorageError::Corrupt(format!("{SNAPSHOTS}/{snapshot_id}: {e}")).into(),
                );
            }
        };
        let current = self.stored(&tx, &snapshot.project_id).await?;
        let now = tabs::now_ms();
        let before = {
            let mut ids = self.inner.ids.borrow_mut();
            Snapshot::take(
                &current,
                &before_restore_name(&snapshot.name, lang),
                now,
                &mut ids,
            )
        };
        if let Err(e) = tx.put(SNAPSHOTS, &before.id, &before) {
            tx.abort();
            return Err(e.into());
        }
        let next = current.replaced_by(&snapshot.project, now, &self.inner.tab_id);
        self.write(tx, next).await
    }

    /// Deletes one snapshot.
    pub async fn delete_snapshot(&self, snapshot_id: &str) -> Result<(), DraftError> {
        self.writable()?;
        let tx = self.inner.db.transaction(&[SNAPSHOTS], true)?;
        tx.delete(SNAPSHOTS, snapshot_id)?;
        self.finish(tx).await
    }

    /// One project as an export file (JSON text). It never holds an API key: a project has no
    /// field for one.
    pub async fn export_project(&self, id: &str) -> Result<String, DraftError> {
        Ok(export_project(&self.load(id).await?))
    }

    /// Every project, the trash included, as a backup file. Projects that no longer read are
    /// left out and listed as the second value.
    pub async fn export_workspace(&self) -> Result<(String, Vec<StorageError>), DraftError> {
        let tx = self.inner.db.transaction(&[PROJECTS, EPISODES], false)?;
        let mut projects = Vec::new();
        let mut damaged = Vec::new();
        for id in tx.keys(PROJECTS).await? {
            match self.stored(&tx, &id).await {
                Ok(project) => projects.push((*project).clone()),
                Err(DraftError::Storage(e)) => damaged.push(e),
                Err(e) => return Err(e),
            }
        }
        Ok((export_workspace(&projects, tabs::now_ms()), damaged))
    }

    /// Imports a project file or a workspace backup. The file is checked whole before anything
    /// is written, and all its projects land in one transaction: a bad file changes nothing.
    /// Returns the list entries of the projects written.
    pub async fn import(
        &self,
        text: &str,
        mode: ImportMode,
        lang: Lang,
    ) -> Result<Vec<ProjectMeta>, DraftError> {
        self.writable()?;
        let loaded = load_any(text).map_err(DraftError::Import)?;
        let now = tabs::now_ms();
        match mode {
            ImportMode::Copy => {
                let projects = match loaded {
                    Loaded::Project(p) => vec![*p],
                    Loaded::Workspace(list) => list,
                };
                let copies: Vec<Project> = {
                    let mut ids = self.inner.ids.borrow_mut();
                    projects
                        .iter()
                        .map(|p| p.with_new_ids(&mut ids, now, &self.inner.tab_id))
                        .collect()
                };
                let tx = self
                    .inner
                    .db
                    .transaction(&[PROJECTS, EPISODES, PROJECT_META], true)?;
                for copy in &copies {
                    if let Err(e) = self.put_project(&tx, copy) {
                        tx.abort();
                        return Err(e);
                    }
                }
                self.finish(tx).await?;
                for copy in &copies {
                    self.announce(copy);
                }
                Ok(copies.iter().map(Project::meta).collect())
            }
            ImportMode::Replace { id } => {
                let Loaded::Project(incoming) = loaded else {
                    return Err(DraftError::ReplaceNeedsOneProject);
                };
                let tx = self
                    .inner
                    .db
                    .transaction(&[PROJECTS, EPISODES, PROJECT_META, SNAPSHOTS], true)?;
                let current = self.stored(&tx, &id).await?;
                let before = {
                    let mut ids = self.inner.ids.borrow_mut();
                    Snapshot::take(&current, &before_import_name(lang), now, &mut ids)
                };
                if let Err(e) = tx.put(SNAPSHOTS, &before.id, &before) {
                    tx.abort();
                    return Err(e.into());
                }
                let next = current.replaced_by(&incoming, now, &self.inner.tab_id);
                Ok(vec![self.write(tx, next).await?.meta()])
            }
        }
    }

    /// Writes `project` as it is to its journal, at once and without waiting: for `pagehide`,
    /// when a read-merge-write can no longer finish. The next [`Drafts::open`] merges it.
    pub fn write_journal_now(&self, project: &Project) {
        if self.read_only().is_some() {
            return;
        }
        let Ok(text) = serde_json::to_string(project) else {
            return;
        };
        if let Ok(tx) = self.inner.db.transaction(&[KV], true) {
            if tx
                .put_text(KV, &format!("{JOURNAL_PREFIX}{}", project.id), &text)
                .is_ok()
            {
                tx.commit_now();
            }
        }
    }

    /// Deletes a project's journal: a save has written what it held.
    async fn drop_journal(&self, id: &str) {
        let _ = self
            .inner
            .db
            .delete(KV, &format!("{JOURNAL_PREFIX}{id}"))
            .await;
    }

    /// Folds into the project stores, in one transaction, what `kv` holds for them:
    ///
    /// - projects a schema-1 database kept there (`project:<id>`, version-1 shape), migrated.
    ///   The upgrade to schema 2 only creates the stores; they move here, when drafts are first
    ///   opened, so the migration's code is loaded with the pages that use drafts and not on
    ///   every start (ARCHITECTURE.md, "Bundle size"). One that does not read is left where it
    ///   was, with a warning;
    /// - journals a closing page left (`drafts.journal:<id>`), merged into their project. One
    ///   that does not read is left for inspection, never applied.
    ///
    /// Each record moves whole or not at all; a second tab finds nothing left to move.
    async fn settle_kv_records(&self) -> Result<(), DraftError> {
        if self.read_only().is_some() {
            return Ok(());
        }
        let tx = self
            .inner
            .db
            .transaction(&[KV, PROJECTS, EPISODES, PROJECT_META], true)?;
        let keys: Vec<String> = tx
            .keys(KV)
            .await?
            .into_iter()
            .filter(|k| k.starts_with(V1_PROJECT_PREFIX) || k.starts_with(JOURNAL_PREFIX))
            .collect();
        for key in &keys {
            let Some(text) = tx.get_text(KV, key).await? else {
                continue;
            };
            let project = if key.starts_with(V1_PROJECT_PREFIX) {
                match load_record(&text) {
                    Ok(project) => project,
                    Err(e) => {
                        web_sys::console::warn_1(
                            &format!("a v1 project was left in kv: {}", e.message(Lang::En)).into(),
                        );
                        continue;
                    }
                }
            } else {
                let Ok(journal) = load_record(&text) else {
                    continue;
                };
                match tx.get_text(PROJECTS, &journal.id).await? {
                    Some(stored) => match self.parse(&tx, &journal.id, &stored).await {
                        Ok(stored) => merge_projects(&journal, &stored, tabs::now_ms()),
                        Err(_) => continue,
                    },
                    None => journal,
                }
            };
            if let Err(e) = self
                .put_project(&tx, &project)
                .and_then(|_| Ok(tx.delete(KV, key)?))
            {
                tx.abort();
                return Err(e);
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Where the autosave of the open project stands, for the "已保存 / Saved" indicator.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveStatus {
    /// Nothing to save yet.
    Idle,
    /// An edit waits for the debounce.
    Pending,
    /// Being written.
    Saving,
    /// Written and durable.
    Saved {
        /// When.
        at_ms: f64,
    },
    /// The last save failed; the edit is still in memory and is retried (after a pause that
    /// doubles up to [`RETRY_MAX_MS`], or with the next edit).
    Error(DraftError),
}

impl SaveStatus {
    /// The short label shown to the user (a failure shows its full message).
    pub fn label(&self, lang: Lang) -> String {
        match self {
            SaveStatus::Idle => String::new(),
            SaveStatus::Pending => lang.pick("有未保存的修改", "Unsaved changes").into(),
            SaveStatus::Saving => lang.pick("正在保存…", "Saving…").into(),
            SaveStatus::Saved { .. } => lang.pick("已保存", "Saved").into(),
            SaveStatus::Error(e) => e.message(lang),
        }
    }
}

type StatusListener = Rc<dyn Fn(&SaveStatus)>;
type SavedListener = Rc<dyn Fn(&Project)>;

struct AutoInner {
    drafts: Drafts,
    delay_ms: i32,
    /// The latest project handed in and not yet saved.
    pending: RefCell<Option<Project>>,
    /// The project being written, until its save ends.
    saving: RefCell<Option<Project>>,
    /// Resolves when the save in flight ends.
    in_flight: RefCell<Option<js_sys::Promise>>,
    timer: Cell<Option<Timer>>,
    status: RefCell<SaveStatus>,
    on_status: RefCell<Vec<StatusListener>>,
    on_saved: RefCell<Vec<SavedListener>>,
    hooks: RefCell<Option<PageHideHooks>>,
    /// Failed saves since the last success: the next retry waits 2^n s.
    retries: Cell<u32>,
    /// Whether a journal was written since the last save.
    journaled: Cell<bool>,
    /// Asks the browser to warn before leaving, from a failed save until a save succeeds.
    unload_guard: RefCell<Option<UnloadGuard>>,
}

/// A `beforeunload` listener that asks the browser to warn before the page is left; removed
/// when dropped.
struct UnloadGuard(Closure<dyn FnMut(web_sys::Event)>);

impl UnloadGuard {
    fn install() -> Option<UnloadGuard> {
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(|event: web_sys::Event| {
            event.prevent_default();
            // Browsers before the standard one (Chrome < 119) warn when `returnValue` is set.
            let _ = js_sys::Reflect::set(&event, &"returnValue".into(), &JsValue::TRUE);
        });
        web_sys::window()?
            .add_event_listener_with_callback("beforeunload", listener.as_ref().unchecked_ref())
            .ok()?;
        Some(UnloadGuard(listener))
    }
}

impl Drop for UnloadGuard {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback(
                "beforeunload",
                self.0.as_ref().unchecked_ref(),
            );
        }
    }
}

/// Whether a failed save may succeed later by itself (a full disk, a blocked or aborted
/// transaction), so it is retried.
fn worth_retrying(error: &DraftError) -> bool {
    matches!(
        error,
        DraftError::Storage(
            StorageError::QuotaExceeded | StorageError::Blocked | StorageError::Other(_)
        )
    )
}

/// The wait before retry number `n` (from 0): 1 s, 2 s, 4 s… at most [`RETRY_MAX_MS`].
fn retry_delay_ms(n: u32) -> i32 {
    (1000i32 << n.min(5)).min(RETRY_MAX_MS)
}

/// Debounced saves of the open project, flushed (and journaled) when the page is hidden or
/// left.
///
/// Hand it the project after each edit ([`Autosaver::schedule`]); it saves 300 ms after the
/// last one, through [`Drafts::save`], and reports each [`SaveStatus`]. The merged project a
/// save returns is passed to [`Autosaver::on_saved`] listeners. A save that fails for a reason
/// that may pass (a full disk) is retried after 1 s, 2 s, 4 s… (at most [`RETRY_MAX_MS`]).
/// From a failed save until a save succeeds, leaving the page asks first (`beforeunload`; a
/// pending save needs no question: `pagehide` journals it). Dropping the last clone stops it
/// (flush first).
#[derive(Clone)]
pub struct Autosaver {
    inner: Rc<AutoInner>,
}

impl Autosaver {
    /// An autosaver with the default delay ([`AUTOSAVE_DELAY_MS`]).
    pub fn new(drafts: Drafts) -> Autosaver {
        Autosaver::with_delay(drafts, AUTOSAVE_DELAY_MS)
    }

    /// An autosaver that saves `delay_ms` after the last edit.
    pub fn with_delay(drafts: Drafts, delay_ms: i32) -> Autosaver {
        let inner = Rc::new(AutoInner {
            drafts,
            delay_ms,
            pending: RefCell::new(None),
            saving: RefCell::new(None),
            in_flight: RefCell::new(None),
            timer: Cell::new(None),
            status: RefCell::new(SaveStatus::Idle),
            on_status: RefCell::new(Vec::new()),
            on_saved: RefCell::new(Vec::new()),
            hooks: RefCell::new(None),
            retries: Cell::new(0),
            journaled: Cell::new(false),
            unload_guard: RefCell::new(None),
        });
        // Hidden or left, the page may never run again (phones often send no `pagehide`):
        // both write the journal at once.
        let leave = |weak: Weak<AutoInner>| {
            move || {
                if let Some(inner) = weak.upgrade() {
                    Autosaver { inner }.flush_on_pagehide();
                }
            }
        };
        let hooks =
            PageHideHooks::install(leave(Rc::downgrade(&inner)), leave(Rc::downgrade(&inner)));
        *inner.hooks.borrow_mut() = Some(hooks);
        Autosaver { inner }
    }

    /// The current status.
    pub fn status(&self) -> SaveStatus {
        self.inner.status.borrow().clone()
    }

    /// Calls `f` with each new status.
    pub fn on_status(&self, f: impl Fn(&SaveStatus) + 'static) {
        self.inner.on_status.borrow_mut().push(Rc::new(f));
    }

    /// Calls `f` with the merged project after each save. The editor may have moved on since
    /// it scheduled that save: merge the result into its copy
    /// ([`crate::domain::project::merge::apply_remote`]) rather than replace it.
    pub fn on_saved(&self, f: impl Fn(&Project) + 'static) {
        self.inner.on_saved.borrow_mut().push(Rc::new(f));
    }

    /// Whether an edit has not been written yet.
    pub fn has_unsaved(&self) -> bool {
        self.inner.pending.borrow().is_some() || self.inner.saving.borrow().is_some()
    }

    fn set_status(&self, status: SaveStatus) {
        *self.inner.status.borrow_mut() = status.clone();
        // Leaving asks first from a failed save until a save succeeds: a pending or running
        // save is journaled on `pagehide`, but what the disk refused may not be. A tab that no
        // longer writes has said so (reload): leaving it asks nothing more.
        let mut unload_guard = self.inner.unload_guard.borrow_mut();
        let guard = self.has_unsaved()
            && match &status {
                SaveStatus::Error(_) => self.inner.drafts.read_only().is_none(),
                SaveStatus::Pending | SaveStatus::Saving => unload_guard.is_some(),
                _ => false,
            };
        if guard != unload_guard.is_some() {
            *unload_guard = if guard { UnloadGuard::install() } else { None };
        }
        drop(unload_guard);
        let listeners: Vec<StatusListener> = self.inner.on_status.borrow().clone();
        for listener in listeners {
            listener(&status);
        }
    }

    fn cancel_timer(&self) {
        self.inner.timer.take();
    }

    fn start_timer(&self, delay_ms: i32) {
        self.cancel_timer();
        let weak = Rc::downgrade(&self.inner);
        let timer = Timer::once(delay_ms, move || {
            if let Some(inner) = weak.upgrade() {
                inner.timer.take();
                let saver = Autosaver { inner };
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = saver.flush().await;
                });
            }
        });
        self.inner.timer.set(timer);
    }

    /// Hands in the project after an edit: it is saved after the delay, unless another edit
    /// comes first.
    pub fn schedule(&self, project: Project) {
        *self.inner.pending.borrow_mut() = Some(project);
        self.set_status(SaveStatus::Pending);
        self.start_timer(self.inner.delay_ms);
    }

    /// Saves the pending project now and waits until it is durable (after a save already in
    /// flight). Returns the merged project, or `None` when nothing was pending.
    pub async fn flush(&self) -> Result<Option<Project>, DraftError> {
        self.cancel_timer();
        loop {
            let in_flight = self.inner.in_flight.borrow().clone();
            match in_flight {
                Some(promise) => {
                    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                }
                None => break,
            }
        }
        let Some(project) = self.inner.pending.borrow_mut().take() else {
            return Ok(None);
        };
        let mut done: Option<js_sys::Function> = None;
        let promise = js_sys::Promise::new(&mut |resolve, _| done = Some(resolve));
        *self.inner.in_flight.borrow_mut() = Some(promise);
        *self.inner.saving.borrow_mut() = Some(project.clone());
        self.set_status(SaveStatus::Saving);
        let result = self.inner.drafts.save(&project).await;
        *self.inner.saving.borrow_mut() = None;
        *self.inner.in_flight.borrow_mut() = None;
        if let Some(done) = done {
            let _ = done.call0(&JsValue::NULL);
        }
        match result {
            Ok(merged) => {
                self.inner.retries.set(0);
                if self.inner.pending.borrow().is_none() && self.inner.journaled.replace(false) {
                    self.inner.drafts.drop_journal(&merged.id).await;
                }
                self.set_status(SaveStatus::Saved {
                    at_ms: tabs::now_ms(),
                });
                let listeners: Vec<SavedListener> = self.inner.on_saved.borrow().clone();
                for listener in listeners {
                    listener(&merged);
                }
                if self.inner.pending.borrow().is_some() {
                    self.set_status(SaveStatus::Pending);
                    self.start_timer(self.inner.delay_ms);
                }
                Ok(Some(merged))
            }
            Err(error) => {
                // Keep the edit in memory: a retry, the next schedule or a flush writes it.
                let mut pending = self.inner.pending.borrow_mut();
                if pending.is_none() {
                    *pending = Some(project);
                }
                drop(pending);
                self.set_status(SaveStatus::Error(error.clone()));
                if worth_retrying(&error) {
                    let n = self.inner.retries.get();
                    self.inner.retries.set(n + 1);
                    self.start_timer(retry_delay_ms(n));
                }
                Err(error)
            }
        }
    }

    /// What `pagehide` and `visibilitychange` to hidden do: the unsaved project goes to its
    /// journal at once, and a normal save is started in case the page lives on (a hidden tab,
    /// a back-forward cache).
    fn flush_on_pagehide(&self) {
        let unsaved = self
            .inner
            .pending
            .borrow()
            .clone()
            .or_else(|| self.inner.saving.borrow().clone());
        if let Some(project) = unsaved {
            self.inner.drafts.write_journal_now(&project);
            self.inner.journaled.set(true);
            let saver = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = saver.flush().await;
            });
        }
    }

    /// Simulates `pagehide`: for tests of closing a page with a save pending.
    #[doc(hidden)]
    pub fn simulate_pagehide(&self) {
        self.flush_on_pagehide();
    }
}

/// The key of an episode's record: `{project id}\u{1}{episode id}` (ids hold no control
/// characters, so a project's episodes are one key range).
fn episode_key(project_id: &str, episode_id: &str) -> String {
    format!("{project_id}\u{1}{episode_id}")
}

/// The key range of a project's episode records.
fn episode_range(project_id: &str) -> (String, String) {
    (format!("{project_id}\u{1}"), format!("{project_id}\u{2}"))
}

/// What a project's own record holds: everything but its episodes' scenes (each episode is
/// stored whole apart, see [`EPISODES`]). The episodes stay listed, in order, by id, number and
/// title.
fn record_of(project: &Project) -> Project {
    let Project {
        schema_version,
        id,
        name,
        created_ms,
        updated_ms,
        opened_ms,
        version,
        updated_by,
        deleted_ms,
        settings,
        characters,
        episodes,
        video_jobs,
        history,
        removed_shots,
        applied_runs,
    } = project;
    Project {
        schema_version: *schema_version,
        id: id.clone(),
        name: name.clone(),
        created_ms: *created_ms,
        updated_ms: *updated_ms,
        opened_ms: *opened_ms,
        version: *version,
        updated_by: updated_by.clone(),
        deleted_ms: *deleted_ms,
        settings: settings.clone(),
        characters: characters.clone(),
        episodes: episodes
            .iter()
            .map(|e| Episode {
                id: e.id.clone(),
                number: e.number,
                title: e.title.clone(),
                scenes: Vec::new(),
            })
            .collect(),
        video_jobs: video_jobs.clone(),
        history: history.clone(),
        removed_shots: removed_shots.clone(),
        applied_runs: applied_runs.clone(),
    }
}
