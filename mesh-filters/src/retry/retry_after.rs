//! Reading `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The wait a `Retry-After` value asks for, measured from `now`; a date in the past asks
/// for none. Only the IMF-fixdate form of dates (`Sun, 06 Nov 1994 08:49:37 GMT`) is read:
/// RFC 9110 requires senders to use it, and the two obsolete forms are not worth a
/// dependency. `None` when the value is neither.
pub fn parse(value: &http::HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // A huge number of seconds still parses; the caller's cap rejects it.
        return Some(Duration::from_secs(text.parse().unwrap_or(u64::MAX)));
    }
    let at = UNIX_EPOCH + Duration::from_secs(imf_fixdate(text)?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Seconds since the Unix epoch of an IMF-fixdate, or `None` if malformed.
fn imf_fixdate(text: &str) -> Option<u64> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (day_name, rest) = text.split_once(", ")?;
    let mut parts = rest.split(' ');
    let (day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || zone != "GMT" || !DAYS.contains(&day_name) {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    let day = fixed_digits(day, 2)?;
    let year = fixed_digits(year, 4)?;
    let mut hms = time.split(':');
    let (h, m, s) = (
        fixed_digits(hms.next()?, 2)?,
        fixed_digits(hms.next()?, 2)?,
        fixed_digits(hms.next()?, 2)?,
    );
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month as u64, day);
    Some(days * 86_400 + h * 3_600 + m * 60 + s)
}

/// Exactly `len` ASCII digits.
fn fixed_digits(text: &str, len: usize) -> Option<u64> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's algorithm), for years
/// from 1970 on, where every intermediate value is non-negative.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hv(s: &str) -> http::HeaderValue {
        http::HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse(&hv("120"), now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse(&hv("Sun, 06 Nov 1994 08:49:37 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse(&hv("Sun, 06 Nov 1994 08:50:07 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse(&hv("Sat, 01 Mar 2025 00:00:00 GMT"), UNIX_EPOCH),
            Some(Duration::from_secs(1_740_787_200))
        );
        assert_eq!(
            parse(&hv("Sat, 05 Nov 1994 08:49:37 GMT"), now),
            Some(Duration::ZERO)
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
        ] {
            assert_eq!(parse(&hv(bad), now), None, "{bad:?}");
        }
    }
}
