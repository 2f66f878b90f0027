use super::{BUCKETS, SERIES, encode_labels, heap_per_series, routes};
use measured::metric::histogram::Thresholds;
use measured::{CounterVec, Histogram, LabelGroup, MetricGroup};
use paracord::ParaCord;

#[derive(Clone, Copy, PartialEq, Debug, LabelGroup)]
#[label(set = RequestSet)]
pub struct Request<'a> {
    #[label(dynamic_with = ParaCord)]
    pub method: &'a str,
    #[label(dynamic_with = ParaCord)]
    pub route: &'a str,
    #[label(dynamic_with = ParaCord)]
    pub status: &'a str,
}

#[derive(MetricGroup)]
pub struct Encode {
    /// Requests served.
    pub http_requests_total: CounterVec<RequestSet>,
}

pub fn vec() -> CounterVec<RequestSet> {
    CounterVec::with_label_set(RequestSet {
        method: ParaCord::default(),
        route: ParaCord::default(),
        status: ParaCord::default(),
    })
}

pub fn request<'a>(labels: [&'a str; 3]) -> Request<'a> {
    Request {
        method: labels[0],
        route: labels[1],
        status: labels[2],
    }
}

pub fn histogram() -> Histogram<11> {
    Histogram::with_metadata(Thresholds::with_buckets(BUCKETS))
}

pub fn encode_group() -> Encode {
    let group = Encode {
        http_requests_total: vec(),
    };
    for (i, route) in routes().iter().enumerate() {
        group
            .http_requests_total
            .inc_by(request(encode_labels(i, route)), i as u64 * 7 + 1);
    }
    group
}

pub fn heap(routes: &[String]) -> f64 {
    let family = vec();
    let per = heap_per_series(routes, |_, route| family.inc(request(["GET", route, "200"])));
    assert_eq!(family.get_cardinality().0, SERIES);
    per
}
