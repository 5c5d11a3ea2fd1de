//! Serving HTTP/1.1 connection by connection, so that a fault can kill one connection and shutting down
//! aborts every connection (not only the accept loop) — within limits: a read time-out on request heads
//! (and, in the routes, on bodies) and a bound on the connections served at once, so that slow or idle
//! clients never hold the emulator.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Sleep;

/// How long a client may take to send a request's head (and, in the routes, its body), and how many
/// connections are served at once across the emulator's listeners; more wait to be accepted.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub(crate) read_timeout: Duration,
    slots: Arc<Semaphore>,
}

impl Limits {
    pub(crate) fn new(read_timeout: Duration, max_connections: usize) -> Self {
        Limits {
            read_timeout,
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
        }
    }

    /// Waits for a free connection slot; the connection holds it until it ends.
    pub(crate) async fn slot(&self) -> OwnedSemaphorePermit {
        match self.slots.clone().acquire_owned().await {
            Ok(permit) => permit,
            // The semaphore is never closed; should it be, serve without a bound rather than stop.
            Err(_) => Arc::new(Semaphore::new(1))
                .acquire_owned()
                .await
                .unwrap_or_else(|_| unreachable!("a new semaphore is open")),
        }
    }
}

/// A switch a handler can flip to close its connection without answering. Handlers find it in the request
/// extensions.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnControl(Arc<AtomicBool>);

impl ConnControl {
    /// From now on every write on the connection fails, so the answer is never sent and the connection
    /// closes.
    pub(crate) fn kill(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_killed(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A stream whose writes fail once its [`ConnControl`] is killed.
struct KillableIo<S> {
    inner: S,
    control: ConnControl,
}

fn killed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by fault injection",
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for KillableIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for KillableIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.control.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.control.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves one connection with `router` until the client, a fault or the read time-out closes it.
pub(crate) async fn serve_connection<S>(stream: S, router: Router, read_timeout: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let control = ConnControl::default();
    let io = KillableIo {
        inner: stream,
        control: control.clone(),
    };
    let service = TowerToHyperService::new(router);
    let per_request = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(control.clone());
        service.call(req)
    });
    let result = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(read_timeout)
        .serve_connection(TokioIo::new(io), per_request)
        .await;
    if let Err(err) = result {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}

/// Accepts plain-HTTP connections forever, as many at once as `limits` allow. Dropping (aborting) this future
/// aborts every connection.
pub(crate) async fn serve_http(listener: TcpListener, router: Router, limits: Limits) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, _peer)) => {
                // Accepted, then served once a slot is free (a listener waiting in `accept` holds none).
                let slot = limits.slot().await;
                // Answers are small: send them at once rather than waiting for Nagle.
                let _ = stream.set_nodelay(true);
                let (router, read_timeout) = (router.clone(), limits.read_timeout);
                connections.spawn(async move {
                    serve_connection(stream, router, read_timeout).await;
                    drop(slot);
                });
            }
            Err(err) => {
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// A body that sends its first part, gives the connection time to flush it, then fails, which makes hyper
/// close the connection short of the advertised `Content-Length`.
pub(crate) struct TruncatedBody {
    first: Option<Bytes>,
    pause: Option<Pin<Box<Sleep>>>,
    control: Option<ConnControl>,
}

impl TruncatedBody {
    pub(crate) fn new(first: Bytes, control: Option<ConnControl>) -> Self {
        Self {
            first: Some(first),
            pause: None,
            control,
        }
    }
}

impl Body for TruncatedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        let pause = self
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(50))));
        ready!(pause.as_mut().poll(cx));
        if let Some(control) = &self.control {
            control.kill();
        }
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "body truncated by fault injection",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
