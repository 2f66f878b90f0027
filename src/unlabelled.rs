//! `Unlabelled<C>`: a metric with a name, help text and exactly one series.
//! [`Counter`](crate::Counter), [`FloatCounter`](crate::FloatCounter),
//! [`Gauge`](crate::Gauge) and [`FloatGauge`](crate::FloatGauge) are this type
//! over their cells, so the four share one implementation.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use crate::error::Error;
use crate::family::Cell;
use crate::registry::{Describe, Meta, Metric, seal};
use crate::text::{Encoder, Labels};

/// A named metric with a single series whose value is a `C`
/// ([`CounterCell`](crate::CounterCell), [`GaugeCell`](crate::GaugeCell), …).
///
/// Usually named through its aliases [`Counter`](crate::Counter),
/// [`FloatCounter`](crate::FloatCounter), [`Gauge`](crate::Gauge) and
/// [`FloatGauge`](crate::FloatGauge). It dereferences to its cell, so the
/// cell's methods (`inc`, `set`, …) are called on the metric directly.
///
/// # Examples
///
/// ```
/// use bareprom::Gauge;
///
/// static CONNECTIONS: Gauge = Gauge::new("app_connections", "Open connections.");
/// CONNECTIONS.inc();
/// assert_eq!(CONNECTIONS.get(), 1);
/// ```
pub struct Unlabelled<C: Cell> {
    meta: Meta,
    cell: C,
}

impl<C: Cell> Unlabelled<C> {
    /// A metric at zero.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`); in a
    /// `static` or `const` that is a compile error. Use
    /// [`Unlabelled::try_new`] for names built at run time.
    ///
    /// # Examples
    ///
    /// ```
    /// static JOBS: bareprom::Counter = bareprom::Counter::new("jobs_total", "Jobs run.");
    /// JOBS.inc_by(2);
    /// assert_eq!(JOBS.get(), 2);
    /// ```
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Unlabelled {
            meta: Meta::new(name, help),
            cell: C::ZERO,
        }
    }

    /// A metric at zero, for a name built at run time.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`](crate::ErrorKind::InvalidMetricName)
    /// if `name` is not a valid metric name.
    ///
    /// # Examples
    ///
    /// ```
    /// let shard = 7;
    /// let jobs = bareprom::Counter::try_new(format!("shard{shard}_jobs_total"), "Jobs run.")?;
    /// jobs.inc();
    /// assert_eq!(jobs.get(), 1);
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn try_new(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Result<Self, Error> {
        Ok(Unlabelled {
            meta: Meta::try_new(name.into(), help.into())?,
            cell: C::ZERO,
        })
    }

    /// The metric's name.
    ///
    /// # Examples
    ///
    /// ```
    /// static C: bareprom::Counter = bareprom::Counter::new("c_total", "C.");
    /// assert_eq!(C.name(), "c_total");
    /// ```
    pub fn name(&self) -> &str {
        &self.meta.name
    }
}

impl<C: Cell> Deref for Unlabelled<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.cell
    }
}

impl<C: Cell + fmt::Debug> fmt::Debug for Unlabelled<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unlabelled")
            .field("name", &self.meta.name)
            .field("value", &self.cell)
            .finish()
    }
}

impl<C: Cell> Metric for Unlabelled<C> {}
impl<C: Cell> seal::Encode for Unlabelled<C> {
    fn describe(&self) -> Vec<Describe<'_>> {
        self.meta.describe(C::KIND, Vec::new())
    }
    fn encode(&self, enc: &mut Encoder<'_>) {
        self.meta.header(enc, C::KIND);
        seal::Series::encode_series(&self.cell, enc, &self.meta.name, Labels::NONE);
    }
}
