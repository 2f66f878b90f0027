// Exemplars in the `encode_roundtrip` check: operations that record one
// (`inc_with_exemplar`, `inc_by_with_exemplar`, `observe_with_exemplar`),
// with label sets from the input that the crate must refuse exactly when a
// naive model says they are invalid, and the property that the
// `OpenMetrics` exposition carries, in order, the latest exemplar of each
// counter series and histogram bucket, labels and value exact. Part of
// `fuzz_checks.rs` (included from there with `#[path]`).

use super::*;

/// One exemplar the model expects: the series' label values, the bucket
/// (0 for a counter), the exemplar's labels and value.
pub(super) type Recorded = (Vec<String>, usize, Vec<(String, String)>, f64);

/// What one operation recorded: the bucket (0 for a counter), the
/// exemplar's labels and value.
type Latest = (usize, Vec<(String, String)>, f64);

/// An exemplar label set from the input, and whether the crate must take
/// it: names as for any label (no `__`, each once), at most 128 characters
/// of names and values together.
fn labels(input: &mut Input<'_>) -> (Vec<(String, String)>, bool) {
    let pairs: Vec<(String, String)> = (0..input.below(3))
        .map(|_| {
            let name = input.label_name();
            let value = if input.byte() < 0x80 {
                input.text()
            } else {
                "t".repeat(input.below(140))
            };
            (name, value)
        })
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    let chars: usize = pairs.iter().map(|(n, v)| n.chars().count() + v.chars().count()).sum();
    let ok = label_names_ok(&names, false) && chars <= 128;
    (pairs, ok)
}

/// What a metric or child does with an exemplar-carrying operation.
pub(super) trait WithExemplar {
    /// Applies one such operation from the input to the metric and to the
    /// model value; the bucket, labels and value now expected, or `None`
    /// when nothing is recorded. `Err(())` for a type without exemplars
    /// (the caller drives it plainly).
    fn with_exemplar(&self, input: &mut Input<'_>, model: &mut Val) -> Result<Option<Latest>, ()>;
}

/// Calls `record` with the input's label set and checks it succeeds
/// exactly when the model says so; the labels when it did.
fn checked(
    input: &mut Input<'_>,
    record: impl FnOnce(&[(&str, &str)]) -> Result<(), bareprom::Error>,
) -> Option<Vec<(String, String)>> {
    let (pairs, ok) = labels(input);
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let result = record(&refs);
    assert_eq!(result.is_ok(), ok, "exemplar {refs:?}: {result:?}");
    ok.then_some(pairs)
}

fn counter(
    input: &mut Input<'_>,
    model: &mut Val,
    record: impl FnOnce(u64, &[(&str, &str)]) -> Result<(), bareprom::Error>,
) -> Option<Latest> {
    let Val::U64(v) = model else {
        unreachable!("a counter models as U64")
    };
    let n = if input.byte() < 0x40 { 1 } else { input.u64() };
    // Counted whether or not the exemplar is valid.
    *v = v.wrapping_add(n);
    #[allow(clippy::cast_precision_loss, reason = "the exemplar value is a double")]
    checked(input, |labels| record(n, labels)).map(|labels| (0, labels, n as f64))
}

fn float_counter(
    input: &mut Input<'_>,
    model: &mut Val,
    record: impl FnOnce(f64, &[(&str, &str)]) -> Result<(), bareprom::Error>,
) -> Option<Latest> {
    let Val::F64(v) = model else {
        unreachable!("a float counter models as F64")
    };
    let x = input.f64();
    if !(x.is_finite() && x >= 0.0) {
        // Ignored entirely, labels unread by the crate: always Ok.
        assert!(
            record(x, &[("__bad", "")]).is_ok(),
            "an ignored increment is not an error"
        );
        return None;
    }
    *v += x;
    checked(input, |labels| record(x, labels)).map(|labels| (0, labels, x))
}

fn histogram(
    input: &mut Input<'_>,
    model: &mut Val,
    record: impl FnOnce(f64, &[(&str, &str)]) -> Result<(), bareprom::Error>,
) -> Option<Latest> {
    let x = input.f64();
    observe(model, x);
    let Val::Histogram(bounds, _, _) = model else {
        unreachable!("a histogram models as Histogram")
    };
    let bucket = bounds.iter().position(|b| x <= *b).unwrap_or(bounds.len());
    checked(input, |labels| record(x, labels)).map(|labels| (bucket, labels, x))
}

impl WithExemplar for Child<CounterCell> {
    fn with_exemplar(&self, input: &mut Input<'_>, model: &mut Val) -> Result<Option<Latest>, ()> {
        Ok(counter(input, model, |n, l| {
            if n == 1 {
                self.inc_with_exemplar(l)
            } else {
                self.inc_by_with_exemplar(n, l)
            }
        }))
    }
}

impl WithExemplar for Counter {
    fn with_exemplar(&self, input: &mut Input<'_>, model: &mut Val) -> Result<Option<Latest>, ()> {
        Ok(counter(input, model, |n, l| {
            if n == 1 {
                self.inc_with_exemplar(l)
            } else {
                self.inc_by_with_exemplar(n, l)
            }
        }))
    }
}

impl WithExemplar for Child<FloatCounterCell> {
    fn with_exemplar(&self, input: &mut Input<'_>, model: &mut Val) -> Result<Option<Latest>, ()> {
        Ok(float_counter(input, model, |x, l| self.inc_by_with_exemplar(x, l)))
    }
}

impl WithExemplar for FloatCounter {
    fn with_exemplar(&self, input: &mut Input<'_>, model: &mut Val) -> Result<Option<Latest>, ()> {
        Ok(float_counter(input, model, |x, l| self.inc_by_with_exemplar(x, l)))
    }
}

impl WithExemplar for Child<HistogramCell> {
    fn with_exemplar(&self, input: &mut Input<'_>, model: &mut Val) -> Result<Option<Latest>, ()> {
        Ok(histogram(input, model, |x, l| self.observe_with_exemplar(x, l)))
    }
}

impl WithExemplar for Histogram {
    fn with_exemplar(&self, input: &mut Input<'_>, model: &mut Val) -> Result<Option<Latest>, ()> {
        Ok(histogram(input, model, |x, l| self.observe_with_exemplar(x, l)))
    }
}

impl WithExemplar for Child<GaugeCell> {
    fn with_exemplar(&self, _: &mut Input<'_>, _: &mut Val) -> Result<Option<Latest>, ()> {
        Err(())
    }
}

impl WithExemplar for Child<FloatGaugeCell> {
    fn with_exemplar(&self, _: &mut Input<'_>, _: &mut Val) -> Result<Option<Latest>, ()> {
        Err(())
    }
}

/// Drives series `at` of `model` through `target`: one time in four an
/// exemplar-carrying operation (for the types that have one), recorded in
/// the model as the series' (or bucket's) latest; otherwise `plain`.
pub(super) fn drive_series<T: WithExemplar>(
    target: &T,
    input: &mut Input<'_>,
    model: &mut Model,
    at: usize,
    plain: impl FnOnce(&mut Input<'_>, &mut Val),
) {
    let values = model.series[at].0.clone();
    if input.byte() < 0x40 {
        match target.with_exemplar(input, &mut model.series[at].1) {
            Ok(Some((bucket, labels, value))) => {
                model.exemplars.retain(|(v, b, _, _)| !(*v == values && *b == bucket));
                model.exemplars.push((values, bucket, labels, value));
                return;
            }
            Ok(None) => return,
            Err(()) => {}
        }
    }
    plain(input, &mut model.series[at].1);
}

/// The exemplars of the `OpenMetrics` exposition are, in order, the
/// models' latest of each counter series and histogram bucket.
pub(super) fn check_exemplars(registry: &Registry, entries: &[Entry]) {
    let mut body = Vec::new();
    registry.encode_openmetrics(&mut body);
    let om = String::from_utf8(body).expect("OpenMetrics output is UTF-8");
    let got = crate::oracle_om::exemplars(&om).unwrap_or_else(|e| panic!("oracle rejects: {e}\n{}", excerpt(&om)));
    let mut want: Vec<(Vec<(String, String)>, f64)> = Vec::new();
    for Entry { model, .. } in entries {
        for (values, _) in &model.series {
            let mut mine: Vec<&Recorded> = model.exemplars.iter().filter(|e| e.0 == *values).collect();
            mine.sort_by_key(|e| e.1);
            want.extend(mine.into_iter().map(|e| (e.2.clone(), e.3)));
        }
    }
    let same = want.len() == got.len()
        && want.iter().zip(&got).all(|((labels, value), g)| {
            *labels == g.labels && (value.to_bits() == g.value.to_bits() || (value.is_nan() && g.value.is_nan()))
        });
    assert!(same, "exemplars differ:\nwant {want:?}\ngot  {got:?}\n{}", excerpt(&om));
}
