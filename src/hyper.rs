//! Feature `hyper`: [`MetricsService`] and [`Instrument`] as hyper 1.x
//! services, and [`HyperTimer`] for deadlines timed by a `hyper::rt::Timer`.
//! The only module naming hyper's types; the work is in `middleware.rs`.

use std::borrow::Borrow;
use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::time::Duration;

use http::{Request, Response};

use crate::middleware::{Beside, BesideFuture, Classify, DeadlineTimer, Instrument, Instrumented, MetricsService};
use crate::registry::Registry;
use crate::routes::RouteTable;

impl<B, ResBody, R> hyper::service::Service<Request<B>> for MetricsService<ResBody, R>
where
    ResBody: From<Vec<u8>>,
    R: Borrow<Registry>,
{
    type Response = Response<ResBody>;
    type Error = Infallible;
    type Future = Ready<Result<Response<ResBody>, Infallible>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        ready(Ok(self.respond(&request)))
    }
}

impl<S, B, ResBody, C, T> hyper::service::Service<Request<B>> for Instrument<S, C, T>
where
    S: hyper::service::Service<Request<B>, Response = Response<ResBody>>,
    ResBody: Default,
    C: Classify<B>,
    T: Borrow<RouteTable> + Clone,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Instrumented<S::Future, C::Route, T>;

    fn call(&self, request: Request<B>) -> Self::Future {
        self.boundary.call(request, |request| self.inner.call(request))
    }
}

impl<S, B, ResBody, R> hyper::service::Service<Request<B>> for Beside<S, ResBody, R>
where
    S: hyper::service::Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Unpin,
    ResBody: From<Vec<u8>> + Default,
    R: Borrow<Registry>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BesideFuture<S::Future, ResBody>;

    fn call(&self, request: Request<B>) -> Self::Future {
        if self.is_metrics(&request) {
            BesideFuture::metrics(self.metrics.respond(&request))
        } else {
            BesideFuture::app(self.app.call(request))
        }
    }
}

/// A [`DeadlineTimer`] from any `hyper::rt::Timer`, such as
/// `hyper_util::rt::TokioTimer`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// static ROUTES: bareprom::RouteTable = bareprom::RouteTable::new("");
/// let timer = bareprom::HyperTimer(hyper_util::rt::TokioTimer::new());
/// let service = bareprom::Instrument::new((), &ROUTES).deadline(Duration::from_secs(30), timer);
/// ```
#[derive(Clone, Debug, Default)]
pub struct HyperTimer<T>(pub T);

impl<T: hyper::rt::Timer + Send + Sync> DeadlineTimer for HyperTimer<T> {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.0.sleep(duration)
    }
}
