//! One runner per batch across tabs: the Web Lock `duanju-batch:{id}`, or, where the browser
//! has no Web Locks API (an `http://` LAN address is not a secure context, an old browser), a
//! lease in IndexedDB with a heartbeat. Never two runners: without either, nothing runs.
//!
//! The lease is the record `lease:{lock name}` in the `kv` store: `{owner, expires_ms}`. A tab
//! claims it in one read-write transaction (IndexedDB runs read-write transactions on one store
//! one at a time, so claiming is a compare-and-set) when it is absent, expired, or its own;
//! renews it every [`HEARTBEAT_MS`]; and deletes it when it lets go. A holder stops sending
//! [`SAFETY_MARGIN_MS`] before its lease would expire unless a renewal came through, so a tab
//! whose timers the browser slowed (a hidden tab) never sends after another tab may have
//! claimed the batch. A lease whose expiry lies implausibly far ahead (the clock jumped back
//! after it was written) counts as expired.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::web::idb::{Db, StorageError, KV};
use crate::web::tabs;
use crate::web::timer::Timer;

/// How long a lease holds without renewal.
pub const LEASE_TTL_MS: f64 = 10_000.0;
/// How often the holder renews its lease.
pub const HEARTBEAT_MS: i32 = 3_000;
/// How long before its lease expires a holder stops sending.
pub const SAFETY_MARGIN_MS: f64 = 3_000.0;

/// A held lock, released when dropped.
pub(super) struct HeldLock {
    kind: Held,
}

enum Held {
    /// A Web Lock: `release` resolves the promise the lock callback returned.
    WebLock(Option<js_sys::Function>),
    /// An IndexedDB lease and its heartbeat.
    Lease(Rc<Lease>),
}

impl HeldLock {
    /// True while this tab may send: always for a Web Lock; for a lease, until
    /// [`SAFETY_MARGIN_MS`] before its expiry.
    pub(super) fn usable(&self) -> bool {
        match &self.kind {
            Held::WebLock(_) => true,
            Held::Lease(lease) => tabs::now_ms() < lease.valid_until.get() - SAFETY_MARGIN_MS,
        }
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        match &mut self.kind {
            Held::WebLock(release) => {
                if let Some(release) = release.take() {
                    let _ = release.call0(&JsValue::NULL);
                }
            }
            Held::Lease(lease) => {
                lease.heartbeat.borrow_mut().take();
                let lease = lease.clone();
                spawn_local(async move {
                    let _ = lease.release().await;
                });
            }
        }
    }
}

/// Takes the lock `name` if no other tab holds it: a Web Lock with `ifAvailable`, else the
/// IndexedDB lease in `db`. `on_renewed` is called after each renewal of a lease (the executor
/// pumps then, in case it had stopped near the expiry). `None` when another tab holds it, or
/// when neither mechanism works (failing closed).
pub(super) async fn try_lock(
    db: &Db,
    name: &str,
    on_renewed: impl Fn() + 'static,
) -> Option<HeldLock> {
    let navigator = web_sys::window()?.navigator();
    let locks = js_sys::Reflect::get(&navigator, &"locks".into()).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return Lease::claim(db, name, Rc::new(on_renewed)).await;
    }
    let request: js_sys::Function = js_sys::Reflect::get(&locks, &"request".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let mut release = None;
    let hold = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted = None;
    let answer = js_sys::Promise::new(&mut |resolve, _| granted = Some(resolve));
    let granted = granted?;
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let ok = !lock.is_null() && !lock.is_undefined();
        let _ = granted.call1(&JsValue::NULL, &JsValue::from_bool(ok));
        if ok {
            hold.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE).ok()?;
    request
        .call3(&locks, &name.into(), &options, &callback)
        .ok()?;
    let ok = JsFuture::from(answer).await.ok()?.as_bool() == Some(true);
    ok.then_some(HeldLock {
        kind: Held::WebLock(release),
    })
}

/// The stored lease.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct LeaseRecord {
    owner: String,
    expires_ms: f64,
}

/// Whether `owner` may take the lease `current` at `now_ms`.
fn may_claim(current: Option<&LeaseRecord>, owner: &str, now_ms: f64) -> bool {
    match current {
        None => true,
        Some(lease) => {
            lease.owner == owner
                || lease.expires_ms <= now_ms
                // Written before the clock jumped back: no lease lasts that long.
                || lease.expires_ms > now_ms + 2.0 * LEASE_TTL_MS
        }
    }
}

struct Lease {
    db: Db,
    key: String,
    owner: String,
    /// Until when this tab's lease is known to hold (its last write's expiry).
    valid_until: Cell<f64>,
    heartbeat: RefCell<Option<Timer>>,
    on_renewed: Rc<dyn Fn()>,
}

impl Lease {
    async fn claim(db: &Db, name: &str, on_renewed: Rc<dyn Fn()>) -> Option<HeldLock> {
        let lease = Rc::new(Lease {
            db: db.clone(),
            key: format!("lease:{name}"),
            owner: tabs::new_tab_id(),
            valid_until: Cell::new(f64::NEG_INFINITY),
            heartbeat: RefCell::new(None),
            on_renewed,
        });
        if !lease.renew().await.ok()? {
            return None;
        }
        Lease::beat(&lease);
        Some(HeldLock {
            kind: Held::Lease(lease),
        })
    }

    /// Claims or extends the lease; false when another tab holds it.
    async fn renew(&self) -> Result<bool, StorageError> {
        let tx = self.db.transaction(&[KV], true)?;
        let now = tabs::now_ms();
        let current = tx
            .get_text(KV, &self.key)
            .await?
            .and_then(|text| serde_json::from_str::<LeaseRecord>(&text).ok());
        if !may_claim(current.as_ref(), &self.owner, now) {
            tx.abort();
            return Ok(false);
        }
        let expires_ms = now + LEASE_TTL_MS;
        let record = LeaseRecord {
            owner: self.owner.clone(),
            expires_ms,
        };
        tx.put(KV, &self.key, &record)?;
        tx.commit().await?;
        self.valid_until.set(expires_ms);
        Ok(true)
    }

    /// Schedules the next renewal. A renewal that fails (another tab took an expired lease, or
    /// storage failed) leaves `valid_until` where it was, so sending stops before it passes.
    fn beat(lease: &Rc<Lease>) {
        let weak = Rc::downgrade(lease);
        let timer = Timer::once(HEARTBEAT_MS, move || {
            let Some(lease) = weak.upgrade() else {
                return;
            };
            spawn_local(async move {
                if lease.heartbeat.borrow().is_none() {
                    return; // Released meanwhile.
                }
                if lease.renew().await == Ok(true) {
                    (lease.on_renewed)();
                }
                Lease::beat(&lease);
            });
        });
        *lease.heartbeat.borrow_mut() = timer;
    }

    /// Deletes the lease when it is still this tab's.
    async fn release(&self) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[KV], true)?;
        let current = tx
            .get_text(KV, &self.key)
            .await?
            .and_then(|text| serde_json::from_str::<LeaseRecord>(&text).ok());
        if current.is_some_and(|lease| lease.owner == self.owner) {
            tx.delete(KV, &self.key)?;
        }
        tx.commit().await
    }
}
