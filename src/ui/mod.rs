//! Leptos components. Pages read signals and call domain functions; arithmetic and parsing
//! never live in `view!`.

pub mod app;
pub mod components;
pub mod i18n;
pub mod lazy;
pub mod pages;
pub mod state;
