//! The `protobuf_roundtrip` fuzz check; see `fuzz_checks.rs`.

use std::sync::Arc;

use bareprom::{NativeHistogram, Registry};

use super::{Input, build, excerpt};
use crate::oracle::{self, Kind};
use crate::protobuf_decode::{PbExemplar, PbFamily, decode};

/// Builds a registry from `data` as `encode_roundtrip` does, encodes it in
/// protobuf, decodes that with the test-only decoder (strict: every byte
/// accounted for), and checks it says exactly what the text exposition of
/// the same registry says, read by the strict oracle: the same families in
/// the same order with the same help and type, the same series with the
/// same labels in the same order, and the same values bit for bit (text
/// integers as the nearest double, which is what protobuf carries; a
/// histogram's `+Inf` bucket from `sample_count`, as a scraper rebuilds it).
/// Then the same registry included in another, with a prefix and a
/// constant label.
///
/// # Panics
///
/// When a property does not hold.
///
/// A native histogram built (`try_new`, which must refuse exactly the
/// invalid parameters) and fed from the same bytes joins the
/// registry: its count is the number of non-NaN values, its sum theirs,
/// and in the protobuf the count equals the zero bucket plus every bucket
/// rebuilt from spans and deltas; with classic buckets alongside (from the
/// bytes too, refused exactly when invalid), those are cumulative and at
/// most the count, and the text formats show them (`compare_formats`).
pub(crate) fn check_protobuf_roundtrip(data: &[u8]) {
    let (registry, _, _) = build(data);
    let mut input = Input(data);
    // The last entry of each list is invalid: `try_new` must refuse it.
    let factor = [1.0001, 1.01, 1.1, 2.0, 100.0, 1e6, 1.0][input.below(7)];
    let min = [f64::MIN_POSITIVE, 1e-9, 0.001, 1.0, 1e300, 1e-310][input.below(6)];
    let max = (min * [1.0, 10.0, 1e6, 1e300, 0.5][input.below(5)]).min(f64::MAX);
    let threshold = [bareprom::DEFAULT_ZERO_THRESHOLD, 1e-300, 0.5, 1e10, 0.0][input.below(5)];
    let valid = factor > 1.0 && min >= f64::MIN_POSITIVE && max >= min && threshold > 0.0;
    let built = NativeHistogram::try_new("fuzz_native", "N.", factor, min, max, threshold);
    assert!(
        built.is_ok() == valid,
        "try_new({factor}, {min}, {max}, {threshold}) gave {built:?}"
    );
    let Ok(mut native) = built else {
        compare_formats(&registry);
        return;
    };
    // Classic buckets alongside, or not; the last two are invalid and
    // must be refused.
    let classic: [&[f64]; 6] = [
        &[],
        &[0.001, 1.0, 1000.0],
        &[-1.0, 0.0, 1.0],
        &[1.0, f64::INFINITY],
        &[2.0, 1.0],
        &[f64::NAN],
    ];
    let pick = input.below(classic.len());
    if pick > 0 {
        match native.try_with_classic_buckets(classic[pick].to_vec()) {
            Ok(with) if pick < 4 => native = with,
            Err(_) if pick >= 4 => {
                compare_formats(&registry);
                return;
            }
            other => panic!("classic buckets {:?}: {other:?}", classic[pick]),
        }
    }
    let native = Arc::new(native);
    let (mut count, mut sum) = (0u64, 0.0);
    // `(index, value)` of the observations made with an exemplar (one in
    // four, chosen by the value's bits so that the input reads as before).
    let mut recorded = Vec::new();
    for i in 0..64 {
        if input.is_empty() {
            break;
        }
        let v = input.f64();
        if v.to_bits() % 4 == 0 {
            let result = native.observe_with_exemplar(v, &[("i", &i.to_string())]);
            assert!(result.is_ok(), "a valid exemplar refused: {result:?}");
            if !v.is_nan() {
                recorded.push((i.to_string(), v));
            }
        } else {
            native.observe(v);
        }
        if !v.is_nan() {
            count += 1;
            sum += v;
        }
    }
    assert!(
        native.count() == count,
        "native count {} for {count} values",
        native.count()
    );
    assert!(
        native.sum().to_bits() == sum.to_bits() || (sum.is_nan() && native.sum().is_nan()),
        "native sum {} vs {sum}",
        native.sum()
    );
    if registry.register_arc(Arc::clone(&native)).is_ok() {
        check_native_parts(&registry, &native, &recorded);
    }
    compare_formats(&registry);
    let parent = Registry::new();
    if parent
        .include(std::sync::Arc::new(registry), "inc_", &[("tenant", "t \"1\"\n\\")])
        .is_ok()
    {
        compare_formats(&parent);
    }
}

/// One sample as both formats can say it: name, labels without `le`, the
/// bound as a number, the value as a double.
type Flat = (String, Vec<(String, String)>, Option<u64>, u64);

fn compare_formats(registry: &Registry) {
    let text = registry.render();
    let want =
        oracle::parse(&text).unwrap_or_else(|e| panic!("oracle rejects the exposition: {e}\n{}", excerpt(&text)));
    let mut body = Vec::new();
    registry.encode_protobuf(&mut body);
    let got = decode(&body).unwrap_or_else(|e| panic!("the decoder rejects the protobuf exposition: {e}"));
    let names = |f: &[String]| f.join(",");
    let want_names: Vec<String> = want.families.iter().map(|f| f.name.clone()).collect();
    let got_names: Vec<String> = got.iter().map(|f| f.name.clone()).collect();
    assert!(
        want_names == got_names,
        "families differ: text {} protobuf {}",
        names(&want_names),
        names(&got_names)
    );
    for (w, g) in want.families.iter().zip(&got) {
        assert!(w.help == g.help, "{}: help {:?} vs {:?}", w.name, w.help, g.help);
        let kind = match w.kind {
            Kind::Counter => 0,
            Kind::Gauge => 1,
            Kind::Histogram => 4,
            Kind::Summary | Kind::Untyped => panic!("{}: the crate writes no {:?}", w.name, w.kind),
        };
        assert!(
            g.kind == kind,
            "{}: type {} in protobuf, {:?} in text",
            w.name,
            g.kind,
            w.kind
        );
        let text_samples: Vec<Flat> = w
            .samples
            .iter()
            .map(|s| {
                // Only a histogram's buckets carry a bound; `le` is a plain
                // label anywhere else.
                let bucket = w.kind == Kind::Histogram && s.name.ends_with("_bucket");
                let le = s
                    .labels
                    .iter()
                    .find(|(n, _)| bucket && n == "le")
                    .map(|(_, v)| parse_le(v));
                let labels = s.labels.iter().filter(|(n, _)| !bucket || n != "le").cloned().collect();
                (s.name.clone(), labels, le, canonical(s.value.as_f64()))
            })
            .collect();
        let pb_samples = flatten(g);
        assert!(
            text_samples == pb_samples,
            "{}: samples differ\ntext     {text_samples:?}\nprotobuf {pb_samples:?}",
            w.name
        );
    }
    compare_exemplars(registry, &got);
}

/// The exemplars of the protobuf exposition are those of the `OpenMetrics`
/// one, in order: labels, value bit for bit, timestamp to the nanosecond.
fn compare_exemplars(registry: &Registry, got: &[PbFamily]) {
    let mut body = Vec::new();
    registry.encode_openmetrics(&mut body);
    let om = String::from_utf8(body).expect("OpenMetrics output is UTF-8");
    let want = crate::oracle_om::exemplars(&om).unwrap_or_else(|e| panic!("oracle rejects: {e}\n{}", excerpt(&om)));
    let pb: Vec<&PbExemplar> = got
        .iter()
        .flat_map(|f| &f.metrics)
        .flat_map(|m| {
            let buckets = m
                .histogram
                .iter()
                .flat_map(|h| h.bucket_exemplars.iter().map(|(_, e)| e));
            m.counter_exemplar.iter().chain(buckets)
        })
        .collect();
    assert!(
        want.len() == pb.len(),
        "{} exemplars in OpenMetrics, {} in protobuf",
        want.len(),
        pb.len()
    );
    for (w, p) in want.iter().zip(pb) {
        let timestamp = w.timestamp.as_deref().map(|ts| {
            let (secs, frac) = ts.split_once('.').unwrap_or((ts, ""));
            let nanos = if frac.is_empty() {
                0
            } else {
                format!("{frac:0<9}").parse().expect("nanos")
            };
            (secs.parse::<i64>().expect("seconds"), nanos)
        });
        let value = p.value.map(canonical);
        assert!(
            w.labels == p.labels && value == Some(canonical(w.value)) && timestamp == p.timestamp,
            "exemplars differ: OpenMetrics {w:?}, protobuf {p:?}"
        );
    }
}

fn parse_le(v: &str) -> u64 {
    let bound = match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("le {v:?}")),
    };
    canonical(bound)
}

/// A double's bits, every NaN one.
fn canonical(v: f64) -> u64 {
    if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() }
}

/// The samples the text format writes for a decoded family, in its order.
#[allow(clippy::cast_precision_loss, reason = "text integers are compared as doubles")]
fn flatten(family: &PbFamily) -> Vec<Flat> {
    let mut out = Vec::new();
    for m in &family.metrics {
        let labels = m.labels.clone();
        let name = family.name.clone();
        match (m.counter, m.gauge, &m.histogram) {
            (Some(v), None, None) | (None, Some(v), None) => out.push((name, labels, None, canonical(v))),
            (None, None, Some(h)) => {
                let count = h.sample_count.unwrap_or_else(|| panic!("{name}: no sample_count"));
                for &(cumulative, bound) in &h.buckets {
                    // An explicit `+Inf` bucket (written for its exemplar)
                    // is the count; the text's comes from `sample_count`.
                    if bound == f64::INFINITY {
                        assert!(cumulative == count, "{name}: +Inf bucket {cumulative}, count {count}");
                        continue;
                    }
                    out.push((
                        format!("{name}_bucket"),
                        labels.clone(),
                        Some(canonical(bound)),
                        canonical(cumulative as f64),
                    ));
                }
                out.push((
                    format!("{name}_bucket"),
                    labels.clone(),
                    Some(canonical(f64::INFINITY)),
                    canonical(count as f64),
                ));
                let sum = h.sample_sum.unwrap_or_else(|| panic!("{name}: no sample_sum"));
                out.push((format!("{name}_sum"), labels.clone(), None, canonical(sum)));
                out.push((format!("{name}_count"), labels, None, canonical(count as f64)));
            }
            other => panic!("{name}: a metric with {other:?}"),
        }
    }
    out
}

/// The protobuf of `native` in `registry`: schema, threshold and count as
/// the histogram says, and count = zero bucket + every bucket; its
/// `Histogram.exemplars` (field 16) are `min(recorded, 10)` of the
/// `recorded` ones, value bit for bit, the last recorded among them,
/// oldest first, each with a timestamp.
fn check_native_parts(registry: &Registry, native: &NativeHistogram, recorded: &[(String, f64)]) {
    let mut body = Vec::new();
    registry.encode_protobuf(&mut body);
    let families = decode(&body).unwrap_or_else(|e| panic!("the decoder rejects the protobuf exposition: {e}"));
    let family = families
        .iter()
        .find(|f| f.name == "fuzz_native")
        .expect("the native family");
    let h = family.metrics[0].histogram.as_ref().expect("a histogram");
    assert!(h.schema == Some(i64::from(native.schema())), "schema {:?}", h.schema);
    let threshold = h.zero_threshold.expect("zero_threshold");
    assert!(threshold > 0.0 && threshold.to_bits() == native.zero_threshold().to_bits());
    let mut buckets = 0i64;
    for (spans, deltas) in [
        (&h.positive_spans, &h.positive_deltas),
        (&h.negative_spans, &h.negative_deltas),
    ] {
        let (mut at, mut count) = (0usize, 0i64);
        for &(_, length) in spans {
            for _ in 0..length {
                count += deltas.get(at).copied().expect("a delta per bucket");
                assert!(count > 0, "a bucket sent with count {count}");
                buckets += count;
                at += 1;
            }
        }
        assert!(at == deltas.len(), "{} deltas for {at} buckets", deltas.len());
    }
    // Classic buckets alongside: cumulative, none above the count.
    let mut previous = 0;
    for &(cumulative, bound) in &h.buckets {
        assert!(cumulative >= previous, "classic bucket {bound} not cumulative");
        assert!(
            Some(cumulative) <= h.sample_count,
            "classic bucket {bound} above the count"
        );
        previous = cumulative;
    }
    assert!(
        h.exemplars.len() == recorded.len().min(10),
        "{} native exemplars for {} recorded",
        h.exemplars.len(),
        recorded.len()
    );
    for e in &h.exemplars {
        let [(name, index)] = &e.labels[..] else {
            panic!("exemplar labels {:?}", e.labels)
        };
        let value = recorded.iter().find(|(i, _)| i == index).map(|(_, v)| v.to_bits());
        assert!(
            name == "i" && value.is_some() && value == e.value.map(f64::to_bits),
            "exemplar {e:?} was not recorded"
        );
        assert!(e.timestamp.is_some(), "a native exemplar without a timestamp");
    }
    assert!(
        h.exemplars.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "native exemplars not oldest first"
    );
    if let Some((last, _)) = recorded.last() {
        let kept = h
            .exemplars
            .iter()
            .any(|e| e.labels.first().is_some_and(|(_, i)| i == last));
        assert!(kept, "the latest exemplar was not kept");
    }
    let spans_or_zero = !h.positive_spans.is_empty() || !h.negative_spans.is_empty();
    assert!(spans_or_zero, "no span, not even the no-op one");
    let parts = h.zero_count.expect("zero_count") + u64::try_from(buckets).expect("positive");
    assert!(
        h.sample_count == Some(parts),
        "count {:?} vs parts {parts}",
        h.sample_count
    );
    assert!(
        h.sample_count == Some(native.count()),
        "count {:?} vs {}",
        h.sample_count,
        native.count()
    );
}
