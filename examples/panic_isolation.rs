//! The panic-isolation review's hyper server, instrumented: `POST /orders`
//! panics while holding the orders `Mutex` (answered 500, logged with
//! method and path, counted in `shop_http_request_panics_total`),
//! `GET /orders` shares that state and keeps working, `GET /report` takes
//! 5 s and is answered 504 at its 2 s deadline, and `/metrics` always
//! answers. The metrics code is `examples/ports/isolation.rs`.
//!
//! Run: `cargo run --example panic_isolation --features hyper` and try the
//! routes on <http://127.0.0.1:9188>; `--once` prints one exposition and
//! exits.

use std::sync::Arc;
use std::time::Duration;

use bareprom::Registry;
use hyper_util::rt::TokioIo;

#[path = "ports/isolation.rs"]
mod isolation;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = Arc::new(Registry::new());
    isolation::register(&registry)?;
    if std::env::args().any(|a| a == "--once") {
        print!("{}", registry.render());
        return Ok(());
    }
    let shared = Arc::new(isolation::Shared::default());
    let service = isolation::service(registry, &shared, Duration::from_secs(2), Duration::from_secs(5));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:9188").await?;
        println!(
            "serving on http://127.0.0.1:9188/ (POST /orders panics, GET /orders, GET /report is slow, GET /metrics)"
        );
        loop {
            let (stream, _) = listener.accept().await?;
            let service = service.clone();
            tokio::spawn(async move {
                let connection = hyper::server::conn::http1::Builder::new();
                if let Err(e) = connection.serve_connection(TokioIo::new(stream), service).await {
                    eprintln!("connection: {e}");
                }
            });
        }
    })
}
