//! Paths of the test certificates in `tests/certs/` (see its README for how they were made).
//!
//! All keys are ECDSA P-256 PKCS#8; `server.pem` is valid for `localhost` and `127.0.0.1`, both signed
//! by `ca.pem`. The paths are absolute (from `CARGO_MANIFEST_DIR`), so they can be pasted into proxy YAML.

use std::path::PathBuf;

/// `tests/certs/`.
pub fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/certs"))
}

/// The test CA certificate (PEM).
pub fn ca_cert() -> PathBuf {
    dir().join("ca.pem")
}

/// The server certificate for `DNS:localhost` and `IP:127.0.0.1` (PEM).
pub fn server_cert() -> PathBuf {
    dir().join("server.pem")
}

/// The server's private key (PKCS#8 PEM).
pub fn server_key() -> PathBuf {
    dir().join("server.key")
}

/// A client certificate (EKU clientAuth) for mutual TLS (PEM).
pub fn client_cert() -> PathBuf {
    dir().join("client.pem")
}

/// The client certificate's private key (PKCS#8 PEM).
pub fn client_key() -> PathBuf {
    dir().join("client.key")
}

/// A path as a string for YAML (`cert_file: {}`).
pub fn yaml_path(path: PathBuf) -> String {
    path.display().to_string()
}
