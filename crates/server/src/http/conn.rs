//! One client connection: serving it over any byte stream (TCP or TLS) with HTTP/1.1, and its limits: the size
//! of the request head, the header-read and keep-alive timeouts, and the request line.

use super::body::Body;
use crate::State;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The limits of every connection.
#[derive(Debug, Clone)]
pub struct ConnConfig {
    /// Connections open at once, over all listeners; one past it is closed as soon as it is accepted.
    pub max_connections: usize,
    /// From the moment the server waits for a request (a new connection, or the first byte after an idle
    /// keep-alive wait) until its whole head has arrived; the TLS handshake counts too.
    pub header_read_timeout: Duration,
    /// How long a connection may sit idle between requests.
    pub keep_alive_timeout: Duration,
    /// The request head (request line and every header) in bytes; past it hyper answers 431.
    pub max_header_bytes: usize,
    /// Header lines in one request; past it hyper answers 431.
    pub max_headers: usize,
    /// The request line's target (path and query) in bytes; past it the answer is 414.
    pub max_request_line: usize,
}

impl Default for ConnConfig {
    fn default() -> ConnConfig {
        ConnConfig {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(60),
            max_header_bytes: 64 * 1024,
            max_headers: 256,
            max_request_line: 16 * 1024,
        }
    }
}

/// hyper's smallest read buffer; the head limit cannot go below it.
const MIN_HEAD_BYTES: usize = 8192;
const NOT_WAITING: u64 = u64::MAX;

/// What the connection is doing, as the watchdog sees it (times in ms since the connection opened).
struct Activity {
    opened: Instant,
    /// Last byte read or written.
    last: AtomicU64,
    /// When the head now being awaited started to be awaited; NOT_WAITING while idle after a request.
    head_from: AtomicU64,
    /// Requests whose response body has not been dropped yet.
    in_flight: AtomicUsize,
    /// Response bodies hyper has started to send.
    sending: AtomicUsize,
}

impl Activity {
    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.head_from.store(NOT_WAITING, Ordering::SeqCst);
        InFlight(self.clone())
    }
}

/// Held by a response body: while one exists, the connection is busy, not idle.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        a.last.store(a.now(), Ordering::SeqCst);
        a.head_from.store(NOT_WAITING, Ordering::SeqCst);
        a.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A stream that notes when bytes move.
struct Watched<S> {
    inner: S,
    act: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut me.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let now = me.act.now();
            me.act.last.store(now, Ordering::SeqCst);
            if me.act.in_flight.load(Ordering::SeqCst) == 0 {
                let _ = me.act.head_from.compare_exchange(NOT_WAITING, now, Ordering::SeqCst, Ordering::SeqCst);
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let r = Pin::new(&mut me.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            me.act.last.store(me.act.now(), Ordering::SeqCst);
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let r = Pin::new(&mut me.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            me.act.last.store(me.act.now(), Ordering::SeqCst);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A response body that keeps its request counted as in flight until hyper has taken all of it.
pub struct Tracked {
    body: Body,
    in_flight: InFlight,
    started: bool,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if self.started {
            self.in_flight.0.sending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let me = self.get_mut();
        if !me.started {
            me.started = true;
            me.in_flight.0.sending.fetch_add(1, Ordering::SeqCst);
        }
        Pin::new(&mut me.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// What answers one request: the server's pipeline, handed down so that the wire layer knows nothing above it.
pub type Handler = fn(
    Arc<State>,
    hyper::Request<hyper::body::Incoming>,
    SocketAddr,
    Option<ossd_errors::Dialect>,
) -> Pin<Box<dyn std::future::Future<Output = hyper::Response<Body>> + Send>>;

/// Serves one connection over any byte stream (a TCP socket, a TLS session, or an in-memory pipe) until the
/// client leaves, a timeout closes it, or `stop` turns true (then the request in progress finishes first).
pub async fn serve_connection<S>(
    state: Arc<State>,
    io: S,
    peer: SocketAddr,
    pinned: Option<ossd_errors::Dialect>,
    cfg: Arc<ConnConfig>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    handler: Handler,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let act = Arc::new(Activity {
        opened: Instant::now(),
        last: AtomicU64::new(0),
        head_from: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        sending: AtomicUsize::new(0),
    });
    let io = Watched { inner: io, act: act.clone() };
    let max_line = cfg.max_request_line;
    // A response whose client stops reading is cut off after the same stall a request body is allowed.
    let send_ms = state.idle_timeout.as_millis() as u64;
    let svc_act = act.clone();
    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let state = state.clone();
        let in_flight = svc_act.begin();
        async move {
            let resp = if req.uri().path_and_query().map(|p| p.as_str().len()).unwrap_or(0) > max_line {
                uri_too_long(&state, &req)
            } else {
                handler(state, req, peer, pinned).await
            };
            Ok::<_, std::convert::Infallible>(resp.map(|body| Tracked { body, in_flight, started: false }))
        }
    });
    let head = cfg.max_header_bytes.max(MIN_HEAD_BYTES);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The watchdog below times the head and the idle wait apart; hyper's own timer would count both as one.
        .header_read_timeout(None)
        .keep_alive(true)
        .max_header_size(head)
        .max_headers(cfg.max_headers.max(1));
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let header_ms = cfg.header_read_timeout.as_millis() as u64;
    let idle_ms = cfg.keep_alive_timeout.as_millis() as u64;
    let tick = Duration::from_millis((header_ms.min(idle_ms) / 4).clamp(10, 1000));
    // Once shutting down, how long the last response may take to be flushed.
    let mut closing: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.changed(), if closing.is_none() => {
                // Stopping (or the server is gone): finish the request in progress; the server bounds the drain.
                conn.as_mut().graceful_shutdown();
                let _ = conn.as_mut().await;
                return;
            }
            _ = tokio::time::sleep(tick) => {
                if let Some(since) = closing {
                    if since.elapsed() > Duration::from_secs(10) {
                        return;
                    }
                    continue;
                }
                let now = act.now();
                if act.in_flight.load(Ordering::SeqCst) > 0 {
                    let stalled = now.saturating_sub(act.last.load(Ordering::SeqCst));
                    if act.sending.load(Ordering::SeqCst) > 0 && stalled > send_ms {
                        tracing::debug!(%peer, "response not read in time: connection closed");
                        return;
                    }
                    continue;
                }
                let head_from = act.head_from.load(Ordering::SeqCst);
                if head_from != NOT_WAITING {
                    if now.saturating_sub(head_from) > header_ms {
                        tracing::debug!(%peer, "request head not received in time: connection closed");
                        return;
                    }
                } else if now.saturating_sub(act.last.load(Ordering::SeqCst)) > idle_ms {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
            }
        }
    }
}

/// 414 for a request line past the limit; the connection is closed after it.
fn uri_too_long(state: &State, req: &hyper::Request<hyper::body::Incoming>) -> hyper::Response<Body> {
    let id = state.request_id();
    tracing::info!(target: "ossd::request", "{id} {} (request line too long) 414 - -", req.method());
    let mut resp = hyper::Response::new(Body::Empty);
    *resp.status_mut() = http::StatusCode::URI_TOO_LONG;
    let h = resp.headers_mut();
    h.insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    h.insert(http::header::SERVER, http::HeaderValue::from_static("ossd"));
    h.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from_static("0"));
    resp
}
