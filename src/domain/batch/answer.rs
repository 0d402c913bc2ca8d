//! What one answer to a sent request means, in one call: [`Batch::on_answer`].
//!
//! The executor in `src/web/exec/` does the IO (it stores, sends and appends to the ledger);
//! everything it stores or shows about an answer is decided here: the engine's outcome (with
//! the provider's `retry-after`), the usage (billed, or estimated and flagged), the reply text
//! kept, the ledger entry (priced with the batch's price snapshot, with the fallback switch the
//! answer caused as its note) and the sample that teaches the token estimate how this model
//! counts.

use serde::{Deserialize, Serialize};

use crate::domain::cost::ledger::{CallSummary, LedgerEntry};
use crate::domain::cost::pricing::PriceSet;
use crate::domain::cost::profile::Profile;
use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::chat::{ChatMessage, Usage};
use crate::domain::provider::connection::Connection;
use crate::domain::provider::ratelimit::RateLimitHeaders;
use crate::domain::provider::token_estimate::{estimate_messages, estimate_text};

use super::{Batch, BatchEvent, ItemState, Outcome};

/// What came back for one send, as the network read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// When the request left (Unix ms): the ledger entry's time.
    pub sent_ms: f64,
    /// Milliseconds from sending to the end of the reply (or to the failure).
    pub latency_ms: f64,
    /// The rate-limit headers the browser could read.
    pub headers: RateLimitHeaders,
    /// The reply, or what failed.
    pub reply: Result<Reply, Failure>,
}

/// A usable reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// Its text.
    pub content: String,
    /// The billed usage, when the provider reported it.
    pub usage: Option<Usage>,
}

/// A failed send.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// What went wrong.
    pub error: ApiError,
    /// The usage of what arrived before a stream was cut (estimated and flagged): the provider
    /// has probably billed it.
    pub partial_usage: Option<Usage>,
}

/// Where the call went and what it was for: written on its ledger entry.
#[derive(Clone, Copy, Debug)]
pub struct CallContext<'a> {
    /// The connection it went through.
    pub connection: &'a Connection,
    /// The route's task name.
    pub task: &'a str,
    /// The project, if any.
    pub project: Option<&'a str>,
}

/// A billed prompt: our raw estimate of it and the provider's count, for
/// [`crate::domain::provider::token_estimate::Calibration::observe`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSample {
    /// The model that billed it.
    pub model: String,
    /// Our estimate of the request's prompt tokens, uncalibrated.
    pub estimated: u64,
    /// The prompt tokens billed.
    pub billed: u64,
}

/// What the executor stores and reports after an answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Answered {
    /// The item's position in the batch.
    pub index: usize,
    /// The reply text to keep with the item (only when the item is done).
    pub output: Option<String>,
    /// The call's ledger entry.
    pub entry: LedgerEntry,
    /// What the answer teaches the token estimate, when its prompt was billed.
    pub sample: Option<UsageSample>,
}

impl Batch {
    /// Applies the answer to the send of `item_id` on `model` (`messages`: what was sent) and
    /// says what to store. `None` when the batch has no such item.
    pub fn on_answer(
        &mut self,
        item_id: &str,
        model: &str,
        now_ms: f64,
        context: CallContext<'_>,
        messages: &[ChatMessage],
        answer: Answer,
    ) -> Option<Answered> {
        let index = self.items.iter().position(|i| i.id == item_id)?;
        let Answer {
            sent_ms,
            latency_ms,
            headers,
            reply,
        } = answer;
        let (outcome, usage, error, text) = match reply {
            Ok(Reply { content, usage }) => {
                let usage = usage.unwrap_or_else(|| {
                    Usage::estimated(
                        self.items[index].estimated_input_tokens,
                        estimate_text(model, &content),
                    )
                });
                let outcome = Outcome::Ok {
                    usage: usage.clone(),
                    latency_ms,
                };
                (outcome, Some(usage), None, Some(content))
            }
            Err(Failure {
                error,
                partial_usage,
            }) => {
                let outcome = Outcome::Err {
                    error: error.clone(),
                    retry_after_ms: headers.retry_after_ms_exact.or(headers.retry_after_ms),
                    latency_ms,
                };
                (outcome, partial_usage, Some(error), None)
            }
        };
        let before = self.events.len();
        // An answer for an item that is no longer running (cancelled meanwhile) still goes to
        // the ledger: it was sent, and may be billed.
        let _ = self.on_result(item_id, now_ms, outcome);
        let _ = self.observe_headers(item_id, &headers, now_ms);
        let done = matches!(self.items[index].state, ItemState::Done { .. });
        // An attempt of unknown outcome is recorded at its worst case: the provider may have
        // generated the whole reply and billed it.
        let unknown = matches!(
            self.items[index].state,
            ItemState::OutcomeUnknown { recorded: true, .. }
        );
        let usage = if unknown {
            Some(self.worst_case_usage(index, model))
        } else {
            usage
        };
        let note: Vec<String> = self
            .events_since(before)
            .iter()
            .filter(|event| {
                matches!(event, BatchEvent::FallbackSwitched { item_id: id, .. } if id == item_id)
            })
            .map(|event| event.message(Lang::En))
            .collect();
        let note = (!note.is_empty()).then(|| note.join(" "));
        let call = CallSummary {
            usage: usage.as_ref(),
            latency_ms,
            error: error.as_ref(),
            note: note.as_deref(),
            project: context.project,
            worst_case: unknown,
            ..CallSummary::new(sent_ms, context.connection, model, context.task)
        };
        let entry = self.price(&call);
        let sample = usage
            .as_ref()
            .filter(|u| error.is_none() && !u.estimated && u.prompt > 0)
            .map(|u| UsageSample {
                model: model.to_string(),
                estimated: estimate_messages(model, messages),
                billed: u.prompt,
            });
        Some(Answered {
            index,
            output: text.filter(|_| done),
            entry,
            sample,
        })
    }

    /// Records at their worst case the attempts whose outcome became unknown without an answer
    /// (the tab closed with them in flight, see [`Batch::recover_after_crash`]): one ledger
    /// entry each, flagged [`LedgerEntry::worst_case`], and the item counts it as spent from
    /// then on. Returns the items' positions and entries, for the executor to store.
    pub fn record_unknowns(&mut self, context: CallContext<'_>) -> Vec<(usize, LedgerEntry)> {
        let mut recorded = Vec::new();
        for index in 0..self.items.len() {
            let ItemState::OutcomeUnknown {
                since_ms,
                recorded: false,
                attempt,
            } = self.items[index].state
            else {
                continue;
            };
            let model = self.items[index].model.clone();
            let usage = self.worst_case_usage(index, &model);
            let error = ApiError::Cancelled;
            let note = "outcome unknown: the tab closed while the request was in flight";
            let call = CallSummary {
                usage: Some(&usage),
                error: Some(&error),
                note: Some(note),
                project: context.project,
                worst_case: true,
                ..CallSummary::new(since_ms, context.connection, &model, context.task)
            };
            let entry = self.price(&call);
            self.items[index].state = ItemState::OutcomeUnknown {
                since_ms,
                attempt,
                recorded: true,
            };
            recorded.push((index, entry));
        }
        recorded
    }

    /// The worst case of one send of item `index` on `model`: its whole prompt estimate and
    /// every `max_tokens`, flagged estimated.
    fn worst_case_usage(&self, index: usize, model: &str) -> Usage {
        let item = &self.items[index];
        Usage::estimated(item.input_estimate_for(model), item.max_output_tokens)
    }

    /// Prices a call with the batch's price snapshot (the catalog as it was when the batch was
    /// quoted); without one the entry is flagged unpriced.
    pub fn price(&self, call: &CallSummary<'_>) -> LedgerEntry {
        match &self.config.pricing {
            Some(pricing) => LedgerEntry::priced(call, &pricing.prices, &pricing.profile),
            None => {
                let profile = Profile::defaults().remove(0);
                let empty = PriceSet {
                    id: profile.price_set.clone(),
                    name: String::new(),
                    prices: Vec::new(),
                };
                LedgerEntry::priced(call, &empty, &profile)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::batch::{Action, BatchConfig, BatchItem, Limits, Pricing};
    use crate::domain::cost::ledger::OUTCOME_OK;
    use crate::domain::cost::money::{Currency, Money};
    use crate::domain::provider::connection::Preset;

    fn batch(items: usize, pricing: bool) -> Batch {
        let items: Vec<BatchItem> = (0..items)
            .map(|i| BatchItem::chat(format!("i{i}"), "relay", "deepseek-v3.2", 300, 200))
            .collect();
        let mut config = BatchConfig::with_limits(Limits::rpm(600));
        if pricing {
            let profile = Profile::defaults().remove(0);
            let prices = PriceSet::defaults()
                .into_iter()
                .find(|s| s.id == profile.price_set)
                .expect("the default profile's price set");
            config.pricing = Some(Pricing::for_items(&prices, &profile, &items));
        }
        Batch::new("b", items, config, 1).unwrap()
    }

    fn sent(batch: &mut Batch) -> String {
        let Action::Send { item_id, .. } = batch.next_actions(0.0).remove(0);
        item_id
    }

    fn context(connection: &Connection) -> CallContext<'_> {
        CallContext {
            connection,
            task: "narrative",
            project: Some("p1"),
        }
    }

    fn reply(content: &str, usage: Option<Usage>) -> Answer {
        Answer {
            sent_ms: 10.0,
            latency_ms: 250.0,
            headers: RateLimitHeaders::default(),
            reply: Ok(Reply {
                content: content.into(),
                usage,
            }),
        }
    }

    #[test]
    fn a_billed_reply_is_kept_priced_and_teaches_the_estimate() {
        let connection = Connection::from_preset("c1", Preset::OpenAi, Profile::OFFICIAL, Lang::En);
        let mut batch = batch(1, true);
        let id = sent(&mut batch);
        let worst = batch.at_risk(Currency::Usd);
        assert!(
            worst > Money::zero(Currency::Usd),
            "in flight at its worst case: {worst}"
        );
        let messages = [ChatMessage::user("你好，世界")];
        let usage = Usage {
            prompt: 290,
            completion: 150,
            total: 440,
            ..Usage::default()
        };
        let answered = batch
            .on_answer(
                &id,
                "deepseek-v3.2",
                300.0,
                context(&connection),
                &messages,
                reply("好的", Some(usage)),
            )
            .unwrap();
        assert_eq!(answered.index, 0);
        assert_eq!(answered.output.as_deref(), Some("好的"));
        assert_eq!(batch.counts().done, 1);
        let entry = &answered.entry;
        assert_eq!((entry.prompt_tokens, entry.completion_tokens), (290, 150));
        assert_eq!(entry.outcome, OUTCOME_OK);
        assert_eq!(entry.project.as_deref(), Some("p1"));
        assert_eq!(entry.task, "narrative");
        assert!(!entry.unpriced);
        assert_eq!(
            batch.at_risk(Currency::Usd),
            Money::zero(Currency::Usd),
            "billed now"
        );
        assert!(entry.cost().in_currency(Currency::Usd).micros() > 0);
        assert_eq!(
            answered.sample,
            Some(UsageSample {
                model: "deepseek-v3.2".into(),
                estimated: estimate_messages("deepseek-v3.2", &messages),
                billed: 290,
            })
        );
    }

    #[test]
    fn a_reply_without_usage_is_estimated_with_the_token_estimate_and_teaches_nothing() {
        let connection = Connection::from_preset("c1", Preset::OpenAi, Profile::OFFICIAL, Lang::En);
        let mut batch = batch(1, true);
        let id = sent(&mut batch);
        let content = "她推开雨夜的大门，全场安静。";
        let answered = batch
            .on_answer(
                &id,
                "deepseek-v3.2",
                300.0,
                context(&connection),
                &[],
                reply(content, None),
            )
            .unwrap();
        assert!(answered.entry.estimated);
        assert_eq!(answered.entry.prompt_tokens, 300, "the item's own estimate");
        assert_eq!(
            answered.entry.completion_tokens,
            estimate_text("deepseek-v3.2", content)
        );
        assert_eq!(answered.sample, None);
    }

    #[test]
    fn a_failure_keeps_no_text_goes_to_the_ledger_and_waits_for_the_providers_delay() {
        let connection = Connection::from_preset("c1", Preset::OpenAi, Profile::OFFICIAL, Lang::En);
        let mut batch = batch(1, false);
        let id = sent(&mut batch);
        let answer = Answer {
            sent_ms: 10.0,
            latency_ms: 40.0,
            headers: RateLimitHeaders {
                retry_after_ms: Some(7_000),
                ..RateLimitHeaders::default()
            },
            reply: Err(Failure {
                error: ApiError::ServerError { status: 503 },
                partial_usage: None,
            }),
        };
        let answered = batch
            .on_answer(
                &id,
                "deepseek-v3.2",
                50.0,
                context(&connection),
                &[],
                answer,
            )
            .unwrap();
        assert_eq!(answered.output, None);
        assert_eq!(answered.sample, None);
        assert_eq!(answered.entry.outcome, "server_error");
        assert!(answered.entry.unpriced, "no price snapshot: flagged");
        assert_eq!(batch.counts().queued, 1, "a 503 is retried");
        assert!(batch.next_wake_ms(50.0).unwrap() >= 7_050.0);
    }

    #[test]
    fn an_unknown_item_is_refused() {
        let connection = Connection::from_preset("c1", Preset::OpenAi, Profile::OFFICIAL, Lang::En);
        let mut batch = batch(1, false);
        assert_eq!(
            batch.on_answer(
                "nope",
                "m",
                0.0,
                context(&connection),
                &[],
                reply("x", None)
            ),
            None
        );
    }
}
