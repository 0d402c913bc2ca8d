//! Reusable components.

pub mod batch_panel;
pub mod book_editing;
pub mod catalog_editor;
pub mod connections;
pub mod header;
pub mod ledger_view;
pub mod merge_view;
pub mod playground;
pub mod profiles_editor;
pub mod project_editor;
pub mod projects;
pub mod routes_editor;
pub mod share_panel;
pub mod shot_card;
pub mod storyboard_sheet;
pub mod update_banner;
