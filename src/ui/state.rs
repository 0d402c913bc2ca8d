//! Application-wide state provided as context by the shell, and its persistence.
//!
//! The settings every tab shares (the connections and their remembered keys, the price book)
//! are read here at start and again whenever another tab says it stored them; their writes,
//! merged into the stored records, are in [`crate::ui::shared_settings`].

use std::collections::BTreeMap;
use std::future::Future;

use crate::domain::cost::estimate::PriceBook;
use crate::domain::cost::profile::Profile;
use crate::domain::i18n::Lang;
use crate::domain::provider::connection::{ApiKey, Connection, Preset, SANDBOX_KEY};
use crate::domain::tabs::settings::{keys_to_forget, ConnectionsRecord};
use crate::web::idb::{self, StorageError, KV};
use crate::web::tabs::{TabChannel, SETTINGS_CHANNEL};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{de::DeserializeOwned, Serialize};

/// The connection the app calls: the saved connection and its key, which lives in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveConnection {
    /// The saved connection (name, base URL, price profile); it has no key field.
    pub connection: Connection,
    /// The key, or an empty key when none was entered yet.
    pub key: ApiKey,
}

/// The user's connections: the list, their keys and which one is active.
///
/// The list (without keys) is kept in IndexedDB under KV `connections`, the active id under
/// `active_connection`. Keys stay in memory; only the keys of connections whose
/// `remember_key` is set are written, to KV `keys` (id → key), and that record is deleted as
/// soon as no connection remembers its key.
///
/// **Many tabs.** Every edit goes through a method here ([`Self::add`], [`Self::edit`],
/// [`Self::set_key`], [`Self::remove`], [`Self::choose`]), which changes the signals at once
/// and then stores the edit merged into the records as they are stored now
/// (`crate::ui::shared_settings`): a tab opened before another tab's change never writes its
/// stale copy over it. The other tabs are told which record changed — never a key — and read
/// it again ([`Self::reload`]).
#[derive(Clone, Copy)]
pub struct Connections {
    /// Saved connections, in the order they were added.
    pub list: RwSignal<Vec<Connection>>,
    /// Keys by connection id, in memory.
    pub keys: RwSignal<BTreeMap<String, ApiKey>>,
    /// The id of the active connection.
    pub active: RwSignal<Option<String>>,
    /// True once the stored connections and keys have been read: editors wait for it, so they
    /// never start from the build's defaults and then miss the stored values.
    pub loaded: RwSignal<bool>,
    /// The records as this tab last read or wrote them: the base its edits are merged from.
    pub(crate) base: StoredValue<ConnectionsRecord>,
    pub(crate) sync: RecordSync,
    pub(crate) errors: RwSignal<Option<StorageError>>,
    pub(crate) channel: SettingsChannel,
}

impl Connections {
    /// Starts from the build's initial connection (see [`initial_connection`]), then loads what
    /// IndexedDB holds.
    fn new(errors: RwSignal<Option<StorageError>>, channel: SettingsChannel) -> Connections {
        let initial = initial_connection();
        let connections = Connections {
            list: RwSignal::new(initial.iter().map(|a| a.connection.clone()).collect()),
            keys: RwSignal::new(map_of(
                initial
                    .iter()
                    .map(|a| (a.connection.id.clone(), a.key.clone())),
            )),
            active: RwSignal::new(initial.as_ref().map(|a| a.connection.id.clone())),
            loaded: RwSignal::new(false),
            base: StoredValue::new(ConnectionsRecord::default()),
            sync: RecordSync::new(),
            errors,
            channel,
        };
        spawn_owned(connections.list, async move {
            connections.reload().await;
            connections.loaded.set(true);
        });
        connections
    }

    /// Reads the stored list, active id and remembered keys into the signals: at start, and
    /// whenever another tab says it changed them. A record that no longer parses is reported
    /// and left as it is until the next change replaces it. A key this tab holds in memory is
    /// dropped when its connection is gone or was moved to where the key may not go.
    pub(crate) async fn reload(self) {
        let db = match idb::shared().await {
            Ok(db) => db,
            Err(e) => return self.errors.set(Some(e)),
        };
        let mut base = self.base.get_value();
        let errors = self.errors;
        let report = move |e| errors.set(Some(e));
        match db.get::<Vec<Connection>>(KV, CONNECTIONS_KEY).await {
            Ok(stored) => {
                let mut list = stored.unwrap_or_default();
                base.list = list.clone();
                // A development build always offers its sandbox connection.
                if let Some(dev) = initial_connection() {
                    if !list.iter().any(|c| c.id == dev.connection.id) {
                        list.insert(0, dev.connection);
                    }
                }
                let before = self.list.get_untracked();
                let gone = self
                    .keys
                    .with_untracked(|keys| keys_to_forget(&before, &list, keys));
                if !gone.is_empty() {
                    self.keys
                        .update(|keys| gone.iter().for_each(|id| drop(keys.remove(id))));
                }
                if before != list {
                    self.list.set(list);
                }
            }
            Err(e) => report(e),
        }
        match db.get::<Option<String>>(KV, ACTIVE_KEY).await {
            Ok(Some(active)) => {
                base.active = active.clone();
                let exists = self
                    .list
                    .with_untracked(|list| list.iter().any(|c| Some(&c.id) == active.as_ref()));
                if exists && self.active.get_untracked() != active {
                    self.active.set(active);
                }
            }
            Ok(None) => {}
            Err(e) => report(e),
        }
        // The active connection was removed in another tab: the first one, as there.
        let dangling = self.active.with_untracked(|active| {
            let id = active.as_ref()?;
            let list = self.list.read_untracked();
            (!list.iter().any(|c| &c.id == id)).then(|| list.first().map(|c| c.id.clone()))
        });
        if let Some(first) = dangling {
            self.active.set(first);
        }
        let stored_keys = match db.get::<BTreeMap<String, String>>(KV, KEYS_KEY).await {
            Ok(keys) => keys.unwrap_or_default(),
            Err(e) => {
                report(e);
                BTreeMap::new()
            }
        };
        base.keys = map_of(
            stored_keys
                .iter()
                .map(|(id, key)| (id.clone(), ApiKey::new(key))),
        );
        let list = self.list.get_untracked();
        let missing = |connection: &Connection| {
            let remembered = stored_keys
                .get(&connection.id)
                .filter(|_| connection.remember_key);
            // The sandbox's key is public test data: it is filled in again after a reload.
            let public = connection.preset.spec().prefilled_key;
            let key = remembered.map(String::as_str).or(public)?;
            self.keys
                .with_untracked(|keys| !keys.contains_key(&connection.id))
                .then(|| (connection.id.clone(), ApiKey::new(key)))
        };
        let found: Vec<(String, ApiKey)> = list.iter().filter_map(missing).collect();
        if !found.is_empty() {
            self.keys.update(|keys| keys.extend(found));
        }
        self.base.set_value(base);
    }

    /// Adds a connection with its key and makes it the active one.
    pub fn add(&self, connection: Connection, key: ApiKey) {
        let id = connection.id.clone();
        self.keys.update(|keys| {
            keys.insert(id.clone(), key);
        });
        self.list.update(|list| list.push(connection));
        self.active.set(Some(id));
        self.save();
    }

    /// Changes the connection `id`, if it exists.
    pub fn edit(&self, id: &str, change: impl FnOnce(&mut Connection)) {
        self.list.update(|list| {
            if let Some(connection) = list.iter_mut().find(|c| c.id == id) {
                change(connection);
            }
        });
        self.save();
    }

    /// Replaces the key of the connection `id`.
    pub fn set_key(&self, id: &str, key: ApiKey) {
        self.keys.update(|keys| {
            keys.insert(id.to_string(), key);
        });
        self.save();
    }

    /// Makes the connection `id` the active one.
    pub fn choose(&self, id: &str) {
        self.active.set(Some(id.to_string()));
        self.save();
    }

    /// Removes the connection `id` and its key; the first remaining one becomes active.
    pub fn remove(&self, id: &str) {
        self.list.update(|list| list.retain(|c| c.id != id));
        self.keys.update(|keys| {
            keys.remove(id);
        });
        if self.active.get_untracked().as_deref() == Some(id) {
            let first = self
                .list
                .with_untracked(|list| list.first().map(|c| c.id.clone()));
            self.active.set(first);
        }
        self.save();
    }

    /// The active connection with its key (tracked).
    fn active_connection(&self) -> Option<ActiveConnection> {
        let id = self.active.get()?;
        let connection = self
            .list
            .with(|list| list.iter().find(|c| c.id == id).cloned())?;
        let key = self
            .keys
            .with(|keys| keys.get(&id).cloned())
            .unwrap_or_default();
        Some(ActiveConnection { connection, key })
    }
}

/// KV record of the saved connections (never holds a key).
pub(crate) const CONNECTIONS_KEY: &str = "connections";
/// KV record of the active connection's id.
pub(crate) const ACTIVE_KEY: &str = "active_connection";
/// KV record of the keys the user chose to remember (id → key).
pub(crate) const KEYS_KEY: &str = "keys";
/// KV record of the price book.
pub(crate) const BOOK_KEY: &str = "price_book";

/// A map of the pairs, the last value winning for a repeated key, as `collect` gives, but
/// inserted one by one: `collect` sorts first, and that sort would add ~4 KB of wasm to the
/// start-up module for the handful of connections here (ARCHITECTURE.md, "Bundle size").
pub(crate) fn map_of<V>(pairs: impl Iterator<Item = (String, V)>) -> BTreeMap<String, V> {
    let mut map = BTreeMap::new();
    for (key, value) in pairs {
        map.insert(key, value);
    }
    map
}

/// A stored setting's writes in this tab: a notice from another tab that comes while one is
/// under way is acted on once it is done (its merge may have read the record before).
#[derive(Clone, Copy)]
pub(crate) struct RecordSync {
    /// Writes under way, and whether a notice came meanwhile.
    state: StoredValue<(u32, bool)>,
}

impl RecordSync {
    fn new() -> RecordSync {
        RecordSync {
            state: StoredValue::new((0, false)),
        }
    }

    /// A write starts.
    pub(crate) fn begin(&self) {
        self.state.update_value(|(writes, _)| *writes += 1);
    }

    /// A write ended; true when a notice came meanwhile and the record is to be read again.
    pub(crate) fn end(&self) -> bool {
        let mut reread = false;
        self.state.update_value(|(writes, noticed)| {
            *writes = writes.saturating_sub(1);
            if *writes == 0 {
                reread = std::mem::take(noticed);
            }
        });
        reread
    }

    /// Another tab changed the record: true to read it now, false when a write is under way
    /// (it is read once that ends).
    fn notice(&self) -> bool {
        let mut now = false;
        self.state.update_value(|(writes, noticed)| {
            now = *writes == 0;
            *noticed = !now;
        });
        now
    }
}

/// The broadcast channel on which a tab names the settings record it just stored
/// ([`SETTINGS_CHANNEL`]): only the record's name, never its content or a key.
#[derive(Clone, Copy)]
pub(crate) struct SettingsChannel(StoredValue<Option<TabChannel>, LocalStorage>);

impl SettingsChannel {
    /// Tells the other tabs that `record` changed.
    pub(crate) fn announce(&self, record: &str) {
        self.0.with_value(|channel| {
            if let Some(channel) = channel {
                channel.post(&record);
            }
        });
    }
}

/// Runs `task` until it ends or `owned` is disposed, whichever comes first: a settings task
/// that awaits storage reads its signals again afterwards, and those are gone once the state's
/// owner is (a test's, or a page's that made its own state). Checked before every poll, so the
/// task never runs a step after the disposal.
pub(crate) fn spawn_owned(
    owned: impl IsDisposed + 'static,
    task: impl Future<Output = ()> + 'static,
) {
    let mut task = Box::pin(task);
    spawn_local(std::future::poll_fn(move |cx| {
        if owned.is_disposed() {
            std::task::Poll::Ready(())
        } else {
            task.as_mut().poll(cx)
        }
    }));
}

/// Writes one record's text, or deletes the record for `None`, and reports a failure. It is
/// shared by every type stored with [`persist`], so the start-up module holds one copy of the
/// writing (ARCHITECTURE.md, "Bundle size").
async fn write_record(
    store: &'static str,
    key: &'static str,
    text: Option<Result<String, StorageError>>,
    errors: RwSignal<Option<StorageError>>,
) {
    let result = match (idb::shared().await, text) {
        (Err(e), _) | (_, Some(Err(e))) => Err(e),
        (Ok(db), None) => db.delete(store, key).await,
        (Ok(db), Some(Ok(text))) => db.put_raw(store, key, &text.into()).await,
    };
    if let Err(e) = result {
        errors.set(Some(e));
    }
}

/// Shared app state.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The user's connections and their keys.
    pub connections: Connections,
    /// The active connection with its key; `None` until the user adds one in Settings.
    pub connection: Memo<Option<ActiveConnection>>,
    /// Price sets, profiles and routes: edited in the Estimate page, kept in IndexedDB. Edit it
    /// through [`AppState::update_book`] (or `book_editing::edit_book`), which stores the edit
    /// merged into the stored book; setting the signal alone changes this page only.
    pub book: RwSignal<PriceBook>,
    /// The book as this tab last read or wrote it: the base its edits are merged from.
    pub(crate) book_base: StoredValue<PriceBook>,
    pub(crate) book_sync: RecordSync,
    pub(crate) channel: SettingsChannel,
    /// The last storage failure, shown in a banner until dismissed.
    pub storage_error: RwSignal<Option<StorageError>>,
}

impl AppState {
    /// Creates the state, starts loading what IndexedDB holds, and follows what other tabs
    /// store (their notices on [`SETTINGS_CHANNEL`]).
    pub fn new() -> AppState {
        let storage_error = RwSignal::new(None);
        let channel = SettingsChannel(StoredValue::new_local(None));
        let connections = Connections::new(storage_error, channel);
        let state = AppState {
            connections,
            connection: Memo::new(move |_| connections.active_connection()),
            book: RwSignal::new(PriceBook::defaults()),
            book_base: StoredValue::new(PriceBook::defaults()),
            book_sync: RecordSync::new(),
            channel,
            storage_error,
        };
        spawn_owned(state.book, state.reload_book());
        let listener = TabChannel::open(SETTINGS_CHANNEL, move |record: String| {
            if record == BOOK_KEY {
                if state.book_sync.notice() {
                    spawn_owned(state.book, state.reload_book());
                }
            } else if connections.sync.notice() {
                spawn_owned(connections.list, connections.reload());
            }
        });
        channel.0.set_value(listener);
        state
    }

    /// Reads the stored price book into [`Self::book`] (at start, and when another tab stored
    /// it). A damaged record is reported and left as it is until the next edit replaces it.
    pub(crate) async fn reload_book(self) {
        let text = match idb::shared().await {
            Ok(db) => db.get_text(KV, BOOK_KEY).await,
            Err(e) => Err(e),
        };
        match text.and_then(|text| idb::decode::<PriceBook>(KV, BOOK_KEY, text)) {
            Ok(Some(book)) => {
                self.book_base.set_value(book.clone());
                if self.book.with_untracked(|current| *current != book) {
                    self.book.set(book);
                }
            }
            Ok(None) => {}
            Err(e) => self.storage_error.set(Some(e)),
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

/// The app state from context.
pub fn use_app_state() -> AppState {
    expect_context::<AppState>()
}

/// Keeps `signal` in IndexedDB under `store`/`key`: when `load` is set, first loads the
/// stored value (a damaged record is reported and left as it is until the next edit replaces
/// it), then writes every later change, each in its own transaction. Signals only ever hold
/// valid values, so nothing invalid is written. Failures go to `errors`.
pub fn persist<T>(
    store: &'static str,
    key: &'static str,
    signal: RwSignal<T>,
    errors: RwSignal<Option<StorageError>>,
    load: bool,
) where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + PartialEq + 'static,
{
    let loaded = RwSignal::new(false);
    spawn_local(async move {
        if !load {
            loaded.set(true);
            return;
        }
        let text = match idb::shared().await {
            Ok(db) => db.get_text(store, key).await,
            Err(e) => Err(e),
        };
        match text.and_then(|text| idb::decode::<T>(store, key, text)) {
            Ok(Some(value)) => signal.set(value),
            Ok(None) => {}
            Err(e) => errors.set(Some(e)),
        }
        loaded.set(true);
    });
    // Skips the first run and the load itself: only the user's changes are written.
    let last_written = StoredValue::new(None::<T>);
    Effect::new(move |_| {
        let value = signal.get();
        if !loaded.get() {
            return;
        }
        if last_written.with_value(|w| w.is_none()) {
            last_written.set_value(Some(value));
            return;
        }
        if last_written.with_value(|w| w.as_ref() == Some(&value)) {
            return;
        }
        let text = idb::encode(&value);
        last_written.set_value(Some(value));
        spawn_local(write_record(store, key, Some(text), errors));
    });
}

/// The id of the development build's sandbox connection.
pub const DEV_SANDBOX_ID: &str = "local-sandbox";

/// The connection a build starts with. `make serve` builds with `DUANJU_DEV_SANDBOX` set, so
/// the page it serves starts on the local sandbox, its public test key filled in; a production
/// build starts with none.
pub fn initial_connection() -> Option<ActiveConnection> {
    option_env!("DUANJU_DEV_SANDBOX").map(|url| {
        let mut connection = Connection::from_preset(
            DEV_SANDBOX_ID,
            Preset::LocalSandbox,
            Profile::RELAY,
            Lang::ZhCn,
        );
        connection.name = "本地沙盒 Local sandbox".into();
        if !url.is_empty() && url != "1" {
            connection.base_url = url.into();
        }
        ActiveConnection {
            connection,
            key: ApiKey::new(SANDBOX_KEY),
        }
    })
}
