//! The hot path's tail latency while another thread scrapes in a loop,
//! against the same without the scraper: the issue's "a scrape running in a
//! loop on another thread" row.
//!
//! Each sample times a batch of `BATCH` operations (a single one is below
//! the clock's resolution) and divides; p99 is over `SAMPLES` batches.
//! Quiet and scraped runs alternate `RUNS` times and the medians of their
//! p99s are compared, as everywhere else in these benches.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Instant;

use bareprom::Registry;

use crate::timing::median;

const BATCH: usize = 16;
const SAMPLES: usize = 20_000;
const RUNS: usize = 7;

/// Median over runs of the p99 ns/op of `op`, without and with a thread
/// encoding `registry` in a loop; and how many scrapes ran per scraped run.
pub(crate) fn p99_with_and_without_scrapes(registry: &Registry, op: impl Fn(usize) + Sync) -> (f64, f64, f64) {
    let mut quiet = Vec::new();
    let mut scraped = Vec::new();
    let mut scrape_counts = Vec::new();
    for _ in 0..RUNS {
        quiet.push(p99(&op));
        let stop = AtomicBool::new(false);
        let (p, n) = std::thread::scope(|s| {
            let encoding = s.spawn(|| {
                let mut out = Vec::new();
                let mut n = 0_u32;
                while !stop.load(Relaxed) {
                    out.clear();
                    registry.encode(&mut out);
                    n += 1;
                }
                n
            });
            let p = p99(&op);
            stop.store(true, Relaxed);
            (p, encoding.join().unwrap_or(0))
        });
        scraped.push(p);
        scrape_counts.push(f64::from(n));
    }
    (median(&quiet), median(&scraped), median(&scrape_counts))
}

fn p99(op: &impl Fn(usize)) -> f64 {
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let start = Instant::now();
        for j in 0..BATCH {
            op(i * BATCH + j);
        }
        samples.push(start.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES * 99 / 100]
}
