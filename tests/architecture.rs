//! Architecture invariants of the browser half (the domain's purity is `tests/domain_purity.rs`):
//!
//! * **Every paid call goes through the executor** (`src/web/exec/`): no module under
//!   `src/ui` or `src/web` outside it calls the HTTP client's chat calls or the video job calls.
//! * **Components render; the domain computes**: no file under `src/ui` does arithmetic on money
//!   or tokens (adding, subtracting, scaling or summing amounts or token counts).
//!
//! Both scans read the source as text, with comments and string literals blanked out. There
//! are no exceptions.

use std::fs;
use std::path::{Path, PathBuf};

/// The paid calls of the HTTP client (`web/http.rs`) and of the video adapter (`web/video.rs`).
const PAID_CALLS: [&str; 5] = [
    "http::chat(",
    "http::chat_stream(",
    "video::submit(",
    "video::status(",
    "video::download(",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("the source folder is readable") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `source` with `//` comments and the contents of string literals blanked (a rough lexer:
/// enough for this code base's style, which has no raw strings in these folders' code lines).
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                    out.push('"');
                }
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
        out.push('\n');
    }
    out
}

/// The lines of `source` that make a paid call directly.
fn paid_call_lines(source: &str) -> Vec<String> {
    code_only(source)
        .lines()
        .filter(|line| PAID_CALLS.iter().any(|call| line.contains(call)))
        .map(|line| line.trim().to_owned())
        .collect()
}

/// Whether `line` does arithmetic on money or tokens: an arithmetic operator on the same line
/// as an amount or a token count, or a sum of amounts.
fn money_arithmetic(line: &str) -> bool {
    const MONEY: [&str; 9] = [
        "Money::",
        ".units()",
        ".micros()",
        ".cents()",
        "in_currency(",
        ".cost()",
        "_tokens",
        ".prompt",
        ".completion",
    ];
    const OPERATORS: [&str; 8] = [" + ", " - ", " * ", " / ", " += ", " -= ", " *= ", " /= "];
    line.contains("Money::sum(")
        || (MONEY.iter().any(|m| line.contains(m)) && OPERATORS.iter().any(|o| line.contains(o)))
}

fn money_lines(source: &str) -> Vec<String> {
    code_only(source)
        .lines()
        .filter(|line| money_arithmetic(line))
        .map(|line| line.trim().to_owned())
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every offence of `rule` in `folders`, outside the paths starting with one of `skip`.
fn scan(folders: &[&str], skip: &[&str], rule: fn(&str) -> Vec<String>) -> Vec<String> {
    let mut files = Vec::new();
    for folder in folders {
        rust_files(&root().join(folder), &mut files);
    }
    assert!(files.len() >= 10, "the scan found the sources");
    let mut offenders = Vec::new();
    for file in files {
        let path = relative(&file);
        if skip.iter().any(|s| path.starts_with(s)) {
            continue;
        }
        for line in rule(&fs::read_to_string(&file).unwrap()) {
            offenders.push(format!("{path}: {line}"));
        }
    }
    offenders
}

#[test]
fn every_paid_call_goes_through_the_executor() {
    let offenders = scan(
        &["src/ui", "src/web"],
        // The executor, and the adapters that define the calls.
        &["src/web/exec/", "src/web/http.rs", "src/web/video.rs"],
        paid_call_lines,
    );
    assert!(
        offenders.is_empty(),
        "a paid call outside src/web/exec (run it through the executor):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_ui_file_does_arithmetic_on_money_or_tokens() {
    let offenders = scan(&["src/ui"], &[], money_lines);
    assert!(
        offenders.is_empty(),
        "money or token arithmetic in the ui (move it into a domain function):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_scans_catch_what_they_look_for_and_ignore_comments_and_text() {
    assert_eq!(
        paid_call_lines("let r = http::chat_stream(&c, &k, &req, opts, f).await;").len(),
        1
    );
    assert_eq!(
        paid_call_lines("match video::submit(&c, &k, s, &b, None).await {").len(),
        1
    );
    assert_eq!(paid_call_lines("http::chat(&conn, &key, &req, o)").len(), 1);
    assert!(paid_call_lines("// http::chat( in a comment").is_empty());
    assert!(paid_call_lines(r#"let s = "http::chat(";"#).is_empty());
    assert!(paid_call_lines("let t = http::test_connection(&c, &k).await;").is_empty());

    assert_eq!(
        money_lines("let left = budget.money() - spent.in_currency(c);").len(),
        1
    );
    assert_eq!(money_lines("total += entry.cached_tokens;").len(), 1);
    assert_eq!(money_lines("let all = Money::sum(c, parts);").len(), 1);
    assert_eq!(
        money_lines("Money::from_units(c, a.units() + b.units())").len(),
        1
    );
    assert!(money_lines("let text = exact_amount(entry.cost());").is_empty());
    assert!(money_lines(r#"t("输入 / 输出 tokens", "input / output _tokens")"#).is_empty());
    assert!(money_lines("// cost = a.cost() + b.cost()").is_empty());
    assert!(money_lines("let width = left + 2 * gap;").is_empty());
}
