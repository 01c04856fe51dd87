//! Routing through a real in-process proxy: virtual-host selection, every route match kind, every
//! action, header rules and endpoint balancing (docs/config.md, "How a request is routed").
//!
//! The helpers here ([`fill`], [`T`]) are shared with the sibling error, limit and admin suites.

mod actions;
mod balancing;
mod header_rules;
mod matches;
mod vhosts;

use std::net::SocketAddr;
use std::time::Duration;

/// The bound on every test here: generous, because the machine is small and shared.
pub(super) const T: Duration = Duration::from_secs(60);

/// Replaces each `$NAME` in `yaml` with its address (longest names first, so `$B10` is not read as
/// `$B1` followed by `0`).
pub(super) fn fill(yaml: &str, vars: &[(&str, SocketAddr)]) -> String {
    let mut vars = vars.to_vec();
    vars.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    vars.iter().fold(yaml.to_owned(), |yaml, (name, addr)| {
        yaml.replace(&format!("${name}"), &addr.to_string())
    })
}

/// An address on which nothing listens: bound, read, and closed again.
pub(super) fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr of a bound listener")
}
