//! Pure domain logic, grouped by capability. Architecture invariant: nothing here touches the
//! browser, the network, the clock or storage; every function is deterministic and natively
//! testable.
//!
//! - [`cost`] — money, prices, profiles, the plan and its estimate, the ledger.
//! - [`provider`] — connections, routes, chat, SSE, errors, rate limits, token estimates.
//! - [`batch`] — the batch engine: items, quotes, the limiter, retries, what is stored.
//! - [`script`] — Fountain, script import, text diffs.
//! - [`storyboard`] — the shot schema, JSON from LLM replies, scene runs, merge, exports.
//! - [`project`] — the series model, its file format and migrations, two-tab merge, the sample.
//! - [`share`] — storyboards shared by link or file, and reviewers' notes.
//! - [`media`] — video jobs (and the images, speech and timeline to come).
//! - [`encoding`] — CSV, base64url, hashing, enum wire names.
//! - [`tabs`] — what the tabs of one browser share: settings merged, a project's budget split.
//! - [`i18n`] — the two languages.

pub mod batch;
pub mod cost;
pub mod encoding;
pub mod i18n;
pub mod media;
pub mod project;
pub mod provider;
pub mod script;
pub mod share;
pub mod storyboard;
pub mod tabs;
