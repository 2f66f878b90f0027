//! Bucket layouts: the bounds a histogram counts into, validated, and
//! shared by every series of a family.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::error::Error;
use crate::name;
use crate::text;

/// What series of a family share: the histogram bucket bounds (unused by
/// other kinds), turned into one `Arc` on first use.
pub struct Layout {
    buckets: Cow<'static, [f64]>,
    shared: OnceLock<Arc<Bounds>>,
}

impl Layout {
    /// A layout of bounds already validated (see [`validated`]).
    pub(crate) const fn new(buckets: Cow<'static, [f64]>) -> Self {
        Layout {
            buckets,
            shared: OnceLock::new(),
        }
    }

    /// The bounds as an `Arc` every histogram series holds a clone of.
    pub(crate) fn shared_buckets(&self) -> Arc<Bounds> {
        Arc::clone(self.shared.get_or_init(|| Arc::new(Bounds::new(&self.buckets))))
    }
}

/// Bucket bounds with their `le` texts rendered once, shared by all series
/// of a family.
pub(crate) struct Bounds {
    pub(crate) values: Box<[f64]>,
    pub(crate) les: Box<[Box<str>]>,
}

impl Bounds {
    pub(crate) fn new(values: &[f64]) -> Self {
        Bounds {
            values: values.into(),
            les: values.iter().map(|b| text::render_f64(*b).into_boxed_str()).collect(),
        }
    }
}

/// Validates run-time bounds and drops a trailing `+Inf`.
pub(crate) fn validated(bounds: Cow<'static, [f64]>) -> Result<Cow<'static, [f64]>, Error> {
    name::buckets(&bounds).map_err(|kind| Error::new(kind, &format!("{bounds:?}")))?;
    let finite = name::finite_len(&bounds);
    Ok(match bounds {
        Cow::Borrowed(b) => Cow::Borrowed(&b[..finite]),
        Cow::Owned(mut b) => {
            b.truncate(finite);
            Cow::Owned(b)
        }
    })
}
