//! End to end with the real Prometheus server: it scrapes our std server on
//! loopback twice, and its HTTP API must report the target up, no
//! `lastError`, and the very counter value we exposed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bareprom::{Counter, Registry, RouteTable, ServeOptions};

/// A Prometheus process we started; killed (by pid, it is our child) and
/// its directory removed on drop.
pub(crate) struct Prometheus {
    child: Child,
    pub(crate) port: u16,
    pub(crate) dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port that was free a moment ago, for a program we start.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn start_prometheus(target: SocketAddr) -> Option<Prometheus> {
    start_prometheus_with(target, &[])
}

/// As `start_prometheus`, with more command-line flags (e.g. a feature).
pub(crate) fn start_prometheus_with(target: SocketAddr, flags: &[&str]) -> Option<Prometheus> {
    let dir = std::env::temp_dir().join(format!("bareprom-e2e-{}-{}", std::process::id(), target.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: bareprom\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(dir.join("log")).unwrap()))
        .spawn();
    match child {
        Ok(child) => Some(Prometheus { child, port, dir }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = std::fs::remove_dir_all(&dir);
            None
        }
        Err(e) => panic!("cannot start prometheus: {e}"),
    }
}

/// A plain HTTP/1.0 GET to 127.0.0.1, returning the body.
pub(crate) fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

pub(crate) fn log_tail(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
}

#[test]
fn real_prometheus_scrapes_us_and_stores_our_values() {
    static SCRAPED: Counter = Counter::new("e2e_events_total", "Events counted for the end-to-end test.");
    static ROUTES: RouteTable = RouteTable::new("e2e_");
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    registry.register(&SCRAPED).unwrap();
    registry.register(&ROUTES).unwrap();
    registry
        .register_collector("process", bareprom::ProcessCollector::new())
        .unwrap();
    SCRAPED.inc_by(12_345_678_901);
    ROUTES.record("GET", "/users/:id", 200, Duration::from_millis(7));

    let server = ServeOptions::new().serve_registry("127.0.0.1:0", registry).unwrap();
    let Some(prometheus) = start_prometheus(server.local_addr()) else {
        return crate::missing_program("prometheus");
    };

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "prometheus never reported two good scrapes; last answer: {last}\nlog:\n{}",
            log_tail(&prometheus.dir)
        );
        std::thread::sleep(Duration::from_millis(500));
        // Two scrapes: `up` must have two samples in the last minute.
        let Some(ups) = get(prometheus.port, "/api/v1/query?query=count_over_time(up%5B1m%5D)") else {
            continue;
        };
        last = ups.clone();
        if !ups.contains("\"value\":[") || ups.contains("\"1\"]") || !ups.contains("\"status\":\"success\"") {
            continue;
        }
        break;
    }
    let targets = get(prometheus.port, "/api/v1/targets").unwrap();
    assert!(targets.contains("\"health\":\"up\""), "{targets}");
    assert!(targets.contains("\"lastError\":\"\""), "{targets}");

    let stored = get(prometheus.port, "/api/v1/query?query=e2e_events_total").unwrap();
    assert!(
        stored.contains("\"12345678901\"]"),
        "prometheus stored something else: {stored}"
    );
    let requests = get(
        prometheus.port,
        "/api/v1/query?query=e2e_http_requests_total%7Broute%3D%22%2Fusers%2F%3Aid%22%7D",
    )
    .unwrap();
    assert!(requests.contains("\"1\"]"), "{requests}");
    // Nothing we wrote was dropped: Prometheus kept as many samples as we sent.
    let ours = registry.render().lines().filter(|l| !l.starts_with('#')).count();
    let kept = get(
        prometheus.port,
        "/api/v1/query?query=scrape_samples_post_metric_relabeling",
    )
    .unwrap();
    assert!(kept.contains(&format!("\"{ours}\"]")), "we sent {ours} samples: {kept}");
    drop(prometheus);
    server.stop();
}

/// Prometheus asks for gzip on every scrape (`Accept-Encoding: gzip`); the
/// std server in front of `Registry::handle` must answer in gzip, and
/// Prometheus must store every value exactly as if the body were plain:
/// 2000 series whose label values (UTF-8, escapes, long runs) and counts
/// give the compressor matches of every length, plus a histogram.
#[test]
fn real_prometheus_scrapes_gzip_and_stores_the_same_values() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let registry = Arc::new(Registry::new());
    let family = Arc::new(bareprom::CounterVec::<2>::try_new("e2e_gz_total", "Gzip.", ["path", "code"]).unwrap());
    let mut sum = 0u64;
    for i in 0..2000u64 {
        let path = format!(
            "/ä/\"{}\"/{}\\{}",
            "x".repeat((i % 40) as usize),
            i,
            "é".repeat((i % 7) as usize)
        );
        let value = i * i * 7919 % 1_000_003;
        family
            .with([&path, ["200", "404", "500"][(i % 3) as usize]])
            .inc_by(value);
        sum += value;
    }
    registry.register_arc(family).unwrap();
    let histogram = Arc::new(bareprom::Histogram::try_new("e2e_gz_seconds", "Latency.", vec![0.1, 1.0]).unwrap());
    for v in [0.05, 0.5, 0.5, 5.0] {
        histogram.observe(v);
    }
    registry.register_arc(histogram).unwrap();

    let gzipped = Arc::new(AtomicUsize::new(0));
    let openmetrics = Arc::new(AtomicUsize::new(0));
    let (for_server, counter) = (Arc::clone(&registry), Arc::clone(&gzipped));
    let om_counter = Arc::clone(&openmetrics);
    let accepts = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let accepts_seen = Arc::clone(&accepts);
    let server = ServeOptions::new()
        .serve("127.0.0.1:0", move |request| {
            let response = for_server.handle(request);
            if response.content_encoding == Some("gzip") {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            if response.content_type == crate::OPENMETRICS_SCRAPE {
                om_counter.fetch_add(1, Ordering::Relaxed);
            }
            if let Ok(mut seen) = accepts_seen.lock() {
                seen.push(request.accept.unwrap_or_default().to_owned());
            }
            response
        })
        .unwrap();
    let Some(prometheus) = start_prometheus(server.local_addr()) else {
        return crate::missing_program("prometheus");
    };
    let query = |q: &str| get(prometheus.port, &format!("/api/v1/query?query={q}")).unwrap_or_default();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let count = query("count(e2e_gz_total)");
        if count.contains("\"2000\"]") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus never stored the 2000 series: {count}\ntargets: {}\nlog:\n{}",
            get(prometheus.port, "/api/v1/targets").unwrap_or_default(),
            log_tail(&prometheus.dir)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(gzipped.load(Ordering::Relaxed) > 0, "no scrape asked for gzip");
    assert!(
        openmetrics.load(Ordering::Relaxed) > 0,
        "no scrape negotiated OpenMetrics; Accept headers: {:?}",
        accepts.lock().map(|a| a.clone()).unwrap_or_default()
    );
    let targets = get(prometheus.port, "/api/v1/targets").unwrap();
    assert!(
        targets.contains("\"health\":\"up\"") && targets.contains("\"lastError\":\"\""),
        "{targets}"
    );
    assert!(
        query("sum(e2e_gz_total)").contains(&format!("\"{sum}\"]")),
        "sum is not {sum}"
    );
    // One series checked label by label: the label value came through the
    // compressor byte for byte (`/ä/"xxx"/3\ééé`, URL-encoded).
    let one = query("e2e_gz_total%7Bpath%3D%22%2F%C3%A4%2F%5C%22xxx%5C%22%2F3%5C%5C%C3%A9%C3%A9%C3%A9%22%7D");
    let value = 3 * 3 * 7919; // below the modulus
    assert!(one.contains(&format!("\"{value}\"]")), "{one}");
    let inf = query("e2e_gz_seconds_bucket%7Ble%3D%22%2BInf%22%7D");
    assert!(inf.contains("\"4\"]"), "{inf}");
    assert!(query("e2e_gz_seconds_sum").contains("\"6.05\"]"));
    drop(prometheus);
    server.stop();
}
