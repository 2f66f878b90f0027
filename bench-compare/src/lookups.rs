//! The 3-label lookup rows: every library's family, filled with the label
//! sets a row cycles over before anything is timed.

use std::hint::black_box;

use bareprom::{CounterCell, CounterVec};
use metrics_exporter_prometheus::PrometheusRecorder;

use super::{Row, client, meas, prom};

type ClientFamily =
    prometheus_client::metrics::family::Family<client::Lookup, prometheus_client::metrics::counter::Counter>;

pub struct Lookups {
    /// Also the metric name, for `prometheus` and `metrics`.
    name: &'static str,
    sets: Vec<[&'static str; 3]>,
    /// Indexes into `sets`, in the order a row looks them up (cycled).
    order: Vec<usize>,
    ours: CounterVec<3>,
    prom: prometheus::IntCounterVec,
    client: ClientFamily,
    measured: measured::CounterVec<meas::RequestSet>,
}

impl Lookups {
    /// Every library's family named `name`, with a series for each of
    /// `sets`, looked up in turn.
    pub fn new(name: &'static str, sets: Vec<[&'static str; 3]>, recorder: &PrometheusRecorder) -> Self {
        let order = (0..sets.len()).collect();
        Self::in_order(name, sets, order, recorder)
    }

    /// As [`Lookups::new`], looked up in `order` (indexes into `sets`).
    pub fn in_order(
        name: &'static str,
        sets: Vec<[&'static str; 3]>,
        order: Vec<usize>,
        recorder: &PrometheusRecorder,
    ) -> Self {
        let lookups = Lookups {
            name,
            order,
            ours: CounterVec::try_new(name, "L.", ["method", "route", "status"])
                .expect("valid")
                .with_series_limit(usize::MAX),
            prom: prom::vec(name),
            client: ClientFamily::default(),
            measured: meas::vec(),
            sets,
        };
        for s in &lookups.sets {
            lookups.ours.with(*s).inc();
            lookups.prom.with_label_values(s).inc();
            let [method, route, status] = *s;
            lookups
                .client
                .get_or_create(&client::Lookup { method, route, status })
                .inc();
            metrics::with_local_recorder(recorder, || {
                metrics::counter!(name, "method" => method, "route" => route, "status" => status).increment(1);
            });
            lookups.measured.inc(meas::request(*s));
        }
        lookups
    }

    /// The row: each library looks up and increments the sets in turn.
    pub fn row<'a>(&'a self, title: &'static str, recorder: &'a PrometheusRecorder) -> Row<'a> {
        self.row_of(title, recorder, false)
    }

    /// As [`Lookups::row`], bareprom through `apply` (no handle made; the
    /// peers as in every lookup row, each its usual way).
    pub fn apply_row<'a>(&'a self, title: &'static str, recorder: &'a PrometheusRecorder) -> Row<'a> {
        self.row_of(title, recorder, true)
    }

    fn row_of<'a>(&'a self, title: &'static str, recorder: &'a PrometheusRecorder, apply: bool) -> Row<'a> {
        let (order, name) = (&self.order, self.name);
        let sets = move |i: usize| self.sets[order[i]];
        let next = move |i: usize| if i == order.len() - 1 { 0 } else { i + 1 };
        Row::new(
            title,
            [
                // Chosen outside the loop: the timed loop has no branch of
                // its own.
                Some(if apply {
                    Box::new(move |n| {
                        let mut i = 0;
                        for _ in 0..n {
                            self.ours.apply(black_box(sets(i)), CounterCell::inc);
                            i = next(i);
                        }
                    })
                } else {
                    Box::new(move |n| {
                        let mut i = 0;
                        for _ in 0..n {
                            self.ours.with(black_box(sets(i))).inc();
                            i = next(i);
                        }
                    })
                }),
                Some(Box::new(move |n| {
                    let mut i = 0;
                    for _ in 0..n {
                        self.prom.with_label_values(&black_box(sets(i))).inc();
                        i = next(i);
                    }
                })),
                Some(Box::new(move |n| {
                    let mut i = 0;
                    for _ in 0..n {
                        let [method, route, status] = black_box(sets(i));
                        self.client
                            .get_or_create(&client::Lookup { method, route, status })
                            .inc();
                        i = next(i);
                    }
                })),
                Some(Box::new(move |n| {
                    metrics::with_local_recorder(recorder, || {
                        let mut i = 0;
                        for _ in 0..n {
                            let [method, route, status] = black_box(sets(i));
                            metrics::counter!(name, "method" => method, "route" => route, "status" => status)
                                .increment(1);
                            i = next(i);
                        }
                    });
                })),
                Some(Box::new(move |n| {
                    let mut i = 0;
                    for _ in 0..n {
                        self.measured.inc(meas::request(black_box(sets(i))));
                        i = next(i);
                    }
                })),
            ],
        )
    }
}
