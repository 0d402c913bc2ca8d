//! The Studio (`/studio`): projects, the open project's model and editor, the panels it mounts
//! (script, storyboard, takes, clips, shot cards), batches (and their projects' budgets across
//! tabs, `budget_share`) and the playground.

pub mod batch_panel;
pub mod budget_share;
pub mod clips_panel;
pub mod editor_model;
pub mod page;
pub mod playground;
pub mod project_editor;
pub mod projects;
pub mod route_picker;
pub mod script_panel;
pub mod shot_card;
pub mod storyboard_panel;
pub mod takes_panel;
