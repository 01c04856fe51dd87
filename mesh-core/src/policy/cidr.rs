//! CIDR ranges (`10.0.0.0/8`, `::1/128`), for deciding which downstream peers are trusted.

use serde::{Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address range: an IP and a prefix length that fits it. Host bits may be set
/// (`10.1.2.3/8` means `10.0.0.0/8`), as in Envoy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// A string that is not `ip/prefix` with a prefix the address family allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a CIDR range (expected ip/prefix, e.g. \"127.0.0.0/8\" or \"::1/128\")")]
pub struct InvalidCidr(pub String);

impl Cidr {
    /// Whether `ip` lies in this range. An IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`) is
    /// judged as the IPv4 address it carries, since dual-stack sockets report IPv4
    /// peers that way.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = InvalidCidr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidCidr(s.to_owned());
        let (addr, prefix) = s.split_once('/').ok_or_else(invalid)?;
        let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(invalid());
        }
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn v4_and_v6_ranges_contain_their_addresses_only() {
        let lo = cidr("127.0.0.0/8");
        assert!(lo.contains("127.9.9.9".parse().unwrap()));
        assert!(!lo.contains("128.0.0.1".parse().unwrap()));
        assert!(
            lo.contains("::ffff:127.0.0.1".parse().unwrap()),
            "v4-mapped peers"
        );
        assert!(!lo.contains("::1".parse().unwrap()));
        assert!(cidr("::1/128").contains("::1".parse().unwrap()));
        assert!(cidr("0.0.0.0/0").contains("8.8.8.8".parse().unwrap()));
        assert!(cidr("10.1.2.3/32").contains("10.1.2.3".parse().unwrap()));
        assert!(!cidr("10.1.2.3/32").contains("10.1.2.4".parse().unwrap()));
        assert!(
            cidr("10.1.2.3/8").contains("10.200.0.1".parse().unwrap()),
            "host bits ignored"
        );
    }

    #[test]
    fn bad_ranges_are_refused() {
        for bad in ["10.0.0.0", "10.0.0.0/33", "::1/129", "x/8", "10.0.0.0/-1", ""] {
            assert_eq!(bad.parse::<Cidr>(), Err(InvalidCidr(bad.to_owned())), "{bad}");
        }
        assert_eq!(cidr("::1/128").to_string(), "::1/128");
    }
}
