//! Planning a run before it starts: the chat request a route sends, the items of a batch with
//! their estimates, its quote and its configuration. The Studio's batch service and the
//! executor's single calls both plan here.

use crate::domain::cost::money::Money;
use crate::domain::cost::pricing::PriceSet;
use crate::domain::cost::profile::Profile;
use crate::domain::encoding::hash::fnv1a32;
use crate::domain::provider::chat::{
    ChatMessage, ChatRequest, JsonSchemaFormat, ResponseFormat, Role,
};
use crate::domain::provider::routing::{ResponseFormat as RouteFormat, Route};
use crate::domain::provider::token_estimate::Calibration;

use super::{quote, BatchConfig, BatchItem, Limits, Pricing, Quote, RetryConfig};

/// The chat request a route sends with `messages`: the route's model, temperature, token limit
/// and response format.
pub fn route_request(route: &Route, messages: Vec<ChatMessage>) -> ChatRequest {
    let request = ChatRequest::new(route.model.clone(), messages);
    let Some(settings) = route.chat_settings() else {
        return request;
    };
    let request = request
        .temperature(settings.temperature.as_f64())
        .max_tokens(settings.max_tokens);
    match &settings.response_format {
        RouteFormat::Text => request,
        RouteFormat::JsonObject => request.json_object(),
        RouteFormat::JsonSchema {
            name,
            schema,
            strict,
        } => request.response_format(ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: name.clone(),
                schema: schema.clone(),
                strict: *strict,
            },
        }),
    }
}

/// Per conversation, the cache group (a hash of the prefix) when its leading system message
/// is one another conversation of the run starts with too: a character bible sent again. Only those mark it for the prompt cache
/// (Anthropic's `cache_control`): a cache write costs 1.25× the input price, worth it only when
/// a later request reads it back.
fn shared_system_prefixes(conversations: &[Vec<ChatMessage>]) -> Vec<Option<u32>> {
    fn first_system(messages: &[ChatMessage]) -> Option<&str> {
        messages
            .first()
            .filter(|m| m.role == Role::System && !m.content.is_empty())
            .map(|m| m.content.as_str())
    }
    let mut uses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for conversation in conversations {
        if let Some(prefix) = first_system(conversation) {
            *uses.entry(prefix).or_default() += 1;
        }
    }
    conversations
        .iter()
        .map(|conversation| {
            first_system(conversation)
                .filter(|prefix| uses[prefix] > 1)
                .map(|prefix| fnv1a32(prefix.as_bytes()))
        })
        .collect()
}

/// What a run is planned from.
#[derive(Clone, Debug)]
pub struct RunInput<'a> {
    /// The route (model, settings, fallbacks).
    pub route: &'a Route,
    /// The connection the requests go to (the items' lane).
    pub connection_id: &'a str,
    /// One conversation per item.
    pub conversations: Vec<Vec<ChatMessage>>,
    /// The prices and profile the run is quoted and billed at.
    pub prices: &'a PriceSet,
    /// The profile (exchange rate, markup).
    pub profile: &'a Profile,
    /// The connection's limits.
    pub limits: Limits,
    /// Stop before the run could spend more than this.
    pub budget: Option<Money>,
    /// What billed answers taught the token estimate.
    pub calibration: &'a Calibration,
}

/// A run ready to start.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// Items and the requests they send.
    pub items: Vec<(BatchItem, ChatRequest)>,
    /// The quote in $ and ¥.
    pub quote: Quote,
    /// Limits, budget, the price snapshot.
    pub config: BatchConfig,
}

/// Plans a batch: one item per conversation, its input tokens estimated (calibrated) for the
/// route's model and each fallback, its output bounded by the route's `max_tokens` (1,024
/// without chat settings), quoted and priced with a snapshot of `prices`.
pub fn plan_run(input: RunInput<'_>) -> RunPlan {
    let route = input.route;
    let max_tokens = route
        .chat_settings()
        .map_or(1024, |settings| u64::from(settings.max_tokens));
    let shared = shared_system_prefixes(&input.conversations);
    let items: Vec<(BatchItem, ChatRequest)> = input
        .conversations
        .into_iter()
        .enumerate()
        .map(|(index, messages)| {
            let group = shared[index];
            let chat = route_request(route, messages).cache_system(group.is_some());
            let item = BatchItem::from_messages(
                format!("item-{index:04}"),
                input.connection_id,
                &route.model,
                &route.fallbacks,
                &chat.messages,
                max_tokens,
                input.calibration,
            )
            .in_cache_group(group);
            (item, chat)
        })
        .collect();
    let only_items: Vec<BatchItem> = items.iter().map(|(item, _)| item.clone()).collect();
    let quote = quote(&only_items, input.prices, input.profile);
    let config = BatchConfig {
        budget: input.budget,
        pricing: Some(Pricing::for_items(input.prices, input.profile, &only_items)),
        ..BatchConfig::with_limits(input.limits)
    };
    RunPlan {
        items,
        quote,
        config,
    }
}

/// Plans one call the user waits for (the Playground, the script enhancer): one item on the
/// route's model only, sent once. A failure is shown at once rather than retried behind the
/// user's back (a retry would be paid again), and no fallback model answers in its place.
pub fn plan_single(input: RunInput<'_>) -> RunPlan {
    let mut plan = plan_run(input);
    for (item, _) in &mut plan.items {
        item.fallback_models.clear();
        item.input_estimates.clear();
    }
    plan.config.retry = SINGLE_CALL_RETRY;
    plan
}

/// Plans one prepared request (the connection test's one-token probe) as a single call, like
/// [`plan_single`], at `limits`.
pub fn plan_request(request: ChatRequest, input: RunInput<'_>) -> RunPlan {
    let max_tokens = request.max_tokens.map_or(1024, u64::from);
    let item = BatchItem::from_messages(
        "item-0000",
        input.connection_id,
        &request.model,
        &[],
        &request.messages,
        max_tokens,
        input.calibration,
    );
    let items = [item.clone()];
    RunPlan {
        quote: quote(&items, input.prices, input.profile),
        config: BatchConfig {
            budget: input.budget,
            pricing: Some(Pricing::for_items(input.prices, input.profile, &items)),
            retry: SINGLE_CALL_RETRY,
            ..BatchConfig::with_limits(input.limits)
        },
        items: vec![(item, request)],
    }
}

/// A single call is sent once: not retried after a failure, nor after a rate limit (a timeout
/// is never retried by anyone: its outcome is unknown).
const SINGLE_CALL_RETRY: RetryConfig = RetryConfig {
    max_attempts: 1,
    base_ms: 1_000,
    cap_ms: 30_000,
    retry_after_cap_ms: 60_000,
    max_rate_limited: 0,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::batch::{Action, Batch, ItemState, Outcome};
    use crate::domain::cost::estimate::PriceBook;
    use crate::domain::provider::api_error::ApiError;
    use crate::domain::provider::routing::TaskType;

    fn input<'a>(book: &'a PriceBook, conversations: Vec<Vec<ChatMessage>>) -> RunInput<'a> {
        static NONE: std::sync::OnceLock<Calibration> = std::sync::OnceLock::new();
        let profile = &book.profiles[0];
        RunInput {
            route: book.routes.route(TaskType::Narrative),
            connection_id: "c1",
            conversations,
            prices: book.price_set(&profile.price_set).unwrap(),
            profile,
            limits: Limits::rpm(60),
            budget: None,
            calibration: NONE.get_or_init(Calibration::default),
        }
    }

    #[test]
    fn a_run_has_one_item_per_conversation_on_the_routes_model() {
        let book = PriceBook::defaults();
        let route = book.routes.route(TaskType::Narrative).clone();
        let plan = plan_run(input(
            &book,
            vec![
                vec![ChatMessage::user("一")],
                vec![ChatMessage::system("角色"), ChatMessage::user("二")],
            ],
        ));
        assert_eq!(plan.items.len(), 2);
        assert_eq!(plan.items[0].0.id, "item-0000");
        assert_eq!(plan.items[1].0.id, "item-0001");
        assert_eq!(plan.items[1].1.messages.len(), 2);
        for (item, request) in &plan.items {
            assert_eq!(item.model, route.model);
            assert_eq!(request.model, route.model);
            assert_eq!(item.fallback_models, route.fallbacks);
        }
        assert!(plan.config.pricing.is_some());
        assert_eq!(plan.config.retry, RetryConfig::default());
    }

    #[test]
    fn a_single_call_is_sent_once_and_fails_at_its_first_rate_limit() {
        let book = PriceBook::defaults();
        let plan = plan_single(input(&book, vec![vec![ChatMessage::user("你好")]]));
        assert!(plan.items[0].0.fallback_models.is_empty());
        let items = plan.items.into_iter().map(|(item, _)| item).collect();
        let mut batch = Batch::new("once", items, plan.config, 3).unwrap();
        let Action::Send { item_id, .. } = batch.next_actions(0.0).remove(0);
        let limited = ApiError::RateLimited {
            retry_after_ms: Some(1_000),
        };
        batch
            .on_result(&item_id, 10.0, Outcome::err(limited, 10.0))
            .unwrap();
        assert!(
            matches!(batch.items[0].state, ItemState::Failed { .. }),
            "{:?}",
            batch.items[0].state
        );
        assert!(batch.next_actions(5_000.0).is_empty());
    }

    #[test]
    fn a_single_call_is_not_retried_after_a_server_error() {
        let book = PriceBook::defaults();
        let plan = plan_single(input(&book, vec![vec![ChatMessage::user("你好")]]));
        let items = plan.items.into_iter().map(|(item, _)| item).collect();
        let mut batch = Batch::new("once", items, plan.config, 3).unwrap();
        let Action::Send { item_id, .. } = batch.next_actions(0.0).remove(0);
        batch
            .on_result(
                &item_id,
                10.0,
                Outcome::err(ApiError::ServerError { status: 502 }, 10.0),
            )
            .unwrap();
        assert!(matches!(batch.items[0].state, ItemState::Failed { .. }));
        assert_eq!(batch.counts().failed, 1);
    }

    #[test]
    fn a_prepared_request_is_one_single_call_with_its_own_token_limit() {
        use crate::domain::provider::connection::probe_request;
        let book = PriceBook::defaults();
        let request = probe_request("gpt-4.1-mini");
        let plan = plan_request(request.clone(), input(&book, Vec::new()));
        assert_eq!(plan.items.len(), 1);
        let (item, sent) = &plan.items[0];
        assert_eq!(sent, &request);
        assert_eq!(item.model, "gpt-4.1-mini");
        assert_eq!(item.max_output_tokens, 1);
        assert_eq!(plan.config.retry.max_attempts, 1);
    }

    #[test]
    fn only_a_system_prefix_sent_again_is_marked_for_the_cache() {
        let book = PriceBook::defaults();
        let take =
            |system: &str, line: &str| vec![ChatMessage::system(system), ChatMessage::user(line)];
        let plan = plan_run(input(
            &book,
            vec![
                take("bible A", "one"),
                take("bible A", "two"),
                take("bible B", "three"),
                vec![ChatMessage::user("no system")],
            ],
        ));
        let marks: Vec<bool> = plan.items.iter().map(|(_, r)| r.cache_system).collect();
        assert_eq!(marks, [true, true, false, false]);
        // The flag is ours, never a chat-completions field.
        assert!(!plan.items[0].1.to_json().contains("cache"));
    }
}
