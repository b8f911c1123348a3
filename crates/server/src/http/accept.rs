//! Accept loops: one per listener, TLS handshakes, the connection cap, and handing each connection to
//! [`conn::serve_connection`] with the handler that answers its requests.

use super::conn::{self, Handler};
use super::util;
use crate::State;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What every accept loop shares: the state, the connection limits and the connection slots.
pub struct Shared {
    pub state: Arc<State>,
    pub conn: Arc<conn::ConnConfig>,
    pub slots: Arc<tokio::sync::Semaphore>,
    /// What answers each request.
    pub handler: Handler,
    /// When (seconds since the epoch) a refusal was last logged.
    pub refused: Arc<AtomicU64>,
}

/// Accepts connections on one listener (HTTPS when it has an acceptor; optionally pinned to a dialect) until
/// told to stop, then lets its open connections finish. Past `--max-connections` a new connection is closed at
/// once: a refusal then costs no more than the accept, so a flood cannot make refusing itself the bottleneck.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    pinned: Option<ossd_errors::Dialect>,
    shared: Shared,
    mut stop_rx: tokio::sync::watch::Receiver<bool>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop_rx.changed() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = shared.slots.clone().try_acquire_owned() else {
                    drop(stream);
                    let now = util::now_secs().max(0) as u64;
                    if shared.refused.swap(now, Ordering::Relaxed) != now {
                        tracing::warn!(%peer, limit = shared.conn.max_connections, "connection refused: --max-connections reached");
                    }
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = shared.state.clone();
                let cfg = shared.conn.clone();
                let stop = stop_rx.clone();
                let tls = tls.clone();
                let handler = shared.handler;
                tasks.spawn(async move {
                    let _slot = slot;
                    match tls {
                        None => conn::serve_connection(state, stream, peer, pinned, cfg, stop, handler).await,
                        Some(acceptor) => {
                            match tokio::time::timeout(cfg.header_read_timeout, acceptor.accept(stream)).await {
                                Ok(Ok(stream)) => conn::serve_connection(state, stream, peer, pinned, cfg, stop, handler).await,
                                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                            }
                        }
                    }
                });
                while tasks.try_join_next().is_some() {}
            }
        }
    }
    while tasks.join_next().await.is_some() {}
}
