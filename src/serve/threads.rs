//! The server's threads: the accept thread, the admission thread and the
//! workers. See the parent module for how they share the connection table.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, PoisonError};
use std::thread;
use std::time::Instant;

use super::pool::Pending;
use super::{ACCEPT_BACKOFF, ADMIT_WAIT, EVICTION_WAIT, Shared, conn};

/// Accepts connections and queues them for a worker.
///
/// Nothing here waits for long: a burst of connections (an attacker opening
/// hundreds at once) would otherwise overflow the kernel's listen queue of
/// 128, which std does not let us enlarge, and the kernel would drop the SYN
/// of the next client, who then waits a full second for the retransmission.
pub(super) fn accept_loop(listener: TcpListener, shared: &Arc<Shared>) {
    while !shared.is_stopping() {
        match listener.accept() {
            Ok((stream, _)) if !shared.is_stopping() => admit(shared, stream),
            Ok(_) => break,
            Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted) => {}
            Err(_) => {
                // Most likely out of descriptors (EMFILE): free one by
                // evicting a connection, and give its worker a moment to
                // close it, before trying again.
                let mut table = shared.table();
                if table.evict_oldest(Instant::now()) {
                    drop(shared.wait_changed(table, Some(ACCEPT_BACKOFF)));
                } else {
                    drop(table);
                    thread::sleep(ACCEPT_BACKOFF);
                }
            }
        }
    }
    // Close the port before signalling, so that once stop returns the port
    // refuses connections.
    drop(listener);
    shared.background_done();
}

/// Queues a new connection for a worker, making room as `Table::make_room`
/// says, or answers 503 if the queue is full.
fn admit(shared: &Arc<Shared>, stream: TcpStream) {
    let now = Instant::now();
    let mut table = shared.table();
    // Workers' sockets plus queued ones stay within the descriptor budget;
    // a burst can queue as many as there are free workers, plus the queue.
    // Evicted connections close within microseconds, and waiting a little
    // for them keeps a burst of evictions from turning into 503s.
    loop {
        if table.stopping {
            return;
        }
        if table.open_sockets() + table.pending.len() < shared.max_connections + shared.max_pending {
            break;
        }
        let left = EVICTION_WAIT.saturating_sub(now.elapsed());
        if !table.evicting() || left.is_zero() {
            drop(table);
            return reject_busy(shared, stream);
        }
        table = shared.wait_changed(table, Some(left));
    }
    table.pending.push_back(Pending { stream, since: now });
    let start = table.make_room(now, shared.max_connections);
    if table.is_short() {
        shared.notify_changed(&table);
    }
    drop(table);
    shared.work.notify_one();
    if let Some(id) = start {
        start_worker(shared, id);
    }
}

fn start_worker(shared: &Arc<Shared>, id: usize) {
    let for_worker = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name("bareprom-conn".to_owned())
        .spawn(move || worker_loop(&for_worker, id));
    let mut table = shared.table();
    match spawned {
        Ok(handle) => table.handles.push(handle),
        // The queued connections wait for another worker, or their 503.
        Err(_) => table.workers -= 1,
    }
}

/// Counts a worker as running until its thread function returns, however
/// it returns.
struct WorkerExit<'s>(&'s Shared);

impl Drop for WorkerExit<'_> {
    fn drop(&mut self) {
        let mut table = self.0.table();
        table.workers = table.workers.saturating_sub(1);
        drop(table);
        self.0.changed.notify_all();
    }
}

/// Serves queued connections one at a time until the server stops.
fn worker_loop(shared: &Arc<Shared>, id: usize) {
    let _exit = WorkerExit(shared);
    loop {
        let stream = {
            let mut table = shared.table();
            let stream = loop {
                if table.stopping {
                    return;
                }
                if let Some(pending) = table.pending.pop_front() {
                    break Arc::new(pending.stream);
                }
                table = shared.work.wait(table).unwrap_or_else(PoisonError::into_inner);
            };
            table.take(id, &stream, Instant::now());
            stream
        };
        // Only the handler is user code, and conn catches its panics; this
        // keeps a bug of ours from costing a worker.
        let _ = catch_unwind(AssertUnwindSafe(|| conn::run(shared, id, &stream)));
        let ours = {
            let mut table = shared.table();
            let ours = table.release(id);
            shared.notify_changed(&table);
            ours
        };
        // Both references are dropped outside the lock, closing the socket.
        drop(ours);
        drop(stream);
    }
}

/// Waits on behalf of queued connections that no worker can take yet: until
/// a busy connection becomes evictable, or `ADMIT_WAIT`, after which it
/// answers them 503.
pub(super) fn admission_loop(shared: &Arc<Shared>) {
    let mut table = shared.table();
    while !table.stopping {
        let now = Instant::now();
        let start = table.make_room(now, shared.max_connections);
        if let Some(id) = start {
            drop(table);
            start_worker(shared, id);
            table = shared.table();
            continue;
        }
        let mut rejected = 0;
        while table.is_short() && table.pending.front().is_some_and(|p| p.since + ADMIT_WAIT <= now) {
            let Some(pending) = table.pending.pop_front() else {
                break;
            };
            // Written under the lock, which keeps the descriptor bound
            // exact; it never blocks. Counted after the lock is released.
            write_busy(pending.stream);
            rejected += 1;
        }
        // Busy connections become evictable when a writer stalls (known in
        // advance) or when a rendering ends (notified by `set_phase`).
        let wake = if table.is_short() {
            let expiry = table.pending.front().map(|p| p.since + ADMIT_WAIT);
            table.next_evictable().into_iter().chain(expiry).min()
        } else {
            None
        };
        drop(table);
        for _ in 0..rejected {
            shared.count(503);
        }
        table = shared.table();
        if table.stopping {
            break;
        }
        table = match wake.map(|at| at.saturating_duration_since(Instant::now())) {
            Some(left) if left.is_zero() => table,
            timeout => shared.wait_changed(table, timeout),
        };
    }
    drop(table);
    shared.background_done();
}

/// Writes a 503 without ever blocking the calling thread, then closes.
fn reject_busy(shared: &Shared, stream: TcpStream) {
    write_busy(stream);
    shared.count(503);
}

/// The uncounted part of [`reject_busy`].
fn write_busy(mut stream: TcpStream) {
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
}
