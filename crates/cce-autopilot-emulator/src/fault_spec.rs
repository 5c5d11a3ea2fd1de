//! Faults written as text, for `emulator serve --fault …`: one `KEY=VALUE` per item, items combined.
//!
//! | item | meaning |
//! |---|---|
//! | `latency=200ms` | wait this long before every answer in scope |
//! | `503=TRIGGER`, `429=TRIGGER` | refuse the calls TRIGGER selects with that status and `Retry-After` |
//! | `drop=TRIGGER` | close the connection of those calls without an answer |
//! | `truncate=TRIGGER` | send only half of those answers' bodies |
//! | `retry-after=2s` | the `Retry-After` of refused calls (whole seconds) |
//! | `seed=N` | the seed of the random triggers |
//! | `scope=certificate\|gateway\|all` | the certificate API only (default), with IAM, or every route |
//! | `metadata=rotate` | the ECS metadata service hands out new credentials on every fetch |
//!
//! TRIGGER is `always`, `never`, `first:N` (the first N calls in scope), `every:N` (the Nth, 2Nth, …
//! call in scope), or a share of calls: `25%` or `0.25`.
//!
//! ```
//! use cce_autopilot_emulator::{Faults, RejectStatus, Trigger};
//!
//! let faults = Faults::none().with_spec("503=first:3")?.with_spec("latency=50ms")?;
//! assert_eq!(faults.reject, Trigger::First(3));
//! assert_eq!(faults.reject_status, RejectStatus::ServiceUnavailable);
//! assert_eq!(faults.latency, std::time::Duration::from_millis(50));
//! assert!(Faults::none().with_spec("503=sometimes").is_err());
//! # Ok::<(), String>(())
//! ```

use std::str::FromStr;

use crate::faults::{FaultScope, Faults, RejectStatus, Trigger};

impl FromStr for Trigger {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let share = |value: &str, scale: f64| {
            value
                .parse::<f64>()
                .ok()
                .map(|v| v / scale)
                .filter(|v| (0.0..=1.0).contains(v))
                .map(Trigger::Share)
        };
        let trigger = match text {
            "always" => Some(Trigger::Always),
            "never" => Some(Trigger::Never),
            _ => match (
                text.strip_prefix("first:"),
                text.strip_prefix("every:"),
                text.strip_suffix('%'),
            ) {
                (Some(n), _, _) => n.trim().parse().ok().map(Trigger::First),
                (None, Some(n), _) => n.trim().parse().ok().filter(|n| *n > 0).map(Trigger::Every),
                (None, None, Some(percent)) => share(percent.trim(), 100.0),
                (None, None, None) => share(text, 1.0),
            },
        };
        trigger.ok_or_else(|| {
            format!(
                "invalid trigger {text:?}: use always, never, first:N, every:N, a percentage such as 25%, or a share such as 0.25"
            )
        })
    }
}

impl Faults {
    /// These faults with one more `KEY=VALUE` item (see the module's table).
    pub fn with_spec(mut self, item: &str) -> Result<Self, String> {
        let Some((key, value)) = item.split_once('=') else {
            return Err(format!(
                "invalid fault {item:?}: expected KEY=VALUE, e.g. 503=first:3, drop=10%, latency=200ms"
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        let duration = |value: &str| {
            humantime::parse_duration(value)
                .map_err(|e| format!("invalid fault {item:?}: {e} (e.g. 200ms, 2s)"))
        };
        match key {
            "latency" => self.latency = duration(value)?,
            "retry-after" => self.retry_after = duration(value)?,
            "503" | "429" => {
                self.reject = value.parse()?;
                self.reject_status = if key == "503" {
                    RejectStatus::ServiceUnavailable
                } else {
                    RejectStatus::TooManyRequests
                };
            }
            "drop" => self.drop_connection = value.parse()?,
            "truncate" => self.truncate_body = value.parse()?,
            "seed" => {
                self.seed = value
                    .parse()
                    .map_err(|_| format!("invalid fault {item:?}: the seed is a whole number"))?;
            }
            "scope" => {
                self.scope = match value {
                    "certificate" => FaultScope::Certificate,
                    "gateway" => FaultScope::Gateway,
                    "all" => FaultScope::All,
                    _ => {
                        return Err(format!(
                            "invalid fault {item:?}: the scope is certificate, gateway or all"
                        ));
                    }
                };
            }
            "metadata" if value == "rotate" => self.rotate_metadata_credentials = true,
            "metadata" => {
                return Err(format!(
                    "invalid fault {item:?}: the only metadata fault is metadata=rotate"
                ));
            }
            _ => {
                return Err(format!(
                    "unknown fault {key:?}: use latency, 503, 429, drop, truncate, retry-after, seed, scope or metadata"
                ));
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn triggers_read_every_documented_form() {
        assert_eq!("always".parse(), Ok(Trigger::Always));
        assert_eq!("never".parse(), Ok(Trigger::Never));
        assert_eq!("first:3".parse(), Ok(Trigger::First(3)));
        assert_eq!("every:10".parse(), Ok(Trigger::Every(10)));
        assert_eq!("25%".parse(), Ok(Trigger::Share(0.25)));
        assert_eq!("0.5".parse(), Ok(Trigger::Share(0.5)));
        for bad in [
            "",
            "first:",
            "first:-1",
            "every:0",
            "every:",
            "150%",
            "2",
            "sometimes",
        ] {
            assert!(bad.parse::<Trigger>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn items_combine() {
        let faults = [
            "429=first:2",
            "drop=10%",
            "truncate=always",
            "retry-after=2s",
            "seed=7",
            "scope=gateway",
        ]
        .iter()
        .try_fold(Faults::none(), |f, item| f.with_spec(item))
        .unwrap();
        assert_eq!(faults.reject, Trigger::First(2));
        assert_eq!(faults.reject_status, RejectStatus::TooManyRequests);
        assert_eq!(faults.drop_connection, Trigger::Share(0.1));
        assert_eq!(faults.truncate_body, Trigger::Always);
        assert_eq!(faults.retry_after, Duration::from_secs(2));
        assert_eq!(faults.seed, 7);
        assert_eq!(faults.scope, FaultScope::Gateway);
    }

    #[test]
    fn mistakes_are_named() {
        let err = Faults::none().with_spec("latency=soon").unwrap_err();
        assert!(err.contains("latency=soon"), "{err}");
        let err = Faults::none().with_spec("500=always").unwrap_err();
        assert!(err.contains("unknown fault \"500\""), "{err}");
        assert!(Faults::none().with_spec("drop").is_err());
    }
}
