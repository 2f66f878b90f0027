//! molecule's Gin exporter ported to bareprom on the hyper adapter:
//! `molecule_http_requests_total{method,path,status}`, the summed seconds
//! counter its dashboards read with the recommended histogram beside it,
//! WebSocket connections, phantom busy resets, swept uploads by outcome
//! (all three present at 0), and the runtime block. The metrics code is
//! `examples/ports/molecule.rs`.
//!
//! Run: `cargo run --example gin_style --features hyper`, then try
//! `GET /api/molecules/42`, `POST /api/uploads`, `GET /ws`, `GET /ws/close`,
//! `POST /admin/sweep`, `POST /admin/phantom-reset` and `GET /metrics` on
//! <http://127.0.0.1:9187>; `--once` prints one exposition and exits.

use std::sync::Arc;

use bareprom::{CountingAlloc, Registry};
use hyper_util::rt::TokioIo;

#[path = "ports/molecule.rs"]
mod molecule;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new(std::alloc::System);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = Arc::new(Registry::new());
    molecule::register(&registry)?;
    if std::env::args().any(|a| a == "--once") {
        print!("{}", registry.render());
        return Ok(());
    }
    let service = molecule::service(registry);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:9187").await?;
        println!("serving on http://127.0.0.1:9187/ (metrics on http://127.0.0.1:9187/metrics)");
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
