//! The settings every tab shares — the connections, the keys remembered on this device, the
//! active connection and the price book — merged when two tabs edit them.
//!
//! A tab never writes its whole copy of a setting over the stored one. It applies its own edit
//! onto the record as it is stored now: its edit is what differs between the record as it last
//! read or wrote it (`base`) and its copy (`mine`), and the fresh record (`theirs`) keeps
//! everything else. So a tab that adds connection X and another, opened before and so stale,
//! that adds Y and renames Z leave X, Y and the new name. An edit of the same value in both tabs
//! (the same field of one connection, the price of one model, one route): the edit written last
//! wins, and nothing else is lost. [`three_way`] does it for one value, [`merge_keyed`] for a list
//! of entries with ids.
//!
//! **Keys stay with their origin.** A remembered key is kept only with a base URL it may go to
//! ([`Connection::keeps_key`]): a key pasted in one tab for one site never ends up stored for a
//! URL another tab moved the connection to, and [`keys_to_forget`] tells a tab which of the keys
//! it holds in memory no longer fit the connections as stored (any change of the URL there).
//!
//! ```
//! use duanju_studio::domain::tabs::settings::{merge_connections, ConnectionsRecord};
//! use duanju_studio::domain::i18n::Lang;
//! use duanju_studio::domain::provider::connection::{Connection, Preset};
//!
//! let conn = |id: &str, name: &str| {
//!     let mut c = Connection::from_preset(id, Preset::Custom, "relay-market", Lang::En);
//!     c.name = name.into();
//!     c
//! };
//! let base = ConnectionsRecord { list: vec![conn("z", "Z")], ..ConnectionsRecord::default() };
//! // Tab A added X; tab B, still on `base`, added Y and renamed Z.
//! let theirs = ConnectionsRecord { list: vec![conn("z", "Z"), conn("x", "X")], ..base.clone() };
//! let mine = ConnectionsRecord { list: vec![conn("z", "Zed"), conn("y", "Y")], ..base.clone() };
//! let merged = merge_connections(&base, &mine, &theirs);
//! let names: Vec<&str> = merged.list.iter().map(|c| c.name.as_str()).collect();
//! assert_eq!(names, ["Zed", "X", "Y"]);
//! ```

use std::collections::BTreeMap;

use crate::domain::cost::estimate::PriceBook;
use crate::domain::cost::pricing::PriceSet;
use crate::domain::cost::profile::Profile;
use crate::domain::provider::connection::{ApiKey, Connection};
use crate::domain::provider::routing::RouteTable;

/// One value merged: this tab's value where its edit changed it (`mine` differs from `base`),
/// else the stored one. With no base (the value is new to both), this tab's edit wins.
pub fn three_way<T: PartialEq + Clone>(base: Option<&T>, mine: &T, theirs: &T) -> T {
    if base == Some(mine) {
        theirs.clone()
    } else {
        mine.clone()
    }
}

/// A list of entries with ids merged entry by entry: an entry this tab added is added, one it
/// removed is removed (even when the other tab changed it meanwhile: removing is the later
/// edit), one only the other tab added or changed is kept as stored, and one both have is merged
/// by `entry(base, mine, theirs)` (with `base` `None` when both tabs added it). The order is the
/// stored one, then this tab's new entries in its order.
pub fn merge_keyed<T, K>(
    base: &[T],
    mine: &[T],
    theirs: &[T],
    key: impl Fn(&T) -> K,
    entry: impl Fn(Option<&T>, &T, &T) -> T,
) -> Vec<T>
where
    T: Clone + PartialEq,
    K: PartialEq,
{
    let find = |list: &'_ [T], k: &K| -> Option<usize> { list.iter().position(|e| key(e) == *k) };
    let mut merged = Vec::with_capacity(theirs.len().max(mine.len()));
    for stored in theirs {
        let k = key(stored);
        let before = find(base, &k).map(|i| &base[i]);
        match (before, find(mine, &k).map(|i| &mine[i])) {
            // This tab removed it.
            (Some(_), None) => {}
            // Only the other tab has it: added there.
            (None, None) => merged.push(stored.clone()),
            (before, Some(ours)) => merged.push(entry(before, ours, stored)),
        }
    }
    for ours in mine {
        let k = key(ours);
        if find(theirs, &k).is_some() {
            continue;
        }
        match find(base, &k).map(|i| &base[i]) {
            // Added here.
            None => merged.push(ours.clone()),
            // The other tab removed it; kept only if this tab changed it since (the later edit).
            Some(before) => {
                if ours != before {
                    merged.push(ours.clone());
                }
            }
        }
    }
    merged
}

/// A map merged key by key: an entry this tab added, changed or removed is added, changed or
/// removed; every other entry is kept as stored. (A connection's model ids: a mapping set in one
/// tab and another set in a second tab are both kept.)
pub fn merge_map<K, V>(
    base: &BTreeMap<K, V>,
    mine: &BTreeMap<K, V>,
    theirs: &BTreeMap<K, V>,
) -> BTreeMap<K, V>
where
    K: Ord + Clone,
    V: PartialEq + Clone,
{
    let mut merged = theirs.clone();
    for key in base.keys().chain(mine.keys()) {
        let (before, ours) = (base.get(key), mine.get(key));
        if before == ours {
            continue;
        }
        match ours {
            Some(value) => merged.insert(key.clone(), value.clone()),
            None => merged.remove(key),
        };
    }
    merged
}

/// The three records the connections are stored in (`kv` `connections`, `active_connection`,
/// `keys`). `Debug` masks the keys ([`ApiKey`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectionsRecord {
    /// The saved connections, without keys, in the order they were added.
    pub list: Vec<Connection>,
    /// The active connection's id.
    pub active: Option<String>,
    /// The keys remembered on this device, by connection id.
    pub keys: BTreeMap<String, ApiKey>,
}

/// This tab's edit of the connections applied onto the stored ones: connections merged by id
/// and field by field, the active connection (the first one when it is gone), and the remembered
/// keys by id — each kept only while its connection remembers its key and only with a base URL
/// the key may go to (the URL of the tab that stored it, or one of the same origin).
pub fn merge_connections(
    base: &ConnectionsRecord,
    mine: &ConnectionsRecord,
    theirs: &ConnectionsRecord,
) -> ConnectionsRecord {
    let list = merge_keyed(
        &base.list,
        &mine.list,
        &theirs.list,
        |c| c.id.clone(),
        |b, m, t| match b {
            Some(b) => Connection {
                id: m.id.clone(),
                preset: three_way(Some(&b.preset), &m.preset, &t.preset),
                name: three_way(Some(&b.name), &m.name, &t.name),
                base_url: three_way(Some(&b.base_url), &m.base_url, &t.base_url),
                price_profile_id: three_way(
                    Some(&b.price_profile_id),
                    &m.price_profile_id,
                    &t.price_profile_id,
                ),
                remember_key: three_way(Some(&b.remember_key), &m.remember_key, &t.remember_key),
                protocol: three_way(Some(&b.protocol), &m.protocol, &t.protocol),
                model_ids: merge_map(&b.model_ids, &m.model_ids, &t.model_ids),
                limits: three_way(Some(&b.limits), &m.limits, &t.limits),
            },
            None => m.clone(),
        },
    );
    let mut active = three_way(Some(&base.active), &mine.active, &theirs.active);
    if !list.iter().any(|c| Some(&c.id) == active.as_ref()) {
        active = list.first().map(|c| c.id.clone());
    }
    let mut keys = BTreeMap::new();
    for connection in list.iter().filter(|c| c.remember_key) {
        let id = &connection.id;
        let ours = mine.keys.get(id);
        // The key and the copy of the connection it was stored with.
        let (key, side) = if ours != base.keys.get(id) {
            (ours, &mine.list)
        } else {
            (theirs.keys.get(id), &theirs.list)
        };
        let Some(key) = key.filter(|key| !key.is_empty()) else {
            continue;
        };
        let fits = side
            .iter()
            .find(|c| c.id == *id)
            .is_some_and(|with| with.keeps_key(&connection.base_url, key));
        if fits {
            keys.insert(id.clone(), key.clone());
        }
    }
    ConnectionsRecord { list, active, keys }
}

/// The ids of the keys a tab holds in memory (`keys`, entered for the connections as it had
/// them, `before`) that must go now that the connections are `after`: a connection that is gone,
/// or one whose base URL another tab changed (only a preset's public test key follows). Stricter
/// than [`Connection::keeps_key`] on purpose — it compares the text, so the start-up module needs
/// no URL parser — and a key the other tab kept for the new URL is read again from storage.
pub fn keys_to_forget(
    before: &[Connection],
    after: &[Connection],
    keys: &BTreeMap<String, ApiKey>,
) -> Vec<String> {
    keys.iter()
        .filter(|(id, key)| {
            let now = after.iter().find(|c| c.id == **id);
            let then = before.iter().find(|c| c.id == **id);
            match (then, now) {
                (_, None) => true,
                (Some(then), Some(now)) => {
                    then.base_url != now.base_url
                        && now.preset.spec().prefilled_key != Some(key.expose())
                }
                (None, Some(_)) => false,
            }
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// This tab's edit of the price book applied onto the stored one: price sets by id (their name,
/// and their prices model by model), profiles by id and field by field, routes task by task.
/// Should the merged routes not make a valid table, this tab's table is kept whole.
pub fn merge_book(base: &PriceBook, mine: &PriceBook, theirs: &PriceBook) -> PriceBook {
    let price_sets = merge_keyed(
        &base.price_sets,
        &mine.price_sets,
        &theirs.price_sets,
        |set| set.id.clone(),
        |b, m, t| match b {
            Some(b) => PriceSet {
                id: m.id.clone(),
                name: three_way(Some(&b.name), &m.name, &t.name),
                prices: merge_keyed(
                    &b.prices,
                    &m.prices,
                    &t.prices,
                    |price| price.model.clone(),
                    three_way,
                ),
            },
            None => m.clone(),
        },
    );
    let profiles = merge_keyed(
        &base.profiles,
        &mine.profiles,
        &theirs.profiles,
        |profile| profile.id.clone(),
        |b, m, t| match b {
            Some(b) => Profile {
                id: m.id.clone(),
                name: three_way(Some(&b.name), &m.name, &t.name),
                base_url: three_way(Some(&b.base_url), &m.base_url, &t.base_url),
                price_set: three_way(Some(&b.price_set), &m.price_set, &t.price_set),
                exchange_rate: three_way(
                    Some(&b.exchange_rate),
                    &m.exchange_rate,
                    &t.exchange_rate,
                ),
                markup: three_way(Some(&b.markup), &m.markup, &t.markup),
            },
            None => m.clone(),
        },
    );
    let routes = merge_keyed(
        base.routes.routes(),
        mine.routes.routes(),
        theirs.routes.routes(),
        |route| route.task,
        three_way,
    );
    PriceBook {
        price_sets,
        profiles,
        routes: RouteTable::new(routes).unwrap_or_else(|_| mine.routes.clone()),
    }
}
