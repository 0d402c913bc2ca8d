//! Settings (`/settings`): connections, their presets and keys.

pub mod connection_api;
pub mod connections;
pub mod page;
