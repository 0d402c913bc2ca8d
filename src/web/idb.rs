//! IndexedDB: one database, explicit schema versions, values stored as JSON text.
//!
//! Every write waits for its transaction's `complete` event, so "saved" means durable, and a
//! full disk (`QuotaExceededError`) or a blocked upgrade becomes a typed [`StorageError`]
//! instead of a silent loss. Reads that find text which no longer parses report
//! [`StorageError::Corrupt`] and leave the record untouched.

use crate::domain::i18n::Lang;
use js_sys::{Array, Promise};
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbObjectStoreParameters, IdbRequest, IdbTransaction, IdbTransactionMode,
};

/// The database name.
pub const DB_NAME: &str = "duanju-studio";
/// The schema version this build writes. Bump it and add a step to [`upgrade`].
pub const SCHEMA_VERSION: u32 = 1;

/// Key-value records: the price catalog, routes, profiles, the plan, connections.
pub const KV: &str = "kv";
/// The usage ledger: one record per API call, auto-numbered.
pub const LEDGER: &str = "ledger";

/// A storage failure a user can meet.
#[derive(Clone, Debug, PartialEq)]
pub enum StorageError {
    /// IndexedDB is missing or disabled (private mode in some browsers).
    Unavailable,
    /// The disk or the origin's quota is full: nothing new was written.
    QuotaExceeded,
    /// Another tab holds an older version of the database open.
    Blocked,
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
            _ => StorageError::Other(name),
        }
    }
}

/// Creates the stores of each version in order: a database at version `old` is brought to
/// [`SCHEMA_VERSION`] by running every step after `old`.
fn upgrade(db: &IdbDatabase, old: u32) -> Result<(), JsValue> {
    if old < 1 {
        db.create_object_store(KV)?;
        let params = IdbObjectStoreParameters::new();
        params.set_auto_increment(true);
        db.create_object_store_with_optional_parameters(LEDGER, &params)?;
    }
    Ok(())
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

/// An open database.
#[derive(Clone)]
pub struct Db {
    inner: IdbDatabase,
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
                if let Err(e) = upgrade(&db, event.old_version() as u32) {
                    web_sys::console::error_2(&"IndexedDB upgrade failed".into(), &e);
                }
            }
        });
        open.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let blocked = std::rc::Rc::new(std::cell::Cell::new(false));
        let flag = blocked.clone();
        let on_blocked = Closure::once_into_js(move |_: web_sys::Event| flag.set(true));
        open.set_onblocked(Some(on_blocked.unchecked_ref()));
        let result = request(&open).await;
        if blocked.get() && result.is_err() {
            return Err(StorageError::Blocked);
        }
        let db: IdbDatabase = result?.unchecked_into();
        // Another tab that upgrades the schema asks us to let go: close instead of blocking it.
        let closing = db.clone();
        let on_version_change = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| closing.close());
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        on_version_change.forget();
        Ok(Db { inner: db })
    }

    fn tx(&self, store: &str, mode: IdbTransactionMode) -> Result<IdbTransaction, StorageError> {
        self.inner
            .transaction_with_str_and_mode(store, mode)
            .map_err(StorageError::from_js)
    }

    /// Reads one record of `store` by key.
    pub async fn get<T: DeserializeOwned>(
        &self,
        store: &str,
        key: &str,
    ) -> Result<Option<T>, StorageError> {
        let tx = self.tx(store, IdbTransactionMode::Readonly)?;
        let req = tx
            .object_store(store)
            .and_then(|s| s.get(&key.into()))
            .map_err(StorageError::from_js)?;
        let value = request(&req).await?;
        match value.as_string() {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StorageError::Corrupt(format!("{store}/{key}: {e}"))),
        }
    }

    /// Writes one record in its own transaction and waits until it is committed.
    pub async fn put<T: Serialize>(
        &self,
        store: &str,
        key: &str,
        value: &T,
    ) -> Result<(), StorageError> {
        let text = serde_json::to_string(value).map_err(|e| StorageError::Other(e.to_string()))?;
        let tx = self.tx(store, IdbTransactionMode::Readwrite)?;
        tx.object_store(store)
            .and_then(|s| s.put_with_key(&text.into(), &key.into()))
            .map_err(StorageError::from_js)?;
        committed(&tx).await
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
        let text = serde_json::to_string(value).map_err(|e| StorageError::Other(e.to_string()))?;
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
}
