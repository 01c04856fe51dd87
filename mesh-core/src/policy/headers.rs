//! Header additions and removals configured on virtual hosts and routes.
//!
//! Applied as Envoy does: removals first, then additions, route level before
//! virtual-host level.

use super::errors::{Issues, Path};
use super::serde_helpers as ser;
use crate::config;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct HeaderMutations {
    pub add: Vec<HeaderAdd>,
    #[serde(serialize_with = "ser::header_names")]
    pub remove: Vec<HeaderName>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeaderAdd {
    #[serde(serialize_with = "ser::header_name")]
    pub name: HeaderName,
    #[serde(serialize_with = "ser::header_value")]
    pub value: HeaderValue,
    pub append_action: config::AppendAction,
}

impl HeaderMutations {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    pub fn apply(&self, headers: &mut HeaderMap) {
        for name in &self.remove {
            headers.remove(name);
        }
        for h in &self.add {
            use config::AppendAction::*;
            match h.append_action {
                AppendIfExistsOrAdd => {
                    headers.append(h.name.clone(), h.value.clone());
                }
                AddIfAbsent => {
                    if !headers.contains_key(&h.name) {
                        headers.insert(h.name.clone(), h.value.clone());
                    }
                }
                OverwriteIfExistsOrAdd => {
                    headers.insert(h.name.clone(), h.value.clone());
                }
                OverwriteIfExists => {
                    if headers.contains_key(&h.name) {
                        headers.insert(h.name.clone(), h.value.clone());
                    }
                }
            }
        }
    }
}

/// Header names no rule may touch: pseudo-headers and Host (use `host_rewrite_literal`).
fn mutable_name(raw: &str) -> Result<HeaderName, String> {
    if raw.starts_with(':') || raw.eq_ignore_ascii_case("host") {
        return Err(format!("{raw:?} cannot be modified by header rules"));
    }
    HeaderName::from_bytes(raw.as_bytes()).map_err(|_| format!("{raw:?} is not a valid header name"))
}

pub(crate) fn build(
    add: &[config::HeaderValueOption],
    remove: &[String],
    path: &Path,
    add_key: &str,
    remove_key: &str,
    issues: &mut Issues,
) -> HeaderMutations {
    let mut out = HeaderMutations::default();
    for (i, h) in add.iter().enumerate() {
        let p = path.key(add_key).idx(i);
        let name = issues
            .required(&h.key, &p.key("key"))
            .and_then(|k| issues.check(&p.key("key"), mutable_name(k)));
        let value = issues.required(&h.value, &p.key("value")).and_then(|v| {
            issues.check(
                &p.key("value"),
                HeaderValue::from_str(v).map_err(|_| format!("{v:?} is not a valid header value")),
            )
        });
        if let (Some(name), Some(value)) = (name, value) {
            let append_action = h
                .append_action
                .unwrap_or(config::AppendAction::AppendIfExistsOrAdd);
            out.add.push(HeaderAdd {
                name,
                value,
                append_action,
            });
        }
    }
    for (i, r) in remove.iter().enumerate() {
        if let Some(name) = issues.check(&path.key(remove_key).idx(i), mutable_name(r)) {
            out.remove.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use config::AppendAction::*;

    fn add(name: &'static str, value: &'static str, append_action: config::AppendAction) -> HeaderAdd {
        HeaderAdd {
            name: HeaderName::from_static(name),
            value: HeaderValue::from_static(value),
            append_action,
        }
    }

    #[test]
    fn removes_then_adds_with_each_append_action() {
        let m = HeaderMutations {
            add: vec![
                add("x-append", "2", AppendIfExistsOrAdd),
                add("x-absent", "new", AddIfAbsent),
                add("x-kept", "new", AddIfAbsent),
                add("x-over", "new", OverwriteIfExistsOrAdd),
                add("x-only-if", "new", OverwriteIfExists),
                add("x-gone", "back", AppendIfExistsOrAdd),
            ],
            remove: vec![HeaderName::from_static("x-gone")],
        };
        let mut h = HeaderMap::new();
        h.insert("x-append", HeaderValue::from_static("1"));
        h.insert("x-kept", HeaderValue::from_static("old"));
        h.insert("x-over", HeaderValue::from_static("old"));
        h.insert("x-gone", HeaderValue::from_static("old"));
        m.apply(&mut h);
        let all = |n: &str| {
            h.get_all(n)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(all("x-append"), ["1", "2"]);
        assert_eq!(all("x-absent"), ["new"]);
        assert_eq!(all("x-kept"), ["old"]);
        assert_eq!(all("x-over"), ["new"]);
        assert!(all("x-only-if").is_empty());
        assert_eq!(all("x-gone"), ["back"], "removal happens before additions");
    }

    #[test]
    fn refuses_pseudo_headers_and_host() {
        assert!(mutable_name(":path").is_err());
        assert!(mutable_name("Host").is_err());
        assert!(mutable_name("bad header").is_err());
        assert!(mutable_name("x-ok").is_ok());
    }
}
