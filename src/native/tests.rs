//! Unit tests of the native histogram's bucket math and storage.

use super::*;

#[test]
fn powers_of_two_are_upper_bounds_in_every_schema() {
    for s in -4..=8 {
        for m in -20..20 {
            let v = 2f64.powi(m);
            assert_eq!(key(v, s), key_of_power_of_two(m, s), "2^{m} in schema {s}");
        }
    }
    assert_eq!(exponent(1.0), 1);
    assert_eq!(schema_for_factor(2f64.powf(1.0 / 8.0)), 3);
    assert_eq!(exponent(0.75), 0);
    assert_eq!(exponent(f64::MIN_POSITIVE / 4.0), -1023);
}

/// The cell table counts exactly what a search of all 256 bounds
/// counts: at every bound, its neighbours, every cell edge and 10^5
/// random fractions.
#[test]
fn the_cell_table_agrees_with_a_full_search() {
    let table = fractions();
    let search = |frac: f64| table.bounds.partition_point(|&b| b < frac);
    let mut probes: Vec<f64> = table
        .bounds
        .iter()
        .flat_map(|&b| [b, b.next_down(), b.next_up()])
        .collect();
    probes.extend((0..CELLS).map(|c| 0.5 + f64::from(u16::try_from(c).unwrap()) / 2048.0));
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    probes.extend((0..100_000).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        f64::from_bits((1022 << 52) | (state >> 12))
    }));
    for frac in probes.into_iter().filter(|f| (0.5..1.0).contains(f)) {
        assert_eq!(bounds_below(frac), search(frac), "{frac:e}");
    }
}

#[test]
fn the_default_window_is_the_computed_one() {
    assert_eq!(shape(1.1, 0.001, 1000.0, DEFAULT_ZERO_THRESHOLD), NativeShape::DEFAULT);
    assert_eq!(
        NativeHistogram::new("d_seconds", "D.").cell.shape(),
        NativeShape::DEFAULT
    );
}

/// A series allocates the chunks of 32 buckets its observations reach,
/// and nothing for the zero bucket or before the first observation.
#[test]
fn bucket_storage_grows_with_the_buckets_used() {
    let h = NativeHistogram::new("m_seconds", "M.");
    assert_eq!(h.cell.chunks(), 0);
    h.observe(0.0);
    h.observe(1e-9);
    assert_eq!(h.cell.chunks(), 0);
    // Schema 3 over (2^-10, 2^10]: 8 buckets per power of two, so the
    // 32 buckets of a chunk span 4 powers of two.
    h.observe(0.002);
    h.observe(0.003);
    assert_eq!(h.cell.chunks(), 1);
    h.observe(1.0);
    h.observe(-1.0);
    assert_eq!(h.cell.chunks(), 3);
    h.observe(f64::INFINITY);
    assert_eq!(h.cell.chunks(), 4);
    assert_eq!(h.count(), 7);
}

/// The spec's definition, `base^(k-1) < v <= base^k` with
/// `base = 2^(2^-s)`, for 10^5 log-uniform values in each schema -4..=8.
/// The bounds are computed with `exp2`, whose rounding can put a value
/// within a few ulps of a bound on the wrong side; such a value is
/// accepted only if it is that close.
#[test]
fn keys_match_the_spec_formula_for_every_schema() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut near_bounds = 0;
    for s in -4..=8 {
        for _ in 0..100_000 {
            // 2^x with x uniform in [-100, 100).
            #[allow(clippy::cast_precision_loss)]
            let x = (next() >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0;
            let v = x.exp2();
            let k = key(v, s);
            let scale = 2f64.powi(s);
            let lower = (f64::from(k - 1) / scale).exp2();
            let upper = (f64::from(k) / scale).exp2();
            if lower < v && v <= upper {
                continue;
            }
            let ulps = |bound: f64| bound.to_bits().abs_diff(v.to_bits());
            assert!(
                ulps(lower).min(ulps(upper)) <= 4,
                "schema {s}: {v:e} got key {k}, bounds ({lower:e}, {upper:e}]"
            );
            near_bounds += 1;
        }
    }
    // The fractions table puts almost nothing on the wrong side.
    assert!(near_bounds < 20, "{near_bounds} values within 4 ulps of a bound");
}
