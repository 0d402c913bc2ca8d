//! Many tabs, one workspace: the `duanju-drafts` broadcast channel that tells the other tabs
//! of the same origin about each save, and the page-lifecycle events (`visibilitychange` to
//! hidden, `pagehide`) on which unsaved work is flushed.
//!
//! A [`TabChannel`] posts and receives messages as JSON text (the drafts' [`SavedNotice`]s on
//! [`CHANNEL`], the batches' progress on [`BATCH_CHANNEL`], the names of settings records stored
//! on [`SETTINGS_CHANNEL`], of projects whose spend changed on [`BUDGET_CHANNEL`]); a
//! [`PageHideHooks`] calls back when the page is hidden or left. Both remove their listeners
//! when dropped.
//!
//! [`SavedNotice`]: crate::domain::project::merge::SavedNotice

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The name of the channel the app's drafts use. Drafts opened on another database use
/// `duanju-drafts:{database}`, so tests never hear the app.
pub const CHANNEL: &str = "duanju-drafts";
/// The channel on which the tab running a batch tells the others about its progress.
pub const BATCH_CHANNEL: &str = "duanju-batches";
/// The channel on which a tab names the settings record it just stored (`connections`,
/// `price_book`), so that the others read it again: the record's name only, never a value or a
/// key.
pub const SETTINGS_CHANNEL: &str = "duanju-settings";
/// The channel on which a tab names the project whose ledger entries or budget claims it just
/// stored (`ui/studio/budget_share.rs`).
pub const BUDGET_CHANNEL: &str = "duanju-budgets";

/// A new id for this tab (this page load): `tab-` and random base-36 digits with the time, so
/// two tabs never share one.
pub fn new_tab_id() -> String {
    let random = (js_sys::Math::random() * 2f64.powi(52)) as u64;
    let time = js_sys::Date::now() as u64;
    format!("tab-{}{}", base36(time % 1_679_616), base36(random))
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The wall-clock time in milliseconds since the epoch (`Date.now()`).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// An open broadcast channel carrying JSON messages between the tabs of this origin.
pub struct TabChannel {
    channel: web_sys::BroadcastChannel,
    _listener: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl TabChannel {
    /// Opens the channel `name` and calls `on_message` for every message of type `T` another
    /// tab posts (a channel never hears its own posts). Messages that do not parse as `T` are
    /// ignored. `None` where the browser has no `BroadcastChannel`: then tabs only meet in
    /// storage.
    pub fn open<T: DeserializeOwned + 'static>(
        name: &str,
        on_message: impl Fn(T) + 'static,
    ) -> Option<TabChannel> {
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let notice = event
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str::<T>(&text).ok());
                if let Some(notice) = notice {
                    on_message(notice);
                }
            },
        );
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(TabChannel {
            channel,
            _listener: listener,
        })
    }

    /// Posts `message` to the other tabs.
    pub fn post<T: Serialize>(&self, notice: &T) {
        if let Ok(text) = serde_json::to_string(notice) {
            let _ = self.channel.post_message(&JsValue::from_str(&text));
        }
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

/// Listeners for the moments a page may go away: `visibilitychange` to hidden (the tab is
/// switched away, minimised, or about to close; on phones it may never come back) and
/// `pagehide` (the page is being left). Removed when dropped.
pub struct PageHideHooks {
    hidden: Closure<dyn FnMut(web_sys::Event)>,
    pagehide: Closure<dyn FnMut(web_sys::Event)>,
}

impl PageHideHooks {
    /// Calls `on_hidden` when the document becomes hidden and `on_pagehide` when the page is
    /// left. Work in `on_pagehide` must be started synchronously: there is no later turn.
    pub fn install(
        on_hidden: impl Fn() + 'static,
        on_pagehide: impl Fn() + 'static,
    ) -> PageHideHooks {
        let hidden = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let is_hidden = web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden);
            if is_hidden {
                on_hidden();
            }
        });
        let pagehide = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| on_pagehide());
        if let Some(window) = web_sys::window() {
            if let Some(document) = window.document() {
                let _ = document.add_event_listener_with_callback(
                    "visibilitychange",
                    hidden.as_ref().unchecked_ref(),
                );
            }
            let _ = window
                .add_event_listener_with_callback("pagehide", pagehide.as_ref().unchecked_ref());
        }
        PageHideHooks { hidden, pagehide }
    }
}

impl Drop for PageHideHooks {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            if let Some(document) = window.document() {
                let _ = document.remove_event_listener_with_callback(
                    "visibilitychange",
                    self.hidden.as_ref().unchecked_ref(),
                );
            }
            let _ = window.remove_event_listener_with_callback(
                "pagehide",
                self.pagehide.as_ref().unchecked_ref(),
            );
        }
    }
}
