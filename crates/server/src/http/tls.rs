//! TLS for the listeners: reads the PEM certificate chain and private key named by `--tls-cert` / `--tls-key`
//! and makes the rustls acceptor (ring provider, TLS 1.2 and 1.3, HTTP/1.1 by ALPN).

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The certificate chain and key files of the HTTPS listeners.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The acceptor for `files`, or a message that names the file and what is wrong with it.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let certs = read_certs(&files.cert)?;
    let key = read_key(&files.key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "--tls-cert {} and --tls-key {} do not make a usable pair: {e}",
                files.cert.display(),
                files.key.display()
            )
        })?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("--tls-cert {}: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--tls-cert {}: not a PEM certificate chain ({e:?})", path.display()))?;
    if certs.is_empty() {
        return Err(format!("--tls-cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("--tls-key {}: {e}", path.display()))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => {
            format!("--tls-key {}: no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC) in it", path.display())
        }
        e => format!("--tls-key {}: not a PEM private key ({e:?})", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("ossd-tls-{}-{name}", ossd_engine::model::random_u64()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn bad_files_are_named_in_the_message() {
        let missing = TlsFiles { cert: "/nonexistent/cert.pem".into(), key: "/nonexistent/key.pem".into() };
        let e = acceptor(&missing).err().unwrap();
        assert!(e.starts_with("--tls-cert /nonexistent/cert.pem"), "{e}");

        let cert = temp("cert.pem", "not a certificate\n");
        let key = temp("key.pem", "not a key\n");
        let e = acceptor(&TlsFiles { cert: cert.clone(), key: key.clone() }).err().unwrap();
        assert!(e.contains("no PEM certificate"), "{e}");

        let cert2 = temp("cert2.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        let e = acceptor(&TlsFiles { cert: cert2.clone(), key: key.clone() }).err().unwrap();
        assert!(e.starts_with("--tls-key") && e.contains("no PEM private key"), "{e}");
        for p in [cert, key, cert2] {
            let _ = std::fs::remove_file(p);
        }
    }
}
