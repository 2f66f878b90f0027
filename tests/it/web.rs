//! What the adapter tests share: a blocking HTTP/1.1 client over std
//! sockets (keep-alive, `Content-Length` bodies), a tokio runtime serving a
//! hyper service on 127.0.0.1:0, and a bounded wait.
//!
//! Every socket has timeouts and every wait a deadline, so a broken adapter
//! fails a test instead of hanging it.

// Without the adapters, only the README's tiny_http test and the route
// schema test use this module.
#![cfg_attr(not(all(feature = "hyper", feature = "tower")), allow(dead_code))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

/// One response, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }
}

/// A keep-alive connection.
pub(crate) struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    pub(crate) fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    /// Sends `method target` and reads the reply.
    #[track_caller]
    pub(crate) fn send(&mut self, method: &str, target: &str) -> Reply {
        self.start(method, target);
        self.read_reply(method == "HEAD")
    }

    /// Sends `method target` with extra header lines (each ending in
    /// `\r\n`) and reads the reply.
    #[track_caller]
    pub(crate) fn send_with(&mut self, method: &str, target: &str, headers: &str) -> Reply {
        let request = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n");
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .expect("write request");
        self.read_reply(method == "HEAD")
    }

    /// Sends a request without reading the reply.
    pub(crate) fn start(&mut self, method: &str, target: &str) {
        let request = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .expect("write request");
    }

    #[track_caller]
    fn read_reply(&mut self, head_only: bool) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header line");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').expect("header colon");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        let length: usize = reply.header("content-length").map_or(0, |v| v.parse().expect("length"));
        assert!(
            reply.header("transfer-encoding").is_none(),
            "the adapters send sized bodies: {reply:?}"
        );
        if !head_only {
            reply.body.resize(length, 0);
            self.reader.read_exact(&mut reply.body).expect("body");
        }
        reply
    }
}

/// One request on a new connection.
#[track_caller]
pub(crate) fn fetch(addr: SocketAddr, method: &str, target: &str) -> Reply {
    Client::connect(addr).send(method, target)
}

/// Waits up to 10 s for `done`, panicking with `what` if it never holds.
#[track_caller]
pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The `ms` query parameter of a `/slow?ms=N` target.
pub(crate) fn millis(query: Option<&str>) -> u64 {
    query
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ms=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A two-worker tokio runtime, dropped with the test, and the serve
/// tests' lock held shared meanwhile: their exclusive tests (200 idle
/// connections, a saturated server) measure with no other server busy.
pub(crate) struct Runtime {
    // Dropped first: the servers stop before the lock is released.
    runtime: tokio::runtime::Runtime,
    _serial: std::sync::RwLockReadGuard<'static, ()>,
}

impl std::ops::Deref for Runtime {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }
}

pub(crate) fn runtime() -> Runtime {
    let serial = crate::serve::shared();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    Runtime {
        runtime,
        _serial: serial,
    }
}

/// Runs promtool on `text`: `None` if promtool is missing (after
/// `missing_program`), else its findings (empty when it is satisfied).
pub(crate) fn promtool(text: &str) -> Option<String> {
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::missing_program("promtool");
            return None;
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() || !findings.trim().is_empty(),
        "promtool failed silently"
    );
    Some(if output.status.success() {
        findings
    } else {
        format!("{:?}: {findings}", output.status)
    })
}

/// Scrapes `/metrics`, checks it with the oracle and promtool, and gives
/// the parsed exposition.
#[track_caller]
pub(crate) fn scrape(addr: SocketAddr) -> crate::oracle::Exposition {
    let reply = fetch(addr, "GET", "/metrics");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(crate::TEXT_SCRAPE));
    let text = reply.text();
    let exposition = crate::parse(&text);
    if let Some(findings) = promtool(&text) {
        assert!(findings.trim().is_empty(), "promtool: {findings}\n{text}");
    }
    exposition
}

/// A sample's value as an integer, panicking on anything else.
pub(crate) fn int(value: Option<crate::oracle::Value>) -> i128 {
    match value {
        Some(crate::oracle::Value::Int(i)) => i,
        other => panic!("not an integer sample: {other:?}"),
    }
}
