//! The emulator's clock: the system clock plus an offset that tests set to simulate client clock skew.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use rustls::pki_types::UnixTime;
use time::OffsetDateTime;

/// System time shifted by a signed number of seconds; shared by the gateway, the certificate authority
/// and the TLS verifier of the API-server stubs, so that all of them agree on "now".
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    pub(crate) fn new(offset_secs: i64) -> Self {
        Self {
            offset_secs: Arc::new(AtomicI64::new(offset_secs)),
        }
    }

    pub(crate) fn offset_secs(&self) -> i64 {
        self.offset_secs.load(Ordering::Relaxed)
    }

    pub(crate) fn set_offset_secs(&self, secs: i64) {
        self.offset_secs.store(secs, Ordering::Relaxed);
    }

    pub(crate) fn now_system(&self) -> SystemTime {
        let offset = self.offset_secs();
        let magnitude = Duration::from_secs(offset.unsigned_abs());
        let now = SystemTime::now();
        if offset >= 0 {
            now.checked_add(magnitude).unwrap_or(now)
        } else {
            now.checked_sub(magnitude).unwrap_or(now)
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from(self.now_system())
    }
}

/// Lets rustls check client certificates against the emulator's clock, not the system's, so that a
/// certificate issued while the clock is shifted is valid on the stub that belongs to the same emulator.
impl rustls::time_provider::TimeProvider for Clock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(
            self.now_system()
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_shifts_now_both_ways() {
        let clock = Clock::new(3600);
        let delta = clock.now().unix_timestamp() - OffsetDateTime::now_utc().unix_timestamp();
        assert!((3599..=3601).contains(&delta), "{delta}");
        clock.set_offset_secs(-3600);
        let delta = clock.now().unix_timestamp() - OffsetDateTime::now_utc().unix_timestamp();
        assert!((-3601..=-3599).contains(&delta), "{delta}");
    }
}
