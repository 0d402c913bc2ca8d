//! Reusable components.

pub mod header;
