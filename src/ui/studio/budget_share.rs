//! A project's budget held across tabs: this page's claims on the budgets of the projects whose
//! work it runs ([`crate::domain::tabs::budget_share`] says why claims, and what they add up to).
//!
//! - **The work that counts** is every executor of this page that belongs to a project, from
//!   when the page takes it up ([`track`]): what it had spent then (its `base`) and the ledger
//!   entries it stored since (its `settled`), plus calls about to start ([`starting`]).
//! - **A renewal** ([`renew`]) is one IndexedDB transaction over `kv` (each tab's claims record,
//!   `budget_claim:{tab}`), the ledger (only the entries added since the last renewal, counted in
//!   a [`LedgerTally`]) and `projects` (each project's budget as stored, so that a cap changed in
//!   another tab counts here too): it reads what the other tabs claimed and stores this page's
//!   claims. It runs before a batch or call of a project with a budget starts, after the work
//!   changes (debounced), and every [`HEARTBEAT_MS`] while there is such work.
//! - **Dispatch**: before each dispatch a batch's project remainder is read ([`allowance`]): its
//!   page's claim, never a stale view of another tab. Without a fresh claim (none could be stored)
//!   the caller falls back to this page's ledger and work.
//! - **Leaving**: the page's claims record is deleted on `pagehide`; a crashed tab's claims
//!   lapse after [`CLAIM_TTL_MS`].
//!
//! A tab also names, on [`BUDGET_CHANNEL`], each project whose ledger entries it stored, so the
//! others count the new spend at once ([`spent`]) — the project's name only.
//!
//! [`CLAIM_TTL_MS`]: crate::domain::tabs::budget_share::CLAIM_TTL_MS

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::Deserialize;

use crate::domain::cost::ledger::LedgerEntry;
use crate::domain::cost::money::Money;
use crate::domain::cost::profile::Cost;
use crate::domain::project::Budget;
use crate::domain::tabs::budget_share::{
    add_cost, batch_allowance, frozen_allowance, renew_claims, ClaimAsk, LedgerTally, TabClaims,
    WorkShare,
};
use crate::web::exec::Executor;
use crate::web::idb::{self, Db, StorageError, KV, LEDGER, PROJECTS};
use crate::web::tabs::{self, PageHideHooks, TabChannel, BUDGET_CHANNEL};
use crate::web::timer::{sleep, Timer};

/// How often a page with work on a budgeted project renews its claims (ms).
pub const HEARTBEAT_MS: i32 = 2_000;
/// How long after a change of its work a page renews its claims (ms): changes come in bursts.
const SETTLE_MS: i32 = 250;
/// How often a renewal asked for while another runs looks again (ms).
const WAIT_MS: u32 = 15;
/// The `kv` records of the tabs' claims: `budget_claim:{tab}`.
const CLAIM_PREFIX: &str = "budget_claim:";

/// One executor of this page, as its project's claim counts it.
struct Tracked {
    id: String,
    project: String,
    base: Cost,
    settled: Cost,
}

/// What this page knows of a project's budget besides the stored project: the cap a batch was
/// started with (weak: the stored one wins) or one typed in this page's editor, with when.
#[derive(Clone, Copy)]
struct LocalBudget {
    budget: Option<Budget>,
    /// When it was typed here (Unix ms); 0 for a batch request's copy.
    set_ms: f64,
}

#[derive(Default)]
struct Share {
    tab: String,
    works: Vec<Tracked>,
    /// Calls about to start: (ticket, project, worst case).
    starting: Vec<(u64, String, Cost)>,
    next_ticket: u64,
    /// This page's claims as last stored.
    claims: Option<TabClaims>,
    /// The work those claims leave out: settled by then, its spend is in the ledger.
    excluded: Vec<String>,
    budgets: HashMap<String, LocalBudget>,
    /// Each project's budget as the last renewal found it.
    known: HashMap<String, Option<Budget>>,
    tally: LedgerTally,
    /// The ledger was read at least once.
    tallied: bool,
    db: Option<Db>,
    running: Option<fn() -> Vec<Executor>>,
    heartbeat: Option<Timer>,
    soon: Option<Timer>,
    notice: Option<Timer>,
    /// Renewals asked for, the last one a finished renewal covered, and whether one runs.
    asked: u64,
    covered: u64,
    renewing: bool,
    hooks: Option<PageHideHooks>,
    channel: Option<TabChannel>,
    /// Called when the counted spend changed (the editors show what is left).
    on_spent: Option<Rc<dyn Fn()>>,
}

thread_local! {
    static SHARE: RefCell<Share> = RefCell::new(Share::default());
}

fn with<R>(f: impl FnOnce(&mut Share) -> R) -> R {
    SHARE.with(|share| f(&mut share.borrow_mut()))
}

/// Sets the page up once: its tab id, where its executors are listed (`running`), the channel
/// and the page-hide hook that drops its claims. `on_spent` is called whenever the counted
/// spend changes.
pub fn install(running: fn() -> Vec<Executor>, on_spent: impl Fn() + 'static) {
    let first = with(|share| {
        share.on_spent = Some(Rc::new(on_spent));
        share.running.replace(running).is_none()
    });
    if !first {
        return;
    }
    let channel = TabChannel::open(BUDGET_CHANNEL, |_project: String| {
        // Another tab stored spend: count it soon (several entries come together).
        with(|share| {
            share.notice = Timer::once(SETTLE_MS, || {
                wasm_bindgen_futures::spawn_local(async {
                    let _ = renew().await;
                });
            });
        });
    });
    let hooks = PageHideHooks::install(|| {}, release);
    with(|share| {
        share.tab = format!("budget-{}", tabs::new_tab_id());
        share.channel = channel;
        share.hooks = Some(hooks);
    });
}

/// Counts `exec`'s work from now on, when it belongs to a project (once per executor).
pub fn track(exec: &Executor) {
    let Some(project) = exec.meta().project.clone() else {
        return;
    };
    let id = exec.id();
    let known = with(|share| share.works.iter().any(|w| w.id == id));
    if known {
        return;
    }
    let base = exec.with_batch(|batch| batch.spent());
    with(|share| {
        share.works.push(Tracked {
            id: id.clone(),
            project: project.clone(),
            base,
            settled: Cost::ZERO,
        })
    });
    let changed = {
        let project = project.clone();
        move || {
            if has_budget(&project) {
                soon();
            }
        }
    };
    exec.on_ledger(move |entry: &LedgerEntry| {
        with(|share| {
            if let Some(work) = share.works.iter_mut().find(|w| w.id == id) {
                work.settled = add_cost(work.settled, entry.cost());
            }
            if let Some(channel) = &share.channel {
                channel.post(&project);
            }
        });
        // Also when no budget is known here: the renewal reads the stored project, so a cap set
        // in another tab meanwhile holds this work from its next request on.
        soon();
    });
    exec.on_change(changed);
}

/// Whether `project` has a budget as far as this page knows (its editor's, a batch's, or the
/// stored one the last renewal read): only then do its work's changes call for a renewal.
fn has_budget(project: &str) -> bool {
    with(|share| {
        let known = share.known.get(project).copied().flatten().is_some();
        let local = share
            .budgets
            .get(project)
            .is_some_and(|b| b.budget.is_some());
        known || local
    })
}

/// Counts a call or batch of `project` about to start, at its worst case `worst`, until
/// [`started`] (its executor is tracked then).
pub fn starting(project: &str, worst: Cost) -> u64 {
    with(|share| {
        share.next_ticket += 1;
        let ticket = share.next_ticket;
        share.starting.push((ticket, project.to_owned(), worst));
        ticket
    })
}

/// The work of `ticket` started (or will not): it no longer counts apart.
pub fn started(ticket: u64) {
    with(|share| share.starting.retain(|(t, _, _)| *t != ticket));
}

/// What this page knows of `project`'s budget: `typed` when the user just set it in this
/// page's editor (it wins over the stored project until another tab saves a later cap), else
/// a batch request's copy (the stored project wins).
pub fn set_budget(project: &str, budget: Option<Budget>, typed: bool) {
    let set_ms = if typed { tabs::now_ms() } else { 0.0 };
    with(|share| {
        let keep = !typed && share.budgets.get(project).is_some_and(|b| b.set_ms > 0.0);
        if !keep {
            share
                .budgets
                .insert(project.to_owned(), LocalBudget { budget, set_ms });
        }
    });
}

/// What the ledger holds for `project`, as last counted (other tabs' entries included); `None`
/// before the ledger was first read here.
pub fn spent(project: &str) -> Option<Cost> {
    with(|share| share.tallied.then(|| share.tally.spent(project)))
}

/// The budget the last renewal found for `project`: `Some(None)` when it has none.
pub fn known_budget(project: &str) -> Option<Option<Budget>> {
    with(|share| share.known.get(project).copied())
}

/// What `exec` may commit in all (its project remainder), from its page's claim on its
/// project; nothing new once that claim is older than [`CLAIM_VALID_MS`] (a renewal will come,
/// or the other tabs may soon count it lapsed). `None` when this page holds no claim on the
/// project (none stored yet, or the project has no budget): then the caller decides.
///
/// [`CLAIM_VALID_MS`]: crate::domain::tabs::budget_share::CLAIM_VALID_MS
pub fn allowance(exec: &Executor, running: &[Executor]) -> Option<Money> {
    let project = exec.meta().project.clone()?;
    let id = exec.id();
    let (granted, valid, excluded) = with(|share| {
        let claims = share.claims.as_ref()?;
        let granted = claims.granted(&project)?;
        Some((
            granted,
            claims.is_valid(tabs::now_ms()),
            share.excluded.clone(),
        ))
    })?;
    let mut own = WorkShare::default();
    let mut others = Vec::new();
    for running in running {
        let id_of = running.id();
        if running.meta().project.as_deref() != Some(project.as_str()) || excluded.contains(&id_of)
        {
            continue;
        }
        let Some(share) = work_share(running) else {
            continue;
        };
        if id_of == id {
            own = share;
        } else {
            others.push(share);
        }
    }
    if !valid {
        return Some(frozen_allowance(&own, granted.currency()));
    }
    Some(batch_allowance(granted, &own, &others))
}

/// The tracked share of `exec`'s work.
fn work_share(exec: &Executor) -> Option<WorkShare> {
    let id = exec.id();
    let (base, settled) = with(|share| {
        share
            .works
            .iter()
            .find(|w| w.id == id)
            .map(|w| (w.base, w.settled))
    })?;
    Some(exec.with_batch(|batch| WorkShare::of_batch(batch, base, settled)))
}

/// Asks for a renewal soon (the work changed).
fn soon() {
    with(|share| {
        if share.soon.is_none() {
            share.soon = Timer::once(SETTLE_MS, || {
                with(|share| share.soon = None);
                wasm_bindgen_futures::spawn_local(async {
                    let _ = renew().await;
                });
            });
        }
    });
}

/// The stored project, as far as its budget goes.
#[derive(Deserialize)]
struct StoredProject {
    #[serde(default)]
    updated_ms: f64,
    #[serde(default)]
    settings: StoredSettings,
}

#[derive(Deserialize, Default)]
struct StoredSettings {
    #[serde(default)]
    budget: Option<Budget>,
}

/// Renews this page's claims (see the module's documentation), and counts the ledger's new
/// entries. Renewals run one at a time; a call returns once a renewal that started after it has
/// ended, so what the caller changed before (work about to start) is in the claims then.
pub async fn renew() -> Result<(), StorageError> {
    let wanted = with(|share| {
        share.asked += 1;
        share.asked
    });
    loop {
        let (busy, covered) = with(|share| (share.renewing, share.covered));
        if covered >= wanted {
            return Ok(());
        }
        if busy {
            sleep(WAIT_MS, None).await;
            continue;
        }
        let covers = with(|share| {
            share.renewing = true;
            share.asked
        });
        let result = renew_once().await;
        with(|share| {
            share.renewing = false;
            share.covered = covers;
        });
        if let Some(on_spent) = with(|share| share.on_spent.clone()) {
            on_spent();
        }
        return result;
    }
}

async fn renew_once() -> Result<(), StorageError> {
    let db = idb::shared().await?;
    let running = with(|share| share.running)
        .map(|list| list())
        .unwrap_or_default();
    // The projects with work here.
    let mut projects: Vec<String> = Vec::new();
    with(|share| {
        let live = |id: &str| running.iter().any(|e| e.id() == id);
        share.works.retain(|w| live(&w.id));
        let named = share
            .works
            .iter()
            .map(|w| &w.project)
            .chain(share.starting.iter().map(|(_, p, _)| p));
        for project in named {
            if !projects.contains(project) {
                projects.push(project.clone());
            }
        }
        share.db = Some(db.clone());
    });
    let tx = db.transaction(&[KV, LEDGER, PROJECTS], true)?;
    // The ledger: the entries added since; all of them again after a clear.
    let (mut tally, tallied) = with(|share| (share.tally.clone(), share.tallied));
    let mut fresh = tx.numbered_after(LEDGER, tally.last_key()).await?;
    let count = tx.count(LEDGER).await?;
    if !tallied || !tally.still_holds(count, fresh.len()) {
        tally = LedgerTally::default();
        fresh = tx.numbered_after(LEDGER, None).await?;
    }
    for (key, text) in fresh {
        match text.and_then(|t| serde_json::from_str::<LedgerEntry>(&t).ok()) {
            Some(entry) => tally.add(key, &entry),
            None => tally.skip(key),
        }
    }
    // Each project's budget: the stored one, unless this page's editor set one since.
    let mut budgets = Vec::new();
    for project in &projects {
        let stored = tx
            .get_text(PROJECTS, project)
            .await?
            .and_then(|text| serde_json::from_str::<StoredProject>(&text).ok());
        let local = with(|share| share.budgets.get(project).copied());
        let budget = match (stored, local) {
            (Some(stored), Some(local)) if local.set_ms > stored.updated_ms => local.budget,
            (Some(stored), _) => stored.settings.budget,
            (None, Some(local)) => local.budget,
            (None, None) => None,
        };
        budgets.push((project.clone(), budget));
    }
    let texts = tx
        .texts_in_range(KV, CLAIM_PREFIX, &format!("{CLAIM_PREFIX}\u{ffff}"))
        .await?;
    let others: Vec<TabClaims> = texts
        .iter()
        .filter_map(|text| serde_json::from_str(text).ok())
        .collect();
    let now = tabs::now_ms();
    let tab = with(|share| share.tab.clone());
    // The work that needs a claim: not settled yet (settled work counts in the ledger).
    let mut excluded = Vec::new();
    let mut shares: Vec<(String, WorkShare)> = Vec::new();
    for exec in &running {
        let (Some(project), Some(share)) = (exec.meta().project.clone(), work_share(exec)) else {
            continue;
        };
        if share.is_settled() {
            excluded.push(exec.id());
        } else {
            shares.push((project, share));
        }
    }
    shares.extend(with(|share| {
        share
            .starting
            .iter()
            .map(|(_, project, worst)| (project.clone(), WorkShare::starting(*worst)))
            .collect::<Vec<_>>()
    }));
    let works: Vec<(String, Budget, Vec<WorkShare>)> = budgets
        .iter()
        .filter_map(|(project, budget)| {
            let of_project: Vec<WorkShare> = shares
                .iter()
                .filter(|(p, _)| p == project)
                .map(|(_, w)| *w)
                .collect();
            let budget = (*budget)?;
            (!of_project.is_empty()).then(|| (project.clone(), budget, of_project))
        })
        .collect();
    let asks: Vec<ClaimAsk<'_>> = works
        .iter()
        .map(|(project, budget, works)| ClaimAsk {
            project: project.clone(),
            budget: *budget,
            ledger_spent: tally.spent(project),
            works,
        })
        .collect();
    let mine = renew_claims(&tab, &asks, &others, now);
    let key = format!("{CLAIM_PREFIX}{tab}");
    if mine.claims.is_empty() {
        tx.delete(KV, &key)?;
    } else {
        tx.put(KV, &key, &mine)?;
    }
    // Tidy up after the tabs that crashed.
    for gone in others.iter().filter(|o| o.tab != tab && o.is_stale(now)) {
        tx.delete(KV, &format!("{CLAIM_PREFIX}{}", gone.tab))?;
    }
    tx.commit().await?;
    let has_work = !works.is_empty();
    let uncapped: Vec<String> = budgets
        .iter()
        .filter(|(_, budget)| budget.is_none())
        .map(|(project, _)| project.clone())
        .collect();
    with(|share| {
        share.tally = tally;
        share.tallied = true;
        share.claims = Some(mine);
        share.excluded = excluded;
        // Renew while there is work on a budget; stop otherwise.
        share.heartbeat = has_work
            .then(|| {
                Timer::once(HEARTBEAT_MS, || {
                    wasm_bindgen_futures::spawn_local(async {
                        let _ = renew().await;
                    });
                })
            })
            .flatten();
        for (project, budget) in budgets {
            share.known.insert(project, budget);
        }
    });
    // No cap as stored (lifted here or in another tab): the work runs without one.
    for exec in &running {
        let of_uncapped = exec
            .meta()
            .project
            .as_ref()
            .is_some_and(|p| uncapped.contains(p));
        if of_uncapped && exec.with_batch(|b| b.config.project_remaining.is_some()) {
            exec.set_project_remaining(None);
        }
    }
    Ok(())
}

/// Drops this page's claims record as the page goes away (queued in the last turn there is).
fn release() {
    let (db, tab) = with(|share| (share.db.clone(), share.tab.clone()));
    let Some(db) = db else {
        return;
    };
    if let Ok(tx) = db.transaction(&[KV], true) {
        if tx.delete(KV, &format!("{CLAIM_PREFIX}{tab}")).is_ok() {
            tx.commit_now();
        }
    }
}
