//! End to end with a real VictoriaMetrics (single-node, which scrapes with
//! `-promscrape.config` and asks for gzip like Prometheus): the std server
//! in front of `Registry::handle` answers in gzip, and VictoriaMetrics
//! stores exactly the values we exposed, read back through its export and
//! query APIs.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bareprom::{CounterVec, Histogram, Registry, ServeOptions};

use crate::prometheus::{free_port, get};

/// A VictoriaMetrics process we started; killed by its pid (our child) and
/// its directory removed on drop.
pub(crate) struct Victoria {
    child: Child,
    pub(crate) port: u16,
    pub(crate) dir: PathBuf,
}

impl Drop for Victoria {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn start_victoria(target: std::net::SocketAddr) -> Option<Victoria> {
    let dir = std::env::temp_dir().join(format!("bareprom-vm-{}-{}", std::process::id(), target.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("scrape.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: bareprom\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new("victoria-metrics")
        .arg(format!("-promscrape.config={}", config.display()))
        .arg(format!("-storageDataPath={}", dir.join("data").display()))
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        // Samples are visible to queries at once, not 30 s later.
        .arg("-search.latencyOffset=0s")
        .arg("-search.disableCache")
        .arg("-loggerLevel=ERROR")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(dir.join("log")).unwrap()))
        .spawn();
    match child {
        Ok(child) => Some(Victoria { child, port, dir }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = std::fs::remove_dir_all(&dir);
            None
        }
        Err(e) => panic!("cannot start victoria-metrics: {e}"),
    }
}

/// VictoriaMetrics asks for the text format 0.0.4
/// (`text/plain;version=0.0.4;q=1,*/*;q=0.1`) and gets it.
#[test]
fn real_victoria_metrics_scrapes_gzip_and_stores_the_same_values() {
    scrape_and_compare(false);
}

/// The same scrape answered in `OpenMetrics` whatever it asks (the handler
/// is handed the Accept header of Prometheus 2.42): what a Prometheus gets,
/// VictoriaMetrics must store identically too.
#[test]
fn real_victoria_metrics_stores_openmetrics_values_exactly() {
    scrape_and_compare(true);
}

fn scrape_and_compare(force_openmetrics: bool) {
    let registry = Arc::new(Registry::new());
    let family = Arc::new(CounterVec::<2>::try_new("vm_gz_total", "Gzip.", ["path", "code"]).unwrap());
    let mut sum = 0u64;
    for i in 0..1000u64 {
        let path = format!("/ö/{}/{i}", "y".repeat((i % 30) as usize));
        let value = i * i * 104_729 % 999_983;
        family.with([&path, ["200", "503"][(i % 2) as usize]]).inc_by(value);
        sum += value;
    }
    registry.register_arc(family).unwrap();
    let histogram = Arc::new(Histogram::try_new("vm_gz_seconds", "Latency.", vec![0.25, 2.5]).unwrap());
    for v in [0.125, 1.5, 3.0] {
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
            let prometheus_2 = bareprom::MetricsRequest {
                accept: Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
                ..*request
            };
            let response = for_server.handle(if force_openmetrics { &prometheus_2 } else { request });
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
    let Some(victoria) = start_victoria(server.local_addr()) else {
        return crate::missing_program("victoria-metrics");
    };
    let query = |q: &str| get(victoria.port, &format!("/api/v1/query?query={q}")).unwrap_or_default();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let count = query("count(vm_gz_total)");
        if count.contains("\"1000\"]") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "victoria-metrics never stored the 1000 series: {count}\ntargets: {}\nlog:\n{}",
            get(victoria.port, "/api/v1/targets").unwrap_or_default(),
            std::fs::read_to_string(victoria.dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(gzipped.load(Ordering::Relaxed) > 0, "no scrape asked for gzip");
    assert_eq!(
        openmetrics.load(Ordering::Relaxed) > 0,
        force_openmetrics,
        "no scrape negotiated OpenMetrics; Accept headers: {:?}",
        accepts.lock().map(|a| a.clone()).unwrap_or_default()
    );
    let targets = get(victoria.port, "/api/v1/targets").unwrap();
    assert!(targets.contains("\"health\":\"up\""), "{targets}");
    let total = query("sum(vm_gz_total)");
    assert!(total.contains(&format!("\"{sum}\"]")), "sum is not {sum}: {total}");
    // One series by its exact labels, through the export API (raw samples).
    let export = get(
        victoria.port,
        "/api/v1/export?match%5B%5D=vm_gz_total%7Bpath%3D%22%2F%C3%B6%2Fyyy%2F3%22%7D",
    )
    .unwrap();
    let value = 3 * 3 * 104_729; // below the modulus
    assert!(export.contains(&format!("\"values\":[{value}")), "{export}");
    assert!(export.contains("\"code\":\"503\""), "{export}");
    let inf = query("vm_gz_seconds_bucket%7Ble%3D%22%2BInf%22%7D");
    assert!(inf.contains("\"3\"]"), "{inf}");
    assert!(query("vm_gz_seconds_sum").contains("\"4.625\"]"));
    drop(victoria);
    server.stop();
}
