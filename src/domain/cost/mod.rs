//! What production costs: exact money, the price catalog and its LiteLLM exchange, price
//! profiles, the production plan (its file format, its form edits, its URL fragment), the plan →
//! estimate computation with its CSV and chart data, the seeds' figures and their corrections,
//! and the ledger of what was actually spent, call by call.

pub mod billing;
pub mod catalog;
pub mod episode_media;
pub mod estimate;
pub mod estimate_csv;
pub mod ledger;
pub mod litellm;
pub mod money;
pub mod plan;
pub mod plan_edit;
pub mod plan_link;
pub mod pricing;
pub mod profile;
pub mod seed_figures;
pub mod spend_chart;
