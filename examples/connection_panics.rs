//! wireframe's connection-task panic counter: a std-threads server whose
//! connection tasks may panic; each panic is caught with `catch_unwind`,
//! counted in `wireframe_connection_panics_total` (no peer label), and the
//! server keeps accepting. Metrics can be switched off at build time
//! (`WIREFRAME_NO_METRICS=1`; an application uses its own cargo feature).
//! The metrics code is `examples/ports/wireframe.rs`.
//!
//! Run: `cargo run --example connection_panics`, then send lines to the
//! printed address (`echo panic | nc 127.0.0.1 PORT` panics a task) and
//! read <http://127.0.0.1:9189/metrics>; `--once` panics three connections,
//! prints one exposition and exits.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

#[path = "ports/wireframe.rs"]
mod wireframe;

use wireframe::METRICS;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = bareprom::default_registry();
    wireframe::register::<METRICS>(registry)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;

    if std::env::args().any(|a| a == "--once") {
        // The panic messages are the point; keep stderr to them only.
        let server = std::thread::spawn(move || wireframe::accept_loop::<METRICS>(&listener, Some(4)));
        for line in ["panic\n", "panic\n", "panic\n", "hello\n"] {
            let mut stream = TcpStream::connect(addr)?;
            stream.write_all(line.as_bytes())?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
        }
        server.join().map_err(|_| "accept loop panicked")??;
        print!("{}", registry.render());
        return Ok(());
    }

    let metrics = bareprom::serve("127.0.0.1:9189")?;
    println!(
        "accepting connections on {addr}; metrics on http://{}/metrics",
        metrics.local_addr()
    );
    wireframe::accept_loop::<METRICS>(&listener, None)?;
    Ok(())
}
