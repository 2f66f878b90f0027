//! The shape of a route table's exposition: label names and optional
//! families, for dashboards written against other exporters.

/// Label names of a [`RouteTable`](crate::RouteTable) and whether it adds
/// the seconds counter.
///
/// The default is what OpenTelemetry-minded exporters write: `route` and
/// `status`. Many Gin exporters write `path` and `code` instead; a table
/// built for those dashboards renames them, and nothing else changes. The
/// `method` label is not renamed: every exporter the schema was modelled on
/// calls it `method`.
///
/// With [`RouteSchema::seconds_total`], the table also writes
/// `<prefix>http_request_seconds_total` (counter, same labels as the
/// requests): the seconds spent, for dashboards that divide a seconds
/// counter by `http_requests_total` instead of reading the histogram's
/// `_sum`. It is written from the histogram's own sum, so the two always
/// agree and recording costs nothing more. It is not named
/// `http_request_duration_seconds_total`: in `OpenMetrics` that counter and
/// the histogram would be one family name. A port whose dashboards need that
/// name gives the histogram another one ([`RouteSchema::histogram_name`],
/// [`RouteSchema::seconds_total_name`]).
///
/// # Examples
///
/// ```
/// use bareprom::{HTTP_BUCKETS, RouteSchema, RouteTable};
///
/// const GIN: RouteSchema = RouteSchema::new().route_label("path").status_label("code");
/// static ROUTES: RouteTable = RouteTable::with_schema("", &HTTP_BUCKETS, GIN);
/// assert_eq!((GIN.route(), GIN.status()), ("path", "code"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSchema {
    pub(super) route: &'static str,
    pub(super) status: &'static str,
    pub(super) seconds_total: bool,
    pub(super) histogram: &'static str,
    pub(super) seconds: &'static str,
}

impl RouteSchema {
    /// Labels `route` and `status`, no seconds counter.
    ///
    /// # Examples
    ///
    /// ```
    /// let schema = bareprom::RouteSchema::new();
    /// assert_eq!((schema.route(), schema.status()), ("route", "status"));
    /// ```
    pub const fn new() -> Self {
        RouteSchema {
            route: "route",
            status: "status",
            seconds_total: false,
            histogram: "http_request_duration_seconds",
            seconds: "http_request_seconds_total",
        }
    }

    /// The same schema with the route label named `name` (e.g. `path`).
    /// The name is checked when a table is built with the schema.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::RouteSchema::new().route_label("path").route(), "path");
    /// ```
    #[must_use]
    pub const fn route_label(mut self, name: &'static str) -> Self {
        self.route = name;
        self
    }

    /// The same schema with the status label named `name` (e.g. `code`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::RouteSchema::new().status_label("code").status(), "code");
    /// ```
    #[must_use]
    pub const fn status_label(mut self, name: &'static str) -> Self {
        self.status = name;
        self
    }

    /// The same schema with or without `<prefix>http_request_seconds_total`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(bareprom::RouteSchema::new().seconds_total(true).has_seconds_total());
    /// ```
    #[must_use]
    pub const fn seconds_total(mut self, on: bool) -> Self {
        self.seconds_total = on;
        self
    }

    /// The same schema with the latency histogram named `<prefix>suffix`
    /// instead of `<prefix>http_request_duration_seconds`. The name is
    /// checked when a table is built with the schema.
    ///
    /// A port of an exporter whose seconds counter is called
    /// `http_request_duration_seconds_total` needs it: that counter claims
    /// `http_request_duration_seconds` (a parser maps `x_total` back to
    /// `x`), so the histogram next to it must have another name, and a
    /// table that keeps both at the same base name is refused when
    /// registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use bareprom::{ErrorKind, HTTP_BUCKETS, Registry, RouteSchema, RouteTable};
    ///
    /// // molecule's dashboards read the seconds counter by its old name.
    /// const MOLECULE: RouteSchema = RouteSchema::new()
    ///     .histogram_name("http_request_latency_seconds")
    ///     .seconds_total_name("http_request_duration_seconds_total");
    /// static ROUTES: RouteTable = RouteTable::with_schema("molecule_", &HTTP_BUCKETS, MOLECULE);
    /// let registry = Registry::new();
    /// registry.register(&ROUTES)?;
    /// ROUTES.record("GET", "/", 200, std::time::Duration::from_millis(500));
    /// let text = registry.render();
    /// assert!(text.contains("molecule_http_request_duration_seconds_total{method=\"GET\",route=\"/\",status=\"200\"} 0.5\n"));
    /// assert!(text.contains("molecule_http_request_latency_seconds_count{method=\"GET\",route=\"/\",status=\"200\"} 1\n"));
    ///
    /// // Without the rename the two families clash.
    /// static CLASH: RouteTable = RouteTable::with_schema(
    ///     "clash_",
    ///     &HTTP_BUCKETS,
    ///     RouteSchema::new().seconds_total_name("http_request_duration_seconds_total"),
    /// );
    /// assert!(Registry::new().register(&CLASH).is_err());
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    #[must_use]
    pub const fn histogram_name(mut self, suffix: &'static str) -> Self {
        self.histogram = suffix;
        self
    }

    /// The same schema with the seconds counter on and named
    /// `<prefix>suffix` instead of `<prefix>http_request_seconds_total`
    /// (see [`RouteSchema::histogram_name`] for why a port may need it).
    ///
    /// # Examples
    ///
    /// ```
    /// let schema = bareprom::RouteSchema::new().seconds_total_name("http_seconds_total");
    /// assert!(schema.has_seconds_total());
    /// assert_eq!(schema.seconds_total_family(), "http_seconds_total");
    /// ```
    #[must_use]
    pub const fn seconds_total_name(mut self, suffix: &'static str) -> Self {
        self.seconds = suffix;
        self.seconds_total = true;
        self
    }

    /// The latency histogram's name, after the table's prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::RouteSchema::new().histogram_family(), "http_request_duration_seconds");
    /// ```
    pub const fn histogram_family(&self) -> &'static str {
        self.histogram
    }

    /// The seconds counter's name, after the table's prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::RouteSchema::new().seconds_total_family(), "http_request_seconds_total");
    /// ```
    pub const fn seconds_total_family(&self) -> &'static str {
        self.seconds
    }

    /// The route label's name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::RouteSchema::new().route(), "route");
    /// ```
    pub const fn route(&self) -> &'static str {
        self.route
    }

    /// The status label's name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::RouteSchema::new().status(), "status");
    /// ```
    pub const fn status(&self) -> &'static str {
        self.status
    }

    /// Whether tables with this schema write the seconds counter.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!bareprom::RouteSchema::new().has_seconds_total());
    /// ```
    pub const fn has_seconds_total(&self) -> bool {
        self.seconds_total
    }
}

impl Default for RouteSchema {
    fn default() -> Self {
        Self::new()
    }
}
