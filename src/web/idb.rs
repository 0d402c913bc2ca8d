//! IndexedDB: one database, explicit schema versions, values stored as JSON text.
//!
//! Every write waits for its transaction's `complete` event, so "saved" means durable, and a
//! full disk (`QuotaExceededError`) or a blocked upgrade becomes a typed [`StorageError`]
//! instead of a silent loss. A database a newer build upgraded (this build opens it too late,
//! or it is upgraded under this connection, which then closes) is
//! [`StorageError::NewerVersionOpen`]: reload the page. Reads that find text which no longer
//! parses report [`StorageError::Corrupt`] and leave the record untouched.

use crate::domain::i18n::Lang;
use js_sys::{Array, Promise};
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest, IdbTransaction,
    IdbTransactionMode,
};

/// The database name.
pub const DB_NAME: &str = "duanju-studio";
/// The schema version this build writes. Bump it and add a step to [`upgrade`].
pub const SCHEMA_VERSION: u32 = 3;

/// Key-value records: the price catalog, routes, profiles, the plan, connections.
pub const KV: &str = "kv";
/// The usage ledger: one record per API call, auto-numbered.
pub const LEDGER: &str = "ledger";
/// Projects (series), by project id (schema 2).
pub const PROJECTS: &str = "projects";
/// Store of each project's episodes, one record per episode (JSON text) under
/// `{project id}\u{1}{episode id}`; the project's record in [`PROJECTS`] holds the rest (schema
/// 3). An autosave then writes only the episodes that changed.
pub const EPISODES: &str = "project_episodes";
/// The projects list: one small entry per project, by project id, so the list never loads
/// whole series (schema 2).
pub const PROJECT_META: &str = "project_meta";
/// Named versions of projects, by snapshot id `{project id}~…` (schema 2).
pub const SNAPSHOTS: &str = "snapshots";
/// Batches of generation requests, by id (schema 2; used by the batch engine).
pub const BATCHES: &str = "batches";
/// The items of batches, by id (schema 2; used by the batch engine).
pub const BATCH_ITEMS: &str = "batch_items";
/// Video clips (blobs), by shot id (schema 2).
pub const CLIPS: &str = "clips";

/// A storage failure a user can meet.
#[derive(Clone, Debug, PartialEq)]
pub enum StorageError {
    /// IndexedDB is missing or disabled (private mode in some browsers).
    Unavailable,
    /// The disk or the origin's quota is full: nothing new was written.
    QuotaExceeded,
    /// Another tab holds an older version of the database open.
    Blocked,
    /// A newer version of the app upgraded the database (this connection was closed on its
    /// `versionchange`, or the database is newer than this build): reload the page.
    NewerVersionOpen,
    /// The stored record is not valid for this version; it was left as it is.
    Corrupt(String),
    /// Any other failure, with the browser's error name.
    Other(String),
}

impl StorageError {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            StorageError::Unavailable => lang
                .pick(
                    "浏览器不允许本地存储（可能是无痕模式）：修改不会保存。",
                    "This browser does not allow local storage (private mode?): changes will not be kept.",
                )
                .into(),
            StorageError::QuotaExceeded => lang
                .pick(
                    "磁盘空间或存储配额已满：这次修改没有保存，已保存的内容完好。请释放空间后重试。",
                    "The disk or storage quota is full: this change was not saved; what was saved before is intact. Free some space and try again.",
                )
                .into(),
            StorageError::Blocked => lang
                .pick(
                    "另一个标签页正在使用旧版本的数据：请关闭其他标签页后刷新。",
                    "Another tab is using an older version of the data: close the other tabs and reload.",
                )
                .into(),
            StorageError::NewerVersionOpen => lang
                .pick(
                    "应用的新版本已打开，本地数据已被新版本升级：请刷新页面。",
                    "A newer version of the app is open and has upgraded the data: reload the page.",
                )
                .into(),
            StorageError::Corrupt(what) => format!(
                "{} ({what})",
                lang.pick("本地记录已损坏，已保持原样未覆盖", "A stored record is damaged and was left untouched")
            ),
            StorageError::Other(name) => format!("{} ({name})", lang.pick("本地存储出错", "Local storage failed")),
        }
    }

    fn from_js(err: JsValue) -> StorageError {
        let name = err
            .dyn_ref::<web_sys::DomException>()
            .map(|e| e.name())
            .or_else(|| {
                js_sys::Reflect::get(&err, &"name".into())
                    .ok()
                    .and_then(|v| v.as_string())
            })
            .unwrap_or_else(|| "UnknownError".into());
        match name.as_str() {
            "QuotaExceededError" => StorageError::QuotaExceeded,
            "InvalidStateError" | "SecurityError" => StorageError::Unavailable,
            "VersionError" => StorageError::NewerVersionOpen,
            _ => StorageError::Other(name),
        }
    }
}

/// Creates the stores of each version in order: a database at version `old` is brought to
/// [`SCHEMA_VERSION`] by running every step after `old`, inside the upgrade transaction
/// (so a failed step leaves the database at its old version, with its data).
fn upgrade(db: &IdbDatabase, old: u32) -> Result<(), JsValue> {
    if old < 1 {
        db.create_object_store(KV)?;
        let params = IdbObjectStoreParameters::new();
        params.set_auto_increment(true);
        db.create_object_store_with_optional_parameters(LEDGER, &params)?;
    }
    if old < 2 {
        for store in [
            PROJECTS,
            PROJECT_META,
            SNAPSHOTS,
            BATCHES,
            BATCH_ITEMS,
            CLIPS,
        ] {
            db.create_object_store(store)?;
        }
        // Schema 1 kept project drafts in `kv` (`project:<id>`): drafts moves them, migrated,
        // to these stores when it is first opened (web::drafts), so that code stays out of the
        // start-up module.
    }
    if old < 3 {
        // Episodes apart: records of schema 2 (whole projects) still read, and are split on
        // their next write.
        db.create_object_store(EPISODES)?;
    }
    Ok(())
}

/// A value as its record's JSON text.
pub fn encode<T: Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::Other(e.to_string()))
}

/// A record's value from its JSON text; a text that does not read is [`StorageError::Corrupt`].
pub fn decode<T: DeserializeOwned>(
    store: &str,
    key: &str,
    text: Option<String>,
) -> Result<Option<T>, StorageError> {
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|e| StorageError::Corrupt(format!("{store}/{key}: {e}")))
    })
    .transpose()
}

/// Resolves when `req` succeeds, with its result; rejects with its error.
async fn request(req: &IdbRequest) -> Result<JsValue, StorageError> {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = req.clone();
        let on_success = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let bad = req.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let err = bad
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or(JsValue::NULL);
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        req.set_onsuccess(Some(on_success.unchecked_ref()));
        req.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(StorageError::from_js)
}

/// Resolves when `tx` commits; rejects with the error that aborted it (e.g. quota).
async fn committed(tx: &IdbTransaction) -> Result<(), StorageError> {
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let failed = tx.clone();
        let reject2 = reject.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let err = failed.error().map(JsValue::from).unwrap_or(JsValue::NULL);
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        let aborted = tx.clone();
        let on_abort = Closure::once_into_js(move |_: web_sys::Event| {
            let err = aborted.error().map(JsValue::from).unwrap_or(JsValue::NULL);
            let _ = reject2.call1(&JsValue::NULL, &err);
        });
        tx.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx.set_onerror(Some(on_error.unchecked_ref()));
        tx.set_onabort(Some(on_abort.unchecked_ref()));
    });
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(StorageError::from_js)
}

/// Resolves with the database when `open` succeeds. A tab holding an older version open
/// (one that does not let go when asked) blocks the upgrade: that is reported at once as
/// [`StorageError::Blocked`] instead of waiting, and a connection that opens later anyway is
/// closed.
async fn opened(open: &IdbOpenDbRequest) -> Result<JsValue, StorageError> {
    let given_up = std::rc::Rc::new(std::cell::Cell::new(false));
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = open.clone();
        let late = given_up.clone();
        let on_success = Closure::once_into_js(move |_: web_sys::Event| {
            let result = ok.result().unwrap_or(JsValue::UNDEFINED);
            if late.get() {
                result.unchecked_into::<IdbDatabase>().close();
            } else {
                let _ = resolve.call1(&JsValue::NULL, &result);
            }
        });
        let bad = open.clone();
        let reject_error = reject.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let err = bad
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or(JsValue::NULL);
            let _ = reject_error.call1(&JsValue::NULL, &err);
        });
        let flag = given_up.clone();
        let on_blocked = Closure::once_into_js(move |_: web_sys::Event| {
            flag.set(true);
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(BLOCKED));
        });
        open.set_onsuccess(Some(on_success.unchecked_ref()));
        open.set_onerror(Some(on_error.unchecked_ref()));
        open.set_onblocked(Some(on_blocked.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(|err| {
        if err.as_string().as_deref() == Some(BLOCKED) {
            StorageError::Blocked
        } else {
            StorageError::from_js(err)
        }
    })
}

const BLOCKED: &str = "duanju:blocked";

thread_local! {
    static SHARED: std::cell::RefCell<Option<Db>> = const { std::cell::RefCell::new(None) };
}

/// The app's database, opened once per page and shared.
pub async fn shared() -> Result<Db, StorageError> {
    if let Some(db) = SHARED.with(|s| s.borrow().clone()) {
        return Ok(db);
    }
    let db = Db::open().await?;
    SHARED.with(|s| *s.borrow_mut() = Some(db.clone()));
    Ok(db)
}

/// An open database.
#[derive(Clone)]
pub struct Db {
    inner: IdbDatabase,
    /// Set when a newer version's `versionchange` closed the connection.
    upgraded: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Db {
    /// Opens (and if needed creates or upgrades) the app's database.
    pub async fn open() -> Result<Db, StorageError> {
        Self::open_named(DB_NAME).await
    }

    /// Opens a database by name: tests use their own names.
    pub async fn open_named(name: &str) -> Result<Db, StorageError> {
        let factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .ok_or(StorageError::Unavailable)?;
        let open = factory
            .open_with_u32(name, SCHEMA_VERSION)
            .map_err(StorageError::from_js)?;
        let upgrading = open.clone();
        let on_upgrade = Closure::once_into_js(move |event: web_sys::IdbVersionChangeEvent| {
            if let Ok(result) = upgrading.result() {
                let db: IdbDatabase = result.unchecked_into();
                let Some(tx) = upgrading.transaction() else {
                    return;
                };
                if let Err(e) = upgrade(&db, event.old_version() as u32) {
                    web_sys::console::error_2(&"IndexedDB upgrade failed".into(), &e);
                    tx.abort().ok();
                }
            }
        });
        open.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db: IdbDatabase = opened(&open).await?.unchecked_into();
        // Another tab that upgrades the schema asks us to let go: close instead of blocking it,
        // and report later uses as [`StorageError::NewerVersionOpen`].
        let upgraded = std::rc::Rc::new(std::cell::Cell::new(false));
        let (closing, flag) = (db.clone(), upgraded.clone());
        let on_version_change = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            flag.set(true);
            closing.close();
        });
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        on_version_change.forget();
        Ok(Db {
            inner: db,
            upgraded,
        })
    }

    fn live(&self) -> Result<&IdbDatabase, StorageError> {
        match self.upgraded.get() {
            true => Err(StorageError::NewerVersionOpen),
            false => Ok(&self.inner),
        }
    }

    fn tx(&self, store: &str, mode: IdbTransactionMode) -> Result<IdbTransaction, StorageError> {
        self.live()?
            .transaction_with_str_and_mode(store, mode)
            .map_err(StorageError::from_js)
    }

    /// Reads one record of `store` by key.
    pub async fn get<T: DeserializeOwned>(
        &self,
        store: &str,
        key: &str,
    ) -> Result<Option<T>, StorageError> {
        decode(store, key, self.get_text(store, key).await?)
    }

    /// Reads one record's text (every record here is JSON text); `None` when there is none.
    /// Not generic: the start-up module holds one copy of the reading, whatever the types
    /// (ARCHITECTURE.md, "Bundle size").
    pub async fn get_text(&self, store: &str, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .get_raw(store, key)
            .await?
            .and_then(|value| value.as_string()))
    }

    /// Writes one record in its own transaction and waits until it is committed.
    pub async fn put<T: Serialize>(
        &self,
        store: &str,
        key: &str,
        value: &T,
    ) -> Result<(), StorageError> {
        self.put_raw(store, key, &encode(value)?.into()).await
    }

    pub async fn put_raw(
        &self,
        store: &str,
        key: &str,
        value: &JsValue,
    ) -> Result<(), StorageError> {
        let tx = self.tx(store, IdbTransactionMode::Readwrite)?;
        tx.object_store(store)
            .and_then(|s| s.put_with_key(value, &key.into()))
            .map_err(StorageError::from_js)?;
        committed(&tx).await
    }

    /// Reads a value written with [`Self::put_raw`]; `None` when there is none.
    pub async fn get_raw(&self, store: &str, key: &str) -> Result<Option<JsValue>, StorageError> {
        let tx = self.tx(store, IdbTransactionMode::Readonly)?;
        let req = tx
            .object_store(store)
            .and_then(|s| s.get(&key.into()))
            .map_err(StorageError::from_js)?;
        let value = request(&req).await?;
        Ok((!value.is_undefined() && !value.is_null()).then_some(value))
    }

    /// Deletes one record.
    pub async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        let tx = self.tx(store, IdbTransactionMode::Readwrite)?;
        tx.object_store(store)
            .and_then(|s| s.delete(&key.into()))
            .map_err(StorageError::from_js)?;
        committed(&tx).await
    }

    /// Appends a record to an auto-numbered store and returns its number.
    pub async fn append<T: Serialize>(&self, store: &str, value: &T) -> Result<u32, StorageError> {
        let text = encode(value)?;
        let tx = self.tx(store, IdbTransactionMode::Readwrite)?;
        let req = tx
            .object_store(store)
            .and_then(|s| s.add(&text.into()))
            .map_err(StorageError::from_js)?;
        let key = request(&req).await?;
        committed(&tx).await?;
        Ok(key.as_f64().unwrap_or(0.0) as u32)
    }

    /// Reads every record of a store in key order. A record that no longer parses is skipped
    /// and reported in the second list, never deleted.
    pub async fn all<T: DeserializeOwned>(
        &self,
        store: &str,
    ) -> Result<(Vec<T>, Vec<StorageError>), StorageError> {
        let tx = self.tx(store, IdbTransactionMode::Readonly)?;
        let req = tx
            .object_store(store)
            .and_then(|s| s.get_all())
            .map_err(StorageError::from_js)?;
        let array: Array = request(&req).await?.unchecked_into();
        let mut values = Vec::new();
        let mut damaged = Vec::new();
        for (i, item) in array.iter().enumerate() {
            match item.as_string().map(|t| serde_json::from_str::<T>(&t)) {
                Some(Ok(v)) => values.push(v),
                Some(Err(e)) => damaged.push(StorageError::Corrupt(format!("{store}[{i}]: {e}"))),
                None => damaged.push(StorageError::Corrupt(format!("{store}[{i}]: not text"))),
            }
        }
        Ok((values, damaged))
    }

    /// Removes every record of a store.
    pub async fn clear(&self, store: &str) -> Result<(), StorageError> {
        let tx = self.tx(store, IdbTransactionMode::Readwrite)?;
        tx.object_store(store)
            .and_then(|s| s.clear())
            .map_err(StorageError::from_js)?;
        committed(&tx).await
    }

    /// Closes the connection.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Calls `f` when another tab upgrades the database: this connection is then closed, so
    /// the caller should stop writing and ask the user to reload.
    pub fn on_version_change(&self, f: impl Fn() + 'static) {
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| f());
        let _ = self
            .inner
            .add_event_listener_with_callback("versionchange", listener.as_ref().unchecked_ref());
        listener.forget();
    }

    /// Starts a transaction over several stores: the writes made through it land together or
    /// not at all. With `write` false it is read-only.
    pub fn transaction(&self, stores: &[&str], write: bool) -> Result<Tx, StorageError> {
        let names = stores
            .iter()
            .map(|s| JsValue::from_str(s))
            .collect::<Array>();
        let mode = if write {
            IdbTransactionMode::Readwrite
        } else {
            IdbTransactionMode::Readonly
        };
        let inner = self
            .live()?
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(StorageError::from_js)?;
        let done = settled(&inner);
        Ok(Tx { inner, done })
    }
}

/// The outcome of a transaction as a promise, set up when it starts so no event is missed. It
/// never rejects (a rejection nobody awaits would be reported as uncaught): it resolves with
/// `true` when the transaction commits, and with the abort's error (or null) otherwise.
fn settled(tx: &IdbTransaction) -> Promise {
    Promise::new(&mut |resolve, _| {
        let completed = resolve.clone();
        let on_complete = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = completed.call1(&JsValue::NULL, &JsValue::TRUE);
        });
        let aborted = tx.clone();
        let on_abort = Closure::once_into_js(move |_: web_sys::Event| {
            let err = aborted.error().map(JsValue::from).unwrap_or(JsValue::NULL);
            let _ = resolve.call1(&JsValue::NULL, &err);
        });
        tx.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx.set_onabort(Some(on_abort.unchecked_ref()));
    })
}

/// An open transaction over several stores ([`Db::transaction`]). Values are JSON text, as
/// everywhere in this database. Writes are queued at once; [`Tx::commit`] waits until they are
/// durable. Awaiting anything but this transaction's own requests in between lets it
/// auto-commit early, after which further requests fail.
pub struct Tx {
    inner: IdbTransaction,
    done: Promise,
}

impl Tx {
    fn store(&self, store: &str) -> Result<web_sys::IdbObjectStore, StorageError> {
        self.inner
            .object_store(store)
            .map_err(StorageError::from_js)
    }

    /// Reads one record's text.
    pub async fn get_text(&self, store: &str, key: &str) -> Result<Option<String>, StorageError> {
        let req = self
            .store(store)?
            .get(&key.into())
            .map_err(StorageError::from_js)?;
        Ok(request(&req).await?.as_string())
    }

    /// Reads the texts of the records whose keys lie in `lower..=upper`, in key order.
    pub async fn texts_in_range(
        &self,
        store: &str,
        lower: &str,
        upper: &str,
    ) -> Result<Vec<String>, StorageError> {
        let range = web_sys::IdbKeyRange::bound(&lower.into(), &upper.into())
            .map_err(StorageError::from_js)?;
        let req = self
            .store(store)?
            .get_all_with_key(&range)
            .map_err(StorageError::from_js)?;
        let array: Array = request(&req).await?.unchecked_into();
        Ok(array.iter().filter_map(|v| v.as_string()).collect())
    }

    /// Reads the texts of every record of a store, in key order.
    pub async fn all_texts(&self, store: &str) -> Result<Vec<String>, StorageError> {
        let req = self
            .store(store)?
            .get_all()
            .map_err(StorageError::from_js)?;
        let array: Array = request(&req).await?.unchecked_into();
        Ok(array.iter().filter_map(|v| v.as_string()).collect())
    }

    /// Reads the records of an auto-numbered store (the ledger) numbered after `after` (all of
    /// them for `None`), as their numbers and texts, in order.
    pub async fn numbered_after(
        &self,
        store: &str,
        after: Option<f64>,
    ) -> Result<Vec<(f64, Option<String>)>, StorageError> {
        let range = match after {
            Some(key) => Some(
                web_sys::IdbKeyRange::lower_bound_with_open(&key.into(), true)
                    .map_err(StorageError::from_js)?,
            ),
            None => None,
        };
        let store = self.store(store)?;
        // One request after the other: a request's handlers are set when it is awaited, so a
        // second one made before would finish unheard. The transaction keeps both consistent.
        let keys = match &range {
            Some(range) => store.get_all_keys_with_key(range),
            None => store.get_all_keys(),
        }
        .map_err(StorageError::from_js)?;
        let keys: Array = request(&keys).await?.unchecked_into();
        let values = match &range {
            Some(range) => store.get_all_with_key(range),
            None => store.get_all(),
        }
        .map_err(StorageError::from_js)?;
        let values: Array = request(&values).await?.unchecked_into();
        Ok(keys
            .iter()
            .zip(values.iter())
            .map(|(key, value)| (key.as_f64().unwrap_or(0.0), value.as_string()))
            .collect())
    }

    /// How many records a store holds.
    pub async fn count(&self, store: &str) -> Result<usize, StorageError> {
        let req = self.store(store)?.count().map_err(StorageError::from_js)?;
        Ok(request(&req).await?.as_f64().unwrap_or(0.0) as usize)
    }

    /// Reads every key of a store that is a string, in order.
    pub async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError> {
        let req = self
            .store(store)?
            .get_all_keys()
            .map_err(StorageError::from_js)?;
        let array: Array = request(&req).await?.unchecked_into();
        Ok(array.iter().filter_map(|v| v.as_string()).collect())
    }

    /// Queues a write of `text` under `key`.
    pub fn put_text(&self, store: &str, key: &str, text: &str) -> Result<(), StorageError> {
        self.store(store)?
            .put_with_key(&text.into(), &key.into())
            .map(|_| ())
            .map_err(StorageError::from_js)
    }

    /// Queues a write of `value` as JSON under `key`.
    pub fn put<T: Serialize>(&self, store: &str, key: &str, value: &T) -> Result<(), StorageError> {
        self.put_text(store, key, &encode(value)?)
    }

    /// Queues the deletion of one record.
    pub fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        self.store(store)?
            .delete(&key.into())
            .map(|_| ())
            .map_err(StorageError::from_js)
    }

    /// Queues the deletion of the records whose keys lie in `lower..=upper`.
    pub fn delete_range(&self, store: &str, lower: &str, upper: &str) -> Result<(), StorageError> {
        let range = web_sys::IdbKeyRange::bound(&lower.into(), &upper.into())
            .map_err(StorageError::from_js)?;
        self.store(store)?
            .delete(&range)
            .map(|_| ())
            .map_err(StorageError::from_js)
    }

    /// Asks the browser to commit now and waits until the writes are durable. A full disk
    /// aborts the transaction: then nothing of it was written and the error says why.
    pub async fn commit(self) -> Result<(), StorageError> {
        // Committing explicitly sends the writes even if the page is closing; a transaction
        // that already finished its requests commits on its own, so a refusal is harmless.
        // (`commit` is marked deprecated in web-sys only because older browsers lack it.)
        #[allow(deprecated)]
        let _ = self.inner.commit();
        self.finished().await
    }

    /// Abandons every write of this transaction.
    pub fn abort(&self) {
        let _ = self.inner.abort();
    }

    /// Waits for the transaction to end: `Ok` when it committed, the abort's reason otherwise.
    pub async fn finished(&self) -> Result<(), StorageError> {
        let outcome = JsFuture::from(self.done.clone())
            .await
            .map_err(StorageError::from_js)?;
        if outcome == JsValue::TRUE {
            Ok(())
        } else {
            Err(StorageError::from_js(outcome))
        }
    }

    /// Queues writes and asks for the commit without waiting: for `pagehide`, when there is no
    /// later turn to wait in.
    pub fn commit_now(&self) {
        #[allow(deprecated)]
        let _ = self.inner.commit();
    }
}
