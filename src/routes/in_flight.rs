//! The guard of one request in flight: counted in flight until finished,
//! cancelled, or dropped (a drop while its thread panics counts the panic).

use std::fmt;
use std::time::Instant;

use super::{CANCELLED_STATUS, RouteTable};
use crate::family::Child;
use crate::gauge::GaugeCell;

/// A request in flight, from [`RouteTable::start`].
///
/// # Examples
///
/// ```
/// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
/// let request = ROUTES.start("DELETE", "/items/:id");
/// request.finish(204);
/// assert_eq!(ROUTES.requests("DELETE", "/items/:id", 204), 1);
/// ```
#[must_use = "a request is counted in flight until finished or dropped"]
pub struct InFlight<'a> {
    pub(super) table: &'a RouteTable,
    pub(super) method: &'static str,
    pub(super) route: &'a str,
    pub(super) gauge: Child<GaugeCell>,
    pub(super) start: Instant,
    pub(super) finished: bool,
}

impl InFlight<'_> {
    /// Records the request under [`CANCELLED_STATUS`] (499): its client
    /// went away before the response was ready.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// ROUTES.start("GET", "/slow").cancel();
    /// assert_eq!(ROUTES.requests("GET", "/slow", 499), 1);
    /// ```
    pub fn cancel(self) {
        self.finish(CANCELLED_STATUS);
    }

    /// Records that the handler panicked and was answered with `status`
    /// (usually 500): counts the panic and the request.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// let request = ROUTES.start("GET", "/boom");
    /// let caught = std::panic::catch_unwind(|| panic!("handler bug"));
    /// assert!(caught.is_err());
    /// request.panicked(500);
    /// assert_eq!((ROUTES.panics("GET", "/boom"), ROUTES.requests("GET", "/boom", 500)), (1, 1));
    /// ```
    pub fn panicked(self, status: u16) {
        self.table.record_panic(self.method, self.route);
        self.finish(status);
    }

    /// Records the request with its status and the time since it started.
    ///
    /// # Examples
    ///
    /// ```
    /// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
    /// ROUTES.start("GET", "/").finish(200);
    /// assert_eq!(ROUTES.requests("GET", "/", 200), 1);
    /// ```
    pub fn finish(mut self, status: u16) {
        self.finished = true;
        self.table.record(self.method, self.route, status, self.start.elapsed());
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.gauge.dec();
        if !self.finished && std::thread::panicking() {
            self.table.record_panic(self.method, self.route);
        }
    }
}

impl fmt::Debug for InFlight<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InFlight")
            .field("method", &self.method)
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}
