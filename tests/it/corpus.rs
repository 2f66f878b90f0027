//! Replays every checked-in fuzz corpus file through the checks the fuzz
//! targets run (`fuzz_checks.rs`), so that `cargo test` keeps every seed and
//! every past crash passing without a fuzzer. The `proc_parsers` and
//! `http_request` corpora are replayed by unit tests in the crate
//! (`src/corpus_tests.rs`), because those parsers are private.

use std::sync::Arc;

use bareprom::{CounterVec, Gauge, Histogram, Registry};

use crate::fuzz_checks::{
    check_encode_roundtrip, check_float_format, check_gzip_roundtrip, check_names, check_negotiate,
    check_protobuf_roundtrip,
};
use crate::oracle::Value;
use crate::replay::replay;

#[test]
fn encode_roundtrip_corpus() {
    replay("encode_roundtrip", check_encode_roundtrip);
}

#[test]
fn names_corpus() {
    replay("names", check_names);
}

#[test]
fn float_format_corpus() {
    replay("float_format", check_float_format);
}

#[test]
fn gzip_roundtrip_corpus() {
    replay("gzip_roundtrip", check_gzip_roundtrip);
}

#[test]
fn protobuf_roundtrip_corpus() {
    replay("protobuf_roundtrip", check_protobuf_roundtrip);
}

#[test]
fn negotiate_corpus() {
    replay("negotiate", check_negotiate);
}

// Regressions for crashes the fuzzer found, kept as corpus files too. Each
// fails until the library bug it names is fixed.

/// `fuzz/corpus/encode_roundtrip/crash-help-ends-in-cr`: a HELP text that
/// ends in `\r` is written raw, so its line ends in `\r\n`, which reads as a
/// CRLF line ending: a reader that accepts those drops the `\r`, the strict
/// oracle rejects the line.
#[test]
fn help_ending_in_carriage_return_round_trips() {
    let gauge = Gauge::try_new("a", "x\r").unwrap();
    let registry = Registry::new();
    registry.register_arc(Arc::new(gauge)).unwrap();
    let exposition = crate::parse(&registry.render());
    assert_eq!(exposition.families[0].help, "x\r");
}

/// `fuzz/corpus/encode_roundtrip/crash-const-label-family`: a constant label
/// named `family` is accepted, and then every labelled family's health
/// series `bareprom_series_dropped_total{family="x",family="<name>"}` has a
/// duplicate label name, which Prometheus rejects. Refusing the constant
/// label, or the family, would fix it as well as renaming the health label.
#[test]
fn const_label_named_family_never_duplicates_a_label() {
    let Ok(registry) = Registry::with_const_labels(&[("family", "x")]) else {
        return;
    };
    let family = CounterVec::<1>::try_new("a_total", "A.", ["l"]).unwrap();
    if registry.register_arc(Arc::new(family)).is_ok() {
        crate::parse(&registry.render());
    }
}

/// `fuzz/corpus/encode_roundtrip/crash-histogram-nan-over-16-bounds`: with
/// more than 16 bounds `observe` switches from a linear scan to
/// `partition_point(|b| *b < v)`, which is 0 for NaN, so NaN lands in the
/// first bucket instead of `+Inf` as documented (and as with 16 bounds or
/// fewer). Both `Histogram` and `HistogramVec` share that code.
#[test]
fn nan_lands_in_the_inf_bucket_whatever_the_bucket_count() {
    for count in [16, 17, 64] {
        let bounds: Vec<f64> = (1..=count).map(f64::from).collect();
        let histogram = Histogram::try_new("h", "H.", bounds).unwrap();
        histogram.observe(f64::NAN);
        let registry = Registry::new();
        registry.register_arc(Arc::new(histogram)).unwrap();
        let exposition = crate::parse(&registry.render());
        let first = exposition.value("h_bucket", &[("le", "1")]);
        assert_eq!(first, Some(Value::Int(0)), "{count} bounds: NaN counted in le=\"1\"");
    }
}
