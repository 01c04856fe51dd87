//! Routing as a user sees it: configurations written in YAML, requests as they arrive.
//!
//! Policy values are built through the real loader ([`crate::load::from_yaml`]) so
//! these tests also pin down what each configuration key means.

mod rewrites;
mod routes;
mod vhosts;

use crate::policy::{Action, ListenerKind, Route, VirtualHost, VirtualHosts};
use crate::routing::RequestHead;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// Re-indents a YAML block written inline in a test to `by` spaces.
fn indent(yaml: &str, by: usize) -> String {
    let lines: Vec<&str> = yaml.lines().filter(|l| !l.trim().is_empty()).collect();
    let common = lines
        .iter()
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let pad = " ".repeat(by);
    lines.iter().map(|l| format!("{pad}{}\n", &l[common..])).collect()
}

/// The virtual hosts of one HTTP listener whose `virtual_hosts:` list is `yaml`.
/// Clusters `a`, `b` and `c` exist.
fn vhosts(yaml: &str) -> VirtualHosts {
    let text = format!(
        "listeners:\n  - name: l\n    address: 127.0.0.1:0\n    virtual_hosts:\n{}\
         clusters:\n  - name: a\n  - name: b\n  - name: c\n",
        indent(yaml, 6)
    );
    let mut cfg = match crate::load::from_yaml(&text, "test.yaml") {
        Ok(cfg) => cfg,
        Err(e) => panic!("{e}\n--- in ---\n{text}"),
    };
    match cfg.listeners.remove(0).kind {
        ListenerKind::Http(http) => http.virtual_hosts,
        ListenerKind::Tcp(_) => unreachable!("an http listener"),
    }
}

/// A virtual host matching any domain whose `routes:` list is `yaml`.
fn vhost(routes: &str) -> VirtualHost {
    let yaml = format!(
        "- name: all\n  domains: [\"*\"]\n  routes:\n{}",
        indent(routes, 4)
    );
    vhosts(&yaml).iter().next().cloned().unwrap()
}

/// A single route from a one-line flow mapping, e.g. `{ match: { prefix: / }, route: { cluster: a } }`.
fn route(yaml: &str) -> Route {
    vhost(&format!("- {}", yaml.trim()))
        .routes
        .into_iter()
        .next()
        .unwrap()
}

/// A request as the proxy sees it; `head()` lends it to routing.
#[derive(Debug)]
struct Req {
    method: Method,
    authority: String,
    path: String,
    scheme: String,
    headers: HeaderMap,
}

impl Req {
    fn get(path: &str) -> Self {
        Req {
            method: Method::GET,
            authority: "example.com".into(),
            path: path.into(),
            scheme: "http".into(),
            headers: HeaderMap::new(),
        }
    }

    fn method(mut self, m: &str) -> Self {
        self.method = Method::from_bytes(m.as_bytes()).unwrap();
        self
    }

    fn authority(mut self, a: &str) -> Self {
        self.authority = a.into();
        self
    }

    fn scheme(mut self, s: &str) -> Self {
        self.scheme = s.into();
        self
    }

    /// Appends, so calling it twice with one name gives a repeated header.
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        self
    }

    fn head(&self) -> RequestHead<'_> {
        RequestHead {
            method: &self.method,
            authority: &self.authority,
            path: &self.path,
            scheme: &self.scheme,
            headers: &self.headers,
        }
    }
}

/// The name of the route `vh` picks for `req`.
fn picked<'a>(vh: &'a VirtualHost, req: &Req) -> Option<&'a str> {
    vh.route(&req.head())
        .map(|r| r.name.as_deref().unwrap_or("<unnamed>"))
}

/// The selected virtual host's name for `host`.
fn selected<'a>(hosts: &'a VirtualHosts, host: &str) -> Option<&'a str> {
    hosts.select(host).map(|vh| vh.name.as_str())
}

fn forward(route: &Route) -> &crate::policy::Forward {
    match &route.action {
        Action::Route(f) => f,
        other => panic!("expected a forwarding route, got {other:?}"),
    }
}

fn redirect(route: &Route) -> &crate::policy::Redirect {
    match &route.action {
        Action::Redirect(r) => r,
        other => panic!("expected a redirect, got {other:?}"),
    }
}
