//! `core.v3.Address` → mesh's `ip:port` (or, for STRICT_DNS, hostname and port) strings.
//!
//! Only TCP socket addresses with a numeric `port_value` are taken: pipes, UDP, named ports
//! (resolved by a listener's filter chain in Envoy) and custom resolvers have no mesh form.
//! Whether the host is an IP (or a DNS name) is left to mesh-core's validation.

use super::MapError;
use crate::xds::api::envoy::config::core::v3::{Address, address, socket_address};

/// The socket address at `field` as `(host, port)`.
pub(crate) fn host_port(
    addr: Option<&Address>,
    resource: &str,
    field: &str,
) -> Result<(String, u32), MapError> {
    let refuse = |sub: &str, why: &str| MapError::new(resource, format!("{field}{sub}"), why);
    let socket = match addr.and_then(|a| a.address.as_ref()) {
        Some(address::Address::SocketAddress(s)) => s,
        Some(address::Address::Pipe(_)) => return Err(refuse(".pipe", "unix pipes are not supported")),
        None => return Err(refuse(".socket_address", "is required")),
    };
    let field = format!("{field}.socket_address");
    let refuse = |sub: &str, why: &str| MapError::new(resource, format!("{field}.{sub}"), why);
    if socket.protocol != socket_address::Protocol::Tcp as i32 {
        return Err(refuse("protocol", "only TCP is supported"));
    }
    if !socket.resolver_name.is_empty() {
        return Err(refuse("resolver_name", "custom resolvers are not supported"));
    }
    if socket.ipv4_compat {
        return Err(refuse(
            "ipv4_compat",
            "is not supported: mesh binds exactly the address given",
        ));
    }
    if socket.address.is_empty() {
        return Err(refuse("address", "is required"));
    }
    match &socket.port_specifier {
        Some(socket_address::PortSpecifier::PortValue(p)) => Ok((socket.address.clone(), *p)),
        Some(socket_address::PortSpecifier::NamedPort(_)) => Err(refuse(
            "named_port",
            "named ports are not supported; use port_value",
        )),
        None => Err(refuse("port_value", "is required")),
    }
}

/// The socket address at `field` as `ip:port` (`[v6]:port` for IPv6).
pub(crate) fn ip_port(addr: Option<&Address>, resource: &str, field: &str) -> Result<String, MapError> {
    let (host, port) = host_port(addr, resource, field)?;
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}
