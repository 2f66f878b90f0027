//! The `protobuf_roundtrip` fuzz check; see `fuzz_checks.rs`.

use bareprom::Registry;

use super::{build, excerpt};
use crate::oracle::{self, Kind};
use crate::protobuf_decode::{PbFamily, decode};

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
pub(crate) fn check_protobuf_roundtrip(data: &[u8]) {
    let (registry, _, _) = build(data);
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
