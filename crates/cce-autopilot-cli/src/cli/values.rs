//! Values on the command line: durations, time-outs, offsets, certificate validities.

use std::time::Duration;

use cce_autopilot::CertDuration;

use super::GlobalArgs;

/// Parses `30`, `-1` or `max`.
pub fn parse_cert_duration(s: &str) -> Result<CertDuration, String> {
    s.parse()
        .map_err(|e: cce_autopilot::InvalidDuration| e.to_string())
}

/// Parses `90` (seconds), `90s`, `15m`, `2h`, `1d`, `1h30m` (humantime's units).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(seconds) = s.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("invalid duration {s:?}: {e}; e.g. 30s, 15m, 2h, 7d"))
}

/// A time-out: a duration longer than zero.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!(
            "invalid time-out {s:?}: it must be longer than zero, e.g. 30s"
        )),
        d => Ok(d),
    }
}

/// A signed duration, e.g. `20m` or `-20m`.
pub fn parse_offset(s: &str) -> Result<i64, String> {
    let (sign, rest) = match s.trim().strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.trim().trim_start_matches('+')),
    };
    let secs = i64::try_from(parse_duration(rest)?.as_secs())
        .map_err(|_| format!("invalid offset {s:?}: too large"))?;
    Ok(sign * secs)
}

impl GlobalArgs {
    /// `--timeout`, else `default`.
    pub fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }
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
        let huge = parse_duration("99999999999999999999d").unwrap_err();
        assert!(huge.contains("invalid duration"), "{huge}");
        assert!(parse_timeout("0").unwrap_err().contains("longer than zero"));
        assert!(parse_timeout("0s").is_err());
        assert_eq!(parse_offset("-20m").unwrap(), -1200);
        assert_eq!(parse_offset("20m").unwrap(), 1200);
        assert_eq!(parse_cert_duration("max").unwrap(), CertDuration::MAX);
        assert!(parse_cert_duration("0").unwrap_err().contains("1 to 1827"));
    }
}
