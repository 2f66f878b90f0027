//! One exchange with the gateway: connect, write the request, read the
//! answer, each phase by its deadline; and what the answer means.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::response::{Answer, Parse, parse_response};
use super::{Method, PushFormat, Pusher};
use crate::CONTENT_TYPE;
use crate::error::{Error, ErrorKind};

impl Pusher {
    /// Connects, sends, receives: one request on a new connection.
    pub(super) fn send(&self, method: Method, body: &[u8]) -> Result<(), Error> {
        let fail = |e: &io::Error, doing: &str| self.io_error(method, e, doing);
        let (host, port) = self.gateway.connect_to();
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| fail(&e, "cannot resolve the host"))?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the host resolves to no address");
        let timeout = self.connect_timeout.max(Duration::from_millis(1));
        let mut connected = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    connected = Some(stream);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let stream = connected.ok_or_else(|| fail(&last, "cannot connect"))?;
        let _ = stream.set_nodelay(true);
        let mut timed = Timed {
            stream,
            write_timeout: self.write_timeout,
            read_timeout: self.read_timeout,
            write_by: None,
            read_by: None,
        };
        self.finish(method, self.exchange(&mut timed, method, body))
    }

    /// Writes the request and reads the answer.
    pub(super) fn exchange(&self, stream: &mut impl ReadWrite, method: Method, body: &[u8]) -> Result<Answer, Error> {
        let mut request = self.head(method, body.len());
        request.extend_from_slice(body);
        if let Err(e) = stream.write_all(&request).and_then(|()| stream.flush()) {
            // A gateway may answer (say 413) and close before reading the
            // whole body; its answer says more than the broken pipe.
            let sent = self.io_error(method, &e, "cannot send the request");
            return match e.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Err(sent),
                _ => self.receive(stream, method).map_err(|_| sent),
            };
        }
        self.receive(stream, method)
    }

    /// Reads until the answer is whole (or refused).
    fn receive(&self, stream: &mut impl ReadWrite, method: Method) -> Result<Answer, Error> {
        let mut answer = Vec::new();
        let mut chunk = [0; 8192];
        loop {
            let read = match stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_error(method, &e, "cannot read the answer")),
            };
            answer.extend_from_slice(&chunk[..read]);
            match parse_response(&answer, read == 0) {
                Parse::Incomplete => {}
                Parse::Complete(answer) => return Ok(answer),
                Parse::Invalid(reason) => {
                    let detail = format!("{} {}: {reason}", method.as_str(), self.url());
                    return Err(Error::exchange(ErrorKind::InvalidResponse, detail, None));
                }
            }
        }
    }

    /// A 2xx answer is success; any other is the gateway's refusal, quoted.
    pub(super) fn finish(&self, method: Method, answer: Result<Answer, Error>) -> Result<(), Error> {
        let answer = answer?;
        if (200..300).contains(&answer.status) {
            return Ok(());
        }
        let mut body = String::from_utf8_lossy(&answer.body).trim_end().to_owned();
        if answer.truncated {
            body.push_str(" [...]");
        }
        let mut detail = format!("{} {} answered {}", method.as_str(), self.url(), answer.status);
        if !answer.reason.is_empty() {
            detail.push(' ');
            detail.push_str(&answer.reason);
        }
        if !body.is_empty() {
            detail.push_str(": ");
            detail.push_str(&body);
        }
        Err(Error::exchange(
            ErrorKind::GatewayRejected,
            detail,
            Some((answer.status, body)),
        ))
    }

    /// The request head, ending in the empty line.
    fn head(&self, method: Method, body_len: usize) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bareprom/{}\r\nConnection: close\r\n",
            method.as_str(),
            self.path,
            self.gateway.authority(),
            env!("CARGO_PKG_VERSION"),
        );
        if method != Method::Delete {
            let content_type = match self.format {
                PushFormat::Text => CONTENT_TYPE,
            };
            let length = body_len.to_string();
            head.extend(["Content-Type: ", content_type, "\r\nContent-Length: ", &length, "\r\n"]);
            if let Some(coding) = self.encoding.header_value() {
                head.extend(["Content-Encoding: ", coding, "\r\n"]);
            }
        }
        if let Some(authorization) = &self.authorization {
            head.extend(["Authorization: ", authorization, "\r\n"]);
        }
        for (name, value) in &self.headers {
            head.extend([&**name, ": ", value, "\r\n"]);
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    fn io_error(&self, method: Method, e: &io::Error, doing: &str) -> Error {
        let kind = match e.kind() {
            io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::Timeout,
            _ => ErrorKind::Io,
        };
        let detail = format!("{} {}: {doing}: {e}", method.as_str(), self.url());
        Error::exchange(kind, detail, None)
    }
}

/// What the exchange needs of a stream (a named bound keeps the signature
/// short).
pub(super) trait ReadWrite: Read + Write {}
impl<S: Read + Write> ReadWrite for S {}

/// A connection whose write and read phases each end by a deadline: the
/// socket timeout is set to what is left before every call, so a gateway
/// that trickles bytes cannot stretch a phase past its timeout.
struct Timed {
    stream: TcpStream,
    write_timeout: Duration,
    read_timeout: Duration,
    write_by: Option<Instant>,
    read_by: Option<Instant>,
}

/// What is left until `deadline` (set to `timeout` from now on first use),
/// or a `TimedOut` error when nothing is.
fn remaining(deadline: &mut Option<Instant>, timeout: Duration) -> io::Result<Duration> {
    let by = *deadline.get_or_insert_with(|| Instant::now() + timeout.max(Duration::from_millis(1)));
    let left = by.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
    }
    Ok(left)
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = remaining(&mut self.write_by, self.write_timeout)?;
        self.stream.set_write_timeout(Some(left))?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = remaining(&mut self.read_by, self.read_timeout)?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}
