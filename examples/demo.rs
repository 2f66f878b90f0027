//! A realistic set of application metrics, bumped by simulated work and
//! rendered once in the Prometheus text format.
//!
//! Run: `cargo run --example demo`

use bareprom::{Collect, Counter, CounterVec, FloatCounter, Gauge, Histogram, HistogramVec, Scrape};

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

/// A collector computing a value at scrape time.
struct Backlog;

impl Collect for Backlog {
    fn collect(&self, out: &mut Scrape<'_>) {
        out.gauge("demo_backlog_jobs", "Jobs waiting, computed at scrape time.", 17);
    }
}

fn main() -> Result<(), bareprom::Error> {
    bareprom::register(&JOBS_STARTED)?;
    bareprom::register(&JOBS_DONE)?;
    bareprom::register(&BUSY)?;
    bareprom::register(&WORKERS)?;
    bareprom::register(&JOB_SECONDS)?;
    bareprom::register(&PAYLOAD)?;
    bareprom::register_collector("backlog", Backlog)?;
    bareprom::register_collector("process", bareprom::ProcessCollector::new())?;

    WORKERS.set(4);
    for i in 0u32..1000 {
        let queue = ["mail", "billing", "search"][i as usize % 3];
        JOBS_STARTED.inc();
        let seconds = f64::from(i % 97) / 100.0;
        JOB_SECONDS.with([queue]).observe(seconds);
        BUSY.inc_by(seconds);
        PAYLOAD.observe(f64::from(i * 37 % 70_000));
        let outcome = if i % 13 == 0 { "failed" } else { "ok" };
        JOBS_DONE.with([queue, outcome]).inc();
    }
    print!("{}", bareprom::render());
    Ok(())
}
