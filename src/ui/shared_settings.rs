//! Storing the settings every tab shares — the connections (with the active one and the
//! remembered keys) and the price book — so that two tabs never overwrite each other's edits.
//!
//! A write applies this tab's edit onto the records as they are stored now
//! ([`crate::domain::tabs::settings`]: what differs between the records as this tab last read or
//! wrote them and its copy, merged into the fresh ones), in one IndexedDB transaction that reads
//! and writes them: another tab's write lands wholly before or after it, never in between. Then
//! this tab's signals take in what the other tabs had changed (edits typed here meanwhile are
//! kept) and the record's name goes out on [`crate::web::tabs::SETTINGS_CHANNEL`], so the other
//! tabs read it again ([`Connections::reload`], [`AppState::reload_book`]). Only the name: a
//! key is never broadcast; a tab that hears `connections` reads the keys it may hold from
//! storage itself.
//!
//! The readers run at start-up and are in `ui/state.rs`; the writers run only after an edit in
//! Settings or in the Estimate page's editors, so their code is in those pages' chunks.

use std::collections::BTreeMap;

use crate::domain::cost::estimate::PriceBook;
use crate::domain::provider::connection::{ApiKey, Connection};
use crate::domain::tabs::settings::{
    keys_to_forget, merge_book, merge_connections, ConnectionsRecord,
};
use crate::ui::state::{
    map_of, spawn_owned, AppState, Connections, ACTIVE_KEY, BOOK_KEY, CONNECTIONS_KEY, KEYS_KEY,
};
use crate::web::idb::{self, StorageError, Tx, KV};
use leptos::prelude::*;
use serde::de::DeserializeOwned;

/// The keys to store: those of connections that remember their key, and only non-empty ones.
fn remembered_keys(
    list: &[Connection],
    keys: &BTreeMap<String, ApiKey>,
) -> BTreeMap<String, ApiKey> {
    map_of(
        list.iter()
            .filter(|connection| connection.remember_key)
            .filter_map(|connection| {
                let key = keys.get(&connection.id).filter(|key| !key.is_empty())?;
                Some((connection.id.clone(), key.clone()))
            }),
    )
}

/// A stored record as read in a write's transaction: `None` when there is none, the base's
/// copy when it no longer parses (this write then replaces it, as any edit would).
fn stored_or<T: DeserializeOwned>(
    key: &str,
    text: Option<String>,
    damaged: impl FnOnce() -> T,
) -> Option<T> {
    match idb::decode::<T>(KV, key, text) {
        Ok(value) => value,
        Err(_) => Some(damaged()),
    }
}

/// Queues the write of `value` under `key` unless the record already holds it.
fn put_changed<T: serde::Serialize + PartialEq>(
    tx: &Tx,
    key: &str,
    stored: &Option<T>,
    value: &T,
) -> Result<bool, StorageError> {
    if stored.as_ref() == Some(value) {
        return Ok(false);
    }
    tx.put(KV, key, value)?;
    Ok(true)
}

impl Connections {
    /// This tab's records: its list, its active id and the keys it would remember.
    fn mine(&self) -> ConnectionsRecord {
        let list = self.list.get_untracked();
        let keys = self
            .keys
            .with_untracked(|keys| remembered_keys(&list, keys));
        ConnectionsRecord {
            list,
            active: self.active.get_untracked(),
            keys,
        }
    }

    /// Stores this tab's edit of the connections (see the module's documentation). Returns at
    /// once; a failure goes to the storage banner.
    pub(crate) fn save(self) {
        if self.base.with_value(|base| *base == self.mine()) {
            return;
        }
        self.sync.begin();
        spawn_owned(self.list, async move {
            match self.write_merged().await {
                Ok(true) => self.channel.announce(CONNECTIONS_KEY),
                Ok(false) => {}
                Err(e) => self.errors.set(Some(e)),
            }
            if self.sync.end() {
                self.reload().await;
            }
        });
    }

    /// Reads the three records, merges this tab's edit into them, writes what changed, and
    /// brings this tab's signals up to date. True when something was written.
    async fn write_merged(self) -> Result<bool, StorageError> {
        let db = idb::shared().await?;
        let tx = db.transaction(&[KV], true)?;
        let list_text = tx.get_text(KV, CONNECTIONS_KEY).await?;
        let active_text = tx.get_text(KV, ACTIVE_KEY).await?;
        let keys_text = tx.get_text(KV, KEYS_KEY).await?;
        let base = self.base.get_value();
        let stored_list = stored_or(CONNECTIONS_KEY, list_text, || base.list.clone());
        let stored_active = stored_or(ACTIVE_KEY, active_text, || base.active.clone());
        let stored_keys = stored_or(KEYS_KEY, keys_text, || {
            map_of(
                base.keys
                    .iter()
                    .map(|(id, key)| (id.clone(), key.expose().to_string())),
            )
        });
        let theirs = ConnectionsRecord {
            list: stored_list.clone().unwrap_or_default(),
            active: stored_active.clone().flatten(),
            keys: map_of(
                stored_keys
                    .iter()
                    .flatten()
                    .map(|(id, key)| (id.clone(), ApiKey::new(key))),
            ),
        };
        let mine = self.mine();
        let merged = merge_connections(&base, &mine, &theirs);
        let mut wrote = put_changed(&tx, CONNECTIONS_KEY, &stored_list, &merged.list)?;
        wrote |= put_changed(&tx, ACTIVE_KEY, &stored_active, &merged.active)?;
        // The keys record exists only while a connection remembers its key.
        let keys: BTreeMap<String, String> = map_of(
            merged
                .keys
                .iter()
                .map(|(id, key)| (id.clone(), key.expose().to_string())),
        );
        if keys.is_empty() {
            if stored_keys.is_some() {
                tx.delete(KV, KEYS_KEY)?;
                wrote = true;
            }
        } else {
            wrote |= put_changed(&tx, KEYS_KEY, &stored_keys, &keys)?;
        }
        tx.commit().await?;
        self.base.set_value(merged.clone());
        self.take_in(&mine, &merged);
        Ok(wrote)
    }

    /// Brings the signals from `mine` (what this tab merged from) to `merged`, keeping what was
    /// edited here since: the other tabs' changes applied onto the current signals. Keys held in
    /// memory go where their connection moved out of their reach, and keys another tab
    /// remembered come in where this tab has none.
    fn take_in(self, mine: &ConnectionsRecord, merged: &ConnectionsRecord) {
        let now = ConnectionsRecord {
            list: self.list.get_untracked(),
            active: self.active.get_untracked(),
            keys: BTreeMap::new(),
        };
        let next = merge_connections(mine, &now, merged);
        let gone = self
            .keys
            .with_untracked(|keys| keys_to_forget(&now.list, &next.list, keys));
        let found: Vec<(String, ApiKey)> = self.keys.with_untracked(|keys| {
            merged
                .keys
                .iter()
                .filter(|(id, _)| !keys.contains_key(*id))
                .map(|(id, key)| (id.clone(), key.clone()))
                .collect()
        });
        if !gone.is_empty() || !found.is_empty() {
            self.keys.update(|keys| {
                for id in &gone {
                    keys.remove(id);
                }
                keys.extend(found);
            });
        }
        if next.list != now.list {
            self.list.set(next.list);
        }
        if next.active != now.active {
            self.active.set(next.active);
        }
    }
}

impl AppState {
    /// Changes the price book and stores the change (see [`Self::save_book`]).
    pub fn update_book(&self, change: impl FnOnce(&mut PriceBook)) {
        self.book.update(change);
        self.save_book();
    }

    /// Stores this tab's edit of the price book, merged into the stored book (see the module's
    /// documentation). Returns at once; a failure goes to the storage banner.
    pub fn save_book(self) {
        if self
            .book_base
            .with_value(|base| self.book.with_untracked(|book| base == book))
        {
            return;
        }
        self.book_sync.begin();
        spawn_owned(self.book, async move {
            match self.write_book().await {
                Ok(true) => self.channel.announce(BOOK_KEY),
                Ok(false) => {}
                Err(e) => self.storage_error.set(Some(e)),
            }
            if self.book_sync.end() {
                self.reload_book().await;
            }
        });
    }

    async fn write_book(self) -> Result<bool, StorageError> {
        let db = idb::shared().await?;
        let tx = db.transaction(&[KV], true)?;
        let text = tx.get_text(KV, BOOK_KEY).await?;
        let base = self.book_base.get_value();
        let stored = stored_or(BOOK_KEY, text, || base.clone());
        // No record yet: the shipped book, which this tab started from too.
        let theirs = stored.clone().unwrap_or_else(PriceBook::defaults);
        let mine = self.book.get_untracked();
        let merged = merge_book(&base, &mine, &theirs);
        let wrote = put_changed(&tx, BOOK_KEY, &stored, &merged)?;
        tx.commit().await?;
        self.book_base.set_value(merged.clone());
        let now = self.book.get_untracked();
        let next = merge_book(&mine, &now, &merged);
        if next != now {
            self.book.set(next);
        }
        Ok(wrote)
    }
}
