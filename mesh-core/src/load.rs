//! Reading configuration files: YAML in, validated policy or every error out.
//!
//! Two kinds of file: the proxy's configuration ([`load_file`], [`from_yaml`]) and the
//! endpoints files that `discovery.file` points at ([`endpoints_file`], [`endpoints_from_yaml`]).
//! Both report a syntax mistake alone (with line and column) and semantic mistakes all at once,
//! each as `origin: key.path: reason`.

use crate::config;
use crate::policy::{Bootstrap, ConfigError, EndpointSet, InvalidConfig};
use serde::de::DeserializeOwned;
use std::path::Path;

/// Reads and validates `path`. Errors name the file, each key path and the reason.
pub fn load_file(path: impl AsRef<Path>) -> Result<Bootstrap, InvalidConfig> {
    let (text, origin) = read(path.as_ref())?;
    from_yaml(&text, &origin)
}

/// Parses and validates YAML text; `origin` names the source in error messages.
pub fn from_yaml(text: &str, origin: &str) -> Result<Bootstrap, InvalidConfig> {
    let raw = parse_yaml(text).map_err(|e| invalid(origin, vec![e]))?;
    Bootstrap::try_from(&raw).map_err(|errors| invalid(origin, errors))
}

/// The syntax stage alone: the file shape, without semantic checks.
pub fn parse_yaml(text: &str) -> Result<config::Bootstrap, ConfigError> {
    if text.trim().is_empty() {
        return Ok(config::Bootstrap::default());
    }
    syntax(text)
}

/// Reads and validates an endpoints file (the target of `discovery.file.path`).
pub fn endpoints_file(path: impl AsRef<Path>) -> Result<EndpointSet, InvalidConfig> {
    let (text, origin) = read(path.as_ref())?;
    endpoints_from_yaml(&text, &origin)
}

/// Parses and validates the text of an endpoints file; `origin` names it in error messages.
///
/// Unlike the proxy's configuration, an empty document is an error rather than "nothing":
/// a file caught mid-write by a non-atomic writer must not empty the cluster. A cluster with
/// no endpoints says so with `endpoints: []`.
pub fn endpoints_from_yaml(text: &str, origin: &str) -> Result<EndpointSet, InvalidConfig> {
    if text.trim().is_empty() {
        let message = "the file is empty; write `endpoints: []` for a cluster with no endpoints";
        return Err(invalid(origin, vec![whole_document(message.to_owned())]));
    }
    let raw: config::EndpointsFile = syntax(text).map_err(|e| invalid(origin, vec![e]))?;
    EndpointSet::try_from(&raw).map_err(|errors| invalid(origin, errors))
}

fn read(path: &Path) -> Result<(String, String), InvalidConfig> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text, origin)),
        Err(e) => Err(invalid(
            &origin,
            vec![whole_document(format!("cannot read file: {e}"))],
        )),
    }
}

fn syntax<T: DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    serde_saphyr::from_str(text).map_err(|e| {
        // One line ("unknown field `adress`, expected one of address, ... at line 3,
        // column 20"): the default rendering adds a multi-line snippet headed by a
        // made-up `<input>` file name, which reads badly under `InvalidConfig`'s list.
        whole_document(e.render_with_options(serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        }))
    })
}

fn whole_document(message: String) -> ConfigError {
    ConfigError {
        path: String::new(),
        message,
    }
}

fn invalid(origin: &str, errors: Vec<ConfigError>) -> InvalidConfig {
    InvalidConfig {
        origin: origin.to_owned(),
        errors,
    }
}

#[cfg(test)]
mod tests;
