//! Property tests of the batch engine under a simulated clock.
//!
//! A simulated executor drives a [`Batch`]: it advances a virtual clock to the engine's next
//! wake-up or the next answer, sends whatever the engine asks for (recording when), answers
//! each send after a random latency with a random outcome (success, 429 with or without
//! `retry-after`, 5xx, timeout, network error, 400, unknown model, cut stream, and rarely
//! `insufficient_quota`), and now and then closes the tab: the answers in flight are lost and
//! the batch is reloaded from its JSON and recovered. A simulated user resumes stopped batches,
//! pauses, consents to resending some unknown outcomes, and retries failures.
//!
//! Properties checked on every run:
//! (a) per lane, the sends in any sliding 1 s window ≤ ⌈rpm / 60⌉ and in any 60 s window ≤ rpm
//!     (tokens likewise), a provider's token bucket holding one second of quota would never
//!     refuse a request, and the requests in flight never exceed the lane's concurrency;
//! (b) every item ends exactly once as done, failed or unknown (or the batch stopped or was
//!     cancelled with the rest queued), and no item is done twice;
//! (c) no item is sent while another send of it is in flight, nor after its outcome became
//!     unknown unless the user consented.
//!
//! And one deterministic figure: 300 items at 600 rpm with 300 ± 100 ms latency finish within
//! 5 % of the ideal 30 s of virtual time.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};

use duanju_studio::domain::batch::{
    Action, Batch, BatchConfig, BatchItem, BatchStatus, ItemState, LaneLimits, Limits, Outcome,
    Pricing, SplitMix64, StopReason,
};
use duanju_studio::domain::cost::money::{Currency, Money};
use duanju_studio::domain::cost::pricing::PriceSet;
use duanju_studio::domain::cost::profile::Profile;
use duanju_studio::domain::provider::api_error::ApiError;
use duanju_studio::domain::provider::chat::{Completion, Usage};
use duanju_studio::domain::provider::ratelimit::RateLimitHeaders;
use proptest::prelude::*;

const MODELS: [&str; 3] = ["deepseek-v3.2", "gpt-4.1", "gemini-2.5-flash"];
const CONNECTIONS: [&str; 2] = ["relay", "official"];

/// The outcome mix, in per-mille.
#[derive(Clone, Debug)]
struct Faults {
    rate_limit: u32,
    server: u32,
    timeout: u32,
    network: u32,
    bad_request: u32,
    not_found: u32,
    stream_cut: u32,
    quota: u32,
}

#[derive(Clone, Debug)]
struct Scenario {
    items: usize,
    /// Per connection: rpm, tpm, concurrency.
    limits: Vec<(Option<u32>, Option<u32>, u32)>,
    latency_min: f64,
    latency_spread: f64,
    faults: Faults,
    /// Per-mille chance, at each step with requests in flight, that the tab closes.
    crash: u32,
    /// Per-mille chance that the user consents to resending each unknown item.
    consent: u32,
    budget_cents: Option<i64>,
    fallbacks: bool,
    headers: bool,
    seed: u64,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let rpm = prop_oneof![
        Just(None),
        Just(Some(30)),
        Just(Some(60)),
        Just(Some(100)),
        Just(Some(500)),
        Just(Some(600)),
        Just(Some(3_000)),
    ];
    let tpm = prop_oneof![
        3 => Just(None),
        1 => Just(Some(50_000)),
        1 => Just(Some(300_000)),
    ];
    let lane = (rpm, tpm, 1u32..8);
    let faults = (
        0u32..150,
        0u32..300,
        0u32..50,
        0u32..30,
        0u32..40,
        0u32..20,
        0u32..20,
        prop_oneof![3 => Just(0u32), 1 => 0u32..5],
    )
        .prop_map(
            |(rate_limit, server, timeout, network, bad_request, not_found, stream_cut, quota)| {
                Faults {
                    rate_limit,
                    server,
                    timeout,
                    network,
                    bad_request,
                    not_found,
                    stream_cut,
                    quota,
                }
            },
        );
    (
        1usize..70,
        proptest::collection::vec(lane, 2),
        10.0f64..800.0,
        0.0f64..1_500.0,
        faults,
        prop_oneof![2 => Just(0u32), 1 => 1u32..40],
        0u32..1_000,
        prop_oneof![3 => Just(None), 1 => (1i64..40).prop_map(Some)],
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(
                items,
                limits,
                latency_min,
                latency_spread,
                faults,
                crash,
                consent,
                budget_cents,
                fallbacks,
                headers,
                seed,
            )| Scenario {
                items,
                limits,
                latency_min,
                latency_spread,
                faults,
                crash,
                consent,
                budget_cents,
                fallbacks,
                headers,
                seed,
            },
        )
}

/// One send, as the simulated provider saw it.
#[derive(Clone, Debug)]
struct Sent {
    at_ms: f64,
    item_id: String,
    lane: String,
    model: String,
    tokens: u64,
}

struct Pending {
    due_ms: f64,
    item_id: String,
    outcome: Outcome,
}

struct Sim {
    scenario: Scenario,
    batch: Batch,
    now: f64,
    rng: SplitMix64,
    pending: Vec<Pending>,
    sent: Vec<Sent>,
    /// Items whose outcome became unknown and that the user has not consented to resend.
    unknown_without_consent: BTreeSet<String>,
    done_transitions: BTreeMap<String, u32>,
    resumes: u32,
}

impl Sim {
    fn new(scenario: Scenario) -> Sim {
        let mut rng = SplitMix64::new(scenario.seed);
        let items: Vec<BatchItem> = (0..scenario.items)
            .map(|i| {
                let model = MODELS[(rng.next_u64() % 3) as usize];
                let lane = CONNECTIONS[(rng.next_u64() % 2) as usize];
                let input = 50 + rng.next_u64() % 2_000;
                let output = 16 + rng.next_u64() % 2_000;
                let mut item = BatchItem::chat(format!("item-{i}"), lane, model, input, output);
                if scenario.fallbacks {
                    item.fallback_models = MODELS
                        .iter()
                        .filter(|m| **m != model)
                        .map(|m| m.to_string())
                        .collect();
                }
                item
            })
            .collect();
        let lane_limits = CONNECTIONS
            .iter()
            .zip(&scenario.limits)
            .map(|(lane, &(rpm, tpm, max_concurrency))| LaneLimits {
                lane: lane.to_string(),
                model: None,
                limits: Limits {
                    rpm,
                    tpm,
                    max_concurrency,
                },
            })
            .collect();
        let config = BatchConfig {
            lane_limits,
            pricing: Some(Pricing::for_items(
                &PriceSet::list(),
                &Profile::defaults()[0],
                &items,
            )),
            budget: scenario
                .budget_cents
                .map(|cents| Money::from_cents(Currency::Usd, i128::from(cents))),
            ..BatchConfig::default()
        };
        let batch = Batch::new("sim", items, config, scenario.seed ^ 0xABCD).unwrap();
        Sim {
            scenario,
            batch,
            now: 1_700_000_000_000.0,
            rng,
            pending: Vec::new(),
            sent: Vec::new(),
            unknown_without_consent: BTreeSet::new(),
            done_transitions: BTreeMap::new(),
            resumes: 0,
        }
    }

    fn chance(&mut self, per_mille: u32) -> bool {
        self.rng.next_u64() % 1_000 < u64::from(per_mille)
    }

    fn limits(&self, lane: &str, model: &str) -> Limits {
        self.batch.config.limits_for(lane, model)
    }

    fn outcome(&mut self, item: &BatchItem, latency_ms: f64) -> Outcome {
        let f = self.scenario.faults.clone();
        let mut roll = (self.rng.next_u64() % 1_000) as u32;
        let mut pick = |p: u32| {
            if roll < p {
                true
            } else {
                roll -= p;
                false
            }
        };
        let error = if pick(f.quota) {
            ApiError::InsufficientQuota
        } else if pick(f.rate_limit) {
            let retry_after_ms = self
                .rng
                .next_u64()
                .is_multiple_of(2)
                .then(|| self.rng.next_u64() % 3_000);
            ApiError::RateLimited { retry_after_ms }
        } else if pick(f.server) {
            ApiError::ServerError {
                status: [500, 502, 503][(self.rng.next_u64() % 3) as usize],
            }
        } else if pick(f.timeout) {
            ApiError::Timeout
        } else if pick(f.network) {
            ApiError::network(false)
        } else if pick(f.bad_request) {
            ApiError::Other {
                status: 400,
                message: "bad request".into(),
            }
        } else if pick(f.not_found) {
            ApiError::ModelNotFound
        } else if pick(f.stream_cut) {
            ApiError::StreamCut {
                partial: Box::new(Completion {
                    content: "雨夜".into(),
                    usage: Some(Usage::estimated(item.estimated_input_tokens, 3)),
                    ..Completion::default()
                }),
            }
        } else {
            let completion = self.rng.next_u64() % (item.max_output_tokens + 1);
            return Outcome::Ok {
                usage: Usage {
                    prompt: item.estimated_input_tokens,
                    completion,
                    total: item.estimated_input_tokens + completion,
                    ..Usage::default()
                },
                latency_ms,
            };
        };
        let retry_after_ms =
            matches!(error, ApiError::ServerError { status: 503 }).then_some(1_500);
        Outcome::Err {
            error,
            retry_after_ms,
            latency_ms,
        }
    }

    fn send(&mut self, action: Action) {
        let Action::Send {
            item_id,
            lane,
            model,
            attempt,
        } = action;
        // (c) one send at a time, and never an unknown outcome without consent.
        assert!(
            !self.pending.iter().any(|p| p.item_id == item_id),
            "{item_id} sent while another send of it is in flight"
        );
        assert!(
            !self.unknown_without_consent.contains(&item_id),
            "{item_id} resent after its outcome became unknown, without consent"
        );
        let item = self.batch.item(&item_id).unwrap().clone();
        assert_eq!(
            item.state,
            ItemState::Running {
                attempt,
                started_ms: self.now
            },
            "the engine marks the item running before the executor sends it"
        );
        assert_eq!(
            (item.lane.as_str(), item.model.as_str()),
            (lane.as_str(), model.as_str())
        );
        // (a) concurrency.
        let in_flight = self
            .pending
            .iter()
            .filter(|p| {
                let other = self.batch.item(&p.item_id).unwrap();
                other.lane == lane && other.model == model
            })
            .count();
        let max = self.limits(&lane, &model).max_concurrency.max(1) as usize;
        assert!(
            in_flight < max,
            "{lane}/{model}: {} in flight > {max}",
            in_flight + 1
        );
        self.sent.push(Sent {
            at_ms: self.now,
            item_id: item_id.clone(),
            lane,
            model,
            tokens: item.token_cost(),
        });
        let latency =
            self.scenario.latency_min + self.rng.next_f64() * self.scenario.latency_spread;
        let outcome = self.outcome(&item, latency);
        self.pending.push(Pending {
            due_ms: self.now + latency,
            item_id,
            outcome,
        });
    }

    fn deliver_due(&mut self) -> bool {
        let mut delivered = false;
        loop {
            let Some(index) = self
                .pending
                .iter()
                .enumerate()
                .filter(|(_, p)| p.due_ms <= self.now)
                .min_by(|a, b| a.1.due_ms.total_cmp(&b.1.due_ms))
                .map(|(i, _)| i)
            else {
                return delivered;
            };
            let pending = self.pending.remove(index);
            let was_done = matches!(
                self.batch.item(&pending.item_id).unwrap().state,
                ItemState::Done { .. }
            );
            self.batch
                .on_result(&pending.item_id, self.now, pending.outcome)
                .unwrap();
            let item = self.batch.item(&pending.item_id).unwrap().clone();
            if !was_done && matches!(item.state, ItemState::Done { .. }) {
                *self.done_transitions.entry(item.id.clone()).or_default() += 1;
            }
            if self.scenario.headers && self.chance(100) {
                // A provider stating a lower limit than configured.
                let (lane, model) = (item.lane.clone(), item.model.clone());
                let rpm = self.limits(&lane, &model).rpm;
                let headers = RateLimitHeaders {
                    limit_requests: rpm.map(|r| u64::from(r.div_ceil(2))),
                    remaining_requests: Some(self.rng.next_u64() % 3),
                    reset_requests_ms: Some(self.rng.next_u64() % 2_000),
                    ..RateLimitHeaders::default()
                };
                let id = pending.item_id.clone();
                self.batch.observe_headers(&id, &headers, self.now).unwrap();
            }
            delivered = true;
        }
    }

    /// The tab closes: answers in flight are lost; the saved batch is reloaded and recovered.
    fn crash(&mut self) {
        self.pending.clear();
        let saved = serde_json::to_string(&self.batch).unwrap();
        self.batch = serde_json::from_str(&saved).unwrap();
        // The limiters come back exactly (their times sit on a grid that JSON round-trips).
        let before: Batch = serde_json::from_str(&saved).unwrap();
        assert_eq!(self.batch.lanes, before.lanes);
        for id in self.batch.recover_after_crash(self.now) {
            assert_eq!(self.batch.item(&id).unwrap().state.name(), "unknown");
            self.unknown_without_consent.insert(id);
        }
        // The user consents to resending some of them.
        let unknown: Vec<String> = self.unknown_without_consent.iter().cloned().collect();
        let consent = self.scenario.consent;
        let chosen: Vec<String> = unknown
            .into_iter()
            .filter(|_| self.chance(consent))
            .collect();
        if !chosen.is_empty() {
            assert_eq!(self.batch.resend_unknown(&chosen), Ok(chosen.len()));
            for id in &chosen {
                self.unknown_without_consent.remove(id);
            }
        }
    }

    /// Nothing is scheduled: the user may resume a stopped or paused batch or retry failures.
    /// Returns false when the run is over.
    fn user_moves_on(&mut self) -> bool {
        if self.resumes >= 6 {
            return false;
        }
        self.resumes += 1;
        match self.batch.status.clone() {
            BatchStatus::Paused => self.batch.resume(),
            BatchStatus::Stopped { reason } => {
                if !self.chance(700) {
                    return false;
                }
                if let StopReason::BudgetReached { limit, .. } = reason {
                    self.batch.set_budget(Some(limit.times(2)));
                }
                self.batch.resume()
            }
            BatchStatus::Finished => self.chance(300) && self.batch.retry_failed() > 0,
            BatchStatus::Running | BatchStatus::Cancelled => false,
        }
    }

    fn run(&mut self) {
        let mut idle_spins = 0;
        for _ in 0..500_000 {
            let actions = self.batch.next_actions(self.now);
            let acted = !actions.is_empty();
            for action in actions {
                self.send(action);
            }
            // The user, or a closed tab; the executor then asks the engine again.
            if !self.pending.is_empty() && self.chance(self.scenario.crash) {
                self.crash();
                continue;
            }
            if self.chance(2) && self.batch.pause() {
                continue;
            }
            if self.chance(1) {
                self.batch.cancel();
                continue;
            }
            let wake = self.batch.next_wake_ms(self.now);
            if let Some(wake) = wake {
                assert!(wake >= self.now, "wake {wake} before now {}", self.now);
            }
            let due = self.pending.iter().map(|p| p.due_ms).reduce(f64::min);
            let next = match (wake, due) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => {
                        assert_ne!(
                            self.batch.status,
                            BatchStatus::Running,
                            "stalled: running, nothing in flight and no wake-up at {}: {:#?}",
                            self.now,
                            self.batch
                                .items
                                .iter()
                                .filter(|i| !i.state.is_final())
                                .collect::<Vec<_>>()
                        );
                        if self.user_moves_on() {
                            continue;
                        }
                        return;
                    }
                },
            };
            self.now = next;
            let delivered = self.deliver_due();
            if acted || delivered {
                idle_spins = 0;
            } else {
                idle_spins += 1;
                assert!(
                    idle_spins < 10,
                    "the engine asks to wake at {next} again and again without acting"
                );
            }
        }
        panic!("the simulation did not end");
    }

    fn check(&self) {
        // (a) windows, per lane, against the configured limits.
        let mut lanes: BTreeMap<(String, String), Vec<&Sent>> = BTreeMap::new();
        for sent in &self.sent {
            lanes
                .entry((sent.lane.clone(), sent.model.clone()))
                .or_default()
                .push(sent);
        }
        for ((lane, model), sends) in &lanes {
            let limits = self.limits(lane, model);
            if let Some(rpm) = limits.rpm {
                let per_second = u64::from(rpm.div_ceil(60));
                check_windows(sends, 1_000.0, per_second, |_| 1, "requests/s", lane, model);
                check_windows(
                    sends,
                    60_000.0,
                    u64::from(rpm),
                    |_| 1,
                    "requests/min",
                    lane,
                    model,
                );
                check_bucket(sends, rpm, |_| 1, "requests", lane, model);
            }
            if let Some(tpm) = limits.tpm {
                let per_second = u64::from(tpm.div_ceil(60));
                check_windows(
                    sends,
                    1_000.0,
                    per_second,
                    |s| s.tokens,
                    "tokens/s",
                    lane,
                    model,
                );
                check_windows(
                    sends,
                    60_000.0,
                    u64::from(tpm),
                    |s| s.tokens,
                    "tokens/min",
                    lane,
                    model,
                );
                check_bucket(sends, tpm, |s| s.tokens, "tokens", lane, model);
            }
        }
        // (b) every item ends exactly once.
        assert!(self.pending.is_empty());
        for (id, n) in &self.done_transitions {
            assert_eq!(*n, 1, "{id} was done {n} times");
        }
        let stopped = matches!(
            self.batch.status,
            BatchStatus::Stopped { .. } | BatchStatus::Cancelled | BatchStatus::Paused
        );
        assert!(
            stopped || self.batch.status == BatchStatus::Finished,
            "{:?}",
            self.batch.status
        );
        for item in &self.batch.items {
            let waiting = matches!(item.state, ItemState::Queued | ItemState::Waiting { .. });
            let allowed = item.state.is_final() || (stopped && waiting);
            assert!(
                allowed,
                "{} ended {:?} in a {:?} batch",
                item.id, item.state, self.batch.status
            );
        }
        let counts = self.batch.counts();
        assert_eq!(
            counts.done + counts.failed + counts.unknown + counts.queued,
            counts.total
        );
        // Every done item was sent, and unknown ones stayed unknown without consent.
        for id in &self.unknown_without_consent {
            assert_eq!(self.batch.item(id).unwrap().state.name(), "unknown");
        }
    }
}

/// At every send (the end of a window), the weight of the sends in the window `(t − w, t]` is
/// within `cap`, unless the window holds only that one (oversized) request.
fn check_windows(
    sends: &[&Sent],
    window_ms: f64,
    cap: u64,
    weight: impl Fn(&Sent) -> u64,
    what: &str,
    lane: &str,
    model: &str,
) {
    for (end, last) in sends.iter().enumerate() {
        let inside: Vec<&&Sent> = sends[..=end]
            .iter()
            .filter(|s| s.at_ms + window_ms > last.at_ms)
            .collect();
        let total: u64 = inside.iter().map(|s| weight(s)).sum();
        assert!(
            total <= cap || inside.len() == 1,
            "{lane}/{model}: {total} {what} in the window ending {} (cap {cap})",
            last.at_ms
        );
    }
}

/// A provider's token bucket (the sandbox's): one second of quota, refilled continuously; an
/// oversized request is admitted when the bucket is full. No send may be refused.
fn check_bucket(
    sends: &[&Sent],
    per_minute: u32,
    weight: impl Fn(&Sent) -> u64,
    what: &str,
    lane: &str,
    model: &str,
) {
    let rate = f64::from(per_minute) / 60_000.0;
    let capacity = (f64::from(per_minute) / 60.0).max(1.0);
    let mut level = capacity;
    let mut last = f64::NEG_INFINITY;
    for send in sends {
        if last.is_finite() {
            level = (level + (send.at_ms - last) * rate).min(capacity);
        }
        last = send.at_ms;
        let cost = weight(send) as f64;
        let need = cost.min(capacity);
        // The tolerance covers float noise at Unix-millisecond magnitudes (the sandbox counts
        // in nanoseconds from its start).
        assert!(
            level + 1e-3 >= need,
            "{lane}/{model}: the provider's {what} bucket would refuse {} at {} (level {level}, cost {cost})",
            send.item_id,
            send.at_ms
        );
        level -= cost;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_keeps_its_invariants(scenario in scenario()) {
        let mut sim = Sim::new(scenario);
        sim.run();
        sim.check();
    }
}

/// 300 items, 600 rpm, every answer after 300 ± 100 ms: the batch is done within 5 % of the
/// ideal 30 s.
#[test]
fn three_hundred_items_at_600_rpm_reach_the_ceiling() {
    let items: Vec<BatchItem> = (0..300)
        .map(|i| BatchItem::chat(format!("take-{i}"), "sandbox", "deepseek-v3.2", 40, 16))
        .collect();
    let config = BatchConfig::with_limits(Limits::rpm(600));
    let mut batch = Batch::new("bench", items, config, 1).unwrap();
    let mut rng = SplitMix64::new(2026);
    let mut now = 0.0;
    let mut pending: Vec<(f64, String)> = Vec::new();
    let mut sends = Vec::new();
    loop {
        for Action::Send { item_id, .. } in batch.next_actions(now) {
            sends.push(now);
            let latency = 200.0 + rng.next_f64() * 200.0;
            pending.push((now + latency, item_id));
        }
        let due = pending.iter().map(|p| p.0).reduce(f64::min);
        let next = match (batch.next_wake_ms(now), due) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(t) => t,
                None => break,
            },
        };
        now = next;
        pending.sort_by(|a, b| a.0.total_cmp(&b.0));
        while pending.first().is_some_and(|p| p.0 <= now) {
            let (at, id) = pending.remove(0);
            let usage = Usage {
                prompt: 40,
                completion: 16,
                total: 56,
                ..Usage::default()
            };
            batch
                .on_result(
                    &id,
                    at,
                    Outcome::Ok {
                        usage,
                        latency_ms: 300.0,
                    },
                )
                .unwrap();
        }
    }
    assert_eq!(batch.status, BatchStatus::Finished);
    assert_eq!(batch.counts().done, 300);
    let ideal = 30_000.0;
    let ratio = ideal / now;
    println!(
        "300 items at 600 rpm: finished at {:.2} s of virtual time (ideal 30 s, ceiling ratio {ratio:.3}); last send at {:.2} s",
        now / 1_000.0,
        sends.last().unwrap() / 1_000.0
    );
    assert!(now <= ideal * 1.05, "finished at {now} ms");
    // Never more than 10 sends in any 1 s window.
    for (i, &t) in sends.iter().enumerate() {
        let inside = sends[..=i].iter().filter(|&&s| s + 1_000.0 > t).count();
        assert!(inside <= 10, "{inside} sends in the second ending {t}");
    }
}
