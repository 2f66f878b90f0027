//! A kitchen-sink rendering piped through the real `promtool check
//! metrics`; any finding fails the test.

use std::io::Write;
use std::process::{Command, Stdio};

use bareprom::{
    Collect, Counter, CounterVec, FloatCounter, FloatGaugeVec, Gauge, Histogram, HistogramVec, Registry, Scrape,
};

struct Queue;

impl Collect for Queue {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.gauge("ks_queue_length", "Jobs waiting in the queue.", 12);
        out.float_counter("ks_queue_wait_seconds_total", "Time jobs spent waiting.", 3.25);
    }
}

fn kitchen_sink() -> Registry {
    static REQUESTS: Counter = Counter::new("ks_requests_total", "Requests served.");
    static BUSY: FloatCounter = FloatCounter::new("ks_busy_seconds_total", "Time spent busy.");
    static UP: Gauge = Gauge::new("ks_up", "Whether the service is up.");
    static LATENCY: Histogram = Histogram::new("ks_latency_seconds", "Request latency.");
    static ERRORS: CounterVec<2> = CounterVec::new("ks_errors_total", "Errors by kind.", ["kind", "detail"]);
    static TEMP: FloatGaugeVec<1> = FloatGaugeVec::new("ks_temperature_celsius", "Temperature.", ["room"]);
    static RPC: HistogramVec<1> =
        HistogramVec::with_buckets("ks_rpc_seconds", "RPC latency.", ["op"], &[0.01, 0.1, 1.0]);
    let r = Registry::with_const_labels(&[("backend", "openai")]).unwrap();
    r.register(&REQUESTS).unwrap();
    r.register(&BUSY).unwrap();
    r.register(&UP).unwrap();
    r.register(&LATENCY).unwrap();
    r.register(&ERRORS).unwrap();
    r.register(&TEMP).unwrap();
    r.register(&RPC).unwrap();
    r.register_collector("queue", Queue).unwrap();
    r.register_collector("process", bareprom::ProcessCollector::new())
        .unwrap();
    r.register_collector("heap", bareprom::CountingAlloc::new(std::alloc::System))
        .unwrap();
    REQUESTS.inc_by(u64::MAX);
    BUSY.inc_by(1e-7);
    UP.set(1);
    LATENCY.observe(0.3);
    ERRORS.with(["io", "path \"C:\\tmp\"\nline 2"]).inc();
    ERRORS.with(["utf8", "שלום \u{1F600}"]).inc();
    TEMP.with(["a"]).set(f64::NAN);
    TEMP.with(["b"]).set(f64::NEG_INFINITY);
    TEMP.with(["c"]).set(1e300);
    RPC.with(["get"]).observe(0.05);
    r
}

#[test]
fn promtool_accepts_a_kitchen_sink_without_findings() {
    let text = kitchen_sink().render();
    #[cfg(target_os = "linux")]
    assert!(
        text.contains("process_resident_memory_bytes{backend=\"openai\"} "),
        "{text}"
    );
    crate::parse(&text);
    promtool_check(&text);
}

/// Pipes `text` through the real `promtool check metrics`; any finding
/// fails (a missing promtool fails under CI, else prints a SKIP).
#[track_caller]
pub fn promtool_check(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return crate::missing_program("promtool"),
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && findings.trim().is_empty(),
        "promtool: {:?}\n{findings}\n{text}",
        output.status
    );
}
