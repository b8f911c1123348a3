//! HTTPS for the client: a connector that opens TCP with hyper-util's HttpConnector and, for `https://` URIs,
//! runs a rustls handshake (ring provider) trusting the system's root certificates plus an optional CA file.
//!
//! System roots (rustls-native-certs) rather than a bundled list: they are the roots the host's administrator
//! maintains (a company CA added there is trusted here too, a distrusted root goes with an OS update, and
//! `SSL_CERT_FILE`/`SSL_CERT_DIR` work as for other tools), and no root list ships inside the binary to go stale.

use crate::error::{ClientErrorKind, Error, Result};
use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A failed TLS handshake (an untrusted or mismatched certificate, no common protocol, …): the request was not
/// sent. The transport reports it as `RequestErrorKind::Tls`.
#[derive(Debug)]
pub struct TlsError(pub String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS handshake failed: {}", self.0)
    }
}

impl std::error::Error for TlsError {}

/// The TLS client settings: the system's roots, and the certificates of `ca_file` when given.
pub fn client_config(ca_file: Option<&Path>) -> Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let bad =
            |why: String| Error::client(ClientErrorKind::InvalidArgument, format!("CA file {}: {why}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("not PEM certificates ({e:?})")))?;
        if certs.is_empty() {
            return Err(bad("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into()));
        }
        for c in certs {
            roots.add(c).map_err(|e| bad(format!("unusable certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::client(ClientErrorKind::InvalidArgument, format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(cfg)))
}

/// Opens connections: plain TCP for `http://`, TCP then TLS for `https://`.
#[derive(Clone)]
pub struct Connector {
    http: HttpConnector,
    tls: Option<TlsConnector>,
    handshake_timeout: Duration,
}

impl Connector {
    /// `tls` is None for a plain-HTTP endpoint.
    pub fn new(connect_timeout: Duration, tls: Option<TlsConnector>) -> Connector {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        http.enforce_http(false);
        Connector { http, tls, handshake_timeout: connect_timeout }
    }
}

/// A connection, plain or TLS.
pub enum Stream {
    Plain(TokioIo<TcpStream>),
    Tls(Box<TokioIo<tokio_rustls::client::TlsStream<TcpStream>>>),
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let https = uri.scheme_str() == Some("https");
        let host = uri.host().unwrap_or("").trim_matches(['[', ']']).to_string();
        let tcp = self.http.call(uri);
        let tls = self.tls.clone();
        let wait = self.handshake_timeout;
        Box::pin(async move {
            let tcp = tcp.await?;
            if !https {
                return Ok(Stream::Plain(tcp));
            }
            let tls = tls.ok_or_else(|| TlsError("an https:// address on a client made for http://".into()))?;
            let name = ServerName::try_from(host.clone())
                .map_err(|_| TlsError(format!("{host:?} is not a valid TLS server name")))?;
            match tokio::time::timeout(wait, tls.connect(name, tcp.into_inner())).await {
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out").into()),
                Ok(Err(e)) => Err(TlsError(e.to_string()).into()),
                Ok(Ok(s)) => Ok(Stream::Tls(Box::new(TokioIo::new(s)))),
            }
        })
    }
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        match self {
            Stream::Plain(s) => s.connected(),
            Stream::Tls(s) => s.inner().get_ref().0.connected(),
        }
    }
}

impl hyper::rt::Read for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, data),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_ca_file_is_a_client_error() {
        let e = client_config(Some(Path::new("/nonexistent/ca.pem"))).err().unwrap();
        assert!(matches!(&e, Error::Client(c) if c.kind == ClientErrorKind::InvalidArgument), "{e}");
        let p = std::env::temp_dir().join(format!("ossd-client-ca-{}.pem", std::process::id()));
        std::fs::write(&p, "no certificate here\n").unwrap();
        let e = client_config(Some(&p)).err().unwrap();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        let _ = std::fs::remove_file(p);
        assert!(client_config(None).is_ok());
    }
}
