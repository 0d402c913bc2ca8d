//! Settings (`/settings`): connections, their presets and keys.

pub mod connections;
pub mod page;
