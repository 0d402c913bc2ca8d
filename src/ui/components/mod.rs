//! Reusable components.

pub mod book_editing;
pub mod catalog_editor;
pub mod connections;
pub mod header;
pub mod ledger_view;
pub mod playground;
pub mod profiles_editor;
pub mod routes_editor;
