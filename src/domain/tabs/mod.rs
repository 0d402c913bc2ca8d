//! What the tabs of one browser share, and how two tabs' work is reconciled (the pure half of
//! `web/tabs.rs` and of the settings' and budgets' storage).
//!
//! - [`settings`] — the connections, remembered keys, active connection and price book: each
//!   tab's edit applied onto the record as stored, so a stale tab never overwrites another's.
//! - [`budget_share`] — a project's budget split into claims, one per tab running its work, so
//!   that two tabs never commit the same remainder.
//!
//! Projects have their own two-tab merge, shot by shot: [`crate::domain::project::merge`].

pub mod budget_share;
pub mod settings;

#[cfg(test)]
mod tests;
