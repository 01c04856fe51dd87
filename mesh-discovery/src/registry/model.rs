//! The registry's data: validated service names and the instances registered under them.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

/// A validated service name: 1 to 128 characters from `A-Z a-z 0-9 . _ -`, so it can sit in a
/// URL path and a Redis key unescaped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ServiceName(String);

/// Why a service name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service name {0:?} must be 1 to 128 characters from A-Z, a-z, 0-9, '.', '_' and '-'")]
pub struct InvalidServiceName(pub String);

impl ServiceName {
    pub fn new(name: impl Into<String>) -> Result<Self, InvalidServiceName> {
        let name = name.into();
        let ok = (1..=128).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(ServiceName(name))
        } else {
            Err(InvalidServiceName(name))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One registered host of a service. The address is its identity within the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// The host's own label for itself (a pod or host name), for people; not a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub address: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Load-balancing weight, at least 1; consumers take 1 when it is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// A hint for active health checking, such as an HTTP path (`/healthz`); not interpreted here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check: Option<String>,
}

impl Instance {
    /// An instance with only an address.
    pub fn new(address: SocketAddr) -> Self {
        Instance {
            id: None,
            address,
            zone: None,
            tags: BTreeMap::new(),
            weight: None,
            health_check: None,
        }
    }
}
