//! A batch job that pushes its metrics to a Pushgateway when it ends: how
//! long it ran, how many records it processed, and when it last succeeded.
//!
//! Run a gateway (`prometheus-pushgateway`, listening on 127.0.0.1:9091 by
//! default), then `cargo run --example push`; `--gateway HOST:PORT` pushes
//! elsewhere, `--records N` processes N records. The metrics appear under
//! job `bareprom_example` on the gateway's `/metrics`, for Prometheus to
//! scrape with `honor_labels: true`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bareprom::{Counter, FloatGauge, Pusher, Registry};

static DURATION: FloatGauge = FloatGauge::new(
    "bareprom_example_duration_seconds",
    "How long the last run of the batch job took.",
);
static RECORDS: Counter = Counter::new(
    "bareprom_example_records_processed_total",
    "Records the last run of the batch job processed.",
);
static LAST_SUCCESS: FloatGauge = FloatGauge::new(
    "bareprom_example_last_success_timestamp_seconds",
    "When the batch job last succeeded, in seconds since the Unix epoch.",
);

/// The job's work: a checksum over `records` generated records.
fn process(records: u64) -> u64 {
    let mut checksum = 0u64;
    for i in 0..records {
        checksum = checksum.rotate_left(5) ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        RECORDS.inc();
    }
    checksum
}

fn main() {
    let mut gateway = String::from("127.0.0.1:9091");
    let mut records = 100_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--gateway", Some(value)) => gateway = value,
            ("--records", Some(value)) => records = value.parse().expect("--records takes a number"),
            _ => {
                eprintln!("usage: push [--gateway HOST:PORT] [--records N]");
                std::process::exit(2);
            }
        }
    }
    if let Err(e) = run(&gateway, records) {
        eprintln!("push failed: {e}");
        std::process::exit(1);
    }
}

fn run(gateway: &str, records: u64) -> Result<(), bareprom::Error> {
    let registry = Registry::new();
    registry.register(&DURATION)?;
    registry.register(&RECORDS)?;
    registry.register(&LAST_SUCCESS)?;

    let started = Instant::now();
    let checksum = process(records);
    DURATION.set(started.elapsed().as_secs_f64());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    LAST_SUCCESS.set(now.as_secs_f64());

    // PUT: the group holds exactly this run's metrics afterwards.
    let pusher = Pusher::new(gateway, "bareprom_example")?;
    pusher.push(&registry)?;
    println!("processed {records} records (checksum {checksum:016x})");
    println!("pushed to {}:", pusher.url());
    print!("{}", registry.render());
    Ok(())
}
