//! Writers on several threads while a scraper renders in a loop: totals
//! exact, every scrape oracle-valid, counters never decrease, histograms
//! consistent in every scrape.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use bareprom::{Counter, CounterVec, Histogram, HistogramVec, Registry};

use crate::oracle::{Kind, Value};
use crate::parse;

const THREADS: usize = 2;
const PER_THREAD: u64 = 1_000_000;

static TOTAL: Counter = Counter::new("cc_total", "Total.");
static BY_THREAD: CounterVec<1> = CounterVec::new("cc_by_thread_total", "By thread.", ["t"]);
static OBSERVED: Histogram = Histogram::with_buckets("cc_observed", "Observed.", &[1.0, 10.0, 100.0]);
static LABELLED: HistogramVec<1> = HistogramVec::with_buckets("cc_labelled", "Labelled.", ["t"], &[50.0]);

#[test]
fn concurrent_writers_and_scrapes_stay_exact_and_consistent() {
    let registry = Arc::new(Registry::new());
    registry.register(&TOTAL).unwrap();
    registry.register(&BY_THREAD).unwrap();
    registry.register(&OBSERVED).unwrap();
    registry.register(&LABELLED).unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(THREADS + 1));
    let scraper = {
        let (registry, done, start) = (Arc::clone(&registry), Arc::clone(&done), Arc::clone(&start));
        thread::spawn(move || {
            start.wait();
            let mut previous: HashMap<String, f64> = HashMap::new();
            let mut scrapes = 0u64;
            while !done.load(Ordering::Acquire) || scrapes == 0 {
                check_scrape(&registry.render(), &mut previous);
                scrapes += 1;
            }
            scrapes
        })
    };
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let label = t.to_string();
                start.wait();
                let held = BY_THREAD.with([&label]);
                for i in 0..PER_THREAD {
                    TOTAL.inc();
                    if i % 2 == 0 {
                        held.inc();
                    } else {
                        BY_THREAD.with([&label]).inc();
                    }
                    if i % 16 == 0 {
                        OBSERVED.observe((i % 200) as f64);
                        LABELLED.with([&label]).observe((i % 100) as f64);
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Release);
    let scrapes = scraper.join().unwrap();
    assert!(scrapes > 0);

    let final_text = registry.render();
    let exposition = parse(&final_text);
    let total = THREADS as u64 * PER_THREAD;
    assert!(matches!(exposition.value("cc_total", &[]), Some(Value::Int(n)) if n == i128::from(total)));
    for t in 0..THREADS {
        let v = exposition.value("cc_by_thread_total", &[("t", &t.to_string())]);
        assert!(matches!(v, Some(Value::Int(n)) if n == i128::from(PER_THREAD)), "{v:?}");
    }
    let observations = THREADS as u64 * PER_THREAD.div_ceil(16);
    assert_eq!(OBSERVED.count(), observations);
    eprintln!("{scrapes} scrapes checked while writing");
}

/// Every scrape: oracle-valid (cumulative buckets, `_count` == `+Inf`, no
/// duplicates), and no counter or histogram count below the last scrape.
fn check_scrape(text: &str, previous: &mut HashMap<String, f64>) {
    let exposition = parse(text);
    for family in &exposition.families {
        if !matches!(family.kind, Kind::Counter | Kind::Histogram) {
            continue;
        }
        for sample in &family.samples {
            if sample.name.ends_with("_sum") {
                continue;
            }
            let key = format!("{}{:?}", sample.name, sample.labels);
            let value = match sample.value {
                Value::Int(n) => n as f64,
                Value::Float(f) => f,
            };
            if let Some(before) = previous.insert(key.clone(), value) {
                assert!(value >= before, "{key} went down: {before} -> {value}");
            }
        }
    }
}
