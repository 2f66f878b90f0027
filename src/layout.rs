//! Bucket layouts: the bounds a histogram counts into, validated, and
//! shared by every series of a family.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::error::Error;
use crate::name;
use crate::text;

/// What series of a family share: the histogram bucket bounds (unused by
/// other kinds; a native histogram's optional classic buckets), turned
/// into one `Arc` on first use, and a native histogram's bucket window.
pub struct Layout {
    buckets: Cow<'static, [f64]>,
    shared: OnceLock<Arc<Bounds>>,
    native: NativeShape,
}

/// The bucket window of a native histogram, fixed when it is built (see
/// `native.rs`): its schema, the key just below the window (which holds
/// keys `lowest + 1 ..= lowest + NATIVE_BUCKETS`) and the zero threshold
/// exposed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NativeShape {
    pub(crate) schema: i32,
    pub(crate) lowest: i32,
    pub(crate) zero_threshold: f64,
}

impl NativeShape {
    /// `NativeHistogram::new`'s: bucket factor 1.1 (schema 3) over
    /// `[0.001, 1000]`, so the window is `(2^-10, 2^10]` and the zero
    /// threshold 2^-10 (a unit test in `native.rs` checks it against the
    /// computation).
    pub(crate) const DEFAULT: NativeShape = NativeShape {
        schema: 3,
        lowest: -80,
        zero_threshold: 1.0 / 1024.0,
    };
}

impl Layout {
    /// A layout of bounds already validated (see [`validated`]).
    pub(crate) const fn new(buckets: Cow<'static, [f64]>) -> Self {
        Self::native(buckets, NativeShape::DEFAULT)
    }

    /// A native histogram's layout: its window and classic bounds (already
    /// validated; empty for none).
    pub(crate) const fn native(buckets: Cow<'static, [f64]>, native: NativeShape) -> Self {
        Layout {
            buckets,
            shared: OnceLock::new(),
            native,
        }
    }

    /// The native histogram window.
    pub(crate) const fn native_shape(&self) -> NativeShape {
        self.native
    }

    /// Whether there are bucket bounds.
    pub(crate) fn has_buckets(&self) -> bool {
        !self.buckets.is_empty()
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
