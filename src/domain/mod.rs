//! Pure domain logic. Architecture invariant: nothing here touches the browser, the network,
//! the clock or storage; every function is deterministic and natively testable.

pub mod api_error;
pub mod batch;
pub mod chat;
pub mod connection;
pub mod csv;
pub mod estimate;
pub mod estimate_csv;
pub mod fountain;
pub mod i18n;
pub mod ledger;
pub mod litellm;
pub mod llm_json;
pub mod money;
pub mod plan;
pub mod plan_edit;
pub mod plan_link;
pub mod pricing;
pub mod profile;
pub mod project;
pub mod project_file;
pub mod project_merge;
pub mod project_sample;
pub mod ratelimit;
pub mod routing;
pub mod script_import;
pub mod seed_figures;
pub mod share;
pub mod spend_chart;
pub mod sse;
pub mod storyboard_export;
pub mod storyboard_merge;
pub mod storyboard_schema;
pub mod text_diff;
pub mod token_estimate;
pub mod video_job;
