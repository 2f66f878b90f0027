// Test-only decoder of escaped names, written from the Prometheus
// documentation of the `escaping` schemes (and `model.UnescapeName`'s
// contract), sharing no code with the encoder: `values` is undone for any
// name, `dots` for names made of legacy characters and dots.
//
// Std only: included from the integration tests and the fuzz crate.

/// Undoes the `values` escaping: `U__`, then `__` for `_` and `_<hex>_`
/// for any other character; `None` if `name` is not such an escape.
pub(crate) fn unescape_values(name: &str) -> Option<String> {
    let mut rest = name.strip_prefix("U__")?;
    let mut out = String::with_capacity(rest.len());
    while let Some(at) = rest.find('_') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('_') {
            out.push('_');
            rest = after;
            continue;
        }
        let end = rest.find('_')?;
        let hex = &rest[..end];
        if hex.is_empty() || hex.len() > 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Undoes the `dots` escaping, left to right: `__` is `_`, `_dot_` is `.`.
pub(crate) fn unescape_dots(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('_') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("__") {
            out.push('_');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("_dot_") {
            out.push('.');
            rest = after;
        } else {
            out.push('_');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}
