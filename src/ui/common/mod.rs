//! Widgets every page uses.

pub mod book_editing;
pub mod header;
pub mod ledger_view;
pub mod reveal;
pub mod update_banner;
