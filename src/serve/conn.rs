//! One connection: read request heads, answer them, close when done.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::http::{self, Head, Parse, Version};
use super::pool::{Phase, STALL, WRITE_CHUNK};
use super::render::Outcome;
use super::{MetricsRequest, MetricsResponse, Shared};

/// Responses up to this size are written with one call; larger bodies are
/// written after the head instead of being copied.
const COALESCE_LIMIT: usize = 64 * 1024;
/// After refusing a request, the server reads and discards what the client
/// is still sending for at most this long and this many bytes before closing.
/// Closing a socket with unread data makes the kernel send a reset, which can
/// destroy the error response before the client has read it.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 4 * 1024 * 1024;
const PLAIN: &str = "text/plain; charset=utf-8";

/// How the response's `Connection` header reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Close {
    /// `Connection: close`; the server closes after this response.
    Yes,
    /// No header: HTTP/1.1 connections persist by default.
    No,
    /// `Connection: keep-alive`, which an HTTP/1.0 client needs to see.
    KeepAlive,
}

enum ReadOutcome {
    Data,
    Closed,
    TimedOut,
}

/// Serves one connection on worker `id` until it closes, times out, or is
/// shut down.
pub(super) fn run(shared: &Shared, id: usize, stream: &TcpStream) {
    // Small writes must not wait for the peer's delayed ACK.
    let _ = stream.set_nodelay(true);
    Conn {
        shared,
        id,
        stream,
        last: false,
        pipelined: false,
    }
    .serve();
}

struct Conn<'s> {
    shared: &'s Shared,
    id: usize,
    /// Shared with the connection table, which may shut it down.
    stream: &'s TcpStream,
    /// Evicted while its request was already in flight: this request is
    /// answered, then the connection closes.
    last: bool,
    /// The request being answered arrived before the previous response was
    /// written: pipelined.
    pipelined: bool,
}

impl Conn<'_> {
    fn serve(&mut self) {
        // The buffer never grows beyond the head limit plus one chunk,
        // because the parser refuses anything longer.
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        'requests: loop {
            if !self.shared.set_phase(self.id, Phase::Waiting(Instant::now())) {
                return;
            }
            let deadline = Instant::now() + self.shared.read_timeout;
            // Bytes left over from before are the start of a pipelined request.
            self.pipelined = !buf.is_empty();
            loop {
                match http::parse_head(&buf, &self.shared.limits) {
                    Parse::Complete(head, used) => {
                        if !self.shared.set_phase(self.id, Phase::Answering) {
                            if self.shared.is_stopping() {
                                return;
                            }
                            self.last = true;
                        }
                        let keep_alive = self.answer(&head);
                        let unread_body = head.has_body;
                        buf.drain(..used.min(buf.len()));
                        if unread_body {
                            // The body is never read, so drain it before
                            // closing rather than reset the connection.
                            self.linger();
                            return;
                        }
                        if !keep_alive {
                            let _ = self.stream.shutdown(Shutdown::Write);
                            return;
                        }
                        continue 'requests;
                    }
                    Parse::Error(reject) => {
                        self.send_error(reject.status(), reject.detail());
                        self.linger();
                        return;
                    }
                    // An evicted connection gets only what had already
                    // arrived, not another read.
                    Parse::Incomplete if self.last || !buf.is_empty() && self.shared.is_evicted(self.id) => return,
                    Parse::Incomplete => match self.read_more(&mut buf, &mut chunk, deadline) {
                        ReadOutcome::Data => {}
                        ReadOutcome::Closed => return,
                        ReadOutcome::TimedOut => {
                            // A client that said nothing is simply idle; one
                            // that started a head is told why it is cut off.
                            if !buf.is_empty() {
                                self.send_error(408, "request head not received in time");
                                let _ = self.stream.shutdown(Shutdown::Write);
                            }
                            return;
                        }
                    },
                }
            }
        }
    }

    fn read_more(&mut self, buf: &mut Vec<u8>, chunk: &mut [u8], deadline: Instant) -> ReadOutcome {
        // Each pass either reads, fails, or moves closer to the deadline, so
        // the loop ends; it only repeats on EINTR.
        loop {
            let Some(left) = time_left(deadline) else {
                return ReadOutcome::TimedOut;
            };
            if self.stream.set_read_timeout(Some(left)).is_err() {
                return ReadOutcome::Closed;
            }
            match (&mut self.stream).read(chunk) {
                Ok(0) => return ReadOutcome::Closed,
                Ok(n) => {
                    buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    return ReadOutcome::Data;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return ReadOutcome::TimedOut;
                }
                Err(_) => return ReadOutcome::Closed,
            }
        }
    }

    /// Answers one well-formed request; returns whether to keep the
    /// connection open.
    fn answer(&mut self, head: &Head<'_>) -> bool {
        let shared = self.shared;
        let keep_alive = head.keep_alive() && !shared.is_stopping() && !self.last;
        let close = match (keep_alive, head.version) {
            (false, _) => Close::Yes,
            (true, Version::Http11) => Close::No,
            (true, Version::Http10) => Close::KeepAlive,
        };
        let head_only = head.method == "HEAD";
        // The order puts authentication first, so that an unauthenticated
        // client learns nothing about which paths or methods exist.
        let sent = if !shared.auth.allows(head.authorization) {
            let challenges: Vec<_> = shared.auth.challenges().map(|c| ("WWW-Authenticate", c)).collect();
            self.send_plain(401, "authentication required", close, &challenges, head_only)
        } else if head.path != shared.path {
            self.send_plain(404, "try the metrics path", close, &[], head_only)
        } else if head.method != "GET" && !head_only {
            self.send_plain(405, "only GET and HEAD", close, &[("Allow", "GET, HEAD")], head_only)
        } else if head.has_body {
            self.send_plain(400, "request bodies are not accepted", close, &[], head_only)
        } else {
            let request = MetricsRequest {
                method: head.method,
                path: head.path,
                accept: head.accept.as_deref(),
                accept_encoding: head.accept_encoding.as_deref(),
            };
            // The handler is user code: a panic becomes a 500 and the
            // connection carries on. No lock is held while it runs.
            // With four bodies being written already, the scrape shares the
            // newest of them rather than rendering (and holding) a fifth.
            let reuse = shared.table().bodies_full(Instant::now());
            match shared
                .renders
                .answer(&request, &*shared.handler, is_sendable, shared.render_timeout, reuse)
            {
                Outcome::Ready(rendered) => {
                    // The body depends on Accept-Encoding: caches must key on it.
                    let mut extra = vec![("Vary", "Accept-Encoding")];
                    extra.extend(rendered.content_encoding.map(|coding| ("Content-Encoding", coding)));
                    let body = Body::Shared(&rendered.body, rendered.id);
                    self.send(rendered.status, rendered.content_type, body, close, &extra, head_only)
                }
                Outcome::Failed => self.send_plain(500, "the metrics handler failed", close, &[], head_only),
                Outcome::Busy => self.send_plain(503, "too many scrapes in flight", close, &[], head_only),
                Outcome::TimedOut => self.send_plain(
                    503,
                    "rendering took longer than the render timeout",
                    close,
                    &[],
                    head_only,
                ),
            }
        };
        sent && keep_alive
    }

    /// Sends an error that ends the connection; the body is always sent,
    /// since the method of a refused request is not known.
    fn send_error(&mut self, status: u16, detail: &str) {
        self.send_plain(status, detail, Close::Yes, &[], false);
    }

    fn send_plain(&mut self, status: u16, detail: &str, close: Close, extra: &[(&str, &str)], head_only: bool) -> bool {
        let body = format!("{}: {detail}\n", reason(status));
        self.send(status, PLAIN, Body::Own(body.as_bytes()), close, extra, head_only)
    }

    /// Writes a whole response within the write timeout; returns whether it
    /// was all written. The connection is evictable while its client takes
    /// longer than `STALL` to accept a piece of `WRITE_CHUNK` bytes.
    fn send(
        &mut self,
        status: u16,
        content_type: &str,
        body: Body<'_>,
        close: Close,
        extra: &[(&str, &str)],
        head_only: bool,
    ) -> bool {
        let (bytes, shared_id) = match body {
            Body::Own(bytes) => (bytes, None),
            Body::Shared(bytes, id) => (bytes.as_slice(), Some(id)),
        };
        let now = Instant::now();
        let deadline = now + self.shared.write_timeout;
        let mut head = format_head(status, content_type, bytes.len(), close, extra).into_bytes();
        let writing = Phase::Writing {
            piece_started: now,
            // A HEAD response holds no body, so it does not count against
            // the budget of bodies in flight.
            body: shared_id.filter(|_| !head_only),
            pipelined: self.pipelined,
        };
        let written = if !self.shared.set_phase(self.id, writing) && !self.last {
            false
        } else if head_only {
            self.write_pieces(&head, deadline)
        } else if bytes.len() <= COALESCE_LIMIT {
            head.extend_from_slice(bytes);
            self.write_pieces(&head, deadline)
        } else {
            self.write_pieces(&head, deadline) && self.write_pieces(bytes, deadline)
        };
        self.shared.count(status);
        written
    }

    /// Writes `data` in pieces of `WRITE_CHUNK`, recording each as progress;
    /// stops if the connection was evicted meanwhile. The last answer of an
    /// evicted connection is not evictable any more, so each of its pieces
    /// must be accepted within `STALL` instead.
    fn write_pieces(&mut self, data: &[u8], deadline: Instant) -> bool {
        data.chunks(WRITE_CHUNK).all(|piece| {
            let deadline = if self.last {
                deadline.min(Instant::now() + STALL)
            } else {
                deadline
            };
            write_by(self.stream, piece, deadline) && (self.shared.progressed(self.id) || self.last)
        })
    }

    /// Half-closes, then drains what the client still sends, bounded in time
    /// and bytes, so that the last response is not lost to a reset.
    fn linger(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        // A draining connection holds no request: let a newcomer evict it.
        self.shared.set_phase(self.id, Phase::Waiting(Instant::now()));
        let deadline = Instant::now() + self.shared.read_timeout.min(LINGER_TIME);
        let mut budget = LINGER_BYTES;
        let mut scratch = [0u8; 4096];
        while budget > 0 {
            let Some(left) = time_left(deadline) else {
                return;
            };
            if self.stream.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match (&mut self.stream).read(&mut scratch) {
                Ok(0) => return,
                Ok(n) => budget = budget.saturating_sub(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

/// The time until `deadline`, or `None` once it is reached (a zero timeout
/// would be an error for the socket calls).
fn time_left(deadline: Instant) -> Option<Duration> {
    deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
}

/// A response body: the connection's own bytes, or a rendering shared with
/// other connections (and its id, for the body budget).
#[derive(Clone, Copy)]
enum Body<'a> {
    Own(&'a [u8]),
    Shared(&'a Vec<u8>, u64),
}

/// Writes all of `data` unless the deadline passes or the socket fails.
fn write_by(mut stream: &TcpStream, mut data: &[u8], deadline: Instant) -> bool {
    while !data.is_empty() {
        let Some(left) = time_left(deadline) else {
            return false;
        };
        if stream.set_write_timeout(Some(left)).is_err() {
            return false;
        }
        match stream.write(data) {
            Ok(0) => return false,
            Ok(n) => data = data.get(n..).unwrap_or_default(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// Whether the handler's response can be sent as it is: a final status that
/// may carry a body, and a content type that cannot break the header block.
fn is_sendable(response: &MetricsResponse) -> bool {
    (200..=599).contains(&response.status)
        && ![204, 205, 304].contains(&response.status)
        && response.content_type.bytes().all(|b| (0x20..0x7f).contains(&b))
        && response
            .content_encoding
            .is_none_or(|coding| !coding.is_empty() && coding.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// The status line and headers of a response, ending with the empty line.
pub(super) fn format_head(
    status: u16,
    content_type: &str,
    content_length: usize,
    close: Close,
    extra: &[(&str, &str)],
) -> String {
    // Writing to a String cannot fail, so the results are ignored.
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    // RFC 9110 section 6.6.1: a server with a clock must send Date.
    if let Some(date) = http_date(SystemTime::now()) {
        let _ = write!(head, "Date: {date}\r\n");
    }
    let _ = write!(
        head,
        "Content-Type: {content_type}\r\nContent-Length: {content_length}\r\n"
    );
    match close {
        Close::Yes => head.push_str("Connection: close\r\n"),
        Close::No => {}
        Close::KeepAlive => head.push_str("Connection: keep-alive\r\n"),
    }
    for (name, value) in extra {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    head
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        // RFC 9112 section 4 allows an empty reason phrase.
        _ => "",
    }
}

/// Formats a time as an IMF-fixdate (RFC 9110 section 5.6.7), using Howard
/// Hinnant's days-to-civil algorithm; `None` for times before 1970.
fn http_date(now: SystemTime) -> Option<String> {
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let (days, time) = (secs / 86_400, secs % 86_400);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS.get(usize::try_from((days + 4) % 7).ok()?)?;
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let month_name = MONTHS.get(usize::try_from(month - 1).ok()?)?;
    let (h, m, s) = (time / 3600, time % 3600 / 60, time % 60);
    Some(format!(
        "{weekday}, {day:02} {month_name} {year} {h:02}:{m:02}:{s:02} GMT"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let at = |secs| http_date(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0).as_deref(), Some("Thu, 01 Jan 1970 00:00:00 GMT"));
        assert_eq!(at(784_111_777).as_deref(), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(at(951_782_400).as_deref(), Some("Tue, 29 Feb 2000 00:00:00 GMT"));
        assert_eq!(at(4_102_444_799).as_deref(), Some("Thu, 31 Dec 2099 23:59:59 GMT"));
    }

    #[test]
    fn heads() {
        let head = format_head(405, PLAIN, 3, Close::Yes, &[("Allow", "GET, HEAD")]);
        assert!(head.starts_with("HTTP/1.1 405 Method Not Allowed\r\nDate: "));
        assert!(head.ends_with("Content-Length: 3\r\nConnection: close\r\nAllow: GET, HEAD\r\n\r\n"));
        assert!(format_head(299, PLAIN, 0, Close::No, &[]).starts_with("HTTP/1.1 299 \r\n"));
    }

    #[test]
    fn sendable() {
        let ok = |status, content_type| {
            is_sendable(&MetricsResponse {
                status,
                content_type,
                content_encoding: None,
                allow: None,
                body: Vec::new(),
            })
        };
        assert!(ok(200, "text/plain") && ok(404, PLAIN) && ok(599, PLAIN));
        assert!(!ok(101, PLAIN) && !ok(204, PLAIN) && !ok(304, PLAIN) && !ok(600, PLAIN));
        assert!(!ok(200, "text/plain\r\nX: y"));
    }
}
