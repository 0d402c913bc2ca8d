//! Entry point: install the panic hook and mount the app. Everything else lives in the library.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(duanju_studio::ui::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("Duanju Studio runs in the browser: build it with `trunk build --release` or run `make serve`.");
}
