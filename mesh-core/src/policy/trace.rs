//! Validated tracing: the proxy's OTLP exporter and each HTTP listener's sampling share.
//!
//! Tracing is off without the top-level `tracing` block: no exporter, no spans, and a
//! caller's trace headers pass upstream untouched. A listener's `tracing` block needs the
//! top-level one (it would otherwise be silently ignored).

use super::errors::{Issues, Path};
use super::{Percent, socket_addr};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;

pub const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_SERVICE_NAME: &str = "mesh-proxy";
/// Envoy's default `random_sampling` is 100%; the mesh samples 1% of call chains unless told.
pub const DEFAULT_RANDOM_SAMPLING: Percent = Percent(1.0);

/// Where this proxy's spans go.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tracing {
    pub otlp: Otlp,
    pub service_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Otlp {
    pub address: SocketAddr,
    #[serde(with = "serde_str")]
    pub timeout: Duration,
}

/// One HTTP listener's sampling; present whenever the proxy traces.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ListenerTracing {
    /// Share of call chains the listener starts tracing when the caller decided nothing.
    pub random_sampling: Percent,
}

impl Default for ListenerTracing {
    fn default() -> Self {
        ListenerTracing {
            random_sampling: DEFAULT_RANDOM_SAMPLING,
        }
    }
}

pub(crate) fn build(raw: &config::Bootstrap, issues: &mut Issues) -> Option<Tracing> {
    let t = raw.tracing.as_ref()?;
    let path = Path::root().key("tracing");
    let otlp_path = path.key("otlp");
    let otlp = issues.required(&t.otlp, &otlp_path)?;
    let address_path = otlp_path.key("address");
    let address = issues
        .required(&otlp.address, &address_path)
        .and_then(|a| issues.check(&address_path, socket_addr(a)));
    let timeout_path = otlp_path.key("timeout");
    let timeout = issues.duration(&otlp.timeout, &timeout_path, DEFAULT_OTLP_TIMEOUT);
    if timeout.is_zero() {
        issues.push(&timeout_path, "must be more than 0s");
    }
    let service_name = match &t.service_name {
        Some(name) if name.trim().is_empty() => {
            issues.push(&path.key("service_name"), "must not be empty");
            None
        }
        Some(name) => Some(name.clone()),
        None => Some(
            raw.node
                .as_ref()
                .and_then(|n| n.cluster.clone())
                .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned()),
        ),
    };
    Some(Tracing {
        otlp: Otlp {
            address: address?,
            timeout,
        },
        service_name: service_name?,
    })
}

/// A listener's block; `traced` says whether the proxy has an exporter at all.
pub(crate) fn listener(
    raw: Option<&config::ListenerTracing>,
    traced: bool,
    path: &Path,
    issues: &mut Issues,
) -> ListenerTracing {
    let Some(raw) = raw else {
        return ListenerTracing::default();
    };
    if !traced {
        issues.push(
            path,
            "needs the top-level tracing block (an OTLP exporter); without it nothing is traced",
        );
    }
    let random_sampling = match &raw.random_sampling {
        None => DEFAULT_RANDOM_SAMPLING,
        Some(value) => {
            let parsed = percent(value);
            issues
                .check(&path.key("random_sampling"), parsed)
                .unwrap_or(DEFAULT_RANDOM_SAMPLING)
        }
    };
    ListenerTracing { random_sampling }
}

fn percent(value: &config::PercentValue) -> Result<Percent, String> {
    match value {
        config::PercentValue::Number(n) => Percent::new(*n),
        config::PercentValue::Text(text) => {
            let number = text.trim().strip_suffix('%').unwrap_or(text).trim();
            let n: f64 = number
                .parse()
                .map_err(|_| format!("{text:?} is not a percentage (expected e.g. \"1%\" or 0.5)"))?;
            Percent::new(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_with_or_without_the_sign() {
        let text = |s: &str| percent(&config::PercentValue::Text(s.into()));
        assert_eq!(text("1%"), Percent::new(1.0));
        assert_eq!(text(" 12.5 % "), Percent::new(12.5));
        assert_eq!(text("100"), Ok(Percent::HUNDRED));
        assert_eq!(percent(&config::PercentValue::Number(0.5)), Percent::new(0.5));
        assert!(text("101%").is_err());
        assert!(text("lots").is_err());
        assert!(text("%").is_err());
        assert!(percent(&config::PercentValue::Number(-1.0)).is_err());
    }
}
