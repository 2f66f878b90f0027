//! A small HTTP/1.1 server for the exposition endpoint, on std alone.
//!
//! Threads: an accept thread that only accepts, an admission thread that
//! gives each accepted connection a slot and a thread of its own (see
//! `accept_loop` for why these are two threads), and one thread per open
//! connection. Every open connection has a slot in a registry (a
//! mutex-guarded map) that holds a clone of its socket and, while the
//! connection waits for a request, the time it started waiting. The registry
//! serves three purposes:
//!
//! - Admission. At most `max_connections` slots exist. When they are all
//!   taken, the new connection evicts the slot that has waited longest for a
//!   request (shutting its socket down), so idle or slow-loris connections
//!   cannot lock a scraper out; a fresh scraper sends its request at once and
//!   is busy, not waiting, by the time the next connection arrives. Only when
//!   every slot is busy answering does the newcomer get a fast 503, written
//!   without blocking (the socket is non-blocking, and a fresh socket's send
//!   buffer always has room for those few bytes).
//! - Stopping. `stop` marks the registry as stopping and shuts down every
//!   registered socket, so threads blocked in `read` or `write` return at
//!   once instead of at their next timeout; no thread ever polls.
//! - Waiting. The number of live connection threads is an atomic counter
//!   decremented by a drop guard (so it is right even if a thread unwinds);
//!   the guard notifies a condition variable that `stop` waits on.
//!
//! The accept thread blocks in `accept`; `stop` wakes it by connecting to
//! the listening address itself (on loopback when bound to an unspecified
//! address), which needs no polling and no unsafe code. The accept thread
//! then drops its end of the handoff channel, which ends the admission
//! thread.

mod auth;
mod conn;
pub(crate) mod http;
mod options;

pub use options::ServeOptions;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use auth::Auth;
use http::Limits;
use options::ResponseHook;

use crate::family::CounterVec;
use crate::handler::{MetricsRequest, MetricsResponse};

/// The std server's own responses, by status code.
static EXPOSITION_REQUESTS: CounterVec<1> = CounterVec::new(
    "bareprom_exposition_requests_total",
    "Responses of the exposition server, by HTTP status code.",
    ["code"],
);

/// Serves the default registry on `addr` with default [`ServeOptions`]
/// (path `/metrics`, 64 connections, 10 s timeouts, no auth), in background
/// threads until the returned [`Server`] is stopped or dropped.
///
/// Bind to loopback unless the metrics are meant for the network.
///
/// Adds one family to the default registry, as
/// [`ServeOptions::serve_registry`] does: the server's responses by status
/// code, `bareprom_exposition_requests_total{code}`, present from its first
/// scrape on (`code="200"` at zero). Nothing else; the registry's health
/// families are the registry's (see [`Registry::set_health`](crate::Registry::set_health)).
///
/// # Errors
///
/// Whatever binding the address returns.
///
/// # Examples
///
/// ```
/// let server = bareprom::serve("127.0.0.1:0")?;
/// println!("metrics on http://{}/metrics", server.local_addr());
/// server.stop();
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve(addr: impl ToSocketAddrs) -> io::Result<Server> {
    ServeOptions::new().serve_registry(addr, crate::default_registry())
}

/// How long `stop` waits for the server's threads to finish.
const STOP_WAIT: Duration = Duration::from_secs(1);
/// How long `stop` tries to connect to wake the accept thread. A loopback
/// connection is made or refused at once; it can only take longer when the
/// listen queue is full, and then the accept thread is busy accepting and
/// sees the stop flag at its next connection anyway.
const WAKE_TIMEOUT: Duration = Duration::from_millis(250);
/// Connections accepted but not yet admitted; see `accept_loop`.
const HANDOFF_QUEUE: usize = 256;
/// Pause after an `accept` error such as running out of file descriptors,
/// so that a persistent error does not turn the accept loop into a spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A running server; stops when [`Server::stop`] is called or when dropped.
///
/// Stopping closes the listening socket, shuts down every open connection,
/// and waits up to one second for the server's threads to finish. A thread
/// still inside the handler then finishes on its own when the handler
/// returns; it cannot write to its closed socket.
///
/// ```
/// use bareprom::{MetricsResponse, ServeOptions};
///
/// let server = ServeOptions::new().serve("127.0.0.1:0", |_req| MetricsResponse {
///     status: 200,
///     content_type: "text/plain",
///     allow: None,
///     body: Vec::new(),
/// })?;
/// let addr = server.local_addr();
/// drop(server); // the same as server.stop()
/// assert!(std::net::TcpStream::connect(addr).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// The accept and admission threads; empty once stopped.
    background: Vec<JoinHandle<()>>,
}

impl Server {
    /// The bound address, useful after binding port 0.
    ///
    /// ```
    /// let server = bareprom::ServeOptions::new().serve("127.0.0.1:0", |_| bareprom::MetricsResponse {
    ///     status: 200, content_type: "text/plain", allow: None, body: Vec::new(),
    /// })?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server; see [`Server`] for what that involves. Returns
    /// within about a second.
    ///
    /// ```
    /// let server = bareprom::ServeOptions::new().serve("127.0.0.1:0", |_| bareprom::MetricsResponse {
    ///     status: 200, content_type: "text/plain", allow: None, body: Vec::new(),
    /// })?;
    /// server.stop();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop(self) {
        // Dropping does the work, so that forgetting to call stop is harmless.
        drop(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.background.is_empty() {
            return;
        }
        self.shared.stopping.store(true, Ordering::SeqCst);
        {
            let mut registry = self.shared.registry();
            registry.stopping = true;
            for slot in registry.slots.values() {
                // Errors mean the socket is already closed, which is the goal.
                let _ = slot.stream.shutdown(Shutdown::Both);
            }
        }
        // Wake the accept thread; it sees the flag and exits without serving,
        // and the admission thread follows when the handoff channel closes.
        let _ = TcpStream::connect_timeout(&wake_addr(self.addr), WAKE_TIMEOUT);
        let deadline = Instant::now() + STOP_WAIT;
        let mut registry = self.shared.registry();
        while registry.background > 0 || self.shared.live.load(Ordering::SeqCst) > 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            registry = self
                .shared
                .changed
                .wait_timeout(registry, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let background_done = registry.background == 0;
        drop(registry);
        // Joining is instant once both threads have signalled; if they have
        // not (the wake-up connection failed), they are left detached rather
        // than letting stop hang.
        for thread in self.background.drain(..) {
            if background_done {
                let _ = thread.join();
            }
        }
    }
}

/// The address to connect to in order to wake the accept thread.
fn wake_addr(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

type Handler = Box<dyn Fn(&MetricsRequest<'_>) -> MetricsResponse + Send + Sync>;

/// What the server's threads share.
struct Shared {
    path: String,
    max_connections: usize,
    read_timeout: Duration,
    write_timeout: Duration,
    limits: Limits,
    auth: Auth,
    handler: Handler,
    hook: Option<ResponseHook>,
    /// Set once by `stop`; checked without the lock on hot paths.
    stopping: AtomicBool,
    /// Connection threads that have not yet finished.
    live: AtomicUsize,
    registry: Mutex<Registry>,
    /// Notified whenever one of the server's threads finishes.
    changed: Condvar,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

struct Registry {
    stopping: bool,
    /// How many of the accept and admission threads are still running.
    background: usize,
    next_id: u64,
    slots: HashMap<u64, Slot>,
}

struct Slot {
    /// A clone of the connection's socket, for shutting it down.
    stream: TcpStream,
    /// When the connection started waiting for its current request, or
    /// `None` while a request is being answered.
    waiting_since: Option<Instant>,
}

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // No code panics while holding the lock, but a poisoned lock must
        // still not take the server down.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Marks the connection as waiting for a request (evictable) or as busy
    /// answering one. Returns false if the connection was evicted or the
    /// server is stopping, in which case it must close.
    fn set_waiting(&self, id: u64, waiting: bool) -> bool {
        let mut registry = self.registry();
        if registry.stopping {
            return false;
        }
        match registry.slots.get_mut(&id) {
            Some(slot) => {
                slot.waiting_since = waiting.then(Instant::now);
                true
            }
            None => false,
        }
    }

    /// Called by the accept and admission threads as they exit.
    fn background_done(&self) {
        let mut registry = self.registry();
        registry.background = registry.background.saturating_sub(1);
        drop(registry);
        self.changed.notify_all();
    }

    /// Reports a sent response's status to the hook, if there is one.
    fn count(&self, status: u16) {
        if let Some(hook) = &self.hook {
            // A panicking hook must not take the connection thread down.
            let _ = catch_unwind(AssertUnwindSafe(|| hook(status)));
        }
    }
}

/// Owned by each connection thread; frees the slot however the thread ends.
struct LiveGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        let mut registry = self.shared.registry();
        registry.slots.remove(&self.id);
        self.shared.live.fetch_sub(1, Ordering::SeqCst);
        drop(registry);
        self.shared.changed.notify_all();
    }
}

fn start(options: ServeOptions, addr: impl ToSocketAddrs, handler: Handler) -> io::Result<Server> {
    let listener = TcpListener::bind(addr)?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        limits: Limits {
            request_line: options.max_head_bytes,
            head: options.max_head_bytes,
            headers: options.max_headers,
        },
        auth: Auth::new(
            options.bearer_token.as_deref(),
            options
                .basic_auth
                .as_ref()
                .map(|(user, password)| (user.as_str(), password.as_str())),
        ),
        path: options.path,
        max_connections: options.max_connections.max(1),
        read_timeout: options.read_timeout,
        write_timeout: options.write_timeout,
        handler,
        hook: options.on_response,
        stopping: AtomicBool::new(false),
        live: AtomicUsize::new(0),
        registry: Mutex::new(Registry {
            stopping: false,
            background: 2,
            next_id: 0,
            slots: HashMap::new(),
        }),
        changed: Condvar::new(),
    });
    let (handoff, pending) = mpsc::sync_channel(HANDOFF_QUEUE);
    let for_admit = Arc::clone(&shared);
    let admit_thread = thread::Builder::new()
        .name("bareprom-admit".to_owned())
        .spawn(move || admit_loop(&pending, &for_admit))?;
    let for_accept = Arc::clone(&shared);
    // If this fails, the sender is dropped with the closure, which ends the
    // admission thread.
    let accept_thread = thread::Builder::new()
        .name("bareprom-accept".to_owned())
        .spawn(move || accept_loop(listener, &handoff, &for_accept))?;
    Ok(Server {
        shared,
        addr,
        background: vec![accept_thread, admit_thread],
    })
}

/// Accepts connections and hands them to the admission thread.
///
/// Admission includes starting a thread, which takes tens of microseconds;
/// done here, a burst of connections (an attacker opening hundreds at once)
/// would overflow the kernel's listen queue of 128, which std does not let us
/// enlarge, and the kernel would drop the SYN of the next client, who then
/// waits a full second for the retransmission. Accepting is only a system
/// call and a channel send, so the kernel queue stays short; if the handoff
/// queue itself fills, the newcomer gets a 503 at once.
fn accept_loop(listener: TcpListener, handoff: &SyncSender<TcpStream>, shared: &Shared) {
    while !shared.is_stopping() {
        match listener.accept() {
            Ok((stream, _)) if !shared.is_stopping() => {
                if let Err(TrySendError::Full(stream)) = handoff.try_send(stream) {
                    reject_busy(shared, stream);
                }
            }
            Ok(_) => break,
            Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted) => {}
            Err(_) => thread::sleep(ACCEPT_BACKOFF),
        }
    }
    // Close the port before signalling, so that once stop returns the port
    // refuses connections.
    drop(listener);
    shared.background_done();
}

/// Admits handed-off connections until the accept thread drops its sender.
fn admit_loop(pending: &Receiver<TcpStream>, shared: &Arc<Shared>) {
    for stream in pending {
        admit(shared, stream);
    }
    shared.background_done();
}

/// Gives a new connection a slot and a thread, evicting the longest-waiting
/// connection if needed, or answers 503 if every slot is busy.
fn admit(shared: &Arc<Shared>, stream: TcpStream) {
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut registry = shared.registry();
    if registry.stopping {
        return;
    }
    if registry.slots.len() >= shared.max_connections {
        let oldest = registry
            .slots
            .iter()
            .filter_map(|(&id, slot)| slot.waiting_since.map(|since| (since, id)))
            .min()
            .map(|(_, id)| id);
        let Some(victim) = oldest.and_then(|id| registry.slots.remove(&id)) else {
            drop(registry);
            return reject_busy(shared, stream);
        };
        let _ = victim.stream.shutdown(Shutdown::Both);
    }
    // Evicted threads may take a moment to finish; this cap keeps a flood of
    // evictions from multiplying threads in the meantime.
    if shared.live.load(Ordering::SeqCst) >= shared.max_connections.saturating_mul(2) {
        drop(registry);
        return reject_busy(shared, stream);
    }
    let id = registry.next_id;
    registry.next_id += 1;
    registry.slots.insert(
        id,
        Slot {
            stream: clone,
            waiting_since: Some(Instant::now()),
        },
    );
    shared.live.fetch_add(1, Ordering::SeqCst);
    drop(registry);
    let guard = LiveGuard {
        shared: Arc::clone(shared),
        id,
    };
    // If the thread cannot be started, the closure is dropped with the guard
    // and the stream, which frees the slot and closes the connection.
    let _ = thread::Builder::new()
        .name("bareprom-conn".to_owned())
        .spawn(move || conn::run(&guard, stream));
}

/// Writes a 503 without ever blocking the calling thread, then closes.
fn reject_busy(shared: &Shared, mut stream: TcpStream) {
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    // Reading what has already arrived makes a clean close (FIN) more likely
    // than a reset, which could destroy the 503 before the client reads it.
    let _ = stream.read(&mut [0; 1024]);
    let body = b"server at capacity\n";
    let mut bytes = conn::format_head(503, "text/plain; charset=utf-8", body.len(), conn::Close::Yes, &[]).into_bytes();
    bytes.extend_from_slice(body);
    let _ = stream.write(&bytes);
    let _ = stream.shutdown(Shutdown::Write);
    shared.count(503);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_sees_every_status() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let hook: ResponseHook = Arc::new(move |status| {
            record.lock().unwrap_or_else(PoisonError::into_inner).push(status);
        });
        let server = ServeOptions::new()
            .on_response(hook)
            .serve("127.0.0.1:0", |_| MetricsResponse {
                status: 200,
                content_type: "text/plain",
                allow: None,
                body: Vec::new(),
            })
            .expect("bind");
        let mut client = TcpStream::connect(server.local_addr()).expect("connect");
        client.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let requests =
            b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        client.write_all(requests).expect("send");
        // The server counts each response before closing, so EOF means both
        // have been counted.
        let mut replies = Vec::new();
        client.read_to_end(&mut replies).expect("read");
        server.stop();
        assert_eq!(*seen.lock().unwrap_or_else(PoisonError::into_inner), [200, 404]);
    }
}
