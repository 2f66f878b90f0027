//! A small HTTP/1.1 server for the exposition endpoint, on std alone.
//!
//! Threads: an accept thread that only accepts, an admission thread that
//! waits on behalf of connections nobody can take yet, and up to
//! `max_connections` worker threads, started on demand and kept until the
//! server stops. Each worker serves one connection at a time. That is the
//! whole thread budget: `max_connections + 2`, a hard bound, because a worker
//! never exits before `stop` and is counted until it has.
//!
//! The connection table (`pool.rs`, behind one mutex) holds the accepted
//! connections waiting for a worker (no more than there are free workers plus
//! `min(32, max_connections)`) and, per worker, its socket (an `Arc` shared
//! with the worker: one descriptor per connection) and what it is doing. It serves three purposes:
//!
//! - Admission. A new connection is queued for a worker. If no worker is
//!   free or coming, the connection that has been evictable longest is shut
//!   down: one waiting for a request, one whose client has not accepted a
//!   64 KiB piece of its response for `STALL` (1 s), or one answering a
//!   pipelined request. Its worker notices at once (its blocked read or
//!   write fails; a request already received is still answered) and takes
//!   the newcomer. If no connection is evictable yet, the admission thread
//!   waits until a writer stalls or a rendering ends, at most 2 s; after
//!   that, or at once if the queue is full, the newcomer gets a 503, written
//!   without blocking.
//! - Stopping. `stop` marks the table as stopping and shuts down every
//!   socket, so threads blocked in `read` or `write` return at once instead of
//!   at their next timeout; no thread ever polls.
//! - Descriptors. Worker sockets, queued sockets, the listener, one socket in
//!   the accept thread's hands and the one `stop` connects with: at most
//!   `max_connections + min(32, max_connections) + 3`. `start` clamps
//!   `max_connections` so that this fits into the soft `RLIMIT_NOFILE` minus
//!   the descriptors already open; and when `accept` fails anyway (another
//!   part of the program took them), the accept thread evicts a connection
//!   before it tries again, so idle connections can always be evicted.
//!
//! Rendering (`render.rs`) is coalesced: identical requests arriving while
//! one is being answered share its answer and its body (`Arc<Vec<u8>>`), and
//! at most `max_renders` different ones render at once. Once `HELD_BODIES`
//! (4) distinct bodies are being written (after cutting off writers of older
//! bodies that have all stalled), a scrape shares the newest body held for
//! the same request, or gets a 503 if there is none, instead of rendering
//! another. So the bytes held for responses are at most `4 + max_renders`
//! bodies, whatever the number of slow clients.
//!
//! The accept thread blocks in `accept`; `stop` wakes it by connecting to
//! the listening address itself (on loopback when bound to an unspecified
//! address), which needs no polling and no unsafe code.

mod auth;
mod conn;
pub(crate) mod http;
mod options;
mod pool;
mod render;
mod threads;

pub use options::ServeOptions;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use auth::Auth;
use http::Limits;
use options::ResponseHook;
use pool::{MAX_PENDING, Phase, Table};
use render::Renders;
use threads::{accept_loop, admission_loop};

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
/// The longest a queued connection waits for a worker before its 503.
const ADMIT_WAIT: Duration = Duration::from_secs(2);
/// After an `accept` error such as running out of file descriptors, the
/// accept thread evicts a connection and waits at most this long for its
/// worker to close it, so that a persistent error cannot make it spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// The longest the accept thread waits for evicted connections to close
/// when the descriptor budget is full of them. Short, so that the listen
/// queue cannot overflow meanwhile.
const EVICTION_WAIT: Duration = Duration::from_millis(5);
/// Descriptors beyond the connections and the queue: the listener, the one
/// in the accept thread's hands, the one `stop` connects with.
const FIXED_FDS: usize = 3;

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
///     content_encoding: None,
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
    ///     status: 200, content_type: "text/plain", content_encoding: None, allow: None, body: Vec::new(),
    /// })?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connection limit in force: [`ServeOptions::max_connections`],
    /// lowered at start if the server's descriptor budget
    /// (`max_connections + min(32, max_connections) + 3`) would not fit into
    /// the soft `RLIMIT_NOFILE` minus the descriptors already open.
    ///
    /// ```
    /// let server = bareprom::ServeOptions::new().max_connections(8).serve("127.0.0.1:0", |_| {
    ///     bareprom::MetricsResponse { status: 200, content_type: "text/plain", content_encoding: None, allow: None, body: Vec::new() }
    /// })?;
    /// assert!(server.max_connections() <= 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn max_connections(&self) -> usize {
        self.shared.max_connections
    }

    /// Stops the server; see [`Server`] for what that involves. Returns
    /// within about a second.
    ///
    /// ```
    /// let server = bareprom::ServeOptions::new().serve("127.0.0.1:0", |_| bareprom::MetricsResponse {
    ///     status: 200, content_type: "text/plain", content_encoding: None, allow: None, body: Vec::new(),
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
        let pending = {
            let mut table = self.shared.table();
            let pending = std::mem::take(&mut table.pending);
            table.shut_down_all();
            pending
        };
        // Closed outside the lock.
        drop(pending);
        self.shared.work.notify_all();
        self.shared.changed.notify_all();
        // Wake the accept thread; it sees the flag and exits without serving.
        let _ = TcpStream::connect_timeout(&wake_addr(self.addr), WAKE_TIMEOUT);
        let deadline = Instant::now() + STOP_WAIT;
        let mut table = self.shared.table();
        while table.background > 0 || table.workers > 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            table = self.shared.wait_changed(table, Some(left));
        }
        let all_done = table.background == 0 && table.workers == 0;
        let workers = std::mem::take(&mut table.handles);
        drop(table);
        // Joining is instant once every thread has signalled; if one has not
        // (a handler still running, or the wake-up connection failed), the
        // threads are left detached rather than letting stop hang.
        if all_done {
            for thread in self.background.drain(..).chain(workers) {
                let _ = thread.join();
            }
        }
        self.background.clear();
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
    max_pending: usize,
    read_timeout: Duration,
    write_timeout: Duration,
    render_timeout: Duration,
    limits: Limits,
    auth: Auth,
    handler: Handler,
    renders: Renders,
    hook: Option<ResponseHook>,
    /// Set once by `stop`; checked without the lock on hot paths.
    stopping: AtomicBool,
    table: Mutex<Table>,
    /// Notified when a connection is queued, a worker frees its connection,
    /// or a thread finishes: the admission thread and `stop` wait on it.
    changed: Condvar,
    /// Notified when a connection is queued: idle workers wait on it.
    work: Condvar,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn table(&self) -> MutexGuard<'_, Table> {
        // No code panics while holding the lock, but a poisoned lock must
        // still not take the server down.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Records what worker `id`'s connection is doing. Returns false if the
    /// connection was evicted or the server is stopping, in which case it
    /// must close.
    fn set_phase(&self, id: usize, phase: Phase) -> bool {
        let mut table = self.table();
        let ok = table.set_phase(id, phase);
        // A new phase may make this connection evictable, or evictable at
        // a new time, which matters to the admission thread if it waits.
        if table.is_short() {
            self.notify_changed(&table);
        }
        ok
    }

    /// Waits for `changed`, at most `timeout` if one is given.
    fn wait_changed<'t>(
        &'t self,
        mut table: MutexGuard<'t, Table>,
        timeout: Option<Duration>,
    ) -> MutexGuard<'t, Table> {
        table.watchers += 1;
        let mut table = match timeout {
            Some(timeout) => {
                self.changed
                    .wait_timeout(table, timeout)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => self.changed.wait(table).unwrap_or_else(PoisonError::into_inner),
        };
        table.watchers -= 1;
        table
    }

    /// Notifies `changed` if a thread waits for it: the common case, a
    /// connection ending while nobody waits, costs no system call.
    fn notify_changed(&self, table: &Table) {
        if table.watchers > 0 {
            self.changed.notify_all();
        }
    }

    /// Whether worker `id`'s connection was evicted or the server stops.
    fn is_evicted(&self, id: usize) -> bool {
        self.table().is_evicted(id)
    }

    /// Records that worker `id` wrote another piece of its response; false
    /// if the connection was evicted meanwhile.
    fn progressed(&self, id: usize) -> bool {
        self.table().progressed(id, Instant::now())
    }

    /// Called by the accept and admission threads as they exit.
    fn background_done(&self) {
        let mut table = self.table();
        table.background = table.background.saturating_sub(1);
        drop(table);
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

/// Binds all of `addr`'s addresses in turn, as `TcpListener::bind` does,
/// with an error that names them.
fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot resolve the address to bind: {e}")))?
        .collect();
    TcpListener::bind(addrs.as_slice()).map_err(|e| {
        let names: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
        io::Error::new(e.kind(), format!("cannot bind {}: {e}", names.join(", ")))
    })
}

/// `requested` lowered so that the descriptor budget fits into `headroom`
/// (the soft limit minus the descriptors open now), if that is known.
fn clamp_to_descriptors(requested: usize, headroom: Option<u64>) -> usize {
    let Some(headroom) = headroom.map(|h| usize::try_from(h).unwrap_or(usize::MAX)) else {
        return requested;
    };
    let fits = headroom.saturating_sub(FIXED_FDS);
    // budget(n) = n + min(32, n); the largest n whose budget fits.
    let largest = if fits >= 2 * MAX_PENDING {
        fits - MAX_PENDING
    } else {
        fits / 2
    };
    requested.min(largest).max(1)
}

fn start(options: ServeOptions, addr: impl ToSocketAddrs, handler: Handler) -> io::Result<Server> {
    let max_connections = clamp_to_descriptors(options.max_connections.max(1), crate::process::descriptor_headroom());
    let listener = bind(addr)?;
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
        max_connections,
        max_pending: MAX_PENDING.min(max_connections),
        read_timeout: options.read_timeout,
        write_timeout: options.write_timeout,
        render_timeout: options.render_timeout,
        handler,
        renders: Renders::new(options.max_renders),
        hook: options.on_response,
        stopping: AtomicBool::new(false),
        table: Mutex::new(Table::new(2)),
        changed: Condvar::new(),
        work: Condvar::new(),
    });
    let for_admit = Arc::clone(&shared);
    let admit_thread = thread::Builder::new()
        .name("bareprom-admit".to_owned())
        .spawn(move || admission_loop(&for_admit))?;
    let for_accept = Arc::clone(&shared);
    let accept_thread = thread::Builder::new()
        .name("bareprom-accept".to_owned())
        .spawn(move || accept_loop(listener, &for_accept));
    let accept_thread = match accept_thread {
        Ok(thread) => thread,
        Err(e) => {
            // Ends the admission thread.
            drop(Server {
                shared,
                addr,
                background: vec![admit_thread],
            });
            return Err(e);
        }
    };
    Ok(Server {
        shared,
        addr,
        background: vec![accept_thread, admit_thread],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

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
                content_encoding: None,
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

    #[test]
    fn the_connection_limit_fits_the_descriptor_headroom() {
        let budget = |n: usize| n + MAX_PENDING.min(n) + FIXED_FDS;
        assert_eq!(clamp_to_descriptors(64, None), 64);
        assert_eq!(clamp_to_descriptors(64, Some(1_000)), 64);
        for headroom in [0, 5, 20, 50, 99, 100, 250] {
            let n = clamp_to_descriptors(64, Some(headroom));
            assert!((1..=64).contains(&n), "{headroom}: {n}");
            // The largest n that fits, unless even 1 does not.
            let fits = |n| budget(n) <= usize::try_from(headroom).unwrap_or(0);
            assert!(n == 1 || fits(n), "{headroom}: {n}");
            assert!(n == 64 || !fits(n + 1), "{headroom}: {n}");
        }
    }

    #[test]
    fn a_bind_error_names_the_address() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = taken.local_addr().expect("addr");
        let error = ServeOptions::new()
            .serve(addr, |_| MetricsResponse {
                status: 200,
                content_type: "text/plain",
                content_encoding: None,
                allow: None,
                body: Vec::new(),
            })
            .expect_err("the port is taken");
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        assert!(
            error.to_string().starts_with(&format!("cannot bind {addr}: ")),
            "{error}"
        );
    }
}
