//! The Pushgateway client against a real Pushgateway (Debian
//! `prometheus-pushgateway`, started here on a free loopback port without
//! persistence): what is pushed is read back, value for value, through its
//! JSON API and its own `/metrics`; and against fake gateways on loopback
//! for the failures a real one does not stage on demand.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use bareprom::{ContentEncoding, Counter, CounterVec, ErrorKind, FloatGauge, Gauge, Histogram, Pusher, Registry};

use crate::json::{self, Json};

const PROGRAM: &str = "prometheus-pushgateway";

/// A Pushgateway we started; killed by its pid (our child) on drop.
struct Pushgateway {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Pushgateway {
    /// Starts one and waits until it is ready; `None` when the program is
    /// not installed.
    fn start() -> Option<Pushgateway> {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("bareprom-pushgateway-{}-{port}.log", std::process::id()));
        let child = Command::new(PROGRAM)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--persistence.file=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let _ = std::fs::remove_file(&log);
                return None;
            }
            Err(e) => panic!("cannot start {PROGRAM}: {e}"),
        };
        let gateway = Pushgateway { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(port, "/-/ready").is_none_or(|(status, _)| status != 200) {
            let log = std::fs::read_to_string(&gateway.log).unwrap_or_default();
            assert!(Instant::now() < deadline, "{PROGRAM} never became ready; log:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(gateway)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The groups its JSON API lists.
    fn groups(&self) -> Vec<Json> {
        let (status, body) = get(self.port, "/api/v1/metrics").unwrap();
        assert_eq!(status, 200, "{body}");
        let answer = json::parse(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(answer.get("status").and_then(Json::as_str), Some("success"), "{body}");
        answer.get("data").unwrap().as_array().to_vec()
    }

    /// The group with exactly these grouping labels.
    fn group(&self, labels: &[(&str, &str)]) -> Option<Json> {
        let want = sorted(labels);
        self.groups()
            .into_iter()
            .find(|g| g.get("labels").is_some_and(|l| l.string_pairs() == want))
    }

    /// Waits (up to 10 s) until `done` holds: the gateway answers a DELETE
    /// with 202 and applies it after answering.
    #[track_caller]
    fn settle(&self, what: &str, done: impl Fn(&Pushgateway) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(self) {
            assert!(Instant::now() < deadline, "waited 10 s for {what}: {:?}", self.groups());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The samples of its own `/metrics`.
    fn exposition(&self) -> Vec<TextSample> {
        let (status, body) = get(self.port, "/metrics").unwrap();
        assert_eq!(status, 200, "{body}");
        body.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(text_sample)
            .collect()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn sorted(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    pairs.sort();
    pairs
}

/// A plain HTTP/1.0 GET to 127.0.0.1: status and body.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// The value of series `labels` (the series' own, sorted by the gateway) of
/// family `name` in a group from the JSON API, as the gateway parsed it.
fn json_value(group: &Json, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want = sorted(labels);
    let family = group.get(name)?;
    let series = family
        .get("metrics")?
        .as_array()
        .iter()
        .find(|m| m.get("labels").is_some_and(|l| l.string_pairs() == want))?;
    series.get("value")?.as_str()?.parse().ok()
}

/// One sample line of a text exposition as the Go client writes it.
#[derive(Debug)]
struct TextSample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn text_sample(line: &str) -> TextSample {
    let (series, value) = line.rsplit_once(' ').unwrap();
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|e| panic!("{e}: {line}")),
    };
    let Some((name, mut rest)) = series.split_once('{') else {
        return TextSample {
            name: series.to_owned(),
            labels: Vec::new(),
            value,
        };
    };
    let mut labels = Vec::new();
    while let Some((label, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().unwrap() {
                (_, '\\') => match chars.next().unwrap().1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        labels.push((label.to_owned(), value));
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels.sort();
    TextSample {
        name: name.to_owned(),
        labels,
        value,
    }
}

fn text_value(samples: &[TextSample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want = sorted(labels);
    samples
        .iter()
        .find(|s| s.name == name && s.labels == want)
        .map(|s| s.value)
}

#[track_caller]
fn assert_same(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: not found"));
    assert_eq!(got.to_bits(), want.to_bits(), "{what}: {got} != {want}");
}

/// What the first push of the round-trip test must have stored: every value
/// equal, through the JSON API and the gateway's `/metrics`.
fn check_first_push(gateway: &Pushgateway, grouping: &[(&str, &str)], series: &[(&str, &str)]) {
    let group = gateway.group(grouping).expect("the pushed group");
    assert_eq!(group.get("last_push_successful"), Some(&Json::Bool(true)), "{group:?}");
    let rows = [("instance", "batch-1"), ("job", "bareprom_it"), ("outcome", "acked")];
    let expected = [
        ("it_push_records_total", series, 12_345_678_901.0),
        ("it_push_duration_seconds", series, 0.1 + 0.2),
        ("it_push_delta", series, -42.0),
        ("it_push_rows_total", &rows[..], 3.0),
    ];
    let text = gateway.exposition();
    for (name, labels, value) in expected {
        assert_same(json_value(&group, name, labels), value, name);
        assert_same(text_value(&text, name, labels), value, name);
    }
    let latency = group.get("it_push_latency_seconds").unwrap();
    assert_eq!(latency.get("type").and_then(Json::as_str), Some("HISTOGRAM"));
    let records = group.get("it_push_records_total").unwrap();
    assert_eq!(records.get("type").and_then(Json::as_str), Some("COUNTER"));
    assert_eq!(records.get("help").and_then(Json::as_str), Some("Records processed."));
    let latency_series = &latency.get("metrics").unwrap().as_array()[0];
    assert_eq!(
        latency_series.get("count").and_then(Json::as_str),
        Some("2"),
        "{latency:?}"
    );
    assert_eq!(
        latency_series.get("sum").and_then(Json::as_str),
        Some("2.75"),
        "{latency:?}"
    );
    let le = |bound: &'static str| [("instance", "batch-1"), ("job", "bareprom_it"), ("le", bound)];
    assert_same(
        text_value(&text, "it_push_latency_seconds_bucket", &le("0.1")),
        0.0,
        "le=0.1",
    );
    assert_same(
        text_value(&text, "it_push_latency_seconds_bucket", &le("1")),
        1.0,
        "le=1",
    );
    assert_same(
        text_value(&text, "it_push_latency_seconds_bucket", &le("+Inf")),
        2.0,
        "le=+Inf",
    );
    assert_same(text_value(&text, "it_push_latency_seconds_count", series), 2.0, "count");
}

#[test]
fn push_push_add_and_delete_round_trip_through_a_real_pushgateway() {
    static RECORDS: Counter = Counter::new("it_push_records_total", "Records processed.");
    static DURATION: FloatGauge = FloatGauge::new("it_push_duration_seconds", "How long the run took.");
    static DELTA: Gauge = Gauge::new("it_push_delta", "A gauge that goes negative.");
    static ROWS: CounterVec<1> = CounterVec::new("it_push_rows_total", "Rows by outcome.", ["outcome"]);
    static LATENCY: Histogram = Histogram::with_buckets("it_push_latency_seconds", "Latency.", &[0.1, 1.0]);
    static EXTRA: Gauge = Gauge::new("it_push_extra", "Pushed only by the second registry.");
    let Some(gateway) = Pushgateway::start() else {
        return crate::missing_program(PROGRAM);
    };
    let first = Registry::new();
    first.register(&RECORDS).unwrap();
    first.register(&DURATION).unwrap();
    first.register(&DELTA).unwrap();
    first.register(&ROWS).unwrap();
    first.register(&LATENCY).unwrap();
    RECORDS.inc_by(12_345_678_901);
    DURATION.set(0.1 + 0.2);
    DELTA.set(-42);
    ROWS.with(["acked"]).inc_by(3);
    LATENCY.observe(0.25);
    LATENCY.observe(2.5);

    let grouping = [("job", "bareprom_it"), ("instance", "batch-1")];
    let series = [("instance", "batch-1"), ("job", "bareprom_it")];
    let pusher = Pusher::new(&gateway.url(), "bareprom_it")
        .unwrap()
        .grouping("instance", "batch-1")
        .unwrap();
    pusher.push(&first).unwrap();

    check_first_push(&gateway, &grouping, &series);

    // POST replaces only the families it carries.
    let second = Registry::new();
    second.register(&DELTA).unwrap();
    second.register(&EXTRA).unwrap();
    DELTA.set(5);
    EXTRA.set(7);
    pusher.push_add(&second).unwrap();
    let group = gateway.group(&grouping).unwrap();
    assert_same(
        json_value(&group, "it_push_records_total", &series),
        12_345_678_901.0,
        "kept by POST",
    );
    assert_same(json_value(&group, "it_push_delta", &series), 5.0, "replaced by POST");
    assert_same(json_value(&group, "it_push_extra", &series), 7.0, "added by POST");

    // PUT replaces the whole group.
    pusher.push(&second).unwrap();
    let group = gateway.group(&grouping).unwrap();
    assert!(
        group.get("it_push_records_total").is_none(),
        "PUT keeps an old family: {group:?}"
    );
    assert_same(json_value(&group, "it_push_extra", &series), 7.0, "pushed by PUT");
    let text = gateway.exposition();
    assert_eq!(text_value(&text, "it_push_records_total", &series), None);
    assert_same(text_value(&text, "it_push_delta", &series), 5.0, "PUT");

    pusher.delete().unwrap();
    gateway.settle("the group to go after DELETE", |gw| gw.group(&grouping).is_none());
    assert_eq!(text_value(&gateway.exposition(), "it_push_extra", &series), None);
}

#[test]
fn grouping_values_and_job_names_round_trip_through_a_real_pushgateway() {
    static WHICH: Gauge = Gauge::new("it_push_which", "The index of the grouping value.");
    let Some(gateway) = Pushgateway::start() else {
        return crate::missing_program(PROGRAM);
    };
    let registry = Registry::new();
    registry.register(&WHICH).unwrap();
    let job = "reports/daily é";
    let values = [
        "a/b",
        "/",
        "",
        ".",
        "..",
        "é ünï 日本 🚀",
        "100% sure?#&=+",
        " spaced\ttab ",
        "x@base64",
        "\\\"quoted\"\n",
    ];
    for (i, value) in values.iter().enumerate() {
        WHICH.set(i as i64);
        let pusher = Pusher::new(&gateway.url(), job)
            .unwrap()
            .grouping("path", value)
            .unwrap()
            .grouping("n", &i.to_string())
            .unwrap();
        pusher.push(&registry).unwrap_or_else(|e| panic!("{value:?}: {e}"));
    }
    let text = gateway.exposition();
    for (i, value) in values.iter().enumerate() {
        let n = i.to_string();
        let grouping = [("job", job), ("path", value), ("n", &n)];
        let group = gateway
            .group(&grouping)
            .unwrap_or_else(|| panic!("no group for {value:?}: {:?}", gateway.groups()));
        let series = [("instance", ""), ("job", job), ("path", value), ("n", &n)];
        assert_same(json_value(&group, "it_push_which", &series), i as f64, value);
        assert_same(text_value(&text, "it_push_which", &series), i as f64, value);
    }
    for (i, value) in values.iter().enumerate() {
        let pusher = Pusher::new(&gateway.url(), job)
            .unwrap()
            .grouping("path", value)
            .unwrap()
            .grouping("n", &i.to_string())
            .unwrap();
        pusher.delete().unwrap();
    }
    gateway.settle("every group of the job to go after DELETE", |gw| {
        gw.groups()
            .iter()
            .all(|g| g.get("labels").and_then(|l| l.get("job")).and_then(Json::as_str) != Some(job))
    });
}

#[test]
fn a_gzip_push_round_trips_through_a_real_pushgateway() {
    static ROWS: CounterVec<1> = CounterVec::new("it_push_gzip_rows_total", "Rows, pushed gzipped.", ["shard"]);
    let Some(gateway) = Pushgateway::start() else {
        return crate::missing_program(PROGRAM);
    };
    let registry = Registry::new();
    registry.register(&ROWS).unwrap();
    for shard in 0..500_u64 {
        ROWS.with([&format!("shard-{shard:03}-é")]).inc_by(shard * 1_000_003);
    }
    let pusher = Pusher::new(&gateway.url(), "bareprom_it_gzip")
        .unwrap()
        .content_encoding(ContentEncoding::Gzip);
    pusher.push(&registry).unwrap();
    let group = gateway
        .group(&[("job", "bareprom_it_gzip")])
        .expect("the gzipped group");
    let text = gateway.exposition();
    for shard in 0..500_u64 {
        let label = format!("shard-{shard:03}-é");
        let series = [("instance", ""), ("job", "bareprom_it_gzip"), ("shard", &*label)];
        let value = (shard * 1_000_003) as f64;
        assert_same(json_value(&group, "it_push_gzip_rows_total", &series), value, &label);
        assert_same(text_value(&text, "it_push_gzip_rows_total", &series), value, &label);
    }
}

#[test]
fn an_inconsistent_push_fails_with_the_gateways_answer() {
    static AS_COUNTER: Counter = Counter::new("it_push_conflict", "Same name, first a counter.");
    static AS_GAUGE: Gauge = Gauge::new("it_push_conflict", "Same name, first a counter.");
    let Some(gateway) = Pushgateway::start() else {
        return crate::missing_program(PROGRAM);
    };
    let counters = Registry::new();
    counters.register(&AS_COUNTER).unwrap();
    let gauges = Registry::new();
    gauges.register(&AS_GAUGE).unwrap();
    let pusher = Pusher::new(&gateway.url(), "bareprom_it_conflict").unwrap();
    pusher
        .clone()
        .grouping("instance", "a")
        .unwrap()
        .push(&counters)
        .unwrap();
    // The same family name with another type in another group: the gateway
    // checks the push against everything it holds and answers 400.
    let other = pusher.grouping("instance", "b").unwrap();
    let err = other.push(&gauges).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GatewayRejected, "{err}");
    assert_eq!(err.status(), Some(400), "{err}");
    let body = err.response_body().unwrap();
    assert!(
        body.contains("inconsistent with existing metrics") && body.contains("it_push_conflict"),
        "{body}"
    );
    let message = err.to_string();
    let url = format!("{}/metrics/job/bareprom_it_conflict/instance/b", gateway.url());
    assert_eq!(
        message,
        format!("pushgateway rejected the request: PUT {url} answered 400 Bad Request: {body}")
    );
    // The refused push left the group untouched (none was created).
    assert!(
        gateway
            .group(&[("job", "bareprom_it_conflict"), ("instance", "b")])
            .is_none_or(|g| g.get("it_push_conflict").is_none())
    );
}

#[test]
fn a_gateway_that_never_answers_times_out_within_the_read_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, wait) = mpsc::channel::<()>();
    // Accepts, reads the request, and holds the connection open unanswered
    // until the test ends.
    let silent = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0; 4096];
        let _ = stream.read(&mut request);
        let _ = wait.recv_timeout(Duration::from_secs(30));
    });
    let timeout = Duration::from_millis(300);
    let pusher = Pusher::new(&format!("http://{addr}"), "bareprom_it")
        .unwrap()
        .read_timeout(timeout);
    let started = Instant::now();
    let err = pusher.push(&Registry::new()).unwrap_err();
    let took = started.elapsed();
    done.send(()).unwrap();
    silent.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("timed out: PUT http://{addr}/metrics/job/bareprom_it: ")),
        "{err}"
    );
    assert!(took >= timeout, "gave up after {took:?}, before the timeout");
    assert!(
        took < timeout + Duration::from_secs(5),
        "took {took:?} for a {timeout:?} timeout"
    );
}

#[test]
fn a_gateway_that_never_reads_times_out_within_the_write_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, wait) = mpsc::channel::<()>();
    // Accepts and never reads: once the socket buffers are full (a few MiB
    // on loopback), every write blocks.
    let deaf = std::thread::spawn(move || {
        let (_stream, _) = listener.accept().unwrap();
        let _ = wait.recv_timeout(Duration::from_secs(30));
    });
    let help = "x".repeat(16 << 20);
    let big = Arc::new(Gauge::try_new("it_push_big", help).unwrap());
    let registry = Registry::new();
    registry.register_arc(big).unwrap();
    let timeout = Duration::from_millis(300);
    let pusher = Pusher::new(&format!("http://{addr}"), "bareprom_it")
        .unwrap()
        .write_timeout(timeout);
    let started = Instant::now();
    let err = pusher.push(&registry).unwrap_err();
    let took = started.elapsed();
    done.send(()).unwrap();
    deaf.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let sending = format!("timed out: PUT http://{addr}/metrics/job/bareprom_it: cannot send the request: ");
    assert!(err.to_string().starts_with(&sending), "{err}");
    assert!(took >= timeout, "gave up after {took:?}, before the timeout");
    assert!(
        took < timeout + Duration::from_secs(5),
        "took {took:?} for a {timeout:?} timeout"
    );
}

#[test]
fn a_closed_port_is_a_refused_connection() {
    let port = free_port();
    let err = Pusher::new(&format!("127.0.0.1:{port}"), "bareprom_it")
        .unwrap()
        .delete()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "connection refused: DELETE http://127.0.0.1:{port}/metrics/job/bareprom_it: cannot connect: "
        )),
        "{err}"
    );
}

#[test]
fn a_gateway_that_answers_garbage_is_an_invalid_response() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let liar = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0; 4096];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n");
    });
    let err = Pusher::new(&format!("http://{addr}"), "bareprom_it")
        .unwrap()
        .push(&Registry::new())
        .unwrap_err();
    liar.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert_eq!(
        err.to_string(),
        format!("invalid pushgateway response: PUT http://{addr}/metrics/job/bareprom_it: not an http/1.x status line")
    );
}
