//! Reading from disk, and keys that name files (checked to be readable at load time).

use super::{EXAMPLE, errors, load_file, only_error};
use std::path::PathBuf;

/// A scratch directory unique to one test, removed when dropped.
pub(super) struct Scratch(PathBuf);

impl Scratch {
    pub(super) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mesh-core-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub(super) fn file(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn load_file_reads_and_validates_and_names_the_file() {
    let dir = Scratch::new("load");
    let good = dir.file("good.yaml", EXAMPLE);
    assert_eq!(load_file(&good).unwrap().listeners.len(), 2);

    let bad = dir.file("bad.yaml", &EXAMPLE.replace("127.0.0.1:10001", "nowhere"));
    let err = load_file(&bad).unwrap_err();
    assert_eq!(err.origin, bad);
    assert_eq!(err.errors.len(), 1);
    assert_eq!(err.errors[0].path, "listeners[1].address");
    assert!(err.to_string().contains(&format!("{bad}: listeners[1].address")));
}

#[test]
fn a_missing_file_is_one_error_naming_it() {
    let err = load_file("/nonexistent/mesh.yaml").unwrap_err();
    assert_eq!(err.origin, "/nonexistent/mesh.yaml");
    assert_eq!(err.errors.len(), 1);
    assert!(err.errors[0].message.starts_with("cannot read file"), "{err}");
}

fn tls_listener(cert: &str, key: &str) -> String {
    format!(
        "listeners:\n  - name: web\n    address: 127.0.0.1:10443\n    tls: {{ cert_file: \"{cert}\", key_file: \"{key}\" }}\n"
    )
}

#[test]
fn tls_files_must_exist_when_the_config_is_loaded() {
    let dir = Scratch::new("tls");
    let cert = dir.file("cert.pem", "not parsed at load time");
    let key = dir.file("key.pem", "not parsed at load time");
    let cfg = crate::load::from_yaml(&tls_listener(&cert, &key), "mesh.yaml").unwrap();
    let tls = cfg.listeners[0].tls.as_ref().unwrap();
    assert_eq!(tls.alpn_protocols, ["h2", "http/1.1"], "default ALPN");

    let missing = format!("{}/missing.pem", dir.0.display());
    only_error(
        &tls_listener(&missing, &key),
        "listeners[0].tls.cert_file",
        "cannot read",
    );
    let errs = errors(&tls_listener(&missing, &missing));
    let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["listeners[0].tls.cert_file", "listeners[0].tls.key_file"]);
}

#[test]
fn a_directory_is_not_a_certificate_file() {
    let dir = Scratch::new("tlsdir");
    let key = dir.file("key.pem", "k");
    let folder = dir.0.display().to_string();
    only_error(
        &tls_listener(&folder, &key),
        "listeners[0].tls.cert_file",
        "directory",
    );
}

#[test]
fn upstream_tls_files_are_checked_too() {
    let dir = Scratch::new("upstream");
    let ca = dir.file("ca.pem", "ca");
    let ok = format!("clusters: [ {{ name: c, tls: {{ ca_file: \"{ca}\", sni: api.internal }} }} ]");
    let cfg = crate::load::from_yaml(&ok, "mesh.yaml").unwrap();
    assert_eq!(
        cfg.clusters[0].tls.as_ref().unwrap().sni.as_deref(),
        Some("api.internal")
    );
    let bad = "clusters: [ { name: c, tls: { ca_file: /nonexistent/ca.pem } } ]";
    only_error(bad, "clusters[0].tls.ca_file", "cannot read");
}

#[test]
fn tls_alpn_on_http_listeners_is_limited_to_h2_and_http1() {
    let dir = Scratch::new("alpn");
    let cert = dir.file("cert.pem", "c");
    let yaml = format!(
        "listeners:\n  - name: web\n    address: 127.0.0.1:10443\n    tls: {{ cert_file: \"{cert}\", key_file: \"{cert}\", alpn_protocols: [h2, h3] }}\n"
    );
    only_error(&yaml, "listeners[0].tls.alpn_protocols[1]", "h3");
}

#[test]
fn the_documented_example_is_valid_apart_from_its_certificate_files() {
    let doc = include_str!("../../../../docs/config.md");
    let yaml = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let errs = errors(yaml);
    let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "clusters[1].tls.ca_file",
            "listeners[0].tls.cert_file",
            "listeners[0].tls.key_file",
        ],
        "{errs:#?}"
    );
    assert!(errs.iter().all(|(_, m)| m.starts_with("cannot read \"certs/")));
}
