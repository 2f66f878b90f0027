//! How the table writes its figures.

/// A time in ns: whole from 100 up, else two decimals.
pub(crate) fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        format!("{ns:.0}")
    } else {
        format!("{ns:.2}")
    }
}

/// A ratio: whole from 100 up, else two decimals.
pub(crate) fn fmt_ratio(ratio: f64) -> String {
    if ratio >= 100.0 {
        format!("{ratio:.0}×")
    } else {
        format!("{ratio:.2}×")
    }
}
