//! The Estimate page (`/`): a plan in, spend per stage, model and profile out; its folded
//! editors of price profiles, the catalog and the routes.

pub mod catalog_editor;
pub mod episode_media;
pub mod page;
pub mod profiles_editor;
pub mod routes_editor;
