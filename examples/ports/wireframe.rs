//! wireframe's connection-task panic counter on bareprom: a std-threads
//! server that catches a connection task's panic, counts it and keeps
//! accepting. Shared by `examples/connection_panics.rs` and its test
//! (`tests/it/ports.rs`) through `#[path]`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

use bareprom::{Counter, Error, Registry};

// ---- the metrics code ----

/// Whether the application is built with metrics. In the application this
/// is `cfg!(feature = "metrics")` (its own cargo feature); the example,
/// which has no features of its own, is built without them by
/// `WIREFRAME_NO_METRICS=1 cargo run --example connection_panics`. The
/// server takes it as a const parameter, so a build without metrics
/// compiles every metric call away and registers nothing.
pub(crate) const METRICS: bool = option_env!("WIREFRAME_NO_METRICS").is_none();

/// No peer-address label: one series, whatever the number of peers.
pub(crate) static CONNECTION_PANICS: Counter = Counter::new(
    "wireframe_connection_panics_total",
    "Connection tasks that panicked; the server kept accepting.",
);

/// Registers the counter when metrics are on; else touches nothing.
pub(crate) fn register<const ON: bool>(registry: &Registry) -> Result<(), Error> {
    if ON {
        registry.register(&CONNECTION_PANICS)?;
    }
    Ok(())
}

fn connection_panicked<const ON: bool>() {
    if ON {
        CONNECTION_PANICS.inc();
    }
}

// ---- the server (stands in for wireframe's accept loop) ----

/// Accepts `limit` connections (`None`: forever), each on its own thread:
/// a line `panic` makes the connection task panic, any other line is
/// echoed. The panic is caught on the task's thread and counted before the
/// connection closes, so a client that sees it close can read the count.
pub(crate) fn accept_loop<const ON: bool>(listener: &TcpListener, limit: Option<usize>) -> std::io::Result<()> {
    let mut tasks = Vec::new();
    for stream in listener.incoming().take(limit.unwrap_or(usize::MAX)) {
        let mut stream = stream?;
        tasks.push(thread::spawn(move || {
            if catch_unwind(AssertUnwindSafe(|| connection(&mut stream))).is_err() {
                connection_panicked::<ON>();
            }
        }));
        tasks.retain(|task| !task.is_finished());
    }
    for task in tasks {
        // Every task catches its own panic: joining cannot fail.
        drop(task.join());
    }
    Ok(())
}

fn connection(stream: &mut TcpStream) {
    let mut line = String::new();
    BufReader::new(&*stream).read_line(&mut line).unwrap_or_default();
    assert!(line.trim() != "panic", "connection task panics, as asked");
    drop(stream.write_all(line.as_bytes()));
}
