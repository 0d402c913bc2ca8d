//! Application-wide state provided as context by the shell.

use leptos::prelude::*;

/// The connection the app will call, as the header shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveConnection {
    /// The user's name for it, e.g. "Local sandbox".
    pub name: String,
    /// Its base URL, e.g. `http://127.0.0.1:8787/v1`.
    pub base_url: String,
}

/// Shared app state.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The selected connection; `None` until the user picks a preset and a key.
    pub connection: RwSignal<Option<ActiveConnection>>,
}

/// The app state from context.
pub fn use_app_state() -> AppState {
    expect_context::<AppState>()
}

/// The connection a build starts with. `make serve` builds with `DUANJU_DEV_SANDBOX` set, so
/// the page it serves starts on the local sandbox; a production build starts with none.
pub fn initial_connection() -> Option<ActiveConnection> {
    option_env!("DUANJU_DEV_SANDBOX").map(|url| ActiveConnection {
        name: "本地沙盒 Local sandbox".into(),
        base_url: if url.is_empty() || url == "1" {
            "http://127.0.0.1:8787/v1".into()
        } else {
            url.into()
        },
    })
}
