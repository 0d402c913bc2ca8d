//! Browser adapters: the only code that touches `web_sys`, storage, timers and the network.
//! Each adapter is small and turns browser failures into typed errors.

pub mod dom;
pub mod drafts;
pub mod exec;
pub mod files;
pub mod http;
pub mod idb;
pub mod models;
pub mod prefs;
pub mod probe;
pub mod pwa;
pub mod share_link;
pub mod tabs;
pub mod timer;
pub mod video;
