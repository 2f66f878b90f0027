//! A realistic service's metrics served on loopback: application counters,
//! gauges and histograms, a route table fed by simulated HTTP traffic, a
//! scrape-time collector and the process collector.
//!
//! Run: `cargo run --example demo` and open <http://127.0.0.1:9184/metrics>.
//! `--port N` (or `BAREPROM_DEMO_PORT=N`) picks another port; `--once`
//! prints one exposition and exits instead of serving.

use std::time::Duration;

use bareprom::{Collect, Counter, CounterVec, FloatCounter, Gauge, Histogram, HistogramVec, RouteTable, Scrape};

static JOBS_STARTED: Counter = Counter::new("demo_jobs_started_total", "Jobs taken from the queue.");
static JOBS_DONE: CounterVec<2> = CounterVec::new(
    "demo_jobs_done_total",
    "Jobs finished, by queue and outcome.",
    ["queue", "outcome"],
);
static BUSY: FloatCounter = FloatCounter::new("demo_worker_busy_seconds_total", "Time workers spent on jobs.");
static WORKERS: Gauge = Gauge::new("demo_workers", "Workers alive.");
static JOB_SECONDS: HistogramVec<1> =
    HistogramVec::new("demo_job_duration_seconds", "Job duration, by queue.", ["queue"]);
static PAYLOAD: Histogram =
    Histogram::with_buckets("demo_payload_bytes", "Job payload sizes.", &[256.0, 4096.0, 65536.0]);
static ROUTES: RouteTable = RouteTable::new("demo_");

/// A collector computing a value at scrape time.
struct Backlog;

impl Collect for Backlog {
    fn collect(&self, out: &mut Scrape<'_>) {
        let backlog = JOBS_STARTED.get() % 50;
        out.gauge(
            "demo_backlog_jobs",
            "Jobs waiting, computed at scrape time.",
            i64::try_from(backlog).unwrap_or(i64::MAX),
        );
    }
}

/// One step of simulated work: a job and an HTTP request.
fn simulate(i: u32) {
    let queue = ["mail", "billing", "search"][i as usize % 3];
    JOBS_STARTED.inc();
    let seconds = f64::from(i % 97) / 100.0;
    JOB_SECONDS.with([queue]).observe(seconds);
    BUSY.inc_by(seconds);
    PAYLOAD.observe(f64::from(i.wrapping_mul(37) % 70_000));
    let outcome = if i.is_multiple_of(13) { "failed" } else { "ok" };
    JOBS_DONE.with([queue, outcome]).inc();

    let (method, route, status) = match i % 10 {
        0..=5 => ("GET", "/users/:id", 200),
        6 | 7 => ("POST", "/orders", 201),
        8 => ("GET", "/orders/:id", 404),
        _ => ("GET", bareprom::UNMATCHED_ROUTE, 404),
    };
    ROUTES.record(method, route, status, Duration::from_micros(u64::from(i % 5000) * 40));
}

fn port() -> u16 {
    let mut args = std::env::args().skip_while(|a| a != "--port").skip(1);
    args.next()
        .or_else(|| std::env::var("BAREPROM_DEMO_PORT").ok())
        .and_then(|p| p.parse().ok())
        .unwrap_or(9184)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    bareprom::register(&JOBS_STARTED)?;
    bareprom::register(&JOBS_DONE)?;
    bareprom::register(&BUSY)?;
    bareprom::register(&WORKERS)?;
    bareprom::register(&JOB_SECONDS)?;
    bareprom::register(&PAYLOAD)?;
    bareprom::register(&ROUTES)?;
    bareprom::register_collector("backlog", Backlog)?;
    bareprom::register_collector("process", bareprom::ProcessCollector::new())?;

    WORKERS.set(4);
    for i in 0..1000 {
        simulate(i);
    }
    if std::env::args().any(|a| a == "--once") {
        print!("{}", bareprom::render());
        return Ok(());
    }

    let server = bareprom::serve(("127.0.0.1", port()))?;
    println!(
        "serving metrics on http://{}/metrics (Ctrl-C to stop)",
        server.local_addr()
    );
    // Simulated traffic keeps the numbers moving between scrapes.
    for i in 1000u32.. {
        simulate(i);
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
