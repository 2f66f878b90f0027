//! The std server under slow readers, connection churn and a tight
//! descriptor limit (issue 14), over real sockets on 127.0.0.1.
//!
//! The slow readers are clients with a 4 KiB receive buffer (set with
//! `socket2` before connecting, since std has no setter) that send requests
//! and never read. A 2.8 MB exposition, and pipelined requests, make sure
//! their responses cannot all fit into the kernel's socket buffers.
//!
//! Tests that measure the server's memory, descriptors or threads run it in
//! a child process: this test binary re-executed with `BAREPROM_SERVER` set,
//! running only [`server_process`]. The parent reads the child's
//! `/proc/<pid>/status`, `fd` and `task`, which are the server's
//! `/proc/self/...`, so the clients' own sockets and threads do not count.
//!
//! Every test here takes the serve module's lock exclusively, bounds every
//! loop, and gives every socket a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use bareprom::{CounterVec, Registry, ServeOptions};

use crate::serve::exclusive;

/// The child process's configuration: `max_connections,series`.
const SERVER_ENV: &str = "BAREPROM_SERVER";
const TIMEOUT: Duration = Duration::from_secs(10);
const GET: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
/// Series for an exposition of about 2.8 MB.
const BIG_SERIES: usize = 56_000;

static BIG_REGISTRY: Registry = Registry::new();
static BIG: CounterVec<2> = CounterVec::new(
    "load_series_total",
    "Series to make the exposition big.",
    ["shard", "key"],
)
.with_series_limit(1_000_000);

/// Fills the big registry once per process with `series` series.
fn big_registry(series: usize) -> &'static Registry {
    static FILLED: OnceLock<()> = OnceLock::new();
    FILLED.get_or_init(|| {
        BIG_REGISTRY.register(&BIG).expect("register");
        for i in 0..series {
            BIG.with([&(i % 97).to_string(), &format!("k-{i:012}")]).inc();
        }
    });
    &BIG_REGISTRY
}

/// In a normal run, checks that the fixture is as big as the tests say.
/// Re-executed with `BAREPROM_SERVER` set, it is the server process: it
/// prints `ADDR <address>` and serves until its stdin closes.
#[test]
fn server_process() {
    let Ok(config) = std::env::var(SERVER_ENV) else {
        let _serial = exclusive();
        let size = big_registry(BIG_SERIES).render().len();
        assert!((2_800_000..3_200_000).contains(&size), "exposition of {size} bytes");
        return;
    };
    let (max, series) = config.split_once(',').expect("max,series");
    let registry = big_registry(series.parse().expect("series"));
    let server = ServeOptions::new()
        .max_connections(max.parse().expect("max"))
        .serve_registry("127.0.0.1:0", registry)
        .expect("bind");
    // On a line of its own: libtest has already printed `test name ... `.
    println!("\nADDR {} MAX {}", server.local_addr(), server.max_connections());
    // Serves until the parent closes the pipe (or exits), or two minutes
    // have passed, whichever is first.
    let (closed, stdin_closed) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = std::io::stdin().read(&mut [0u8; 1]);
        let _ = closed.send(());
    });
    let _ = stdin_closed.recv_timeout(Duration::from_secs(120));
    server.stop();
}

/// A server in a child process; killed and reaped on drop.
struct ServerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    max_connections: usize,
}

impl ServerProcess {
    /// Starts one, optionally under `prlimit --nofile=N:N`; `None` if
    /// `prlimit` is missing (after `missing_program`).
    fn start(max_connections: usize, series: usize, nofile: Option<u32>) -> Option<ServerProcess> {
        let exe = std::env::current_exe().expect("test binary");
        let mut command = match nofile {
            Some(limit) => {
                if Command::new("prlimit").arg("--version").output().is_err() {
                    crate::missing_program("prlimit");
                    return None;
                }
                let mut command = Command::new("prlimit");
                command.arg(format!("--nofile={limit}:{limit}")).arg(exe);
                command
            }
            None => Command::new(exe),
        };
        command
            .args([
                "--exact",
                "serve_load::server_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SERVER_ENV, format!("{max_connections},{series}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = command.spawn().expect("start the server process");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut process = ServerProcess {
            child,
            stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_connections: 0,
        };
        // libtest prints a line or two first; the address follows within
        // moments, or the child has failed and the pipe ends (the child
        // exits after two minutes at the latest).
        for line in stdout.lines().take(20) {
            let line = line.expect("child stdout");
            if let Some(rest) = line.strip_prefix("ADDR ") {
                let (addr, max) = rest.split_once(" MAX ").expect("ADDR line");
                process.addr = addr.parse().expect("address");
                process.max_connections = max.parse().expect("max");
                return Some(process);
            }
        }
        panic!("the server process printed no address");
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server process's open descriptors.
    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, Iterator::count)
    }

    /// The server process's threads named `bareprom-*`.
    fn server_threads(&self) -> usize {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid()));
        tasks.map_or(0, |tasks| {
            tasks
                .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
                .filter(|name| name.starts_with("bareprom-"))
                .count()
        })
    }

    /// `VmRSS` from the server process's `/proc/<pid>/status`, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("status");
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
        line.split_whitespace()
            .nth(1)
            .and_then(|kib| kib.parse().ok())
            .expect("VmRSS value")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection with a 4 KiB receive buffer, set before connecting so that
/// the window advertised in the handshake is small too.
fn small_window(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_recv_buffer_size(4096)?;
    socket.connect_timeout(&addr.into(), TIMEOUT)?;
    let stream = TcpStream::from(socket);
    stream.set_write_timeout(Some(TIMEOUT))?;
    Ok(stream)
}

/// `n` slow readers: each sends `pipelined` requests and never reads.
fn slow_readers(addr: SocketAddr, n: usize, request: &[u8], pipelined: usize) -> Vec<TcpStream> {
    let requests = request.repeat(pipelined);
    (0..n)
        .filter_map(|_| {
            let mut stream = small_window(addr).ok()?;
            // The server stops reading once it is stuck writing; a request
            // that does not fit into the buffers any more is not needed.
            stream.set_write_timeout(Some(Duration::from_millis(200))).ok()?;
            let _ = stream.write_all(&requests);
            Some(stream)
        })
        .collect()
}

/// One scrape on a fresh connection: its status (if any) and how long it
/// took to read the whole response.
fn scrape(addr: SocketAddr, request: &[u8]) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, TIMEOUT) else {
        return (None, started.elapsed());
    };
    let _ = stream.set_read_timeout(Some(TIMEOUT));
    if stream.write_all(request).is_err() {
        return (None, started.elapsed());
    }
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let status = reply.get(9..12).and_then(|s| std::str::from_utf8(s).ok()?.parse().ok());
    let head_end = reply.windows(4).position(|w| w == b"\r\n\r\n");
    let length = head_end.and_then(|end| {
        let head = String::from_utf8_lossy(&reply[..end]).into_owned();
        let line = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-length:"))?;
        line.split_once(':')?.1.trim().parse::<usize>().ok()
    });
    // A status only counts if the whole body arrived.
    let complete = matches!((head_end, length), (Some(end), Some(n)) if reply.len() == end + 4 + n);
    (status.filter(|_| complete), started.elapsed())
}

const SCRAPE: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

/// How long a scrape may take while slow clients hold every slot. A locked
/// out scraper gets `503`, or waits out the 10 s write timeout; a served one
/// takes milliseconds on a quiet machine. The bound sits between the two
/// with room for a loaded 2-core runner, where this test's own 64 clients
/// and the tests running beside it delay the server's threads (2 s, the
/// newcomer's own wait limit, failed there now and then).
const LOCKOUT_BOUND: Duration = Duration::from_secs(5);

/// The p99 scrape latency allowed under the reconnect flood. A dropped SYN
/// (the failure this guards against) costs at least the kernel's 1 s
/// retransmit; the bound leaves room below that for a loaded runner.
const FLOOD_P99_BOUND: Duration = Duration::from_millis(500);

#[test]
fn slow_readers_do_not_lock_a_scraper_out() {
    let _serial = exclusive();
    let registry = big_registry(BIG_SERIES);
    let server = ServeOptions::new()
        .max_connections(64)
        .serve_registry("127.0.0.1:0", registry)
        .expect("bind");
    let addr = server.local_addr();
    // Half send one request, half pipeline twenty: both kinds stall writing.
    let mut held = slow_readers(addr, 32, GET, 1);
    held.extend(slow_readers(addr, 32, GET, 20));
    for attempt in 0..3 {
        let (status, took) = scrape(addr, SCRAPE);
        println!("scrape {attempt} with 64 slow readers: {status:?} in {took:?}");
        assert_eq!(status, Some(200), "scrape {attempt}");
        assert!(took < LOCKOUT_BOUND, "scrape {attempt} took {took:?}");
        // The evicted readers come back, as an attacker's would.
        held.retain_mut(|s| s.write(GET).is_ok());
        held.extend(slow_readers(addr, 64 - held.len().min(64), GET, 20));
    }
    server.stop();
}

#[test]
fn unauthenticated_pipeliners_do_not_lock_a_scraper_out() {
    let _serial = exclusive();
    let registry = big_registry(BIG_SERIES);
    let server = ServeOptions::new()
        .bearer_token("s3cret")
        .serve_registry("127.0.0.1:0", registry)
        .expect("bind");
    let addr = server.local_addr();
    // Each 401 is small; 40 000 of them are not.
    let _held = slow_readers(addr, 64, GET, 40_000);
    let request = b"GET /metrics HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n";
    for attempt in 0..3 {
        let (status, took) = scrape(addr, request);
        println!("authorized scrape {attempt} with 64 tokenless pipeliners: {status:?} in {took:?}");
        assert_eq!(status, Some(200), "scrape {attempt}");
        assert!(took < LOCKOUT_BOUND, "scrape {attempt} took {took:?}");
    }
    server.stop();
}

/// The memory held for responses is at most `4 + max_renders` (8) bodies of
/// 2.8 MB, about 22 MiB; the bound adds room for the allocator and stacks.
const RSS_GROWTH_BOUND_KIB: u64 = 64 * 1024;

#[test]
fn fifty_slow_readers_do_not_pin_fifty_bodies() {
    let _serial = exclusive();
    let Some(server) = ServerProcess::start(64, BIG_SERIES, None) else {
        return;
    };
    // One scrape first, so that the registry's own buffers are counted in
    // the baseline.
    assert_eq!(scrape(server.addr, SCRAPE).0, Some(200));
    let before = server.rss_kib();
    // One at a time, so that coalescing cannot hide the cost: each arrives
    // after the previous rendering is done and gets a rendering of its own.
    let mut held = Vec::new();
    let mut peak = before;
    for _ in 0..50 {
        held.extend(slow_readers(server.addr, 1, GET, 4));
        thread::sleep(Duration::from_millis(10));
        peak = peak.max(server.rss_kib());
    }
    for _ in 0..20 {
        thread::sleep(Duration::from_millis(50));
        peak = peak.max(server.rss_kib());
    }
    let growth = peak.saturating_sub(before);
    println!("VmRSS {before} KiB before, peak {peak} KiB with 50 slow readers: growth {growth} KiB");
    assert_eq!(held.len(), 50);
    assert!(growth < RSS_GROWTH_BOUND_KIB, "RSS grew by {growth} KiB");
}

/// Beyond the connections: the queue of `min(32, max_connections)` and the
/// socket in the accept thread's hands.
const FD_SLACK: usize = 32 + 2;

#[test]
fn churn_keeps_descriptors_and_threads_within_the_budget() {
    let _serial = exclusive();
    let Some(server) = ServerProcess::start(64, 200, None) else {
        return;
    };
    let server = Arc::new(server);
    let baseline = server.open_fds();
    let (fds_cap, threads_cap) = (baseline + server.max_connections + FD_SLACK, server.max_connections + 2);
    let stop = Arc::new(AtomicBool::new(false));
    let (max_fds, max_threads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let sampler = {
        let (server, stop) = (Arc::clone(&server), Arc::clone(&stop));
        let (max_fds, max_threads) = (Arc::clone(&max_fds), Arc::clone(&max_threads));
        thread::spawn(move || {
            for _ in 0..60_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                max_fds.fetch_max(server.open_fds(), Ordering::SeqCst);
                max_threads.fetch_max(server.server_threads(), Ordering::SeqCst);
                thread::sleep(Duration::from_micros(500));
            }
        })
    };
    // 2 000 connections from 40 threads: idle ones, slow readers with one
    // request or a pipeline, and clients that close at once.
    let addr = server.addr;
    let clients: Vec<_> = (0..40)
        .map(|t| {
            thread::spawn(move || {
                for i in 0..50 {
                    let Ok(mut stream) = small_window(addr) else {
                        continue;
                    };
                    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
                    match (t + i) % 4 {
                        0 => {}
                        1 => drop(stream.write_all(GET)),
                        2 => drop(stream.write_all(&GET.repeat(50))),
                        _ => continue,
                    }
                    thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }
    stop.store(true, Ordering::SeqCst);
    sampler.join().expect("sampler");
    assert_eq!(scrape(addr, SCRAPE).0, Some(200));
    let (fds, threads) = (max_fds.load(Ordering::SeqCst), max_threads.load(Ordering::SeqCst));
    println!("2 000 churning connections: at most {fds} fds (cap {fds_cap}), {threads} threads (cap {threads_cap})");
    assert!(fds <= fds_cap, "{fds} descriptors open, budget {fds_cap}");
    assert!(threads <= threads_cap, "{threads} server threads, cap {threads_cap}");
    assert!(threads > 2, "the sampler saw no worker");
}

#[test]
fn reconnecting_clients_under_a_256_descriptor_limit_do_not_delay_a_scraper() {
    let _serial = exclusive();
    let Some(server) = ServerProcess::start(64, 200, Some(256)) else {
        return;
    };
    assert_eq!(server.max_connections, 64, "the budget fits into 256 descriptors");
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let connections = Arc::new(AtomicUsize::new(0));
    // 1 000 clients that connect, wait to be evicted, and connect again
    // after 50 to 150 ms, started 0.5 ms apart: on main, about 13 000
    // connections a second, which ran the server out of descriptors.
    let clients: Vec<_> = (0..1000u64)
        .map(|client| {
            let (stop, connections) = (Arc::clone(&stop), Arc::clone(&connections));
            thread::sleep(Duration::from_micros(500));
            thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    let mut state = client.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
                    for _ in 0..10_000 {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        if let Ok(mut stream) = TcpStream::connect_timeout(&addr, TIMEOUT) {
                            connections.fetch_add(1, Ordering::Relaxed);
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                            let _ = stream.read(&mut [0u8; 512]);
                        }
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        thread::sleep(Duration::from_millis(50 + state % 100));
                    }
                })
                .expect("client thread")
        })
        .collect();
    // Lets the connections of the start-up burst that the kernel dropped be
    // retried (after 1 s) before measuring.
    thread::sleep(Duration::from_millis(1200));
    let mut latencies = Vec::new();
    for attempt in 0..50 {
        let (status, took) = scrape(addr, SCRAPE);
        assert_eq!(status, Some(200), "scrape {attempt} after {took:?}");
        latencies.push(took);
        thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    let churned = connections.load(Ordering::Relaxed);
    drop(server);
    for client in clients {
        let _ = client.join();
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100 - 1];
    println!(
        "RLIMIT_NOFILE 256, 1000 reconnecting clients ({churned} connections): p50 {:?}, p99 {p99:?}",
        latencies[latencies.len() / 2]
    );
    assert!(churned > 2000, "the clients made only {churned} connections");
    assert!(p99 < FLOOD_P99_BOUND, "p99 {p99:?}");
}
