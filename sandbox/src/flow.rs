//! The request flow that `POST /v1/chat/completions` ([`crate::chat`]) and
//! `POST /v1/messages` ([`crate::messages`]) share: the key check, admission
//! (the rate limiter and the fault draw), the pre-generation faults, the
//! bill, the latency, and the reply or the fault that breaks it. Each API
//! supplies its own wire shapes through [`Api`].

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use crate::billing::BillRecord;
use crate::chat::{generate, half_json, html_page, no_response, Ending, RELAY_ERROR_BODY};
use crate::config::{Fault, SandboxConfig};
use crate::limits::{Decision, LimitSnapshot};
use crate::rng::fnv1a;
use crate::state::{AppState, Shared};
use crate::stats::TokenUsage;

/// The events of a scripted body, each with the completion tokens it carries.
pub(crate) type Events = Vec<(Bytes, u64)>;

/// An API's error type, as far as the shared flow needs it.
pub(crate) trait ProviderError: IntoResponse + Sized {
    /// The 429 of the sandbox's own limiter, `retry_after_ms` from now.
    fn limited(retry_after_ms: u64) -> Self;
    /// Attaches the rate-limit buckets.
    fn with_limits(self, limits: LimitSnapshot) -> Self;
}

/// What every admitted request carries, whatever its API.
pub(crate) struct Admitted {
    /// The state, for the bill.
    pub state: AppState,
    /// The key that sent the request.
    pub key: String,
    /// The configuration in force when it was admitted.
    pub config: SandboxConfig,
    /// The model id.
    pub model: String,
    /// Whether the reply is streamed.
    pub stream: bool,
    /// The request's usage.
    pub usage: TokenUsage,
    /// The hash of the request body (duplicates are counted by it).
    pub body_hash: u64,
    /// The rate-limit buckets after the request.
    pub limits: LimitSnapshot,
    /// The fault drawn or forced, if any.
    pub fault: Option<Fault>,
}

/// One API's side of the flow.
pub(crate) trait Api: Sized + Send + Sync + 'static {
    /// The API's error.
    type Error: ProviderError;
    /// The `content-type` of a streamed reply.
    const STREAM_CONTENT_TYPE: &'static str;

    /// The shared part of the answer.
    fn admitted(&self) -> &Admitted;
    /// The error of a fault that the provider itself answers before
    /// generation (not a gateway's or a relay's).
    fn provider_fault(&self, fault: Fault) -> Self::Error;
    /// The error that replaces a non-streamed reply under `stream_error_event`.
    fn generation_error() -> Self::Error;
    /// The header that carries the request id.
    const REQUEST_ID_HEADER: &'static str;
    /// The request id, sent in [`Self::REQUEST_ID_HEADER`].
    fn request_id(&self) -> String;
    /// Adds the API's rate-limit headers.
    fn limit_headers(&self, headers: &mut HeaderMap);
    /// The whole reply as JSON.
    fn body_json(&self) -> String;
    /// The SSE events of the stream, each with the completion tokens it
    /// carries, and how the stream ends (the stream faults included).
    fn stream_script(&self) -> (Events, Ending);
}

/// Adds the bucket state to an error found before the limiter ran.
pub(crate) fn peek<E: ProviderError>(state: &AppState, key: &str, error: E) -> E {
    let limits = state.lock().limiter.peek(key, Instant::now());
    error.with_limits(limits)
}

/// What admission decided.
pub(crate) struct Admission {
    /// The rate-limit buckets after the request.
    pub limits: LimitSnapshot,
    /// The configuration in force.
    pub config: SandboxConfig,
    /// The fault forced by a directive, else the one drawn.
    pub fault: Option<Fault>,
    /// The delay before the first byte.
    pub delay_ms: u64,
}

impl Admission {
    /// The shared part of the answer, and the delay before its first byte.
    pub fn into_admitted(
        self,
        state: &AppState,
        key: &str,
        model: &str,
        stream: bool,
        usage: TokenUsage,
        body: &Bytes,
    ) -> (Admitted, u64) {
        let admitted = Admitted {
            state: state.clone(),
            key: key.to_owned(),
            config: self.config,
            model: model.to_owned(),
            stream,
            usage,
            body_hash: fnv1a(body),
            limits: self.limits,
            fault: self.fault,
        };
        (admitted, self.delay_ms)
    }
}

/// Charges the rate limiter `token_cost` (a 429 when it refuses) and draws
/// the faults (`forced_fault` wins), under one lock; `record` then runs under
/// the same lock, told the time now and, when the request reaches generation
/// (the prompt caches remember only those), when its response begins (what it
/// writes to a cache is readable from then), to update the caches and
/// counters, and what it returns comes back with the admission.
pub(crate) fn admit_locked<E: ProviderError, T>(
    state: &AppState,
    key: &str,
    token_cost: u64,
    forced_fault: Option<Fault>,
    record: impl FnOnce(&mut Shared, Instant, Option<Instant>) -> T,
) -> Result<(Admission, T), E> {
    let mut shared = state.lock();
    let limits = match shared.limiter.check(key, token_cost, Instant::now()) {
        Decision::Allowed(limits) => limits,
        Decision::Limited {
            retry_after_ms,
            snapshot,
        } => return Err(E::limited(retry_after_ms).with_limits(snapshot)),
    };
    let config = shared.config.clone();
    // The draw happens even when a directive forces the fault, so the
    // requests after it see the same sequence.
    let plan = config.draw_faults(&mut shared.fault_rng);
    let fault = forced_fault.or(plan.fault);
    let generates = fault.is_none_or(|fault| !fault.before_generation());
    let delay_ms = plan.delay_ms(&config);
    let now = Instant::now();
    let begins = generates.then(|| now + Duration::from_millis(delay_ms));
    let recorded = record(&mut shared, now, begins);
    let admission = Admission {
        limits,
        delay_ms,
        config,
        fault,
    };
    Ok((admission, recorded))
}

/// Checks a request's headers and returns the key.
pub(crate) type Authorize<E> = fn(&AppState, &HeaderMap) -> Result<String, E>;
/// Validates a request and admits it (see [`admit_locked`]); returns the
/// prepared answer and the delay before the first byte.
pub(crate) type Admit<A, E> = fn(&AppState, &str, &Bytes) -> Result<(A, u64), E>;

/// The whole flow of one request: the key check (`authorize`) and admission
/// (`admit`); then either a pre-generation fault, answered after the drawn
/// latency and never billed, or the start of generation (the bill opens, see
/// [`crate::billing`]), the latency, and the reply or its fault.
pub(crate) async fn handle<A: Api>(
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    authorize: Authorize<A::Error>,
    admit: Admit<A, A::Error>,
) -> Response {
    let key = match authorize(&state, &headers) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let (answer, delay_ms) = match admit(&state, &key, &body) {
        Ok(admitted) => admitted,
        Err(error) => return error.into_response(),
    };
    let delay = Duration::from_millis(delay_ms);
    if let Some(response) = pre_generation_error(&answer) {
        tokio::time::sleep(delay).await;
        return response;
    }
    let bill = open_bill(answer.admitted());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    respond(answer, bill).await
}

/// The response of a fault that answers before generation, if the drawn
/// fault is one.
fn pre_generation_error<A: Api>(answer: &A) -> Option<Response> {
    let admitted = answer.admitted();
    let fault = admitted.fault.filter(|fault| fault.before_generation())?;
    Some(match fault {
        // What a gateway or relay in front of the provider answers: none
        // of the provider's headers.
        Fault::BadGatewayHtml => html_page(StatusCode::BAD_GATEWAY),
        Fault::GatewayTimeoutHtml => html_page(StatusCode::GATEWAY_TIMEOUT),
        Fault::RelayError200 => {
            let json = [(header::CONTENT_TYPE, "application/json")];
            (StatusCode::OK, json, RELAY_ERROR_BODY).into_response()
        }
        fault => answer
            .provider_fault(fault)
            .with_limits(admitted.limits)
            .into_response(),
    })
}

/// Opens the bill: generation starts now. A non-streamed reply is generated
/// whole whatever happens next, so all its tokens count at once.
fn open_bill(admitted: &Admitted) -> Arc<BillRecord> {
    let generated = if admitted.stream {
        0
    } else {
        admitted.usage.completion_tokens
    };
    BillRecord::open(
        &admitted.state,
        &admitted.model,
        &admitted.key,
        admitted.usage,
        admitted.body_hash,
        admitted.fault.is_some(),
        generated,
    )
}

/// A stream's `events` and how it ends under the drawn `fault`: the
/// mid-stream faults keep what `half` keeps of them (`stream_error_event`
/// then adds `error_event`, and `stall_mid_stream` hangs for `hang_ms`);
/// without one, `finish` completes them.
pub(crate) fn stream_ending(
    events: Events,
    fault: Option<Fault>,
    hang_ms: u64,
    half: fn(Events) -> Events,
    error_event: Bytes,
    finish: impl FnOnce(Events) -> Events,
) -> (Events, Ending) {
    match fault {
        Some(Fault::StreamCut) => (half(events), Ending::Finish),
        Some(Fault::ResetMidStream) => (half(events), Ending::Abort),
        Some(Fault::StallMidStream) => (
            half(events),
            Ending::StallThenAbort(Duration::from_millis(hang_ms)),
        ),
        Some(Fault::StreamErrorEvent) => {
            let mut events = half(events);
            events.push((error_event, 0));
            (events, Ending::Finish)
        }
        _ => (finish(events), Ending::Finish),
    }
}

/// The response headers: `content_type`, the request id and the limits.
fn headers<A: Api>(answer: &A, content_type: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let request_id = HeaderValue::from_str(&answer.request_id()).expect("hex");
    headers.insert(A::REQUEST_ID_HEADER, request_id);
    answer.limit_headers(&mut headers);
    headers
}

/// The response once generation started (never a pre-generation fault).
async fn respond<A: Api>(answer: A, bill: Arc<BillRecord>) -> Response {
    let admitted = answer.admitted();
    let hang = Duration::from_millis(admitted.config.hang_ms);
    if admitted.fault == Some(Fault::TimeoutAfterGeneration) {
        if admitted.stream {
            bill.generated(admitted.usage.completion_tokens);
        }
        tokio::time::sleep(hang).await;
        return no_response();
    }
    if admitted.stream {
        let mut headers = headers(&answer, A::STREAM_CONTENT_TYPE);
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        let (events, ending) = answer.stream_script();
        let delay = Duration::from_millis(admitted.config.stream_chunk_delay_ms);
        let body = generate(events, ending, delay, bill);
        return (StatusCode::OK, headers, body).into_response();
    }
    let headers = headers(&answer, "application/json");
    let body = answer.body_json();
    let scripted = |events: Vec<(Bytes, u64)>, ending| {
        let body = generate(events, ending, Duration::ZERO, Arc::clone(&bill));
        (StatusCode::OK, headers.clone(), body).into_response()
    };
    match admitted.fault {
        // Malformed JSON (and a cut stream, when not streaming): the body
        // stops halfway through.
        Some(Fault::MalformedJson | Fault::StreamCut) => {
            (StatusCode::OK, headers.clone(), half_json(body)).into_response()
        }
        Some(Fault::ResetMidStream) => {
            scripted(vec![(Bytes::from(half_json(body)), 0)], Ending::Abort)
        }
        Some(Fault::StallMidStream) => scripted(Vec::new(), Ending::StallThenAbort(hang)),
        Some(Fault::BodyDropped) => scripted(Vec::new(), Ending::Abort),
        Some(Fault::StreamErrorEvent) => A::generation_error()
            .with_limits(admitted.limits)
            .into_response(),
        _ => {
            bill.delivered();
            (StatusCode::OK, headers.clone(), body).into_response()
        }
    }
}
