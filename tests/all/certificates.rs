//! Certificates made by the tests: a certificate authority of their own, the server
//! certificates it signs, and a TLS client that trusts it and nothing else.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The name the tests' server certificates are for.
pub const SERVER_NAME: &str = "localhost";

pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    certificate: CertificateDer<'static>,
    pem: String,
}

/// A server certificate: its chain and key, in PEM, and its DER to compare with what a
/// handshake presents.
pub struct ServerCertificate {
    pub chain_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

impl ServerCertificate {
    /// Writes the chain and the key where a server reads them.
    pub fn write(&self, cert: &Path, key: &Path) {
        std::fs::write(cert, &self.chain_pem).unwrap();
        std::fs::write(key, &self.key_pem).unwrap();
    }
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "smartcomm tests' CA");
        let certificate = params.self_signed(&key).unwrap();
        TestCa {
            pem: certificate.pem(),
            certificate: certificate.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A new certificate for `SERVER_NAME`, with a key of its own, valid until the start of
    /// `until_year`.
    pub fn server_certificate(&self, until_year: i32) -> ServerCertificate {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![SERVER_NAME.to_string()]).unwrap();
        params.not_after = rcgen::date_time_ymd(until_year, 1, 1);
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        ServerCertificate {
            chain_pem: format!("{}{}", certificate.pem(), self.pem),
            key_pem: key.serialize_pem(),
            der: certificate.der().clone(),
        }
    }

    /// The CA's certificate in PEM, for clients outside the tests (curl).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A client that trusts this CA alone, and speaks HTTP/1.1.
    pub fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.certificate.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsConnector::from(Arc::new(config))
    }
}

/// A TLS connection to `authority` that trusts `connector`'s roots, for `SERVER_NAME`.
pub async fn connect(connector: &TlsConnector, authority: &str) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(authority).await.unwrap();
    let name = ServerName::try_from(SERVER_NAME).unwrap();
    connector
        .connect(name, tcp)
        .await
        .expect("the TLS handshake succeeds")
}

/// The certificate the server presented on `stream`.
pub fn presented(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    let (_, connection) = stream.get_ref();
    connection.peer_certificates().expect("a certificate")[0].clone()
}
