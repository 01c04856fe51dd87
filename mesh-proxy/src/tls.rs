//! rustls configuration for listeners and clusters, always with the ring provider.

use mesh_core::policy::{DownstreamTls, UpstreamTls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::Path;
use std::sync::Arc;

/// A TLS file or setting that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{what} {path:?}: {reason}")]
pub struct TlsConfigError {
    what: &'static str,
    path: String,
    reason: String,
}

fn err(what: &'static str, path: &Path, reason: impl ToString) -> TlsConfigError {
    TlsConfigError {
        what,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err("certificate file", path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err("certificate file", path, e))?;
    if certs.is_empty() {
        return Err(err("certificate file", path, "holds no PEM certificate"));
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| err("private key file", path, e))
}

/// Server config for a listener, offering the configured ALPN protocols.
pub(crate) fn server_config(tls: &DownstreamTls) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| err("tls settings for", &tls.cert_file, e))?
        .with_no_client_auth()
        .with_single_cert(certs(&tls.cert_file)?, key(&tls.key_file)?)
        .map_err(|e| err("certificate/key pair", &tls.cert_file, e))?;
    config.alpn_protocols = tls.alpn_protocols.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(Arc::new(config))
}

/// Client configs for one cluster: one per ALPN offer the pools need.
#[derive(Debug, Clone)]
pub(crate) struct ClientTls {
    pub(crate) h1: Arc<ClientConfig>,
    pub(crate) h2: Arc<ClientConfig>,
    pub(crate) auto: Arc<ClientConfig>,
    /// SNI override; otherwise the endpoint's IP address is used.
    pub(crate) sni: Option<ServerName<'static>>,
}

pub(crate) fn client_tls(tls: &UpstreamTls) -> Result<ClientTls, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    match &tls.ca_file {
        Some(ca) => {
            for cert in certs(ca)? {
                roots.add(cert).map_err(|e| err("CA file", ca, e))?;
            }
        }
        None => {
            // The system trust store, as curl and browsers use; unreadable entries are skipped.
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| err("tls settings for", Path::new("cluster"), e))?
        .with_root_certificates(roots);
    let base = match &tls.client_cert {
        Some((cert, key_file)) => builder
            .with_client_auth_cert(certs(cert)?, key(key_file)?)
            .map_err(|e| err("client certificate/key pair", cert, e))?,
        None => builder.with_no_client_auth(),
    };
    let with_alpn = |alpn: &[&[u8]]| {
        let mut c = base.clone();
        c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(c)
    };
    let sni = match &tls.sni {
        Some(name) => Some(ServerName::try_from(name.clone()).map_err(|e| err("sni", Path::new(name), e))?),
        None => None,
    };
    Ok(ClientTls {
        h1: with_alpn(&[b"http/1.1"]),
        h2: with_alpn(&[b"h2"]),
        auto: with_alpn(&[b"h2", b"http/1.1"]),
        sni,
    })
}
