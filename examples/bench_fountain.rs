//! Benchmark: parsing 2 MiB of hostile Fountain text (the import cap), one text per pattern
//! that a parser rescanning from each position would make quadratic: unclosed `/*` openers,
//! `/*` openers all closed by one inline `*/` at the end, `[[` notes over whitespace-only lines,
//! one scene with tens of thousands of distinct cues, and every heading numbered `#1#`.
//! Prints one JSON object: per pattern the median ms of `parse` (`…_ms`) and of `parse` then
//! `scenes` (`…_scenes_ms`, what an import does), and the slowest of each (`max_ms`, which
//! `make bench` reports as `fountain_hostile_2mib_ms`, and `max_scenes_ms`). The target
//! is under 200 ms. `cargo run --release --example bench_fountain [KiB]` (default 2048).

use duanju_studio::domain::script::fountain::{parse, scenes};
use std::hint::black_box;
use std::time::Instant;

/// `unit` repeated to `bytes`, then `tail`.
fn repeated(unit: &str, bytes: usize, tail: &str) -> String {
    let mut text = unit.repeat(bytes / unit.len());
    text.push_str(tail);
    text
}

/// One scene whose cues are all different: `INT. A`, then `C0\nx`, `C1\nx`…
fn many_cues(bytes: usize) -> String {
    let mut text = String::from("INT. A\n\n");
    let mut n = 0u32;
    while text.len() < bytes {
        text.push_str(&format!("C{n}\nx\n\n"));
        n += 1;
    }
    text
}

fn main() {
    let kib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2048);
    let bytes = kib * 1024;
    let patterns = [
        ("unclosed_boneyard", repeated("/*\n\n", bytes, "")),
        (
            "boneyard_closed_at_end",
            repeated("/*\n\n", bytes, "*/ x\n"),
        ),
        ("notes_over_blank_lines", repeated("[[\n \n", bytes, "")),
        ("many_cues", many_cues(bytes)),
        (
            "repeated_scene_number",
            repeated("INT. A #1#\n\n", bytes, ""),
        ),
    ];
    let mut fields = Vec::new();
    let (mut max_ms, mut max_scenes_ms) = (0.0f64, 0.0f64);
    for (name, text) in &patterns {
        for with_scenes in [false, true] {
            let mut samples: Vec<f64> = (0..5)
                .map(|_| {
                    let start = Instant::now();
                    let (script, diagnostics) = parse(black_box(text));
                    if with_scenes {
                        black_box(scenes(&script));
                    }
                    black_box((script, diagnostics));
                    start.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            samples.sort_by(f64::total_cmp);
            let median = samples[samples.len() / 2];
            if with_scenes {
                max_scenes_ms = max_scenes_ms.max(median);
                fields.push(format!("\"{name}_scenes_ms\": {median:.2}"));
            } else {
                max_ms = max_ms.max(median);
                fields.push(format!("\"{name}_ms\": {median:.2}"));
            }
        }
    }
    println!(
        "{{\"max_ms\": {max_ms:.2}, \"max_scenes_ms\": {max_scenes_ms:.2}, {}, \"bytes\": {bytes}}}",
        fields.join(", ")
    );
}
