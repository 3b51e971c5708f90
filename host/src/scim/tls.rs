//! HTTPS: the server's certificate and key, read from PEM files, and replaced while the server
//! runs (a renewal needs no restart): each new connection's handshake takes the certificate
//! in use at that moment; connections already open keep theirs. Only HTTP/1.1 is offered.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

/// The certificate new handshakes get.
pub(super) struct Certificate {
    current: RwLock<Arc<CertifiedKey>>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Certificate")
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Certificate {
    /// The certificate and key of `cert_pem` and `key_pem`; a problem names the file it is
    /// in, and never quotes the key.
    pub(super) fn new(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<Certificate>, String> {
        Ok(Arc::new(Certificate {
            current: RwLock::new(Arc::new(certified_key(cert_pem, key_pem)?)),
        }))
    }

    /// Replaces the certificate for the handshakes to come, if the pair serves.
    pub(super) fn replace(&self, cert_pem: &[u8], key_pem: &[u8]) -> Result<(), String> {
        let key = certified_key(cert_pem, key_pem)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        Ok(())
    }

    /// The acceptor of the server's connections.
    pub(super) fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate file is not PEM: {e}"))?;
    if chain.is_empty() {
        return Err("the certificate file holds no CERTIFICATE".into());
    }
    // The key file's problems are named without the parser's words, which may quote a line.
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| {
        "the key file holds no private key in PEM (PKCS#8, PKCS#1 or SEC1)".to_string()
    })?;
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            "the key file's key is not the certificate's (the certificate file's first \
             certificate must be the server's own)"
                .to_string()
        }
        other => format!("the certificate and key cannot serve: {other}"),
    })
}
