//! Reading a configuration file: YAML in, validated [`Bootstrap`] or every error out.

use crate::config;
use crate::policy::{Bootstrap, ConfigError, InvalidConfig};
use std::path::Path;

/// Reads and validates `path`. Errors name the file, each key path and the reason.
pub fn load_file(path: impl AsRef<Path>) -> Result<Bootstrap, InvalidConfig> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| InvalidConfig {
        origin: origin.clone(),
        errors: vec![ConfigError {
            path: String::new(),
            message: format!("cannot read file: {e}"),
        }],
    })?;
    from_yaml(&text, &origin)
}

/// Parses and validates YAML text; `origin` names the source in error messages.
pub fn from_yaml(text: &str, origin: &str) -> Result<Bootstrap, InvalidConfig> {
    let invalid = |errors| InvalidConfig {
        origin: origin.to_owned(),
        errors,
    };
    let raw = parse_yaml(text).map_err(|e| invalid(vec![e]))?;
    Bootstrap::try_from(&raw).map_err(invalid)
}

/// The syntax stage alone: the file shape, without semantic checks.
pub fn parse_yaml(text: &str) -> Result<config::Bootstrap, ConfigError> {
    if text.trim().is_empty() {
        return Ok(config::Bootstrap::default());
    }
    serde_saphyr::from_str(text).map_err(|e| ConfigError {
        path: String::new(),
        // One line ("unknown field `adress`, expected one of address, ... at line 3,
        // column 20"): the default rendering adds a multi-line snippet headed by a
        // made-up `<input>` file name, which reads badly under `InvalidConfig`'s list.
        message: e.render_with_options(serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        }),
    })
}

#[cfg(test)]
mod tests;
