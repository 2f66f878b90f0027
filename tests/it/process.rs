//! Live tests of `ProcessCollector` against this test process's own `/proc`.
//!
//! All tests of the binary run in parallel threads, and any of them may open
//! files or start threads at any moment. So the tests here that measure or
//! disturb descriptor and thread counts take `PROC_LOCK`, compare the metric
//! with what `/proc` says at the same moment, and repeat a measurement a few
//! times until it is stable, rather than trusting a single reading.
#![cfg(target_os = "linux")]

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Barrier, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bareprom::{ProcessCollector, Registry};

/// Serialises the tests in this file that change or measure the number of
/// threads and descriptors of the process.
static PROC_LOCK: Mutex<()> = Mutex::new(());

const MIB: f64 = 1024.0 * 1024.0;

pub(crate) fn lock() -> MutexGuard<'static, ()> {
    // A failed test poisons the lock; the others should still run.
    PROC_LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

fn registry() -> Registry {
    let registry = Registry::new();
    registry
        .register_collector("process", ProcessCollector::new())
        .expect("registering the process collector");
    registry
}

/// Extracts the value of the unlabelled sample `name` from the text format:
/// the first non-comment line of the form `name value [timestamp]`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// Renders the registry and returns the value of `name`, which must be there.
fn scrape(registry: &Registry, name: &str) -> f64 {
    let text = registry.render();
    sample(&text, name).unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
}

fn count_entries(dir: &str) -> f64 {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {dir}: {e}"));
    #[allow(clippy::cast_precision_loss, reason = "counts are tiny")]
    let count = entries.count() as f64;
    count
}

/// Whether two counts, carried as `f64` values, are equal.
fn same_count(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.5
}

/// Reads `name` between two readings of `probe`, up to 50 times, until all
/// three agree, and returns that value; `None` if they never agreed.
fn stable(registry: &Registry, name: &str, probe: impl Fn() -> f64) -> Option<f64> {
    (0..50).find_map(|_| {
        let before = probe();
        let metric = scrape(registry, name);
        let after = probe();
        if same_count(before, after) && same_count(metric, before) {
            return Some(metric);
        }
        thread::sleep(Duration::from_millis(10));
        None
    })
}

fn stable_threads(registry: &Registry) -> f64 {
    let tasks = || count_entries("/proc/self/task");
    stable(registry, "process_threads", tasks).expect("process_threads never matched /proc/self/task")
}

fn stable_fds(registry: &Registry) -> f64 {
    // Listing the directory holds one descriptor of its own, which the
    // collector does not count.
    let fds = || count_entries("/proc/self/fd") - 1.0;
    stable(registry, "process_open_fds", fds).expect("process_open_fds never matched /proc/self/fd")
}

#[test]
fn standard_metrics_are_present_with_types() {
    let text = registry().render();
    for (name, kind) in [
        ("process_cpu_seconds_total", "counter"),
        ("process_open_fds", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("process_threads", "gauge"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} {kind} in:\n{text}"
        );
        assert!(sample(&text, name).is_some(), "{name} in:\n{text}");
    }
}

#[test]
fn threads_match_task_directory_and_count_new_threads() {
    let _guard = lock();
    let registry = registry();
    let mut seen = Vec::new();
    // Threads of concurrently running tests come and go; the experiment is
    // repeated until no other thread started or ended during it.
    for _ in 0..5 {
        let before = stable_threads(&registry);
        let release = Arc::new(Barrier::new(6));
        let parked: Vec<_> = (0..5)
            .map(|_| {
                let release = Arc::clone(&release);
                thread::spawn(move || {
                    release.wait();
                })
            })
            .collect();
        let during = stable_threads(&registry);
        release.wait();
        for handle in parked {
            handle.join().expect("parked thread");
        }
        if same_count(during - before, 5.0) {
            return;
        }
        seen.push((before, during));
    }
    panic!("never saw exactly 5 more threads: (before, during) = {seen:?}");
}

#[test]
fn open_fds_counts_ten_more_files() {
    let _guard = lock();
    let registry = registry();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let before = stable_fds(&registry);
        let files: Vec<File> = (0..10)
            .map(|_| File::open("/dev/null").expect("opening /dev/null"))
            .collect();
        let during = stable_fds(&registry);
        drop(files);
        if same_count(during - before, 10.0) {
            return;
        }
        seen.push((before, during));
    }
    panic!("never saw exactly 10 more descriptors: (before, during) = {seen:?}");
}

#[test]
fn resident_memory_grows_with_touched_buffer() {
    let _guard = lock();
    let registry = registry();
    let before = scrape(&registry, "process_resident_memory_bytes");
    // Fresh zeroed memory is not resident until written, so every page of
    // the buffer is written once (4 KiB is the smallest Linux page size).
    let mut buffer = vec![0u8; 100 << 20];
    buffer.iter_mut().step_by(4096).for_each(|byte| *byte = 1);
    std::hint::black_box(&mut buffer);
    let after = scrape(&registry, "process_resident_memory_bytes");
    drop(std::hint::black_box(buffer));
    let grown = (after - before) / MIB;
    assert!(grown >= 80.0, "resident memory grew by {grown:.1} MiB only");
}

#[test]
fn cpu_seconds_grow_with_busy_loop() {
    let registry = registry();
    let before = scrape(&registry, "process_cpu_seconds_total");
    let start = Instant::now();
    let mut spins = 0u64;
    while start.elapsed() < Duration::from_millis(200) {
        spins = std::hint::black_box(spins.wrapping_add(1));
    }
    let after = scrape(&registry, "process_cpu_seconds_total");
    assert!(after > before, "CPU time did not grow: {before} -> {after}");
}

#[test]
fn start_time_is_recent() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    let start = scrape(&registry(), "process_start_time_seconds");
    let age = now.as_secs_f64() - start;
    assert!(age.abs() < 60.0, "process started {age:.1} s before the test");
}

#[test]
fn network_counters_include_loopback_traffic() {
    let _guard = lock();
    let registry = registry();
    let text = registry.render();
    let rx = "process_network_receive_bytes_total";
    let tx = "process_network_transmit_bytes_total";
    let (Some(rx_before), Some(tx_before)) = (sample(&text, rx), sample(&text, tx)) else {
        assert!(
            std::fs::read("/proc/self/net/netstat").is_err(),
            "network counters missing although /proc/self/net/netstat is readable:\n{text}"
        );
        crate::skip("network counters: /proc/self/net/netstat is not readable here");
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1");
    let address = listener.local_addr().expect("local address");
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accepting");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).expect("reading");
        received.len()
    });
    let mut client = TcpStream::connect(address).expect("connecting");
    client.write_all(&vec![7; 1 << 20]).expect("writing");
    drop(client);
    assert_eq!(server.join().expect("server thread"), 1 << 20);
    let text = registry.render();
    // Both ends are in this process, so the bytes count as sent and received.
    for (name, before) in [(rx, rx_before), (tx, tx_before)] {
        let grown = (sample(&text, name).expect("still present") - before) / MIB;
        assert!(grown >= 1.0, "{name} grew by {grown:.3} MiB only");
    }
}

/// Whether `a` is within 10 % of `b`.
fn within_ten_percent(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.1 * b.abs()
}

#[test]
fn agrees_with_ps() {
    let _guard = lock();
    let registry = registry();
    let pid = std::process::id().to_string();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let output = Command::new("ps").args(["-o", "rss=,nlwp=", "-p", &pid]).output();
        let output = match output {
            Ok(output) if output.status.success() => output,
            other => {
                return crate::skip_unless_ci(&format!(
                    "ps cross-check: `ps -o rss=,nlwp=` (procps) is not usable here: {other:?}"
                ));
            }
        };
        let text = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<f64> = text.split_whitespace().filter_map(|f| f.parse().ok()).collect();
        let [ps_rss_kib, ps_threads] = fields[..] else {
            panic!("unexpected ps output: {text:?}");
        };
        let rendered = registry.render();
        let rss_kib = sample(&rendered, "process_resident_memory_bytes").expect("rss") / 1024.0;
        let threads = sample(&rendered, "process_threads").expect("threads");
        if within_ten_percent(rss_kib, ps_rss_kib) && within_ten_percent(threads, ps_threads) {
            return;
        }
        seen.push((rss_kib, ps_rss_kib, threads, ps_threads));
        thread::sleep(Duration::from_millis(50));
    }
    panic!("never within 10 % of ps: (rss KiB, ps rss KiB, threads, ps threads) = {seen:?}");
}
