//! Browser timers: a `setTimeout` that is cleared when its [`Timer`] is dropped, and [`sleep`].
//!
//! A [`Timer`] owns its callback, so the callback lives exactly as long as the timeout can
//! still fire, and dropping it (or replacing it) is how a timer is stopped. Dropping a timer
//! from inside its own callback is allowed: wasm-bindgen frees the callback once it returns.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

/// A pending `setTimeout`, cleared when dropped: a dropped timer never fires.
pub struct Timer {
    id: i32,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// Calls `callback` once, `delay_ms` milliseconds from now (the browser treats a negative
    /// delay as 0). `None` when there is no window or the browser refuses the timer.
    pub fn once(delay_ms: i32, callback: impl FnMut() + 'static) -> Option<Timer> {
        Timer::start(delay_ms, Closure::new(callback))
    }

    fn start(delay_ms: i32, callback: Closure<dyn FnMut()>) -> Option<Timer> {
        let id = web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.as_ref().unchecked_ref(),
                delay_ms,
            )
            .ok()?;
        Some(Timer {
            id,
            _callback: callback,
        })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_timeout_with_handle(self.id);
        }
    }
}

/// Waits `ms` milliseconds, or less when `abort` fires (an already aborted signal does not
/// end the wait: its `abort` event has passed). Dropping the future clears the timer.
pub async fn sleep(ms: u32, abort: Option<&AbortSignal>) {
    let delay = i32::try_from(ms).unwrap_or(i32::MAX);
    let mut timer = None;
    let mut wake = None;
    let done = Promise::new(&mut |resolve, _| {
        if let Some(signal) = abort {
            let _ = signal.add_event_listener_with_callback("abort", &resolve);
        }
        wake = Some(resolve.clone());
        timer = Timer::once(delay, move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        });
    });
    let _ = JsFuture::from(done).await;
    drop(timer); // Woken by `abort`: the timeout is cleared, not left to fire.
    if let (Some(signal), Some(wake)) = (abort, wake) {
        let _ = signal.remove_event_listener_with_callback("abort", &wake);
    }
}
