//! Tiny UI preferences (the language) in `localStorage`. Drafts never go here: they live in
//! IndexedDB. A blocked or full storage is not an error for a preference: it is just not kept.

const PREFIX: &str = "duanju.";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Reads a preference.
pub fn get(name: &str) -> Option<String> {
    storage()?
        .get_item(&format!("{PREFIX}{name}"))
        .ok()
        .flatten()
}

/// Writes a preference; returns whether it was kept.
pub fn set(name: &str, value: &str) -> bool {
    storage()
        .map(|s| s.set_item(&format!("{PREFIX}{name}"), value).is_ok())
        .unwrap_or(false)
}
