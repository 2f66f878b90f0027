// The timing harness and workload inputs shared by `benches/hot_paths.rs`
// and `bench-compare/src/main.rs` (each includes this file with
// `#[path]`), so that both measure the same way on the same label sets.
//
// Each includer uses a different part of it.
#![allow(dead_code)]
// Timing arithmetic converts iteration counts to f64 on purpose; the
// counts are far below 2^53.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
//
// A job runs its workload `n` times; it is calibrated once so that one
// sample lasts about `SAMPLE`, then sampled once per round by the caller's
// round loop; tables show medians over rounds.

use std::time::{Duration, Instant};

/// Wall time one sample of one job aims for.
pub(crate) const SAMPLE: Duration = Duration::from_millis(4);

/// A job runs its workload `n` times.
pub(crate) type Job<'a> = Box<dyn FnMut(u64) + 'a>;

/// A job with its calibrated iteration count and its samples (ns per
/// operation, one per round).
pub(crate) struct Timed<'a> {
    pub(crate) label: &'static str,
    pub(crate) job: Job<'a>,
    /// The calibration starts here: threaded jobs need enough work per
    /// sample to hide the cost of starting their threads.
    pub(crate) min_iters: u64,
    pub(crate) iters: u64,
    pub(crate) samples: Vec<f64>,
}

impl<'a> Timed<'a> {
    pub(crate) fn new(label: &'static str, job: Job<'a>) -> Self {
        Timed {
            label,
            job,
            min_iters: 1,
            iters: 0,
            samples: Vec::new(),
        }
    }

    /// Picks an iteration count that makes one sample last about `SAMPLE`.
    pub(crate) fn calibrate(&mut self) {
        let mut n = self.min_iters;
        loop {
            let t = Instant::now();
            (self.job)(n);
            let spent = t.elapsed();
            if spent >= SAMPLE / 8 || n >= 1 << 40 {
                let scale = SAMPLE.as_secs_f64() / spent.as_secs_f64().max(1e-9);
                self.iters = ((n as f64 * scale) as u64).max(self.min_iters);
                return;
            }
            n *= 2;
        }
    }

    /// Runs the job once at the calibrated count and records ns/op.
    pub(crate) fn sample(&mut self) {
        let t = Instant::now();
        (self.job)(self.iters);
        self.samples.push(t.elapsed().as_nanos() as f64 / self.iters as f64);
    }
}

/// Rounds to run: `BENCH_ROUNDS` from the environment, else `default`.
pub(crate) fn rounds(default: usize) -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The median, NaN for no values.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        f64::midpoint(v[mid - 1], v[mid])
    }
}

/// Calibrates every job, then samples every job of every row once per
/// round, rotating which job of a row goes first from round to round.
pub(crate) fn run_rounds<'a, R>(rows: &mut [R], rounds: usize, jobs: impl Fn(&mut R) -> &mut [Option<Timed<'a>>]) {
    for row in rows.iter_mut() {
        for timed in jobs(row).iter_mut().flatten() {
            timed.calibrate();
        }
    }
    for round in 0..rounds {
        for row in rows.iter_mut() {
            let row = jobs(row);
            let n = row.len();
            for k in 0..n {
                if let Some(timed) = &mut row[(round + k) % n] {
                    timed.sample();
                }
            }
        }
    }
}

pub(crate) const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];
pub(crate) const ROUTES: [&str; 5] = [
    "/api/users/:id",
    "/api/users",
    "/api/orders/:id",
    "/api/orders",
    "/healthz",
];
pub(crate) const STATUSES: [&str; 2] = ["200", "404"];

/// The 50 label sets the lookup rows cycle over; the first is
/// `["GET", "/api/users/:id", "200"]`.
pub(crate) fn label_sets() -> Vec<[&'static str; 3]> {
    let mut sets = Vec::new();
    for m in METHODS {
        for r in ROUTES {
            for s in STATUSES {
                sets.push([m, r, s]);
            }
        }
    }
    sets
}

/// 2000 label sets, more than bareprom's per-thread lookup cache holds (128
/// entries), so that cycling through them shows the uncached lookup. The
/// routes are leaked: every library gets `&'static str`s, as
/// `prometheus-client`'s label struct needs.
pub(crate) fn many_label_sets() -> Vec<[&'static str; 3]> {
    (0..2000)
        .map(|i| {
            let route: &'static str = format!("/api/items/{i}").leak();
            [METHODS[i % 5], route, STATUSES[i % 2]]
        })
        .collect()
}

/// 64 observations spread over the default buckets and past them.
pub(crate) fn observations() -> Vec<f64> {
    (0..64).map(|i| 0.001 * 1.15f64.powi(i)).collect()
}
