//! Hot-path micro benchmarks for `bareprom`, std only (`harness = false`).
//!
//! Every timed row is measured against a bare `AtomicU64::fetch_add(1,
//! Relaxed)` in the same run: all jobs of all rows run once per round,
//! rounds are interleaved (the order inside a row rotates each round), and
//! the table shows medians over rounds. The ratio column is the median of
//! the per-round ratios, which cancels most of the noise of a shared VM.
//! Some rows also carry a second, more telling reference measured the same
//! way (the `System` allocator, a `memcpy` of the same bytes, a contended
//! bare atomic).
//!
//! The rows after the allocator's (`support/realistic.rs`) run on the
//! label sets of `support/data.rs`, the seeded generator bench-compare
//! shares: route patterns of 4-64 bytes, families of 10 to 100 000 series,
//! encode at 1 000 to 1 000 000 series.
//!
//! Run with `cargo bench --bench hot_paths`; the whole run takes under a
//! minute here (20-35 s, building the 1M-series registry included). Set `BENCH_ROUNDS` to change the number of rounds, and
//! `BENCH_FILTER` to a piece of a row's name to time only matching rows
//! (for a profiler, say).

// Timing arithmetic converts between iteration counts, byte counts and f64
// on purpose; every value is far from the limits of either type.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_possible_wrap)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

#[path = "support/data.rs"]
mod data;
#[path = "support/encode_jobs.rs"]
mod encode_jobs;
#[path = "support/figures.rs"]
mod figures;
#[path = "support/realistic.rs"]
mod realistic;
#[path = "support/registries.rs"]
mod registries;
#[path = "support/service.rs"]
mod service;
#[path = "support/threads.rs"]
mod threads;
#[path = "support/timing.rs"]
mod timing;
#[path = "support/under_scrape.rs"]
mod under_scrape;

use encode_jobs::{encode_job, encode_openmetrics_job, memcpy_job, protobuf_job};
use figures::{fmt_ns, fmt_ratio};
use registries::{combined_registry, counters_registry, histograms_registry};
use service::service_registry;
use threads::{overlap_note, threaded_job};
use timing::{Job, Timed, label_sets, many_label_sets, median, observations, run_rounds};

use bareprom::{
    Counter, CounterVec, CountingAlloc, Histogram, HistogramVec, ProcessCollector, Registry, ShardedCounter,
};

/// Counts live heap bytes, for the bytes-per-series rows.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new(System);

/// Rounds by default; every job of every row runs once per round.
const ROUNDS: usize = 41;
/// Series in the encode and heap rows.
const SERIES: usize = 10_000;

// ---------------------------------------------------------------------------
// The table rows (the timing itself is in support/timing.rs).

/// Formats a derived figure from the median ns per operation.
type Derive = Box<dyn Fn(f64) -> String>;

/// One row of the table: our job, the `fetch_add` baseline, and optionally a
/// second reference, each with its samples.
struct Row<'a> {
    name: String,
    target: Target,
    derive: Derive,
    jobs: Vec<Option<Timed<'a>>>,
}

/// What a row is judged by.
#[derive(Clone, Copy)]
enum Target {
    None,
    /// Our ns/op at most this many times the `fetch_add` baseline.
    RatioAtMost(f64),
    /// Our ns/op at most this.
    NsAtMost(f64),
    /// Throughput at least this many MB/s, for an output of this many bytes.
    MbPerSecAtLeast(f64, usize),
}

impl<'a> Row<'a> {
    fn new(name: impl Into<String>, target: Target, ours: Job<'a>) -> Self {
        let baseline: Job<'a> = Box::new(fetch_add_baseline);
        Row {
            name: name.into(),
            target,
            derive: Box::new(|_| String::new()),
            jobs: vec![
                Some(Timed::new("bareprom", ours)),
                Some(Timed::new("fetch_add", baseline)),
            ],
        }
    }

    fn reference(mut self, label: &'static str, job: Job<'a>) -> Self {
        self.jobs.push(Some(Timed::new(label, job)));
        self
    }

    fn derive(mut self, derive: impl Fn(f64) -> String + 'static) -> Self {
        self.derive = Box::new(derive);
        self
    }

    /// The samples of job `i` (ours, the baseline, the reference).
    fn samples(&self, i: usize) -> &[f64] {
        self.jobs.get(i).and_then(Option::as_ref).map_or(&[], |t| &t.samples)
    }

    /// Starts every job's calibration at `n` iterations.
    fn min_iters(mut self, n: u64) -> Self {
        for timed in self.jobs.iter_mut().flatten() {
            timed.min_iters = n;
        }
        self
    }
}

/// Median over rounds of `a[i] / b[i]`.
fn median_ratio(a: &[f64], b: &[f64]) -> f64 {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    median(&ratios)
}

static BASELINE: AtomicU64 = AtomicU64::new(0);

fn fetch_add_baseline(n: u64) {
    let handle = black_box(&BASELINE);
    for _ in 0..n {
        handle.fetch_add(1, Relaxed);
    }
}

// ---------------------------------------------------------------------------
// Workloads.

static REQUESTS: Counter = Counter::new("bench_requests_total", "Requests.");
static HELD: CounterVec<3> = CounterVec::new("bench_held_total", "Held.", ["method", "route", "status"]);
static LOOKUP: CounterVec<3> = CounterVec::new("bench_lookup_total", "Lookups.", ["method", "route", "status"]);
static MANY: CounterVec<3> = CounterVec::new("bench_many_total", "Lookups.", ["method", "route", "status"]);
static LATENCY: Histogram = Histogram::new("bench_latency_seconds", "Latency.");
static NATIVE: bareprom::NativeHistogram = bareprom::NativeHistogram::new("bench_native_seconds", "Latency.");
static CLASSIC: Histogram = Histogram::new("bench_classic_seconds", "Latency.");
static NATIVE_BOTH: bareprom::NativeHistogram =
    bareprom::NativeHistogram::new("bench_both_seconds", "Latency.").with_classic_buckets(&bareprom::DEFAULT_BUCKETS);
static NATIVE_VEC: bareprom::NativeHistogramVec<1> =
    bareprom::NativeHistogramVec::new("bench_native_vec_seconds", "Latency.", ["op"]);
static CLASSIC_VEC: HistogramVec<1> = HistogramVec::new("bench_classic_vec_seconds", "Latency.", ["op"]);
static ROUTE_TABLE: bareprom::RouteTable = bareprom::RouteTable::new("bench_");
const ROUTE_SET: [&str; 5] = [
    "/api/users/:id",
    "/api/orders",
    "/api/orders/:id",
    "/health",
    "/api/items/:id",
];
static CONTENDED: Counter = Counter::new("bench_contended_total", "Contended.");
static CONTENDED_BASE: AtomicU64 = AtomicU64::new(0);
static SHARDED: ShardedCounter = ShardedCounter::new("bench_sharded_total", "Sharded.");
static SHARDED_BASE: AtomicU64 = AtomicU64::new(0);

/// Live heap bytes a family adds per series, for `SERIES` new series.
fn heap_per_series<F: Fn(&str)>(create: F) -> f64 {
    let routes: Vec<String> = (0..SERIES).map(|i| format!("/api/v1/items/{i}")).collect();
    let before = ALLOC.heap_bytes();
    for route in &routes {
        create(route);
    }
    let after = ALLOC.heap_bytes();
    (after as f64 - before as f64) / SERIES as f64
}

/// Registers `counters` into a fresh registry, `n` times.
fn register_job(counters: &[Arc<Counter>]) -> Job<'_> {
    Box::new(move |n| {
        for _ in 0..n {
            let registry = Registry::new();
            for counter in counters {
                registry.register_arc(Arc::clone(counter)).expect("distinct names");
            }
            black_box(&registry);
        }
    })
}

/// `n` alloc+free pairs of a 64-byte block through `alloc`.
#[allow(unsafe_code)] // `GlobalAlloc` is an unsafe trait; each block is allocated and freed with one layout.
fn alloc_free<A: GlobalAlloc>(alloc: &A, n: u64) {
    let layout = Layout::new::<[u8; 64]>();
    for _ in 0..n {
        // SAFETY: `layout` has a non-zero size.
        let ptr = unsafe { black_box(alloc).alloc(layout) };
        black_box(ptr);
        if !ptr.is_null() {
            // SAFETY: `ptr` was just allocated by `alloc` with `layout`.
            unsafe { alloc.dealloc(ptr, layout) };
        }
    }
}

static COUNTING: CountingAlloc = CountingAlloc::new(System);

fn mb_per_sec(bytes: usize, ns: f64) -> f64 {
    bytes as f64 / ns * 1e3
}

#[allow(clippy::too_many_lines)] // one place lists every row of the table, in table order
fn main() {
    let rounds = timing::rounds(ROUNDS);
    let started = Instant::now();

    let sets = label_sets();
    for set in &sets {
        LOOKUP.with(*set);
    }
    let many = many_label_sets();
    for set in &many {
        MANY.with(*set);
    }
    let held = HELD.with(["GET", "/api/users/:id", "200"]);
    let values = observations();

    let combined = combined_registry();
    let counters = counters_registry();
    let histograms = histograms_registry();
    let service = service_registry();
    let process = Registry::new();
    process
        .register_collector("process", ProcessCollector::new())
        .expect("registers");
    let tiny = Registry::new();
    tiny.register(&REQUESTS).expect("registers");

    let combined_bytes = combined.render().len();
    let combined_protobuf_bytes = {
        let mut out = Vec::new();
        combined.encode_protobuf(&mut out);
        out.len()
    };
    let counters_bytes = counters.render().len();
    let histograms_bytes = histograms.render().len();
    let service_text = service.render();
    let service_bytes = service_text.len();
    let service_lines = service_text.lines().filter(|l| !l.starts_with('#')).count();

    // Heap per series, before anything is timed.
    let family = CounterVec::<3>::try_new("heap_total", "Heap.", ["method", "route", "status"]).expect("valid");
    let counter_heap = heap_per_series(|route| drop(family.with(["GET", route, "200"])));
    // The rendered block is `method="GET",route="<route>",status="200"`.
    let label_block = (0..SERIES)
        .map(|i| r#"method="GET",route="",status="200""#.len() + format!("/api/v1/items/{i}").len())
        .sum::<usize>() as f64
        / SERIES as f64;
    let hfamily = HistogramVec::<1>::try_new("heap_seconds", "Heap.", ["route"]).expect("valid");
    let histogram_heap = heap_per_series(|route| drop(hfamily.with([route])));
    // Native series observed once (one 32-bucket chunk) and over three
    // decades (0.001 s to 1 s: three chunks).
    let nfamily = bareprom::NativeHistogramVec::<1>::try_new("heap_native_seconds", "Heap.", ["route"]).expect("valid");
    let native_heap = heap_per_series(|route| nfamily.with([route]).observe(0.25));
    let wide = bareprom::NativeHistogramVec::<1>::try_new("heap_wide_seconds", "Heap.", ["route"]).expect("valid");
    let wide_heap = heap_per_series(|route| {
        let child = wide.with([route]);
        for v in [0.001, 0.01, 0.1, 1.0] {
            child.observe(v);
        }
    });
    // Issue 19's rows: realistic label values, large families, 1M series.
    let scale = realistic::Inputs::new();

    // Allocations one encode makes (into a reused buffer).
    let mut buf = Vec::with_capacity(combined_bytes * 2);
    combined.encode(&mut buf);
    buf.clear();
    let allocs_before = ALLOC.allocations();
    combined.encode(&mut buf);
    let allocs_combined = ALLOC.allocations() - allocs_before;
    buf.clear();
    let allocs_before = ALLOC.allocations();
    service.encode(&mut buf);
    let allocs_service = ALLOC.allocations() - allocs_before;

    let src_combined = vec![b'x'; combined_bytes];
    let src_service = vec![b'x'; service_bytes];

    let contended_overlaps = Rc::new(RefCell::new(Vec::new()));
    let contended_base_overlaps = Rc::new(RefCell::new(Vec::new()));
    let sharded_overlaps = Rc::new(RefCell::new(Vec::new()));
    let sharded_base_overlaps = Rc::new(RefCell::new(Vec::new()));
    let alloc_overlaps = Rc::new(RefCell::new(Vec::new()));
    let system_overlaps = Rc::new(RefCell::new(Vec::new()));

    // Registered afresh by the registration row's every run.
    let registered: Vec<Arc<Counter>> = (0..2000)
        .map(|i| Arc::new(Counter::try_new(format!("app_metric_{i}_total"), "Help.").expect("valid")))
        .collect();

    let mut rows: Vec<Row<'_>> = vec![
        Row::new(
            "counter inc (static `Counter`)",
            Target::RatioAtMost(1.05),
            Box::new(|n| {
                let handle = black_box(&REQUESTS);
                for _ in 0..n {
                    handle.inc();
                }
            }),
        ),
        Row::new(
            "held child handle inc (`CounterVec<3>` child)",
            Target::RatioAtMost(1.05),
            Box::new(|n| {
                let handle = black_box(&held);
                for _ in 0..n {
                    handle.inc();
                }
            }),
        ),
        Row::new(
            "3-label lookup + inc (`with`, 50 label sets)",
            Target::NsAtMost(25.0),
            Box::new(|n| {
                let mut i = 0;
                for _ in 0..n {
                    LOOKUP.with(black_box(sets[i])).inc();
                    i = if i == sets.len() - 1 { 0 } else { i + 1 };
                }
            }),
        ),
        Row::new(
            "3-label lookup + inc (`with`, 2000 label sets: past the per-thread cache)",
            Target::None,
            Box::new(|n| {
                let mut i = 0;
                for _ in 0..n {
                    MANY.with(black_box(many[i])).inc();
                    i = if i == many.len() - 1 { 0 } else { i + 1 };
                }
            }),
        ),
        Row::new(
            "route-table record, hit (`GET /api/users/:id 200`, 5 routes)",
            Target::None,
            Box::new(|n| {
                let mut i = 0;
                for _ in 0..n {
                    ROUTE_TABLE.record("GET", black_box(ROUTE_SET[i]), 200, Duration::from_micros(250));
                    i = if i == ROUTE_SET.len() - 1 { 0 } else { i + 1 };
                }
            }),
        ),
        Row::new(
            "histogram observe (static, default buckets)",
            Target::NsAtMost(13.0),
            Box::new(|n| {
                for i in 0..n {
                    black_box(&LATENCY).observe(black_box(values[(i & 63) as usize]));
                }
            }),
        ),
        Row::new(
            "native histogram observe (static, schema 3)",
            Target::None,
            Box::new(|n| {
                for i in 0..n {
                    black_box(&NATIVE).observe(black_box(values[(i & 63) as usize]));
                }
            }),
        )
        .reference(
            "classic histogram observe (default buckets)",
            Box::new(|n| {
                for i in 0..n {
                    black_box(&CLASSIC).observe(black_box(values[(i & 63) as usize]));
                }
            }),
        ),
        Row::new(
            "native histogram + classic buckets alongside observe (static)",
            Target::None,
            Box::new(|n| {
                for i in 0..n {
                    black_box(&NATIVE_BOTH).observe(black_box(values[(i & 63) as usize]));
                }
            }),
        )
        .reference(
            "classic histogram observe (default buckets)",
            Box::new(|n| {
                for i in 0..n {
                    black_box(&CLASSIC).observe(black_box(values[(i & 63) as usize]));
                }
            }),
        ),
        Row::new(
            "native histogram observe (held `NativeHistogramVec<1>` child)",
            Target::None,
            {
                let (child, values) = (NATIVE_VEC.with(["read"]), &values);
                Box::new(move |n| {
                    for i in 0..n {
                        black_box(&*child).observe(black_box(values[(i & 63) as usize]));
                    }
                })
            },
        )
        .reference("held `HistogramVec<1>` child", {
            let (child, values) = (CLASSIC_VEC.with(["read"]), &values);
            Box::new(move |n| {
                for i in 0..n {
                    black_box(&*child).observe(black_box(values[(i & 63) as usize]));
                }
            })
        }),
        Row::new(
            "2-thread contended inc, one `Counter` (per inc)",
            Target::None,
            threaded_job(&contended_overlaps, |n| {
                for _ in 0..n {
                    black_box(&CONTENDED).inc();
                }
            }),
        )
        .reference(
            "2-thread bare fetch_add",
            threaded_job(&contended_base_overlaps, |n| {
                for _ in 0..n {
                    black_box(&CONTENDED_BASE).fetch_add(1, Relaxed);
                }
            }),
        )
        .min_iters(1 << 20)
        .derive(overlap_note(&contended_overlaps, &contended_base_overlaps)),
        Row::new(
            "2-thread contended inc, one `ShardedCounter` (per inc)",
            Target::None,
            threaded_job(&sharded_overlaps, |n| {
                for _ in 0..n {
                    black_box(&SHARDED).inc();
                }
            }),
        )
        .reference(
            "2-thread bare fetch_add",
            threaded_job(&sharded_base_overlaps, |n| {
                for _ in 0..n {
                    black_box(&SHARDED_BASE).fetch_add(1, Relaxed);
                }
            }),
        )
        .min_iters(1 << 20)
        .derive(overlap_note(&sharded_overlaps, &sharded_base_overlaps)),
        Row::new(
            format!(
                "encode 10k series (`CounterVec<3>`) + 100 histograms ({} KB)",
                combined_bytes / 1000
            ),
            Target::MbPerSecAtLeast(1500.0, combined_bytes),
            encode_job(&combined),
        )
        .reference("memcpy same bytes", memcpy_job(&src_combined))
        .derive(move |ns| format!("{:.2} ms, {:.0} MB/s", ns / 1e6, mb_per_sec(combined_bytes, ns))),
        Row::new(
            format!("  the same in protobuf ({} KB)", combined_protobuf_bytes / 1000),
            Target::None,
            protobuf_job(&combined),
        )
        .reference("text encode of the same registry", encode_job(&combined))
        .derive(move |ns| {
            format!(
                "{:.2} ms, {:.0} MB/s",
                ns / 1e6,
                mb_per_sec(combined_protobuf_bytes, ns)
            )
        }),
        Row::new(
            format!("  of which: 10k counter series only ({} KB)", counters_bytes / 1000),
            Target::MbPerSecAtLeast(1500.0, counters_bytes),
            encode_job(&counters),
        )
        .derive(move |ns| format!("{:.2} ms, {:.0} MB/s", ns / 1e6, mb_per_sec(counters_bytes, ns))),
        Row::new(
            format!("  of which: 100 histograms only ({} KB)", histograms_bytes / 1000),
            Target::MbPerSecAtLeast(1500.0, histograms_bytes),
            encode_job(&histograms),
        )
        .derive(move |ns| format!("{:.1} µs, {:.0} MB/s", ns / 1e3, mb_per_sec(histograms_bytes, ns))),
        Row::new(
            format!("encode realistic service (20 families, {service_lines} samples, {service_bytes} B)"),
            Target::MbPerSecAtLeast(1500.0, service_bytes),
            encode_job(&service),
        )
        .reference("memcpy same bytes", memcpy_job(&src_service))
        .derive(move |ns| format!("{:.1} µs, {:.0} MB/s", ns / 1e3, mb_per_sec(service_bytes, ns))),
        Row::new(
            "encode 10k series + 100 histograms, OpenMetrics 1.0 (`encode_openmetrics`)",
            Target::None,
            encode_openmetrics_job(&combined),
        )
        .reference("0.0.4 `encode`", encode_job(&combined)),
        Row::new(
            "encode realistic service, OpenMetrics 1.0",
            Target::None,
            encode_openmetrics_job(&service),
        )
        .reference("0.0.4 `encode`", encode_job(&service)),
        Row::new(
            "encode one counter (fixed cost of `Registry::encode`)",
            Target::None,
            encode_job(&tiny),
        ),
        Row::new(
            "process collector scrape (`render`, only `ProcessCollector`)",
            Target::None,
            Box::new(|n| {
                for _ in 0..n {
                    black_box(process.render());
                }
            }),
        )
        .derive(|ns| format!("{:.1} µs per scrape", ns / 1e3)),
        Row::new(
            "register 2000 `Counter`s into a fresh registry (reference: 500; linear is 4×, quadratic 16×)",
            Target::None,
            register_job(&registered[..2000]),
        )
        .reference("500 `Counter`s", register_job(&registered[..500]))
        .derive(|ns| format!("{:.0} ns per registration", ns / 2000.0)),
        Row::new(
            "`CountingAlloc` alloc+free, 64 B",
            Target::None,
            Box::new(|n| alloc_free(&COUNTING, n)),
        )
        .reference("`System` alloc+free", Box::new(|n| alloc_free(&System, n))),
        Row::new(
            "`CountingAlloc` alloc+free, 64 B, 2 threads (per pair)",
            Target::None,
            threaded_job(&alloc_overlaps, |n| alloc_free(&COUNTING, n)),
        )
        .reference(
            "`System`, 2 threads",
            threaded_job(&system_overlaps, |n| alloc_free(&System, n)),
        )
        .min_iters(1 << 18)
        .derive(overlap_note(&alloc_overlaps, &system_overlaps)),
    ];

    rows.extend(scale.rows());
    if let Ok(filter) = std::env::var("BENCH_FILTER") {
        rows.retain(|row| row.name.contains(&filter));
    }
    run_rounds(&mut rows, rounds, |row| &mut row.jobs);

    println!(
        "bareprom hot paths: medians of {rounds} interleaved rounds, ~{} ms per sample, {} cores",
        timing::SAMPLE.as_millis(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!();
    println!(
        "| workload | bareprom ns/op | fetch_add ns/op | ratio | reference (same run) | derived | target | verdict |"
    );
    println!("|---|---:|---:|---:|---|---|---|---|");
    for row in &rows {
        let ours = row.samples(0);
        let base = row.samples(1);
        let ns = median(ours);
        let ratio = median_ratio(ours, base);
        let reference = row.jobs.get(2).and_then(Option::as_ref).map_or_else(
            || "—".to_owned(),
            |r| {
                format!(
                    "{}: {} ns, ours {}",
                    r.label,
                    fmt_ns(median(&r.samples)),
                    fmt_ratio(median_ratio(ours, &r.samples))
                )
            },
        );
        let (target, verdict) = judge(row.target, ns, ratio);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            fmt_ns(ns),
            fmt_ns(median(base)),
            fmt_ratio(ratio),
            reference,
            (row.derive)(ns),
            target,
            verdict
        );
    }
    let judge_heap = |b: f64| if b <= 64.0 { "ok" } else { "MISS" };
    println!(
        "| heap per labelled series, `CounterVec<3>` (label block {label_block:.1} B) | — | — | — | — | {counter_heap:.1} B/series | ≤ 64 B | {} |",
        judge_heap(counter_heap)
    );
    println!(
        "| heap per labelled series, `HistogramVec<1>` default buckets | — | — | — | — | {histogram_heap:.1} B/series | — | — |"
    );
    println!(
        "| heap per labelled series, `NativeHistogramVec<1>`, one value / values over 3 decades | — | — | — | — | {native_heap:.1} / {wide_heap:.1} B/series | — | — |"
    );
    realistic::summary(&rows, &scale);
    println!();
    println!(
        "allocations per `Registry::encode` into a reused buffer: {allocs_combined} (10k counters + 100 histograms), {allocs_service} (realistic service)"
    );
    let labels = family.len();
    println!(
        "heap rows: {SERIES} new series (`[\"GET\", \"/api/v1/items/<i>\", \"200\"]`; {labels} held), live bytes requested from the allocator after minus before, divided by {SERIES}"
    );
    if std::env::var("BENCH_FILTER").is_err() {
        // The scraper encodes the 10k-series registry with the looked-up
        // family in it, so the two threads share that family's lock.
        let scraped = combined_registry();
        scraped.register(&LOOKUP).expect("registers");
        let (alone, busy, encodes) = under_scrape::p99_with_and_without_scrapes(&scraped, |i| {
            LOOKUP.with(black_box(sets[i % sets.len()])).inc();
        });
        let ratio = busy / alone;
        println!(
            "3-label lookup + inc, p99 of 16-op batches: {alone:.1} ns/op alone, {busy:.1} ns/op while another thread encodes the 10k-series registry in a loop ({encodes:.0} scrapes per run): {ratio:.2}x (target <= 1.2x: {})",
            if ratio <= 1.2 { "ok" } else { "MISS" }
        );
    }
    println!("total run time: {:.1} s", started.elapsed().as_secs_f64());
}

fn judge(target: Target, ns: f64, ratio: f64) -> (String, &'static str) {
    let verdict = |ok: bool| if ok { "ok" } else { "MISS" };
    match target {
        Target::None => ("—".to_owned(), "—"),
        Target::RatioAtMost(r) => (format!("≤ {r:.2}× fetch_add"), verdict(ratio <= r)),
        Target::NsAtMost(t) => (format!("≤ {t} ns"), verdict(ns <= t)),
        Target::MbPerSecAtLeast(mb, bytes) => (format!("≥ {mb:.0} MB/s"), verdict(mb_per_sec(bytes, ns) >= mb)),
    }
}
