//! The properties the fuzz targets check, as pure functions of the fuzz
//! input, so that `cargo test` replays the checked-in corpus through the very
//! same code (`corpus.rs`).
//!
//! The fuzz crate includes this file and `oracle.rs` with `#[path]`; both then
//! sit at the crate root there as here, so `crate::oracle` names the oracle in
//! either build. A property that fails is a panic saying what differs, which
//! libFuzzer reports as a crash. Std and bareprom only.

use std::sync::Arc;

use bareprom::{
    Cell, Child, Counter, CounterCell, CounterVec, ErrorKind, Family, FloatCounter, FloatCounterCell, FloatGauge,
    FloatGaugeCell, FloatGaugeVec, Gauge, GaugeCell, GaugeVec, Histogram, HistogramCell, HistogramVec,
    OVERFLOW_LABEL_VALUE, Registry,
};

use crate::oracle::{self, Kind, Value};

// The other checks and the input reader live beside this file; `#[path]`
// keeps them resolvable from the fuzz crate, which includes this file by
// path too.
#[path = "fuzz_exemplars.rs"]
mod exemplars;
#[path = "fuzz_floats.rs"]
mod floats;
#[path = "fuzz_gzip.rs"]
mod gzip;
#[path = "fuzz_included.rs"]
mod included;
#[path = "fuzz_input.rs"]
mod input;
#[path = "fuzz_names.rs"]
mod names;
#[path = "names_decode.rs"]
pub(crate) mod names_decode;
#[path = "fuzz_names_utf8.rs"]
mod names_utf8;
#[path = "fuzz_negotiate.rs"]
mod negotiate;
#[path = "fuzz_openmetrics.rs"]
mod openmetrics;
#[path = "oracle_utf8.rs"]
pub(crate) mod oracle_utf8;
#[path = "fuzz_protobuf.rs"]
mod protobuf;

use exemplars::{Recorded, WithExemplar, check_exemplars, drive_series};
#[allow(unused_imports, reason = "each fuzz target calls one check")]
pub(crate) use floats::check_float_format;
#[allow(unused_imports, reason = "each fuzz target calls one check")]
pub(crate) use gzip::{check_gzip_roundtrip, gzip_roundtrip};
use included::check_included;
use input::*;
#[allow(unused_imports, reason = "each fuzz target calls one check")]
pub(crate) use names::check_names;
use names::*;
#[allow(unused_imports, reason = "each fuzz target calls one check")]
pub(crate) use negotiate::check_negotiate;
use openmetrics::check_openmetrics;
#[allow(unused_imports, reason = "each fuzz target calls one check")]
pub(crate) use protobuf::check_protobuf_roundtrip;

// ---------------------------------------------------------------------------
// encode_roundtrip

/// Builds a registry from `data` through the public API only, renders it, and
/// checks that the strict oracle accepts the text and gives back exactly what
/// went in: every family in registration order with its name, help and type,
/// every series in first-seen order with its labels, bucket bounds and
/// values bit for bit (NaN as NaN; an integral float may come back as an
/// integer of the same value), then the registry's own health family; and
/// the same again with the registry included in another under a name
/// prefix and a constant label (the health family then the including
/// registry's).
///
/// It also checks that construction and registration succeed exactly when a
/// naive model of the rules says they should.
///
/// # Panics
///
/// When a property does not hold.
pub(crate) fn check_encode_roundtrip(data: &[u8]) {
    let (registry, entries, const_labels) = build(data);
    let text = registry.render();
    assert!(text == registry.render(), "two renders of an unchanged registry differ");
    let got = oracle::parse(&text).unwrap_or_else(|e| panic!("oracle rejects the exposition: {e}\n{}", excerpt(&text)));
    let want = expected(&entries, &const_labels, "", &const_labels);
    compare(&want, &got, &text);
    check_openmetrics(&registry, got);
    check_exemplars(&registry, &entries);
    check_included(registry, &entries, &const_labels);
}

/// The registry `data` builds through the public API (registrations,
/// removals and operations checked against the model as they go), its
/// entries and its constant labels: the shared first half of the
/// `encode_roundtrip` and `protobuf_roundtrip` checks.
fn build(data: &[u8]) -> (Registry, Vec<Entry>, Vec<(String, String)>) {
    let mut input = Input(data);
    let (registry, const_labels) = registry(&mut input);
    let mut entries: Vec<Entry> = Vec::new();
    // A bounded number of steps keeps one run fast whatever the input length.
    for _ in 0..48 {
        if input.is_empty() {
            break;
        }
        match input.below(8) {
            0..=3 => add_metric(&mut input, &registry, &const_labels, &mut entries),
            4 => {
                let name = input.metric_name();
                let expected = entries.iter().any(|e| e.model.name == name);
                assert_eq!(registry.unregister(&name), expected, "unregister({name:?})");
                entries.retain(|e| e.model.name != name);
            }
            _ if entries.is_empty() => {}
            _ => {
                let at = input.below(entries.len());
                let Entry { handle, model } = &mut entries[at];
                handle.drive(&mut input, model);
            }
        }
    }
    (registry, entries, const_labels)
}

/// A registry with zero to two constant labels from the input; when the
/// model says they are invalid, the registry must refuse them, and a plain
/// registry is used instead.
fn registry(input: &mut Input<'_>) -> (Registry, Vec<(String, String)>) {
    let pairs: Vec<(String, String)> = (0..input.below(3))
        .map(|_| (input.label_name(), input.text()))
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let result = Registry::with_const_labels(&refs);
    assert_eq!(
        result.is_ok(),
        label_names_ok(&names, true) && !names.iter().any(|n| HEALTH_LABELS.contains(n)),
        "Registry::with_const_labels({refs:?}) gave {result:?}"
    );
    match result {
        Ok(registry) => (registry, pairs),
        Err(_) => (Registry::new(), Vec::new()),
    }
}

/// The registry's own families, whose names no metric may take.
const HEALTH: [&str; 4] = [
    "bareprom_series_dropped_total",
    "bareprom_collector_panics_total",
    "bareprom_collector_rejected_total",
    "bareprom_families_rejected_total",
];

/// One registered metric: the real thing and what it should render as.
struct Entry {
    handle: Handle,
    model: Model,
}

/// Every metric type the check builds, behind the `Arc` it is registered by.
enum Handle {
    Counter(Arc<Counter>),
    FloatCounter(Arc<FloatCounter>),
    Gauge(Arc<Gauge>),
    FloatGauge(Arc<FloatGauge>),
    Histogram(Arc<Histogram>),
    CounterVec0(Arc<CounterVec<0>>),
    CounterVec1(Arc<CounterVec<1>>),
    CounterVec2(Arc<CounterVec<2>>),
    GaugeVec1(Arc<GaugeVec<1>>),
    FloatGaugeVec1(Arc<FloatGaugeVec<1>>),
    HistogramVec1(Arc<HistogramVec<1>>),
    HistogramVec2(Arc<HistogramVec<2>>),
}

impl Handle {
    fn register(&self, registry: &Registry) -> Result<(), bareprom::Error> {
        match self {
            Handle::Counter(m) => registry.register_arc(Arc::clone(m)),
            Handle::FloatCounter(m) => registry.register_arc(Arc::clone(m)),
            Handle::Gauge(m) => registry.register_arc(Arc::clone(m)),
            Handle::FloatGauge(m) => registry.register_arc(Arc::clone(m)),
            Handle::Histogram(m) => registry.register_arc(Arc::clone(m)),
            Handle::CounterVec0(m) => registry.register_arc(Arc::clone(m)),
            Handle::CounterVec1(m) => registry.register_arc(Arc::clone(m)),
            Handle::CounterVec2(m) => registry.register_arc(Arc::clone(m)),
            Handle::GaugeVec1(m) => registry.register_arc(Arc::clone(m)),
            Handle::FloatGaugeVec1(m) => registry.register_arc(Arc::clone(m)),
            Handle::HistogramVec1(m) => registry.register_arc(Arc::clone(m)),
            Handle::HistogramVec2(m) => registry.register_arc(Arc::clone(m)),
        }
    }

    /// Applies one operation from the input to the metric and to its model.
    fn drive(&self, input: &mut Input<'_>, model: &mut Model) {
        match self {
            Handle::Counter(m) => drive_series(&**m, input, model, 0, |i, v| CounterCell::drive(m, i, v)),
            Handle::FloatCounter(m) => drive_series(&**m, input, model, 0, |i, v| FloatCounterCell::drive(m, i, v)),
            Handle::Gauge(m) => GaugeCell::drive(m, input, &mut model.series[0].1),
            Handle::FloatGauge(m) => FloatGaugeCell::drive(m, input, &mut model.series[0].1),
            Handle::Histogram(m) => drive_series(&**m, input, model, 0, |i, v| m.drive(i, v)),
            Handle::CounterVec0(f) => drive_family(f, input, model),
            Handle::CounterVec1(f) => drive_family(f, input, model),
            Handle::CounterVec2(f) => drive_family(f, input, model),
            Handle::GaugeVec1(f) => drive_family(f, input, model),
            Handle::FloatGaugeVec1(f) => drive_family(f, input, model),
            Handle::HistogramVec1(f) => drive_family(f, input, model),
            Handle::HistogramVec2(f) => drive_family(f, input, model),
        }
    }
}

/// Looks up, removes, or changes the series limit of a family, in the
/// family and in its model alike.
fn drive_family<C: Cell + Drive, const N: usize>(family: &Family<C, N>, input: &mut Input<'_>, model: &mut Model)
where
    Child<C>: WithExemplar,
{
    match input.below(8) {
        0 => {
            let values: [String; N] = std::array::from_fn(|_| input.text());
            let removed = family.remove(values.each_ref().map(String::as_str));
            let at = model.series.iter().position(|(v, _)| v[..] == values[..]);
            assert_eq!(removed, at.is_some(), "remove({values:?}) on {}", model.name);
            if let Some(at) = at {
                model.series.remove(at);
                model.exemplars.retain(|e| e.0[..] != values[..]);
            }
        }
        1 => {
            let limit = input.below(4);
            family.set_series_limit(limit);
            model.limit = limit;
        }
        _ => {
            let values: [String; N] = std::array::from_fn(|_| input.text());
            let child = family.with(values.each_ref().map(String::as_str));
            let at = model.lookup(&values);
            drive_series(&child, input, model, at, |i, v| C::drive(&child, i, v));
        }
    }
}

/// A metric's expected state: what the registry was given and should show.
struct Model {
    name: String,
    help: String,
    kind: Kind,
    /// The family's label names; empty for unlabelled metrics and `N = 0`.
    labels: Vec<String>,
    /// Whether the family has labels, so a health series and a series limit.
    labelled: bool,
    /// The value of a new series.
    zero: Val,
    /// Series in first-seen order: label values and value.
    series: Vec<(Vec<String>, Val)>,
    limit: usize,
    dropped: u64,
    /// The latest exemplar of each series (and bucket) that has one.
    exemplars: Vec<Recorded>,
}

impl Model {
    /// Where the series for `values` is, created as `Family::with`
    /// documents: a new label set past the series limit goes to the
    /// overflow series instead, and is counted.
    fn lookup(&mut self, values: &[String]) -> usize {
        let find = |series: &[(Vec<String>, Val)], values: &[String]| series.iter().position(|(v, _)| v == values);
        match find(&self.series, values) {
            Some(at) => at,
            None if !self.labelled || self.series.len() < self.limit => {
                self.series.push((values.to_vec(), self.zero.clone()));
                self.series.len() - 1
            }
            None => {
                self.dropped += 1;
                let overflow = vec![OVERFLOW_LABEL_VALUE.to_owned(); values.len()];
                find(&self.series, &overflow).unwrap_or_else(|| {
                    self.series.push((overflow, self.zero.clone()));
                    self.series.len() - 1
                })
            }
        }
    }
}

/// A modelled series value.
#[derive(Clone, Debug)]
enum Val {
    U64(u64),
    I64(i64),
    F64(f64),
    /// The finite bounds, non-cumulative counts (one per bound plus `+Inf`)
    /// and the sum.
    Histogram(Vec<f64>, Vec<u64>, f64),
}

/// A series type the check can bump: reads one operation from the input,
/// applies it, and applies its documented effect to the model.
trait Drive {
    fn drive(&self, input: &mut Input<'_>, model: &mut Val);
}

impl Drive for CounterCell {
    fn drive(&self, input: &mut Input<'_>, model: &mut Val) {
        let Val::U64(v) = model else {
            unreachable!("a counter models as U64")
        };
        let n = if input.byte() < 0x40 { 1 } else { input.u64() };
        if n == 1 {
            self.inc();
        } else {
            self.inc_by(n);
        }
        *v = v.wrapping_add(n);
    }
}

impl Drive for FloatCounterCell {
    fn drive(&self, input: &mut Input<'_>, model: &mut Val) {
        let Val::F64(v) = model else {
            unreachable!("a float counter models as F64")
        };
        let x = input.f64();
        self.inc_by(x);
        // Documented: negative, NaN and infinite increments are ignored.
        if x.is_finite() && x > 0.0 {
            *v += x;
        }
    }
}

impl Drive for GaugeCell {
    fn drive(&self, input: &mut Input<'_>, model: &mut Val) {
        let Val::I64(v) = model else {
            unreachable!("a gauge models as I64")
        };
        let (op, n) = (input.below(4), input.i64());
        match op {
            0 => self.set(n),
            1 => self.add(n),
            2 => self.sub(n),
            _ => self.dec(),
        }
        *v = match op {
            0 => n,
            1 => v.wrapping_add(n),
            2 => v.wrapping_sub(n),
            _ => v.wrapping_sub(1),
        };
    }
}

impl Drive for FloatGaugeCell {
    fn drive(&self, input: &mut Input<'_>, model: &mut Val) {
        let Val::F64(v) = model else {
            unreachable!("a float gauge models as F64")
        };
        let (op, x) = (input.below(4), input.f64());
        match op {
            0 => self.add(x),
            1 => self.sub(x),
            _ => self.set(x),
        }
        *v = match op {
            0 => *v + x,
            1 => *v + -x,
            _ => x,
        };
    }
}

impl Drive for HistogramCell {
    fn drive(&self, input: &mut Input<'_>, model: &mut Val) {
        let x = input.f64();
        self.observe(x);
        observe(model, x);
    }
}

impl Drive for Histogram {
    fn drive(&self, input: &mut Input<'_>, model: &mut Val) {
        let x = input.f64();
        self.observe(x);
        observe(model, x);
    }
}

/// The documented rule: the first bucket whose bound is `>= x`, and `+Inf`
/// when there is none (NaN included); the sum adds `x`.
fn observe(model: &mut Val, x: f64) {
    let Val::Histogram(bounds, counts, sum) = model else {
        unreachable!("a histogram models as Histogram")
    };
    let at = bounds.iter().position(|b| x <= *b).unwrap_or(bounds.len());
    counts[at] += 1;
    *sum += x;
}

/// Reads a metric description from the input, constructs it with the
/// fallible constructors, registers it, and records the model of what is
/// registered.
fn add_metric(input: &mut Input<'_>, registry: &Registry, const_labels: &[(String, String)], entries: &mut Vec<Entry>) {
    let shape = input.below(12);
    let (name, help) = (input.metric_name(), input.text());
    let histogram = matches!(shape, 4 | 10 | 11);
    let bounds = if histogram { input.bounds() } else { Vec::new() };
    let label_count = [0, 0, 0, 0, 0, 0, 1, 2, 1, 1, 1, 2][shape];
    let labels: Vec<String> = (0..label_count).map(|_| input.label_name()).collect();
    let made = construct(shape, &name, &help, &labels, &bounds);
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let max_bounds = if shape == 4 { 64 } else { usize::MAX };
    let valid = metric_name_ok(&name)
        && label_names_ok(&label_refs, histogram)
        && (!histogram || buckets_ok(&bounds, max_bounds));
    assert_eq!(
        made.is_ok(),
        valid,
        "constructing shape {shape} {name:?} labels {labels:?} bounds {bounds:?}: {:?}",
        made.as_ref().err()
    );
    let Ok(handle) = made else { return };
    let kind = match shape {
        0 | 1 | 5..=7 => Kind::Counter,
        2 | 3 | 8 | 9 => Kind::Gauge,
        _ => Kind::Histogram,
    };
    let registered = handle.register(registry);
    let free = registration_ok(&name, kind, &labels, const_labels, entries);
    assert_eq!(
        registered.is_ok(),
        free,
        "registering {kind:?} {name:?} labels {labels:?}: {registered:?}"
    );
    if registered.is_err() {
        return;
    }
    let finite = finite_bounds(&bounds).to_vec();
    let zero = match shape {
        0 | 5..=7 => Val::U64(0),
        2 | 8 => Val::I64(0),
        1 | 3 | 9 => Val::F64(0.0),
        _ => {
            let counts = vec![0; finite.len() + 1];
            Val::Histogram(finite, counts, 0.0)
        }
    };
    let unlabelled = shape <= 4;
    let model = Model {
        name,
        help,
        kind,
        labels,
        labelled: shape >= 6,
        series: if unlabelled {
            vec![(Vec::new(), zero.clone())]
        } else {
            Vec::new()
        },
        zero,
        limit: bareprom::DEFAULT_SERIES_LIMIT,
        dropped: 0,
        exemplars: Vec::new(),
    };
    entries.push(Entry { handle, model });
}

/// Builds metric `shape` (an index into [`Handle`]'s variants) with the
/// fallible constructors.
fn construct(
    shape: usize,
    name: &str,
    help: &str,
    labels: &[String],
    bounds: &[f64],
) -> Result<Handle, bareprom::Error> {
    let (name, help, bounds) = (name.to_owned(), help.to_owned(), bounds.to_vec());
    let label = |i: usize| labels[i].as_str();
    Ok(match shape {
        0 => Handle::Counter(Arc::new(Counter::try_new(name, help)?)),
        1 => Handle::FloatCounter(Arc::new(FloatCounter::try_new(name, help)?)),
        2 => Handle::Gauge(Arc::new(Gauge::try_new(name, help)?)),
        3 => Handle::FloatGauge(Arc::new(FloatGauge::try_new(name, help)?)),
        4 => Handle::Histogram(Arc::new(Histogram::try_new(name, help, bounds)?)),
        5 => Handle::CounterVec0(Arc::new(CounterVec::try_new(name, help, [])?)),
        6 => Handle::CounterVec1(Arc::new(CounterVec::try_new(name, help, [label(0)])?)),
        7 => Handle::CounterVec2(Arc::new(CounterVec::try_new(name, help, [label(0), label(1)])?)),
        8 => Handle::GaugeVec1(Arc::new(GaugeVec::try_new(name, help, [label(0)])?)),
        9 => Handle::FloatGaugeVec1(Arc::new(FloatGaugeVec::try_new(name, help, [label(0)])?)),
        10 => Handle::HistogramVec1(Arc::new(HistogramVec::try_with_buckets(
            name,
            help,
            [label(0)],
            bounds,
        )?)),
        _ => {
            let family = HistogramVec::try_with_buckets(name, help, [label(0), label(1)], bounds)?;
            Handle::HistogramVec2(Arc::new(family))
        }
    })
}

/// The registry's rule, restated: no constant label may be one of the
/// metric's labels, and no two families (the registry's own health families
/// included) may share a family name or a sample name.
fn registration_ok(
    name: &str,
    kind: Kind,
    labels: &[String],
    const_labels: &[(String, String)],
    entries: &[Entry],
) -> bool {
    // The claim rule of `Registry::register`, built out as names: every
    // name a text 0.0.4 or OpenMetrics 1.0 parser maps back to the family.
    let claims = |name: &str, kind: Kind| -> Vec<String> {
        let (base, suffixes): (&str, &[&str]) = match kind {
            Kind::Counter => (name.strip_suffix("_total").unwrap_or(name), &["", "_total", "_created"]),
            Kind::Histogram => (name, &["", "_bucket", "_sum", "_count", "_created"]),
            // Gauges; the check registers no other kind.
            _ => (name, &[""]),
        };
        suffixes.iter().map(|s| format!("{base}{s}")).collect()
    };
    let mine = claims(name, kind);
    let clashes = |other: &str, other_kind: Kind| claims(other, other_kind).iter().any(|s| mine.contains(s));
    let label_clash = const_labels.iter().any(|(c, _)| labels.contains(c));
    let taken = HEALTH.iter().any(|h| clashes(h, Kind::Counter))
        || entries.iter().any(|e| clashes(&e.model.name, e.model.kind));
    !label_clash && !taken
}

/// One expected family: `help` is `None` for health families, whose help
/// text the check does not pin.
struct WantFamily {
    name: String,
    help: Option<String>,
    kind: Kind,
    samples: Vec<WantSample>,
}

struct WantSample {
    name: String,
    labels: Vec<(String, String)>,
    le: Option<f64>,
    value: Val,
}

/// What the registry should render, from the models.
/// What the registry of `entries` renders: each family's name after
/// `prefix`, `const_labels` before each series' labels, and the health
/// family with `health_labels` (those of the registry scraped).
fn expected(
    entries: &[Entry],
    const_labels: &[(String, String)],
    prefix: &str,
    health_labels: &[(String, String)],
) -> Vec<WantFamily> {
    let mut families = Vec::new();
    let sample = |name: String, labels: &[(String, String)], le: Option<f64>, value: Val| WantSample {
        name,
        labels: const_labels.iter().chain(labels).cloned().collect(),
        le,
        value,
    };
    for Entry { model: m, .. } in entries {
        let mut samples = Vec::new();
        let name = format!("{prefix}{}", m.name);
        for (values, val) in &m.series {
            let labels: Vec<(String, String)> = m.labels.iter().cloned().zip(values.iter().cloned()).collect();
            let Val::Histogram(bounds, counts, sum) = val else {
                samples.push(sample(name.clone(), &labels, None, val.clone()));
                continue;
            };
            let bucket = format!("{name}_bucket");
            let mut total = 0u64;
            for (bound, count) in bounds.iter().chain([&f64::INFINITY]).zip(counts) {
                total += count;
                samples.push(sample(bucket.clone(), &labels, Some(*bound), Val::U64(total)));
            }
            samples.push(sample(format!("{name}_sum"), &labels, None, Val::F64(*sum)));
            samples.push(sample(format!("{name}_count"), &labels, None, Val::U64(total)));
        }
        let (help, kind) = (Some(m.help.clone()), m.kind);
        families.push(WantFamily {
            name,
            help,
            kind,
            samples,
        });
    }
    let dropped: Vec<WantSample> = entries
        .iter()
        .filter(|e| e.model.labelled)
        .map(|e| {
            let family = ("family".to_owned(), format!("{prefix}{}", e.model.name));
            WantSample {
                name: "bareprom_series_dropped_total".to_owned(),
                labels: health_labels.iter().cloned().chain([family]).collect(),
                le: None,
                value: Val::U64(e.model.dropped),
            }
        })
        .collect();
    if !dropped.is_empty() {
        families.push(WantFamily {
            name: "bareprom_series_dropped_total".to_owned(),
            help: None,
            kind: Kind::Counter,
            samples: dropped,
        });
    }
    families
}

/// Compares the oracle's reading with the expected families, exactly.
fn compare(want: &[WantFamily], got: &oracle::Exposition, text: &str) {
    let names = |f: &[String]| f.join(", ");
    let want_names: Vec<String> = want.iter().map(|f| f.name.clone()).collect();
    let got_names: Vec<String> = got.families.iter().map(|f| f.name.clone()).collect();
    assert!(
        want_names == got_names,
        "families differ: want [{}], got [{}]\n{}",
        names(&want_names),
        names(&got_names),
        excerpt(text)
    );
    for (w, g) in want.iter().zip(&got.families) {
        let help_ok = w.help.as_ref().is_none_or(|h| *h == g.help);
        assert!(help_ok && w.kind == g.kind, "family {}: help or type differs", w.name);
        assert!(
            w.samples.len() == g.samples.len(),
            "family {}: want {} samples, got {}\n{}",
            w.name,
            w.samples.len(),
            g.samples.len(),
            excerpt(text)
        );
        for (ws, gs) in w.samples.iter().zip(&g.samples) {
            let mut labels = gs.labels.clone();
            let le = if ws.le.is_some() { labels.pop() } else { None };
            let le_ok = match (ws.le, &le) {
                (None, None) => true,
                (Some(bound), Some((n, v))) => {
                    n == "le" && parse_number(v).is_some_and(|x| x.to_bits() == bound.to_bits())
                }
                _ => false,
            };
            assert!(
                ws.name == gs.name && ws.labels == labels && le_ok && same_value(&ws.value, gs.value),
                "sample differs:\nwant {} {:?} le={:?} {:?}\ngot  {} {:?} {:?}",
                ws.name,
                ws.labels,
                ws.le,
                ws.value,
                gs.name,
                gs.labels,
                gs.value
            );
        }
    }
}

/// Whether the oracle's value is exactly the modelled one: integers as
/// integers; floats bit for bit, any NaN matching any NaN, and an integral
/// float also matching the integer of the same value (never `-0.0`).
fn same_value(want: &Val, got: Value) -> bool {
    match (want, got) {
        (Val::U64(a), Value::Int(b)) => i128::from(*a) == b,
        (Val::I64(a), Value::Int(b)) => i128::from(*a) == b,
        (Val::F64(a), Value::Float(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
        (Val::F64(a), Value::Int(b)) => {
            #[allow(clippy::cast_precision_loss, reason = "exactness is what is checked")]
            let f = b as f64;
            f.to_bits() == a.to_bits() && f as i128 == b
        }
        _ => false,
    }
}

/// Reads a value as the exposition format spells it.
fn parse_number(s: &str) -> Option<f64> {
    match s {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// The start of a long exposition, for panic messages.
fn excerpt(text: &str) -> String {
    let cut: String = text.chars().take(4000).collect();
    if cut.len() < text.len() {
        format!("{cut}… ({} bytes)", text.len())
    } else {
        cut
    }
}
