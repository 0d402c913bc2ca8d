//! A project's budget shared by the tabs that spend it.
//!
//! Two tabs running batches of one project each see the ledger, but neither sees what the other
//! is about to send: a tab that only read the other's spend would decide on a view that is stale
//! by the time its request leaves, and both could commit the same remainder. So each tab that
//! runs work of a project with a budget holds a **claim** on that budget ([`Claim`]): the most
//! its running work of the project may commit in all (spent, plus the worst case of what is in
//! flight). A tab takes its claim ([`renew_claims`]) in one storage transaction with the ledger
//! and the other tabs' claims, so the ledger's spend outside every claim plus all the claims
//! never pass the budget. Its batches then dispatch against their tab's own claim only
//! ([`batch_allowance`]): a figure no other tab can take away, so no request ever leaves on a
//! stale view of another tab.
//!
//! A tab asks for what its work may still need (what it committed, plus the worst case of every
//! item still to send, [`WorkShare`]), and gets that or what the budget still holds, whichever is
//! less — never less than it already committed. It renews its claims every few seconds and
//! whenever its work changes, so a claim follows the work down as items are answered below their
//! worst case or batches end, and the budget it frees goes to the other tabs' next renewal. A
//! claim not renewed for [`CLAIM_TTL_MS`] is a closed tab's and no longer counts; a tab keeps
//! dispatching on its own claim only while it is [`CLAIM_VALID_MS`] old at most.
//!
//! Ledger entries a tab's work stored count once: inside that tab's claim while the claim
//! names them as `settled`, in the ledger's spend outside the claims otherwise.
//!
//! ```
//! use duanju_studio::domain::cost::money::{Currency, Micros, Money};
//! use duanju_studio::domain::cost::profile::Cost;
//! use duanju_studio::domain::project::Budget;
//! use duanju_studio::domain::tabs::budget_share::{renew_claims, ClaimAsk, WorkShare};
//!
//! let usd = |micros: i128| Money::from_micros(Currency::Usd, micros);
//! let cost = |micros: i128| Cost { usd: usd(micros), cny: Money::from_micros(Currency::Cny, micros * 7) };
//! let budget = Budget { currency: Currency::Usd, amount: Micros::whole(1) };
//! // Tab A's batch may need $0.70 at worst; it gets it.
//! let a_work = [WorkShare { ahead: cost(700_000), ..WorkShare::default() }];
//! let ask = |works| ClaimAsk { project: "p".into(), budget, ledger_spent: Cost::ZERO, works };
//! let a = renew_claims("A", &[ask(&a_work)], &[], 0.0);
//! assert_eq!(a.granted("p"), Some(usd(700_000)));
//! // Tab B's needs as much: only the $0.30 left is its to commit.
//! let b = renew_claims("B", &[ask(&a_work)], &[a], 10.0);
//! assert_eq!(b.granted("p"), Some(usd(300_000)));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::batch::{Batch, BatchStatus, ItemState};
use crate::domain::cost::ledger::LedgerEntry;
use crate::domain::cost::money::{Currency, Money};
use crate::domain::cost::profile::Cost;
use crate::domain::project::Budget;

/// How long a claim counts without being renewed (ms): longer than a hidden tab's timers may
/// sleep (browsers wake the timers of a long-hidden tab about once a minute), so a live tab's
/// claim never lapses; a tab that crashed holds its claim this long at most.
pub const CLAIM_TTL_MS: f64 = 5.0 * 60.0 * 1000.0;
/// How long a tab dispatches on its own claim without renewing it (ms): well inside
/// [`CLAIM_TTL_MS`], so that its claim still counts for the other tabs while it does.
pub const CLAIM_VALID_MS: f64 = 4.0 * 60.0 * 1000.0;

/// One tab's claim on one project's budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// The project.
    pub project: String,
    /// The budget's currency, which both amounts are in.
    pub currency: Currency,
    /// The most the tab's running work of the project may commit in all, in 10⁻¹⁸ units.
    pub claimed: i128,
    /// What of it is already in the ledger (entries the tab saw stored), in 10⁻¹⁸ units.
    pub settled: i128,
}

impl Claim {
    /// [`Self::claimed`] as money.
    pub fn claimed(&self) -> Money {
        Money::from_units(self.currency, self.claimed)
    }

    /// [`Self::settled`] as money.
    pub fn settled(&self) -> Money {
        Money::from_units(self.currency, self.settled)
    }
}

/// A tab's claims, one record per tab, renewed together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TabClaims {
    /// The tab (page load) that holds them.
    pub tab: String,
    /// When they were last renewed (Unix ms).
    pub at_ms: f64,
    /// One per project the tab runs work of.
    pub claims: Vec<Claim>,
}

impl TabClaims {
    /// True once the claims were not renewed for [`CLAIM_TTL_MS`]: their tab is gone.
    pub fn is_stale(&self, now_ms: f64) -> bool {
        now_ms - self.at_ms > CLAIM_TTL_MS
    }

    /// True while the tab may still dispatch on these claims ([`CLAIM_VALID_MS`]).
    pub fn is_valid(&self, now_ms: f64) -> bool {
        now_ms - self.at_ms <= CLAIM_VALID_MS
    }

    /// What the tab may commit on `project`, if it claimed anything there.
    pub fn granted(&self, project: &str) -> Option<Money> {
        self.claims
            .iter()
            .find(|claim| claim.project == project)
            .map(Claim::claimed)
    }
}

/// One piece of a tab's work on a project (a batch, a single call), as its claim counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WorkShare {
    /// What it had spent before this tab took it up (a batch resumed after a reload): in the
    /// ledger already, so outside the claim.
    pub base: Cost,
    /// What it has committed: spent, plus the worst case of what is in flight or of unknown
    /// outcome ([`Batch::committed`]).
    pub committed: Cost,
    /// The ledger entries of it that this tab saw stored since it took it up.
    pub settled: Cost,
    /// The worst case of what it is still to send.
    pub ahead: Cost,
}

impl WorkShare {
    /// A batch's share: `base` is what it had spent when this tab took it up, `settled` what
    /// this tab saw stored since. What it is still to send counts while it may still send it
    /// (running, paused or stopped), at each item's worst case.
    pub fn of_batch(batch: &Batch, base: Cost, settled: Cost) -> WorkShare {
        let may_send = matches!(
            batch.status,
            BatchStatus::Running | BatchStatus::Paused | BatchStatus::Stopped { .. }
        );
        let ahead = match (&batch.config.pricing, may_send) {
            (Some(pricing), true) => batch
                .items
                .iter()
                .filter(|item| matches!(item.state, ItemState::Queued | ItemState::Waiting { .. }))
                .filter_map(|item| pricing.worst_case(item, &item.model))
                .fold(Cost::ZERO, |sum, worst| sum + worst),
            _ => Cost::ZERO,
        };
        WorkShare {
            base,
            committed: batch.committed(),
            settled,
            ahead,
        }
    }

    /// Work about to start, whose worst case is `worst`.
    pub fn starting(worst: Cost) -> WorkShare {
        WorkShare {
            ahead: worst,
            ..WorkShare::default()
        }
    }

    /// What it committed since this tab took it up, in `currency`.
    pub fn used(&self, currency: Currency) -> Money {
        self.committed.in_currency(currency) - self.base.in_currency(currency)
    }

    /// What it may commit in all: what it used, and the worst case of what is ahead.
    pub fn need(&self, currency: Currency) -> Money {
        self.used(currency) + self.ahead.in_currency(currency)
    }

    /// True once nothing is ahead and the ledger holds all it used: it no longer needs a claim
    /// (its spend counts in the ledger, outside the claims).
    pub fn is_settled(&self) -> bool {
        let used = |c| self.used(c);
        self.ahead == Cost::ZERO
            && self.settled.usd >= used(Currency::Usd)
            && self.settled.cny >= used(Currency::Cny)
    }
}

/// A tab's renewal of its claim on one project.
#[derive(Clone, Debug)]
pub struct ClaimAsk<'a> {
    /// The project.
    pub project: String,
    /// Its budget, as stored now.
    pub budget: Budget,
    /// The project's spend in the ledger, read in the same transaction as the claims.
    pub ledger_spent: Cost,
    /// The tab's work on the project.
    pub works: &'a [WorkShare],
}

/// Renews `tab`'s claims: for each project asked about, it claims what its work may still
/// need, or what the budget holds once the ledger's spend outside the claims and the other
/// tabs' live claims (`others`, stale ones ignored) are taken off, whichever is less; never
/// less than its work committed already. A claim in another currency than the budget (the
/// budget's currency just changed) leaves nothing to claim until it is renewed in the new one.
/// Projects no work asks about are dropped.
pub fn renew_claims(
    tab: &str,
    asks: &[ClaimAsk<'_>],
    others: &[TabClaims],
    now_ms: f64,
) -> TabClaims {
    let live: Vec<&TabClaims> = others
        .iter()
        .filter(|other| other.tab != tab && !other.is_stale(now_ms))
        .collect();
    let claims = asks
        .iter()
        .map(|ask| {
            let currency = ask.budget.currency;
            let zero = Money::zero(currency);
            let theirs: Vec<&Claim> = live
                .iter()
                .flat_map(|other| other.claims.iter())
                .filter(|claim| claim.project == ask.project)
                .collect();
            let sum = |part: fn(&WorkShare, Currency) -> Money| {
                Money::sum(currency, ask.works.iter().map(|w| part(w, currency)))
            };
            let used = sum(WorkShare::used);
            let need = sum(WorkShare::need);
            let settled = Money::sum(
                currency,
                ask.works.iter().map(|w| w.settled.in_currency(currency)),
            );
            let free = if theirs.iter().any(|claim| claim.currency != currency) {
                zero
            } else {
                let claimed = Money::sum(currency, theirs.iter().map(|c| c.claimed()));
                let inside = Money::sum(currency, theirs.iter().map(|c| c.settled())) + settled;
                // Spend already inside a claim counts there, not twice.
                let outside = (ask.ledger_spent.in_currency(currency) - inside).max(zero);
                ask.budget.money() - outside - claimed
            };
            Claim {
                project: ask.project.clone(),
                currency,
                claimed: need.min(free).max(used).max(zero).units(),
                settled: settled.units(),
            }
        })
        .collect();
    TabClaims {
        tab: tab.to_owned(),
        at_ms: now_ms,
        claims,
    }
}

/// What one of a tab's batches may commit in all (the engine's project remainder, which it
/// checks its own committed spend against): the tab's claim on the project, with what the batch
/// had spent before the tab took it up added back, less what the tab's other work of the
/// project used.
pub fn batch_allowance(granted: Money, own: &WorkShare, others: &[WorkShare]) -> Money {
    let currency = granted.currency();
    let others_used = Money::sum(currency, others.iter().map(|w| w.used(currency)));
    granted + own.base.in_currency(currency) - others_used
}

/// The worst case of sending again the items of `batch` that `again` picks (failed ones, or
/// ones of unknown outcome, before the user sends them again): what a claim must hold first.
pub fn worst_case_of(batch: &Batch, again: impl Fn(&ItemState) -> bool) -> Cost {
    let Some(pricing) = &batch.config.pricing else {
        return Cost::ZERO;
    };
    batch
        .items
        .iter()
        .filter(|item| again(&item.state))
        .filter_map(|item| pricing.worst_case(item, &item.model))
        .fold(Cost::ZERO, |sum, worst| sum + worst)
}

/// What a batch may commit in all while its tab's claim is too old to dispatch on: what it
/// committed already, nothing new.
pub fn frozen_allowance(own: &WorkShare, currency: Currency) -> Money {
    own.committed.in_currency(currency)
}

/// What is left of `budget` once `spent` is charged (negative when over).
pub fn left_after(budget: Budget, spent: Cost) -> Money {
    budget.money() - spent.in_currency(budget.currency)
}

/// What is left of `budget` for `project` by the larger of two counts of its spend: this
/// page's ledger (`entries`) and the ledger as last read across tabs (`tallied`), which may
/// each lag the other.
pub fn left_of(
    budget: Budget,
    entries: &[LedgerEntry],
    project: &str,
    tallied: Option<Cost>,
) -> Money {
    let here = budget.remaining(entries, project);
    tallied.map_or(here, |spent| here.min(left_after(budget, spent)))
}

/// `a` and `b` added (the ui keeps per-work sums with it).
pub fn add_cost(a: Cost, b: Cost) -> Cost {
    a + b
}

/// The ledger's spend per project, kept up to date by reading only the entries added since
/// (the ledger is an append-only, auto-numbered store; clearing it is noticed by its count).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LedgerTally {
    last_key: Option<f64>,
    count: usize,
    by_project: BTreeMap<String, Cost>,
}

impl LedgerTally {
    /// The number of the last entry counted: read only the entries after it.
    pub fn last_key(&self) -> Option<f64> {
        self.last_key
    }

    /// Whether the store, now holding `stored` entries of which `new` come after
    /// [`Self::last_key`], still holds every entry counted; when not (the ledger was cleared),
    /// start again from an empty tally and read every entry.
    pub fn still_holds(&self, stored: usize, new: usize) -> bool {
        self.count + new == stored
    }

    /// Counts entry number `key`.
    pub fn add(&mut self, key: f64, entry: &LedgerEntry) {
        self.last_key = Some(self.last_key.map_or(key, |last| last.max(key)));
        self.count += 1;
        if let Some(project) = &entry.project {
            let spent = self.by_project.entry(project.clone()).or_insert(Cost::ZERO);
            *spent += entry.cost();
        }
    }

    /// Counts one entry that did not read (a damaged record): it holds no spend we can see.
    pub fn skip(&mut self, key: f64) {
        self.last_key = Some(self.last_key.map_or(key, |last| last.max(key)));
        self.count += 1;
    }

    /// What the ledger holds for `project`.
    pub fn spent(&self, project: &str) -> Cost {
        self.by_project.get(project).copied().unwrap_or(Cost::ZERO)
    }
}
