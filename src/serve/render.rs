//! Coalesced rendering: scrapes that arrive while an identical one is being
//! answered wait for its answer instead of calling the handler again, as
//! `client_golang` coalesces concurrent gathers. The body is shared by every
//! connection that writes it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::{MetricsRequest, MetricsResponse};

/// A handler's answer, shared by the connections that asked together.
#[derive(Clone, Debug)]
pub(super) struct Rendered {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) content_encoding: Option<&'static str>,
    pub(super) body: Arc<Vec<u8>>,
    /// Unique per rendering and increasing with time, for the body budget.
    pub(super) id: u64,
}

/// How a scrape's rendering went.
#[derive(Clone, Debug)]
pub(super) enum Outcome {
    Ready(Rendered),
    /// The handler panicked or gave an unsendable response.
    Failed,
    /// `max_renders` different requests were already being rendered.
    Busy,
    /// The rendering took longer than the render timeout.
    TimedOut,
}

/// The request a rendering answers; identical requests share one.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    method: String,
    path: String,
    accept: Option<String>,
    /// The body depends on it (gzip or not), so it is part of the key.
    accept_encoding: Option<String>,
}

impl Key {
    fn of(request: &MetricsRequest<'_>) -> Key {
        Key {
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            accept: request.accept.map(str::to_owned),
            accept_encoding: request.accept_encoding.map(str::to_owned),
        }
    }

    fn matches(&self, request: &MetricsRequest<'_>) -> bool {
        self.method == request.method
            && self.path == request.path
            && self.accept.as_deref() == request.accept
            && self.accept_encoding.as_deref() == request.accept_encoding
    }
}

#[derive(Debug)]
struct Flight {
    key: Key,
    /// `None` until the leader publishes `Ready` or `Failed`.
    result: Mutex<Option<Outcome>>,
    ready: Condvar,
}

/// A finished rendering, remembered while someone holds its body.
#[derive(Debug)]
struct Latest {
    key: Key,
    status: u16,
    content_type: &'static str,
    content_encoding: Option<&'static str>,
    body: Weak<Vec<u8>>,
    id: u64,
}

/// How many finished renderings are remembered (weakly), newest last.
const LATEST: usize = 16;

/// The renderings in progress; at most `max` at once.
#[derive(Debug)]
pub(super) struct Renders {
    flights: Mutex<Vec<Arc<Flight>>>,
    latest: Mutex<Vec<Latest>>,
    max: usize,
    next_id: AtomicU64,
}

impl Renders {
    pub(super) fn new(max: usize) -> Renders {
        Renders {
            flights: Mutex::new(Vec::new()),
            latest: Mutex::new(Vec::new()),
            max: max.max(1),
            next_id: AtomicU64::new(0),
        }
    }

    /// Answers `request`: with `reuse`, the newest rendering of the same
    /// request that a connection is still writing, or [`Outcome::Busy`] if
    /// there is none; without, it joins a rendering of the same request in progress, or becomes its
    /// leader and calls `handler` on this thread. Waiting ends at `timeout`;
    /// a leader whose handler returns later than that also answers
    /// [`Outcome::TimedOut`], since a thread cannot be interrupted.
    pub(super) fn answer(
        &self,
        request: &MetricsRequest<'_>,
        handler: &(dyn Fn(&MetricsRequest<'_>) -> MetricsResponse + Send + Sync),
        is_sendable: fn(&MetricsResponse) -> bool,
        timeout: Duration,
        reuse: bool,
    ) -> Outcome {
        let started = Instant::now();
        if reuse {
            // Rendering another body would break the budget of bodies held.
            return self.newest(request).map_or(Outcome::Busy, Outcome::Ready);
        }
        let (flight, leader) = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(flight) = flights.iter().find(|f| f.key.matches(request)) {
                (Arc::clone(flight), false)
            } else if flights.len() >= self.max {
                return Outcome::Busy;
            } else {
                let flight = Arc::new(Flight {
                    key: Key::of(request),
                    result: Mutex::new(None),
                    ready: Condvar::new(),
                });
                flights.push(Arc::clone(&flight));
                (flight, true)
            }
        };
        if leader {
            // The handler is user code: no lock of ours is held while it runs,
            // and a panic becomes a failure that every waiter shares.
            let response = catch_unwind(AssertUnwindSafe(|| handler(request)));
            let rendered = response.ok().filter(is_sendable).map_or(Outcome::Failed, |response| {
                Outcome::Ready(Rendered {
                    status: response.status,
                    content_type: response.content_type,
                    content_encoding: response.content_encoding,
                    body: Arc::new(response.body),
                    id: self.next_id.fetch_add(1, Ordering::Relaxed),
                })
            });
            self.flights
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|f| !Arc::ptr_eq(f, &flight));
            if let Outcome::Ready(rendered) = &rendered {
                self.remember(&flight.key, rendered);
            }
            *flight.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(rendered.clone());
            flight.ready.notify_all();
            if started.elapsed() > timeout {
                return Outcome::TimedOut;
            }
            rendered
        } else {
            let deadline = started + timeout;
            let mut result = flight.result.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if let Some(rendered) = result.as_ref() {
                    break rendered.clone();
                }
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    return Outcome::TimedOut;
                };
                result = flight
                    .ready
                    .wait_timeout(result, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }
}

impl Renders {
    /// The newest rendering of `request` that someone still holds.
    fn newest(&self, request: &MetricsRequest<'_>) -> Option<Rendered> {
        let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        latest
            .iter()
            .rev()
            .filter(|l| l.key.matches(request))
            .find_map(|entry| {
                Some(Rendered {
                    status: entry.status,
                    content_type: entry.content_type,
                    content_encoding: entry.content_encoding,
                    body: entry.body.upgrade()?,
                    id: entry.id,
                })
            })
    }

    fn remember(&self, key: &Key, rendered: &Rendered) {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        latest.retain(|l| l.body.strong_count() > 0);
        if latest.len() >= LATEST {
            latest.remove(0);
        }
        latest.push(Latest {
            key: Key {
                method: key.method.clone(),
                path: key.path.clone(),
                accept: key.accept.clone(),
                accept_encoding: key.accept_encoding.clone(),
            },
            status: rendered.status,
            content_type: rendered.content_type,
            content_encoding: rendered.content_encoding,
            body: Arc::downgrade(&rendered.body),
            id: rendered.id,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::sync::atomic::AtomicUsize;
    use std::thread;

    fn ok(_: &MetricsResponse) -> bool {
        true
    }

    #[test]
    fn identical_requests_share_one_rendering_and_its_body() {
        let renders = Renders::new(4);
        let calls = AtomicUsize::new(0);
        let entered = Barrier::new(2);
        let release = Barrier::new(2);
        let handler = |_: &MetricsRequest<'_>| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                entered.wait();
                release.wait();
            }
            MetricsResponse {
                status: 200,
                content_type: "text/plain",
                content_encoding: None,
                allow: None,
                body: b"up 1\n".to_vec(),
            }
        };
        let request = MetricsRequest::new("GET", "/metrics");
        let bodies = thread::scope(|scope| {
            let leader = scope.spawn(|| renders.answer(&request, &handler, ok, Duration::from_secs(5), false));
            entered.wait();
            // Joins the leader's flight: the handler is not called again.
            let follower = scope.spawn(|| renders.answer(&request, &handler, ok, Duration::from_secs(5), false));
            // Another Accept is another rendering; the cap of 4 allows it.
            let other = renders.answer(
                &MetricsRequest {
                    accept: Some("application/openmetrics-text"),
                    ..request
                },
                &handler,
                ok,
                Duration::from_secs(5),
                false,
            );
            assert!(matches!(other, Outcome::Ready(_)));
            // So is another Accept-Encoding: a gzipped body is not a plain one.
            let gzip = renders.answer(
                &MetricsRequest {
                    accept_encoding: Some("gzip"),
                    ..request
                },
                &handler,
                ok,
                Duration::from_secs(5),
                false,
            );
            assert!(matches!(gzip, Outcome::Ready(_)));
            for _ in 0..500 {
                if Arc::strong_count(&renders.flights.lock().unwrap_or_else(PoisonError::into_inner)[0]) > 2 {
                    break;
                }
                thread::sleep(Duration::from_millis(2));
            }
            release.wait();
            [leader.join().expect("leader"), follower.join().expect("follower")]
        });
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let [Outcome::Ready(a), Outcome::Ready(b)] = bodies else {
            panic!("both succeed: {bodies:?}");
        };
        assert!(Arc::ptr_eq(&a.body, &b.body) && a.id == b.id);
    }

    #[test]
    fn the_cap_answers_busy_and_slow_renderings_time_out() {
        let renders = Renders::new(1);
        let entered = Barrier::new(2);
        let release = Barrier::new(2);
        let slow = |_: &MetricsRequest<'_>| {
            entered.wait();
            release.wait();
            thread::sleep(Duration::from_millis(50));
            MetricsResponse {
                status: 200,
                content_type: "text/plain",
                content_encoding: None,
                allow: None,
                body: Vec::new(),
            }
        };
        let request = MetricsRequest::new("GET", "/metrics");
        thread::scope(|scope| {
            let leader = scope.spawn(|| renders.answer(&request, &slow, ok, Duration::from_millis(10), false));
            entered.wait();
            let other = MetricsRequest {
                accept: Some("x"),
                ..request
            };
            assert!(matches!(
                renders.answer(&other, &slow, ok, Duration::ZERO, false),
                Outcome::Busy
            ));
            release.wait();
            assert!(matches!(leader.join().expect("leader"), Outcome::TimedOut));
        });
        let panics = |_: &MetricsRequest<'_>| -> MetricsResponse { panic!("on purpose") };
        assert!(matches!(
            renders.answer(&request, &panics, ok, Duration::from_secs(1), false),
            Outcome::Failed
        ));
    }

    #[test]
    fn reuse_shares_the_newest_rendering_while_it_is_held() {
        let renders = Renders::new(1);
        let calls = AtomicUsize::new(0);
        let handler = |_: &MetricsRequest<'_>| MetricsResponse {
            status: 200,
            content_type: "text/plain",
            content_encoding: None,
            allow: None,
            body: calls.fetch_add(1, Ordering::SeqCst).to_string().into_bytes(),
        };
        let request = MetricsRequest::new("GET", "/metrics");
        let answer = |reuse| match renders.answer(&request, &handler, ok, Duration::from_secs(1), reuse) {
            Outcome::Ready(rendered) => rendered,
            other => panic!("{other:?}"),
        };
        let first = answer(false);
        let shared = answer(true);
        assert!(Arc::ptr_eq(&first.body, &shared.body));
        assert_eq!(answer(false).body.as_slice(), b"1", "without reuse it renders");
        // The newest held one is shared: "1" was dropped at once.
        assert_eq!(answer(true).body.as_slice(), b"0");
        drop((first, shared));
        // Nothing is held: reusing would mean rendering another body.
        assert!(matches!(
            renders.answer(&request, &handler, ok, Duration::from_secs(1), true),
            Outcome::Busy
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
