//! Browser tests (wasm-bindgen-test in headless Chromium): the adapters and components against
//! the real DOM, storage and IndexedDB.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "web/support.rs"]
mod support;

#[path = "web/shell.rs"]
mod shell;

#[path = "web/http.rs"]
mod http;

#[path = "web/messages.rs"]
mod messages;

#[path = "web/probe.rs"]
mod probe;

#[path = "web/editors.rs"]
mod editors;

#[path = "web/drafts.rs"]
mod drafts;

#[path = "web/share.rs"]
mod share;

#[path = "web/batch.rs"]
mod batch;

#[path = "web/reveal.rs"]
mod reveal;

#[path = "web/lazy.rs"]
mod lazy;

#[path = "web/timer.rs"]
mod timer;

#[path = "web/storage.rs"]
mod storage;

#[path = "web/video.rs"]
mod video;

#[path = "web/gate.rs"]
mod gate;
