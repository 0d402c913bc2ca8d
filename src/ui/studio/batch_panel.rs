//! Batches in the Studio: many prompts on one route, quoted in $ and ¥ before they start, sent
//! at the connection's rate limit by the executor ([`crate::web::exec`]), resumed after a
//! reload, with progress, pause / resume / cancel / retry, and per-item rows.
//!
//! Other features start batches through [`BatchService::start_batch`] (the Studio provides the
//! service as context): they get a [`BatchHandle`] whose [`BatchHandle::view`] signal follows the
//! batch, and the panel shows it like one started by hand.
//!
//! Replies are text: rendered as text nodes, never as HTML.

use crate::domain::batch::{
    plan_run, plan_single, quote, reconcile, BatchConfig, BatchItem, BatchStatus, ItemState,
    Limits, Quote, RunInput, RunPlan, UsageSample,
};
use crate::domain::cost::estimate::PriceBook;
use crate::domain::cost::ledger::{grand_total, LedgerEntry};
use crate::domain::cost::money::{format_count, Currency, Money};
use crate::domain::i18n::Lang;
use crate::domain::project::Budget;
use crate::domain::provider::chat::{ChatMessage, ChatRequest};
use crate::domain::provider::connection::Connection;
use crate::domain::provider::model_map::{missing_models, MissingModel};
use crate::domain::provider::routing::{Route, TaskType};
use crate::domain::provider::token_estimate::Calibration;
use crate::domain::storyboard::character_bible::{run_cache_notice, CacheNotice};
use crate::domain::storyboard::scene_runs::RunPurpose;
use crate::domain::tabs::budget_share::worst_case_of;
use crate::ui::common::ledger_view::{exact_amount, millis};
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::{use_app_state, AppState};
use crate::ui::studio::budget_share;
use crate::ui::studio::route_picker::{route_label, RouteOptions};
use crate::web::exec::once::{run_once, OnceOptions, OnceProblem, OnceResult};
use crate::web::exec::{
    self, http_transport, BatchMeta, BatchPulse, ExecError, Executor, Snapshot,
};
use crate::web::exec::{load_calibration, save_calibration};
use crate::web::idb;
use crate::web::models;
use crate::web::tabs::{self, TabChannel, BATCH_CHANNEL};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// What a feature asks the Studio to run: one request per prompt on the route of `task`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchRequest {
    /// The route (task → model, settings, fallbacks).
    pub task: TaskType,
    /// One request per prompt (repeat a prompt for several takes).
    pub prompts: Vec<String>,
    /// Per prompt (same index), a system message sent before it: the character bible of a
    /// scene, the same bytes every call so provider caches hit. Missing entries mean none.
    pub prefixes: Vec<Option<String>>,
    /// A label for the user.
    pub label: String,
    /// Stop before the batch could spend more than this.
    pub budget: Option<Money>,
    /// Limits for this run; `None` runs at the connection's own (its requests and tokens per
    /// minute and concurrency, set in Settings: [`Connection::batch_limits`]).
    pub limits: Option<Limits>,
    /// The project the calls belong to, when any.
    pub project: Option<String>,
    /// That project's spending cap: the batch stops before the project's ledger total plus
    /// this batch could pass it.
    pub project_budget: Option<Budget>,
    /// What a pipeline panel runs it for (stored with the batch for a reload).
    pub purpose: Option<RunPurpose>,
}

/// One call the user waits for (see [`BatchService::call_once`]).
#[derive(Clone, Debug, PartialEq)]
pub struct OnceCall {
    /// The route it runs on (the project's own, when it has one).
    pub route: Route,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// A label for the user, should it be listed after a reload.
    pub label: String,
    /// The project the call belongs to, when any.
    pub project: Option<String>,
    /// That project's spending cap: the call is not sent when it could pass it.
    pub project_budget: Option<Budget>,
}

/// Why a batch cannot start or run.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchProblem {
    /// No connection is active.
    NoConnection,
    /// The active connection has no key.
    NoKey,
    /// A batch resumed after a reload, but this page has no key for its connection.
    NoKeyToResume,
    /// Another tab runs this batch.
    LockedElsewhere,
    /// Storing or reading the batch failed.
    Exec(ExecError),
    /// A single call was not sent (see [`OnceProblem`]).
    Once(OnceProblem),
    /// The connection's model list lacks the route's model: refused before anything is paid.
    MissingModel(MissingModel),
}

impl BatchProblem {
    /// A stable identifier for `data-kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            BatchProblem::NoConnection => "no_connection",
            BatchProblem::NoKey => "no_key",
            BatchProblem::NoKeyToResume => "no_key_to_resume",
            BatchProblem::LockedElsewhere => "locked_elsewhere",
            BatchProblem::Exec(_) | BatchProblem::Once(OnceProblem::Exec(_)) => "storage",
            BatchProblem::Once(OnceProblem::Refused(_)) => "refused",
            BatchProblem::MissingModel(_) => "missing_model",
        }
    }

    /// The message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            BatchProblem::NoConnection => lang
                .pick(
                    "还没有连接。请先在「设置」中添加一个连接。",
                    "There is no connection yet. Add one in Settings first.",
                )
                .into(),
            BatchProblem::NoKey => lang
                .pick(
                    "当前连接还没有填写 API 密钥。请在「设置」中粘贴密钥。",
                    "The active connection has no API key. Paste the key in Settings.",
                )
                .into(),
            BatchProblem::NoKeyToResume => lang
                .pick(
                    "这个批量任务所用连接的 API 密钥不在本页中：请在「设置」中粘贴密钥后刷新页面继续。",
                    "This page has no API key for the batch's connection: paste it in Settings, then reload to resume.",
                )
                .into(),
            BatchProblem::LockedElsewhere => lang
                .pick(
                    "另一个标签页正在运行这个批量任务。",
                    "Another tab is running this batch.",
                )
                .into(),
            BatchProblem::Exec(e) => e.message(lang),
            BatchProblem::Once(e) => e.message(lang),
            BatchProblem::MissingModel(m) => m.message(lang),
        }
    }
}

/// A batch ready to start: its items with their requests, its quote and its configuration.
#[derive(Clone, Debug)]
pub struct BatchPlan {
    /// Items and the requests they send.
    pub items: Vec<(BatchItem, ChatRequest)>,
    /// The quote in $ and ¥.
    pub quote: Quote,
    /// Limits, budget, the price snapshot.
    pub config: BatchConfig,
    /// Connection, task, label.
    pub meta: BatchMeta,
}

/// Builds the items of `request` on `connection` and quotes them ([`plan_run`]): one
/// conversation per prompt, after its prefix when it has one.
pub fn plan_batch(
    book: &PriceBook,
    connection: &Connection,
    request: &BatchRequest,
    calibration: &Calibration,
) -> BatchPlan {
    let conversations = request
        .prompts
        .iter()
        .enumerate()
        .map(|(index, prompt)| {
            let prefix = request.prefixes.get(index).cloned().flatten();
            prefix
                .map(ChatMessage::system)
                .into_iter()
                .chain([ChatMessage::user(prompt.clone())])
                .collect()
        })
        .collect();
    let (prices, profile) = book.pricing_for(connection);
    let RunPlan {
        items,
        quote,
        config,
    } = plan_run(RunInput {
        route: book.routes.route(request.task),
        connection_id: &connection.id,
        conversations,
        prices: &prices,
        profile: &profile,
        limits: request.limits.unwrap_or_else(|| connection.batch_limits()),
        budget: request.budget,
        calibration,
    });
    BatchPlan {
        items,
        quote,
        config,
        meta: BatchMeta {
            connection_id: connection.id.clone(),
            task: request.task.as_str().to_string(),
            project: request.project.clone(),
            label: request.label.clone(),
            purpose: request.purpose.clone(),
            created_ms: tabs::now_ms(),
        },
    }
}

/// The batch panel's starting rate on a connection whose rpm is unknown.
const DEFAULT_BATCH_RPM: u32 = 60;

/// Teaches `calibration` a billed prompt and keeps it in `kv` when it learned.
fn learn(calibration: StoredValue<Calibration>, sample: &UsageSample) {
    let observed = calibration
        .try_update_value(|c| c.observe(&sample.model, sample.estimated, sample.billed))
        .unwrap_or(false);
    if !observed {
        return;
    }
    if let Some(now) = calibration.try_get_value() {
        save_calibration(now);
    }
}

/// How often a running batch refreshes the page, at most (ms).
const UI_REFRESH_MS: u64 = 200;

thread_local! {
    /// The executors this page runs, kept across Studio visits: leaving the Studio does not
    /// stop a batch, and coming back shows it again.
    static RUNNING: std::cell::RefCell<Vec<Executor>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Every batch this page runs.
fn all_running() -> Vec<Executor> {
    RUNNING.with(|running| running.borrow().clone())
}

/// The batches this page runs for `project`.
fn running_for(project: &str) -> Vec<Executor> {
    RUNNING.with(|running| {
        running
            .borrow()
            .iter()
            .filter(|e| e.meta().project.as_deref() == Some(project))
            .cloned()
            .collect()
    })
}

/// A batch this page runs: a signal with its state, and its controls.
#[derive(Clone, Copy, PartialEq)]
pub struct BatchHandle {
    /// The batch's state after every change (`None` until it is stored).
    pub view: RwSignal<Option<Snapshot>>,
    /// Why it cannot run (storage failed, no key for its connection), if so.
    pub problem: RwSignal<Option<BatchProblem>>,
    /// Why its repeated character bible will not be cached (shorter than the provider caches),
    /// said before anyone counts on the savings.
    pub cache_notice: RwSignal<Option<CacheNotice>>,
    exec: StoredValue<Option<Executor>, LocalStorage>,
}

impl BatchHandle {
    fn new() -> BatchHandle {
        BatchHandle {
            view: RwSignal::new(None),
            problem: RwSignal::new(None),
            cache_notice: RwSignal::new(None),
            exec: StoredValue::new_local(None),
        }
    }

    fn with(&self, f: impl FnOnce(&Executor)) {
        self.exec.with_value(|exec| {
            if let Some(exec) = exec {
                f(exec);
            }
        });
    }

    /// Pauses dispatch.
    pub fn pause(&self) {
        self.with(Executor::pause);
    }
    /// Resumes a paused or stopped batch.
    pub fn resume(&self) {
        self.after_claim(|_| false, Executor::resume);
    }
    /// Cancels the batch for good.
    pub fn cancel(&self) {
        self.with(Executor::cancel);
    }
    /// Queues the failed items again.
    pub fn retry_failed(&self) {
        self.after_claim(
            |state| matches!(state, ItemState::Failed { .. }),
            |e| {
                e.retry_failed();
            },
        );
    }
    /// Sends the unknown-outcome items again: the user consented to paying again.
    pub fn resend_unknown(&self) {
        self.after_claim(
            |state| matches!(state, ItemState::OutcomeUnknown { .. }),
            |e| {
                e.resend_unknown();
            },
        );
    }

    /// Runs `act` on the batch; for a batch of a project, once this page's claim on the
    /// project's budget holds the items `again` picks (they are about to be sent again) and
    /// what is queued (see [`budget_share`]), so that they do not stop on a claim renewed before.
    fn after_claim(&self, again: fn(&ItemState) -> bool, act: fn(&Executor)) {
        let Some(exec) = self.exec.with_value(Clone::clone) else {
            return;
        };
        let Some(project) = exec.meta().project.clone() else {
            return act(&exec);
        };
        let ticket = budget_share::starting(&project, exec.with_batch(|b| worst_case_of(b, again)));
        spawn_local(async move {
            let _ = budget_share::renew().await;
            act(&exec);
            budget_share::started(ticket);
        });
    }
    /// Gives up on the unknown-outcome items.
    pub fn mark_unknown_failed(&self) {
        self.with(Executor::mark_unknown_failed);
    }

    /// Follows `exec`: its changes go to [`Self::view`], its calls to `ledger`, at most every
    /// [`UI_REFRESH_MS`]: rendering on every send and answer would keep the main thread busy,
    /// delay the executor's timers and so cost throughput.
    fn attach(
        &self,
        exec: Executor,
        ledger: RwSignal<Vec<LedgerEntry>>,
        calibration: StoredValue<Calibration>,
    ) {
        let view = self.view;
        let problem = self.problem;
        let pending = Rc::new(Cell::new(false));
        let learned = Rc::new(Cell::new(false));
        let entries = Rc::new(RefCell::new(Vec::<LedgerEntry>::new()));
        let refresh = {
            let (watched, pending, entries) = (exec.clone(), pending.clone(), entries.clone());
            let learned = learned.clone();
            move || {
                pending.set(false);
                view.set(Some(watched.snapshot()));
                if let Some(e) = watched.storage_error() {
                    problem.set(Some(BatchProblem::Exec(ExecError::Storage(e))));
                }
                let new: Vec<LedgerEntry> = entries.borrow_mut().drain(..).collect();
                if !new.is_empty() {
                    ledger.update(|all| all.extend(new));
                }
                if learned.replace(false) {
                    if let Some(now) = calibration.try_get_value() {
                        save_calibration(now);
                    }
                }
            }
        };
        let schedule = move || {
            if !pending.replace(true) {
                let refresh = refresh.clone();
                set_timeout(refresh, std::time::Duration::from_millis(UI_REFRESH_MS));
            }
        };
        let on_change = schedule.clone();
        exec.on_change(on_change);
        let on_usage = schedule.clone();
        exec.on_ledger(move |entry| {
            entries.borrow_mut().push(entry.clone());
            schedule();
        });
        exec.on_usage(move |sample| {
            let observed = calibration
                .try_update_value(|c| c.observe(&sample.model, sample.estimated, sample.billed))
                .unwrap_or(false);
            if observed {
                learned.set(true);
                on_usage();
            }
        });
        view.set(Some(exec.snapshot()));
        RUNNING.with(|running| {
            let mut running = running.borrow_mut();
            if !running.iter().any(|e| e.id() == exec.id()) {
                running.push(exec.clone());
            }
        });
        budget_share::track(&exec);
        self.exec.set_value(Some(exec));
    }
}

/// The Studio's batches: the one this page runs, or the progress of one another tab runs.
#[derive(Clone, Copy)]
pub struct BatchService {
    /// The batch this page shows (the latest one started or resumed).
    pub current: RwSignal<Option<BatchHandle>>,
    /// Every batch this page runs, oldest first (`current` among them): the pipeline panels
    /// find theirs here after a reload.
    pub handles: RwSignal<Vec<BatchHandle>>,
    /// The progress of a batch another tab runs.
    pub remote: RwSignal<Option<BatchPulse>>,
    ledger: RwSignal<Vec<LedgerEntry>>,
    /// What billed answers taught the quote about each model's tokens (kept in `kv`).
    calibration: StoredValue<Calibration>,
    /// The budget of each project whose batches this page runs (from the batch request, then
    /// from the project's settings as they change).
    budgets: StoredValue<HashMap<String, Budget>>,
    /// Bumped whenever the spend counted across tabs changes ([`budget_share::spent`]).
    pub spent_changed: RwSignal<u64>,
    state: AppState,
    _channel: StoredValue<Option<TabChannel>, LocalStorage>,
}

/// Provides the [`BatchService`] (the Studio does, once) and resumes the unfinished batches
/// found in IndexedDB once the connections and their keys are loaded.
pub fn provide_batch_service(ledger: RwSignal<Vec<LedgerEntry>>) -> BatchService {
    let state = use_app_state();
    let current = RwSignal::new(None::<BatchHandle>);
    let remote = RwSignal::new(None::<BatchPulse>);
    let channel = TabChannel::open(BATCH_CHANNEL, move |pulse: BatchPulse| {
        let ours = current.with_untracked(|handle| {
            handle.is_some_and(|h| {
                h.view
                    .with_untracked(|v| v.as_ref().is_some_and(|v| v.batch.id == pulse.batch_id))
            })
        });
        if !ours {
            remote.set(Some(pulse));
        }
    });
    let spent_changed = RwSignal::new(0u64);
    budget_share::install(all_running, move || {
        spent_changed.try_update(|n| *n += 1);
    });
    let service = BatchService {
        current,
        handles: RwSignal::new(Vec::new()),
        calibration: StoredValue::new(Calibration::default()),
        budgets: StoredValue::new(HashMap::new()),
        spent_changed,
        remote,
        ledger,
        state,
        _channel: StoredValue::new_local(channel),
    };
    provide_context(service);
    spawn_local(async move {
        if let Some(stored) = load_calibration().await {
            service.calibration.try_set_value(stored);
        }
    });
    // The active connection's model listing, for the check before a run.
    Effect::new(move |_| {
        if let Some(active) = state.connection.get() {
            spawn_local(async move {
                let _ = models::listing_for(&active.connection).await;
            });
        }
    });
    let loaded = state.connections.loaded;
    Effect::new(move |resumed: Option<bool>| {
        if resumed == Some(true) {
            return true;
        }
        if !loaded.get() {
            return false;
        }
        spawn_local(async move { service.resume_unfinished().await });
        true
    });
    service
}

/// Refuses a run whose route model the connection's known listing lacks
/// ([`models::known_listing`]; no listing known: nothing to check, the provider says it after
/// the first request).
fn check_models(conn: &Connection, state: &AppState, task: TaskType) -> Result<(), BatchProblem> {
    let model = state
        .book
        .with_untracked(|book| book.routes.route(task).model.clone());
    let listed = models::known_listing(conn);
    match missing_models(conn, &[model.as_str()], listed.as_deref())
        .into_iter()
        .next()
    {
        Some(missing) => Err(BatchProblem::MissingModel(missing)),
        None => Ok(()),
    }
}

/// The Studio's [`BatchService`].
pub fn use_batch_service() -> BatchService {
    expect_context::<BatchService>()
}

impl BatchService {
    /// Quotes and starts `request` on the active connection. Returns at once: the handle's
    /// view fills in once the batch is stored, and sending starts right after.
    pub fn start_batch(&self, request: BatchRequest) -> Result<BatchHandle, BatchProblem> {
        let Some(active) = self.state.connection.get_untracked() else {
            return Err(BatchProblem::NoConnection);
        };
        if active.key.is_empty() {
            return Err(BatchProblem::NoKey);
        }
        check_models(&active.connection, &self.state, request.task)?;
        let mut plan = self.state.book.with_untracked(|book| {
            self.calibration
                .with_value(|c| plan_batch(book, &active.connection, &request, c))
        });
        let mut ticket = None;
        if let (Some(budget), Some(project)) = (request.project_budget, &request.project) {
            self.budgets.update_value(|all| {
                all.insert(project.clone(), budget);
            });
            budget_share::set_budget(project, Some(budget), false);
            ticket = Some(budget_share::starting(project, plan.quote.worst_case));
            let others = self.at_risk(project, budget.currency, None);
            plan.config.project_remaining = Some(self.ledger.with_untracked(|all| {
                budget.remaining_for_batch(all, project, Money::zero(budget.currency), others)
            }));
        }
        let notice = self.state.book.with_untracked(|book| {
            let model = &book.routes.route(request.task).model;
            run_cache_notice(active.connection.protocol(), model, &request.prefixes)
        });
        let handle = self.start_plan(plan, active.connection, active.key, ticket)?;
        handle.cache_notice.set(notice);
        Ok(handle)
    }

    /// Runs one call the user waits for through the executor ([`run_once`]): `messages` on
    /// `call.route` and the active connection, planned with [`plan_single`] (sent once, no
    /// fallback), counted against its project's budget with this page's other work of the
    /// project, and in the ledger once answered. `on_delta` gets each piece of a streamed reply.
    pub async fn call_once(
        &self,
        call: OnceCall,
        options: OnceOptions,
        on_delta: impl FnMut(&str) + 'static,
    ) -> Result<OnceResult, BatchProblem> {
        let Some(active) = self.state.connection.get_untracked() else {
            return Err(BatchProblem::NoConnection);
        };
        if active.key.is_empty() {
            return Err(BatchProblem::NoKey);
        }
        let mut plan = self.state.book.with_untracked(|book| {
            let (prices, profile) = book.pricing_for(&active.connection);
            self.calibration.with_value(|calibration| {
                plan_single(RunInput {
                    route: &call.route,
                    connection_id: &active.connection.id,
                    conversations: vec![call.messages],
                    prices: &prices,
                    profile: &profile,
                    limits: active.connection.batch_limits(),
                    budget: None,
                    calibration,
                })
            })
        });
        let mut ticket = None;
        if let (Some(budget), Some(project)) = (call.project_budget, &call.project) {
            self.budgets.update_value(|all| {
                all.insert(project.clone(), budget);
            });
            budget_share::set_budget(project, Some(budget), false);
            ticket = Some(budget_share::starting(project, plan.quote.worst_case));
            // The page's claim on the budget holds the call before it is sent.
            if let Err(e) = budget_share::renew().await {
                self.state.storage_error.set(Some(e));
            }
            let others = self.at_risk(project, budget.currency, None);
            plan.config.project_remaining = Some(self.ledger.with_untracked(|all| {
                budget.remaining_for_batch(all, project, Money::zero(budget.currency), others)
            }));
        }
        let meta = BatchMeta {
            connection_id: active.connection.id.clone(),
            task: call.route.task.as_str().to_string(),
            project: call.project,
            label: call.label,
            purpose: None,
            created_ms: tabs::now_ms(),
        };
        let db = idb::shared()
            .await
            .map_err(|e| BatchProblem::Exec(ExecError::Storage(e)))?;
        let id = format!("call-{}", tabs::new_tab_id());
        let (service, ledger, calibration) = (*self, self.ledger, self.calibration);
        let prepare = move |exec: &Executor| {
            service.watch_project_budget(exec);
            exec.on_ledger(move |entry| {
                ledger.try_update(|all| all.push(entry.clone()));
            });
            exec.on_usage(move |sample| learn(calibration, sample));
            RUNNING.with(|running| running.borrow_mut().push(exec.clone()));
            budget_share::track(exec);
        };
        let connection = (active.connection, active.key);
        let result = run_once(db, &id, meta, plan, connection, options, on_delta, prepare).await;
        RUNNING.with(|running| running.borrow_mut().retain(|e| e.id() != id));
        if let Some(ticket) = ticket {
            budget_share::started(ticket);
        }
        result.map_err(BatchProblem::Once)
    }

    /// Stores `plan` as a batch and runs it; with a `ticket` ([`budget_share::starting`]), once
    /// this page's claim on its project's budget holds it.
    fn start_plan(
        &self,
        plan: BatchPlan,
        connection: Connection,
        key: crate::domain::provider::connection::ApiKey,
        ticket: Option<u64>,
    ) -> Result<BatchHandle, BatchProblem> {
        let handle = BatchHandle::new();
        self.current.set(Some(handle));
        self.handles.update(|all| all.push(handle));
        let (ledger, calibration, service) = (self.ledger, self.calibration, *self);
        let id = format!("batch-{}", tabs::new_tab_id());
        spawn_local(async move {
            if ticket.is_some() {
                if let Err(e) = budget_share::renew().await {
                    service.state.storage_error.set(Some(e));
                }
            }
            let created = async {
                let db = idb::shared().await?;
                exec::Executor::create(
                    db,
                    &id,
                    plan.meta,
                    plan.items,
                    plan.config,
                    http_transport(),
                )
                .await
            }
            .await;
            match created {
                Ok(exec) => {
                    exec.connect(connection, key);
                    handle.attach(exec.clone(), ledger, calibration);
                    service.watch_project_budget(&exec);
                    if let Some(ticket) = ticket {
                        budget_share::started(ticket);
                    }
                    if !exec.run().await {
                        handle.problem.set(Some(BatchProblem::LockedElsewhere));
                    }
                }
                Err(e) => {
                    if let Some(ticket) = ticket {
                        budget_share::started(ticket);
                    }
                    handle.problem.set(Some(BatchProblem::Exec(e)));
                }
            }
        });
        Ok(handle)
    }

    /// The project's budget changed: every batch this page runs for `project` gets the new
    /// remainder (see [`Self::project_remaining`]).
    pub fn project_budget_changed(&self, project: &str, budget: Option<Budget>) {
        self.budgets.update_value(|all| {
            match budget {
                Some(budget) => all.insert(project.to_owned(), budget),
                None => all.remove(project),
            };
        });
        budget_share::set_budget(project, budget, true);
        for exec in running_for(project) {
            let remaining = budget.map(|b| self.project_remaining(&exec, project, b));
            exec.set_project_remaining(remaining);
        }
        // The claim follows the new cap (and the other tabs see it in theirs).
        let errors = self.state.storage_error;
        spawn_local(async move {
            if let Err(e) = budget_share::renew().await {
                errors.set(Some(e));
            }
        });
    }

    /// What `project`'s batches this page runs have at risk in `currency` (sent, not billed
    /// yet, at their worst case), leaving out the batch `except`.
    pub fn at_risk(&self, project: &str, currency: Currency, except: Option<&str>) -> Money {
        let running = running_for(project);
        let others = running.iter().filter(|e| except != Some(e.id().as_str()));
        Executor::at_risk_of(others, currency)
    }

    /// What the project's budget leaves `exec` (one of its batches): the ledger's remainder,
    /// with the batch's own billed answers added back, less what the project's other batches
    /// have at risk. Clips of the project count against the budget only once billed here
    /// (the clips panel counts the batches' risk before each clip it sends).
    fn project_remaining(&self, exec: &Executor, project: &str, budget: Budget) -> Money {
        let own = exec.with_batch(|b| b.spent().in_currency(budget.currency));
        let others = self.at_risk(project, budget.currency, Some(&exec.id()));
        self.ledger
            .with_untracked(|all| budget.remaining_for_batch(all, project, own, others))
    }

    /// Has `exec`'s project remainder read again before each of its dispatches, so that
    /// batches of one project running at once share its budget, in this tab and in others: it
    /// is this page's claim on the budget ([`budget_share::allowance`]), or, before any claim
    /// could be stored, what this page's ledger and work leave.
    fn watch_project_budget(&self, exec: &Executor) {
        let service = *self;
        exec.set_project_limit(move |exec| {
            let project = exec.meta().project.clone()?;
            if budget_share::known_budget(&project) == Some(None) {
                // No cap as stored (lifted here or in another tab): nothing to hold.
                return None;
            }
            if let Some(allowed) = budget_share::allowance(exec, &running_for(&project)) {
                return Some(allowed);
            }
            let budget = service
                .budgets
                .try_with_value(|all| all.get(&project).copied())
                .flatten()?;
            Some(service.project_remaining(exec, &project, budget))
        });
    }

    /// Opens every unfinished batch: in each, the in-flight items become "outcome unknown" and
    /// the rest resumes on its connection (when this tab has that connection's key). The most
    /// recent one is shown; the others run too and are listed.
    async fn resume_unfinished(&self) {
        // Back in the Studio while this page still runs batches: show them again.
        let running: Vec<Executor> = RUNNING.with(|running| running.borrow().clone());
        if !running.is_empty() {
            let handles: Vec<BatchHandle> = running
                .into_iter()
                .map(|exec| {
                    let handle = BatchHandle::new();
                    handle.attach(exec.clone(), self.ledger, self.calibration);
                    self.watch_project_budget(&exec);
                    handle
                })
                .collect();
            self.current.set(handles.last().copied());
            self.handles.set(handles);
            return;
        }
        let Ok(db) = idb::shared().await else {
            return;
        };
        let found = match exec::unfinished(&db).await {
            Ok(found) => found,
            Err(e) => {
                self.state.storage_error.set(Some(e));
                return;
            }
        };
        let mut to_run = Vec::new();
        for (id, meta) in found {
            let opened = match Executor::open(db.clone(), &id, http_transport()).await {
                Ok(opened) => opened,
                Err(e) => {
                    self.state.storage_error.set(Some(e));
                    continue;
                }
            };
            let Some(exec) = opened else {
                // Another tab runs it: its pulses fill `remote`.
                continue;
            };
            let handle = BatchHandle::new();
            handle.attach(exec.clone(), self.ledger, self.calibration);
            self.watch_project_budget(&exec);
            self.current.set(Some(handle));
            self.handles.update(|all| all.push(handle));
            let connection =
                self.state.connections.list.with_untracked(|list| {
                    list.iter().find(|c| c.id == meta.connection_id).cloned()
                });
            let key = self
                .state
                .connections
                .keys
                .with_untracked(|keys| keys.get(&meta.connection_id).cloned());
            match (connection, key) {
                (Some(connection), Some(key)) if !key.is_empty() => {
                    exec.connect(connection, key);
                    to_run.push(exec);
                }
                _ => handle.problem.set(Some(BatchProblem::NoKeyToResume)),
            }
        }
        // The page's claims on the projects' budgets hold the resumed work before it sends.
        if let Err(e) = budget_share::renew().await {
            self.state.storage_error.set(Some(e));
        }
        for exec in to_run {
            spawn_local(async move {
                exec.run().await;
            });
        }
    }
}

/// One item's row, as shown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Row {
    index: usize,
    id: String,
    state: &'static str,
    sends: u32,
    prompt: String,
    model: String,
    latency: String,
    tokens: String,
    cost: String,
    error: Option<String>,
    output: Option<String>,
}

fn rows(snapshot: &Snapshot, lang: Lang) -> Vec<Row> {
    snapshot
        .batch
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let (latency, tokens, cost, model) = match &item.state {
                ItemState::Done {
                    usage,
                    cost,
                    latency_ms,
                    model,
                } => (
                    millis(*latency_ms),
                    format!(
                        "{} + {}",
                        format_count(usage.prompt),
                        format_count(usage.completion)
                    ),
                    format!("{} · {}", exact_amount(cost.usd), exact_amount(cost.cny)),
                    model.clone(),
                ),
                _ => ("—".into(), "—".into(), "—".into(), item.model.clone()),
            };
            let error = match &item.state {
                ItemState::Failed { failure, .. } => Some(failure.message(lang)),
                _ => item.last_error.as_ref().map(|e| e.message(lang)),
            };
            let prompt = snapshot
                .requests
                .get(index)
                .and_then(|r| r.messages.last())
                .map(|m| m.content.clone())
                .unwrap_or_default();
            Row {
                index,
                id: item.id.clone(),
                state: item.state.name(),
                sends: item.sends,
                prompt,
                model,
                latency,
                tokens,
                cost,
                error,
                output: snapshot.outputs.get(index).cloned().flatten(),
            }
        })
        .collect()
}

fn state_label(state: &str, lang: Lang) -> &'static str {
    match state {
        "queued" => lang.pick("排队", "queued"),
        "waiting" => lang.pick("等待重试", "waiting"),
        "running" => lang.pick("发送中", "running"),
        "done" => lang.pick("完成", "done"),
        "failed" => lang.pick("失败", "failed"),
        _ => lang.pick("结果未知", "outcome unknown"),
    }
}

fn status_label(status: &BatchStatus, lang: Lang) -> String {
    match status {
        BatchStatus::Running => lang.pick("运行中", "Running").into(),
        BatchStatus::Paused => lang.pick("已暂停", "Paused").into(),
        BatchStatus::Stopped { reason, .. } => reason.message(lang),
        BatchStatus::Cancelled => lang.pick("已取消", "Cancelled").into(),
        BatchStatus::Finished => lang.pick("已完成", "Finished").into(),
    }
}

/// When the last answer of the batch arrived (Unix ms): the end of its last recorded call.
fn last_answer_ms(snapshot: &Snapshot) -> Option<f64> {
    snapshot
        .calls
        .iter()
        .flatten()
        .map(|call| call.at_ms + call.latency_ms)
        .reduce(f64::max)
}

fn eta_text(eta_ms: Option<f64>) -> String {
    match eta_ms {
        Some(ms) if ms.is_finite() => format!("{} s", (ms / 1000.0).ceil() as u64),
        _ => "—".into(),
    }
}

/// Prompts from the text box: one per non-empty line, each repeated `takes` times.
fn prompts_of(text: &str, takes: usize) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .flat_map(|line| std::iter::repeat_n(line.to_string(), takes.max(1)))
        .collect()
}

/// The batch panel: route, prompts, takes, rate limit and budget; the quote; then the running
/// batch with its progress, controls and items.
#[component]
pub fn BatchPanel() -> impl IntoView {
    let state = use_app_state();
    let lang = use_lang();
    let service = use_batch_service();
    let task = RwSignal::new(TaskType::DEFAULT);
    let text = RwSignal::new(String::new());
    let takes = RwSignal::new(1usize);
    // The rate starts at the connection's (60 when it is unknown) and may be set lower or higher
    // for this batch; tokens per minute and concurrency stay the connection's.
    let rpm = RwSignal::new(
        state
            .connection
            .with_untracked(|c| c.as_ref().and_then(|c| c.connection.limits().rpm))
            .unwrap_or(DEFAULT_BATCH_RPM),
    );
    let budget = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);

    let routes = Memo::new(move |_| state.book.with(|book| book.routes.chat_routes()));
    let budget_money = Memo::new(move |_| {
        let text = budget.get();
        let text = text.trim();
        if text.is_empty() {
            Ok(None)
        } else {
            Money::parse(Currency::Usd, text).map(Some).map_err(|_| ())
        }
    });
    let request = Memo::new(move |_| BatchRequest {
        task: task.get(),
        prompts: prompts_of(&text.get(), takes.get()),
        prefixes: Vec::new(),
        label: String::new(),
        budget: budget_money.get().ok().flatten(),
        limits: Some(Limits {
            rpm: Some(rpm.get().max(1)),
            ..state
                .connection
                .with(|c| c.as_ref().map(|c| c.connection.batch_limits()))
                .unwrap_or_default()
        }),
        project: None,
        project_budget: None,
        purpose: None,
    });
    let plan_quote = Memo::new(move |_| {
        let request = request.get();
        if request.prompts.is_empty() {
            return None;
        }
        let connection = state.connection.get()?.connection;
        Some(state.book.with(|book| {
            service
                .calibration
                .with_value(|c| plan_batch(book, &connection, &request, c).quote)
        }))
    });

    let start = move || {
        problem.set(None);
        if budget_money.get_untracked().is_err() {
            problem.set(Some(
                lang.get_untracked()
                    .pick(
                        "预算格式不对，例如 1.50",
                        "The budget is not an amount, e.g. 1.50",
                    )
                    .into(),
            ));
            return;
        }
        let mut request = request.get_untracked();
        if request.prompts.is_empty() {
            problem.set(Some(
                lang.get_untracked()
                    .pick("请至少填写一行提示词。", "Enter at least one prompt line.")
                    .into(),
            ));
            return;
        }
        request.label = state.book.with_untracked(|book| {
            format!(
                "{} × {}",
                route_label(book.routes.route(request.task), lang.get_untracked()),
                request.prompts.len()
            )
        });
        if let Err(e) = service.start_batch(request) {
            problem.set(Some(e.message(lang.get_untracked())));
        }
    };

    let quote_view = move || {
        plan_quote.get().map(|quote| {
            let expected = quote.expected;
            let worst = quote.worst_case;
            let unpriced = !quote.unpriced_models.is_empty();
            view! {
                <div class="ds-batch-quote" data-testid="batch-quote" role="status">
                    <p>
                        {t("报价：", "Quote: ")}
                        <strong data-testid="batch-quote-usd">{exact_amount(expected.usd)}</strong>
                        " · "
                        <strong data-testid="batch-quote-cny">{exact_amount(expected.cny)}</strong>
                        " "
                        {t("（预计）；最多 ", "(expected); at most ")}
                        <span data-testid="batch-quote-worst">
                            {format!("{} · {}", exact_amount(worst.usd), exact_amount(worst.cny))}
                        </span>
                    </p>
                    <p class="ds-field__hint">
                        <span data-testid="batch-quote-requests">{quote.requests}</span>
                        {t(" 个请求，输入约 ", " requests, about ")}
                        <span data-testid="batch-quote-input">{format_count(quote.input_tokens)}</span>
                        {t(" tokens（按中文/英文字符分别估算），输出上限 ", " input tokens (CJK and Latin counted apart), up to ")}
                        {format_count(quote.max_output_tokens)}
                        {t(" tokens。", " output tokens.")}
                    </p>
                    <Show when=move || unpriced>
                        <p class="ds-alert ds-alert--warn">{t("价格表中缺少部分模型的价格，报价不完整。", "Some models have no price in the catalog: the quote is incomplete.")}</p>
                    </Show>
                </div>
            }
        })
    };

    let current = move || {
        service
            .current
            .get()
            .map(|handle| view! { <BatchView handle/> })
    };
    // The other batches this page runs (a storyboard and takes at once, or several resumed
    // after a reload): one line each, and a button to show it.
    let others = move || {
        let shown = service.current.get();
        let rows = service
            .handles
            .get()
            .into_iter()
            .filter(|h| Some(*h) != shown)
            .filter_map(|h| {
                let (label, done, total, status) = h.view.with(|v| {
                    v.as_ref().map(|s| {
                        let c = s.batch.counts();
                        (
                            s.meta.label.clone(),
                            c.done,
                            c.total,
                            s.batch.status.clone(),
                        )
                    })
                })?;
                let name = status.name();
                Some(view! {
                    <li data-testid="batch-other" data-status=name>
                        {format!("{label} · {done}/{total} · ")}
                        {move || status_label(&status, lang.get())}
                        " "
                        <button type="button" class="ds-btn ds-btn--small" data-testid="batch-show"
                            on:click=move |_| service.current.set(Some(h))>
                            {t("查看", "Show")}
                        </button>
                    </li>
                })
            })
            .collect::<Vec<_>>();
        (!rows.is_empty()).then(|| view! {
            <ul class="ds-batch-others" data-testid="batch-others"
                aria-label=move || lang.get().pick("本页运行的其他批量任务", "Other batches this page runs")>
                {rows}
            </ul>
        })
    };
    let remote = move || {
        service.remote.get().map(|pulse| {
            view! {
                <div class="ds-alert" data-testid="batch-remote" role="status">
                    {t("另一个标签页正在运行批量任务：", "Another tab is running a batch: ")}
                    {format!(
                        "{}/{} · {} · {}",
                        pulse.done, pulse.total, pulse.status, eta_text(pulse.eta_ms)
                    )}
                </div>
            }
        })
    };

    view! {
        <section class="ds-card ds-batch-panel" data-testid="batch-panel" aria-labelledby="batch-title">
            <h2 id="batch-title">{t("批量生成", "Batch")}</h2>
            <p class="ds-field__hint">{t(
                "一行一个提示词，按所选路由批量发送；按连接的速率上限排队，关闭页面后重新打开会继续。",
                "One prompt per line, sent on the chosen route at the connection's rate limit; closing and reopening the page resumes the batch.",
            )}</p>
            <div class="ds-play-controls">
                <div class="ds-field">
                    <label for="batch-route">{t("路由（任务 · 模型）", "Route (task · model)")}</label>
                    <select id="batch-route" data-testid="batch-route" on:change=move |ev| {
                        if let Some(chosen) = TaskType::parse(&event_target_value(&ev)) {
                            task.set(chosen);
                        }
                    }>
                        <RouteOptions routes task/>
                    </select>
                </div>
                <div class="ds-field">
                    <label for="batch-takes">{t("每行版本数", "Takes per line")}</label>
                    <input id="batch-takes" data-testid="batch-takes" type="number" min="1" max="50"
                        prop:value=move || takes.get().to_string()
                        on:input=move |ev| takes.set(event_target_value(&ev).parse::<usize>().unwrap_or(1).clamp(1, 50))/>
                </div>
                <div class="ds-field">
                    <label for="batch-rpm">{t("速率上限（每分钟请求数）", "Rate limit (requests per minute)")}</label>
                    <input id="batch-rpm" data-testid="batch-rpm" type="number" min="1"
                        prop:value=move || rpm.get().to_string()
                        on:input=move |ev| rpm.set(event_target_value(&ev).parse::<u32>().unwrap_or(DEFAULT_BATCH_RPM).max(1))/>
                </div>
                <div class="ds-field">
                    <label for="batch-budget">{t("预算上限（美元，可空）", "Budget cap (USD, optional)")}</label>
                    <input id="batch-budget" data-testid="batch-budget" type="text" inputmode="decimal"
                        prop:value=move || budget.get()
                        on:input=move |ev| budget.set(event_target_value(&ev))/>
                </div>
            </div>
            <div class="ds-field">
                <label for="batch-prompts">{t("提示词（一行一个）", "Prompts (one per line)")}</label>
                <textarea id="batch-prompts" data-testid="batch-prompts" rows="6"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </div>
            {quote_view}
            <div class="ds-play-actions">
                <button type="button" class="ds-btn" data-testid="batch-start" on:click=move |_| start()>
                    {t("按报价开始", "Start at this quote")}
                </button>
            </div>
            {move || problem.get().map(|p| view! {
                <p class="ds-alert ds-alert--error" role="alert" data-testid="batch-problem">{p}</p>
            })}
            {remote}
            {others}
            {current}
        </section>
    }
}

/// A batch's progress, controls, stop message, reconciliation and items.
#[component]
fn BatchView(handle: BatchHandle) -> impl IntoView {
    let lang = use_lang();
    let view_signal = handle.view;
    let progress = Memo::new(move |_| {
        view_signal.with(|v| v.as_ref().map(|s| s.batch.progress(tabs::now_ms())))
    });
    let status = Memo::new(move |_| progress.get().map(|p| p.status));
    let counts = move || progress.get().map(|p| p.counts).unwrap_or_default();
    let count =
        move |f: fn(&crate::domain::batch::Counts) -> usize| move || f(&counts()).to_string();
    let is = move |name: &'static str| move || status.get().is_some_and(|s| s.name() == name);
    let stopped_kind = move || match status.get() {
        Some(BatchStatus::Stopped { reason, .. }) => Some(reason),
        _ => None,
    };
    let reconciliation = move || {
        view_signal.with(|v| {
            let s = v.as_ref()?;
            if s.batch.status != BatchStatus::Finished {
                return None;
            }
            let pricing = s.batch.config.pricing.as_ref()?;
            let quoted = quote(&s.batch.items, &pricing.prices, &pricing.profile);
            let calls: Vec<LedgerEntry> = s.calls.iter().flatten().cloned().collect();
            Some(reconcile(&quoted, &grand_total(&calls)))
        })
    };
    let item_rows = Memo::new(move |_| {
        let lang = lang.get();
        view_signal.with(|v| v.as_ref().map(|s| rows(s, lang)).unwrap_or_default())
    });

    view! {
        <div class="ds-batch" data-testid="batch-view"
            data-status=move || status.get().map(|s| s.name()).unwrap_or("loading")
            data-batch-id=move || view_signal.with(|v| v.as_ref().map(|s| s.batch.id.clone()).unwrap_or_default())
            data-last-answer-ms=move || view_signal.with(|v| v.as_ref().and_then(last_answer_ms).map(|ms| format!("{ms:.0}")).unwrap_or_default())
            data-first-send-ms=move || view_signal.with(|v| v.as_ref().and_then(|s| s.batch.first_send_ms).map(|ms| format!("{ms:.0}")).unwrap_or_default())>
            <h3>{move || view_signal.with(|v| v.as_ref().map(|s| s.meta.label.clone()).unwrap_or_default())}</h3>
            <p data-testid="batch-status" role="status" aria-live="polite">
                {move || status.get().map(|s| status_label(&s, lang.get())).unwrap_or_default()}
            </p>
            <progress class="ds-batch-progress" data-testid="batch-progress"
                max=move || counts().total.max(1).to_string()
                value=move || { let c = counts(); (c.done + c.failed + c.unknown).to_string() }></progress>
            <dl class="ds-play-usage ds-batch-counts">
                <div><dt>{t("排队", "Queued")}</dt><dd data-testid="batch-count-queued">{count(|c| c.queued)}</dd></div>
                <div><dt>{t("发送中", "Running")}</dt><dd data-testid="batch-count-running">{count(|c| c.running)}</dd></div>
                <div><dt>{t("完成", "Done")}</dt><dd data-testid="batch-count-done">{count(|c| c.done)}</dd></div>
                <div><dt>{t("失败", "Failed")}</dt><dd data-testid="batch-count-failed">{count(|c| c.failed)}</dd></div>
                <div><dt>{t("结果未知", "Unknown")}</dt><dd data-testid="batch-count-unknown">{count(|c| c.unknown)}</dd></div>
                <div><dt>{t("共计", "Total")}</dt><dd data-testid="batch-count-total">{count(|c| c.total)}</dd></div>
                <div>
                    <dt>{t("速率 / 上限", "Rate / limit")}</dt>
                    <dd data-testid="batch-rate">{move || progress.get().map(|p| format!(
                        "{:.0} / {} rpm",
                        p.rate_rpm,
                        p.limit_rpm.filter(|l| *l > 0.0).map_or("—".to_string(), |l| format!("{l:.0}"))
                    )).unwrap_or_default()}</dd>
                </div>
                <div><dt>{t("预计剩余", "ETA")}</dt><dd data-testid="batch-eta">{move || eta_text(progress.get().and_then(|p| p.eta_ms))}</dd></div>
                <div><dt>{t("已花费", "Spent")}</dt><dd data-testid="batch-spent">{move || progress.get().map(|p| format!("{} · {}", exact_amount(p.spent.usd), exact_amount(p.spent.cny))).unwrap_or_default()}</dd></div>
            </dl>
            <div class="ds-play-actions">
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="batch-pause"
                    disabled=move || !is("running")() on:click=move |_| handle.pause()>{t("暂停", "Pause")}</button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="batch-resume"
                    disabled=move || !(is("paused")() || is("stopped")()) on:click=move |_| handle.resume()>{t("继续", "Resume")}</button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="batch-cancel"
                    disabled=move || is("cancelled")() || is("finished")() on:click=move |_| handle.cancel()>{t("取消批量", "Cancel batch")}</button>
                <button type="button" class="ds-btn ds-btn--ghost" data-testid="batch-retry-failed"
                    disabled=move || counts().failed == 0 || is("cancelled")() on:click=move |_| handle.retry_failed()>{t("重试失败项", "Retry failed")}</button>
            </div>
            {move || stopped_kind().map(|reason| {
                let kind = reason.kind();
                view! {
                    <div class="ds-alert ds-alert--error" role="alert" data-testid="batch-stopped" data-kind=kind>
                        {move || reason.message(lang.get())}
                    </div>
                }
            })}
            {move || handle.problem.get().map(|p| {
                let kind = p.kind();
                view! {
                    <p class="ds-alert ds-alert--error" role="alert" data-testid="batch-exec-problem" data-kind=kind>
                        {move || p.message(lang.get())}
                    </p>
                }
            })}
            <Show when=move || { counts().unknown > 0 }>
                <div class="ds-alert ds-alert--warn" role="alert" data-testid="batch-unknown">
                    <p>{move || match lang.get() {
                        Lang::ZhCn => format!("{} 个请求结果未知（页面关闭时仍在发送，或在服务商开始回复后超时、断开、中途出错）：可能已生成并计费，已按最坏情况计入花费，没有自动重发。没有幂等键，重新发送会再次计费。", counts().unknown),
                        Lang::En => format!("{} requests have an unknown outcome (in flight when the page closed, or timed out, cut or broken after the provider began replying): they may have been generated and billed, so they count at their worst case and were not resent. There is no idempotency key, so a resend is paid again.", counts().unknown),
                    }}</p>
                    <button type="button" class="ds-btn" data-testid="batch-resend-unknown" on:click=move |_| handle.resend_unknown()>
                        {move || match lang.get() {
                            Lang::ZhCn => format!("重新发送这 {} 个（再次付费）", counts().unknown),
                            Lang::En => format!("Resend these {} (paid again)", counts().unknown),
                        }}
                    </button>
                    " "
                    <button type="button" class="ds-btn ds-btn--ghost" data-testid="batch-mark-unknown-failed" on:click=move |_| handle.mark_unknown_failed()>
                        {t("不重发，记为失败", "Don't resend: mark failed")}
                    </button>
                </div>
            </Show>
            {move || reconciliation().map(|r| {
                let (billed, quoted) = (r.billed_calls.to_string(), r.quoted_requests.to_string());
                let (quoted_input, billed_input) = (r.quoted_input_tokens.to_string(), r.billed_input_tokens.to_string());
                let input_error = r.error_percent.map(|p| p.tenths.to_string());
                view! {
                <p class="ds-batch-reconcile" data-testid="batch-reconcile"
                    data-billed-calls=billed data-quoted-requests=quoted
                    data-quoted-input=quoted_input data-billed-input=billed_input
                    data-input-error-tenths=input_error>
                    {t("报价与实际计费对账：", "Quote vs billed: ")}
                    {move || r.summary(lang.get())}
                </p>
            }})}
            <ul class="ds-batch-events" data-testid="batch-events">
                {move || view_signal.with(|v| v.as_ref().map(|s| s.batch.events.iter().map(|e| e.message(lang.get())).collect::<Vec<_>>()).unwrap_or_default())
                    .into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
            </ul>
            <details class="ds-batch-items">
                <summary>{t("逐项明细", "Items")}</summary>
                <table class="ds-table" data-testid="batch-items">
                    <thead><tr>
                        <th>"#"</th><th>{t("提示词", "Prompt")}</th><th>{t("状态", "State")}</th><th>{t("模型", "Model")}</th>
                        <th>{t("耗时", "Latency")}</th><th>{t("tokens（入+出）", "Tokens (in+out)")}</th><th>{t("费用", "Cost")}</th><th>{t("最近错误", "Last error")}</th><th>{t("回复", "Reply")}</th>
                    </tr></thead>
                    <tbody>
                        <For each=move || item_rows.get() key=|row| row.clone() children=move |row| {
                            let state = row.state;
                            view! {
                                <tr data-testid="batch-item" data-item-id=row.id.clone() data-state=state data-sends=row.sends.to_string()>
                                    <td>{row.index + 1}</td>
                                    <td>{row.prompt.clone()}</td>
                                    <td>{move || state_label(state, lang.get())}</td>
                                    <td class="ds-mono">{row.model.clone()}</td>
                                    <td>{row.latency.clone()}</td>
                                    <td>{row.tokens.clone()}</td>
                                    <td>{row.cost.clone()}</td>
                                    <td>{row.error.clone().unwrap_or_default()}</td>
                                    <td class="ds-batch-output">{row.output.clone().unwrap_or_default()}</td>
                                </tr>
                            }
                        }/>
                    </tbody>
                </table>
            </details>
        </div>
    }
}
