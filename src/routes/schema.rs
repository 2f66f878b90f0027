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
/// the histogram would be one family name.
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
