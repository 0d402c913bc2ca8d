//! The timer adapter (`web::timer`): a dropped timer never fires, a kept one does, and `sleep`
//! waits its time or ends when its signal aborts.

use std::cell::Cell;
use std::rc::Rc;

use crate::support::sleep as wait;
use duanju_studio::web::timer::{sleep, Timer};
use wasm_bindgen_test::*;
use web_sys::AbortController;

/// A counter and a timer that counts into it after `delay_ms`.
fn counting_timer(delay_ms: i32) -> (Rc<Cell<u32>>, Option<Timer>) {
    let fired = Rc::new(Cell::new(0));
    let count = fired.clone();
    let timer = Timer::once(delay_ms, move || count.set(count.get() + 1));
    (fired, timer)
}

#[wasm_bindgen_test]
async fn a_dropped_timer_never_fires_and_a_kept_one_fires_once() {
    let (dropped_fired, dropped) = counting_timer(5);
    let (kept_fired, kept) = counting_timer(5);
    assert!(dropped.is_some() && kept.is_some());
    drop(dropped);
    wait(60).await;
    assert_eq!(dropped_fired.get(), 0);
    assert_eq!(kept_fired.get(), 1);
    wait(20).await;
    assert_eq!(kept_fired.get(), 1);
    drop(kept); // After firing: clearing it is harmless.
}

#[wasm_bindgen_test]
async fn a_timer_may_drop_itself_from_its_callback() {
    let slot: Rc<Cell<Option<Timer>>> = Rc::new(Cell::new(None));
    let fired = Rc::new(Cell::new(false));
    let (inside, flag) = (slot.clone(), fired.clone());
    slot.set(Timer::once(5, move || {
        drop(inside.take());
        flag.set(true);
    }));
    wait(40).await;
    assert!(fired.get());
    assert!(slot.take().is_none());
}

fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

#[wasm_bindgen_test]
async fn sleep_waits_its_time_or_until_aborted() {
    let start = now();
    sleep(40, None).await;
    assert!(now() - start >= 39.0, "{}", now() - start);

    let controller = AbortController::new().unwrap();
    let aborter = controller.clone();
    let _abort_soon = Timer::once(10, move || aborter.abort());
    let start = now();
    sleep(10_000, Some(&controller.signal())).await;
    assert!(now() - start < 5_000.0, "{}", now() - start);
}
