//! Release wasm builds are split into chunks loaded on demand (ARCHITECTURE.md, "Bundle size").
//!
//! For those builds only, this sets `cfg(duanju_split)`, which turns the lazy pages' loaders
//! (src/ui/app.rs) into wasm-split points, and links the app with `--emit-relocs`, which the
//! splitter needs to move functions between modules. Trunk's post-build hook
//! (scripts/post-build.mjs) then runs wasm-split, wasm-bindgen and wasm-opt on the result. Debug
//! builds, the wasm tests and native builds are unaffected.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(duanju_split)");
    println!("cargo::rerun-if-changed=build.rs");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    let release = std::env::var("PROFILE").is_ok_and(|profile| profile == "release");
    if wasm && release {
        println!("cargo::rustc-cfg=duanju_split");
        println!("cargo::rustc-link-arg-bins=--emit-relocs");
    }
}
