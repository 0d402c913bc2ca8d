//! The batch executor against a real IndexedDB, with a fake transport standing in for `fetch`
//! so each send can look at what was stored at the moment it left. Each test uses its own
//! database.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::support::sleep;
use duanju_studio::domain::batch::{BatchConfig, BatchItem, ItemState, Limits};
use duanju_studio::domain::cost::ledger::LedgerEntry;
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::provider::chat::{ChatMessage, ChatRequest, Completion, Usage};
use duanju_studio::domain::provider::connection::{ApiKey, Connection, Preset, SANDBOX_KEY};
use duanju_studio::web::exec::{self as batch_exec, BatchMeta, Executor, SendFuture, Transport};
use duanju_studio::web::http::CallOutcome;
use duanju_studio::web::idb::{Db, LEDGER};
use duanju_studio::web::tabs;
use wasm_bindgen_test::*;

fn connection() -> Connection {
    Connection::from_preset("sandbox", Preset::LocalSandbox, "relay", Lang::En)
}

fn meta() -> BatchMeta {
    BatchMeta {
        connection_id: "sandbox".into(),
        task: "dialogue".into(),
        project: None,
        label: "test".into(),
        purpose: None,
        created_ms: tabs::now_ms(),
    }
}

/// `n` items `i0…`, whose prompts are `p0…`.
fn items(n: usize) -> Vec<(BatchItem, ChatRequest)> {
    (0..n)
        .map(|i| {
            (
                BatchItem::chat(format!("i{i}"), "sandbox", "deepseek-v3.2", 10, 50),
                ChatRequest::new("deepseek-v3.2", vec![ChatMessage::user(format!("p{i}"))]),
            )
        })
        .collect()
}

fn answer(text: &str) -> CallOutcome {
    CallOutcome {
        completion: Completion {
            content: text.to_string(),
            usage: Some(Usage {
                prompt: 9,
                completion: 20,
                total: 29,
                ..Usage::default()
            }),
            ..Completion::default()
        },
        latency_ms: 5.0,
        first_token_ms: None,
        rate_limits: Default::default(),
        status: 200,
    }
}

fn prompt_of(req: &ChatRequest) -> String {
    req.messages[0].content.clone()
}

/// A transport whose requests never answer (the tab closes while they are in flight),
/// counting its sends.
fn hanging(calls: Rc<Cell<u32>>) -> Transport {
    Rc::new(move |_: &Connection, _: &ApiKey, _: &ChatRequest| {
        calls.set(calls.get() + 1);
        Box::pin(std::future::pending()) as SendFuture
    })
}

/// A transport answering each prompt with itself, counting its sends.
fn answering(calls: Rc<Cell<u32>>) -> Transport {
    Rc::new(move |_: &Connection, _: &ApiKey, req: &ChatRequest| {
        calls.set(calls.get() + 1);
        let prompt = prompt_of(req);
        Box::pin(async move { Ok(answer(&prompt)) }) as SendFuture
    })
}

async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        sleep(50).await;
    }
}

#[wasm_bindgen_test]
async fn each_item_is_stored_as_running_before_its_request_leaves() {
    let name = format!("test-batch-running-{}", tabs::new_tab_id());
    let db = Db::open_named(&name).await.unwrap();
    // What the store said about each item at the moment its request was sent.
    let seen: Rc<RefCell<Vec<(String, String, u32)>>> = Rc::default();
    let transport: Transport = {
        let (db, seen) = (db.clone(), seen.clone());
        Rc::new(move |_: &Connection, _: &ApiKey, req: &ChatRequest| {
            let (db, seen, prompt) = (db.clone(), seen.clone(), prompt_of(req));
            Box::pin(async move {
                let stored = batch_exec::read_stored(&db, "b-running")
                    .await
                    .unwrap()
                    .unwrap();
                let id = prompt.replacen('p', "i", 1);
                let item = stored.batch.item(&id).unwrap();
                seen.borrow_mut()
                    .push((id, item.state.name().to_string(), item.sends));
                Ok(answer(&format!("reply to {prompt}")))
            }) as SendFuture
        })
    };
    let config = BatchConfig::with_limits(Limits::rpm(6000));
    let exec = Executor::create(db.clone(), "b-running", meta(), items(6), config, transport)
        .await
        .unwrap();
    exec.connect(connection(), ApiKey::new(SANDBOX_KEY));
    assert!(exec.run().await);
    wait_until(|| exec.with_batch(|b| b.counts().done) == 6).await;
    assert_eq!(exec.with_batch(|b| b.counts().done), 6);

    let seen = seen.borrow().clone();
    assert_eq!(seen.len(), 6, "one send per item: {seen:?}");
    for (id, state, sends) in &seen {
        assert_eq!(state, "running", "{id} was {state} in the store when sent");
        assert_eq!(*sends, 1, "{id}");
    }
    // After the answers: every item stored done with its reply, and each call in the ledger.
    sleep(100).await;
    let stored = batch_exec::read_stored(&db, "b-running")
        .await
        .unwrap()
        .unwrap();
    assert!(stored
        .batch
        .items
        .iter()
        .all(|item| matches!(item.state, ItemState::Done { .. })));
    assert_eq!(stored.outputs[2].as_deref(), Some("reply to p2"));
    assert!(stored.calls.iter().all(|calls| calls.len() == 1));
    let (ledger, _) = db.all::<LedgerEntry>(LEDGER).await.unwrap();
    assert_eq!(ledger.len(), 6);
    assert!(ledger
        .iter()
        .all(|e| e.prompt_tokens == 9 && e.task == "dialogue"));
    exec.close();
    db.close();
}

#[wasm_bindgen_test]
async fn a_reload_turns_running_items_unknown_and_never_resends_them_without_consent() {
    let name = format!("test-batch-reload-{}", tabs::new_tab_id());
    let db = Db::open_named(&name).await.unwrap();
    // The first tab's requests never answer: the tab closes while they are in flight.
    let first_calls = Rc::new(Cell::new(0));
    let hanging = hanging(first_calls.clone());
    let config = BatchConfig::with_limits(Limits::rpm(6000));
    let first = Executor::create(db.clone(), "b-reload", meta(), items(3), config, hanging)
        .await
        .unwrap();
    first.connect(connection(), ApiKey::new(SANDBOX_KEY));
    assert!(first.run().await);
    wait_until(|| first_calls.get() == 3).await;
    assert_eq!(first_calls.get(), 3);

    // While the first executor holds the batch's lock, nobody else may run it.
    let later_calls = Rc::new(Cell::new(0));
    let answering = answering(later_calls.clone());
    let blocked = Executor::open(db.clone(), "b-reload", answering.clone())
        .await
        .unwrap();
    assert!(blocked.is_none(), "a second runner got the lock");

    // The tab closes; a new page opens the same database.
    first.close();
    let stored = batch_exec::read_stored(&db, "b-reload")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.batch.counts().running,
        3,
        "stored as running before sending"
    );
    let unfinished = batch_exec::unfinished(&db).await.unwrap();
    assert_eq!(unfinished.len(), 1);

    let second = Executor::open(db.clone(), "b-reload", answering)
        .await
        .unwrap()
        .expect("the lock is free again");
    assert_eq!(second.with_batch(|b| b.counts().unknown), 3);
    second.connect(connection(), ApiKey::new(SANDBOX_KEY));
    assert!(second.run().await);
    sleep(300).await;
    assert_eq!(
        later_calls.get(),
        0,
        "an unknown item was resent without consent"
    );
    let stored = batch_exec::read_stored(&db, "b-reload")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.batch.counts().unknown, 3, "stored as unknown");

    // With consent they are sent once more each.
    assert_eq!(second.resend_unknown(), 3);
    wait_until(|| second.with_batch(|b| b.counts().done) == 3).await;
    assert_eq!(later_calls.get(), 3);
    assert_eq!(second.with_batch(|b| b.counts().done), 3);
    second.close();
    db.close();
}

#[wasm_bindgen_test]
async fn two_batches_of_one_project_share_its_budget_through_their_project_limits() {
    use duanju_studio::domain::batch::quote::Pricing;
    use duanju_studio::domain::batch::BatchStatus;
    use duanju_studio::domain::cost::money::{Currency, Money};
    use duanju_studio::domain::cost::pricing::PriceSet;
    use duanju_studio::domain::cost::profile::Profile;

    let name = format!("test-batch-share-{}", tabs::new_tab_id());
    let db = Db::open_named(&name).await.unwrap();
    let execs: Rc<RefCell<Vec<Executor>>> = Rc::default();
    // At each send: what both batches have committed (spent + worst case of what is in flight).
    let committed_at_send: Rc<RefCell<Vec<Money>>> = Rc::default();
    let committed = |execs: &[Executor]| {
        Money::sum(
            Currency::Usd,
            execs.iter().map(|e| e.with_batch(|b| b.committed().usd)),
        )
    };
    let transport: Transport = {
        let (execs, seen) = (execs.clone(), committed_at_send.clone());
        Rc::new(move |_: &Connection, _: &ApiKey, _: &ChatRequest| {
            seen.borrow_mut().push(committed(&execs.borrow()));
            Box::pin(async move {
                sleep(150).await;
                Ok(answer("ok"))
            }) as SendFuture
        })
    };
    let batch_items = items(4);
    let plain: Vec<BatchItem> = batch_items.iter().map(|(i, _)| i.clone()).collect();
    let pricing = Pricing::for_items(&PriceSet::list(), &Profile::defaults()[0], &plain);
    let worst = pricing.worst_case(&plain[0], "deepseek-v3.2").unwrap().usd;
    // The project's budget holds three items at their worst case; the two batches have eight.
    let budget = worst + worst + worst;
    for id in ["b-share-a", "b-share-b"] {
        let mut config = BatchConfig::with_limits(Limits::rpm(6000));
        config.pricing = Some(pricing.clone());
        config.project_remaining = Some(budget);
        let meta = BatchMeta {
            project: Some("p1".into()),
            ..meta()
        };
        let exec = Executor::create(
            db.clone(),
            id,
            meta,
            batch_items.clone(),
            config,
            transport.clone(),
        )
        .await
        .unwrap();
        // What the page's batch service does: the budget less what the project's other batch
        // has committed (its billed answers would be in the ledger, its sends at risk).
        let others = execs.clone();
        exec.set_project_limit(move |me| {
            let me = me.id();
            let rest: Vec<Executor> = others
                .borrow()
                .iter()
                .filter(|e| e.id() != me)
                .cloned()
                .collect();
            Some(budget - committed(&rest))
        });
        exec.connect(connection(), ApiKey::new(SANDBOX_KEY));
        execs.borrow_mut().push(exec);
    }
    let both = execs.borrow().clone();
    for exec in &both {
        assert!(exec.run().await);
    }
    // Settled: nothing in flight, and nothing left to send unless stopped.
    let settled = |e: &Executor| {
        e.with_batch(|b| {
            b.counts().running == 0 && !(b.counts().queued > 0 && b.status == BatchStatus::Running)
        })
    };
    wait_until(|| both.iter().all(settled)).await;
    let seen = committed_at_send.borrow().clone();
    assert!(seen.len() >= 3, "sends: {seen:?}");
    for at_send in &seen {
        assert!(
            *at_send <= budget,
            "{at_send} committed across the project, over {budget}"
        );
    }
    // The eight items do not all fit: one batch (at least) stopped on the project's budget.
    let stopped = both
        .iter()
        .filter(|e| e.with_batch(|b| matches!(b.status, BatchStatus::Stopped { .. })))
        .count();
    assert!(stopped >= 1);
    let spent = Money::sum(
        Currency::Usd,
        both.iter().map(|e| e.with_batch(|b| b.spent().usd)),
    );
    assert!(spent <= budget);
    for exec in &both {
        exec.close();
    }
    db.close();
}

/// A transport whose every answer is `error` after the reply had begun (a timeout, a lost
/// connection…), counting its sends.
fn failing(
    error: duanju_studio::domain::provider::api_error::ApiError,
    calls: Rc<Cell<u32>>,
) -> Transport {
    use duanju_studio::web::http::CallError;
    Rc::new(move |_: &Connection, _: &ApiKey, _: &ChatRequest| {
        calls.set(calls.get() + 1);
        let error = error.clone();
        Box::pin(async move {
            Err(CallError {
                error,
                status: Some(200),
                latency_ms: 5.0,
                rate_limits: Default::default(),
                partial: None,
            })
        }) as SendFuture
    })
}

async fn ledger_of(db: &Db) -> Vec<LedgerEntry> {
    db.all::<LedgerEntry>(LEDGER).await.unwrap().0
}

#[wasm_bindgen_test]
async fn an_attempt_that_may_be_billed_waits_for_consent_and_is_recorded_at_its_worst_case() {
    use duanju_studio::domain::batch::quote::Pricing;
    use duanju_studio::domain::cost::pricing::PriceSet;
    use duanju_studio::domain::cost::profile::Profile;
    use duanju_studio::domain::provider::api_error::ApiError;

    let name = format!("test-batch-unknown-{}", tabs::new_tab_id());
    let db = Db::open_named(&name).await.unwrap();
    for (id, error) in [
        ("b-timeout", ApiError::Timeout),
        (
            "b-lost",
            ApiError::ReplyLost {
                partial: Box::default(),
            },
        ),
    ] {
        let calls = Rc::new(Cell::new(0));
        let batch_items = items(2);
        let plain: Vec<BatchItem> = batch_items.iter().map(|(i, _)| i.clone()).collect();
        let mut config = BatchConfig::with_limits(Limits::rpm(6000));
        config.pricing = Some(Pricing::for_items(
            &PriceSet::list(),
            &Profile::defaults()[0],
            &plain,
        ));
        let worst = config
            .pricing
            .as_ref()
            .unwrap()
            .worst_case(&plain[0], "deepseek-v3.2");
        let transport = failing(error, calls.clone());
        let exec = Executor::create(db.clone(), id, meta(), batch_items, config, transport)
            .await
            .unwrap();
        let before = ledger_of(&db).await.len();
        exec.connect(connection(), ApiKey::new(SANDBOX_KEY));
        assert!(exec.run().await);
        wait_until(|| exec.with_batch(|b| b.counts().unknown) == 2).await;
        sleep(300).await;
        assert_eq!(
            calls.get(),
            2,
            "{id}: sent once each, never retried by itself"
        );
        assert_eq!(exec.with_batch(|b| b.counts().unknown), 2);
        wait_until(|| exec.snapshot().calls.iter().all(|c| c.len() == 1)).await;
        sleep(100).await;
        let entries = ledger_of(&db).await;
        let added = &entries[before..];
        assert_eq!(added.len(), 2, "{id}");
        for entry in added {
            assert!(entry.worst_case && entry.estimated, "{entry:?}");
            // The whole prompt estimate and every max_tokens.
            assert_eq!((entry.prompt_tokens, entry.completion_tokens), (10, 50));
            assert_eq!(Some(entry.cost()), worst);
        }
        // Counted as spent (the ledger has them), once.
        let spent = exec.with_batch(|b| b.spent());
        assert_eq!(Some(spent.usd), worst.map(|w| w.usd + w.usd));
        assert_eq!(exec.with_batch(|b| b.committed()), spent);
        exec.close();
    }
    db.close();
}

/// Hides `navigator.locks` (as in a context without Web Locks) until the guard drops.
struct NoWebLocks {
    proto: js_sys::Object,
    original: wasm_bindgen::JsValue,
}

impl NoWebLocks {
    fn hide() -> NoWebLocks {
        use wasm_bindgen::JsCast;
        let navigator = web_sys::window().unwrap().navigator();
        let proto: js_sys::Object = js_sys::Reflect::get_prototype_of(&navigator)
            .unwrap()
            .unchecked_into();
        let original = js_sys::Object::get_own_property_descriptor(&proto, &"locks".into());
        let descriptor = js_sys::Object::new();
        let getter = js_sys::Function::new_no_args("return undefined;");
        js_sys::Reflect::set(&descriptor, &"get".into(), &getter).unwrap();
        js_sys::Reflect::set(&descriptor, &"configurable".into(), &true.into()).unwrap();
        js_sys::Object::define_property(&proto, &"locks".into(), &descriptor);
        assert!(js_sys::Reflect::get(&navigator, &"locks".into())
            .unwrap()
            .is_undefined());
        NoWebLocks { proto, original }
    }
}

impl Drop for NoWebLocks {
    fn drop(&mut self) {
        use wasm_bindgen::JsCast;
        if let Some(original) = self.original.dyn_ref::<js_sys::Object>() {
            js_sys::Object::define_property(&self.proto, &"locks".into(), original);
        }
    }
}

#[wasm_bindgen_test]
async fn without_web_locks_an_indexeddb_lease_keeps_one_runner() {
    use duanju_studio::web::exec::lock::LEASE_TTL_MS;
    use duanju_studio::web::idb::KV;

    let hidden = NoWebLocks::hide();
    let name = format!("test-batch-lease-{}", tabs::new_tab_id());
    let db = Db::open_named(&name).await.unwrap();
    let first_calls = Rc::new(Cell::new(0));
    let hanging = hanging(first_calls.clone());
    let config = BatchConfig::with_limits(Limits::rpm(6000));
    let first = Executor::create(db.clone(), "b-lease", meta(), items(3), config, hanging)
        .await
        .unwrap();
    first.connect(connection(), ApiKey::new(SANDBOX_KEY));
    assert!(first.run().await, "the lease is free");
    wait_until(|| first_calls.get() == 3).await;
    let lease: serde_json::Value = db
        .get(KV, "lease:duanju-batch:b-lease")
        .await
        .unwrap()
        .expect("the lease is stored");
    assert!(lease["expires_ms"].as_f64().unwrap() > tabs::now_ms());

    // Another tab finds the lease held: it does not run the batch.
    let later_calls = Rc::new(Cell::new(0));
    let answering = answering(later_calls.clone());
    let blocked = Executor::open(db.clone(), "b-lease", answering.clone())
        .await
        .unwrap();
    assert!(blocked.is_none(), "a second runner took a held lease");

    // The first tab is killed: what it leaves behind is a lease that expires on its own.
    first.close();
    sleep(100).await;
    let expired = serde_json::json!({ "owner": "tab-killed", "expires_ms": tabs::now_ms() - 1.0 });
    db.put(KV, "lease:duanju-batch:b-lease", &expired)
        .await
        .unwrap();
    let second = Executor::open(db.clone(), "b-lease", answering.clone())
        .await
        .unwrap()
        .expect("an expired lease is taken over");
    assert_eq!(second.with_batch(|b| b.counts().unknown), 3);
    second.connect(connection(), ApiKey::new(SANDBOX_KEY));
    assert!(second.run().await);
    sleep(300).await;
    assert_eq!(later_calls.get(), 0, "unknown items were not resent");
    // The three attempts in flight when the tab died are in the ledger at their worst case.
    let entries = ledger_of(&db).await;
    assert_eq!(entries.iter().filter(|e| e.worst_case).count(), 3);
    // A lease whose expiry lies far ahead was written before the clock jumped back: it does
    // not hold the batch forever. A live one does.
    second.close();
    sleep(100).await;
    let far = serde_json::json!({ "owner": "tab-x", "expires_ms": tabs::now_ms() + 100.0 * LEASE_TTL_MS });
    db.put(KV, "lease:duanju-batch:b-lease", &far)
        .await
        .unwrap();
    let third = Executor::open(db.clone(), "b-lease", answering.clone())
        .await
        .unwrap();
    assert!(
        third.is_some(),
        "a lease from before a clock jump is not held forever"
    );
    let live = serde_json::json!({ "owner": "tab-y", "expires_ms": tabs::now_ms() + LEASE_TTL_MS });
    third.unwrap().close();
    sleep(100).await;
    db.put(KV, "lease:duanju-batch:b-lease", &live)
        .await
        .unwrap();
    assert!(Executor::open(db.clone(), "b-lease", answering)
        .await
        .unwrap()
        .is_none());
    drop(hidden);
    db.close();
}
