use super::*;

/// The bucket an observation belongs in, by the definition: the first
/// bound `v <= b`, else `+Inf` (NaN included).
fn naive_bucket(bounds: &[f64], v: f64) -> usize {
    bounds.iter().position(|b| v <= *b).unwrap_or(bounds.len())
}

/// The counted path (up to 16 bounds) and the binary search (more)
/// agree with the definition on every bound, its neighbours, signed
/// zeros, infinities and NaN.
#[test]
fn observe_picks_the_first_bound_at_or_above_the_value() {
    for count in [1_usize, 2, 11, 15, 16, 17, 33, 64] {
        let bounds: Vec<f64> = (0..count).map(|i| i as f64 * 0.5 - 2.0).collect();
        let mut probes = vec![
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MAX,
        ];
        for b in &bounds {
            probes.extend([*b, b.next_down(), b.next_up(), b + 0.25]);
        }
        for v in probes {
            let counts: Vec<AtomicU64> = (0..=count).map(|_| AtomicU64::new(0)).collect();
            let sum = AtomicU64::new(0);
            let core = Core {
                bounds: &bounds,
                les: None,
                counts: &counts,
                sum: &sum,
            };
            core.observe(v);
            let hit: Vec<usize> = (0..=count).filter(|i| counts[*i].load(Relaxed) == 1).collect();
            assert_eq!(hit, [naive_bucket(&bounds, v)], "{count} bounds, value {v:?}");
            assert_eq!(core.count(), 1);
        }
    }
}
