//! The request body: a certificate validity that can only hold values the service accepts.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use time::Date;

/// Validity of the requested client certificate: `-1` (the service's maximum, five years) or 1 to 1827 days.
///
/// Only values the contract allows can be constructed. The service's real ceiling depends on the day of
/// the request: five calendar years hold one or two leap days, so the longest validity is 1826 or 1827
/// days ([`CertDuration::max_days_on`]); [`CertDuration::check_on`] tells whether a value fits on a
/// given day. On the wire it is the request body `{"duration": <days>}`
/// (the vendor's `CertDuration` model); [`Deserialize`] accepts that object and rejects values out of range.
/// [`FromStr`] takes `30`, `-1` or `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CertDuration(i32);

/// A value that is neither `-1` nor within 1..=1827 days.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid certificate duration {value}: expected 1 to 1827 days, or -1 (or \"max\") for the five-year maximum"
)]
pub struct InvalidDuration {
    /// What was given, as text (it may not even have been a number).
    pub value: String,
}

impl CertDuration {
    /// The longest validity the service grants: five years, sent as `-1`.
    pub const MAX: CertDuration = CertDuration(-1);
    /// The shortest validity in days.
    pub const MIN_DAYS: i32 = 1;
    /// The longest validity that can be asked for in days (five years with two leap days).
    pub const MAX_DAYS: i32 = 1827;

    /// A validity of `days` days, 1 to 1827.
    pub fn days(days: i32) -> Result<Self, InvalidDuration> {
        if (Self::MIN_DAYS..=Self::MAX_DAYS).contains(&days) {
            Ok(Self(days))
        } else {
            Err(InvalidDuration {
                value: days.to_string(),
            })
        }
    }

    /// The value sent on the wire: `-1` or the number of days.
    pub fn get(self) -> i32 {
        self.0
    }

    /// Whether this asks for the service's maximum (`-1`).
    pub fn is_max(self) -> bool {
        self.0 == -1
    }

    /// The number of days asked for, or `None` for the maximum, whose length the service decides.
    pub fn days_value(self) -> Option<u32> {
        u32::try_from(self.0).ok()
    }
}

/// A number of days that the contract allows but that is longer than five calendar years from the day of
/// the request (the service refuses it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid certificate duration {days}: the longest validity for a certificate requested on {today} (UTC) \
     is {max_days} days, five years to {until}; ask for -1 (or \"max\") to get that maximum"
)]
pub struct DurationTooLong {
    /// The days asked for.
    pub days: i32,
    /// The longest validity on `today`.
    pub max_days: i32,
    /// The day of the request (UTC).
    pub today: Date,
    /// Five calendar years after `today`.
    pub until: Date,
}

/// The same calendar date five years after `date`; 29 February becomes 28 February (the year five years
/// after a leap year never is one).
pub fn five_years_after(date: Date) -> Date {
    let year = date.year() + 5;
    date.replace_year(year)
        .or_else(|_| date.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(date)
}

impl CertDuration {
    /// The longest validity, in days, of a certificate requested on `today` (UTC): the days from `today` to
    /// the same date five years on, 1826 or 1827 depending on the leap days in between.
    pub fn max_days_on(today: Date) -> i32 {
        i32::try_from((five_years_after(today) - today).whole_days()).unwrap_or(Self::MAX_DAYS)
    }

    /// This duration if the service grants it to a request made on `today` (UTC); `-1` always fits.
    pub fn check_on(self, today: Date) -> Result<Self, DurationTooLong> {
        let max_days = Self::max_days_on(today);
        if self.0 > max_days {
            Err(DurationTooLong {
                days: self.0,
                max_days,
                today,
                until: five_years_after(today),
            })
        } else {
            Ok(self)
        }
    }
}

impl TryFrom<i32> for CertDuration {
    type Error = InvalidDuration;

    fn try_from(value: i32) -> Result<Self, Self::Error> {
        if value == -1 {
            Ok(Self::MAX)
        } else {
            Self::days(value)
        }
    }
}

impl TryFrom<i64> for CertDuration {
    type Error = InvalidDuration;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        i32::try_from(value)
            .map_err(|_| InvalidDuration {
                value: value.to_string(),
            })
            .and_then(Self::try_from)
    }
}

impl From<CertDuration> for i32 {
    fn from(value: CertDuration) -> Self {
        value.0
    }
}

impl FromStr for CertDuration {
    type Err = InvalidDuration;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.eq_ignore_ascii_case("max") {
            return Ok(Self::MAX);
        }
        trimmed
            .parse::<i32>()
            .map_err(|_| InvalidDuration {
                value: s.to_owned(),
            })
            .and_then(Self::try_from)
    }
}

impl fmt::Display for CertDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_max() {
            f.write_str("max (5 years)")
        } else if self.0 == 1 {
            f.write_str("1 day")
        } else {
            write!(f, "{} days", self.0)
        }
    }
}

impl Serialize for CertDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("CertDuration", 1)?;
        body.serialize_field("duration", &self.0)?;
        body.end()
    }
}

impl<'de> Deserialize<'de> for CertDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BodyVisitor;

        impl<'de> Visitor<'de> for BodyVisitor {
            type Value = CertDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an object {"duration": <-1 or 1..=1827>}"#)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CertDuration, A::Error> {
                let mut duration: Option<i64> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "duration" {
                        if duration.is_some() {
                            return Err(de::Error::duplicate_field("duration"));
                        }
                        duration = Some(map.next_value()?);
                    } else {
                        // The service ignores fields it does not know; so do we.
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                let days = duration.ok_or_else(|| de::Error::missing_field("duration"))?;
                CertDuration::try_from(days).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_map(BodyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_constructors_and_bounds() {
        assert_eq!(CertDuration::days(1).map(CertDuration::get), Ok(1));
        assert_eq!(CertDuration::days(1827).map(CertDuration::get), Ok(1827));
        assert!(CertDuration::days(0).is_err());
        assert!(CertDuration::days(1828).is_err());
        assert!(
            CertDuration::days(-1).is_err(),
            "-1 is MAX, not a number of days"
        );
        assert_eq!(CertDuration::MAX.get(), -1);
        assert!(CertDuration::MAX.is_max());
        assert_eq!(CertDuration::MAX.days_value(), None);
    }

    #[test]
    fn from_str_accepts_numbers_minus_one_and_max() {
        assert_eq!("30".parse(), Ok(CertDuration(30)));
        assert_eq!(" -1 ".parse(), Ok(CertDuration::MAX));
        assert_eq!("max".parse(), Ok(CertDuration::MAX));
        assert_eq!("MAX".parse(), Ok(CertDuration::MAX));
        let err = "thirty".parse::<CertDuration>().unwrap_err();
        assert!(err.to_string().contains("\"thirty\"") || err.to_string().contains("thirty"));
        assert!("1.5".parse::<CertDuration>().is_err());
        assert!("".parse::<CertDuration>().is_err());
    }

    #[test]
    fn the_ceiling_is_five_calendar_years_from_today() {
        use time::macros::date;
        // 2026-12-01 .. 2031-12-01 holds one leap day (2028-02-29).
        assert_eq!(CertDuration::max_days_on(date!(2026 - 12 - 01)), 1826);
        // 2027-03-01 .. 2032-03-01 holds two (2028-02-29, 2032-02-29).
        assert_eq!(CertDuration::max_days_on(date!(2027 - 03 - 01)), 1827);
        // 2028-02-28 .. 2033-02-28 holds two (2028-02-29, 2032-02-29).
        assert_eq!(CertDuration::max_days_on(date!(2028 - 02 - 28)), 1827);
        // 2028-03-01 .. 2033-03-01 holds one (2032-02-29).
        assert_eq!(CertDuration::max_days_on(date!(2028 - 03 - 01)), 1826);
        // A start on 29 February ends on 28 February: 2028-02-29 .. 2033-02-28 holds 2032-02-29.
        assert_eq!(
            five_years_after(date!(2028 - 02 - 29)),
            date!(2033 - 02 - 28)
        );
        assert_eq!(CertDuration::max_days_on(date!(2028 - 02 - 29)), 1826);
    }

    #[test]
    fn check_on_refuses_only_what_exceeds_the_day_s_ceiling() {
        use time::macros::date;
        let today = date!(2026 - 12 - 01);
        let err = CertDuration::days(1827)
            .unwrap()
            .check_on(today)
            .unwrap_err();
        assert_eq!((err.days, err.max_days), (1827, 1826));
        let text = err.to_string();
        assert!(text.contains("1826") && text.contains("-1"), "{text}");
        assert!(
            text.contains("2026-12-01") && text.contains("2031-12-01"),
            "{text}"
        );
        assert!(CertDuration::days(1826).unwrap().check_on(today).is_ok());
        assert!(CertDuration::MAX.check_on(today).is_ok());
        assert!(
            CertDuration::days(1827)
                .unwrap()
                .check_on(date!(2027 - 03 - 01))
                .is_ok()
        );
    }

    #[test]
    fn serde_uses_the_body_object() {
        let json = serde_json::to_string(&CertDuration(30)).unwrap();
        assert_eq!(json, r#"{"duration":30}"#);
        let back: CertDuration = serde_json::from_str(r#"{"duration": -1}"#).unwrap();
        assert_eq!(back, CertDuration::MAX);
    }

    #[test]
    fn deserialize_rejects_out_of_range_with_a_clear_message() {
        let err = serde_json::from_str::<CertDuration>(r#"{"duration": 0}"#).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("invalid certificate duration 0"), "{msg}");
        assert!(msg.contains("1 to 1827"), "{msg}");
        assert!(serde_json::from_str::<CertDuration>(r#"{"duration": 4294967296}"#).is_err());
        assert!(serde_json::from_str::<CertDuration>(r#"{"duration": "30"}"#).is_err());
        assert!(serde_json::from_str::<CertDuration>(r#"{"duration": 30.5}"#).is_err());
        assert!(serde_json::from_str::<CertDuration>(r#"{}"#).is_err());
        assert!(serde_json::from_str::<CertDuration>(r#"30"#).is_err());
    }
}
