//! A listener's request-ID knobs: Envoy's HttpConnectionManager names and defaults.

use crate::config;
use serde::Serialize;

/// What an HTTP listener does with `x-request-id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestIdOptions {
    /// `generate_request_id` (default true): a request without a usable ID, or with one from an
    /// untrusted peer, gets a new UUIDv4.
    pub generate: bool,
    /// `preserve_external_request_id` (default false): keep the ID of peers outside
    /// `trusted_cidrs` too.
    pub preserve_external: bool,
    /// `always_set_request_id_in_response` (default false): echo the ID on the response.
    pub always_set_in_response: bool,
}

impl Default for RequestIdOptions {
    fn default() -> Self {
        RequestIdOptions {
            generate: true,
            preserve_external: false,
            always_set_in_response: false,
        }
    }
}

pub(crate) fn build(raw: &config::Listener) -> RequestIdOptions {
    let default = RequestIdOptions::default();
    RequestIdOptions {
        generate: raw.generate_request_id.unwrap_or(default.generate),
        preserve_external: raw
            .preserve_external_request_id
            .unwrap_or(default.preserve_external),
        always_set_in_response: raw
            .always_set_request_id_in_response
            .unwrap_or(default.always_set_in_response),
    }
}
