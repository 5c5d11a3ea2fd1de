//! Values on the command line: durations, time-outs, offsets, certificate validities.

use std::time::Duration;

use cce_autopilot::CertDuration;

/// Parses `30`, `-1` or `max`.
pub fn parse_cert_duration(s: &str) -> Result<CertDuration, String> {
    s.parse()
        .map_err(|e: cce_autopilot::InvalidDuration| e.to_string())
}

/// The longest time-out of a call, a lock wait or a read: a day. Longer is a typo, and the clock
/// arithmetic of larger values overflows.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// The longest look-ahead (`refresh --within`, `credential --renew-before`) and clock offset: ten years
/// (of 365.25 days, humantime's), twice the longest certificate the service issues.
pub const MAX_HORIZON: Duration = Duration::from_secs(10 * 31_557_600);

/// Parses `90` (seconds), `90s`, `15m`, `2h`, `1d`, `1h30m` (humantime's units), at most [`MAX_HORIZON`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    parse_at_most(s, MAX_HORIZON)
}

/// Like [`parse_duration`], refusing anything longer than `max` with a message that names it.
fn parse_at_most(s: &str, max: Duration) -> Result<Duration, String> {
    let s = s.trim();
    let parsed = match s.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        // humantime's own overflow message names no maximum; ours does.
        Err(_) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => Duration::MAX,
        Err(_) => humantime::parse_duration(s).map_err(|e| match e {
            humantime::DurationError::NumberOverflow => too_long(s, max),
            e => format!("invalid duration {s:?}: {e}; e.g. 30s, 15m, 2h, 7d"),
        })?,
    };
    if parsed > max {
        return Err(too_long(s, max));
    }
    Ok(parsed)
}

fn too_long(s: &str, max: Duration) -> String {
    format!(
        "invalid duration {s:?}: the maximum is {} ({} s)",
        humantime::format_duration(max),
        max.as_secs()
    )
}

/// A Kubernetes namespace name (an RFC 1123 label): 1 to 63 lower-case letters, digits and '-', starting and
/// ending with a letter or digit.
pub fn parse_namespace(s: &str) -> Result<String, String> {
    let ok = (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "{:?} is not a namespace name: 1 to 63 lower-case letters, digits and '-', starting and ending              with a letter or digit",
            s.escape_debug().to_string()
        ))
    }
}

/// A time-out: a duration longer than zero, at most [`MAX_TIMEOUT`].
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match parse_at_most(s, MAX_TIMEOUT)? {
        d if d.is_zero() => Err(format!(
            "invalid time-out {s:?}: it must be longer than zero, e.g. 30s"
        )),
        d => Ok(d),
    }
}

/// A signed duration, e.g. `20m` or `-20m`, at most [`MAX_HORIZON`] either way.
pub fn parse_offset(s: &str) -> Result<i64, String> {
    let (sign, rest) = match s.trim().strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.trim().trim_start_matches('+')),
    };
    let secs =
        i64::try_from(parse_duration(rest)?.as_secs()).map_err(|_| too_long(s, MAX_HORIZON))?;
    Ok(sign * secs)
}

/// The time-out of commands that do not say otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 fortnights").is_err());
        for huge in [
            "99999999999999999999d",
            "99999999999d",
            "18446744073709551615",
            "3653d",
        ] {
            let err = parse_duration(huge).unwrap_err();
            assert!(err.contains("the maximum is 10years"), "{huge}: {err}");
        }
        assert!(parse_duration("3652d").is_ok());
        let err = parse_timeout("18446744073709551615s").unwrap_err();
        assert!(err.contains("the maximum is 1day (86400 s)"), "{err}");
        assert_eq!(parse_timeout("1d").unwrap(), MAX_TIMEOUT);
        assert!(
            parse_offset("-99999999999d")
                .unwrap_err()
                .contains("maximum")
        );
        assert!(parse_timeout("0").unwrap_err().contains("longer than zero"));
        assert!(parse_timeout("0s").is_err());
        assert_eq!(parse_offset("-20m").unwrap(), -1200);
        assert_eq!(parse_offset("20m").unwrap(), 1200);
        assert_eq!(parse_cert_duration("max").unwrap(), CertDuration::MAX);
        assert!(parse_cert_duration("0").unwrap_err().contains("1 to 1827"));
    }
}
