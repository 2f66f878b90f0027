//! The rows on realistic label values and at scale (issue 19), all on the
//! data of `data.rs`: lookups over route patterns of 4-64 bytes, random
//! lookups in families of 10, 10 000 and 100 000 series, a held
//! `HistogramVec<3>` child, heap per series for repeated and all-distinct
//! values, encode at 1k / 10k / 100k / 1M series.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use bareprom::{CounterCell, CounterVec, HistogramVec, Registry};

use super::data::{distinct_sets, random_order, realistic_sets, repeated_sets, value_bytes};
use super::encode_jobs::{encode_job, memcpy_job};
use super::timing::{Job, median, observations};
use super::{ALLOC, Row, Target};

/// Random lookups per sample cycle over this many drawn indexes.
const ORDER: usize = 1 << 16;
/// Series counts of the encode rows.
pub(crate) const ENCODE_SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
/// Series counts of the random-lookup rows.
pub(crate) const FAMILY_SIZES: [usize; 3] = [10, 10_000, 100_000];

/// A family, the label sets it holds, and the order a row looks them up in.
type SizedFamily = (CounterVec<3>, Vec<[&'static str; 3]>, Vec<usize>);

/// Everything the rows borrow, built before timing.
pub(crate) struct Inputs {
    few: (CounterVec<3>, Vec<[&'static str; 3]>),
    many: (CounterVec<3>, Vec<[&'static str; 3]>),
    families: Vec<SizedFamily>,
    held: bareprom::Child<bareprom::HistogramCell>,
    values: Vec<f64>,
    encodes: Vec<(Registry, Vec<u8>)>,
    /// Heap per series and value bytes per series: repeated, distinct.
    pub(crate) heap: [(f64, f64); 2],
}

fn family(name: &'static str, sets: &[[&str; 3]]) -> CounterVec<3> {
    let family = CounterVec::try_new(name, "Requests.", ["method", "route", "status"])
        .expect("valid")
        .with_series_limit(usize::MAX);
    for set in sets {
        family.with(*set).inc();
    }
    family
}

/// Live heap bytes per series of a `CounterVec<3>` holding `sets`.
fn heap(sets: &[[&'static str; 3]]) -> (f64, f64) {
    let family = CounterVec::<3>::try_new("heap_total", "Heap.", ["method", "route", "status"]).expect("valid");
    let before = ALLOC.heap_bytes();
    for set in sets {
        drop(family.with(*set));
    }
    let after = ALLOC.heap_bytes();
    assert_eq!(family.len(), sets.len());
    ((after as f64 - before as f64) / sets.len() as f64, value_bytes(sets))
}

impl Inputs {
    pub(crate) fn new() -> Self {
        // Heap first, on a quiet heap.
        let heap = [heap(&repeated_sets()), heap(&distinct_sets(10_000))];
        let few = realistic_sets(50, 0x5eed_0050);
        let many = realistic_sets(2000, 0x5eed_2000);
        let families = FAMILY_SIZES
            .iter()
            .map(|&n| {
                let sets = realistic_sets(n, 0x5eed_0000 + n as u64);
                let order = random_order(n, ORDER, n as u64);
                (family("family_total", &sets), sets, order)
            })
            .collect();
        let hvec = Box::leak(Box::new(
            HistogramVec::<3>::try_new("held_seconds", "Held.", ["method", "route", "status"]).expect("valid"),
        ));
        let held = hvec.with(few[0]);
        let encodes = ENCODE_SIZES
            .iter()
            .map(|&n| {
                let sets = realistic_sets(n, 0x5eed_e000 + n as u64);
                let family = family("http_requests_total", &sets);
                let registry = Registry::new().without_health();
                registry.register_arc(Arc::new(family)).expect("registers");
                let bytes = vec![b'x'; registry.render().len()];
                (registry, bytes)
            })
            .collect();
        Inputs {
            few: (family("few_total", &few), few),
            many: (family("many_total", &many), many),
            families,
            held,
            values: observations(),
            encodes,
            heap,
        }
    }

    /// The timed rows.
    pub(crate) fn rows(&self) -> Vec<Row<'_>> {
        /// Cycles through `sets`, looking each up and incrementing it with
        /// `inc` (`with(..).inc()`, or `apply` with no handle).
        fn cycle<'a>(
            (family, sets): &'a (CounterVec<3>, Vec<[&'static str; 3]>),
            inc: impl Fn(&CounterVec<3>, [&'static str; 3]) + 'a,
        ) -> Job<'a> {
            Box::new(move |n| {
                let mut i = 0;
                for _ in 0..n {
                    inc(family, black_box(sets[i]));
                    i = if i == sets.len() - 1 { 0 } else { i + 1 };
                }
            })
        }
        let with = |family: &CounterVec<3>, set| family.with(set).inc();
        let apply = |family: &CounterVec<3>, set| family.apply(set, CounterCell::inc);
        let random = |k: usize| -> Job<'_> {
            let (family, sets, order) = &self.families[k];
            Box::new(move |n| {
                let mut i = 0;
                for _ in 0..n {
                    family.with(black_box(sets[order[i]])).inc();
                    i = (i + 1) & (ORDER - 1);
                }
            })
        };
        let mut rows = vec![
            Row::new(
                "3-label lookup + inc, 50 realistic sets (routes 4-64 B)",
                Target::None,
                cycle(&self.few, with),
            ),
            Row::new(
                "3-label lookup + inc, 2000 realistic sets (past any cache)",
                Target::None,
                cycle(&self.many, with),
            ),
            Row::new(
                "3-label lookup + inc through `apply`, 50 realistic sets",
                Target::None,
                cycle(&self.few, apply),
            )
            .reference("`with(..).inc()`", cycle(&self.few, with)),
            Row::new(
                "3-label lookup + inc through `apply`, 2000 realistic sets",
                Target::None,
                cycle(&self.many, apply),
            )
            .reference("`with(..).inc()`", cycle(&self.many, with)),
        ];
        for (k, n) in FAMILY_SIZES.iter().enumerate() {
            let mut row = Row::new(
                format!("random lookup + inc in a family of {n} series"),
                Target::None,
                random(k),
            );
            if *n == 100_000 {
                row = row.reference("the same in 10 000 series", random(1));
            }
            rows.push(row);
        }
        let (held, values) = (&self.held, &self.values);
        rows.push(
            Row::new(
                "held `HistogramVec<3>` child observe (default buckets)",
                Target::None,
                Box::new(move |n| {
                    let held = black_box(held);
                    for i in 0..n {
                        held.observe(black_box(values[(i & 63) as usize]));
                    }
                }),
            )
            .reference(
                "its two atomics bare (bucket fetch_add, f64 sum CAS)",
                Box::new(move |n| {
                    for i in 0..n {
                        two_atomics(black_box(values[(i & 63) as usize]));
                    }
                }),
            ),
        );
        for ((registry, bytes), n) in self.encodes.iter().zip(ENCODE_SIZES) {
            let len = bytes.len();
            rows.push(
                Row::new(
                    format!("encode {n} series (`CounterVec<3>`, realistic sets)"),
                    Target::None,
                    encode_job(registry),
                )
                .reference("memcpy same bytes", memcpy_job(bytes))
                .derive(move |ns| format!("{:.1} ns/series, {:.0} MB/s", ns / n as f64, len as f64 / ns * 1e3)),
            );
        }
        rows
    }
}

/// The lines after the table: encode scaling and heap per series.
pub(crate) fn summary(rows: &[Row<'_>], inputs: &Inputs) {
    let encode_row = |n: usize| {
        rows.iter().find(|r| {
            r.name
                .starts_with(&format!("encode {n} series (`CounterVec<3>`, realistic"))
        })
    };
    if let (Some(small), Some(large)) = (encode_row(10_000), encode_row(1_000_000)) {
        let (at10k, at1m) = (median(small.samples(0)) / 1e4, median(large.samples(0)) / 1e6);
        // Per round, as every ratio here: the two rows ran seconds apart.
        let ratios: Vec<f64> = large
            .samples(0)
            .iter()
            .zip(small.samples(0))
            .map(|(l, s)| (l / 1e6) / (s / 1e4))
            .collect();
        let ratio = median(&ratios);
        println!(
            "encode scaling, realistic sets: {at10k:.1} ns/series at 10k, {at1m:.1} at 1M: {ratio:.2}x, median of per-round ratios (target <= 1.15x: {})",
            if ratio <= 1.15 { "ok" } else { "MISS" }
        );
    }
    for ((per, values), what) in inputs.heap.iter().zip([
        "10k repeated sets (5 methods x 500 routes x 4 statuses)",
        "10k all-distinct sets",
    ]) {
        println!(
            "heap per series, `CounterVec<3>`, {what}: {per:.1} B ({values:.1} B of label values; target <= 56 B: {})",
            if *per <= 56.0 { "ok" } else { "MISS" }
        );
    }
}

static BUCKETS: [AtomicU64; 12] = [const { AtomicU64::new(0) }; 12];
static SUM: AtomicU64 = AtomicU64::new(0);

/// What an observe cannot do without: one `fetch_add` on a bucket picked by
/// the value, one compare-and-swap loop adding the value to an `f64` sum.
/// The lower bound of the histogram rows (no bucket search, no handle).
#[inline]
fn two_atomics(v: f64) {
    BUCKETS[(v.to_bits() >> 52) as usize % 12].fetch_add(1, Relaxed);
    let mut current = SUM.load(Relaxed);
    loop {
        let next = (f64::from_bits(current) + v).to_bits();
        match SUM.compare_exchange_weak(current, next, Relaxed, Relaxed) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}
