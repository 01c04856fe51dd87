//! Mistakes serde catches: YAML syntax, unknown keys, wrong types. Each stops the load
//! with one error naming the line and column (there is no key path to give yet).

use super::errors;

/// The single syntax error of `yaml`, checked to have no key path.
#[track_caller]
fn syntax_error(yaml: &str) -> String {
    let errs = errors(yaml);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let (path, message) = errs.into_iter().next().unwrap();
    assert_eq!(path, "", "syntax errors have no key path");
    assert!(!message.contains('\n'), "one line: {message:?}");
    message
}

#[test]
fn broken_yaml_is_one_error_with_its_position() {
    let unclosed = "clusters:\n  - name: a\n    endpoints: [ { address: \"1.2.3.4:5\" }\n";
    let m = syntax_error(unclosed);
    assert!(m.contains("line 3"), "{m}");
    let bad_indent = "clusters:\n  - name: a\n   endpoints: []\n";
    let m = syntax_error(bad_indent);
    assert!(m.contains("line 3"), "{m}");
}

#[test]
fn a_misspelt_key_is_one_error_naming_it_and_the_right_keys() {
    let yaml = "clusters:\n  - name: a\n    endpoints: [ { adress: \"1.2.3.4:5\" } ]\n";
    let m = syntax_error(yaml);
    assert!(m.contains("unknown field `adress`"), "{m}");
    assert!(m.contains("address, weight, priority, zone, metadata"), "{m}");
    assert!(m.contains("line 3, column 20"), "{m}");
    let top = "listener:\n  - name: a\n";
    let m = syntax_error(top);
    assert!(m.contains("unknown field `listener`"), "{m}");
    assert!(m.contains("listeners"), "{m}");
}

#[test]
fn a_syntax_error_hides_semantic_ones_until_fixed() {
    // The bad address is only reported once the typo is fixed.
    let yaml = "clusters:\n  - name: a\n    conect_timeout: 5s\n    endpoints: [ { address: nowhere } ]\n";
    let m = syntax_error(yaml);
    assert!(m.contains("conect_timeout"), "{m}");
}

#[test]
fn wrong_types_and_enum_values() {
    let m = syntax_error("listeners: [ { name: a, address: 127.0.0.1:1, protocol: udp } ]");
    assert!(m.contains("udp") && m.contains("http, tcp"), "{m}");
    let m = syntax_error("clusters: [ { name: a, protocol: h2 } ]");
    assert!(m.contains("http1, http2, auto"), "{m}");
    let m = syntax_error("clusters: [ { name: a, endpoints: [ { address: \"1.2.3.4:5\", weight: -1 } ] } ]");
    assert!(m.contains("column"), "{m}");
    let m = syntax_error("clusters: { name: a }");
    assert!(m.contains("sequence"), "{m}");
}

#[test]
fn parse_yaml_alone_skips_semantic_checks() {
    let raw = super::parse_yaml("clusters: [ { name: a, endpoints: [ { address: nowhere } ] } ]").unwrap();
    assert_eq!(raw.clusters[0].endpoints[0].address.as_deref(), Some("nowhere"));
}
