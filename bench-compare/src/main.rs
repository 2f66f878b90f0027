//! The same workloads against `bareprom` and its peers, in one process, with
//! libraries interleaved inside every round; the table shows medians.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/target-bench-compare cargo run --release
//! --manifest-path bench-compare/Cargo.toml --bin bench-compare`
//! (`BENCH_ROUNDS=n` to change the number of rounds; `BENCH_ONLY=gzip` for
//! the gzip table alone).
//!
//! The rows after the host's bare `fetch_add` are issue 19's, on the label
//! sets of `benches/support/data.rs` (one seeded generator, shared with
//! `benches/hot_paths.rs`): lookups over route patterns of 4-64 bytes, 50
//! and 2 000 sets; random lookups in families of 10 000 and 100 000 series
//! (indexes drawn before timing); a held 3-label histogram child; heap per
//! series for 10 000 repeated and 10 000 all-distinct label sets. The last
//! column is the median over rounds of bareprom's time over
//! prometheus-client's in the same round.
//!
//! After the table, `bareprom::gzip` is timed against `flate2` (default
//! backend, default and fastest levels) on bareprom's 10k-series exposition;
//! see `gzip.rs`.
//!
//! Every library is used through its documented fast path. Where an API
//! forces a difference, it is this:
//!
//! - counter inc: `prometheus` (`IntCounter`), `prometheus-client`
//!   (`Counter`) and `measured` (`Counter`) hold the counter in a local
//!   value (an `Arc` for the first two); `metrics` has no free-standing
//!   counter, so this row holds the `metrics::Counter` handle returned by
//!   `counter!("name")` (an `Arc<dyn CounterFn>`, one virtual call per inc).
//!   Every library compiles this loop to one locked add per inc; a gap of
//!   about 10 % between them here follows code layout, not work (in
//!   `benches/hot_paths.rs` the static `Counter` is 1.00× a static
//!   `fetch_add` compiled to the same loop).
//! - held handle: `measured` has no handle. Its closest equivalent is a
//!   `LabelId` kept from `with_labels`, then `get_metric(id).inc()` on every
//!   call, which takes a shard's read lock of its sparse map (the map is
//!   sparse because the label sets are dynamic strings). `prometheus-client`
//!   holds the `Counter` from `get_or_create_owned` (an `Arc` clone).
//! - 3-label lookup: all three label values are run-time `&str`s for every
//!   library. `prometheus` identifies a series by a hash of the values alone
//!   (no string comparison; `("ab","c")` and `("a","bc")` are one series).
//!   `prometheus-client` takes a derived `EncodeLabelSet` struct of three
//!   `&'static str`s, hashed with SipHash and compared in full; building it
//!   is free. `metrics`' `counter!` with non-literal label values allocates a
//!   `Vec<Label>` for the key on every call, then looks it up; that is its
//!   documented way. `measured` interns each value in a `paracord::ParaCord`
//!   (`dynamic_with`), the dynamic-string label set its own benchmarks use,
//!   then looks the id up in its sharded sparse map. bareprom's `with`
//!   serves label sets the thread looked up recently from a per-thread
//!   cache (compared in full); the 2000-set row cycles through more label
//!   sets than it holds, so there every bareprom lookup goes to the table.
//! - histogram observe: all use the same 11 default bounds and the same
//!   cycling values. `prometheus-client` takes a mutex per observation.
//!   `metrics` only appends the raw value to a lock-free bucket and sorts it
//!   into the configured buckets later, at scrape or upkeep; that deferred
//!   work is real cost, so its job calls `run_upkeep()` once at the end of
//!   each sample, inside the timing.
//! - native histogram observe: bucket factor 1.1 (schema 3) and zero
//!   threshold 2^-128 for all, the same cycling values. bareprom's
//!   `NativeHistogram` counts into its fixed window (lock-free);
//!   `prometheus-client` 0.25 (`Histogram::new_native`) takes its mutex
//!   and grows a sparse bucket map; `metrics-exporter-prometheus` 0.18
//!   (`set_native_histogram_for_metric`, 160 buckets) defers the work as
//!   for the classic row, so its job runs `run_upkeep()` too. `prometheus`
//!   0.14 and `measured` have no native histograms.
//! - encode: every library writes 10 000 series of one 3-label counter into
//!   a reused buffer, except `measured`, whose `BufferedTextEncoder` hands out
//!   its buffer as `Bytes` on `finish()`. `prometheus` first builds its
//!   `MetricFamily` model with `gather()` (its only way); `prometheus-client`
//!   writes OpenMetrics text (a trailing `# EOF`, and `_total` appended to
//!   the family name it was given); `measured` and `prometheus-client` write
//!   series in hash-map order, the others in first-seen or sorted order. MB/s
//!   is each library's own output size over its own time.
//! - heap per series: bytes requested from the global allocator (a
//!   `bareprom::CountingAlloc`, the same for all), live after creating 10 000
//!   series minus before, per series; allocator slack is not counted. The
//!   label values are `"GET"`, `"/api/v1/items/<i>"`, `"200"`. Each library
//!   stores them as it must: `bareprom` renders and copies all three,
//!   `prometheus` copies all three (and builds label pairs with names),
//!   `prometheus-client` stores the key struct (`method` and `status` as
//!   `&'static str`, `route` as an owned `String`, as its docs do for a
//!   value known only at run time), `metrics` stores its `Key` (static
//!   strings borrowed, `route` owned), and `measured` interns every value
//!   once (so the repeated `"GET"` and `"200"` cost it nothing per series).

use std::alloc::System;
use std::hint::black_box;
use std::time::Instant;

#[path = "../../benches/support/data.rs"]
mod data;
#[path = "../../benches/support/timing.rs"]
mod timing;

use bareprom::CountingAlloc;
use timing::{Job, METHODS, STATUSES, Timed, label_sets, many_label_sets, median, observations, run_rounds};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new(System);

const ROUNDS: usize = 31;
const SERIES: usize = 10_000;
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const LIBS: [&str; 5] = ["bareprom", "prometheus", "prometheus-client", "metrics", "measured"];

// ---------------------------------------------------------------------------
// The rows (the timing itself is shared with benches/hot_paths.rs).

/// One workload: a job per library (in `LIBS` order), `None` where a
/// library cannot run it.
struct Row<'a> {
    name: &'static str,
    jobs: Vec<Option<Timed<'a>>>,
}

impl<'a> Row<'a> {
    fn new(name: &'static str, jobs: [Option<Job<'a>>; 5]) -> Self {
        let jobs = jobs.into_iter().map(|job| job.map(|job| Timed::new("", job))).collect();
        Row { name, jobs }
    }

    /// Median over rounds of bareprom's time over prometheus-client's in
    /// the same round: steadier than the ratio of the medians on a shared
    /// machine whose speed changes from one second to the next.
    fn versus_client(&self) -> Option<f64> {
        let (ours, client) = (self.jobs.first()?.as_ref()?, self.jobs.get(2)?.as_ref()?);
        let ratios: Vec<f64> = ours.samples.iter().zip(&client.samples).map(|(a, b)| a / b).collect();
        Some(median(&ratios))
    }

    fn medians(&self) -> Vec<Option<f64>> {
        self.jobs
            .iter()
            .map(|t| t.as_ref().map(|t| median(&t.samples)))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Shared inputs.

fn routes() -> Vec<String> {
    (0..SERIES).map(|i| format!("/api/v1/items/{i}")).collect()
}

/// The label values of encode series `i`.
fn encode_labels(i: usize, route: &str) -> [&str; 3] {
    let (method, status) = method_status(i);
    [method, route, status]
}

/// The method and status of encode series `i`.
fn method_status(i: usize) -> (&'static str, &'static str) {
    (METHODS[i % 5], STATUSES[i % 2])
}

/// Live heap bytes per series that `create` adds for each of `routes`.
fn heap_per_series(routes: &[String], mut create: impl FnMut(usize, &str)) -> f64 {
    let before = ALLOC.heap_bytes();
    for (i, route) in routes.iter().enumerate() {
        create(i, route);
    }
    let after = ALLOC.heap_bytes();
    (after as f64 - before as f64) / routes.len() as f64
}

// ---------------------------------------------------------------------------
// bareprom

mod ours;

// ---------------------------------------------------------------------------
// prometheus

mod prom;

// ---------------------------------------------------------------------------
// prometheus-client

mod client;

// ---------------------------------------------------------------------------
// metrics + metrics-exporter-prometheus

mod met;

// ---------------------------------------------------------------------------
// measured

mod meas;

// ---------------------------------------------------------------------------

mod lookups;

// ---------------------------------------------------------------------------
// Issue 19: realistic label values, large families, held histogram child.

mod realistic;

// ---------------------------------------------------------------------------
// gzip: bareprom::gzip against flate2

mod gzip;

// ---------------------------------------------------------------------------

#[allow(clippy::too_many_lines)] // every workload of every library, in table order
/// `n` calls of `inc` split over two threads that start together: the
/// time per call is the wall time over `n`, as with one thread.
fn contended(n: u64, inc: impl Fn() + Sync) {
    let barrier = std::sync::Barrier::new(2);
    let run = |calls| {
        barrier.wait();
        for _ in 0..calls {
            inc();
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| run(n / 2));
        run(n - n / 2);
    });
}

fn main() {
    use measured::MetricGroup as _;
    use prometheus::Encoder as _;

    let rounds = timing::rounds(ROUNDS);
    let started = Instant::now();
    // `BENCH_ONLY=gzip` runs the gzip table alone.
    if std::env::var("BENCH_ONLY").is_ok_and(|only| only == "gzip") {
        gzip::compare(ours::encode_registry().render().as_bytes(), rounds);
        return;
    }
    let sets = label_sets();
    let values = observations();

    // Heap first, on a quiet heap.
    let heap_routes = routes();
    let heap = [
        ours::heap(&heap_routes),
        prom::heap(&heap_routes),
        client::heap(&heap_routes),
        met::heap(&heap_routes),
        meas::heap(&heap_routes),
    ];
    let real_heaps: Vec<(&str, [f64; 5])> = realistic::heap_sets()
        .iter()
        .map(|(name, sets)| (*name, realistic::heap(sets, met::recorder())))
        .collect();

    // Counter inc.
    let p_counter = prom::counter();
    let c_counter = prometheus_client::metrics::counter::Counter::<u64>::default();
    let m_recorder = met::recorder();
    let m_counter = metrics::with_local_recorder(&m_recorder, || metrics::counter!("c_total"));
    let me_counter = measured::Counter::new();

    // Held handles.
    let o_held = ours::HELD.with(["GET", "/api/users/:id", "200"]);
    let p_vec = prom::vec("held_total");
    let p_held = p_vec.with_label_values(&["GET", "/api/users/:id", "200"]);
    let c_family = prometheus_client::metrics::family::Family::<client::Lookup, _>::default();
    let c_held: prometheus_client::metrics::counter::Counter = c_family.get_or_create_owned(&client::Lookup {
        method: "GET",
        route: "/api/users/:id",
        status: "200",
    });
    let m_held = metrics::with_local_recorder(
        &m_recorder,
        || metrics::counter!("held_total", "method" => "GET", "route" => "/api/users/:id", "status" => "200"),
    );
    let me_vec = meas::vec();
    let me_held = me_vec.with_labels(meas::request(["GET", "/api/users/:id", "200"]));

    // Lookups: every label set exists before timing.
    let few = lookups::Lookups::new("lookup_total", sets.clone(), &m_recorder);
    let many = lookups::Lookups::new("many_total", many_label_sets(), &m_recorder);
    let real = realistic::Inputs::new(&m_recorder);
    let held_histograms = realistic::HeldHistograms::new(&m_recorder, observations());

    // Histograms.
    let p_hist = prom::histogram();
    let c_hist = client::histogram();
    let m_hist = metrics::with_local_recorder(&m_recorder, || metrics::histogram!("h_seconds"));
    let m_handle = m_recorder.handle();
    let me_hist = meas::histogram();
    let c_native = client::native_histogram();
    let m_native = metrics::with_local_recorder(&m_recorder, || metrics::histogram!("n_seconds"));

    // Encoders.
    let o_reg = ours::encode_registry();
    let p_reg = prom::encode_registry();
    let c_reg = client::encode_registry();
    let m_enc = met::encode_recorder();
    let m_enc_handle = m_enc.handle();
    let me_group = meas::encode_group();
    let sizes = {
        let mut p = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&p_reg.gather(), &mut p)
            .expect("encodes");
        let mut c = String::new();
        prometheus_client::encoding::text::encode(&mut c, &c_reg).expect("encodes");
        let mut me = measured::text::BufferedTextEncoder::new();
        me_group.collect_group_into(&mut me).expect("encodes");
        [
            o_reg.render().len(),
            p.len(),
            c.len(),
            m_enc_handle.render().len(),
            me.finish().len(),
        ]
    };

    let mut rows = vec![
        Row::new(
            "counter inc",
            [
                Some(Box::new(|n| {
                    let handle = black_box(&ours::COUNTER);
                    for _ in 0..n {
                        handle.inc();
                    }
                })),
                Some(Box::new(|n| {
                    let handle = black_box(&p_counter);
                    for _ in 0..n {
                        handle.inc();
                    }
                })),
                Some(Box::new(|n| {
                    let handle = black_box(&c_counter);
                    for _ in 0..n {
                        handle.inc();
                    }
                })),
                Some(Box::new(|n| {
                    let handle = black_box(&m_counter);
                    for _ in 0..n {
                        handle.increment(1);
                    }
                })),
                Some(Box::new(|n| {
                    let handle = black_box(&me_counter);
                    for _ in 0..n {
                        handle.inc();
                    }
                })),
            ],
        ),
        Row::new(
            "held handle inc",
            [
                Some(Box::new(|n| {
                    let handle = black_box(&o_held);
                    for _ in 0..n {
                        handle.inc();
                    }
                })),
                Some(Box::new(|n| {
                    let handle = black_box(&p_held);
                    for _ in 0..n {
                        handle.inc();
                    }
                })),
                Some(Box::new(|n| {
                    let handle = black_box(&c_held);
                    for _ in 0..n {
                        handle.inc();
                    }
                })),
                Some(Box::new(|n| {
                    let handle = black_box(&m_held);
                    for _ in 0..n {
                        handle.increment(1);
                    }
                })),
                Some(Box::new(|n| {
                    for _ in 0..n {
                        black_box(&me_vec).get_metric(black_box(me_held)).inc();
                    }
                })),
            ],
        ),
        few.row("3-label lookup + inc (50 sets)", &m_recorder),
        many.row("3-label lookup + inc (2000 sets)", &m_recorder),
        Row::new(
            "histogram observe",
            [
                Some(Box::new(|n| {
                    for i in 0..n {
                        black_box(&ours::HISTOGRAM).observe(black_box(values[(i & 63) as usize]));
                    }
                })),
                Some(Box::new(|n| {
                    for i in 0..n {
                        black_box(&p_hist).observe(black_box(values[(i & 63) as usize]));
                    }
                })),
                Some(Box::new(|n| {
                    for i in 0..n {
                        black_box(&c_hist).observe(black_box(values[(i & 63) as usize]));
                    }
                })),
                Some(Box::new(|n| {
                    for i in 0..n {
                        black_box(&m_hist).record(black_box(values[(i & 63) as usize]));
                    }
                    m_handle.run_upkeep();
                })),
                Some(Box::new(|n| {
                    for i in 0..n {
                        black_box(&me_hist).observe(black_box(values[(i & 63) as usize]));
                    }
                })),
            ],
        ),
        Row::new(
            "native histogram observe (bucket factor 1.1)",
            [
                Some(Box::new(|n| {
                    for i in 0..n {
                        black_box(&ours::NATIVE).observe(black_box(values[(i & 63) as usize]));
                    }
                })),
                None,
                Some(Box::new(|n| {
                    for i in 0..n {
                        black_box(&c_native).observe(black_box(values[(i & 63) as usize]));
                    }
                })),
                Some(Box::new(|n| {
                    for i in 0..n {
                        black_box(&m_native).record(black_box(values[(i & 63) as usize]));
                    }
                    m_handle.run_upkeep();
                })),
                None,
            ],
        ),
        Row::new(
            "2-thread contended counter inc (bareprom: `ShardedCounter`)",
            [
                Some(Box::new(|n| contended(n, || black_box(&ours::SHARDED).inc()))),
                Some(Box::new(|n| contended(n, || black_box(&p_counter).inc()))),
                Some(Box::new(|n| {
                    contended(n, || {
                        let _ = black_box(&c_counter).inc();
                    })
                })),
                Some(Box::new(|n| contended(n, || black_box(&m_counter).increment(1)))),
                Some(Box::new(|n| contended(n, || black_box(&me_counter).inc()))),
            ],
        ),
        Row::new(
            "encode 10k series (3 labels)",
            [
                Some(Box::new({
                    let (o_reg, mut out) = (&o_reg, Vec::new());
                    move |n| {
                        for _ in 0..n {
                            out.clear();
                            o_reg.encode(&mut out);
                            black_box(&out);
                        }
                    }
                })),
                Some(Box::new({
                    let (p_reg, mut out) = (&p_reg, Vec::new());
                    move |n| {
                        let encoder = prometheus::TextEncoder::new();
                        for _ in 0..n {
                            out.clear();
                            encoder.encode(&p_reg.gather(), &mut out).expect("encodes");
                            black_box(&out);
                        }
                    }
                })),
                Some(Box::new({
                    let (c_reg, mut out) = (&c_reg, String::new());
                    move |n| {
                        for _ in 0..n {
                            out.clear();
                            prometheus_client::encoding::text::encode(&mut out, c_reg).expect("encodes");
                            black_box(&out);
                        }
                    }
                })),
                Some(Box::new({
                    let (m_enc_handle, mut out) = (&m_enc_handle, Vec::new());
                    move |n| {
                        for _ in 0..n {
                            out.clear();
                            m_enc_handle.render_to_write(&mut out).expect("encodes");
                            black_box(&out);
                        }
                    }
                })),
                Some(Box::new({
                    // One encoder kept across samples, as its docs advise:
                    // `finish` splits the bytes off, and once they are
                    // dropped `BytesMut` reclaims the buffer for the next run.
                    let (me_group, mut enc) = (&me_group, measured::text::BufferedTextEncoder::new());
                    move |n| {
                        for _ in 0..n {
                            me_group.collect_group_into(&mut enc).expect("encodes");
                            black_box(enc.finish());
                        }
                    }
                })),
            ],
        ),
    ];

    // The host's own speed, for scaling every figure to another machine.
    static BARE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    rows.push(Row::new(
        "bare `AtomicU64::fetch_add(1, Relaxed)` (host reference)",
        [
            Some(Box::new(|n| {
                let bare = black_box(&BARE);
                for _ in 0..n {
                    bare.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })),
            None,
            None,
            None,
            None,
        ],
    ));
    rows.extend(real.rows(&m_recorder));
    rows.push(held_histograms.row(&m_recorder));
    run_rounds(&mut rows, rounds, |row| &mut row.jobs);

    println!(
        "bareprom vs peers: medians of {rounds} interleaved rounds, ~{} ms per sample, {} cores; cell = median (ratio to the fastest in the row)",
        timing::SAMPLE.as_millis(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!();
    println!(
        "| workload | {} | bareprom ÷ prometheus-client (median of per-round ratios) |",
        LIBS.join(" | ")
    );
    println!("|---|{}---:|", "---:|".repeat(LIBS.len()));
    for row in &rows {
        let medians = row.medians();
        let best = medians.iter().flatten().copied().fold(f64::INFINITY, f64::min);
        let encode = row.name.starts_with("encode");
        let cells: Vec<String> = medians
            .iter()
            .map(|m| match m {
                None => "—".to_owned(),
                Some(ns) if encode => format!("{:.2} ms ({:.2}×)", ns / 1e6, ns / best),
                Some(ns) => format!("{ns:.2} ns ({:.2}×)", ns / best),
            })
            .collect();
        let unit = if encode { "" } else { ", ns/op" };
        let versus = row
            .versus_client()
            .map_or_else(|| "—".to_owned(), |r| format!("{r:.2}×"));
        println!("| {}{unit} | {} | {versus} |", row.name, cells.join(" | "));
        if encode {
            let rates: Vec<f64> = medians
                .iter()
                .zip(sizes)
                .map(|(m, bytes)| m.map_or(f64::NAN, |ns| bytes as f64 / ns * 1e3))
                .collect();
            let top = rates.iter().copied().fold(0.0, f64::max);
            let cells: Vec<String> = rates
                .iter()
                .zip(sizes)
                .map(|(r, bytes)| format!("{r:.0} MB/s of {} KB ({:.2}×)", bytes / 1000, top / r))
                .collect();
            println!("| encode 10k series, throughput | {} | — |", cells.join(" | "));
        }
    }
    let least = heap.iter().copied().fold(f64::INFINITY, f64::min);
    let cells: Vec<String> = heap.iter().map(|b| format!("{b:.1} B ({:.2}×)", b / least)).collect();
    println!(
        "| heap per labelled series (10k, 3 labels) | {} | {:.2}× |",
        cells.join(" | "),
        heap[0] / heap[2]
    );
    for (name, heap) in &real_heaps {
        let least = heap.iter().copied().fold(f64::INFINITY, f64::min);
        let cells: Vec<String> = heap.iter().map(|b| format!("{b:.1} B ({:.2}×)", b / least)).collect();
        println!("| {name} | {} | {:.2}× |", cells.join(" | "), heap[0] / heap[2]);
    }
    gzip::compare(o_reg.render().as_bytes(), rounds);
    println!();
    println!("total run time: {:.1} s", started.elapsed().as_secs_f64());
}
