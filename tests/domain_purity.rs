//! Architecture invariant: `src/domain` is pure. It knows nothing about the browser and cannot
//! fail on IO, so no file in it may import leptos, web_sys, js_sys, gloo, wasm_bindgen or idb.

use std::fs;
use std::path::Path;

const FORBIDDEN: [&str; 6] = ["leptos", "web_sys", "js_sys", "gloo", "wasm_bindgen", "idb"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/domain is readable") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Returns the offending lines of one source text.
fn impure_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|line| {
            let code = line.split("//").next().unwrap_or("");
            FORBIDDEN.iter().any(|krate| {
                code.contains(&format!("use {krate}"))
                    || code.contains(&format!("{krate}::"))
                    || code.contains(&format!("extern crate {krate}"))
            })
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn domain_imports_nothing_from_the_browser() {
    let mut files = Vec::new();
    rust_files(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/domain")
            .as_path(),
        &mut files,
    );
    assert!(files.len() >= 2, "the scan found the domain sources");
    let mut offenders = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for line in impure_lines(&text) {
            offenders.push(format!("{}: {}", file.display(), line.trim()));
        }
    }
    assert!(
        offenders.is_empty(),
        "src/domain must stay pure:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_scan_catches_each_forbidden_import() {
    for krate in FORBIDDEN {
        assert_eq!(
            impure_lines(&format!("use {krate}::prelude::*;")).len(),
            1,
            "{krate}"
        );
        assert_eq!(
            impure_lines(&format!("let x = {krate}::thing();")).len(),
            1,
            "{krate}"
        );
    }
    assert!(impure_lines("// web_sys:: is mentioned only in a comment").is_empty());
    assert!(impure_lines("use serde::Serialize;").is_empty());
}
