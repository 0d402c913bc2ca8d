//! The executor: drives the pure [`Batch`] engine with browser timers, `fetch`,
//! IndexedDB and the Web Locks API, following the contract in [`crate::domain::batch`]:
//!
//! ```text
//! create / load:  batch = load(); batch.recover_after_crash(now)     (running → unknown)
//! pump:           actions = batch.next_actions(now)
//!                 save(batch + those items, now "running")             ← BEFORE the fetch
//!                 fetch each; answer → on_result, observe_headers, save, ledger, pump
//!                 timer for batch.next_wake_ms(now)
//! ```
//!
//! Storage: the store `batches` holds one [`StoredBatch`] per batch (the engine's state without
//! its items, plus [`BatchMeta`]: which connection, task and project); `batch_items` holds one
//! [`StoredItem`] per item under `{batch id}/{index:06}` (the engine's item, the request to send,
//! the reply text and the ledger entries of its calls). One transaction writes the batch and the
//! items that changed, and transactions on the same stores commit in the order they were
//! created, so the stored state never goes backwards.
//!
//! Only one tab runs a batch: [`Executor::run`] takes the Web Lock `duanju-batch:{id}` with
//! `ifAvailable` (through `js_sys::Reflect`, as web-sys's `LockManager` is unstable), or without
//! Web Locks an IndexedDB lease with a heartbeat (see [`super::lock`]), and keeps it until
//! [`Executor::close`] or the page goes away. The running tab posts a [`BatchPulse`] on the
//! [`BATCH_CHANNEL`] after every change; the other tabs show it.
//!
//! Every call is written to the ledger (`ledger` store), priced with the batch's price snapshot;
//! a fallback switch caused by a call is that call's ledger note.

use crate::domain::cost::money::{Currency, Money};
use crate::domain::storyboard::scene_runs::RunPurpose;

/// See [`Executor::on_ledger`].
type LedgerListener = Rc<dyn Fn(&LedgerEntry)>;
/// See [`Executor::on_usage`].
type UsageListener = Rc<dyn Fn(&UsageSample)>;
/// Gives what is left of the project's budget for a batch, read again before each dispatch.
type ProjectLimit = Rc<dyn Fn(&Executor) -> Option<Money>>;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use serde::{Deserialize, Serialize};
use wasm_bindgen_futures::spawn_local;

use crate::domain::batch::{
    Action, Admission, Answer, Batch, BatchConfig, BatchError, BatchItem, BatchStatus, CallContext,
    Failure, ItemState, Progress, Reply, Unlimited, UsageSample,
};
use crate::domain::cost::ledger::LedgerEntry;
use crate::domain::i18n::Lang;
use crate::domain::provider::chat::ChatRequest;
use crate::domain::provider::connection::{ApiKey, Connection};
use crate::web::http::{self, CallError, CallOptions, CallOutcome};
use crate::web::idb::{Db, StorageError, BATCHES, BATCH_ITEMS, LEDGER};
use crate::web::tabs::{self, TabChannel, BATCH_CHANNEL};
use crate::web::timer::Timer;

use super::gate::{self, Permit, SharedGate, Waiting};
use super::lock::{try_lock, HeldLock};

/// What the executor needs besides the engine's state to run a batch again after a reload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchMeta {
    /// The connection the batch's requests go to (its key is looked up, never stored here).
    pub connection_id: String,
    /// The route's task, written on every ledger entry.
    pub task: String,
    /// The project the calls belong to, when any.
    #[serde(default)]
    pub project: Option<String>,
    /// A label for the user ("剧本初稿 · 30 prompts").
    pub label: String,
    /// What a pipeline panel started it for (which scene each item is), so that after a
    /// reload the panel takes its batch back; `None` for a plain batch.
    #[serde(default)]
    pub purpose: Option<RunPurpose>,
    /// When the batch was created (Unix ms).
    pub created_ms: f64,
}

/// The record of a batch in the `batches` store.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredBatch {
    /// Connection, task, project, label.
    pub meta: BatchMeta,
    /// The engine's state, without its items (they are in `batch_items`).
    pub batch: Batch,
    /// How many items the batch has.
    pub item_count: usize,
}

/// The record of one item in the `batch_items` store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredItem {
    /// The engine's item (its state, attempts, last error).
    pub item: BatchItem,
    /// The request to send (its model is replaced by the item's current model).
    pub request: ChatRequest,
    /// The reply text once answered. Text only: the UI renders it as a text node.
    #[serde(default)]
    pub output: Option<String>,
    /// The ledger entries of this item's calls (also in the ledger store), for reconciling the
    /// quote with what was billed.
    #[serde(default)]
    pub calls: Vec<LedgerEntry>,
}

/// The key of item `index` of batch `batch_id` in `batch_items`.
pub fn item_key(batch_id: &str, index: usize) -> String {
    format!("{batch_id}/{index:06}")
}

/// The progress the running tab posts to the others.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchPulse {
    /// The batch.
    pub batch_id: String,
    /// Its status ([`BatchStatus::name`]).
    pub status: String,
    /// Items waiting for their turn (including backoffs).
    pub queued: usize,
    /// Requests in flight.
    pub running: usize,
    /// Answered.
    pub done: usize,
    /// Given up.
    pub failed: usize,
    /// Outcome unknown.
    pub unknown: usize,
    /// All items.
    pub total: usize,
    /// Requests per minute over the last minute.
    pub rate_rpm: f64,
    /// The limit they run against, when known.
    pub limit_rpm: Option<f64>,
    /// Estimated time to finish, in ms.
    pub eta_ms: Option<f64>,
}

impl BatchPulse {
    /// The pulse of `progress`.
    pub fn of(batch_id: &str, progress: &Progress) -> BatchPulse {
        let c = &progress.counts;
        BatchPulse {
            batch_id: batch_id.to_string(),
            status: progress.status.name().to_string(),
            queued: c.queued,
            running: c.running,
            done: c.done,
            failed: c.failed,
            unknown: c.unknown,
            total: c.total,
            rate_rpm: progress.rate_rpm,
            limit_rpm: progress.limit_rpm,
            eta_ms: progress.eta_ms,
        }
    }
}

/// A request in flight.
pub type SendFuture = Pin<Box<dyn Future<Output = Result<CallOutcome, CallError>>>>;
/// How requests are sent: [`http_transport`] in the app, a fake in tests.
pub type Transport = Rc<dyn Fn(&Connection, &ApiKey, &ChatRequest) -> SendFuture>;

/// Sends each request with [`http::chat_stream`]: the time limit is then the longest wait for
/// the response and for each next piece, so a stall mid-reply ends the call (its outcome
/// unknown) and a cut reply keeps what arrived and its usage.
pub fn http_transport() -> Transport {
    Rc::new(|conn: &Connection, key: &ApiKey, req: &ChatRequest| {
        let (conn, key, req) = (conn.clone(), key.clone(), req.clone());
        Box::pin(async move {
            http::chat_stream(&conn, &key, &req, CallOptions::default(), |_| {}).await
        }) as SendFuture
    })
}

/// Why an executor could not be made.
#[derive(Clone, Debug, PartialEq)]
pub enum ExecError {
    /// IndexedDB failed.
    Storage(StorageError),
    /// The engine refused the items (two share an id).
    Batch(BatchError),
}

impl ExecError {
    /// The message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ExecError::Storage(e) => e.message(lang),
            ExecError::Batch(e) => e.message(lang),
        }
    }
}

impl From<StorageError> for ExecError {
    fn from(e: StorageError) -> ExecError {
        ExecError::Storage(e)
    }
}

/// Everything shown about a batch: the engine's state plus replies and calls.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Connection, task, label.
    pub meta: BatchMeta,
    /// The engine's state.
    pub batch: Batch,
    /// Per item (same order as `batch.items`): the reply text.
    pub outputs: Vec<Option<String>>,
    /// Per item: its ledger entries.
    pub calls: Vec<Vec<LedgerEntry>>,
    /// Per item: the request.
    pub requests: Vec<ChatRequest>,
}

impl Snapshot {
    /// The reply text of item `index`, empty when it has none (yet).
    pub fn reply(&self, index: usize) -> &str {
        self.outputs
            .get(index)
            .and_then(|o| o.as_deref())
            .unwrap_or_default()
    }
}

/// Reads a stored batch as it is, without recovering it (for tests and for tabs that only
/// watch). `None` when there is no such batch.
pub async fn read_stored(db: &Db, batch_id: &str) -> Result<Option<Snapshot>, StorageError> {
    let tx = db.transaction(&[BATCHES, BATCH_ITEMS], false)?;
    let Some(text) = tx.get_text(BATCHES, batch_id).await? else {
        return Ok(None);
    };
    let stored: StoredBatch = parse(&text)?;
    let texts = tx
        .texts_in_range(
            BATCH_ITEMS,
            &format!("{batch_id}/"),
            &format!("{batch_id}/\u{ffff}"),
        )
        .await?;
    let mut snapshot = Snapshot {
        meta: stored.meta,
        batch: stored.batch,
        outputs: Vec::new(),
        calls: Vec::new(),
        requests: Vec::new(),
    };
    for text in texts {
        let item: StoredItem = parse(&text)?;
        snapshot.batch.items.push(item.item);
        snapshot.outputs.push(item.output);
        snapshot.calls.push(item.calls);
        snapshot.requests.push(item.request);
    }
    if snapshot.batch.items.len() != stored.item_count {
        return Err(StorageError::Corrupt(format!(
            "batch {batch_id}: {} of {} items",
            snapshot.batch.items.len(),
            stored.item_count
        )));
    }
    Ok(Some(snapshot))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// The ids of the stored batches that are not over: still running, paused, stopped, or with
/// items whose outcome is unknown. Oldest first.
pub async fn unfinished(db: &Db) -> Result<Vec<(String, BatchMeta)>, StorageError> {
    let tx = db.transaction(&[BATCHES], false)?;
    let mut found = Vec::new();
    for text in tx.all_texts(BATCHES).await? {
        let Ok(stored) = serde_json::from_str::<StoredBatch>(&text) else {
            continue;
        };
        if !matches!(
            stored.batch.status,
            BatchStatus::Finished | BatchStatus::Cancelled
        ) || stored.batch.counts().unknown > 0
        {
            found.push((stored.batch.id.clone(), stored.meta));
        }
    }
    found.sort_by(|a, b| a.1.created_ms.total_cmp(&b.1.created_ms));
    Ok(found)
}

/// Deletes a batch and its items.
pub async fn delete(db: &Db, batch_id: &str) -> Result<(), StorageError> {
    let tx = db.transaction(&[BATCHES, BATCH_ITEMS], true)?;
    tx.delete(BATCHES, batch_id)?;
    tx.delete_range(
        BATCH_ITEMS,
        &format!("{batch_id}/"),
        &format!("{batch_id}/\u{ffff}"),
    )?;
    tx.commit().await
}

struct State {
    batch: Batch,
    requests: Vec<ChatRequest>,
    outputs: Vec<Option<String>>,
    calls: Vec<Vec<LedgerEntry>>,
}

struct Inner {
    db: Db,
    meta: BatchMeta,
    state: RefCell<State>,
    link: RefCell<Option<(Connection, ApiKey)>>,
    transport: Transport,
    listeners: RefCell<Vec<Rc<dyn Fn()>>>,
    ledger_listeners: RefCell<Vec<LedgerListener>>,
    /// Told each billed prompt (our raw estimate and the provider's count).
    usage_listeners: RefCell<Vec<UsageListener>>,
    timer: RefCell<Option<Timer>>,
    lock: RefCell<Option<HeldLock>>,
    channel: RefCell<Option<TabChannel>>,
    closed: Cell<bool>,
    storage_error: RefCell<Option<StorageError>>,
    /// Read before each dispatch: what the project's budget leaves this batch (`None`: keep
    /// the last value). See [`Executor::set_project_limit`].
    project_limit: RefCell<Option<ProjectLimit>>,
    /// The connection's page-wide gate while connected, and this batch's subscription to it:
    /// a call ending anywhere on the connection pumps this batch again.
    gate: RefCell<Option<(Rc<SharedGate>, Waiting)>>,
    /// The places this batch's requests in flight hold at the gate, by item: given back when
    /// the call ends, or all at once when the executor closes (so a call left running by a
    /// closed panel does not hold the connection).
    permits: RefCell<Vec<(String, Permit)>>,
}

/// Runs one batch in this tab. Cheap to clone (a shared handle).
#[derive(Clone)]
pub struct Executor {
    inner: Rc<Inner>,
}

impl Executor {
    /// Creates a batch of `items` (each with its request) and stores it, all queued. Nothing is
    /// sent before [`Self::run`].
    pub async fn create(
        db: Db,
        batch_id: &str,
        meta: BatchMeta,
        items: Vec<(BatchItem, ChatRequest)>,
        config: BatchConfig,
        transport: Transport,
    ) -> Result<Executor, ExecError> {
        let (items, requests): (Vec<_>, Vec<_>) = items.into_iter().unzip();
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        let batch = Batch::new(batch_id, items, config, seed).map_err(ExecError::Batch)?;
        let count = batch.items.len();
        let executor = Executor::assemble(
            db,
            meta,
            State {
                batch,
                outputs: vec![None; count],
                calls: vec![Vec::new(); count],
                requests,
            },
            transport,
        );
        executor.save(&(0..count).collect::<Vec<_>>())?.await?;
        Ok(executor)
    }

    /// Loads a stored batch after a reload (or in another tab): every item that was in flight
    /// becomes "outcome unknown" and is stored so. `None` when there is no such batch.
    ///
    /// Only call this in the tab that will run the batch (after taking its lock, see
    /// [`Self::open`]): a watching tab reads with [`read_stored`].
    pub async fn load(
        db: Db,
        batch_id: &str,
        transport: Transport,
    ) -> Result<Option<Executor>, StorageError> {
        let Some(snapshot) = read_stored(&db, batch_id).await? else {
            return Ok(None);
        };
        let mut batch = snapshot.batch;
        let recovered = batch.recover_after_crash(tabs::now_ms());
        let changed: Vec<usize> = batch
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| recovered.contains(&item.id))
            .map(|(index, _)| index)
            .collect();
        let executor = Executor::assemble(
            db,
            snapshot.meta,
            State {
                batch,
                requests: snapshot.requests,
                outputs: snapshot.outputs,
                calls: snapshot.calls,
            },
            transport,
        );
        executor.save(&changed)?.await?;
        Ok(Some(executor))
    }

    /// Takes the batch's lock, then loads it ([`Self::load`]). `Ok(None)` when another tab
    /// runs it (or it does not exist): watch it over the [`BATCH_CHANNEL`] instead.
    pub async fn open(
        db: Db,
        batch_id: &str,
        transport: Transport,
    ) -> Result<Option<Executor>, StorageError> {
        let renewed = Rc::new(RefCell::new(None::<Weak<Inner>>));
        let pump_renewed = renewed.clone();
        let on_renewed = move || {
            if let Some(inner) = pump_renewed.borrow().as_ref().and_then(Weak::upgrade) {
                Executor { inner }.pump();
            }
        };
        let Some(lock) = try_lock(&db, &lock_name(batch_id), on_renewed).await else {
            return Ok(None);
        };
        let executor = Executor::load(db, batch_id, transport).await?;
        if let Some(executor) = &executor {
            *renewed.borrow_mut() = Some(Rc::downgrade(&executor.inner));
            *executor.inner.lock.borrow_mut() = Some(lock);
        }
        Ok(executor)
    }

    fn assemble(db: Db, meta: BatchMeta, state: State, transport: Transport) -> Executor {
        let channel = TabChannel::open(BATCH_CHANNEL, |_: BatchPulse| {});
        Executor {
            inner: Rc::new(Inner {
                db,
                meta,
                state: RefCell::new(state),
                link: RefCell::new(None),
                transport,
                listeners: RefCell::new(Vec::new()),
                ledger_listeners: RefCell::new(Vec::new()),
                usage_listeners: RefCell::new(Vec::new()),
                timer: RefCell::new(None),
                lock: RefCell::new(None),
                channel: RefCell::new(channel),
                closed: Cell::new(false),
                storage_error: RefCell::new(None),
                project_limit: RefCell::new(None),
                gate: RefCell::new(None),
                permits: RefCell::new(Vec::new()),
            }),
        }
    }

    /// The batch's id.
    pub fn id(&self) -> String {
        self.inner.state.borrow().batch.id.clone()
    }

    /// Connection, task, label.
    pub fn meta(&self) -> &BatchMeta {
        &self.inner.meta
    }

    /// Calls `f` after every change (a send, an answer, a user action).
    pub fn on_change(&self, f: impl Fn() + 'static) {
        self.inner.listeners.borrow_mut().push(Rc::new(f));
    }

    /// Calls `f` with every ledger entry once it is stored.
    pub fn on_ledger(&self, f: impl Fn(&LedgerEntry) + 'static) {
        self.inner.ledger_listeners.borrow_mut().push(Rc::new(f));
    }

    /// Calls `f` after each answer whose prompt tokens were billed (not estimated): our raw
    /// estimate of the request's prompt and the provider's count, for
    /// [`crate::domain::provider::token_estimate::Calibration`].
    pub fn on_usage(&self, f: impl Fn(&UsageSample) + 'static) {
        self.inner.usage_listeners.borrow_mut().push(Rc::new(f));
    }

    /// Reads the batch's state.
    pub fn with_batch<R>(&self, f: impl FnOnce(&Batch) -> R) -> R {
        f(&self.inner.state.borrow().batch)
    }

    /// A copy of everything shown about the batch.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.inner.state.borrow();
        Snapshot {
            meta: self.inner.meta.clone(),
            batch: state.batch.clone(),
            outputs: state.outputs.clone(),
            calls: state.calls.clone(),
            requests: state.requests.clone(),
        }
    }

    /// The last storage failure, if any (the batch pauses on it).
    pub fn storage_error(&self) -> Option<StorageError> {
        self.inner.storage_error.borrow().clone()
    }

    /// Sets the connection and key the requests go to. Without them nothing is sent.
    pub fn connect(&self, connection: Connection, key: ApiKey) {
        *self.inner.link.borrow_mut() = Some((connection, key));
    }

    /// Takes the batch's lock (if [`Self::open`] did not already) and starts sending. Returns
    /// false when another tab holds the lock: then this executor sends nothing.
    pub async fn run(&self) -> bool {
        if self.inner.lock.borrow().is_none() {
            let weak = Rc::downgrade(&self.inner);
            let on_renewed = move || {
                if let Some(inner) = weak.upgrade() {
                    Executor { inner }.pump();
                }
            };
            let Some(lock) = try_lock(&self.inner.db, &lock_name(&self.id()), on_renewed).await
            else {
                return false;
            };
            *self.inner.lock.borrow_mut() = Some(lock);
        }
        self.pump();
        true
    }

    /// Stops this executor for good (as if the tab closed): no timer, no more sends, answers
    /// still arriving are ignored, and the lock is released.
    pub fn close(&self) {
        self.inner.closed.set(true);
        // Listeners may hold this executor: dropping them ends the cycle.
        self.inner.listeners.borrow_mut().clear();
        self.inner.ledger_listeners.borrow_mut().clear();
        self.inner.usage_listeners.borrow_mut().clear();
        self.inner.timer.borrow_mut().take();
        self.inner.lock.borrow_mut().take();
        self.inner.channel.borrow_mut().take();
        self.inner.permits.borrow_mut().clear();
        self.inner.gate.borrow_mut().take();
    }

    /// Pauses dispatch (requests in flight still finish).
    pub fn pause(&self) {
        self.act(|batch| {
            batch.pause();
        });
    }

    /// Resumes a paused or stopped batch.
    pub fn resume(&self) {
        self.act(|batch| {
            batch.resume();
        });
    }

    /// Sets what is left of the project's budget for this batch (its own spend not counted: the
    /// engine adds it). A batch stopped by the project's budget then resumes with
    /// [`Self::resume`].
    pub fn set_project_remaining(&self, remaining: Option<Money>) {
        self.act(|batch| batch.set_project_remaining(remaining));
    }

    /// Has the project's budget read again by `limit` before each dispatch, so that what other
    /// work of the project commits meanwhile (another batch, clips) counts before this batch
    /// sends its next item. `limit` returns what is left for this batch, its own spend not
    /// counted (as [`Self::set_project_remaining`]), or `None` to keep the last value.
    pub fn set_project_limit(&self, limit: impl Fn(&Executor) -> Option<Money> + 'static) {
        *self.inner.project_limit.borrow_mut() = Some(Rc::new(limit));
    }

    /// What this batch has at risk in `currency`: the worst case of its requests in flight or
    /// of unknown outcome (sent, not billed yet).
    pub fn at_risk(&self, currency: Currency) -> Money {
        self.with_batch(|b| b.at_risk(currency))
    }

    /// What `executors` have at risk together in `currency`.
    pub fn at_risk_of<'a>(
        executors: impl IntoIterator<Item = &'a Executor>,
        currency: Currency,
    ) -> Money {
        Money::sum(currency, executors.into_iter().map(|e| e.at_risk(currency)))
    }

    /// Cancels the batch for good.
    pub fn cancel(&self) {
        self.act(Batch::cancel);
    }

    /// Queues every failed item again.
    pub fn retry_failed(&self) -> usize {
        let mut count = 0;
        self.act(|batch| count = batch.retry_failed());
        count
    }

    /// The user's consent to send the unknown-outcome items again (each may be billed twice).
    pub fn resend_unknown(&self) -> usize {
        let mut count = 0;
        self.act(|batch| count = batch.resend_unknown(&unknown_ids(batch)).unwrap_or(0));
        count
    }

    /// The user gives up on the unknown-outcome items: they count as failed, nothing is resent.
    pub fn mark_unknown_failed(&self) {
        self.act(|batch| {
            for id in unknown_ids(batch) {
                let _ = batch.mark_unknown_failed(&id);
            }
        });
    }

    /// Applies a user action, stores the whole batch and moves on.
    fn act(&self, f: impl FnOnce(&mut Batch)) {
        let all = {
            let mut state = self.inner.state.borrow_mut();
            f(&mut state.batch);
            (0..state.batch.items.len()).collect::<Vec<_>>()
        };
        let saved = self.save(&all);
        let this = self.clone();
        spawn_local(async move {
            if let Err(e) = async { saved?.await }.await {
                this.storage_failed(e);
            }
        });
        self.notify();
        self.pump();
    }

    /// Queues one transaction writing the batch and the items at `changed`; the returned future
    /// waits for its commit. The writes are queued now, so saves commit in call order.
    fn save(
        &self,
        changed: &[usize],
    ) -> Result<impl Future<Output = Result<(), StorageError>>, StorageError> {
        let state = self.inner.state.borrow();
        let tx = self.inner.db.transaction(&[BATCHES, BATCH_ITEMS], true)?;
        let mut without_items = state.batch.clone();
        without_items.items = Vec::new();
        let header = StoredBatch {
            meta: self.inner.meta.clone(),
            batch: without_items,
            item_count: state.batch.items.len(),
        };
        let id = &state.batch.id;
        tx.put(BATCHES, id, &header)?;
        for &index in changed {
            let record = StoredItem {
                item: state.batch.items[index].clone(),
                request: state.requests[index].clone(),
                output: state.outputs[index].clone(),
                calls: state.calls[index].clone(),
            };
            tx.put(BATCH_ITEMS, &item_key(id, index), &record)?;
        }
        Ok(tx.commit())
    }

    fn storage_failed(&self, error: StorageError) {
        *self.inner.storage_error.borrow_mut() = Some(error);
        self.inner.state.borrow_mut().batch.pause();
        self.notify();
    }

    fn notify(&self) {
        if !self.inner.closed.get() {
            let pulse = {
                let state = self.inner.state.borrow();
                BatchPulse::of(&state.batch.id, &state.batch.progress(tabs::now_ms()))
            };
            if let Some(channel) = self.inner.channel.borrow().as_ref() {
                channel.post(&pulse);
            }
        }
        let listeners = self.inner.listeners.borrow().clone();
        for listener in listeners {
            listener();
        }
    }

    /// Sends what the engine allows now, after storing those items as running, and sets the
    /// timer for the next moment something may be sent.
    fn pump(&self) {
        // Without a usable lock nothing is sent: a lease near its expiry waits for its renewal
        // (which pumps again), so no other tab can have taken the batch meanwhile.
        let usable = self
            .inner
            .lock
            .borrow()
            .as_ref()
            .is_some_and(HeldLock::usable);
        if self.inner.closed.get() || !usable {
            return;
        }
        let Some((connection, key)) = self.inner.link.borrow().clone() else {
            return;
        };
        self.record_unknowns(&connection);
        let now = tabs::now_ms();
        let limit = self.inner.project_limit.borrow().clone();
        let project_remaining = limit.and_then(|limit| limit(self));
        let gate = self.gate(&connection);
        let (actions, saved) = {
            let mut state = self.inner.state.borrow_mut();
            if project_remaining.is_some() {
                state.batch.set_project_remaining(project_remaining);
            }
            let before = state.batch.status.clone();
            let actions = self.with_turn(|gate| state.batch.next_actions_through(now, gate));
            // Dispatch can stop the batch by itself (a budget reached before any send): that
            // status is stored and shown like any other change.
            let stopped = state.batch.status != before;
            let changed: Vec<usize> = actions
                .iter()
                .filter_map(|Action::Send { item_id, .. }| {
                    state.batch.items.iter().position(|i| &i.id == item_id)
                })
                .collect();
            drop(state);
            let saved = (!actions.is_empty() || stopped).then(|| self.save(&changed));
            (actions, saved)
        };
        // Each request the gate admitted holds its place until its call ends.
        let permits: Vec<Permit> = actions.iter().map(|_| gate.adopt()).collect();
        self.schedule(now);
        if saved.is_none() {
            return;
        }
        self.notify();
        let this = self.clone();
        spawn_local(async move {
            let stored = match saved {
                Some(Ok(commit)) => commit.await,
                Some(Err(e)) => Err(e),
                None => Ok(()),
            };
            if let Err(e) = stored {
                // Not stored as running: sending now could pay twice after a reload. The items
                // stay running in memory (a reload makes them unknown) and the batch pauses.
                this.storage_failed(e);
                return;
            }
            for (action, permit) in actions.into_iter().zip(permits) {
                this.send(action, &connection, &key, permit);
            }
        });
    }

    /// Writes to the ledger, at their worst case, the attempts whose outcome became unknown
    /// when a tab closed with them in flight ([`Batch::record_unknowns`]): from then on they
    /// count as spent, in this batch and in the project.
    fn record_unknowns(&self, connection: &Connection) {
        let recorded = {
            let mut state = self.inner.state.borrow_mut();
            let state = &mut *state;
            let recorded = state.batch.record_unknowns(self.context(connection));
            if recorded.is_empty() {
                return;
            }
            for (index, entry) in &recorded {
                state.calls[*index].push(entry.clone());
            }
            recorded
        };
        let (changed, entries): (Vec<usize>, Vec<LedgerEntry>) = recorded.into_iter().unzip();
        let saved = self.save(&changed);
        let this = self.clone();
        spawn_local(async move { this.store_calls(saved, &entries).await });
    }

    /// The context written on this batch's ledger entries for calls through `connection`.
    fn context<'a>(&'a self, connection: &'a Connection) -> CallContext<'a> {
        CallContext {
            connection,
            task: &self.inner.meta.task,
            project: self.inner.meta.project.as_deref(),
        }
    }

    /// Appends `entries` to the ledger, waits for the items' save (`saved`), reports a storage
    /// failure, then tells the ledger listeners.
    async fn store_calls(
        &self,
        saved: Result<impl Future<Output = Result<(), StorageError>>, StorageError>,
        entries: &[LedgerEntry],
    ) {
        let mut stored = Ok(());
        for entry in entries {
            stored = stored.and(self.inner.db.append(LEDGER, entry).await.map(|_| ()));
        }
        let saved = match saved {
            Ok(commit) => commit.await,
            Err(e) => Err(e),
        };
        if let Err(e) = saved.and(stored) {
            self.storage_failed(e);
        }
        let listeners = self.inner.ledger_listeners.borrow().clone();
        for entry in entries {
            for listener in &listeners {
                listener(entry);
            }
        }
    }

    /// The page's gate of `connection`, subscribed to once per connection.
    fn gate(&self, connection: &Connection) -> Rc<SharedGate> {
        let gate = gate::for_connection(connection);
        let mut held = self.inner.gate.borrow_mut();
        if !held.as_ref().is_some_and(|(g, _)| Rc::ptr_eq(g, &gate)) {
            let weak: Weak<Inner> = Rc::downgrade(&self.inner);
            let waiting = gate.on_release(move || {
                if let Some(inner) = weak.upgrade() {
                    Executor { inner }.pump();
                }
            });
            *held = Some((gate.clone(), waiting));
        }
        gate
    }

    /// Runs `f` with this batch's turn at its connection's gate ([`Self::gate`]), or through
    /// no gate before it is connected.
    fn with_turn<R>(&self, f: impl FnOnce(&mut dyn Admission) -> R) -> R {
        match self.inner.gate.borrow().as_ref() {
            Some((gate, waiting)) => gate.turn(waiting, |turn| f(turn)),
            None => f(&mut Unlimited),
        }
    }

    fn send(&self, action: Action, connection: &Connection, key: &ApiKey, permit: Permit) {
        let Action::Send { item_id, model, .. } = action;
        let request = {
            let state = self.inner.state.borrow();
            let Some(index) = state.batch.items.iter().position(|i| i.id == item_id) else {
                return;
            };
            let mut request = state.requests[index].clone();
            request.model = model.clone();
            request
        };
        let at_ms = tabs::now_ms();
        if !self.inner.closed.get() {
            self.inner
                .permits
                .borrow_mut()
                .push((item_id.clone(), permit));
        }
        let call = (self.inner.transport)(connection, key, &request);
        let this = self.clone();
        let connection = connection.clone();
        spawn_local(async move {
            let result = call.await;
            // The call has ended: its place on the connection is free before the answer is
            // handled (which pumps this batch again).
            this.inner
                .permits
                .borrow_mut()
                .retain(|(id, _)| id != &item_id);
            this.answered(&item_id, &model, at_ms, &connection, result)
                .await;
        });
    }

    async fn answered(
        &self,
        item_id: &str,
        model: &str,
        sent_ms: f64,
        connection: &Connection,
        result: Result<CallOutcome, CallError>,
    ) {
        if self.inner.closed.get() {
            return;
        }
        let answered = {
            let mut state = self.inner.state.borrow_mut();
            let state = &mut *state;
            let context = self.context(connection);
            let Some(index) = state.batch.items.iter().position(|i| i.id == item_id) else {
                return;
            };
            let answer = answer_of(sent_ms, result);
            let messages = &state.requests[index].messages;
            let Some(answered) =
                state
                    .batch
                    .on_answer(item_id, model, tabs::now_ms(), context, messages, answer)
            else {
                return;
            };
            // A lane paused by a 429 (or by headers saying the quota is spent) holds every run
            // on the connection, not only this one.
            let lane = &state.batch.items[index].lane;
            if let (Some(lane), Some((gate, _))) = (
                state.batch.lane(lane, model),
                self.inner.gate.borrow().as_ref(),
            ) {
                gate.pause_until(lane.limiter.paused_until_ms);
            }
            if let Some(text) = &answered.output {
                state.outputs[index] = Some(text.clone());
            }
            state.calls[index].push(answered.entry.clone());
            answered
        };
        let saved = self.save(&[answered.index]);
        if let Some(sample) = &answered.sample {
            let listeners = self.inner.usage_listeners.borrow().clone();
            for listener in listeners {
                listener(sample);
            }
        }
        self.notify();
        self.pump();
        self.store_calls(saved, &[answered.entry]).await;
    }

    /// Sets the timer for the engine's next wake-up (replacing the previous one).
    fn schedule(&self, now: f64) {
        let wake = {
            let state = self.inner.state.borrow();
            self.with_turn(|gate| state.batch.next_wake_ms_through(now, gate))
        };
        let mut timer = self.inner.timer.borrow_mut();
        timer.take();
        let Some(wake) = wake else {
            return;
        };
        // At least 1 ms, so a limiter that is a hair short of ready never spins.
        let delay = (wake - now).ceil().clamp(1.0, 2_147_483_647.0) as i32;
        let weak: Weak<Inner> = Rc::downgrade(&self.inner);
        *timer = Timer::once(delay, move || {
            if let Some(inner) = weak.upgrade() {
                Executor { inner }.pump();
            }
        });
    }
}

/// The ids of the items whose outcome is unknown.
fn unknown_ids(batch: &Batch) -> Vec<String> {
    batch
        .items
        .iter()
        .filter(|item| matches!(item.state, ItemState::OutcomeUnknown { .. }))
        .map(|item| item.id.clone())
        .collect()
}

fn lock_name(batch_id: &str) -> String {
    format!("duanju-batch:{batch_id}")
}

/// The network's result as the engine reads it.
fn answer_of(sent_ms: f64, result: Result<CallOutcome, CallError>) -> Answer {
    match result {
        Ok(outcome) => Answer {
            sent_ms,
            latency_ms: outcome.latency_ms,
            headers: outcome.rate_limits,
            reply: Ok(Reply {
                content: outcome.completion.content,
                usage: outcome.completion.usage,
            }),
        },
        Err(failure) => Answer {
            sent_ms,
            latency_ms: failure.latency_ms,
            headers: failure.rate_limits,
            reply: Err(Failure {
                error: failure.error,
                partial_usage: failure.partial.and_then(|p| p.completion.usage),
            }),
        },
    }
}
