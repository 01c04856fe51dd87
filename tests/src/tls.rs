//! rustls configurations (ring provider) built from the test certificates.

use crate::certs;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::Path;
use std::sync::Arc;

/// ALPN id for HTTP/2.
pub const H2: &str = "h2";
/// ALPN id for HTTP/1.1.
pub const HTTP11: &str = "http/1.1";

/// The ring crypto provider (the workspace never builds aws-lc).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_certs(path: &Path) -> Vec<CertificateDer<'static>> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    assert!(!certs.is_empty(), "no certificate in {}", path.display());
    certs
}

fn load_key(path: &Path) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn alpn_ids(alpn: &[&str]) -> Vec<Vec<u8>> {
    alpn.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// A server config presenting `server.pem`, offering `alpn` (in preference order).
pub fn server_config(alpn: &[&str]) -> Arc<rustls::ServerConfig> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_single_cert(load_certs(&certs::server_cert()), load_key(&certs::server_key()))
        .expect("server.pem and server.key match");
    config.alpn_protocols = alpn_ids(alpn);
    Arc::new(config)
}

/// The test CA as a root store.
pub fn ca_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(&certs::ca_cert()) {
        roots.add(cert).expect("ca.pem is a valid trust anchor");
    }
    roots
}

/// A client config trusting only the test CA, offering `alpn` (in preference order).
pub fn client_config(alpn: &[&str]) -> Arc<rustls::ClientConfig> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(ca_roots())
        .with_no_client_auth();
    config.alpn_protocols = alpn_ids(alpn);
    Arc::new(config)
}

/// `name` as a TLS server name (`"localhost"`, `"127.0.0.1"`).
pub fn server_name(name: &str) -> ServerName<'static> {
    ServerName::try_from(name.to_owned()).unwrap_or_else(|e| panic!("bad server name {name:?}: {e}"))
}
