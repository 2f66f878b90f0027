// The OpenMetrics half of the `encode_roundtrip` check. Part of
// `fuzz_checks.rs` (included from there with `#[path]`).

use super::*;

/// The `OpenMetrics` rendering of the same registry: the `OpenMetrics`
/// oracle accepts it, and it holds what the 0.0.4 text holds, once the
/// differences the format defines are applied (a counter `x` has samples
/// `x_total`; `_sum` and `_count` may be left out, see `openmetrics.rs`,
/// and the `_sum`s written are the 0.0.4 ones).
pub(super) fn check_openmetrics(registry: &Registry, text_004: oracle::Exposition) {
    let mut body = Vec::new();
    registry.encode_openmetrics(&mut body);
    let om = String::from_utf8(body).expect("OpenMetrics output is UTF-8");
    let got = crate::oracle_om::parse(&om)
        .unwrap_or_else(|e| panic!("OpenMetrics oracle rejects the exposition: {e}\n{}", excerpt(&om)));
    let sums = |e: &oracle::Exposition| -> Vec<oracle::Sample> {
        let all = e.families.iter().flat_map(|f| &f.samples);
        all.filter(|s| s.name.ends_with("_sum")).cloned().collect()
    };
    let normalise = |mut e: oracle::Exposition| {
        for family in &mut e.families {
            if family.kind == Kind::Counter && !family.name.ends_with("_total") {
                family.name.push_str("_total");
                family.samples.iter_mut().for_each(|s| s.name.push_str("_total"));
            }
            if family.kind == Kind::Histogram {
                let (sum, count) = (format!("{}_sum", family.name), format!("{}_count", family.name));
                family.samples.retain(|s| s.name != sum && s.name != count);
            }
        }
        e
    };
    let (want_sums, got_sums) = (sums(&text_004), sums(&got));
    for sum in got_sums
        .iter()
        .filter(|s| !matches!(s.value, Value::Float(f) if f.is_nan()))
    {
        assert!(
            want_sums.contains(sum),
            "OpenMetrics _sum {sum:?} is not in the 0.0.4 text\n{}",
            excerpt(&om)
        );
    }
    assert!(
        normalise(got) == normalise(text_004),
        "OpenMetrics and 0.0.4 renderings disagree\n{}",
        excerpt(&om)
    );
}
