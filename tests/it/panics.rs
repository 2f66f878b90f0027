//! A panic in a collector or in user code holding our metrics never breaks
//! a later increment or scrape.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

use bareprom::{Collect, CounterVec, Registry, Scrape};

use crate::parse;

struct Flaky {
    panic_now: AtomicBool,
}

impl Collect for Flaky {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.gauge("flaky_before_panic", "Written, then discarded when the panic comes.", 1);
        if self.panic_now.load(Ordering::Relaxed) {
            panic!("collector bug");
        }
    }
}

struct Good;

impl Collect for Good {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.counter("good_total", "Always there.", 7);
    }
}

#[test]
fn a_panicking_collector_is_left_out_and_counted() {
    let r = Registry::new();
    r.register_collector(
        "flaky",
        Flaky {
            panic_now: AtomicBool::new(true),
        },
    )
    .unwrap();
    r.register_collector("good", Good).unwrap();
    for scrape in 1..=3 {
        let text = r.render();
        let exposition = parse(&text);
        assert!(exposition.family("flaky_before_panic").is_none(), "{text}");
        assert!(text.contains("good_total 7\n"));
        assert!(
            text.contains(&format!(
                "bareprom_collector_panics_total{{collector=\"flaky\"}} {scrape}\n"
            )),
            "{text}"
        );
        assert!(text.contains("bareprom_collector_panics_total{collector=\"good\"} 0\n"));
    }
}

#[test]
fn a_panic_while_using_a_family_leaves_it_working() {
    static F: CounterVec<1> = CounterVec::new("panic_family_total", "F.", ["k"]);
    let r = Registry::new();
    r.register(&F).unwrap();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let held = F.with(["a"]);
        held.inc();
        panic!("user code panics while holding a handle");
    }));
    assert!(result.is_err());
    // A thread that dies mid-use, too.
    std::thread::spawn(|| {
        F.with(["b"]).inc();
        panic!("worker dies");
    })
    .join()
    .unwrap_err();
    F.with(["a"]).inc();
    F.with(["c"]).inc();
    let text = r.render();
    parse(&text);
    assert!(text.contains("panic_family_total{k=\"a\"} 2\n"));
    assert!(text.contains("panic_family_total{k=\"b\"} 1\n"));
    assert!(text.contains("panic_family_total{k=\"c\"} 1\n"));
}

struct Invalid;

impl Collect for Invalid {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.gauge("bad-name", "Invalid.", 1);
        out.gauge("twice", "First.", 1);
        out.gauge("twice", "Second.", 2);
        out.float_counter("neg_total", "Negative.", -1.0);
        out.gauge("registered_total", "Clashes with a static.", 3);
    }
}

#[test]
fn invalid_collector_output_is_left_out_and_counted() {
    static REG: bareprom::Counter = bareprom::Counter::new("registered_total", "Static.");
    let r = Registry::new();
    r.register(&REG).unwrap();
    r.register_collector("invalid", Invalid).unwrap();
    let text = r.render();
    parse(&text);
    assert!(text.contains("twice 1\n") && !text.contains("twice 2\n"));
    assert!(!text.contains("bad-name") && !text.contains("neg_total"));
    assert!(
        text.contains("bareprom_collector_rejected_total{collector=\"invalid\"} 4\n"),
        "{text}"
    );
}
