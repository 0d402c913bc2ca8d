//! Storyboards: the shot schema and its checks, JSON extraction from an LLM's reply (with
//! repairs and diagnostics), the storyboard and dialogue-take runs of a scene, the character
//! bible sent as a cacheable prefix, merging a reviewer's edits back, and the exports (print,
//! shot list, subtitles).

pub mod character_bible;
pub mod export;
pub mod llm_json;
pub mod merge;
pub mod scene_runs;
pub mod schema;
