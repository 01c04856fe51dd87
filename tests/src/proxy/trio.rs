//! Three backends behind one proxy: the shape of most balancing and health tests.

use crate::backend::Http;
use crate::proxy::{fill, start_with_listener};
use std::net::SocketAddr;

/// Backends `b1`, `b2`, `b3` and a proxy started from `yaml`, whose `$B1`..`$B3` are
/// replaced by their addresses; the proxy's listener must be named `web`.
#[derive(Debug)]
pub struct Trio {
    pub backends: [Http; 3],
    pub proxy: mesh_proxy::Running,
    /// The `web` listener.
    pub addr: SocketAddr,
    pub admin: SocketAddr,
}

impl Trio {
    pub async fn start(yaml: &str) -> Trio {
        let backends = [
            Http::start("b1").await,
            Http::start("b2").await,
            Http::start("b3").await,
        ];
        let vars = [
            ("B1", backends[0].addr()),
            ("B2", backends[1].addr()),
            ("B3", backends[2].addr()),
        ];
        let (proxy, addr) = start_with_listener(&fill(yaml, &vars), "web").await;
        let admin = proxy.admin_addr();
        Trio {
            backends,
            proxy,
            addr,
            admin,
        }
    }
}
