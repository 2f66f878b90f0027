//! An LLM client's circuit breaker with its metrics on bareprom. Each
//! breaker registers into the registry it is given; the application
//! includes one per backend with a `backend` constant label. Shared by
//! `examples/circuit_breaker.rs` and its test (`tests/it/ports.rs`)
//! through `#[path]`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bareprom::{CounterVec, Error, Gauge, Histogram, Registry};

// ---- the metrics code ----

/// Buckets for LLM calls: 100 ms to two minutes.
pub(crate) const LLM_BUCKETS: [f64; 11] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];

/// One breaker's metrics. Built once, fallibly; every call after is
/// infallible.
struct Metrics {
    transitions: Arc<CounterVec<2>>,
    requests: Arc<CounterVec<1>>,
    latency: Arc<Histogram>,
    state: Arc<Gauge>,
}

impl Metrics {
    fn new(registry: &Registry) -> Result<Metrics, Error> {
        let metrics = Metrics {
            transitions: registry.register_owned(CounterVec::new(
                "cb_state_transitions_total",
                "Breaker state changes, by old and new state.",
                ["from", "to"],
            ))?,
            requests: registry.register_owned(CounterVec::new(
                "cb_requests_total",
                "Requests through the breaker, by outcome.",
                ["outcome"],
            ))?,
            latency: registry.register_owned(Histogram::with_buckets(
                "cb_request_latency_seconds",
                "Latency of the calls the breaker let through.",
                &LLM_BUCKETS,
            ))?,
            state: registry.register_owned(Gauge::new(
                "cb_current_state",
                "Breaker state: 0 closed, 1 half-open, 2 open.",
            ))?,
        };
        let outcomes = Outcome::ALL.map(|outcome| [outcome.label()]);
        metrics.requests.init_series(outcomes);
        Ok(metrics)
    }

    fn transition(&self, from: State, to: State) {
        self.transitions.with([from.label(), to.label()]).inc();
        self.state.set(to as i64);
    }

    fn request(&self, outcome: Outcome, latency: Option<Duration>) {
        self.requests.with([outcome.label()]).inc();
        if let Some(latency) = latency {
            self.latency.observe(latency.as_secs_f64());
        }
    }
}

/// What became of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    RejectedOpen,
    RejectedHalfOpen,
}

impl Outcome {
    const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::RejectedOpen,
        Outcome::RejectedHalfOpen,
    ];

    fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::RejectedOpen => "rejected_open",
            Outcome::RejectedHalfOpen => "rejected_half_open",
        }
    }
}

// ---- the breaker (stands in for the original's logic) ----

/// The breaker's state; the discriminant is `cb_current_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::HalfOpen => "half_open",
            State::Open => "open",
        }
    }
}

struct Inner {
    state: State,
    failures: u32,
    opened_at: Instant,
    probing: bool,
}

/// Opens after `threshold` failures in a row; after `cooldown` lets one
/// probe through (half-open), whose success closes it again.
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
    metrics: Option<Metrics>,
}

/// A request the breaker let through: report how it went.
#[must_use]
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
}

impl Breaker {
    /// A breaker without metrics: it touches no registry.
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold,
            cooldown,
            inner: Mutex::new(Inner {
                state: State::Closed,
                failures: 0,
                opened_at: Instant::now(),
                probing: false,
            }),
            metrics: None,
        }
    }

    /// A breaker reporting to `registry` (give each breaker its own, e.g.
    /// from `Registry::sub_registry` with a `backend` label).
    pub(crate) fn with_metrics(threshold: u32, cooldown: Duration, registry: &Registry) -> Result<Breaker, Error> {
        Ok(Breaker {
            metrics: Some(Metrics::new(registry)?),
            ..Breaker::new(threshold, cooldown)
        })
    }

    pub(crate) fn state(&self) -> State {
        self.lock().state
    }

    /// Lets a request through at `now`, or rejects it.
    pub(crate) fn admit(&self, now: Instant) -> Result<Permit<'_>, Outcome> {
        let mut inner = self.lock();
        if inner.state == State::Open && now.duration_since(inner.opened_at) >= self.cooldown {
            self.move_to(&mut inner, State::HalfOpen, now);
        }
        let rejected = match inner.state {
            State::Closed => None,
            State::Open => Some(Outcome::RejectedOpen),
            State::HalfOpen if inner.probing => Some(Outcome::RejectedHalfOpen),
            State::HalfOpen => {
                inner.probing = true;
                None
            }
        };
        drop(inner);
        match rejected {
            Some(outcome) => {
                self.metrics.as_ref().inspect(|m| m.request(outcome, None));
                Err(outcome)
            }
            None => Ok(Permit { breaker: self }),
        }
    }

    /// Runs `call` through the breaker, timing it.
    pub(crate) fn call<T, E>(&self, call: impl FnOnce() -> Result<T, E>) -> Result<T, Option<E>> {
        let permit = self.admit(Instant::now()).map_err(|_| None)?;
        let start = Instant::now();
        let result = call();
        permit.finish(result.is_ok(), start.elapsed(), Instant::now());
        result.map_err(Some)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn move_to(&self, inner: &mut Inner, to: State, now: Instant) {
        let from = std::mem::replace(&mut inner.state, to);
        inner.failures = 0;
        inner.probing = false;
        inner.opened_at = now;
        self.metrics.as_ref().inspect(|m| m.transition(from, to));
    }
}

impl Permit<'_> {
    /// Reports the call's result and latency; `now` is when it ended.
    pub(crate) fn finish(self, ok: bool, latency: Duration, now: Instant) {
        let breaker = self.breaker;
        let mut inner = breaker.lock();
        match (inner.state, ok) {
            (State::HalfOpen, true) => breaker.move_to(&mut inner, State::Closed, now),
            (State::HalfOpen, false) => breaker.move_to(&mut inner, State::Open, now),
            (_, true) => inner.failures = 0,
            (_, false) => {
                inner.failures += 1;
                if inner.state == State::Closed && inner.failures >= breaker.threshold {
                    breaker.move_to(&mut inner, State::Open, now);
                }
            }
        }
        drop(inner);
        let outcome = if ok { Outcome::Success } else { Outcome::Failure };
        breaker.metrics.as_ref().inspect(|m| m.request(outcome, Some(latency)));
    }
}

// ---- a scripted run (the example's `--once` and its test) ----

/// Drives `breaker` (threshold 3) through closed → open → half-open →
/// closed from `start`: three failed calls of 2 s open it, a call is
/// rejected open, after the cooldown one probe goes through while a second
/// call is rejected half-open, and the probe's success (0.5 s) closes it.
pub(crate) fn trip_and_recover(breaker: &Breaker, cooldown: Duration, start: Instant) {
    for _ in 0..3 {
        if let Ok(permit) = breaker.admit(start) {
            permit.finish(false, Duration::from_secs(2), start);
        }
    }
    assert_eq!(breaker.admit(start).err(), Some(Outcome::RejectedOpen));
    let later = start + cooldown;
    let Ok(probe) = breaker.admit(later) else {
        panic!("the breaker lets a probe through after its cooldown")
    };
    assert_eq!(breaker.admit(later).err(), Some(Outcome::RejectedHalfOpen));
    probe.finish(true, Duration::from_millis(500), later);
    assert_eq!(breaker.state(), State::Closed);
}
