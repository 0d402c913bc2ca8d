//! The connection's page-wide gate: two batches and a video-style caller on one connection at
//! once share its rpm and concurrency (real IndexedDB, real timers; a fake transport records
//! when each request left and how many were in flight).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::support::sleep;
use duanju_studio::domain::batch::{BatchConfig, BatchItem};
use duanju_studio::domain::i18n::Lang;
use duanju_studio::domain::provider::chat::{ChatMessage, ChatRequest, Completion, Usage};
use duanju_studio::domain::provider::connection::{
    ApiKey, Connection, ConnectionLimits, Preset, SANDBOX_KEY,
};
use duanju_studio::web::exec::{gate, BatchMeta, Executor, SendFuture, Transport};
use duanju_studio::web::http::CallOutcome;
use duanju_studio::web::idb::Db;
use duanju_studio::web::tabs;
use wasm_bindgen_test::*;

/// A connection of its own (the page's gates are per connection id) at 120 rpm, 2 at once.
fn connection(id: &str) -> Connection {
    let mut connection = Connection::from_preset(id, Preset::LocalSandbox, "gate", Lang::En);
    connection
        .set_limits(ConnectionLimits {
            rpm: Some(120),
            tpm: None,
            concurrency: Some(2),
        })
        .unwrap();
    connection
}

fn items(prefix: &str, lane: &str, n: usize) -> Vec<(BatchItem, ChatRequest)> {
    (0..n)
        .map(|i| {
            (
                BatchItem::chat(format!("{prefix}{i}"), lane, "deepseek-v3.2", 10, 20),
                ChatRequest::new("deepseek-v3.2", vec![ChatMessage::user(format!("p{i}"))]),
            )
        })
        .collect()
}

/// What the fake provider saw: when each request arrived, and the most in flight at once.
#[derive(Default)]
struct Seen {
    sent_ms: RefCell<Vec<f64>>,
    in_flight: Cell<u32>,
    most_in_flight: Cell<u32>,
}

impl Seen {
    fn arrive(&self) {
        self.sent_ms.borrow_mut().push(tabs::now_ms());
        self.in_flight.set(self.in_flight.get() + 1);
        self.most_in_flight
            .set(self.most_in_flight.get().max(self.in_flight.get()));
    }

    fn leave(&self) {
        self.in_flight.set(self.in_flight.get() - 1);
    }
}

/// Answers every request after 700 ms, so the concurrency binds as well as the rate.
fn slow_answers(seen: Rc<Seen>) -> Transport {
    Rc::new(move |_: &Connection, _: &ApiKey, _: &ChatRequest| {
        let seen = seen.clone();
        seen.arrive();
        Box::pin(async move {
            sleep(700).await;
            seen.leave();
            Ok(CallOutcome {
                completion: Completion {
                    content: "ok".into(),
                    usage: Some(Usage {
                        prompt: 9,
                        completion: 5,
                        total: 14,
                        ..Usage::default()
                    }),
                    ..Completion::default()
                },
                latency_ms: 700.0,
                first_token_ms: None,
                rate_limits: Default::default(),
                status: 200,
            })
        }) as SendFuture
    })
}

fn meta(connection: &Connection) -> BatchMeta {
    BatchMeta {
        connection_id: connection.id.clone(),
        task: "dialogue".into(),
        project: None,
        label: "gate".into(),
        purpose: None,
        created_ms: tabs::now_ms(),
    }
}

#[wasm_bindgen_test]
async fn two_batches_and_a_poller_on_one_connection_share_its_ceiling() {
    let id = format!("gate-{}", tabs::new_tab_id());
    let connection = connection(&id);
    let db = Db::open_named(&format!("test-gate-{id}")).await.unwrap();
    let seen = Rc::new(Seen::default());
    // Each batch alone may send at the connection's 120 rpm and 2 at once (its own lanes).
    let config = BatchConfig::with_limits(connection.batch_limits());
    let mut runs = Vec::new();
    for name in ["storyboard", "takes"] {
        let exec = Executor::create(
            db.clone(),
            &format!("{id}-{name}"),
            meta(&connection),
            items(name, &id, 5),
            config.clone(),
            slow_answers(seen.clone()),
        )
        .await
        .unwrap();
        exec.connect(connection.clone(), ApiKey::new(SANDBOX_KEY));
        runs.push(exec);
    }
    for exec in &runs {
        assert!(exec.run().await);
    }
    // A clips run's submits and polls, at the same time, through the same gate.
    let polls = Rc::new(Cell::new(0));
    {
        let (connection, seen, polls) = (connection.clone(), seen.clone(), polls.clone());
        wasm_bindgen_futures::spawn_local(async move {
            for _ in 0..4 {
                let permit = gate::for_connection(&connection).acquire(0).await;
                seen.arrive();
                sleep(300).await;
                seen.leave();
                drop(permit);
                polls.set(polls.get() + 1);
            }
        });
    }
    for _ in 0..300 {
        let done = runs
            .iter()
            .all(|exec| exec.with_batch(|b| b.counts().done) == 5);
        if done && polls.get() == 4 {
            break;
        }
        sleep(50).await;
    }
    for exec in &runs {
        assert_eq!(exec.with_batch(|b| b.counts().done), 5, "{}", exec.id());
    }
    assert_eq!(polls.get(), 4);

    let sent = seen.sent_ms.borrow().clone();
    assert_eq!(sent.len(), 14, "10 chat requests and 4 polls");
    // 120 rpm: at most 2 in any second (the limiter's per-second window), whoever sent them.
    // 50 ms of slack: the gate counts a batch's request when it admits it, and the request
    // leaves once its running state is stored in IndexedDB (here 5–25 ms later).
    for (i, &t) in sent.iter().enumerate() {
        let in_second = sent[i..].iter().take_while(|&&u| u < t + 950.0).count();
        assert!(
            in_second <= 2,
            "{in_second} requests within a second of {t}: {sent:?}"
        );
    }
    assert!(
        seen.most_in_flight.get() <= 2,
        "{} in flight at once on a connection allowing 2",
        seen.most_in_flight.get()
    );
    // 14 requests at 2 per second take at least 6 s: the three callers did not each get 120 rpm.
    let span = sent.last().unwrap() - sent.first().unwrap();
    assert!(span >= 6_000.0 - 50.0, "14 requests in {span} ms");
    for exec in &runs {
        exec.close();
    }
    db.close();
}

#[wasm_bindgen_test]
async fn a_closed_run_gives_its_places_back() {
    let id = format!("gate-closed-{}", tabs::new_tab_id());
    let connection = connection(&id);
    let db = Db::open_named(&format!("test-gate-{id}")).await.unwrap();
    // Requests that never answer: the closed panel's calls would hold both places forever.
    let hanging: Transport = Rc::new(|_: &Connection, _: &ApiKey, _: &ChatRequest| {
        Box::pin(std::future::pending()) as SendFuture
    });
    let config = BatchConfig::with_limits(connection.batch_limits());
    let exec = Executor::create(
        db.clone(),
        &format!("{id}-hang"),
        meta(&connection),
        items("h", &id, 2),
        config,
        hanging,
    )
    .await
    .unwrap();
    exec.connect(connection.clone(), ApiKey::new(SANDBOX_KEY));
    assert!(exec.run().await);
    for _ in 0..100 {
        if exec.with_batch(|b| b.counts().running) == 2 {
            break;
        }
        sleep(20).await;
    }
    assert_eq!(exec.with_batch(|b| b.counts().running), 2);
    // Both places are taken: another caller waits…
    let got = Rc::new(Cell::new(false));
    {
        let (connection, got) = (connection.clone(), got.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let _permit = gate::for_connection(&connection).acquire(0).await;
            got.set(true);
        });
    }
    sleep(1_200).await;
    assert!(!got.get(), "admitted while two requests were in flight");
    // …until the run is closed.
    exec.close();
    for _ in 0..100 {
        if got.get() {
            break;
        }
        sleep(20).await;
    }
    assert!(got.get(), "the closed run kept its places");
    db.close();
}
