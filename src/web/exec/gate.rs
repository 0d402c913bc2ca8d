//! The page's gates: one [`ConnectionGate`] per connection, shared by every run and call on it
//! in this page — batches and pipeline runs ([`super::Executor`]), single calls (one-item
//! batches), video submits and polls ([`super::jobs::JobRunner`]).
//!
//! A request takes a [`Permit`] from its connection's gate before it leaves and gives it back
//! (by dropping it) when it has ended; then every run waiting on the gate is woken to try again.
//! Waits on the rate are timed by each run itself (the gate tells when); waits on the
//! concurrency end with a permit given back.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::domain::batch::{Admission, ConnectionGate, Turn};
use crate::domain::provider::connection::Connection;
use crate::web::tabs;
use crate::web::timer;

/// A connection's gate and the runs waiting on it.
pub struct SharedGate {
    gate: RefCell<ConnectionGate>,
    waiters: RefCell<Vec<Waiter>>,
}

/// A run waiting on a gate: its subscription's id and what wakes it.
type Waiter = (u64, Rc<dyn Fn()>);

thread_local! {
    static GATES: RefCell<HashMap<String, Rc<SharedGate>>> = RefCell::new(HashMap::new());
    static NEXT_WAITER: Cell<u64> = const { Cell::new(1) };
}

/// The page's gate for `connection`, with the connection's limits as they are now (a changed
/// limit applies from the next request on; what was sent still counts).
pub fn for_connection(connection: &Connection) -> Rc<SharedGate> {
    let limits = connection.batch_limits();
    GATES.with(|gates| {
        let gate = gates
            .borrow_mut()
            .entry(connection.id.clone())
            .or_insert_with(|| {
                Rc::new(SharedGate {
                    gate: RefCell::new(ConnectionGate::new(limits)),
                    waiters: RefCell::new(Vec::new()),
                })
            })
            .clone();
        if gate.gate.borrow().limits() != limits {
            gate.gate.borrow_mut().set_limits(limits);
        }
        gate
    })
}

impl SharedGate {
    /// Runs `f` with the gate as `waiting`'s caller sees it: the [`Admission`] a batch
    /// dispatches through.
    pub fn turn<R>(&self, waiting: &Waiting, f: impl FnOnce(&mut Turn<'_>) -> R) -> R {
        f(&mut self.gate.borrow_mut().turn(waiting.id))
    }

    /// Holds every request on the connection until `until_ms`.
    pub fn pause_until(&self, until_ms: f64) {
        self.gate.borrow_mut().pause_until(until_ms);
    }

    /// The permit of a request the gate has just admitted (through [`Self::with`]).
    pub fn adopt(self: &Rc<Self>) -> Permit {
        Permit { gate: self.clone() }
    }

    /// A caller of the gate: `wake` is called whenever a permit is given back, until the
    /// returned [`Waiting`] drops (the caller then leaves the gate's line).
    pub fn on_release(self: &Rc<Self>, wake: impl Fn() + 'static) -> Waiting {
        let id = NEXT_WAITER.with(|next| next.replace(next.get() + 1));
        self.waiters.borrow_mut().push((id, Rc::new(wake)));
        Waiting {
            gate: self.clone(),
            id,
        }
    }

    /// Waits until a request charged `tokens` may leave, then takes its permit: for a video
    /// submit or poll, which has no batch of its own.
    pub async fn acquire(self: &Rc<Self>, tokens: u64) -> Permit {
        let resolve: Rc<RefCell<Option<js_sys::Function>>> = Rc::new(RefCell::new(None));
        let wake = resolve.clone();
        let caller = self.on_release(move || {
            if let Some(done) = wake.borrow_mut().take() {
                let _ = done.call0(&JsValue::UNDEFINED);
            }
        });
        loop {
            let now = tabs::now_ms();
            let ready = self.turn(&caller, |turn| {
                if turn.try_admit(now, tokens) {
                    None
                } else {
                    Some(turn.ready_at(now, tokens))
                }
            });
            let Some(ready) = ready else {
                return self.adopt();
            };
            match ready {
                // The rate: sleep until the gate's time (at least 1 ms, so it never spins).
                Some(at) => timer::sleep((at - now).ceil().clamp(1.0, 60_000.0) as u32, None).await,
                // The concurrency: wait for a permit to come back.
                None => {
                    let given_back =
                        Promise::new(&mut |done, _| *resolve.borrow_mut() = Some(done));
                    let _ = JsFuture::from(given_back).await;
                }
            }
        }
    }

    fn release(&self) {
        self.gate.borrow_mut().release();
        let waiters: Vec<Rc<dyn Fn()>> = self
            .waiters
            .borrow()
            .iter()
            .map(|(_, w)| w.clone())
            .collect();
        // Woken in a microtask: a run woken now would find the releasing run mid-answer.
        spawn_local(async move {
            for wake in waiters {
                wake();
            }
        });
    }
}

/// A request admitted by its connection's gate; dropping it gives the place back.
pub struct Permit {
    gate: Rc<SharedGate>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.gate.release();
    }
}

/// A run's subscription to its gate's releases ([`SharedGate::on_release`]).
pub struct Waiting {
    gate: Rc<SharedGate>,
    id: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.gate
            .waiters
            .borrow_mut()
            .retain(|(id, _)| *id != self.id);
        self.gate.gate.borrow_mut().forget(self.id);
    }
}
