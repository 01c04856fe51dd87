//! Durations as humans write them in config: `250ms`, `15s`, `5m`, `1h`, `1m30s`.
//!
//! A bare number is refused: `timeout: 15` is ambiguous (Envoy's YAML means seconds,
//! many people mean milliseconds), so the unit is always spelled out.

use std::fmt;
use std::time::Duration;

/// Parses `"1h2m3s4ms"`-style durations. Units: `h`, `m`, `s`, `ms`, `us`, `ns`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("is empty; write a duration such as \"250ms\" or \"15s\"".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "{text:?} is not a duration (expected e.g. \"250ms\", \"15s\")"
            ));
        }
        let value: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?} is too large a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "h" => value.checked_mul(3600).map(Duration::from_secs),
            "m" => value.checked_mul(60).map(Duration::from_secs),
            "s" => Some(Duration::from_secs(value)),
            "ms" => Some(Duration::from_millis(value)),
            "us" | "µs" => Some(Duration::from_micros(value)),
            "ns" => Some(Duration::from_nanos(value)),
            "" => {
                return Err(format!(
                    "{text:?} has no unit; write e.g. \"{value}s\" or \"{value}ms\""
                ));
            }
            other => {
                return Err(format!(
                    "{text:?} has an unknown unit {other:?} (use h, m, s, ms)"
                ));
            }
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| format!("{text:?} is too large a duration"))?;
    }
    Ok(total)
}

/// Formats a duration the way [`parse`] reads it back, for config dumps and errors.
pub fn format(d: Duration) -> String {
    Display(d).to_string()
}

/// `Display` adapter producing the compact form (`1m30s`, `250ms`, `0s`).
#[derive(Debug, Clone, Copy)]
pub struct Display(pub Duration);

impl fmt::Display for Display {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.is_zero() {
            return f.write_str("0s");
        }
        let secs = d.as_secs();
        let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
        let nanos = d.subsec_nanos();
        let (ms, rest) = (nanos / 1_000_000, nanos % 1_000_000);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        if ms > 0 {
            write!(f, "{ms}ms")?;
        }
        // Below a millisecond: exact, so `parse(format(d)) == d` for every duration.
        match rest {
            0 => {}
            r if r % 1000 == 0 => write!(f, "{}us", r / 1000)?,
            r => write!(f, "{r}ns")?,
        }
        Ok(())
    }
}

/// Serde helpers so policy types can be dumped (`/config_dump`) in the same notation.
pub mod serde_str {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&super::Display(*d))
    }

    pub mod option {
        use serde::Serializer;
        use std::time::Duration;

        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.collect_str(&super::super::Display(*d)),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_bare_numbers_and_unknown_units() {
        assert!(parse("15").unwrap_err().contains("no unit"));
        assert!(parse("3d").unwrap_err().contains("unknown unit"));
        assert!(parse("").is_err());
        assert!(parse("s").is_err());
        assert!(parse("99999999999999999999s").is_err());
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "0s", "250ms", "15s", "1m30s", "1h", "2h5m", "1s500ms", "1s1ns", "2ms500us", "1500ns",
        ] {
            let d = parse(text).unwrap();
            assert_eq!(format(d), text);
            assert_eq!(parse(&format(d)), Ok(d));
        }
    }

    proptest::proptest! {
        #[test]
        fn format_then_parse_is_the_identity(secs in proptest::num::u64::ANY, nanos in 0u32..1_000_000_000) {
            let d = Duration::new(secs, nanos);
            proptest::prop_assert_eq!(parse(&format(d)), Ok(d));
        }

        #[test]
        fn parse_never_panics(text in "[0-9hmsunµ. -]{0,20}|\\PC{0,12}") {
            let _ = parse(&text);
        }

        #[test]
        fn parse_reads_any_sum_of_units(h in 0u64..1000, m in 0u64..1000, s in 0u64..1000, ms in 0u64..1000) {
            let text = format!("{h}h{m}m{s}s{ms}ms");
            let want = Duration::from_secs(h * 3600 + m * 60 + s) + Duration::from_millis(ms);
            proptest::prop_assert_eq!(parse(&text), Ok(want));
        }
    }
}
