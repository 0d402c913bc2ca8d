//! The Shared view (`/view`): a storyboard opened from a link or a file, the reviewer's sheet,
//! the share panel, and merging a reviewer's notes back.

pub mod merge_view;
pub mod page;
pub mod share_panel;
pub mod storyboard_sheet;
