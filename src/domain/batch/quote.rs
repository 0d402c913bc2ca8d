//! The quote before a batch starts and its reconciliation with the ledger when it ends.
//!
//! A [`Quote`] adds up, for every item, its estimated prompt tokens (per model family and
//! calibrated, see [`super::BatchItem::from_messages`]), its `max_tokens`, its per-request price
//! and, for clips, its per-second or per-clip price. That is the **worst case**: the batch can
//! cost no more unless a fallback switches models (the switch states its cost difference) or
//! the prompt estimate is low. The **expected** cost uses each item's expected output instead of
//! `max_tokens` when history knows it ([`average_completion_tokens`]).
//!
//! [`reconcile`] compares the quote with what the ledger recorded for the batch: the prompt
//! estimate's error against billed input tokens, and the quoted against the billed cost.
//!
//! ```
//! use duanju_studio::domain::batch::{quote, BatchItem};
//! use duanju_studio::domain::cost::pricing::PriceSet;
//! use duanju_studio::domain::cost::profile::Profile;
//!
//! let items: Vec<BatchItem> = (0..10)
//!     .map(|i| BatchItem::chat(format!("take-{i}"), "relay", "gpt-4.1", 1_000, 500))
//!     .collect();
//! let official = &Profile::defaults()[1];
//! let quote = quote(&items, &PriceSet::list(), official);
//! // 10 × (1,000 × $2/MTok + 500 × $8/MTok) = $0.06, ¥0.438 at ¥7.3.
//! assert_eq!(quote.worst_case.usd.micros(), 60_000);
//! assert_eq!(quote.worst_case.cny.micros(), 438_000);
//! ```

use serde::{Deserialize, Serialize};

use super::item::BatchItem;
use crate::domain::cost::ledger::{LedgerEntry, LedgerTotal};
use crate::domain::cost::money::{group_thousands, RoundedPercent};
use crate::domain::cost::pricing::{PriceSet, Usage as PricedUsage};
use crate::domain::cost::profile::{Cost, Profile};
use crate::domain::i18n::Lang;
use crate::domain::provider::chat::Usage;

/// The prices a batch was started with: the price set's entries for the batch's models and the
/// profile. Kept inside the batch so that its costs, budget checks and fallback differences do
/// not change when the catalog is edited mid-batch (as the ledger prices each call at the time
/// it was made).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    /// The entries of the batch's models (and their fallbacks).
    pub prices: PriceSet,
    /// The profile: exchange rate and markup.
    pub profile: Profile,
}

impl Pricing {
    /// A snapshot of `prices` for the models of `items` (fallbacks included) under `profile`.
    pub fn for_items(prices: &PriceSet, profile: &Profile, items: &[BatchItem]) -> Pricing {
        let mut kept = PriceSet {
            id: prices.id.clone(),
            name: prices.name.clone(),
            prices: Vec::new(),
        };
        for model in items
            .iter()
            .flat_map(|item| std::iter::once(&item.model).chain(&item.fallback_models))
        {
            if let Some(price) = prices.get(model) {
                if !kept.prices.iter().any(|p| p.model == price.model) {
                    kept.prices.push(price.clone());
                }
            }
        }
        Pricing {
            prices: kept,
            profile: profile.clone(),
        }
    }

    /// What `usage` costs on `model`; `None` when the model, or a price the usage needs, is
    /// missing.
    pub fn cost(&self, model: &str, usage: &PricedUsage) -> Option<Cost> {
        price_of(&self.prices, &self.profile, model, usage)
    }

    /// What a call's reported usage costs (cached prompt tokens at the cached price, as the
    /// ledger bills them); zero when the model is not priced.
    pub fn usage_cost(&self, model: &str, usage: &Usage) -> Cost {
        let priced = PricedUsage {
            input_tokens: usage.prompt,
            cached_input_tokens: usage.cached,
            cache_write_tokens: usage.cache_write,
            output_tokens: usage.completion,
            requests: 1,
            ..PricedUsage::default()
        };
        self.prices.get(model).map_or(Cost::ZERO, |price| {
            self.profile.cost_of(price.cost_of(&priced).0)
        })
    }

    /// The most one send of `item` can cost on `model`: its prompt estimate for that model, its
    /// full `max_tokens`, the per-request price and its clip; `None` when unpriced.
    pub fn worst_case(&self, item: &BatchItem, model: &str) -> Option<Cost> {
        self.cost(model, &worst_case_usage(item, model))
    }
}

/// The usage of one send of `item` on `model` at its worst: every `max_tokens` generated.
fn worst_case_usage(item: &BatchItem, model: &str) -> PricedUsage {
    item_usage(item, model, item.max_output_tokens)
}

fn item_usage(item: &BatchItem, model: &str, output_tokens: u64) -> PricedUsage {
    let (clips, seconds_per_clip, resolution) = item.clip.map_or((0, 0, Default::default()), |c| {
        (1, u64::from(c.seconds), c.resolution)
    });
    PricedUsage {
        input_tokens: item.input_estimate_for(model),
        output_tokens,
        requests: 1,
        clips,
        seconds_per_clip,
        resolution,
        ..PricedUsage::default()
    }
}

fn price_of(
    prices: &PriceSet,
    profile: &Profile,
    model: &str,
    usage: &PricedUsage,
) -> Option<Cost> {
    let (amount, missing) = prices.get(model)?.cost_of(usage);
    missing.is_empty().then(|| profile.cost_of(amount))
}

/// The quote for one model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuoteLine {
    /// The model.
    pub model: String,
    /// Requests on it.
    pub requests: u64,
    /// Estimated prompt tokens.
    pub input_tokens: u64,
    /// The sum of `max_tokens`.
    pub max_output_tokens: u64,
    /// The worst case; zero when unpriced.
    pub worst_case: Cost,
    /// The expected cost; zero when unpriced.
    pub expected: Cost,
    /// True when the catalog lacks a price this model's requests need.
    pub unpriced: bool,
}

/// What a batch will cost, before it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quote {
    /// Requests (one per item; retries are not foreseen).
    pub requests: u64,
    /// Estimated prompt tokens.
    pub input_tokens: u64,
    /// The sum of `max_tokens`.
    pub max_output_tokens: u64,
    /// The output tokens the expected cost assumes.
    pub expected_output_tokens: u64,
    /// Seconds of video.
    pub clip_seconds: u64,
    /// The most the batch can cost (see the module docs).
    pub worst_case: Cost,
    /// What it is expected to cost.
    pub expected: Cost,
    /// Per model, in order of first appearance.
    pub by_model: Vec<QuoteLine>,
    /// Models the catalog cannot (fully) price: their part counts as zero above.
    pub unpriced_models: Vec<String>,
}

/// Quotes `items` at `prices` under `profile`.
pub fn quote(items: &[BatchItem], prices: &PriceSet, profile: &Profile) -> Quote {
    let mut by_model: Vec<QuoteLine> = Vec::new();
    let mut quote = Quote {
        requests: 0,
        input_tokens: 0,
        max_output_tokens: 0,
        expected_output_tokens: 0,
        clip_seconds: 0,
        worst_case: Cost::ZERO,
        expected: Cost::ZERO,
        by_model: Vec::new(),
        unpriced_models: Vec::new(),
    };
    for item in items {
        let model = item.model.as_str();
        let expected_output = item
            .expected_output_tokens
            .unwrap_or(item.max_output_tokens)
            .min(item.max_output_tokens);
        let worst = price_of(prices, profile, model, &worst_case_usage(item, model));
        let expected = price_of(
            prices,
            profile,
            model,
            &item_usage(item, model, expected_output),
        );
        let index = match by_model.iter().position(|line| line.model == model) {
            Some(index) => index,
            None => {
                by_model.push(QuoteLine {
                    model: model.to_string(),
                    requests: 0,
                    input_tokens: 0,
                    max_output_tokens: 0,
                    worst_case: Cost::ZERO,
                    expected: Cost::ZERO,
                    unpriced: false,
                });
                by_model.len() - 1
            }
        };
        let line = &mut by_model[index];
        line.requests += 1;
        line.input_tokens += item.estimated_input_tokens;
        line.max_output_tokens += item.max_output_tokens;
        line.worst_case += worst.unwrap_or(Cost::ZERO);
        line.expected += expected.unwrap_or(Cost::ZERO);
        line.unpriced |= worst.is_none();

        quote.requests += 1;
        quote.input_tokens += item.estimated_input_tokens;
        quote.max_output_tokens += item.max_output_tokens;
        quote.expected_output_tokens += expected_output;
        quote.clip_seconds += item.clip.map_or(0, |c| u64::from(c.seconds));
    }
    quote.worst_case = by_model.iter().map(|line| line.worst_case).sum();
    quote.expected = by_model.iter().map(|line| line.expected).sum();
    quote.unpriced_models = by_model
        .iter()
        .filter(|line| line.unpriced)
        .map(|line| line.model.clone())
        .collect();
    quote.by_model = by_model;
    quote
}

/// The mean completion tokens of `model`'s successful, billed (not estimated) calls in the
/// ledger: a good [`BatchItem::expected_output_tokens`] for the next batch on that model.
pub fn average_completion_tokens(entries: &[LedgerEntry], model: &str) -> Option<u64> {
    let (sum, count) = entries
        .iter()
        .filter(|e| e.model == model && e.is_ok() && !e.estimated)
        .fold((0u64, 0u64), |(sum, count), e| {
            (sum + e.completion_tokens, count + 1)
        });
    (count > 0).then(|| (sum + count / 2) / count)
}

/// A finished batch's quote against what was billed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// Requests quoted.
    pub quoted_requests: u64,
    /// Calls the ledger recorded (retries and failures included).
    pub billed_calls: u64,
    /// Prompt tokens the quote estimated.
    pub quoted_input_tokens: u64,
    /// Prompt tokens billed.
    pub billed_input_tokens: u64,
    /// The prompt estimate's error, `(quoted − billed) / billed`; `None` when nothing was
    /// billed.
    pub error_percent: Option<RoundedPercent>,
    /// The expected cost quoted.
    pub quoted_cost: Cost,
    /// The worst case quoted.
    pub worst_case: Cost,
    /// The cost billed.
    pub billed_cost: Cost,
    /// `(quoted − billed) / billed` for the cost in dollars.
    pub cost_error_percent: Option<RoundedPercent>,
    /// True when the bill stayed within the worst case.
    pub within_worst_case: bool,
}

/// Reconciles `quote` with `billed`, the ledger's total over the batch's calls
/// ([`crate::domain::cost::ledger::grand_total`] of its entries).
pub fn reconcile(quote: &Quote, billed: &LedgerTotal) -> Reconciliation {
    let billed_cost = billed.cost();
    Reconciliation {
        quoted_requests: quote.requests,
        billed_calls: billed.calls,
        quoted_input_tokens: quote.input_tokens,
        billed_input_tokens: billed.prompt,
        error_percent: RoundedPercent::of(
            i128::from(quote.input_tokens) - i128::from(billed.prompt),
            i128::from(billed.prompt),
        ),
        quoted_cost: quote.expected,
        worst_case: quote.worst_case,
        billed_cost,
        cost_error_percent: RoundedPercent::of(
            quote.expected.usd.units() - billed_cost.usd.units(),
            billed_cost.usd.units(),
        ),
        within_worst_case: billed_cost.usd <= quote.worst_case.usd,
    }
}

impl Reconciliation {
    /// One line for the batch's note: the prompt estimate's error and the costs.
    pub fn summary(&self, lang: Lang) -> String {
        let error = self.error_percent.map_or_else(|| "—".to_string(), signed);
        let quoted = group_thousands(&self.quoted_input_tokens.to_string());
        let billed = group_thousands(&self.billed_input_tokens.to_string());
        let (q, b) = (self.quoted_cost, self.billed_cost);
        match lang {
            Lang::ZhCn => format!(
                "输入 token 估算误差 {error}（估算 {quoted}，实际计费 {billed}）；报价 {} / {}，实际 {} / {}。",
                q.usd, q.cny, b.usd, b.cny
            ),
            Lang::En => format!(
                "Input-token estimate error {error} (quoted {quoted}, billed {billed}); quoted {} / {}, billed {} / {}.",
                q.usd, q.cny, b.usd, b.cny
            ),
        }
    }
}

/// `+4.2%` or `-3.0%`.
fn signed(percent: RoundedPercent) -> String {
    if percent.tenths > 0 {
        format!("+{percent}")
    } else {
        percent.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::ledger::{grand_total, CallSummary};
    use crate::domain::cost::money::{Micros, Money};
    use crate::domain::cost::pricing::{ModelPrice, Resolution, VideoPrice, VideoUnit};
    use crate::domain::provider::connection::{Connection, Preset};

    use super::super::item::ClipSpec;

    fn relay() -> Profile {
        Profile::defaults().remove(0)
    }

    #[test]
    fn worst_case_and_expected() {
        // DeepSeek at list prices: $0.28 in, $0.42 out per MTok.
        let mut items: Vec<BatchItem> = (0..100)
            .map(|i| BatchItem::chat(format!("i{i}"), "c", "deepseek-v3.2", 2_000, 1_000))
            .collect();
        for item in &mut items {
            item.expected_output_tokens = Some(400);
        }
        let q = quote(&items, &PriceSet::list(), &relay());
        assert_eq!(q.requests, 100);
        assert_eq!(q.input_tokens, 200_000);
        assert_eq!(q.max_output_tokens, 100_000);
        assert_eq!(q.expected_output_tokens, 40_000);
        // 200,000 × 0.28 + 100,000 × 0.42 = $0.056 + $0.042 = $0.098 (¥1 = $1 on the relay).
        assert_eq!(q.worst_case.usd.micros(), 98_000);
        assert_eq!(q.worst_case.cny.micros(), 98_000);
        // 200,000 × 0.28 + 40,000 × 0.42 = $0.0728.
        assert_eq!(q.expected.usd.micros(), 72_800);
        assert!(q.unpriced_models.is_empty());
    }

    #[test]
    fn per_request_and_per_second_prices_and_unpriced_models() {
        let mut prices = PriceSet::list();
        let mut relay_gpt =
            ModelPrice::per_token("gpt-relay", "relay", Micros(1_000_000), Micros(2_000_000));
        relay_gpt.per_request = Some(Micros(1_000)); // $0.001 a request
        prices.prices.push(relay_gpt);
        let mut clip = BatchItem::chat("clip", "c", "video-gen-2.1", 0, 0);
        clip.clip = Some(ClipSpec {
            seconds: 5,
            resolution: Resolution::P1080,
        });
        let items = vec![
            BatchItem::chat("a", "c", "gpt-relay", 1_000, 1_000),
            clip,
            BatchItem::chat("b", "c", "mystery-model", 1_000, 1_000),
        ];
        let q = quote(&items, &prices, &relay());
        // $0.001 + $0.002 + $0.001 per request, and 5 s × $0.05.
        assert_eq!(q.by_model[0].worst_case.usd.micros(), 4_000);
        assert_eq!(q.by_model[1].worst_case.usd.micros(), 250_000);
        assert_eq!(q.worst_case.usd.micros(), 254_000);
        assert_eq!(q.clip_seconds, 5);
        assert_eq!(q.unpriced_models, vec!["mystery-model".to_string()]);
        let _ = VideoPrice::flat(VideoUnit::PerSecond, Micros(0));
    }

    #[test]
    fn reconciliation_against_the_ledger() {
        let items: Vec<BatchItem> = (0..4)
            .map(|i| BatchItem::chat(format!("i{i}"), "c", "gpt-4.1", 1_050, 500))
            .collect();
        let official = Profile::defaults().remove(1);
        let q = quote(&items, &PriceSet::list(), &official);
        let connection = Connection::from_preset("c", Preset::OpenAi, Profile::OFFICIAL, Lang::En);
        let usage = Usage {
            prompt: 1_000,
            completion: 300,
            total: 1_300,
            ..Usage::default()
        };
        let entries: Vec<LedgerEntry> = (0..4)
            .map(|_| {
                let call = CallSummary {
                    usage: Some(&usage),
                    ..CallSummary::new(0.0, &connection, "gpt-4.1", "dialogue_emotion")
                };
                LedgerEntry::priced(&call, &PriceSet::list(), &official)
            })
            .collect();
        let r = reconcile(&q, &grand_total(&entries));
        assert_eq!(r.quoted_input_tokens, 4_200);
        assert_eq!(r.billed_input_tokens, 4_000);
        // (4,200 − 4,000) / 4,000 = +5.0 %.
        assert_eq!(r.error_percent.unwrap().tenths, 50);
        // Billed 4 × (1,000 × $2 + 300 × $8) / 1e6 = $0.0176 ≤ worst $0.0328.
        assert_eq!(
            r.billed_cost.usd,
            Money::parse(Default::default(), "0.0176").unwrap()
        );
        assert!(r.within_worst_case);
        assert!(
            r.summary(Lang::En).contains("+5.0%"),
            "{}",
            r.summary(Lang::En)
        );
        assert!(r.summary(Lang::ZhCn).contains("估算误差 +5.0%"));
        assert_eq!(average_completion_tokens(&entries, "gpt-4.1"), Some(300));
        assert_eq!(average_completion_tokens(&entries, "deepseek-v3.2"), None);
    }

    #[test]
    fn pricing_snapshot_keeps_only_the_batch_models() {
        let items =
            vec![BatchItem::chat("a", "c", "deepseek-v3.2", 10, 10).with_fallbacks(&["gpt-4.1"])];
        let pricing = Pricing::for_items(&PriceSet::list(), &relay(), &items);
        let models: Vec<&str> = pricing
            .prices
            .prices
            .iter()
            .map(|p| p.model.as_str())
            .collect();
        assert_eq!(models, ["deepseek-v3.2", "gpt-4.1"]);
        assert!(pricing.worst_case(&items[0], "gpt-4.1").is_some());
        assert!(pricing.worst_case(&items[0], "unknown").is_none());
    }
}
