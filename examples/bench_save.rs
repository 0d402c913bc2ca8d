//! Times the pure half of one autosave of the 12 × 47 sample series natively: the merge with
//! the stored copy and the serialisation written to IndexedDB. `cargo run --release --example bench_save`
use duanju_studio::domain::project::merge::merge_projects;
use duanju_studio::domain::project::sample::sample_series;
use std::time::Instant;

fn main() {
    let stored = sample_series(12, 47);
    let mut local = stored.clone();
    let shot = local.episodes[3].scenes[2].shots[1].clone();
    let mut edited = shot;
    edited.action.push('!');
    edited.touch(1.0e12, "tab-b");
    local.episodes[3].scenes[2].shots[1] = edited;
    let runs = 20;
    let t = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(local.clone());
    }
    let clone_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let t = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(merge_projects(&local, &stored, 1.0e12));
    }
    let merge_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let t = Instant::now();
    let mut len = 0;
    for _ in 0..runs {
        len = serde_json::to_string(&local).unwrap().len();
    }
    let ser_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!(
        "clone {clone_ms:.2} ms, merge {merge_ms:.2} ms, serialise {ser_ms:.2} ms ({len} bytes)"
    );
}
