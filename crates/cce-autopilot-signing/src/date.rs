//! `X-Sdk-Date` values (`YYYYMMDDTHHMMSSZ`, UTC) to and from Unix seconds, without a date crate.
//!
//! The conversions use the proleptic Gregorian calendar via the well-known days-from-civil /
//! civil-from-days arithmetic (eras of 400 years = 146 097 days, years starting in March so that
//! the leap day is the last day of the year).

use crate::SignError;

const SECONDS_PER_DAY: i64 = 86_400;
/// Days from 0000-03-01 (the start of era 0) to 1970-01-01.
const UNIX_EPOCH_DAYS: i64 = 719_468;
const DAYS_PER_ERA: i64 = 146_097;

/// Formats Unix seconds as an `X-Sdk-Date` value, e.g. `1795867200` -> `20261128T120000Z`.
///
/// Only years 0000 to 9999 fit the format; outside that range the year is printed with more digits
/// (or a `-` sign), which [`parse_sdk_date`] rejects.
pub fn format_sdk_date(unix_seconds: i64) -> String {
    let (days, seconds) = (
        unix_seconds.div_euclid(SECONDS_PER_DAY),
        unix_seconds.rem_euclid(SECONDS_PER_DAY),
    );
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// Parses an `X-Sdk-Date` value into Unix seconds.
///
/// Strict: exactly `YYYYMMDDTHHMMSSZ`, a real calendar date, hours 00-23, minutes and seconds
/// 00-59 (no leap second, which the SDKs never send).
pub fn parse_sdk_date(s: &str) -> Result<i64, SignError> {
    let invalid = || SignError::InvalidDate(s.to_owned());
    let bytes = s.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return Err(invalid());
    }
    let number = |from: usize, to: usize| -> Result<i64, SignError> {
        bytes[from..to].iter().try_fold(0, |acc, &b| {
            if b.is_ascii_digit() {
                Ok(acc * 10 + i64::from(b - b'0'))
            } else {
                Err(invalid())
            }
        })
    };
    let (year, month, day) = (number(0, 4)?, number(4, 6)?, number(6, 8)?);
    let (hour, minute, second) = (number(9, 11)?, number(11, 13)?, number(13, 15)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(invalid());
    }
    Ok(days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Count years from March so February's variable length falls at the end of the year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - UNIX_EPOCH_DAYS
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + UNIX_EPOCH_DAYS;
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days - era * DAYS_PER_ERA;
    // Subtract the leap days seen so far in the era, so that dividing by 365 gives the year.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range the format can express.
    const MIN_SECONDS: i64 = -62_167_219_200;
    const MAX_SECONDS: i64 = 253_402_300_799;

    #[test]
    fn formats_known_dates() {
        for (seconds, expected) in [
            (0, "19700101T000000Z"),
            (1_795_867_200, "20261128T120000Z"),
            (951_782_400, "20000229T000000Z"),
            (-1, "19691231T235959Z"),
            (1_709_251_199, "20240229T235959Z"),
            (MIN_SECONDS, "00000101T000000Z"),
            (MAX_SECONDS, "99991231T235959Z"),
        ] {
            assert_eq!(format_sdk_date(seconds), expected, "{seconds}");
            assert_eq!(parse_sdk_date(expected).ok(), Some(seconds), "{expected}");
        }
    }

    #[test]
    fn parse_rejects_malformed_values() {
        for bad in [
            "",
            "20261128T120000",
            "20261128T120000z",
            "20261128 120000Z",
            "2026-11-28T12:00:00Z",
            "20261128T120000ZZ",
            "2026112XT120000Z",
            "+0261128T120000Z",
            "20261328T120000Z",
            "20261100T120000Z",
            "20261131T120000Z",
            "20250229T120000Z",
            "21000229T120000Z",
            "20261128T240000Z",
            "20261128T126000Z",
            "20261128T120060Z",
            "２0261128T120000Z",
        ] {
            assert!(parse_sdk_date(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn parse_accepts_leap_days() {
        assert!(parse_sdk_date("20000229T000000Z").is_ok());
        assert!(parse_sdk_date("20240229T000000Z").is_ok());
    }

    #[test]
    fn format_does_not_panic_at_the_extremes() {
        assert!(parse_sdk_date(&format_sdk_date(i64::MAX)).is_err());
        assert!(parse_sdk_date(&format_sdk_date(i64::MIN)).is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(seconds in MIN_SECONDS..=MAX_SECONDS) {
            let formatted = format_sdk_date(seconds);
            prop_assert_eq!(formatted.len(), 16);
            prop_assert_eq!(parse_sdk_date(&formatted).ok(), Some(seconds));
        }

        #[test]
        fn parse_then_format_round_trips(
            year in 0i64..=9999, month in 1i64..=12, day in 1i64..=31,
            hour in 0i64..24, minute in 0i64..60, second in 0i64..60,
        ) {
            let text = format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z");
            match parse_sdk_date(&text) {
                Ok(seconds) => prop_assert_eq!(format_sdk_date(seconds), text),
                Err(_) => prop_assert!(day > days_in_month(year, month)),
            }
        }
    }
}
