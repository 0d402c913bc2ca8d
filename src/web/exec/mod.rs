//! The executor: the one way a paid call leaves the app.
//!
//! Every chat call — a batch of prompts, a pipeline stage's run, the Playground's, the script
//! enhancer's and the connection test's single call — is an item of a
//! [`Batch`](crate::domain::batch::Batch) run by an [`Executor`]; every video job is run by a
//! [`jobs::JobRunner`]. For chat:
//!
//! 1. **stored before send**: the item is written as running (IndexedDB `batch_items`) and the
//!    write awaited before `fetch` starts;
//! 2. **the connection's limits**: the engine's lanes pace sends at the connection's rpm/tpm and
//!    concurrency, and every request also passes the connection's page-wide [`gate`], so runs
//!    and calls on one connection at once (a storyboard and a clips run) share one ceiling;
//! 3. **the budget**: before each dispatch the engine checks the item's worst case against the
//!    batch's budget and what the project's budget leaves it (read again each time, so work of
//!    the same project running elsewhere in the page counts);
//! 4. **the answer**: [`Batch::on_answer`](crate::domain::batch::Batch::on_answer) (pure) says
//!    what it means — outcome, usage, reply kept, the priced ledger entry and its note, the
//!    calibration sample; the executor stores the item and appends the entry to the ledger;
//! 5. **outcome unknown**: an attempt the provider may have generated and billed — in flight
//!    when the tab closed, or ended by a timeout, a connection lost after the headers, a cut,
//!    stalled or broken stream, an unreadable reply — is never resent without the user's
//!    consent, and counts at its worst case in the budget and the ledger (flagged
//!    `worst_case`); automatic retries stay only where nothing was generated (no response, 429,
//!    5xx or 408 before any byte of a reply);
//! 6. **one runner across tabs**: a Web Lock per batch, or an IndexedDB lease with a heartbeat
//!    where the browser has no Web Locks ([`lock`]); other tabs watch its pulses.
//!
//! | module | what |
//! |---|---|
//! | [`batch`] | [`Executor`]: storage, lock, pump, send, answer, timers |
//! | [`gate`] | one [`gate::SharedGate`] per connection in the page: every request takes a permit before it leaves |
//! | [`jobs`] | the job kinds: video clips submitted, polled, downloaded and stored, the connection's [`jobs::concurrency`] at a time |
//! | [`lock`] | one runner per batch across tabs: the Web Lock, or the IndexedDB lease without it |
//! | [`once`] | one interactive call (streamed or whole) as a one-item batch, with its own transport |
//!
//! A test (`tests/domain_purity.rs`) fails if a module under `src/ui` or `src/web` outside
//! this folder calls the HTTP client's paid calls.

pub mod batch;
pub mod gate;
pub mod jobs;
pub mod lock;
pub mod once;

pub use batch::{
    delete, http_transport, item_key, read_stored, unfinished, BatchMeta, BatchPulse, ExecError,
    Executor, SendFuture, Snapshot, StoredBatch, StoredItem, Transport,
};

use crate::domain::provider::token_estimate::Calibration;
use crate::web::idb;

/// The `kv` record of the token-estimate calibration ([`Calibration`]), learned from billed
/// answers ([`Executor::on_usage`]) and applied to every quote.
const CALIBRATION_KEY: &str = "token_calibration";

/// The stored calibration, if any (a damaged record reads as none).
pub async fn load_calibration() -> Option<Calibration> {
    let db = idb::shared().await.ok()?;
    db.get::<Calibration>(idb::KV, CALIBRATION_KEY).await.ok()?
}

/// Stores `calibration` (in the background; a failed write keeps the previous one).
pub fn save_calibration(calibration: Calibration) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(db) = idb::shared().await {
            let _ = db.put(idb::KV, CALIBRATION_KEY, &calibration).await;
        }
    });
}
