//! The screenplay: the Fountain 1.1 parser and writer, a script's import into an episode (scenes
//! merged by id, nothing duplicated or deleted), and the word/line diff shown for a rewrite.

pub mod fountain;
pub mod import;
pub mod text_diff;
