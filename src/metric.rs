//! The contracts between metrics and the registry: the sealed traits every
//! metric and series type implements, and a metric's validated name.
//!
//! A metric describes its families one by one ([`seal::Encode::describe`])
//! and writes the series of one of them to a format-neutral
//! [`Sink`](crate::expose::Sink) ([`seal::Encode::expose`]); the registry
//! writes the family headers, so that it can merge the families of
//! included registries and check them for clashes before anything is
//! written.

use std::borrow::Cow;

use crate::error::Error;
use crate::expose::{FamilyDesc, Kind, Names};
use crate::name;

/// The sealed parts of [`Metric`] and [`Cell`](crate::Cell): what the
/// registry and families call on a metric, invisible to users.
pub(crate) mod seal {
    use crate::expose::{FamilyDesc, Kind, SeriesLabels, Sink};
    use crate::layout::Layout;

    /// What the registry needs of a metric.
    pub trait Encode {
        /// The `i`-th family this metric writes (from 0, `None` past the
        /// last): name, help, type, label names. Cheap and allocation-free:
        /// called on every scrape and for clash checks.
        fn describe(&self, i: usize) -> Option<FamilyDesc<'_>>;
        /// Writes the series of the `i`-th family (no header: the registry
        /// writes it).
        fn expose(&self, i: usize, sink: &mut dyn Sink);
        /// For labelled families, how many lookups went to overflow.
        fn dropped(&self) -> Option<u64> {
            None
        }
    }

    /// What a family needs of its series type.
    pub trait Series: Send + Sync + Sized + 'static {
        /// The family's type.
        const KIND: Kind;
        /// A fresh value for const construction; for a type that needs a
        /// layout it is a panic, so using it fails to compile.
        #[allow(clippy::declare_interior_mutable_const)] // a fresh copy at every use is the point
        const ZERO: Self;
        /// The bucket bounds a family of this type gets unless told
        /// otherwise: only the classic histogram has any.
        const DEFAULT_BOUNDS: &'static [f64] = &[];
        /// A fresh value for a new series.
        fn create(layout: &Layout) -> Self;
        /// Hands this series' value to the sink.
        fn expose(&self, sink: &mut dyn Sink, labels: SeriesLabels<'_>);
        /// The one value a counter or gauge series writes (what `expose`
        /// hands the sink), for families that hand their series over in
        /// batches; `None` for the other types.
        fn value(&self) -> Option<crate::expose::Value> {
            None
        }
        /// Hands this series' value to the sink with its recorded
        /// exemplars (see `exemplar/store.rs`); a type without exemplars
        /// ignores them.
        fn expose_with_exemplars(
            &self,
            sink: &mut dyn Sink,
            labels: SeriesLabels<'_>,
            exemplars: &[Option<std::sync::Arc<crate::exemplar::Exemplar>>],
        ) {
            let _ = exemplars;
            self.expose(sink, labels);
        }
    }
}

/// A metric a [`Registry`](crate::Registry) can hold: every metric type of
/// this crate ([`Counter`](crate::Counter), [`CounterVec`](crate::CounterVec),
/// [`Histogram`](crate::Histogram), …). Sealed; for values computed at
/// scrape time implement [`Collect`](crate::Collect) instead.
pub trait Metric: seal::Encode + Send + Sync {}

/// A metric's validated name, help text and unit.
pub(crate) struct Meta {
    pub(crate) name: Cow<'static, str>,
    pub(crate) help: Cow<'static, str>,
    /// The `OpenMetrics` unit; empty for none.
    pub(crate) unit: &'static str,
    /// Whether the name or a label name of the metric lies outside the
    /// legacy charset (see [`FamilyDesc::utf8`]); decided once, at
    /// construction.
    pub(crate) utf8: bool,
}

impl Meta {
    pub(crate) const fn new(name: &'static str, help: &'static str) -> Meta {
        name::unwrap(name::metric_name(name));
        Meta {
            name: Cow::Borrowed(name),
            help: Cow::Borrowed(help),
            unit: "",
            utf8: false,
        }
    }

    pub(crate) fn try_new(name: Cow<'static, str>, help: Cow<'static, str>) -> Result<Meta, Error> {
        name::check_metric_name(&name)?;
        Ok(Meta {
            name,
            help,
            unit: "",
            utf8: false,
        })
    }

    /// [`Meta::try_new`] for a name opted in to UTF-8: any non-empty name.
    /// `labels` are the metric's label names (already checked): the flag
    /// [`Meta::utf8`] says whether any name is outside the legacy charset.
    pub(crate) fn try_new_utf8(
        name: Cow<'static, str>,
        help: Cow<'static, str>,
        labels: &[&str],
    ) -> Result<Meta, Error> {
        name::check_metric_name_utf8(&name)?;
        let utf8 = !name::is_legacy_metric_name(&name) || labels.iter().any(|l| !name::is_legacy_label_name(l));
        Ok(Meta {
            name,
            help,
            unit: "",
            utf8,
        })
    }

    /// The name, in const context.
    const fn name_str(&self) -> &str {
        match &self.name {
            Cow::Borrowed(name) => name,
            Cow::Owned(name) => name.as_str(),
        }
    }

    /// Sets the unit of a metric of `kind`.
    ///
    /// # Panics
    ///
    /// If the unit is invalid for the name ([`name::unit`]); in a `static`
    /// that is a compile error.
    pub(crate) const fn set_unit(&mut self, unit: &'static str, kind: Kind) {
        name::unwrap(name::unit(self.name_str(), unit, matches!(kind, Kind::Counter)));
        self.unit = unit;
    }

    /// [`Meta::set_unit`] returning the error instead.
    pub(crate) fn try_set_unit(&mut self, unit: &'static str, kind: Kind) -> Result<(), Error> {
        name::check_unit(&self.name, unit, matches!(kind, Kind::Counter))?;
        self.unit = unit;
        Ok(())
    }

    /// The family this names, of type `kind` with these label names.
    pub(crate) fn desc<'a>(&'a self, kind: Kind, labels: Names<'a>) -> FamilyDesc<'a> {
        FamilyDesc {
            name: &self.name,
            help: &self.help,
            unit: self.unit,
            kind,
            labels,
            utf8: self.utf8,
        }
    }
}
