//! The instrumented response future: polls the inner future under
//! `catch_unwind`, races it against the deadline, and records the request
//! exactly once, whichever way it ends (answered, panicked, timed out, or
//! dropped unfinished).

use std::any::Any;
use std::borrow::Borrow;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Method, Response, StatusCode};

use super::{PanicHook, PanicReport, panic_message, report, status_only};
use crate::family::Child;
use crate::gauge::GaugeCell;
use crate::routes::{CANCELLED_STATUS, RouteTable, UNMATCHED_ROUTE};

/// The response future of an [`Instrument`](crate::Instrument)ed service.
///
/// It resolves to the inner future's output, or to a 500 (panic) or 504
/// (deadline) response; dropped unfinished, it records the request as
/// [`CANCELLED_STATUS`].
///
/// # Examples
///
/// ```
/// // The `Future` type of `bareprom::Instrument<S>` as a hyper or tower service:
/// type Answer<F> = bareprom::Instrumented<F, &'static str, &'static bareprom::RouteTable>;
/// ```
pub struct Instrumented<F: Future, R: AsRef<str>, T: Borrow<RouteTable>> {
    state: State<F>,
    /// Present until the request is recorded.
    progress: Option<InProgress<R, T>>,
    deadline: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

pub(super) enum State<F: Future> {
    Running(Pin<Box<F>>),
    /// The answer is known (a panic in `call`) and already recorded.
    Answered(Option<F::Output>),
}

/// One poll of the inner future, raced against the deadline.
enum Polled<T> {
    Ready(T),
    Pending,
    TimedOut,
}

/// The request's labels and in-flight handle, until it is recorded.
pub(super) struct InProgress<R, T> {
    table: T,
    method: Method,
    /// `None` when the classifier panicked.
    route: Option<R>,
    gauge: Child<GaugeCell>,
    start: Instant,
    hook: Option<PanicHook>,
}

impl<R: AsRef<str>, T: Borrow<RouteTable>> InProgress<R, T> {
    pub(super) fn new(
        table: T,
        method: Method,
        route: Option<R>,
        gauge: Child<GaugeCell>,
        start: Instant,
        hook: Option<PanicHook>,
    ) -> Self {
        InProgress {
            table,
            method,
            route,
            gauge,
            start,
            hook,
        }
    }

    fn route(&self) -> &str {
        self.route.as_ref().map_or(UNMATCHED_ROUTE, AsRef::as_ref)
    }

    fn finish(self, status: u16) {
        self.gauge.dec();
        let route = self.route();
        self.table
            .borrow()
            .record(self.method.as_str(), route, status, self.start.elapsed());
    }

    /// Reports and counts a panic, records the request as 500, and gives
    /// the 500 to send.
    pub(super) fn panicked<B: Default>(self, payload: &(dyn Any + Send)) -> Response<B> {
        let route = self.route();
        report(
            self.hook.as_ref(),
            &PanicReport {
                method: self.method.as_str(),
                route,
                message: panic_message(payload),
            },
        );
        self.table.borrow().record_panic(self.method.as_str(), route);
        self.finish(500);
        status_only(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl<F: Future, R: AsRef<str>, T: Borrow<RouteTable>> Instrumented<F, R, T> {
    pub(super) fn new(
        state: State<F>,
        progress: Option<InProgress<R, T>>,
        deadline: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    ) -> Self {
        Instrumented {
            state,
            progress,
            deadline,
        }
    }
}

// Nothing is pinned in place: the inner future is boxed, and the rest is
// moved freely.
impl<F: Future, R: AsRef<str>, T: Borrow<RouteTable>> Unpin for Instrumented<F, R, T> {}

impl<F, ResBody, E, R, T> Future for Instrumented<F, R, T>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: Default,
    R: AsRef<str>,
    T: Borrow<RouteTable>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let future = match &mut this.state {
            State::Running(future) => future,
            // Polled after it finished (a broken executor): answer 500 again
            // rather than panic.
            State::Answered(answer) => {
                return Poll::Ready(
                    answer
                        .take()
                        .unwrap_or_else(|| Ok(status_only(StatusCode::INTERNAL_SERVER_ERROR))),
                );
            }
        };
        // The deadline's sleep is polled inside the same `catch_unwind`: a
        // user's timer may panic too.
        let deadline = &mut this.deadline;
        let polled = catch_unwind(AssertUnwindSafe(|| match future.as_mut().poll(cx) {
            Poll::Ready(output) => Polled::Ready(output),
            Poll::Pending if deadline.as_mut().is_some_and(|d| d.as_mut().poll(cx).is_ready()) => Polled::TimedOut,
            Poll::Pending => Polled::Pending,
        }));
        let (answer, status) = match polled {
            Ok(Polled::Ready(Ok(response))) => {
                let status = response.status().as_u16();
                (Ok(response), status)
            }
            Ok(Polled::Ready(Err(e))) => (Err(e), 500),
            Ok(Polled::Pending) => return Poll::Pending,
            Ok(Polled::TimedOut) => (Ok(status_only(StatusCode::GATEWAY_TIMEOUT)), 504),
            Err(payload) => {
                this.drop_inner();
                let answer = match this.progress.take() {
                    Some(progress) => progress.panicked(&*payload),
                    None => status_only(StatusCode::INTERNAL_SERVER_ERROR),
                };
                return Poll::Ready(Ok(answer));
            }
        };
        this.drop_inner();
        if let Some(progress) = this.progress.take() {
            progress.finish(status);
        }
        Poll::Ready(answer)
    }
}

impl<F: Future, R: AsRef<str>, T: Borrow<RouteTable>> Instrumented<F, R, T> {
    /// Drops the inner future now (a timed-out or panicked handler must not
    /// keep its resources), catching a panic in its destructor.
    fn drop_inner(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Answered(None));
        drop(catch_unwind(AssertUnwindSafe(move || drop(state))));
    }
}

impl<F: Future, R: AsRef<str>, T: Borrow<RouteTable>> Drop for Instrumented<F, R, T> {
    fn drop(&mut self) {
        // Dropped before an answer: the client went away (or the server shut
        // down). Recorded before the inner future is dropped, so a panicking
        // destructor there cannot skip it.
        if let Some(progress) = self.progress.take() {
            progress.finish(CANCELLED_STATUS);
        }
    }
}

impl<F: Future, R: AsRef<str>, T: Borrow<RouteTable>> fmt::Debug for Instrumented<F, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumented")
            .field("finished", &self.progress.is_none())
            .finish_non_exhaustive()
    }
}

/// The response future of a [`Beside`](crate::Beside): the exposition, or
/// the application's future.
///
/// # Examples
///
/// ```
/// type Answer<F> = bareprom::BesideFuture<F, Vec<u8>>;
/// ```
pub struct BesideFuture<F, ResBody> {
    answer: Either<F, ResBody>,
}

enum Either<F, ResBody> {
    App(F),
    Metrics(Option<Response<ResBody>>),
}

impl<F, ResBody> BesideFuture<F, ResBody> {
    pub(crate) fn app(future: F) -> Self {
        BesideFuture {
            answer: Either::App(future),
        }
    }

    pub(crate) fn metrics(response: Response<ResBody>) -> Self {
        BesideFuture {
            answer: Either::Metrics(Some(response)),
        }
    }
}

impl<F, ResBody, E> Future for BesideFuture<F, ResBody>
where
    F: Future<Output = Result<Response<ResBody>, E>> + Unpin,
    ResBody: Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match &mut self.get_mut().answer {
            Either::App(future) => Pin::new(future).poll(cx),
            Either::Metrics(response) => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| status_only(StatusCode::INTERNAL_SERVER_ERROR)))),
        }
    }
}

impl<F, ResBody> Unpin for BesideFuture<F, ResBody> {}

impl<F, ResBody> fmt::Debug for BesideFuture<F, ResBody> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BesideFuture").finish_non_exhaustive()
    }
}
