//! [`Config`]: the YAML of the proxy most tests need, built instead of written out again.
//!
//! The shape: the admin listener and one HTTP listener [`LISTENER`] on `127.0.0.1:0`, one virtual
//! host (`domains: ["*"]`) whose one route (`prefix: "/"`) forwards everything to one cluster. Each
//! method adds one knob to that shape; a knob left alone is left out of the YAML, so the proxy's
//! default applies and the YAML says only what the test chose.
//!
//! Not for tests whose point is the configuration itself (route matching, route actions, header
//! rules, virtual-host selection, the proxy's failure replies): there the YAML is the
//! specification, and reads best written out in full.

use crate::certs;
use std::net::SocketAddr;

/// The name of the one listener a [`Config`] has.
pub const LISTENER: &str = "web";

/// Builds the YAML of a one-listener, one-route, one-cluster proxy:
///
/// ```ignore
/// let (proxy, addr) = proxy::Config::new("grpc", &[backend.addr()])
///     .protocol("http2")      // the cluster's `protocol`; the proxy's default (http1) if not set
///     .route_timeout("0s")    // the route's `timeout`; the proxy's default (15s) if not set
///     .start()                // or `.yaml()` for the text
///     .await;
/// ```
#[derive(Debug, Clone)]
#[must_use = "a Config does nothing until `yaml()` or `start()`"]
pub struct Config {
    cluster: String,
    endpoints: Vec<SocketAddr>,
    protocol: Option<String>,
    route_timeout: Option<String>,
    host_rewrite: Option<String>,
    domain: Option<String>,
    listener_tls: bool,
    upstream_sni: Option<String>,
}

impl Config {
    /// Everything on listener [`LISTENER`] goes to cluster `cluster`, whose endpoints are
    /// `endpoints` (none: the cluster exists but has no endpoints).
    pub fn new(cluster: &str, endpoints: &[SocketAddr]) -> Config {
        Config {
            cluster: cluster.to_owned(),
            endpoints: endpoints.to_vec(),
            protocol: None,
            route_timeout: None,
            host_rewrite: None,
            domain: None,
            listener_tls: false,
            upstream_sni: None,
        }
    }

    /// The cluster's `protocol`: `http1`, `http2` or `auto`.
    pub fn protocol(mut self, protocol: &str) -> Config {
        self.protocol = Some(protocol.to_owned());
        self
    }

    /// The route's `timeout` (`"0s"` turns it off, for long streams).
    pub fn route_timeout(mut self, timeout: &str) -> Config {
        self.route_timeout = Some(timeout.to_owned());
        self
    }

    /// The route's `host_rewrite_literal`.
    pub fn host_rewrite(mut self, host: &str) -> Config {
        self.host_rewrite = Some(host.to_owned());
        self
    }

    /// The virtual host serves only `domain` instead of `*`.
    pub fn domain(mut self, domain: &str) -> Config {
        self.domain = Some(domain.to_owned());
        self
    }

    /// Terminates TLS on the listener with the test server certificate (`localhost`, `127.0.0.1`).
    pub fn listener_tls(mut self) -> Config {
        self.listener_tls = true;
        self
    }

    /// Originates TLS to the endpoints, trusting the test CA and sending `sni`.
    pub fn upstream_tls(mut self, sni: &str) -> Config {
        self.upstream_sni = Some(sni.to_owned());
        self
    }

    /// The YAML, for [`super::start`] or a test of the config loader.
    pub fn yaml(&self) -> String {
        let cluster = &self.cluster;
        let listener_tls = if self.listener_tls {
            format!(
                "\n    tls: {{ cert_file: \"{}\", key_file: \"{}\" }}",
                certs::yaml_path(certs::server_cert()),
                certs::yaml_path(certs::server_key()),
            )
        } else {
            String::new()
        };
        let domain = self.domain.as_deref().unwrap_or("*");
        let timeout = opt(&self.route_timeout, |t| format!(", timeout: {t}"));
        let host_rewrite = opt(&self.host_rewrite, |h| format!(", host_rewrite_literal: \"{h}\""));
        let protocol = opt(&self.protocol, |p| format!("\n    protocol: {p}"));
        let cluster_tls = opt(&self.upstream_sni, |sni| {
            format!(
                "\n    tls: {{ ca_file: \"{}\", sni: \"{sni}\" }}",
                certs::yaml_path(certs::ca_cert())
            )
        });
        let endpoints: String = if self.endpoints.is_empty() {
            " []".to_owned()
        } else {
            self.endpoints
                .iter()
                .map(|addr| format!("\n      - {{ address: \"{addr}\" }}"))
                .collect()
        };
        format!(
            r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: {LISTENER}
    address: 127.0.0.1:0{listener_tls}
    virtual_hosts:
      - name: all
        domains: ["{domain}"]
        routes:
          - match: {{ prefix: "/" }}
            route: {{ cluster: {cluster}{timeout}{host_rewrite} }}
clusters:
  - name: {cluster}{protocol}{cluster_tls}
    endpoints:{endpoints}
"#
        )
    }

    /// Starts the proxy; returns it and the address of listener [`LISTENER`].
    pub async fn start(&self) -> (mesh_proxy::Running, SocketAddr) {
        super::start_with_listener(&self.yaml(), LISTENER).await
    }
}

/// `line(value)` when the knob is set, else nothing.
fn opt(knob: &Option<String>, line: impl FnOnce(&str) -> String) -> String {
    knob.as_deref().map(line).unwrap_or_default()
}
