//! Prometheus metrics for Rust programs, with nothing but `std`.
//!
//! `bareprom` gives lock-free counters, gauges and histograms that live in
//! plain `static`s, labelled families, a registry, and an exact encoder for
//! the Prometheus text exposition format (v0.0.4). With default features it
//! depends on no crate at all.
//!
//! # Quick start
//!
//! ```
//! use bareprom::{Counter, CounterVec, Histogram, Registry};
//!
//! static REQUESTS: Counter = Counter::new("app_requests_total", "Requests served.");
//! static SWEPT: CounterVec<1> = CounterVec::new("app_swept_total", "Rows swept.", ["outcome"]);
//! static LATENCY: Histogram = Histogram::with_buckets("app_latency_seconds", "Latency.", &[0.1, 1.0]);
//!
//! let registry = Registry::new();
//! registry.register(&REQUESTS)?;
//! registry.register(&SWEPT)?;
//! registry.register(&LATENCY)?;
//!
//! REQUESTS.inc();
//! SWEPT.with(["acked"]).inc_by(3);
//! LATENCY.observe(0.25);
//!
//! assert_eq!(registry.render(), "\
//! ## HELP app_requests_total Requests served.
//! ## TYPE app_requests_total counter
//! app_requests_total 1
//! ## HELP app_swept_total Rows swept.
//! ## TYPE app_swept_total counter
//! app_swept_total{outcome=\"acked\"} 3
//! ## HELP app_latency_seconds Latency.
//! ## TYPE app_latency_seconds histogram
//! app_latency_seconds_bucket{le=\"0.1\"} 0
//! app_latency_seconds_bucket{le=\"1\"} 1
//! app_latency_seconds_bucket{le=\"+Inf\"} 1
//! app_latency_seconds_sum 0.25
//! app_latency_seconds_count 1
//! ## HELP bareprom_series_dropped_total Lookups of new label sets sent to the overflow series by the series limit.
//! ## TYPE bareprom_series_dropped_total counter
//! bareprom_series_dropped_total{family=\"app_swept_total\"} 0
//! ");
//! # Ok::<(), bareprom::Error>(())
//! ```
//!
//! # Concepts
//!
//! - **Metrics** ([`Counter`], [`FloatCounter`], [`Gauge`], [`FloatGauge`],
//!   [`Histogram`]) are built by `const fn`s, so they live in `static`s; an
//!   invalid name in a `static` is a compile error. Each has a `try_new`
//!   twin returning [`Error`] for names built at run time. Bumping one is
//!   one atomic operation: no lock, no allocation, no `Result`, no panic.
//!   A counter that many threads bump at once can be a [`ShardedCounter`],
//!   which spreads the count over cache lines so the threads do not contend.
//!   A [`NativeHistogram`] (and the family [`NativeHistogramVec`]) counts
//!   into sparse exponential buckets that Prometheus scrapes over protobuf,
//!   optionally with classic buckets alongside for text scrapers.
//! - **Families** ([`CounterVec`], [`GaugeVec`], [`HistogramVec`], …) fix
//!   their `N` label names at construction; [`Family::with`] returns an
//!   owned [`Child`] handle for `N` values. Each family caps its series
//!   ([`DEFAULT_SERIES_LIMIT`]); past the cap, new label sets share one
//!   overflow series and are counted.
//! - **Registries** ([`Registry`], or the default one behind [`register`]
//!   and [`render`]) decide what a scrape shows, in registration order,
//!   with optional constant labels. A registry
//!   [includes](Registry::include) others, each with a name prefix and
//!   constant labels; same-named families of included registries are
//!   written as one family, and clashes are refused or left out and
//!   counted, never written. [`Collect`] computes values at scrape time,
//!   unlabelled or as labelled families of every kind; a collector that
//!   panics is left out of that scrape and counted.
//! - **Formats**: metrics describe themselves to a format-neutral sink;
//!   the text format 0.0.4 ([`CONTENT_TYPE`]), `OpenMetrics` 1.0 text and
//!   the delimited protobuf exposition
//!   ([`Format::ProtobufDelimited`], for native histograms) are its sinks.
//! - **UTF-8 names** (Prometheus 3): opted in per metric
//!   ([`Family::try_new_utf8`], `Counter::try_new_utf8`, …) or per
//!   registry ([`Registry::with_utf8_names`]); written quoted to a scraper
//!   that asks `escaping=allow-utf-8`, escaped ([`Escaping`]) for any
//!   other; legacy names are untouched and cost nothing more.
//! - **Serving**: [`Registry::handle`] answers a request's method, path,
//!   `Accept` and `Accept-Encoding` on any HTTP server ([`serve`] is a
//!   std-only one); it [`negotiate`]s the format and gzips
//!   ([`gzip`]) when the scraper allows it, as every Prometheus does.
//!
//! - **Pushing** ([`Pusher`]): a batch job that ends before any scrape
//!   pushes a registry to a Pushgateway (`push`, `push_add`, `delete`), over
//!   a `std` `TcpStream` or a stream of its own (for TLS).
//!
//! # In libraries and in applications
//!
//! A library takes a `&Registry` from its caller (or builds its metrics with
//! `try_new` and hands them over as `Arc`s), so two instances never collide:
//! the application gives each instance a [`Registry::sub_registry`] with
//! its own constant labels;
//! an application registers its statics in the default registry once at
//! start-up and serves [`render`] with [`CONTENT_TYPE`] on its metrics
//! endpoint.
//!
//! # Features
//!
//! The default build depends on `std` alone. Each feature depends only on
//! the crates it adapts, without their default features:
//!
//! - `hyper`: [`MetricsService`] (the `/metrics` endpoint) and
//!   [`Instrument`] (every request recorded in a [`RouteTable`], panics
//!   answered 500 and counted, dropped requests recorded as
//!   [`CANCELLED_STATUS`], an optional deadline answering 504) as hyper 1.x
//!   services; [`HyperTimer`] for the deadline. Adds `hyper` and `http`.
//! - `tower`: the same as tower services, and [`InstrumentLayer`] for axum
//!   and tonic routers. Adds `tower-service`, `tower-layer` and `http`.
//!
//! ```
//! # #[cfg(feature = "hyper")] {
//! static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("app_");
//! let handler = (); // your hyper service
//! let app = bareprom::Instrument::new(handler, &ROUTES);
//! let service = bareprom::MetricsService::<Vec<u8>>::new(bareprom::default_registry()).beside(app);
//! # }
//! ```
//!
//! # Minimum supported Rust version
//!
//! 1.88 (let-chains); clippy's `incompatible_msrv` lint checks the `std`
//! API used against it.

// Layers, bottom up; a module names only modules of its own layer or
// below (see ARCHITECTURE.md, "Layers").
// base: errors, validation, the format-neutral exposition, the formats,
// compression and content negotiation
mod error;
mod exemplar;
mod expose;
mod gzip;
mod name;
mod negotiate;
mod openmetrics;
mod protobuf;
mod text;
// contracts: sealed metric and series traits, bucket layouts, label hash
mod hash;
mod layout;
mod metric;
// cells: the atomic values
mod counter;
mod gauge;
mod histogram;
mod native;
mod sharded;
// containers: named metrics holding cells
mod family;
mod info;
mod routes;
mod unlabelled;
// registry, and the collectors built on it
mod alloc;
mod process;
mod registry;
// transports
mod handler;
#[cfg(feature = "hyper")]
mod hyper;
#[cfg(any(feature = "hyper", feature = "tower"))]
mod middleware;
mod push;
mod serve;
#[cfg(feature = "tower")]
mod tower;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
mod corpus_tests;

// Every Rust block of the README is compiled (and run) as a doctest; its
// hyper and axum blocks need both adapters, so with all features.
#[cfg(all(doctest, feature = "hyper", feature = "tower"))]
#[doc = include_str!("../README.md")]
mod readme {}

pub use alloc::CountingAlloc;
pub use counter::{CounterCell, FloatCounterCell};
pub use error::{Error, ErrorKind};
pub use exemplar::{Exemplar, MAX_EXEMPLAR_CHARS};
pub use family::{
    Cell, Child, CounterVec, DEFAULT_SERIES_LIMIT, Family, FloatCounterVec, FloatGaugeVec, GaugeVec, HistogramVec,
    NativeHistogramVec, OVERFLOW_LABEL_VALUE,
};
pub use gauge::{FloatGaugeCell, GaugeCell};
pub use gzip::gzip;
pub use handler::{METRICS_PATH, MetricsRequest, MetricsResponse, handle};
pub use histogram::{DEFAULT_BUCKETS, Histogram, HistogramCell, Timer, exponential_buckets, linear_buckets};
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub use hyper::HyperTimer;
pub use info::Info;
pub use metric::Metric;
#[cfg(any(feature = "hyper", feature = "tower"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "hyper", feature = "tower"))))]
pub use middleware::{
    Beside, BesideFuture, Classify, DeadlineTimer, Instrument, Instrumented, MetricsService, PanicReport, Unmatched,
};
pub use native::{
    DEFAULT_ZERO_THRESHOLD, NATIVE_BUCKETS, NativeHistogram, NativeHistogramCell, NativeTimer, schema_for_factor,
};
pub use negotiate::{ContentEncoding, Escaping, Format, Negotiated, negotiate, negotiate_encoding};
pub use openmetrics::OPENMETRICS_CONTENT_TYPE;
pub use process::ProcessCollector;
pub use push::{PushFormat, Pusher};
pub use registry::{
    Collect, FamilyWriter, HistogramWriter, Registry, Scrape, default_registry, register, register_collector, render,
};
pub use routes::{CANCELLED_STATUS, HTTP_BUCKETS, InFlight, RouteSchema, RouteTable, UNMATCHED_ROUTE};
pub use serve::{ServeOptions, Server, serve};
pub use sharded::{SHARDS, ShardedCounterCell};
pub use text::CONTENT_TYPE;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use tower::InstrumentLayer;
pub use unlabelled::{Counter, FloatCounter, FloatGauge, Gauge, ShardedCounter};
