//! The connection table: accepted connections waiting for a worker, and one
//! slot per worker thread saying what its connection is doing.
//!
//! Everything here runs under the server's one mutex and never blocks: no
//! system call but `shutdown` on an evicted socket, which returns at once.

use std::collections::VecDeque;
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A writer whose client has not accepted one [`WRITE_CHUNK`] of its
/// response within this long is evictable, like an idle connection.
pub(super) const STALL: Duration = Duration::from_secs(1);
/// Responses are written in pieces of this size; each finished piece counts
/// as progress. With [`STALL`] this makes the minimum throughput a client must
/// sustain to keep its slot against newcomers: 64 KiB per second.
pub(super) const WRITE_CHUNK: usize = 64 * 1024;
/// How many distinct rendered bodies connections may be writing before a
/// scrape shares the newest of them instead of rendering anew (see
/// `Renders::answer`); stalled writers of older bodies are cut off first. So
/// the bodies held for responses are at most this plus one per rendering in
/// progress, however many clients are slow.
pub(super) const HELD_BODIES: usize = 4;
/// The most accepted connections that may wait for a worker.
pub(super) const MAX_PENDING: usize = 32;

/// An accepted connection that no worker has taken yet.
pub(super) struct Pending {
    pub(super) stream: TcpStream,
    pub(super) since: Instant,
}

/// What a worker's connection is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Phase {
    /// The worker has no connection.
    #[default]
    Free,
    /// Waiting for a request head (or draining after a refusal) since then.
    Waiting(Instant),
    /// Inside the handler or waiting for a shared rendering: not evictable.
    Answering,
    /// Writing a response; the current piece started at `piece_started`.
    /// `body` names the shared rendering being written, if any.
    /// `pipelined`: the request arrived before the previous response was
    /// written, which no scraper does; such a writer is evictable at once.
    Writing {
        piece_started: Instant,
        body: Option<u64>,
        pipelined: bool,
    },
}

#[derive(Default)]
struct Slot {
    /// The worker's connection, shared with the worker so that others can
    /// shut it down; there is no second descriptor.
    stream: Option<Arc<TcpStream>>,
    phase: Phase,
    /// Shut down by someone else; the worker notices at its next I/O.
    evicted: bool,
    /// Evicted while a request had already arrived, and writing its answer
    /// (the last on this connection): its body still counts as held.
    finishing: bool,
}

impl Slot {
    /// When this connection became (or will become) evictable.
    fn evictable_from(&self) -> Option<Instant> {
        if self.evicted || self.stream.is_none() {
            return None;
        }
        match self.phase {
            Phase::Waiting(since) => Some(since),
            Phase::Writing {
                piece_started,
                pipelined,
                ..
            } => Some(if pipelined {
                piece_started
            } else {
                piece_started + STALL
            }),
            Phase::Free | Phase::Answering => None,
        }
    }

    /// Shuts the connection down. One waiting for a request is only shut
    /// for reading: its worker's read then returns end-of-file at once, or
    /// a request that had already arrived but was not yet read, which is
    /// answered before the connection closes. That keeps a flood of
    /// connections from cutting off a scraper whose request was in flight.
    fn evict(&mut self) {
        self.evicted = true;
        // A finishing connection evicted again is writing, so it is shut
        // both ways below and lets go of its body at once.
        self.finishing = false;
        let how = match self.phase {
            Phase::Waiting(_) => Shutdown::Read,
            _ => Shutdown::Both,
        };
        self.shut(how);
    }

    fn shut(&self, how: Shutdown) {
        if let Some(stream) = &self.stream {
            // An error means the socket is already closed, which is the goal.
            let _ = stream.shutdown(how);
        }
    }
}

/// The server's mutable state, behind `Shared::table`.
#[derive(Default)]
pub(super) struct Table {
    pub(super) stopping: bool,
    /// How many of the accept and admission threads are still running.
    pub(super) background: usize,
    /// Worker threads started and not yet finished.
    pub(super) workers: usize,
    /// Threads waiting for `Shared::changed`.
    pub(super) watchers: usize,
    pub(super) pending: VecDeque<Pending>,
    slots: Vec<Slot>,
    pub(super) handles: Vec<JoinHandle<()>>,
}

impl Table {
    /// An empty table whose `background` threads are about to start.
    pub(super) fn new(background: usize) -> Table {
        Table {
            background,
            ..Table::default()
        }
    }

    /// Makes sure every pending connection has a worker coming for it: an
    /// idle worker, a worker whose connection was evicted, or a new worker.
    /// Evicts the connection that has been evictable longest as needed.
    /// Returns the id of a worker to start (already counted), if one is due.
    pub(super) fn make_room(&mut self, now: Instant, max_workers: usize) -> Option<usize> {
        let mut coming = self.coming();
        let mut start = None;
        if self.pending.len() > coming && self.workers < max_workers {
            self.workers += 1;
            // Workers run until the server stops, so ids are never reused.
            self.slots.push(Slot::default());
            start = Some(self.slots.len() - 1);
            coming += 1;
        }
        while self.pending.len() > coming && self.evict_oldest(now) {
            coming += 1;
        }
        start
    }

    /// Sockets the workers hold, evicted ones included.
    pub(super) fn open_sockets(&self) -> usize {
        self.slots.iter().filter(|s| s.stream.is_some()).count()
    }

    /// Whether some worker's connection was evicted but not yet closed.
    pub(super) fn evicting(&self) -> bool {
        self.slots.iter().any(|s| s.stream.is_some() && s.evicted)
    }

    /// Whether some queued connection has no worker coming for it.
    pub(super) fn is_short(&self) -> bool {
        self.pending.len() > self.coming()
    }

    /// Workers that will take a queued connection without further help:
    /// those starting, idle or between connections, and those whose
    /// connection was evicted.
    fn coming(&self) -> usize {
        let keeping = self.slots.iter().filter(|s| s.stream.is_some() && !s.evicted).count();
        self.workers.saturating_sub(keeping)
    }

    /// Evicts the connection evictable longest; false if none is evictable.
    pub(super) fn evict_oldest(&mut self, now: Instant) -> bool {
        let oldest = self
            .slots
            .iter_mut()
            .filter_map(|slot| {
                slot.evictable_from()
                    .filter(|&from| from <= now)
                    .map(|from| (from, slot))
            })
            .min_by_key(|(from, _)| *from);
        match oldest {
            Some((_, slot)) => {
                slot.evict();
                true
            }
            None => false,
        }
    }

    /// The earliest time a busy connection becomes evictable, if any will.
    pub(super) fn next_evictable(&self) -> Option<Instant> {
        self.slots.iter().filter_map(Slot::evictable_from).min()
    }

    /// Gives worker `id` its next connection.
    pub(super) fn take(&mut self, id: usize, stream: &Arc<TcpStream>, now: Instant) {
        if let Some(slot) = self.slots.get_mut(id) {
            *slot = Slot {
                stream: Some(Arc::clone(stream)),
                phase: Phase::Waiting(now),
                evicted: false,
                finishing: false,
            };
        }
    }

    /// Frees worker `id`'s slot; returns the table's reference to the socket
    /// so that the caller closes it after releasing the lock.
    pub(super) fn release(&mut self, id: usize) -> Option<Arc<TcpStream>> {
        let slot = self.slots.get_mut(id)?;
        slot.phase = Phase::Free;
        slot.evicted = false;
        slot.finishing = false;
        slot.stream.take()
    }

    /// Sets worker `id`'s phase; false if its connection was evicted or the
    /// server is stopping, in which case the connection must close.
    pub(super) fn set_phase(&mut self, id: usize, phase: Phase) -> bool {
        if self.stopping {
            return false;
        }
        let Some(slot) = self.slots.get_mut(id) else {
            return false;
        };
        if slot.evicted {
            // The last answer of an evicted connection is still recorded, so
            // that its body counts against the budget.
            if matches!(phase, Phase::Writing { .. }) {
                slot.phase = phase;
                slot.finishing = true;
            }
            return false;
        }
        slot.phase = phase;
        if let Phase::Writing {
            piece_started,
            body: Some(_),
            ..
        } = phase
        {
            self.shed_stalled(HELD_BODIES, piece_started);
        }
        true
    }

    /// Whether worker `id`'s connection was evicted (or the server stops).
    pub(super) fn is_evicted(&self, id: usize) -> bool {
        self.stopping || self.slots.get(id).is_none_or(|s| s.evicted)
    }

    /// Records a finished piece of the response worker `id` is writing.
    pub(super) fn progressed(&mut self, id: usize, now: Instant) -> bool {
        let stopping = self.stopping;
        let Some(slot) = self.slots.get_mut(id) else {
            return false;
        };
        // Recorded for a finishing connection too, so that it is not taken
        // for stalled while its client reads.
        if let Phase::Writing { piece_started, .. } = &mut slot.phase {
            *piece_started = now;
        }
        !slot.evicted && !stopping
    }

    /// The distinct bodies being written by connections not evicted (or
    /// finishing their last answer),
    /// oldest first (body ids grow with time).
    fn bodies_written(&self) -> Vec<u64> {
        let mut bodies: Vec<u64> = self
            .slots
            .iter()
            .filter(|s| !s.evicted || s.finishing)
            .filter_map(|s| match s.phase {
                Phase::Writing { body, .. } => body,
                _ => None,
            })
            .collect();
        bodies.sort_unstable();
        bodies.dedup();
        bodies
    }

    /// Whether [`HELD_BODIES`] distinct bodies are being written even after
    /// cutting off stalled writers; a scrape should then share the newest
    /// rendering rather than add another.
    pub(super) fn bodies_full(&mut self, now: Instant) -> bool {
        self.shed_stalled(HELD_BODIES - 1, now);
        self.bodies_written().len() >= HELD_BODIES
    }

    /// While more than `limit` distinct bodies are being written, cuts off
    /// the writers of the oldest ones whose writers have all stalled (no
    /// piece accepted for [`STALL`]). A client still reading is never cut
    /// off for this.
    fn shed_stalled(&mut self, limit: usize, now: Instant) {
        let bodies = self.bodies_written();
        let mut excess = bodies.len().saturating_sub(limit);
        for body in bodies {
            if excess == 0 {
                return;
            }
            let writes = |slot: &Slot| {
                (!slot.evicted || slot.finishing)
                    && matches!(slot.phase, Phase::Writing { body: Some(b), .. } if b == body)
            };
            let stalled = |slot: &Slot| matches!(slot.phase, Phase::Writing { piece_started, .. } if piece_started + STALL <= now);
            if self.slots.iter().filter(|s| writes(s)).all(stalled) {
                for slot in self.slots.iter_mut().filter(|s| writes(s)) {
                    slot.evict();
                }
                excess -= 1;
            }
        }
    }

    /// Shuts down every connection, for `stop`.
    pub(super) fn shut_down_all(&mut self) {
        self.stopping = true;
        for slot in &mut self.slots {
            slot.evicted = true;
            slot.shut(Shutdown::Both);
        }
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair(listener: &TcpListener) -> Arc<TcpStream> {
        let _client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        Arc::new(listener.accept().expect("accept").0)
    }

    #[test]
    fn the_longest_evictable_goes_first_and_answering_never() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut table = Table::default();
        let t0 = Instant::now();
        for id in 0..3 {
            table.slots.push(Slot::default());
            table.take(id, &pair(&listener), t0);
        }
        assert!(table.set_phase(0, Phase::Answering));
        assert!(table.set_phase(1, Phase::Waiting(t0 + Duration::from_millis(5))));
        let writing = Phase::Writing {
            piece_started: t0,
            body: None,
            pipelined: false,
        };
        assert!(table.set_phase(2, writing));
        // The writer is evictable only a whole STALL after its piece began.
        assert_eq!(table.next_evictable(), Some(t0 + Duration::from_millis(5)));
        assert!(table.evict_oldest(t0 + Duration::from_millis(10)));
        assert!(!table.set_phase(1, Phase::Answering), "slot 1 was evicted");
        assert!(!table.evict_oldest(t0 + Duration::from_millis(10)));
        assert!(table.evict_oldest(t0 + STALL));
        assert!(!table.progressed(2, t0 + STALL));
        assert!(!table.evict_oldest(t0 + STALL * 10), "slot 0 is answering");
        // A writer answering a pipelined request is evictable at once.
        table.slots.push(Slot::default());
        table.take(3, &pair(&listener), t0);
        let pipelined = Phase::Writing {
            piece_started: t0 + STALL,
            body: None,
            pipelined: true,
        };
        assert!(table.set_phase(3, pipelined));
        assert!(table.evict_oldest(t0 + STALL));
    }

    #[test]
    fn stalled_writers_of_old_bodies_are_cut_off_first() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut table = Table::default();
        let t0 = Instant::now();
        for id in 0..6 {
            table.slots.push(Slot::default());
            table.take(id, &pair(&listener), t0);
        }
        let writing = |body, piece_started| Phase::Writing {
            piece_started,
            body: Some(body),
            pipelined: false,
        };
        // Body 7 has one stalled and one progressing writer, 8 and 9 one
        // stalled writer each, 10 a progressing one.
        let later = t0 + STALL;
        for (id, body, started) in [(0, 7, t0), (1, 7, later), (2, 8, t0), (3, 9, t0), (4, 10, later)] {
            assert!(table.set_phase(id, writing(body, started)));
        }
        assert!(table.slots.iter().all(|s| !s.evicted), "four bodies are allowed");
        // Making room for a fifth: 7 is still being read, so 8 goes.
        assert!(!table.bodies_full(later));
        let evicted: Vec<bool> = table.slots.iter().map(|s| s.evicted).collect();
        assert_eq!(evicted, [false, false, true, false, false, false]);
        assert!(table.set_phase(5, writing(11, later)));
        // Later every writer of 7 (the oldest) has stalled.
        assert!(!table.bodies_full(later + STALL));
        let evicted: Vec<bool> = table.slots.iter().map(|s| s.evicted).collect();
        assert_eq!(evicted, [true, true, true, false, false, false]);
    }

    #[test]
    fn the_last_answer_of_an_evicted_connection_counts_against_the_budget() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut table = Table::default();
        let t0 = Instant::now();
        table.slots.push(Slot::default());
        table.take(0, &pair(&listener), t0);
        assert!(table.evict_oldest(t0));
        let writing = Phase::Writing {
            piece_started: t0,
            body: Some(3),
            pipelined: false,
        };
        assert!(!table.set_phase(0, writing), "evicted");
        assert_eq!(table.bodies_written(), [3]);
        assert!(!table.progressed(0, t0 + STALL));
        // Progress keeps it from counting as stalled.
        table.shed_stalled(0, t0 + STALL);
        assert_eq!(table.bodies_written(), [3]);
        table.shed_stalled(0, t0 + STALL * 2);
        assert!(table.bodies_written().is_empty());
    }
}
