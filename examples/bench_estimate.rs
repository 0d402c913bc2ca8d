//! Benchmark: the estimate for a plan of 200 series × 20 episodes (every stage, video, lines,
//! three profiles), recomputed many times. Prints one JSON object with the median time in µs.
//! Run by `make bench` (release build); the target is under 1 ms.

use duanju_studio::domain::cost::estimate::{estimate, PriceBook};
use duanju_studio::domain::cost::plan::bench_plan_200_series;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let plan = bench_plan_200_series();
    let book = PriceBook::defaults();
    // Warm up, then time batches so the clock's resolution does not matter.
    for _ in 0..200 {
        black_box(estimate(black_box(&plan), black_box(&book)).expect("the bench plan is valid"));
    }
    const BATCH: u32 = 100;
    let mut samples: Vec<f64> = (0..51)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..BATCH {
                black_box(estimate(black_box(&plan), black_box(&book)).expect("valid"));
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    println!(
        "{{\"median_us\": {median:.2}, \"min_us\": {:.2}, \"max_us\": {:.2}, \"runs\": {}}}",
        samples[0],
        samples[samples.len() - 1],
        samples.len() * BATCH as usize
    );
}
