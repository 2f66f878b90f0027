// The realistic service the encode row renders: 20 metric families of an
// HTTP service with a database, caches, queues and upstreams.

use bareprom::{CounterVec, FloatCounter, FloatGauge, FloatGaugeVec, Gauge, GaugeVec, HistogramVec, Registry};

use crate::timing::observations;

// The realistic service: 20 metric families, about 600 sample lines.
static HTTP_REQUESTS: CounterVec<3> = CounterVec::new(
    "http_requests_total",
    "HTTP requests served.",
    ["method", "route", "status"],
);
static HTTP_DURATION: HistogramVec<2> = HistogramVec::new(
    "http_request_duration_seconds",
    "HTTP request latency.",
    ["method", "route"],
);
static HTTP_IN_FLIGHT: Gauge = Gauge::new("http_requests_in_flight", "HTTP requests being served.");
static HTTP_REQUEST_SIZE: HistogramVec<1> = HistogramVec::with_buckets(
    "http_request_size_bytes",
    "HTTP request body sizes.",
    ["route"],
    &[64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0],
);
static HTTP_RESPONSE_SIZE: HistogramVec<1> = HistogramVec::with_buckets(
    "http_response_size_bytes",
    "HTTP response body sizes.",
    ["route"],
    &[64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0],
);
static DB_QUERIES: CounterVec<2> = CounterVec::new("db_queries_total", "Database queries.", ["query", "outcome"]);
static DB_DURATION: HistogramVec<1> = HistogramVec::new("db_query_duration_seconds", "Query latency.", ["query"]);
static DB_POOL: GaugeVec<1> = GaugeVec::new("db_pool_connections", "Pool connections by state.", ["state"]);
static DB_WAIT: FloatCounter = FloatCounter::new("db_pool_wait_seconds_total", "Time spent waiting for a connection.");
static CACHE_REQUESTS: CounterVec<2> = CounterVec::new("cache_requests_total", "Cache lookups.", ["cache", "result"]);
static CACHE_ENTRIES: GaugeVec<1> = GaugeVec::new("cache_entries", "Entries per cache.", ["cache"]);
static CACHE_EVICTIONS: CounterVec<1> = CounterVec::new("cache_evictions_total", "Cache evictions.", ["cache"]);
static QUEUE_DEPTH: GaugeVec<1> = GaugeVec::new("queue_depth", "Jobs waiting per queue.", ["queue"]);
static JOBS: CounterVec<2> = CounterVec::new("jobs_processed_total", "Jobs processed.", ["queue", "outcome"]);
static JOB_DURATION: HistogramVec<1> = HistogramVec::new("job_duration_seconds", "Job run time.", ["queue"]);
static UPSTREAM: CounterVec<3> = CounterVec::new(
    "upstream_requests_total",
    "Calls to upstream services.",
    ["service", "method", "code"],
);
static UPSTREAM_LATENCY: HistogramVec<1> =
    HistogramVec::new("upstream_latency_seconds", "Upstream call latency.", ["service"]);
static BUILD_INFO: GaugeVec<3> = GaugeVec::new("build_info", "Build information.", ["version", "commit", "rustc"]);
static ERRORS: CounterVec<1> = CounterVec::new("errors_total", "Errors by kind.", ["kind"]);
static CPU_RATIO: FloatGaugeVec<1> = FloatGaugeVec::new("worker_utilisation_ratio", "Busy share.", ["worker"]);
static CONFIG_RELOAD: FloatGauge = FloatGauge::new(
    "config_last_reload_timestamp_seconds",
    "When the configuration was last reloaded.",
);

/// Registers and fills the realistic service's 20 families.
pub(crate) fn service_registry() -> Registry {
    let registry = Registry::new();
    registry.register(&HTTP_REQUESTS).expect("registers");
    registry.register(&HTTP_DURATION).expect("registers");
    registry.register(&HTTP_IN_FLIGHT).expect("registers");
    registry.register(&HTTP_REQUEST_SIZE).expect("registers");
    registry.register(&HTTP_RESPONSE_SIZE).expect("registers");
    registry.register(&DB_QUERIES).expect("registers");
    registry.register(&DB_DURATION).expect("registers");
    registry.register(&DB_POOL).expect("registers");
    registry.register(&DB_WAIT).expect("registers");
    registry.register(&CACHE_REQUESTS).expect("registers");
    registry.register(&CACHE_ENTRIES).expect("registers");
    registry.register(&CACHE_EVICTIONS).expect("registers");
    registry.register(&QUEUE_DEPTH).expect("registers");
    registry.register(&JOBS).expect("registers");
    registry.register(&JOB_DURATION).expect("registers");
    registry.register(&UPSTREAM).expect("registers");
    registry.register(&UPSTREAM_LATENCY).expect("registers");
    registry.register(&BUILD_INFO).expect("registers");
    registry.register(&ERRORS).expect("registers");
    registry.register(&CPU_RATIO).expect("registers");
    registry.register(&CONFIG_RELOAD).expect("registers");

    let values = observations();
    let routes = [
        "/",
        "/login",
        "/api/users",
        "/api/users/:id",
        "/api/orders",
        "/api/orders/:id",
        "/api/search",
        "/static/*path",
    ];
    for (i, route) in routes.iter().enumerate() {
        for (j, method) in ["GET", "POST", "DELETE"].iter().enumerate() {
            for (k, status) in ["200", "404", "500"].iter().enumerate() {
                HTTP_REQUESTS
                    .with([method, route, status])
                    .inc_by((i * 1000 + j * 100 + k) as u64 * 37);
            }
            if j < 2 {
                let h = HTTP_DURATION.with([method, route]);
                for v in values.iter().skip(i + j).step_by(2) {
                    h.observe(*v);
                }
            }
        }
        for (n, size) in [100.0, 900.0, 5000.0, 70000.0].iter().enumerate() {
            HTTP_REQUEST_SIZE.with([route]).observe(size * (n + 1) as f64);
            HTTP_RESPONSE_SIZE.with([route]).observe(size * 1.5);
        }
    }
    HTTP_IN_FLIGHT.set(17);
    let queries = [
        "select_user",
        "select_orders",
        "insert_order",
        "update_user",
        "delete_session",
        "select_session",
        "insert_event",
        "select_products",
        "update_stock",
        "select_search",
    ];
    for (i, q) in queries.iter().enumerate() {
        DB_QUERIES.with([q, "ok"]).inc_by(10_000 + i as u64);
        DB_QUERIES.with([q, "error"]).inc_by(i as u64);
        let h = DB_DURATION.with([q]);
        for v in values.iter().skip(i).step_by(4) {
            h.observe(*v / 10.0);
        }
    }
    DB_POOL.with(["idle"]).set(12);
    DB_POOL.with(["active"]).set(4);
    DB_WAIT.inc_by(12.345_678);
    for (i, cache) in ["users", "sessions", "products"].iter().enumerate() {
        CACHE_REQUESTS.with([cache, "hit"]).inc_by(90_000 + i as u64);
        CACHE_REQUESTS.with([cache, "miss"]).inc_by(1_000 + i as u64);
        CACHE_ENTRIES.with([cache]).set(4096 - i as i64);
        CACHE_EVICTIONS.with([cache]).inc_by(77 * i as u64);
    }
    for (i, queue) in ["email", "webhooks", "exports", "billing"].iter().enumerate() {
        QUEUE_DEPTH.with([queue]).set(i as i64 * 3);
        for outcome in ["ok", "retry", "failed"] {
            JOBS.with([queue, outcome]).inc_by(500 + i as u64);
        }
        let h = JOB_DURATION.with([queue]);
        for v in values.iter().skip(i).step_by(5) {
            h.observe(*v * 3.0);
        }
    }
    for service in ["payments", "inventory", "search"] {
        for method in ["GET", "POST"] {
            for code in ["200", "503", "429"] {
                UPSTREAM.with([service, method, code]).inc_by(321);
            }
        }
        let h = UPSTREAM_LATENCY.with([service]);
        for v in values.iter().step_by(3) {
            h.observe(*v);
        }
    }
    BUILD_INFO.with(["1.4.2", "9f1c2ab", "1.95.0"]).set(1);
    for kind in ["timeout", "decode", "auth", "upstream", "internal"] {
        ERRORS.with([kind]).inc_by(3);
    }
    for (i, w) in ["w0", "w1", "w2", "w3"].iter().enumerate() {
        CPU_RATIO.with([w]).set(0.1 + 0.2 * i as f64);
    }
    CONFIG_RELOAD.set(1_763_891_234.567);
    registry
}
