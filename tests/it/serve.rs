//! The exposition server over real sockets on 127.0.0.1.
//!
//! Every loop here is bounded in count, and every socket has timeouts, so a
//! broken server fails the tests instead of hanging them. Tests run in
//! parallel; the ones that count threads or open many connections take
//! `SERIAL` exclusively and all others take it shared, so thread counts are
//! measured while no other test in this binary is running.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread;
use std::time::{Duration, Instant};

use bareprom::{MetricsRequest, MetricsResponse, ServeOptions, Server};

static SERIAL: RwLock<()> = RwLock::new(());

/// Taken shared by the other tests that serve over sockets (the adapter
/// tests too, through `web::runtime`), so the exclusive ones run alone.
pub(crate) fn shared() -> RwLockReadGuard<'static, ()> {
    SERIAL.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn exclusive() -> RwLockWriteGuard<'static, ()> {
    SERIAL.write().unwrap_or_else(PoisonError::into_inner)
}

const BODY: &[u8] = b"# TYPE up gauge\nup 1\n";
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const GET: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n";
const TIMEOUT: Duration = Duration::from_secs(5);

fn metrics(_: &MetricsRequest<'_>) -> MetricsResponse {
    MetricsResponse {
        status: 200,
        content_type: TEXT,
        content_encoding: None,
        allow: None,
        body: BODY.to_vec(),
    }
}

fn start(options: ServeOptions) -> Server {
    options.serve("127.0.0.1:0", metrics).expect("bind 127.0.0.1:0")
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    /// The status and one header, for compact assertions.
    fn with(&self, name: &str) -> (u16, Option<&str>) {
        (self.status, self.header(name))
    }

    fn header(&self, name: &str) -> Option<&str> {
        let mut fields = self.head.lines().skip(1).filter_map(|l| l.split_once(": "));
        fields.find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
}

/// A test client that keeps bytes read past one response for the next.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        stream.set_write_timeout(Some(TIMEOUT)).expect("timeout");
        let buf = Vec::new();
        Client { stream, buf }
    }

    fn send(&mut self, bytes: &[u8]) -> &mut Client {
        self.stream.write_all(bytes).expect("send request");
        self
    }

    /// Reads more bytes, failing at EOF.
    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        if n == 0 {
            Err(io::ErrorKind::UnexpectedEof.into())
        } else {
            Ok(())
        }
    }

    /// Reads one response; `head_only` for replies to HEAD.
    fn try_reply(&mut self, head_only: bool) -> io::Result<Reply> {
        let mut end = self.buf.windows(4).position(|w| w == b"\r\n\r\n");
        for _ in 0..1000 {
            if end.is_some() {
                break;
            }
            self.fill()?;
            end = self.buf.windows(4).position(|w| w == b"\r\n\r\n");
        }
        let end = end.ok_or(io::ErrorKind::InvalidData)?;
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let status = head.strip_prefix("HTTP/1.1 ").and_then(|s| s.get(..3)?.parse().ok());
        let mut reply = Reply {
            status: status.expect("status line"),
            head,
            body: Vec::new(),
        };
        let length = reply.header("Content-Length").and_then(|l| l.parse().ok());
        let length: usize = length.expect("Content-Length");
        for _ in 0..1000 {
            if head_only || self.buf.len() >= length {
                break;
            }
            self.fill()?;
        }
        if !head_only {
            reply.body = self.buf.drain(..length).collect();
        }
        Ok(reply)
    }

    fn reply(&mut self) -> Reply {
        self.try_reply(false).expect("read response")
    }

    /// Whether the server has closed the connection (EOF or reset), waiting
    /// at most `wait`.
    fn is_closed(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).expect("timeout");
        match self.stream.read(&mut [0u8; 1]) {
            Ok(n) => n == 0,
            Err(e) => !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
        }
    }
}

fn fetch(addr: SocketAddr, request: &[u8]) -> Reply {
    Client::connect(addr).send(request).reply()
}

fn status(addr: SocketAddr, request: &[u8]) -> u16 {
    fetch(addr, request).status
}

/// A GET for `target` with one extra header line (or none if empty).
fn get(target: &str, header: &str) -> Vec<u8> {
    let header = if header.is_empty() {
        String::new()
    } else {
        format!("{header}\r\n")
    };
    format!("GET {target} HTTP/1.1\r\nHost: t\r\n{header}\r\n").into_bytes()
}

fn server_thread_count() -> usize {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("bareprom-"))
        .count()
}

#[test]
fn get_returns_the_handler_body_with_headers() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let reply = fetch(server.local_addr(), GET);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, BODY);
    assert_eq!(reply.header("Content-Type"), Some(TEXT));
    let length = reply.header("Content-Length").and_then(|l| l.parse().ok());
    assert_eq!(length, Some(BODY.len()));
    assert!(reply.header("Date").is_some_and(|d| d.ends_with(" GMT")));
    assert_eq!(reply.header("Connection"), None);
    server.stop();
}

#[test]
fn head_sends_the_length_but_no_body() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let mut client = Client::connect(server.local_addr());
    client.send(b"HEAD /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
    let reply = client.try_reply(true).expect("HEAD reply");
    assert_eq!(reply.status, 200);
    let length = reply.header("Content-Length").and_then(|l| l.parse().ok());
    assert_eq!(length, Some(BODY.len()));
    // If any body bytes had been sent, this reply would not parse.
    assert_eq!(client.send(GET).reply().body, BODY);
    server.stop();
}

#[test]
fn other_paths_get_404_and_other_methods_405() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let addr = server.local_addr();
    assert_eq!(status(addr, &get("/other", "")), 404);
    assert_eq!(status(addr, &get("/metrics/", "")), 404);
    assert_eq!(status(addr, &get("/metrics?name=up", "")), 200);
    let reply = fetch(addr, b"POST /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(reply.with("Allow"), (405, Some("GET, HEAD")));
    assert!(
        reply
            .header("Content-Type")
            .is_some_and(|t| t.starts_with("text/plain"))
    );
    let mut client = Client::connect(addr);
    let reply = client
        .send(b"POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        .reply();
    assert_eq!(reply.with("Connection"), (405, Some("close")));
    assert!(client.is_closed(TIMEOUT));
    server.stop();
}

#[test]
fn malformed_requests_get_400_and_a_close() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let addr = server.local_addr();
    for request in [
        &b"\x01\x02garbage\r\n\r\n"[..],
        b"GET /metrics HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
    ] {
        let mut client = Client::connect(addr);
        let reply = client.send(request).reply();
        assert_eq!(reply.with("Connection"), (400, Some("close")), "{request:?}");
        assert!(String::from_utf8_lossy(&reply.body).starts_with("Bad Request"));
        assert!(client.is_closed(TIMEOUT));
    }
    assert_eq!(fetch(addr, b"GET /metrics HTTP/2.0\r\n\r\n").status, 505);
    server.stop();
}

#[test]
fn oversized_heads_get_431() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let addr = server.local_addr();
    let many = "X-Many: v\r\n".repeat(100) + "X-Many: v";
    assert_eq!(status(addr, &get("/metrics", &many)), 431);
    let big = format!("X-Big: {}", "v".repeat(9000));
    assert_eq!(status(addr, &get("/metrics", &big)), 431);
    server.stop();
}

#[test]
fn a_one_mebibyte_request_line_is_refused_quickly() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let mut client = Client::connect(server.local_addr());
    let mut writer = client.stream.try_clone().expect("clone");
    let started = Instant::now();
    // The client writes from another thread, as a real one would, so that
    // the test reads the answer while the server refuses to read further.
    let sender = thread::spawn(move || {
        let mut line = b"GET /".to_vec();
        line.resize(1024 * 1024, b'a');
        let result = writer.write_all(&line);
        let _ = writer.shutdown(Shutdown::Write);
        result.is_ok()
    });
    match client.try_reply(false).map(|reply| reply.status) {
        Ok(status) => assert!([414, 431].contains(&status), "status {status}"),
        Err(e) => println!("the server closed without an answer: {e}"),
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    let _ = sender.join();
    assert_eq!(fetch(server.local_addr(), GET).status, 200);
    server.stop();
}

#[test]
fn heads_that_never_end_are_cut_off_at_the_read_timeout() {
    let _serial = shared();
    let timeout = Duration::from_millis(300);
    let server = start(ServeOptions::new().read_timeout(timeout));
    let mut client = Client::connect(server.local_addr());
    let mut writer = client.stream.try_clone().expect("clone");
    let stop = Arc::new(AtomicBool::new(false));
    let stop_writer = Arc::clone(&stop);
    let started = Instant::now();
    // One byte every 20 ms: each read succeeds, but the head never ends.
    let trickle = thread::spawn(move || {
        let _ = writer.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: ");
        for _ in 0..250 {
            if stop_writer.load(Ordering::SeqCst) || writer.write_all(b"z").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    let reply = client.reply();
    let elapsed = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    assert_eq!(reply.with("Connection"), (408, Some("close")));
    assert!(client.is_closed(TIMEOUT));
    let expected = timeout..Duration::from_secs(2);
    assert!(expected.contains(&elapsed), "cut off after {elapsed:?}");
    trickle.join().expect("trickle thread");
    // A connection that sends nothing is closed silently after the timeout.
    let mut idle = Client::connect(server.local_addr());
    assert!(idle.is_closed(TIMEOUT));
    server.stop();
}

#[test]
fn bearer_tokens_are_checked() {
    let _serial = shared();
    let server = start(ServeOptions::new().bearer_token("s3cret"));
    let addr = server.local_addr();
    let reply = fetch(addr, GET);
    assert_eq!(reply.with("WWW-Authenticate"), (401, Some("Bearer")));
    let wrong = get("/metrics", "Authorization: Bearer s3cre");
    assert_eq!(status(addr, &wrong), 401);
    // Unauthenticated clients cannot probe for paths.
    assert_eq!(status(addr, &get("/x", "")), 401);
    let right = fetch(addr, &get("/metrics", "Authorization: Bearer s3cret"));
    assert_eq!((right.status, right.body.as_slice()), (200, BODY));
    server.stop();
}

#[test]
fn basic_credentials_are_checked() {
    let _serial = shared();
    let server = start(ServeOptions::new().basic_auth("prom", "s3cret"));
    let addr = server.local_addr();
    let reply = fetch(addr, GET);
    assert_eq!(reply.with("WWW-Authenticate"), (401, Some("Basic realm=\"metrics\"")));
    // "prom:wrong" and "prom:s3cret"; the scheme name is case-insensitive.
    let wrong = get("/metrics", "Authorization: Basic cHJvbTp3cm9uZw==");
    assert_eq!(status(addr, &wrong), 401);
    let right = get("/metrics", "Authorization: basic cHJvbTpzM2NyZXQ=");
    assert_eq!(status(addr, &right), 200);
    server.stop();
}

#[test]
fn keep_alive_serves_several_requests_including_pipelined_ones() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let mut client = Client::connect(server.local_addr());
    for _ in 0..3 {
        assert_eq!(client.send(GET).reply().body, BODY);
    }
    client.send(&[GET, GET, GET].concat());
    for _ in 0..3 {
        assert_eq!(client.reply().status, 200);
    }
    assert!(!client.is_closed(Duration::from_millis(100)));
    server.stop();
}

#[test]
fn http_1_0_closes_unless_asked_to_keep_alive() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let mut client = Client::connect(server.local_addr());
    let reply = client.send(b"GET /metrics HTTP/1.0\r\n\r\n").reply();
    assert_eq!(reply.with("Connection"), (200, Some("close")));
    assert!(client.is_closed(TIMEOUT));
    let mut client = Client::connect(server.local_addr());
    for _ in 0..2 {
        let reply = client
            .send(b"GET /metrics HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .reply();
        assert_eq!(reply.with("Connection"), (200, Some("keep-alive")));
    }
    server.stop();
}

#[test]
fn connection_close_is_honoured() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let mut client = Client::connect(server.local_addr());
    let reply = client.send(&get("/metrics", "Connection: close")).reply();
    assert_eq!(reply.with("Connection"), (200, Some("close")));
    assert!(client.is_closed(TIMEOUT));
    server.stop();
}

#[test]
fn a_thousand_sequential_scrapes() {
    let _serial = exclusive();
    let server = start(ServeOptions::new());
    let request = get("/metrics", "Connection: close");
    for i in 0..1000 {
        assert_eq!(status(server.local_addr(), &request), 200, "scrape {i}");
    }
    server.stop();
}

#[test]
fn fifty_concurrent_scrapes() {
    let _serial = exclusive();
    let server = start(ServeOptions::new());
    let addr = server.local_addr();
    let barrier = Arc::new(Barrier::new(50));
    let clients: Vec<_> = (0..50)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                fetch(addr, GET).status
            })
        })
        .collect();
    for client in clients {
        assert_eq!(client.join().expect("client thread"), 200);
    }
    server.stop();
}

#[test]
fn random_garbage_on_200_connections_does_not_hurt() {
    let _serial = exclusive();
    let server = start(ServeOptions::new());
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..200 {
        let mut client = Client::connect(server.local_addr());
        let len = usize::try_from(next() % 3000).expect("small");
        let garbage: Vec<u8> = (0..len).map(|_| next().to_le_bytes()[0]).collect();
        let _ = client.stream.write_all(&garbage);
        let _ = client.stream.shutdown(Shutdown::Write);
        // Whatever the server makes of it, it must answer or close promptly.
        let _ = client.try_reply(false);
        assert!(client.is_closed(TIMEOUT));
    }
    assert_eq!(fetch(server.local_addr(), GET).status, 200);
    server.stop();
}

#[test]
fn a_fresh_scrape_succeeds_while_200_idle_connections_are_held() {
    let _serial = exclusive();
    let server = start(ServeOptions::new().max_connections(64));
    let addr = server.local_addr();
    let mut idle: Vec<Client> = (0..200).map(|_| Client::connect(addr)).collect();
    let mut worst = Duration::ZERO;
    for attempt in 0..5 {
        let started = Instant::now();
        let reply = fetch(addr, GET);
        let latency = started.elapsed();
        println!("fresh scrape {attempt} with 200 idle connections open: {latency:?}");
        assert_eq!(reply.status, 200);
        worst = worst.max(latency);
    }
    assert!(worst < Duration::from_secs(1), "worst latency {worst:?}");
    let closed = idle
        .iter_mut()
        .map(|c| c.is_closed(Duration::from_millis(20)))
        .filter(|&closed| closed)
        .count();
    println!("idle connections evicted: {closed} of 200");
    assert!(closed >= 200 - 64, "only {closed} evicted");
    server.stop();
}

#[test]
fn a_busy_server_answers_503_within_the_admission_wait() {
    let _serial = exclusive();
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let entered = Arc::new(AtomicUsize::new(0));
    let (handler_gate, handler_entered) = (Arc::clone(&gate), Arc::clone(&entered));
    let server = ServeOptions::new()
        .max_connections(2)
        .serve("127.0.0.1:0", move |req| {
            handler_entered.fetch_add(1, Ordering::SeqCst);
            let (open, changed) = &*handler_gate;
            let guard = open.lock().unwrap_or_else(PoisonError::into_inner);
            // Bounded: the gate opens in the test, or the wait gives up.
            let _ = changed.wait_timeout_while(guard, TIMEOUT, |open| !*open);
            metrics(req)
        })
        .expect("bind");
    let addr = server.local_addr();
    // Two different Accept headers: identical requests would share one
    // rendering, and the handler would be entered only once.
    let busy: Vec<_> = (0..2)
        .map(|i| thread::spawn(move || fetch(addr, &get("/metrics", &format!("Accept: text/plain;q=0.{i}"))).status))
        .collect();
    for _ in 0..500 {
        if entered.load(Ordering::SeqCst) == 2 {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(entered.load(Ordering::SeqCst), 2);
    let started = Instant::now();
    let mut third = Client::connect(addr);
    let reply = third.reply();
    // It waits up to 2 s for a worker, then gets its 503.
    assert_eq!(reply.with("Connection"), (503, Some("close")));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    *gate.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
    gate.1.notify_all();
    for client in busy {
        assert_eq!(client.join().expect("client thread"), 200);
    }
    server.stop();
}

#[test]
fn a_panicking_handler_gives_500_and_the_server_carries_on() {
    let _serial = shared();
    let panicked = AtomicBool::new(false);
    let server = ServeOptions::new()
        .serve("127.0.0.1:0", move |req| {
            let again = panicked.swap(true, Ordering::SeqCst);
            assert!(again, "the first scrape panics on purpose");
            metrics(req)
        })
        .expect("bind");
    let mut client = Client::connect(server.local_addr());
    assert_eq!(client.send(GET).reply().status, 500);
    assert_eq!(client.send(GET).reply().status, 200);
    assert_eq!(fetch(server.local_addr(), GET).status, 200);
    server.stop();
}

#[test]
fn stop_closes_the_port_and_ends_every_thread() {
    let _serial = exclusive();
    // Every thread the server starts is named `bareprom-*`, so counting
    // those is exact; the process-wide count would include the threads of
    // tests in other modules running meanwhile (it made this test flaky).
    let ours_before = server_thread_count();
    let server = start(ServeOptions::new());
    let addr = server.local_addr();
    let mut kept_alive = Client::connect(addr);
    assert_eq!(kept_alive.send(GET).reply().status, 200);
    let _idle = Client::connect(addr);
    let mut half = Client::connect(addr);
    half.send(b"GET /metrics HTTP/1.1\r\nHo");
    assert_eq!(fetch(addr, GET).status, 200);
    assert!(server_thread_count() >= ours_before + 3);
    let started = Instant::now();
    server.stop();
    let took = started.elapsed();
    println!("stop took {took:?}");
    assert!(took < Duration::from_millis(1500), "stop took {took:?}");
    let refused = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.kind());
    assert_eq!(refused.err(), Some(io::ErrorKind::ConnectionRefused));
    assert!(kept_alive.is_closed(TIMEOUT) && half.is_closed(TIMEOUT));
    for _ in 0..200 {
        if server_thread_count() <= ours_before {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server_thread_count(), ours_before);
}

#[test]
fn dropping_the_server_stops_it() {
    let _serial = shared();
    let server = start(ServeOptions::new());
    let addr = server.local_addr();
    drop(server);
    assert!(TcpStream::connect_timeout(&addr, TIMEOUT).is_err());
}

#[test]
fn gzip_is_sent_when_accept_encoding_allows_it() {
    let _serial = shared();
    let registry = Arc::new(bareprom::Registry::new());
    let gauge = Arc::new(bareprom::Gauge::try_new("app_up", "Up.").expect("valid"));
    gauge.set(1);
    registry.register_arc(gauge).expect("registers");
    let for_server = Arc::clone(&registry);
    let server = ServeOptions::new()
        .serve("127.0.0.1:0", move |request| for_server.handle(request))
        .expect("bind 127.0.0.1:0");
    let addr = server.local_addr();
    let text = registry.render();

    let reply = fetch(addr, &get("/metrics", "Accept-Encoding: gzip"));
    assert_eq!(reply.with("Content-Encoding"), (200, Some("gzip")));
    assert_eq!(reply.header("Vary"), Some("Accept-Encoding"));
    assert_eq!(reply.header("Content-Type"), Some(crate::TEXT_SCRAPE));
    let body = crate::inflate::gunzip(&reply.body).expect("a gzip body");
    assert_eq!(String::from_utf8(body).expect("UTF-8"), text);

    // Two fields are joined; the refusal of gzip in the second wins.
    let request =
        b"GET /metrics HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip;q=0.5\r\nAccept-Encoding: identity\r\n\r\n";
    for request in [
        &get("/metrics", ""),
        &get("/metrics", "Accept-Encoding: gzip;q=0"),
        &request[..],
    ] {
        let reply = fetch(addr, request);
        assert_eq!(reply.with("Content-Encoding"), (200, None));
        assert_eq!(reply.header("Vary"), Some("Accept-Encoding"));
        assert_eq!(String::from_utf8_lossy(&reply.body), text);
    }
    server.stop();
}
