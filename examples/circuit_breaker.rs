//! An LLM client's circuit breakers with their metrics: each breaker
//! registers `cb_state_transitions_total{from,to}`,
//! `cb_requests_total{outcome}`, `cb_request_latency_seconds` (0.1 … 120 s)
//! and `cb_current_state` into its own registry, included into the scrape
//! with a `backend` constant label: two breakers, one family each, a series
//! per backend. The metrics code is `examples/ports/breaker.rs`.
//!
//! Run: `cargo run --example circuit_breaker` and read
//! <http://127.0.0.1:9190/metrics> while simulated calls trip and recover
//! the `openai` breaker; `--once` prints the exposition after one scripted
//! closed → open → half-open → closed cycle and exits.

use std::time::{Duration, Instant};

#[path = "ports/breaker.rs"]
mod breaker;

use breaker::Breaker;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = bareprom::default_registry();
    let cooldown = Duration::from_secs(2);
    let openai = Breaker::with_metrics(3, cooldown, &*app.sub_registry("", &[("backend", "openai")])?)?;
    let anthropic = Breaker::with_metrics(3, cooldown, &*app.sub_registry("", &[("backend", "anthropic")])?)?;

    if std::env::args().any(|a| a == "--once") {
        breaker::trip_and_recover(&openai, cooldown, Instant::now());
        let ok = anthropic.call(|| Ok::<_, ()>("answer"));
        assert!(ok.is_ok());
        print!("{}", bareprom::render());
        return Ok(());
    }

    let server = bareprom::serve("127.0.0.1:9190")?;
    println!(
        "serving metrics on http://{}/metrics (Ctrl-C to stop)",
        server.local_addr()
    );
    for i in 0u64.. {
        // openai fails five calls in every twenty, in a row: enough to open.
        let fails = i % 20 < 5;
        let _ = openai.call(|| {
            std::thread::sleep(Duration::from_millis(100 + i % 7 * 30));
            if fails { Err("upstream 503") } else { Ok("answer") }
        });
        let _ = anthropic.call(|| Ok::<_, ()>("answer"));
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}
