//! Downstream clients: HTTP/1.1, h2c and TLS connections ([`Connection`]), request bodies ([`body`])
//! and raw TCP bytes for malformed or slow requests ([`raw`]).

pub mod body;
pub mod http;
pub mod raw;

pub use body::ReqBody;
pub use http::{Connection, Reply, get, h2c_get, request, tls_get};
pub use raw::{RawConn, RawOutcome};
