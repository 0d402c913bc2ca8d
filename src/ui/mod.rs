//! Leptos components, grouped by page. Components render state and call the domain for every
//! computation; `web` does their IO.
//!
//! - `app` — the router and the shell; `lazy` — split points and the deferred view.
//! - `estimate/` — the Estimate page and its folded editors (profiles, catalog, routes).
//! - `studio/` — the Studio: projects, the editor model and the editor, its panels (script,
//!   storyboard, takes, clips), shot cards, batches and the playground.
//! - `settings/` — connections and keys.
//! - `shared/` — the Shared view: a storyboard opened from a link or file, the reviewer's sheet,
//!   sharing and merging notes back.
//! - `common/` — widgets every page uses: the header, the ledger view, confirm buttons and
//!   field errors, progressive reveal, the update banner.
//! - `state` — the app-wide stored state; `shared_settings` — its writes, merged into what
//!   other tabs stored; `i18n` — the language context.

pub mod app;
pub mod common;
pub mod estimate;
pub mod i18n;
pub mod lazy;
pub mod settings;
pub mod shared;
pub mod shared_settings;
pub mod state;
pub mod studio;
