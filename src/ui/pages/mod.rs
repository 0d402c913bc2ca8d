//! One module per route.

pub mod estimate;
pub mod settings;
pub mod studio;
pub mod view;
