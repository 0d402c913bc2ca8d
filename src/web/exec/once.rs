//! One call the user waits for — the Playground's prompt, the script enhancer's rewrite, the
//! connection test's one-token probe — run
//! by the same [`Executor`] as every batch: a one-item batch planned with
//! [`plan_single`](crate::domain::batch::plan_single) (sent once, no fallback), stored before
//! it is sent, paced by its connection, checked against the budget, and written to the ledger.
//! Its transport streams the reply to the caller piece by piece when asked, with the caller's
//! time limit and cancel handle.
//!
//! Once its ledger entry is stored the call is over: its batch is closed and deleted (the
//! ledger keeps the call). A tab closed while it was in flight leaves the batch stored, so the
//! next visit lists it with its outcome unknown, as any batch.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::domain::batch::{BatchStatus, RunPlan};
use crate::domain::cost::ledger::LedgerEntry;
use crate::domain::i18n::Lang;
use crate::domain::provider::api_error::ApiError;
use crate::domain::provider::chat::ChatRequest;
use crate::domain::provider::connection::{ApiKey, Connection};
use crate::web::http::{self, CallOptions};
use crate::web::idb::Db;

use super::batch::{self, BatchMeta, ExecError, Executor, SendFuture, Transport};

/// How the one call is sent.
#[derive(Clone, Debug, Default)]
pub struct OnceOptions {
    /// Stream the reply (each piece goes to the caller's `on_delta`).
    pub stream: bool,
    /// The time limit and the cancel handle.
    pub call: CallOptions,
}

/// What the call came to.
#[derive(Clone, Debug, PartialEq)]
pub struct OnceResult {
    /// Its ledger entry (stored).
    pub entry: LedgerEntry,
    /// The whole reply, when it was usable.
    pub output: Option<String>,
    /// Milliseconds to the first piece of text, when any arrived.
    pub first_token_ms: Option<f64>,
    /// What failed, when it did.
    pub error: Option<ApiError>,
    /// The model that answered, as the provider named it.
    pub answered_by: Option<String>,
}

/// Why the call did not happen.
#[derive(Clone, Debug, PartialEq)]
pub enum OnceProblem {
    /// It could not be stored (so it was not sent).
    Exec(ExecError),
    /// The engine refused to send it (the budget cannot hold it, or a price is missing).
    Refused(BatchStatus),
}

impl OnceProblem {
    /// The message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            OnceProblem::Exec(e) => e.message(lang),
            OnceProblem::Refused(status) => match status {
                BatchStatus::Stopped { reason } => reason.message(lang),
                other => other.name().to_string(),
            },
        }
    }
}

/// Where the pieces of a streamed reply go.
type DeltaSink = Rc<RefCell<dyn FnMut(&str)>>;

/// What the transport saw of the one answer, beyond what the engine keeps.
#[derive(Default)]
struct Seen {
    first_token_ms: Option<f64>,
    error: Option<ApiError>,
    answered_by: Option<String>,
}

/// Sends each request as `options` says, streaming to `on_delta`, and notes what was seen.
fn once_transport(options: OnceOptions, on_delta: DeltaSink, seen: Rc<RefCell<Seen>>) -> Transport {
    Rc::new(move |conn: &Connection, key: &ApiKey, req: &ChatRequest| {
        let (conn, key, req) = (conn.clone(), key.clone(), req.clone());
        let (options, on_delta, seen) = (options.clone(), on_delta.clone(), seen.clone());
        Box::pin(async move {
            let result = if options.stream {
                let pass = |delta: &str| (on_delta.borrow_mut())(delta);
                http::chat_stream(&conn, &key, &req, options.call, pass).await
            } else {
                http::chat(&conn, &key, &req, options.call).await
            };
            let mut seen = seen.borrow_mut();
            match &result {
                Ok(outcome) => {
                    seen.first_token_ms = outcome.first_token_ms;
                    seen.answered_by = outcome.completion.model.clone();
                }
                Err(failure) => {
                    seen.first_token_ms = failure.partial.as_ref().and_then(|p| p.first_token_ms);
                    seen.error = Some(failure.error.clone());
                }
            }
            result
        }) as SendFuture
    })
}

/// A one-shot signal: `wait` resolves once `fire` was called.
struct Done {
    fire: RefCell<Option<js_sys::Function>>,
    promise: js_sys::Promise,
}

impl Done {
    fn new() -> Rc<Done> {
        let mut fire = None;
        let promise = js_sys::Promise::new(&mut |resolve, _| fire = Some(resolve));
        Rc::new(Done {
            fire: RefCell::new(fire),
            promise,
        })
    }

    fn fire(&self) {
        if let Some(fire) = self.fire.borrow_mut().take() {
            let _ = fire.call0(&JsValue::NULL);
        }
    }

    async fn wait(&self) {
        let _ = JsFuture::from(self.promise.clone()).await;
    }
}

/// Runs `plan` (one item, see [`plan_single`](crate::domain::batch::plan_single)) on
/// `connection` to its ledger entry. `prepare` sees the executor before anything is sent (the
/// Studio registers it, so the project's budget and its other work count it); `on_delta` gets
/// each piece of a streamed reply.
#[allow(clippy::too_many_arguments)]
pub async fn run_once(
    db: Db,
    batch_id: &str,
    meta: BatchMeta,
    plan: RunPlan,
    (connection, key): (Connection, ApiKey),
    options: OnceOptions,
    on_delta: impl FnMut(&str) + 'static,
    prepare: impl FnOnce(&Executor),
) -> Result<OnceResult, OnceProblem> {
    let seen = Rc::new(RefCell::new(Seen::default()));
    let on_delta: DeltaSink = Rc::new(RefCell::new(on_delta));
    let transport = once_transport(options, on_delta, seen.clone());
    let exec = Executor::create(
        db.clone(),
        batch_id,
        meta,
        plan.items,
        plan.config,
        transport,
    )
    .await
    .map_err(OnceProblem::Exec)?;
    let done = Done::new();
    let entry = Rc::new(RefCell::new(None::<LedgerEntry>));
    {
        let (done, entry) = (done.clone(), entry.clone());
        exec.on_ledger(move |stored| {
            entry.borrow_mut().get_or_insert_with(|| stored.clone());
            done.fire();
        });
    }
    {
        // Refused before anything left (the budget): over without a ledger entry.
        let (done, watched) = (done.clone(), exec.clone());
        exec.on_change(move || {
            let refused = watched.with_batch(|b| {
                matches!(b.status, BatchStatus::Stopped { .. }) && b.counts().running == 0
            }) && watched.snapshot().calls.iter().all(Vec::is_empty);
            if refused || watched.storage_error().is_some() {
                done.fire();
            }
        });
    }
    exec.connect(connection, key);
    prepare(&exec);
    // A fresh batch id: no other tab can hold its lock.
    exec.run().await;
    done.wait().await;
    let snapshot = exec.snapshot();
    exec.close();
    let entry = entry.borrow_mut().take();
    let Some(entry) = entry else {
        if let Some(e) = exec.storage_error() {
            return Err(OnceProblem::Exec(ExecError::Storage(e)));
        }
        let _ = batch::delete(&db, batch_id).await;
        return Err(OnceProblem::Refused(snapshot.batch.status));
    };
    let _ = batch::delete(&db, batch_id).await;
    let seen = seen.borrow();
    Ok(OnceResult {
        entry,
        output: snapshot.outputs.into_iter().next().flatten(),
        first_token_ms: seen.first_token_ms,
        error: seen.error.clone(),
        answered_by: seen.answered_by.clone(),
    })
}
