//! Application-wide state provided as context by the shell, and its persistence.

use std::collections::BTreeMap;

use crate::domain::cost::estimate::PriceBook;
use crate::domain::cost::profile::Profile;
use crate::domain::i18n::Lang;
use crate::domain::provider::connection::{ApiKey, Connection, Preset, SANDBOX_KEY};
use crate::web::idb::{self, StorageError, KV};
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
}

impl Connections {
    /// Starts from the build's initial connection (see [`initial_connection`]), then loads what
    /// IndexedDB holds and keeps it up to date.
    fn new(errors: RwSignal<Option<StorageError>>) -> Connections {
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
        };
        let loaded = connections.loaded;
        let stored = StoredCopies {
            list: StoredValue::new(None),
            active: StoredValue::new(None),
            keys: StoredValue::new(None),
        };
        spawn_local(async move {
            connections.load(errors, stored).await;
            loaded.set(true);
        });
        save_changes(
            CONNECTIONS_KEY,
            loaded,
            stored.list,
            errors,
            |_| false,
            move || connections.list.get(),
        );
        save_changes(
            ACTIVE_KEY,
            loaded,
            stored.active,
            errors,
            |_| false,
            move || connections.active.get(),
        );
        // No key record exists while no connection remembers its key.
        let none_left = BTreeMap::is_empty;
        save_changes(
            KEYS_KEY,
            loaded,
            stored.keys,
            errors,
            none_left,
            move || {
                connections
                    .list
                    .with(|list| connections.keys.with(|keys| remembered_keys(list, keys)))
            },
        );
        connections
    }

    /// Reads the stored list, active id and remembered keys. A record that no longer parses is
    /// reported and left as it is until the next change replaces it.
    async fn load(self, errors: RwSignal<Option<StorageError>>, stored: StoredCopies) {
        let db = match idb::shared().await {
            Ok(db) => db,
            Err(e) => return errors.set(Some(e)),
        };
        let initial = initial_connection();
        match db.get::<Vec<Connection>>(KV, CONNECTIONS_KEY).await {
            Ok(Some(mut list)) => {
                // A development build always offers its sandbox connection.
                if let Some(dev) = &initial {
                    if !list.iter().any(|c| c.id == dev.connection.id) {
                        list.insert(0, dev.connection.clone());
                    }
                }
                stored.list.set_value(Some(list.clone()));
                self.list.set(list);
            }
            Ok(None) => {}
            Err(e) => {
                stored.list.set_value(Some(self.list.get_untracked()));
                errors.set(Some(e));
            }
        }
        match db.get::<Option<String>>(KV, ACTIVE_KEY).await {
            Ok(Some(active)) => {
                stored.active.set_value(Some(active.clone()));
                let exists = self
                    .list
                    .with_untracked(|list| list.iter().any(|c| Some(&c.id) == active.as_ref()));
                if exists {
                    self.active.set(active);
                }
            }
            Ok(None) => {}
            Err(e) => {
                stored.active.set_value(Some(self.active.get_untracked()));
                errors.set(Some(e));
            }
        }
        let stored_keys = match db.get::<BTreeMap<String, String>>(KV, KEYS_KEY).await {
            Ok(keys) => keys,
            Err(e) => {
                errors.set(Some(e));
                None
            }
        };
        stored.keys.set_value(stored_keys.clone());
        let list = self.list.get_untracked();
        self.keys.update(|keys| {
            for connection in &list {
                let remembered = stored_keys
                    .as_ref()
                    .filter(|_| connection.remember_key)
                    .and_then(|stored| stored.get(&connection.id));
                // The sandbox's key is public test data: it is filled in again after a reload.
                let public = connection.preset.spec().prefilled_key;
                if let Some(key) = remembered.map(String::as_str).or(public) {
                    keys.entry(connection.id.clone())
                        .or_insert_with(|| ApiKey::new(key));
                }
            }
        });
    }

    /// Adds a connection with its key and makes it the active one.
    pub fn add(&self, connection: Connection, key: ApiKey) {
        let id = connection.id.clone();
        self.keys.update(|keys| {
            keys.insert(id.clone(), key);
        });
        self.list.update(|list| list.push(connection));
        self.active.set(Some(id));
    }

    /// Changes the connection `id`, if it exists.
    pub fn edit(&self, id: &str, change: impl FnOnce(&mut Connection)) {
        self.list.update(|list| {
            if let Some(connection) = list.iter_mut().find(|c| c.id == id) {
                change(connection);
            }
        });
    }

    /// Replaces the key of the connection `id`.
    pub fn set_key(&self, id: &str, key: ApiKey) {
        self.keys.update(|keys| {
            keys.insert(id.to_string(), key);
        });
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

/// What IndexedDB holds, as last read or written: a change is written only when it differs.
#[derive(Clone, Copy)]
struct StoredCopies {
    list: StoredValue<Option<Vec<Connection>>>,
    active: StoredValue<Option<Option<String>>>,
    keys: StoredValue<Option<BTreeMap<String, String>>>,
}

/// KV record of the saved connections (never holds a key).
const CONNECTIONS_KEY: &str = "connections";
/// KV record of the active connection's id.
const ACTIVE_KEY: &str = "active_connection";
/// KV record of the keys the user chose to remember (id → key).
const KEYS_KEY: &str = "keys";

/// The keys to store: those of connections that remember their key, and only non-empty ones.
fn remembered_keys(
    list: &[Connection],
    keys: &BTreeMap<String, ApiKey>,
) -> BTreeMap<String, String> {
    map_of(
        list.iter()
            .filter(|connection| connection.remember_key)
            .filter_map(|connection| {
                let key = keys.get(&connection.id).filter(|key| !key.is_empty())?;
                Some((connection.id.clone(), key.expose().to_string()))
            }),
    )
}

/// A map of the pairs, the last value winning for a repeated key, as `collect` gives, but
/// inserted one by one: `collect` sorts first, and that sort would add ~4 KB of wasm to the
/// start-up module for the handful of connections here (ARCHITECTURE.md, "Bundle size").
fn map_of<V>(pairs: impl Iterator<Item = (String, V)>) -> BTreeMap<String, V> {
    let mut map = BTreeMap::new();
    for (key, value) in pairs {
        map.insert(key, value);
    }
    map
}

/// Writes `value()` to KV `key` whenever it differs from `last` (what is stored), once the
/// load is done; when `remove_if` holds for the value, the record is deleted instead.
fn save_changes<T>(
    key: &'static str,
    loaded: RwSignal<bool>,
    last: StoredValue<Option<T>>,
    errors: RwSignal<Option<StorageError>>,
    remove_if: fn(&T) -> bool,
    value: impl Fn() -> T + 'static,
) where
    T: Serialize + Clone + PartialEq + Send + Sync + 'static,
{
    Effect::new(move |_| {
        let current = value();
        if !loaded.get() || last.with_value(|l| l.as_ref() == Some(&current)) {
            return;
        }
        last.set_value(Some(current.clone()));
        let text = (!remove_if(&current)).then(|| idb::encode(&current));
        spawn_local(write_record(KV, key, text, errors));
    });
}

/// Writes one record's text, or deletes the record for `None`, and reports a failure. It is
/// shared by every type stored ([`persist`], [`save_changes`]), so the start-up module holds
/// one copy of the writing (ARCHITECTURE.md, "Bundle size").
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
    /// Price sets, profiles and routes: edited in the Estimate page, kept in IndexedDB.
    pub book: RwSignal<PriceBook>,
    /// The last storage failure, shown in a banner until dismissed.
    pub storage_error: RwSignal<Option<StorageError>>,
}

impl AppState {
    /// Creates the state and starts loading what IndexedDB holds.
    pub fn new() -> AppState {
        let storage_error = RwSignal::new(None);
        let connections = Connections::new(storage_error);
        let state = AppState {
            connections,
            connection: Memo::new(move |_| connections.active_connection()),
            book: RwSignal::new(PriceBook::defaults()),
            storage_error,
        };
        persist(KV, "price_book", state.book, state.storage_error, true);
        state
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
