//! Safe defaults at the edge: request-head limits, request-smuggling defences, slow and idle
//! clients, and HTTP/2 stream limits (docs/config.md, "Listeners" and "How a request is routed").

mod framing;
mod head_size;
mod http2;
mod timeouts;

use mesh_tests::backend::Http;
use mesh_tests::proxy::{self, fill};
use std::net::SocketAddr;

/// One listener `web` answering `/direct...` itself and routing the rest to backend `b1`, with `options` (YAML lines at listener
/// indentation, e.g. `"    idle_timeout: 1s\n"`) added to the listener.
async fn start(options: &str) -> (Http, mesh_proxy::Running, SocketAddr) {
    let b1 = Http::start("b1").await;
    let yaml = format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
{options}    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - {{ match: {{ prefix: "/direct" }}, direct_response: {{ status: 200, body: "accepted" }} }}
          - {{ match: {{ prefix: "/" }}, route: {{ cluster: b1 }} }}
clusters:
  - {{ name: b1, endpoints: [ {{ address: "$B1" }} ] }}
"#
    );
    let (running, addr) = proxy::start_with_listener(&fill(&yaml, &[("B1", b1.addr())]), "web").await;
    (b1, running, addr)
}
