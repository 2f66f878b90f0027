//! The claim index against the whole-tree check it stands in for.

use std::cell::Cell;
use std::sync::Arc;

use crate::registry::{Entry, Registry};
use crate::{Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec};

thread_local! {
    /// Whether every registration on this thread also runs the whole-tree
    /// check and asserts that the index did not let through what it refuses.
    static CROSS_CHECK: Cell<bool> = const { Cell::new(false) };
    /// How many registrations the index admitted on its own.
    static CROSS_CHECKED: Cell<usize> = const { Cell::new(0) };
}

/// Called by a registration the index admitted without the whole-tree
/// check: with [`CROSS_CHECK`] on, runs that check and panics if it refuses.
pub(in crate::registry) fn cross_check(registry: &Registry, entry: &Entry, graveyard: &mut Vec<Entry>) {
    if CROSS_CHECK.with(Cell::get) {
        CROSS_CHECKED.with(|c| c.set(c.get() + 1));
        if let Err(e) = registry.check_whole_tree(entry, graveyard) {
            panic!("the claim index admitted what the whole-tree check refuses: {e}");
        }
    }
}

/// A small seeded stream (xorshift64).
struct Stream(u64);

impl Stream {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap_or(0)
    }
}

type Register = Box<dyn Fn(&Registry) -> Result<(), crate::Error>>;

/// Metrics whose names claim overlapping names: sample names, counter and
/// info suffixes, a prefix applied by an include (`x_` + `total`), names
/// outside the legacy charset and what they escape to, a label that is also
/// an include's constant label.
fn pool() -> Vec<(&'static str, Register)> {
    const NAMES: [&str; 14] = [
        "x",
        "x_total",
        "x_count",
        "x_sum",
        "x_bucket",
        "x_created",
        "x_info",
        "y",
        "total",
        "a.b",
        "a_b",
        "a_dot_b",
        "x_a.b",
        "x_a_b",
    ];
    let mut pool: Vec<(&'static str, Register)> = Vec::new();
    for name in NAMES {
        for help in ["H.", "G."] {
            let c = Arc::new(Counter::try_new_utf8(name, help).unwrap());
            pool.push((name, Box::new(move |r| r.register_arc(Arc::clone(&c)))));
            let g = Arc::new(Gauge::try_new_utf8(name, help).unwrap());
            pool.push((name, Box::new(move |r| r.register_arc(Arc::clone(&g)))));
            // No UTF-8 constructor: legacy names only.
            if let Ok(h) = Histogram::try_new(name, help, vec![1.0]) {
                let h = Arc::new(h);
                pool.push((name, Box::new(move |r| r.register_arc(Arc::clone(&h)))));
            }
            let cv = Arc::new(CounterVec::try_new_utf8(name, help, ["k"]).unwrap());
            pool.push((name, Box::new(move |r| r.register_arc(Arc::clone(&cv)))));
            let gv = Arc::new(GaugeVec::try_new_utf8(name, help, ["i"]).unwrap());
            pool.push((name, Box::new(move |r| r.register_arc(Arc::clone(&gv)))));
            let hv = Arc::new(HistogramVec::try_with_buckets_utf8(name, help, ["k"], vec![1.0]).unwrap());
            pool.push((name, Box::new(move |r| r.register_arc(Arc::clone(&hv)))));
        }
    }
    pool
}

/// Registrations, unregistrations, inclusions and exclusions at random
/// across a root and four sub-registries (registering into a registry
/// after it is included, including at several depths, excluding): every
/// registration and inclusion the index admits on its own is checked
/// against the whole tree. An index that misses a family (not updated by
/// a change below an include, not forgetting an unregistered metric's
/// claims after reregistration elsewhere, or missing an escaping) fails
/// here.
#[test]
fn churn_agrees_with_the_whole_tree_check() {
    CROSS_CHECK.with(|c| c.set(true));
    let pool = pool();
    let mut next = Stream(0x2545_f491_4f6c_dd1d);
    let mut outcomes = [0_usize; 2];
    for round in 0..12 {
        let registries: Vec<Arc<Registry>> = vec![
            Arc::new(Registry::new()),
            Arc::new(Registry::with_const_labels(&[("z", "0")]).unwrap()),
            Arc::new(Registry::new().with_utf8_names()),
            Arc::new(Registry::new()),
            Arc::new(Registry::with_const_labels(&[("i", "c")]).unwrap()),
        ];
        for _ in 0..400 {
            let r = &registries[next.below(registries.len())];
            match next.below(10) {
                0..=4 => {
                    let (_, register) = &pool[next.below(pool.len())];
                    outcomes[usize::from(register(r).is_ok())] += 1;
                }
                5 => {
                    let (name, _) = &pool[next.below(pool.len())];
                    r.unregister(name);
                }
                6..=8 => {
                    let sub = Arc::clone(&registries[next.below(registries.len())]);
                    let prefix = ["", "x_", "a."][next.below(3)];
                    let labels = [[("i", "a")], [("i", "b")], [("j", "a")]][next.below(3)];
                    outcomes[usize::from(r.include(sub, prefix, &labels).is_ok())] += 1;
                }
                _ => {
                    r.exclude(&registries[next.below(registries.len())]);
                }
            }
        }
        // Clashes registered below an include after it was made are left
        // out at scrape time, not refused (`Registry::include`): the scrape
        // still works.
        assert!(!registries[0].render().is_empty(), "round {round}");
    }
    CROSS_CHECK.with(|c| c.set(false));
    // Both outcomes were exercised, many times.
    let alone = CROSS_CHECKED.with(Cell::get);
    assert!(
        outcomes[0] > 500 && outcomes[1] > 500 && alone > 500,
        "{outcomes:?} {alone}"
    );
}

/// Registrations racing from several threads, with an include, registrations
/// into the included registry and scrapes beside them: each contested name
/// is admitted once, every distinct one is, and the index agrees with the
/// whole-tree check throughout.
#[test]
fn racing_registrations_admit_each_name_once() {
    const THREADS: usize = 4;
    const EACH: usize = 150;
    let root = Arc::new(Registry::new());
    let sub = Arc::new(Registry::new());
    let won: Vec<usize> = std::thread::scope(|s| {
        let racers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (root, sub) = (Arc::clone(&root), Arc::clone(&sub));
                s.spawn(move || {
                    CROSS_CHECK.with(|c| c.set(true));
                    let mut won = 0;
                    for i in 0..EACH {
                        let own = Counter::try_new(format!("own_{t}_{i}_total"), "Own.").unwrap();
                        root.register_owned(own).unwrap();
                        let shared = Gauge::try_new(format!("shared_{i}"), "Shared.").unwrap();
                        won += usize::from(root.register_owned(shared).is_ok());
                        // Into the included registry, behind the root's index:
                        // its part is walked again at the root's next check.
                        if t == 0 {
                            let below = Counter::try_new(format!("below_{i}_total"), "Below.").unwrap();
                            sub.register_owned(below).unwrap();
                        }
                        if t == 1 && i % 10 == 0 {
                            let _ = root.include(Arc::clone(&sub), "", &[("i", "1")]);
                            root.render();
                            root.exclude(&sub);
                        }
                    }
                    won
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(won.iter().sum::<usize>(), EACH, "{won:?}");
    let text = root.render();
    assert_eq!(text.matches("# TYPE ").count(), THREADS * EACH + EACH, "{text}");
}
