// The `float_format` fuzz check. Part of `fuzz_checks.rs` (included from
// there with `#[path]`).

use super::*;

/// Renders the `f64` whose bits are the first 8 bytes of `data` (little
/// endian, zero-padded) as a `FloatGauge` and checks the value text:
///
/// - NaN is `NaN`, infinities `+Inf` and `-Inf`;
/// - a finite value parses back with `str::parse::<f64>` to the same bits,
///   and is spelled `-?D+(.D+)?(e-?D+)?` without redundant zeros;
/// - its significant digits are those of `{:e}` (Rust's shortest
///   round-trip digits);
/// - it is positional exactly when `v == 0` or `1e-4 <= |v| < 1e16`, and an
///   integral value in that range has no decimal point;
/// - it is at most 12 bytes longer than `format!("{v:e}")`.
///
/// The bound of 12, and that it is reached: positional output differs from
/// `{:e}` only in layout. With `d` significant digits and decimal exponent
/// `x`, `{:e}` takes `d + [d > 1] + 1 + len(x)` bytes after the sign. For
/// `x` in `-4..0` the output `0.` + `|x| - 1` zeros + digits takes
/// `d + |x| + 1`, at most 2 more. For `x` in `0..16` and `d <= x + 1` it is an
/// integer of `x + 1` digits, `x + 1 - d - [d > 1] - 1 - len(x)` more, which
/// is greatest for `d = 1`, `x = 15`: `1e15` (4 bytes) becomes 16 digits, 12
/// more. For `d > x + 1` the point moves and the `e` part goes: shorter.
///
/// # Panics
///
/// When a property does not hold.
pub(crate) fn check_float_format(data: &[u8]) {
    let mut bits = [0u8; 8];
    let n = data.len().min(8);
    bits[..n].copy_from_slice(&data[..n]);
    let v = f64::from_bits(u64::from_le_bytes(bits));

    let gauge = Arc::new(bareprom::FloatGauge::try_new("f", "h").expect("valid name"));
    gauge.set(v);
    let registry = Registry::new();
    registry
        .register_arc(Arc::clone(&gauge))
        .expect("a lone gauge registers");
    let body = registry.render();
    let text = body
        .strip_prefix("# HELP f h\n# TYPE f gauge\nf ")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("unexpected exposition for {v:e}: {body:?}"));
    let got = parse_or_panic(&body);
    assert!(
        same_value(&Val::F64(v), got.families[0].samples[0].value),
        "{v:e} read back as {text}"
    );

    if v.is_nan() || v.is_infinite() {
        let want = if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        assert_eq!(text, want);
        return;
    }
    let parsed: f64 = text
        .parse()
        .unwrap_or_else(|e| panic!("{v:e} written as {text:?}: {e}"));
    assert_eq!(
        parsed.to_bits(),
        v.to_bits(),
        "{v:e} written as {text:?} reads back as {parsed:e}"
    );
    assert!(
        canonical(text),
        "{v:e} written as {text:?}: not -?D+(.D+)?(e-?D+)? without redundant zeros"
    );

    let sci = format!("{v:e}");
    assert_eq!(
        significant(text),
        significant(&sci),
        "{v:e} written as {text:?}: digits are not the shortest"
    );
    let positional = v == 0.0 || (1e-4..1e16).contains(&v.abs());
    assert_eq!(
        !text.contains('e'),
        positional,
        "{v:e} written as {text:?}: wrong layout"
    );
    if positional && v.fract() == 0.0 {
        assert!(!text.contains('.'), "integral {v:e} written as {text:?}");
    }
    assert!(
        text.len() <= sci.len() + 12,
        "{v:e} written as {text:?}: longer than {sci:?} + 12"
    );
}

/// `-?D+(.D+)?(e-?D+)?` where the integer part has no leading zero (but may
/// be `0`), the fraction no trailing zero, and the exponent no leading zero.
pub(super) fn canonical(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exp) = match unsigned.split_once('e') {
        Some((m, e)) => (m, Some(e.strip_prefix('-').unwrap_or(e))),
        None => (unsigned, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    digits(int)
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(|f| digits(f) && !f.ends_with('0'))
        && exp.is_none_or(|e| digits(e) && !e.starts_with('0'))
}

/// The significant digits of a number's text: no sign, point, exponent, or
/// leading and trailing zeros.
pub(super) fn significant(s: &str) -> String {
    let mantissa = s.split('e').next().unwrap_or(s);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').to_owned()
}
