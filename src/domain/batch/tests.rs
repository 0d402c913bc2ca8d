//! Scenario tests of the engine under a hand-driven clock (the randomized ones are in
//! `tests/batch_props.rs`).

use super::*;
use crate::domain::cost::money::{Currency, Money};
use crate::domain::cost::pricing::PriceSet;
use crate::domain::cost::profile::{Cost, Profile};
use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::chat::{Completion, Usage};
use crate::domain::provider::connection::{Connection, Preset};

fn items(n: usize, model: &str) -> Vec<BatchItem> {
    (0..n)
        .map(|i| BatchItem::chat(format!("i{i}"), "relay", model, 1_000, 1_000))
        .collect()
}

fn usage() -> Usage {
    Usage {
        prompt: 1_000,
        completion: 500,
        total: 1_500,
        ..Usage::default()
    }
}

fn ok() -> Outcome {
    Outcome::Ok {
        usage: usage(),
        latency_ms: 300.0,
    }
}

fn sent_ids(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|Action::Send { item_id, .. }| item_id.clone())
        .collect()
}

fn unlimited() -> BatchConfig {
    BatchConfig::with_limits(Limits {
        max_concurrency: 100,
        ..Limits::default()
    })
}

fn state<'a>(batch: &'a Batch, id: &str) -> &'a ItemState {
    &batch.item(id).unwrap().state
}

/// The relay profile with list prices: ¥1 = $1.
fn priced(mut config: BatchConfig, items: &[BatchItem]) -> BatchConfig {
    config.pricing = Some(Pricing::for_items(
        &PriceSet::list(),
        &Profile::defaults()[0],
        items,
    ));
    config
}

#[test]
fn sends_mark_items_running_before_they_leave() {
    let mut batch = Batch::new("b", items(3, "gpt-4.1"), unlimited(), 1).unwrap();
    let actions = batch.next_actions(0.0);
    assert_eq!(
        actions[0],
        Action::Send {
            item_id: "i0".into(),
            lane: "relay".into(),
            model: "gpt-4.1".into(),
            attempt: 1
        }
    );
    for id in sent_ids(&actions) {
        assert_eq!(state(&batch, &id).name(), "running");
    }
    // Nothing is sent twice.
    assert!(batch.next_actions(0.0).is_empty());
    assert_eq!(batch.next_wake_ms(0.0), None);
    for id in ["i0", "i1", "i2"] {
        batch.on_result(id, 300.0, ok()).unwrap();
    }
    assert_eq!(batch.status, BatchStatus::Finished);
    assert_eq!(batch.counts().done, 3);
    // A second answer for a finished item is refused.
    assert_eq!(
        batch.on_result("i0", 400.0, ok()),
        Err(BatchError::WrongState {
            item_id: "i0".into(),
            state: "done"
        })
    );
    assert!(matches!(
        batch.on_result("nope", 400.0, ok()),
        Err(BatchError::UnknownItem(_))
    ));
}

#[test]
fn duplicate_ids_are_refused() {
    let mut twice = items(2, "gpt-4.1");
    twice[1].id = "i0".into();
    assert_eq!(
        Batch::new("b", twice, unlimited(), 1),
        Err(BatchError::DuplicateItem("i0".into()))
    );
}

#[test]
fn concurrency_is_capped_per_lane() {
    let config = BatchConfig::with_limits(Limits {
        max_concurrency: 2,
        ..Limits::default()
    });
    let mut all = items(4, "gpt-4.1");
    all.push(BatchItem::chat("other", "relay", "deepseek-v3.2", 10, 10));
    let mut batch = Batch::new("b", all, config, 1).unwrap();
    // Two on gpt-4.1, and the deepseek lane is not held up by the full one.
    assert_eq!(sent_ids(&batch.next_actions(0.0)), ["i0", "i1", "other"]);
    batch.on_result("i0", 100.0, ok()).unwrap();
    assert_eq!(sent_ids(&batch.next_actions(100.0)), ["i2"]);
}

#[test]
fn a_rate_limit_429_pauses_and_slows_the_whole_lane() {
    let mut batch = Batch::new(
        "b",
        items(30, "gpt-4.1"),
        BatchConfig::with_limits(Limits::rpm(600)),
        1,
    )
    .unwrap();
    assert_eq!(batch.next_actions(0.0).len(), 5);
    let limited = Outcome::err(
        ApiError::RateLimited {
            retry_after_ms: Some(2_000),
        },
        50.0,
    );
    batch.on_result("i0", 50.0, limited.clone()).unwrap();
    // The item waits for the lane's pause; the lane sends nothing until then.
    assert_eq!(
        *state(&batch, "i0"),
        ItemState::Waiting {
            until_ms: 2_050.0,
            attempt: 2
        }
    );
    assert!(batch.next_actions(1_000.0).is_empty());
    assert_eq!(batch.next_wake_ms(1_000.0), Some(2_050.0));
    let lane = batch.lane("relay", "gpt-4.1").unwrap();
    assert!((lane.limiter.rate_factor - 0.9).abs() < 1e-12);
    // A second 429 for a request sent before the slowdown does not slow it again.
    let shorter = Outcome::err(
        ApiError::RateLimited {
            retry_after_ms: Some(1_000),
        },
        60.0,
    );
    batch.on_result("i1", 60.0, shorter).unwrap();
    assert!((batch.lane("relay", "gpt-4.1").unwrap().limiter.rate_factor - 0.9).abs() < 1e-12);
    assert_eq!(
        batch
            .events
            .iter()
            .filter(|e| matches!(e, BatchEvent::LaneThrottled { .. }))
            .count(),
        1
    );
    // After the pause the lane restarts paced (no burst), the retried item first.
    let resumed = sent_ids(&batch.next_actions(2_050.0));
    assert_eq!(resumed, ["i0"]);
    assert!(batch.events[0].message(Lang::ZhCn).contains("被限流"));
    assert_eq!(batch.progress(2_050.0).rate_limited, 2);
}

#[test]
fn insufficient_quota_stops_the_batch_with_a_clear_message() {
    let mut batch = Batch::new("b", items(10, "gpt-4.1"), unlimited(), 1).unwrap();
    let sent = batch.next_actions(0.0);
    assert_eq!(sent.len(), 10);
    batch
        .on_result(
            "i0",
            100.0,
            Outcome::err(ApiError::InsufficientQuota, 100.0),
        )
        .unwrap();
    let BatchStatus::Stopped { reason } = &batch.status else {
        panic!("{:?}", batch.status)
    };
    assert_eq!(reason.kind(), "insufficient_quota");
    assert!(reason.message(Lang::ZhCn).contains("余额"));
    assert!(reason.message(Lang::En).contains("out of credit"));
    // The item was not billed: it waits in the queue, and nothing is sent while stopped.
    assert_eq!(*state(&batch, "i0"), ItemState::Queued);
    assert!(batch.next_actions(200.0).is_empty());
    assert_eq!(batch.next_wake_ms(200.0), None);
    // Answers in flight are still recorded.
    batch.on_result("i1", 300.0, ok()).unwrap();
    assert_eq!(batch.counts().done, 1);
    // After a top-up the user resumes.
    assert!(batch.resume());
    assert_eq!(sent_ids(&batch.next_actions(400.0)), ["i0"]);
}

#[test]
fn server_errors_retry_with_full_jitter_then_fail() {
    let mut batch = Batch::new("b", items(1, "gpt-4.1"), unlimited(), 42).unwrap();
    let mut now = 0.0;
    let mut ceilings = Vec::new();
    let attempts = RetryConfig::default().max_attempts;
    for attempt in 1..=attempts {
        let sent = batch.next_actions(now);
        assert_eq!(
            sent,
            [Action::Send {
                item_id: "i0".into(),
                lane: "relay".into(),
                model: "gpt-4.1".into(),
                attempt
            }]
        );
        batch
            .on_result(
                "i0",
                now + 10.0,
                Outcome::err(ApiError::ServerError { status: 500 }, 10.0),
            )
            .unwrap();
        now += 10.0;
        match *state(&batch, "i0") {
            ItemState::Waiting {
                until_ms,
                attempt: next,
            } => {
                assert_eq!(next, attempt + 1);
                let delay = until_ms - now;
                ceilings.push(1_000.0 * f64::from(1u32 << (attempt - 1)));
                assert!(
                    (0.0..ceilings[attempt as usize - 1]).contains(&delay),
                    "{delay}"
                );
                assert_eq!(batch.next_wake_ms(now), Some(until_ms));
                now = until_ms;
            }
            ItemState::Failed {
                ref failure,
                billed,
            } => {
                assert_eq!(attempt, 6, "six attempts in all");
                assert_eq!(failure.kind(), "server_error");
                assert_eq!(billed, None);
            }
            ref other => panic!("{other:?}"),
        }
    }
    assert_eq!(batch.status, BatchStatus::Finished);
    // Retry-failed queues it again with fresh attempts.
    assert_eq!(batch.retry_failed(), 1);
    assert_eq!(batch.status, BatchStatus::Running);
    assert_eq!(batch.next_actions(now).len(), 1);
}

#[test]
fn retry_after_is_honoured_for_server_errors_and_capped() {
    let mut batch = Batch::new("b", items(1, "gpt-4.1"), unlimited(), 1).unwrap();
    batch.next_actions(0.0);
    let overloaded = Outcome::Err {
        error: ApiError::ServerError { status: 503 },
        retry_after_ms: Some(86_400_000),
        latency_ms: 10.0,
    };
    batch.on_result("i0", 10.0, overloaded).unwrap();
    assert_eq!(
        *state(&batch, "i0"),
        ItemState::Waiting {
            until_ms: 60_010.0,
            attempt: 2
        }
    );
}

#[test]
fn other_client_errors_fail_at_once_and_cut_streams_wait_for_consent_at_their_worst_case() {
    let mut all = items(2, "deepseek-v3.2");
    all[1].max_output_tokens = 100;
    let config = priced(unlimited(), &all);
    let mut batch = Batch::new("b", all, config, 1).unwrap();
    batch.next_actions(0.0);
    let bad_request = ApiError::Other {
        status: 400,
        message: "bad".into(),
    };
    batch
        .on_result("i0", 10.0, Outcome::err(bad_request, 10.0))
        .unwrap();
    assert_eq!(state(&batch, "i0").name(), "failed");
    let partial = Completion {
        content: "雨夜".into(),
        usage: Some(Usage::estimated(1_000, 50)),
        ..Completion::default()
    };
    batch
        .on_result(
            "i1",
            10.0,
            Outcome::err(
                ApiError::StreamCut {
                    partial: Box::new(partial),
                },
                10.0,
            ),
        )
        .unwrap();
    // The provider may have generated all of it: unknown, never resent by itself.
    assert!(matches!(
        state(&batch, "i1"),
        ItemState::OutcomeUnknown { recorded: true, .. }
    ));
    assert!(batch.next_actions(1_000_000.0).is_empty());
    // Counted at its worst case, 1,000 × $0.28 + 100 × $0.42 per MTok = $0.000322, as spent
    // (its ledger entry records it), and not a second time as at risk.
    let worst = 322_000_000_000_000;
    assert_eq!(batch.spent().usd.units(), worst);
    assert_eq!(batch.committed().usd.units(), worst);
    assert_eq!(batch.status, BatchStatus::Finished);
    // Resent with consent: the first attempt stays spent while the second is at risk.
    assert_eq!(batch.resend_unknown(&["i1"]).unwrap(), 1);
    assert_eq!(batch.next_actions(2_000_000.0).len(), 1);
    assert_eq!(batch.spent().usd.units(), worst);
    assert_eq!(batch.committed().usd.units(), 2 * worst);
    batch
        .on_result("i1", 2_000_010.0, Outcome::err(ApiError::Timeout, 10.0))
        .unwrap();
    // Given up: both attempts stay spent.
    batch.mark_unknown_failed("i1").unwrap();
    assert_eq!(batch.spent().usd.units(), 2 * worst);
    assert_eq!(batch.committed().usd.units(), 2 * worst);
}

#[test]
fn requests_in_flight_at_a_crash_count_at_risk_until_recorded() {
    let all = items(1, "deepseek-v3.2");
    let config = priced(unlimited(), &all);
    let mut batch = Batch::new("b", all, config, 1).unwrap();
    batch.next_actions(0.0);
    let worst = batch.committed();
    assert_eq!(batch.recover_after_crash(5.0), ["i0"]);
    assert_eq!(batch.spent(), Cost::ZERO);
    assert_eq!(batch.committed(), worst);
    let connection = Connection::from_preset("c", Preset::LocalSandbox, "relay", Lang::En);
    let context = CallContext {
        connection: &connection,
        task: "takes",
        project: Some("p1"),
    };
    let recorded = batch.record_unknowns(context);
    assert_eq!(recorded.len(), 1);
    let (index, entry) = &recorded[0];
    assert_eq!(*index, 0);
    assert!(entry.worst_case && entry.estimated);
    assert_eq!(entry.cost(), worst);
    assert_eq!(entry.project.as_deref(), Some("p1"));
    // Now spent (the ledger has it), not at risk; recording twice adds nothing.
    assert_eq!(batch.spent(), worst);
    assert_eq!(batch.committed(), worst);
    assert!(batch.record_unknowns(context).is_empty());
}

#[test]
fn fallback_after_two_failures_logs_the_switch_and_its_cost() {
    let all = vec![
        BatchItem::chat("take", "relay", "deepseek-v3.2", 1_000, 1_000)
            .with_fallbacks(&["gpt-4.1"]),
    ];
    let config = priced(unlimited(), &all);
    let mut batch = Batch::new("b", all, config, 3).unwrap();
    let mut now = 0.0;
    for _ in 0..2 {
        assert_eq!(batch.next_actions(now).len(), 1);
        let overloaded = ApiError::ServerError { status: 503 };
        batch
            .on_result("take", now, Outcome::err(overloaded, 10.0))
            .unwrap();
        now = batch.next_wake_ms(now).unwrap_or(now);
    }
    let BatchEvent::FallbackSwitched {
        from,
        to,
        reason,
        cost_delta,
        ..
    } = &batch.events[0]
    else {
        panic!("{:?}", batch.events)
    };
    assert_eq!((from.as_str(), to.as_str()), ("deepseek-v3.2", "gpt-4.1"));
    assert_eq!(*reason, FallbackReason::ItemFailures);
    // Worst case per send: gpt-4.1 1,000 × $2 + 1,000 × $8 = $0.01; deepseek $0.0007.
    assert_eq!(cost_delta.unwrap().usd.micros(), 9_300);
    assert!(batch.events[0].message(Lang::En).contains("+$0.01"));
    let sent = batch.next_actions(now);
    assert_eq!(
        sent,
        [Action::Send {
            item_id: "take".into(),
            lane: "relay".into(),
            model: "gpt-4.1".into(),
            attempt: 3
        }]
    );
    batch.on_result("take", now + 5.0, ok()).unwrap();
    let ItemState::Done { model, cost, .. } = state(&batch, "take") else {
        panic!()
    };
    assert_eq!(model, "gpt-4.1");
    // 1,000 × $2 + 500 × $8 per MTok.
    assert_eq!(cost.usd.micros(), 6_000);
}

#[test]
fn an_unknown_model_falls_back_at_once_or_fails() {
    let all = vec![
        BatchItem::chat("a", "relay", "typo-model", 10, 10).with_fallbacks(&["gpt-4.1"]),
        BatchItem::chat("b", "relay", "typo-model", 10, 10),
    ];
    let mut batch = Batch::new("b", all, unlimited(), 1).unwrap();
    batch.next_actions(0.0);
    for id in ["a", "b"] {
        batch
            .on_result(id, 5.0, Outcome::err(ApiError::ModelNotFound, 5.0))
            .unwrap();
    }
    assert_eq!(*state(&batch, "a"), ItemState::Queued);
    assert_eq!(batch.item("a").unwrap().model, "gpt-4.1");
    assert_eq!(batch.item("a").unwrap().tried_models, ["typo-model"]);
    assert_eq!(state(&batch, "b").name(), "failed");
}

#[test]
fn a_failing_lane_moves_its_waiting_items_to_their_fallbacks() {
    let all: Vec<BatchItem> = (0..10)
        .map(|i| {
            BatchItem::chat(format!("i{i}"), "relay", "deepseek-v3.2", 10, 10)
                .with_fallbacks(&["gpt-4.1"])
        })
        .collect();
    let config = BatchConfig::with_limits(Limits {
        max_concurrency: 5,
        ..Limits::default()
    });
    let mut batch = Batch::new("b", all, config, 1).unwrap();
    let first = sent_ids(&batch.next_actions(0.0));
    assert_eq!(first.len(), 5);
    for id in &first {
        batch
            .on_result(
                id,
                10.0,
                Outcome::err(ApiError::ServerError { status: 502 }, 10.0),
            )
            .unwrap();
    }
    // Five failures in a row on the lane: the five never-sent items move to gpt-4.1.
    for i in 5..10 {
        assert_eq!(batch.item(&format!("i{i}")).unwrap().model, "gpt-4.1");
    }
    let lane_switches = batch
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                BatchEvent::FallbackSwitched {
                    reason: FallbackReason::LaneFailures,
                    ..
                }
            )
        })
        .count();
    assert!(lane_switches >= 5, "{:?}", batch.events);
}

#[test]
fn a_closed_tab_leaves_unknown_outcomes_that_are_resent_only_with_consent() {
    let mut batch = Batch::new("b", items(4, "gpt-4.1"), unlimited(), 1).unwrap();
    batch.next_actions(0.0);
    batch.on_result("i0", 100.0, ok()).unwrap();
    // The tab closes; the saved batch is reloaded.
    let saved = serde_json::to_string(&batch).unwrap();
    let mut batch: Batch = serde_json::from_str(&saved).unwrap();
    let unknown = batch.recover_after_crash(5_000.0);
    assert_eq!(unknown, ["i1", "i2", "i3"]);
    assert!(batch
        .events
        .last()
        .unwrap()
        .message(Lang::En)
        .contains("3 requests"));
    assert_eq!(batch.status, BatchStatus::Finished);
    assert!(batch.next_actions(6_000.0).is_empty());
    let counts = batch.counts();
    assert_eq!((counts.done, counts.unknown), (1, 3));
    // The user checks the provider's dashboard: i1 did finish, i2 did not; i3 is resent.
    batch.mark_unknown_done("i1", None).unwrap();
    batch.mark_unknown_failed("i2").unwrap();
    assert_eq!(batch.resend_unknown(&["i3"]), Ok(1));
    assert!(batch.resend_unknown(&["i0"]).is_err());
    assert_eq!(batch.status, BatchStatus::Running);
    assert_eq!(
        batch.next_actions(7_000.0),
        [Action::Send {
            item_id: "i3".into(),
            lane: "relay".into(),
            model: "gpt-4.1".into(),
            attempt: 2
        }]
    );
    let ItemState::Done { usage, .. } = state(&batch, "i1") else {
        panic!()
    };
    assert!(usage.estimated);
}

#[test]
fn an_aborted_request_has_an_unknown_outcome() {
    let mut batch = Batch::new("b", items(1, "gpt-4.1"), unlimited(), 1).unwrap();
    batch.next_actions(0.0);
    batch
        .on_result("i0", 10.0, Outcome::err(ApiError::Cancelled, 10.0))
        .unwrap();
    assert_eq!(state(&batch, "i0").name(), "unknown");
    // A late success is still welcome.
    batch.on_result("i0", 20.0, ok()).unwrap();
    assert_eq!(state(&batch, "i0").name(), "done");
}

#[test]
fn the_budget_stops_dispatch_before_an_item_could_exceed_it() {
    // Each item: 1,000 × $2 + 1,000 × $8 per MTok = $0.01 at worst on gpt-4.1.
    let all = items(10, "gpt-4.1");
    let mut config = priced(unlimited(), &all);
    config.budget = Some(Money::parse(Currency::Usd, "0.035").unwrap());
    let mut batch = Batch::new("b", all, config, 1).unwrap();
    // Three fit at worst ($0.03); the fourth could exceed $0.035, and three are in flight.
    assert_eq!(batch.next_actions(0.0).len(), 3);
    assert_eq!(batch.status, BatchStatus::Running);
    // Each really costs $0.006: after three answers $0.018 is spent, so two more fit.
    for id in ["i0", "i1", "i2"] {
        batch.on_result(id, 100.0, ok()).unwrap();
    }
    assert_eq!(batch.next_actions(100.0).len(), 1);
    batch.on_result("i3", 200.0, ok()).unwrap();
    // $0.024 spent + $0.01 = $0.034 ≤ $0.035: one more; then $0.030 + $0.01 > $0.035.
    assert_eq!(batch.next_actions(200.0).len(), 1);
    batch.on_result("i4", 300.0, ok()).unwrap();
    assert!(batch.next_actions(300.0).is_empty());
    let BatchStatus::Stopped { reason } = &batch.status else {
        panic!("{:?}", batch.status)
    };
    assert_eq!(reason.kind(), "budget_reached");
    assert!(
        reason
            .message(Lang::En)
            .contains("$0.03 of the $0.04 budget"),
        "{}",
        reason.message(Lang::En)
    );
    assert!(batch.spent().usd <= Money::parse(Currency::Usd, "0.035").unwrap());
    assert_eq!(batch.counts().queued, 5);
    // Raising the budget and resuming continues.
    batch.set_budget(Some(Money::parse(Currency::Usd, "1").unwrap()));
    assert!(batch.resume());
    assert_eq!(batch.next_actions(400.0).len(), 5);
}

#[test]
fn a_project_remainder_in_yuan_is_respected_and_unpriced_budgets_stop() {
    let all = items(3, "gpt-4.1");
    let mut config = priced(unlimited(), &all);
    // ¥0.015 on the relay (¥1 = $1): one $0.01 item fits, the second does not.
    config.project_remaining = Some(Money::parse(Currency::Cny, "0.015").unwrap());
    let mut batch = Batch::new("b", all, config, 1).unwrap();
    assert_eq!(batch.next_actions(0.0).len(), 1);
    // A project already (nearly) spent: nothing fits, and the stop names the project's budget.
    let mut config = priced(unlimited(), &items(3, "gpt-4.1"));
    config.project_remaining = Some(Money::parse(Currency::Cny, "0.005").unwrap());
    let mut spent = Batch::new("s", items(3, "gpt-4.1"), config, 1).unwrap();
    assert!(spent.next_actions(0.0).is_empty());
    let BatchStatus::Stopped { reason } = &spent.status else {
        panic!("{:?}", spent.status)
    };
    assert!(matches!(
        reason,
        StopReason::BudgetReached { project: true, .. }
    ));
    assert!(
        reason.message(Lang::ZhCn).contains("项目预算只剩 ¥0.01"),
        "{}",
        reason.message(Lang::ZhCn)
    );
    assert!(reason.message(Lang::En).contains("project's budget"));

    let mut unpriced = Batch::new("u", items(2, "mystery"), unlimited(), 1).unwrap();
    unpriced.set_budget(Some(Money::parse(Currency::Usd, "5").unwrap()));
    assert!(unpriced.next_actions(0.0).is_empty());
    let BatchStatus::Stopped { reason } = &unpriced.status else {
        panic!()
    };
    assert!(reason.message(Lang::ZhCn).contains("mystery"));
}

#[test]
fn pause_resume_cancel() {
    let mut batch = Batch::new(
        "b",
        items(5, "gpt-4.1"),
        BatchConfig::with_limits(Limits {
            max_concurrency: 1,
            ..Limits::default()
        }),
        1,
    )
    .unwrap();
    assert_eq!(batch.next_actions(0.0).len(), 1);
    assert!(batch.pause());
    batch.on_result("i0", 10.0, ok()).unwrap();
    assert!(batch.next_actions(10.0).is_empty());
    assert_eq!(batch.next_wake_ms(10.0), None);
    assert!(batch.resume());
    assert_eq!(sent_ids(&batch.next_actions(20.0)), ["i1"]);
    batch.cancel();
    assert_eq!(batch.status, BatchStatus::Cancelled);
    assert!(!batch.resume());
    batch.on_result("i1", 30.0, ok()).unwrap();
    assert!(batch.next_actions(40.0).is_empty());
    assert_eq!(batch.counts().done, 2);
    assert_eq!(batch.counts().queued, 3);
    assert_eq!(batch.retry_failed(), 0);
}

#[test]
fn progress_reports_rate_and_eta() {
    let mut batch = Batch::new(
        "b",
        items(300, "deepseek-v3.2"),
        BatchConfig::with_limits(Limits::rpm(600)),
        1,
    )
    .unwrap();
    let start = batch.progress(0.0);
    assert_eq!(start.counts.total, 300);
    assert_eq!(start.limit_rpm, Some(600.0));
    // 300 items at 10 a second (no latency is known before the first answer).
    let eta = start.eta_ms.unwrap();
    assert!((30_000.0..=31_500.0).contains(&eta), "{eta}");
    let mut now = 0.0;
    while now < 10_000.0 {
        for Action::Send { item_id, .. } in batch.next_actions(now) {
            batch
                .on_result(
                    &item_id,
                    now,
                    Outcome::Ok {
                        usage: usage(),
                        latency_ms: 300.0,
                    },
                )
                .unwrap();
        }
        now = batch.next_wake_ms(now).unwrap();
    }
    let p = batch.progress(now);
    assert!((590.0..=610.0).contains(&p.rate_rpm), "{}", p.rate_rpm);
    assert_eq!(p.sent_last_minute, p.counts.done);
    let eta = p.eta_ms.unwrap();
    assert!((19_000.0..=21_000.0).contains(&eta), "{eta}");
}

#[test]
fn the_whole_batch_round_trips_through_json() {
    let all = items(20, "gpt-4.1");
    let mut config = priced(BatchConfig::with_limits(Limits::rpm(600)), &all);
    config.budget = Some(Money::parse(Currency::Usd, "123.456789").unwrap());
    let mut batch = Batch::new("b", all, config, 9).unwrap();
    batch.next_actions(0.0);
    batch.on_result("i0", 10.0, ok()).unwrap();
    batch
        .on_result(
            "i1",
            10.0,
            Outcome::err(ApiError::ServerError { status: 500 }, 1.0),
        )
        .unwrap();
    let json = serde_json::to_string(&batch).unwrap();
    let back: Batch = serde_json::from_str(&json).unwrap();
    assert_eq!(back, batch);
    // The jitter source persists too: both continue identically.
    let (mut a, mut b) = (batch, back);
    for t in [500.0, 1_000.0, 5_000.0] {
        assert_eq!(a.next_actions(t), b.next_actions(t));
    }
}

#[test]
fn headers_tighten_the_lane() {
    let mut batch = Batch::new(
        "b",
        items(3, "gpt-4.1"),
        BatchConfig::with_limits(Limits::rpm(600)),
        1,
    )
    .unwrap();
    batch.next_actions(0.0);
    let headers = crate::domain::provider::ratelimit::RateLimitHeaders {
        limit_requests: Some(60),
        ..Default::default()
    };
    batch.observe_headers("i0", &headers, 10.0).unwrap();
    assert_eq!(
        batch.lane("relay", "gpt-4.1").unwrap().limiter.rpm_limit(),
        Some(60)
    );
}

#[test]
fn prompts_are_estimated_per_model_family_and_calibrated() {
    use crate::domain::provider::chat::ChatMessage;
    use crate::domain::provider::token_estimate::Calibration;

    let messages = [ChatMessage::user("雨夜，她站在天台边缘。".repeat(100))];
    let mut calibration = Calibration::default();
    calibration.observe("deepseek-v3.2", 1_000, 900);
    let item = BatchItem::from_messages(
        "take",
        "relay",
        "deepseek-v3.2",
        &["gpt-4.1".to_string()],
        &messages,
        500,
        &calibration,
    );
    // DeepSeek: 1,100 CJK characters × 0.6 + 6 framing = 666, calibrated × 0.9 = 599.
    assert_eq!(item.estimated_input_tokens, 599);
    // GPT-4.1 counts a token per CJK character: 1,106, uncalibrated.
    assert_eq!(item.input_estimate_for("gpt-4.1"), 1_106);
    assert_eq!(item.token_cost(), 1_099);
    // After the fallback the limiter and the budget see the new model's estimate.
    let mut batch = Batch::new("b", vec![item], unlimited(), 1).unwrap();
    let mut now = 0.0;
    for _ in 0..2 {
        batch.next_actions(now);
        batch
            .on_result(
                "take",
                now,
                Outcome::err(ApiError::ServerError { status: 500 }, 1.0),
            )
            .unwrap();
        now = batch.next_wake_ms(now).unwrap_or(now);
    }
    let switched = batch.item("take").unwrap();
    assert_eq!(switched.model, "gpt-4.1");
    assert_eq!(switched.estimated_input_tokens, 1_106);
    assert_eq!(switched.input_estimate_for("deepseek-v3.2"), 599);
}

#[test]
fn a_wait_set_before_the_clock_went_back_an_hour_is_cut_to_the_longest_legitimate_wait() {
    let all = items(1, "deepseek-v3.2");
    let mut batch = Batch::new("b", all, unlimited(), 1).unwrap();
    let hour = 3_600_000.0;
    batch.next_actions(hour);
    let overloaded = ApiError::ServerError { status: 503 };
    batch
        .on_result("i0", hour, Outcome::err(overloaded, 10.0))
        .unwrap();
    assert_eq!(state(&batch, "i0").name(), "waiting");
    // The clock is set back an hour: the item waits minutes at most, not the hour.
    let now = 10.0;
    let wake = batch.next_wake_ms(now).unwrap();
    assert!(wake <= now + 120_000.0, "{wake}");
    assert!(batch.next_actions(now).is_empty());
    assert_eq!(batch.next_actions(wake).len(), 1);
}

/// Two batches on one connection, each paced to the connection's 120 rpm by its own lanes,
/// dispatched through one gate: together they never send more than the connection's ceiling
/// (2 in any second, 120 in a minute), and the gate's concurrency holds across them.
#[test]
fn two_batches_through_one_gate_share_the_connection_ceiling() {
    let limits = Limits {
        rpm: Some(120),
        tpm: None,
        max_concurrency: 3,
    };
    let new_batch = |id: &str| {
        let items = (0..200)
            .map(|i| BatchItem::chat(format!("{id}-{i}"), "relay", "deepseek-v3.2", 100, 100))
            .collect();
        Batch::new(id, items, BatchConfig::with_limits(limits), 7).unwrap()
    };
    let mut batches = [new_batch("storyboard"), new_batch("takes")];
    let mut gate = ConnectionGate::new(limits);
    // (answer time, batch, item) of the requests in flight.
    let mut in_flight: Vec<(f64, usize, String)> = Vec::new();
    let mut sends: Vec<f64> = Vec::new();
    let mut sent_by = [0usize; 2];
    let mut now = 0.0;
    while now < 90_000.0 {
        in_flight.retain(|(at, b, id)| {
            if *at > now {
                return true;
            }
            gate.release();
            batches[*b].on_result(id, now, ok()).unwrap();
            false
        });
        for (b, batch) in batches.iter_mut().enumerate() {
            let mut turn = gate.turn(b as u64);
            for Action::Send { item_id, .. } in batch.next_actions_through(now, &mut turn) {
                // Each call takes 1.7 s, so the concurrency of 3 binds as well as the rate.
                in_flight.push((now + 1_700.0, b, item_id));
                sends.push(now);
                sent_by[b] += 1;
            }
            assert!(gate.in_flight() <= 3, "{} in flight", gate.in_flight());
        }
        assert_eq!(gate.in_flight() as usize, in_flight.len());
        now += 10.0;
    }
    for (i, &t) in sends.iter().enumerate() {
        let second = sends[i..].iter().take_while(|&&u| u < t + 1_000.0).count();
        assert!(second <= 2, "{second} sends in the second from {t} ms");
        let minute = sends[i..].iter().take_while(|&&u| u < t + 60_000.0).count();
        assert!(minute <= 120, "{minute} sends in the minute from {t} ms");
    }
    // Both runs got their turns: the one asking second is not starved.
    assert!(sent_by[0].abs_diff(sent_by[1]) <= 3, "sent {sent_by:?}");
    assert!(sent_by[0] + sent_by[1] >= 150, "sent {sent_by:?}");
    // Alone, each batch's lanes would allow 120 rpm each: the wake time honours the gate.
    let wake = batches[0].next_wake_ms_through(now, &gate.turn(0));
    let own = batches[0].next_wake_ms(now);
    assert!(wake.is_none() || own.is_none_or(|own| wake.unwrap() >= own));
}

/// Items sending one cached prefix: the first goes alone and the rest once it has answered
/// (a provider's cache is readable only after the writing response began); items outside the
/// group are not held; a group whose first request failed sends the next one alone.
#[test]
fn a_cache_group_s_first_request_goes_alone() {
    let mut items: Vec<BatchItem> = (0..4)
        .map(|i| {
            BatchItem::chat(
                format!("take-{i}"),
                "relay",
                "claude-sonnet-4.5",
                1_500,
                200,
            )
            .in_cache_group(Some(7))
        })
        .collect();
    items.push(BatchItem::chat(
        "other",
        "relay",
        "claude-sonnet-4.5",
        100,
        100,
    ));
    let mut batch = Batch::new("takes", items, unlimited(), 1).unwrap();
    assert_eq!(sent_ids(&batch.next_actions(0.0)), ["take-0", "other"]);
    // Nothing more until take-0 answers, and no timer for it either: its answer wakes the batch.
    assert!(batch.next_actions(5_000.0).is_empty());
    assert_eq!(batch.next_wake_ms(5_000.0), None);
    batch.on_result("take-0", 6_000.0, ok()).unwrap();
    assert_eq!(
        sent_ids(&batch.next_actions(6_000.0)),
        ["take-1", "take-2", "take-3"]
    );

    // A first request that fails: the next of the group still goes alone.
    let items = (0..3)
        .map(|i| BatchItem::chat(format!("t{i}"), "relay", "m", 1_500, 200).in_cache_group(Some(9)))
        .collect();
    let mut batch = Batch::new("takes", items, unlimited(), 1).unwrap();
    assert_eq!(sent_ids(&batch.next_actions(0.0)), ["t0"]);
    batch
        .on_result("t0", 100.0, Outcome::err(ApiError::ContextTooLong, 10.0))
        .unwrap();
    assert!(matches!(state(&batch, "t0"), ItemState::Failed { .. }));
    assert_eq!(sent_ids(&batch.next_actions(100.0)), ["t1"]);
}
