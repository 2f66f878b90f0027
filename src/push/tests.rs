//! The exchange over in-memory streams: what is written, and how answers
//! become results. The real gateway is in `tests/it/push.rs`.

use std::io::{self, Read, Write};

use super::Pusher;
use crate::{Counter, ErrorKind, Registry};

/// A stream that answers `answer` and records the request.
struct Scripted {
    answer: io::Cursor<Vec<u8>>,
    request: Vec<u8>,
}

impl Scripted {
    fn new(answer: &[u8]) -> Self {
        Scripted {
            answer: io::Cursor::new(answer.to_vec()),
            request: Vec::new(),
        }
    }
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.answer.read(buf)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.request.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn registry() -> Registry {
    static RECORDS: Counter = Counter::new("unit_records_total", "Records.");
    let registry = Registry::new();
    registry.register(&RECORDS).unwrap();
    RECORDS.inc_by(7);
    registry
}

#[test]
fn push_writes_one_put_with_the_exposition() {
    let pusher = Pusher::new("http://gw:9091/base", "etl")
        .unwrap()
        .grouping("instance", "a/b")
        .unwrap()
        .basic_auth("u", "p")
        .header("X-Tenant", " blue ")
        .unwrap();
    let mut stream = Scripted::new(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let registry = registry();
    pusher.push_on(&mut stream, &registry).unwrap();
    let body = registry.render();
    let expected = format!(
        "PUT /base/metrics/job/etl/instance@base64/YS9i HTTP/1.1\r\nHost: gw:9091\r\nUser-Agent: bareprom/{}\r\n\
         Connection: close\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\
         Authorization: Basic dTpw\r\nX-Tenant: blue\r\n\r\n{body}",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    assert_eq!(String::from_utf8(stream.request).unwrap(), expected);
}

#[test]
fn push_add_posts_and_delete_sends_no_body() {
    let pusher = Pusher::new("gw", "etl").unwrap().bearer_token("t0k").unwrap();
    let mut stream = Scripted::new(b"HTTP/1.1 200 OK\r\n\r\n");
    pusher.push_add_on(&mut stream, &registry()).unwrap();
    assert!(
        stream
            .request
            .starts_with(b"POST /metrics/job/etl HTTP/1.1\r\nHost: gw:80\r\n")
    );
    let mut stream = Scripted::new(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    pusher.delete_on(&mut stream).unwrap();
    let request = String::from_utf8(stream.request).unwrap();
    assert!(request.starts_with("DELETE /metrics/job/etl HTTP/1.1\r\n"), "{request}");
    assert!(request.ends_with("Authorization: Bearer t0k\r\n\r\n"), "{request}");
    assert!(!request.contains("Content-"), "{request}");
}

#[test]
fn a_refusal_carries_status_body_and_url() {
    let pusher = Pusher::new("127.0.0.1:9091", "etl").unwrap();
    let answer = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 27\r\n\r\nimproper label name \"__x\"\r\n";
    let err = pusher.push_on(&mut Scripted::new(answer), &registry()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GatewayRejected);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.response_body(), Some("improper label name \"__x\""));
    assert_eq!(
        err.to_string(),
        "pushgateway rejected the request: PUT http://127.0.0.1:9091/metrics/job/etl answered 400 Bad Request: \
         improper label name \"__x\""
    );
}

/// A stream whose reads never succeed, as a socket past its timeout.
struct Stalled;
impl Read for Stalled {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}
impl Write for Stalled {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn broken_answers_and_streams() {
    let pusher = Pusher::new("127.0.0.1:9091", "etl").unwrap();
    let err = pusher.delete_on(&mut Scripted::new(b"")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert_eq!(
        err.to_string(),
        "invalid pushgateway response: DELETE http://127.0.0.1:9091/metrics/job/etl: \
         connection closed before the answer's head ended"
    );

    let err = pusher.delete_on(&mut Stalled).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        err.to_string()
            .starts_with("timed out: DELETE http://127.0.0.1:9091/metrics/job/etl: "),
        "{err}"
    );
}

#[test]
fn samples_with_a_grouping_label_are_refused_before_sending() {
    static LAST: Counter = Counter::new("unit_clash_total", "Clash.");
    let registry = Registry::with_const_labels(&[("instance", "a")]).unwrap();
    registry.register(&LAST).unwrap();
    let pusher = Pusher::new("127.0.0.1:9091", "etl").unwrap();
    let mut stream = Scripted::new(b"HTTP/1.1 200 OK\r\n\r\n");
    pusher.push_on(&mut stream, &registry).unwrap();
    let grouped = pusher.grouping("instance", "b").unwrap();
    let mut stream = Scripted::new(b"HTTP/1.1 200 OK\r\n\r\n");
    let err = grouped.push_on(&mut stream, &registry).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GroupingLabelClash);
    assert_eq!(
        err.to_string(),
        "pushed metric carries a grouping label: PUT http://127.0.0.1:9091/metrics/job/etl/instance/b: \
         metric unit_clash_total already has label instance"
    );
    assert!(stream.request.is_empty(), "nothing is sent");
    let job = Registry::with_const_labels(&[("job", "x")]).unwrap();
    job.register(&LAST).unwrap();
    let err = Pusher::new("gw", "etl")
        .unwrap()
        .push_add_on(&mut stream, &job)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GroupingLabelClash);
}

#[test]
fn invalid_settings() {
    let kind = |r: Result<Pusher, crate::Error>| r.unwrap_err().kind();
    let pusher = || Pusher::new("gw", "etl").unwrap();
    assert_eq!(kind(Pusher::new("gw", "")), ErrorKind::InvalidJob);
    assert_eq!(kind(pusher().grouping("1x", "v")), ErrorKind::InvalidLabelName);
    assert_eq!(kind(pusher().grouping("__x", "v")), ErrorKind::ReservedLabelName);
    assert_eq!(
        kind(pusher().grouping("a", "v").unwrap().grouping("a", "w")),
        ErrorKind::DuplicateLabelName
    );
    assert_eq!(kind(pusher().header("X-A", "a\r\nB: c")), ErrorKind::InvalidHeader);
    assert_eq!(kind(pusher().header("X A", "a")), ErrorKind::InvalidHeader);
    assert_eq!(kind(pusher().header("authorization", "a")), ErrorKind::InvalidHeader);
    assert_eq!(kind(pusher().bearer_token("a\nb")), ErrorKind::InvalidHeader);
}

/// A stream that takes the first `room` bytes of the request, then fails
/// every write as a peer that has closed, with an answer already sent.
struct Closing {
    room: usize,
    answer: io::Cursor<Vec<u8>>,
}

impl Read for Closing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.answer.read(buf)
    }
}

impl Write for Closing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_answer_sent_before_the_body_was_read_is_reported() {
    let pusher = Pusher::new("127.0.0.1:9091", "etl").unwrap();
    let answer = b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 8\r\n\r\ntoo big\n".to_vec();
    let mut stream = Closing {
        room: 64,
        answer: io::Cursor::new(answer),
    };
    let err = pusher.push_on(&mut stream, &registry()).unwrap_err();
    assert_eq!(
        (err.kind(), err.status(), err.response_body()),
        (ErrorKind::GatewayRejected, Some(413), Some("too big"))
    );
    let mut stream = Closing {
        room: 64,
        answer: io::Cursor::new(Vec::new()),
    };
    let err = pusher.push_on(&mut stream, &registry()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(
        err.to_string()
            .starts_with("i/o error: PUT http://127.0.0.1:9091/metrics/job/etl: cannot send the request: "),
        "{err}"
    );
}

#[test]
fn a_gzip_push_says_so_and_sends_the_gzip_member() {
    let pusher = Pusher::new("gw:9091", "etl")
        .unwrap()
        .content_encoding(crate::ContentEncoding::Gzip);
    let mut stream = Scripted::new(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let registry = registry();
    pusher.push_on(&mut stream, &registry).unwrap();
    let mut expected_body = Vec::new();
    crate::gzip(registry.render().as_bytes(), &mut expected_body);
    let request = stream.request;
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = std::str::from_utf8(&request[..head_end]).unwrap();
    let length = format!("Content-Length: {}\r\n", expected_body.len());
    assert!(
        head.contains(&length) && head.contains("Content-Encoding: gzip\r\n"),
        "{head}"
    );
    assert_eq!(&request[head_end..], expected_body);
    assert_eq!(request[head_end..head_end + 2], [0x1F, 0x8B]);
}
