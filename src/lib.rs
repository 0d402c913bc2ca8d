//! Duanju Studio: a zero-install browser studio for AI short-drama (短剧) production.
//!
//! - [`domain`] is pure logic (pricing, routing, estimates, decoding). It performs no IO and
//!   compiles natively, so it is tested with plain `cargo test`.
//! - `web` holds the browser adapters (fetch, IndexedDB, timers) and `ui` the Leptos
//!   components; both exist only on `wasm32`.

pub mod domain;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod ui;
