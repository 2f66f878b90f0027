//! Prometheus 3 UTF-8 names at the registry: the opt-in for the names it
//! validates (constant labels, collectors' families), and the encoders
//! that write a negotiated escaping.

use super::Registry;
use super::include::check_const_labels;
use crate::error::Error;
use crate::negotiate::Negotiated;
use crate::text;

impl Registry {
    /// The same registry, taking names outside the legacy charset
    /// (Prometheus 3 UTF-8 names) where the registry validates them: the
    /// constant labels given to [`include`](Registry::include) and
    /// [`sub_registry`](Registry::sub_registry) on it, and the families its
    /// collectors write ([`Collect`](crate::Collect)). Metrics opt in themselves, with
    /// their `try_new_utf8` constructors. A registry made by
    /// `sub_registry` inherits the setting.
    ///
    /// Such names are written quoted to a scraper that accepts them
    /// (`escaping=allow-utf-8`) and escaped for any other, by the scheme it
    /// asks for ([`Escaping`](crate::Escaping); `underscores` when it names
    /// none, and for [`encode`](Registry::encode) and the other
    /// encoders that negotiate nothing). Two families whose names would
    /// be written alike in some escaping are refused as duplicates.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let app = bareprom::Registry::new().with_utf8_names();
    /// let pool = app.sub_registry("", &[("db.system", "postgresql")])?;
    /// pool.register_owned(bareprom::Gauge::try_new("pool_size", "Pool size.")?)?;
    /// assert!(app.render().contains("pool_size{db_system=\"postgresql\"} 0\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub const fn with_utf8_names(mut self) -> Self {
        self.utf8 = true;
        self
    }

    /// As [`with_const_labels`](Registry::with_const_labels), for label
    /// names that may lie outside the legacy charset; the registry takes
    /// such names from then on ([`with_utf8_names`](Registry::with_utf8_names)).
    ///
    /// # Errors
    ///
    /// As [`with_const_labels`](Registry::with_const_labels), and for names
    /// that escape alike or to a reserved name, as
    /// [`Family::try_new_utf8`](crate::Family::try_new_utf8).
    ///
    /// # Examples
    ///
    /// ```
    /// let registry = bareprom::Registry::with_const_labels_utf8(&[("service.name", "checkout")])?;
    /// registry.register_owned(bareprom::Gauge::try_new("up", "Up.")?)?;
    /// assert!(registry.render().contains("up{service_name=\"checkout\"} 0\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn with_const_labels_utf8(labels: &[(&str, &str)]) -> Result<Self, Error> {
        check_const_labels(labels, &[], true)?;
        Ok(Registry {
            const_escaped: text::render_labels(labels.iter().copied()),
            const_labels: labels.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            ..Registry::new().with_utf8_names()
        })
    }

    /// Appends the exposition in a negotiated format and escaping (what
    /// [`negotiate`](crate::negotiate) chose) to `out`: the text format
    /// (0.0.4 and 1.0.0 are one syntax), `OpenMetrics` (1.0.0 and 0.0.1
    /// alike) or protobuf. Send it with
    /// [`Negotiated::content_type`]. Names outside the legacy charset are
    /// quoted in the text formats with [`Escaping::AllowUtf8`](crate::Escaping::AllowUtf8)
    /// (`{"http.server.request.duration_bucket",le="0.1"} 3`), written as
    /// they are in protobuf, and escaped by any other escaping; legacy
    /// names are written as they are in every case.
    /// [`encode`](Registry::encode) and the other encoders escape with
    /// `underscores`.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{Escaping, Format, Negotiated};
    /// let registry = bareprom::Registry::new();
    /// registry.register_owned(bareprom::Gauge::try_new_utf8("db.pool.size", "Pool size.")?)?;
    /// let mut body = Vec::new();
    /// let utf8 = Negotiated { format: Format::Text0_0_4, escaping: Escaping::AllowUtf8 };
    /// registry.encode_negotiated(utf8, &mut body);
    /// assert_eq!(body, b"# HELP \"db.pool.size\" Pool size.\n# TYPE \"db.pool.size\" gauge\n{\"db.pool.size\"} 0\n");
    /// body.clear();
    /// registry.encode_negotiated(Negotiated { escaping: Escaping::Values, ..utf8 }, &mut body);
    /// assert!(body.ends_with(b"\nU__db_2e_pool_2e_size 0\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn encode_negotiated(&self, negotiated: Negotiated, out: &mut Vec<u8>) {
        self.encode_as(negotiated.format, negotiated.escaping, out);
    }
}
