//! One back-off for every call of a client and of the clients made from it ([`crate::Client::in_project`]):
//! when the service throttles (429, or a `Retry-After` on a gateway status), the whole fleet of calls waits,
//! not only the call that was refused — hammering on with the others would only earn more refusals.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What throttling cost the calls of a client so far ([`crate::Client::throttling`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Throttling {
    /// Answers that asked the client to slow down (429, or a gateway status with `Retry-After`).
    pub throttled_answers: u64,
    /// How long all calls were held in all (overlapping pauses counted once).
    pub paused: Duration,
}

/// The shared pause.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    until: Mutex<Option<Instant>>,
    throttled: AtomicU64,
    paused_ms: AtomicU64,
}

impl Backoff {
    /// Waits until the pause is over, but never past `deadline`.
    pub(crate) async fn wait(&self, deadline: Instant) {
        // A pause extended while this call slept holds it too.
        loop {
            let until = *self
                .until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match until.filter(|u| *u > Instant::now() && Instant::now() < deadline) {
                Some(until) => tokio::time::sleep_until(until.min(deadline).into()).await,
                None => return,
            }
        }
    }

    /// A throttled answer: every call holds off for `wait` from now (a longer pause already set stays).
    pub(crate) fn hold(&self, wait: Duration) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let Some(end) = now.checked_add(wait) else {
            return;
        };
        let mut until = self
            .until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let from = until.filter(|u| *u > now).unwrap_or(now);
        if end > from {
            let added = u64::try_from((end - from).as_millis()).unwrap_or(u64::MAX);
            self.paused_ms.fetch_add(added, Ordering::Relaxed);
            *until = Some(end);
        }
    }

    pub(crate) fn stats(&self) -> Throttling {
        Throttling {
            throttled_answers: self.throttled.load(Ordering::Relaxed),
            paused: Duration::from_millis(self.paused_ms.load(Ordering::Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_hold_delays_every_waiter_and_overlaps_count_once() {
        let backoff = Backoff::default();
        let far = Instant::now() + Duration::from_secs(60);
        backoff.hold(Duration::from_secs(2));
        backoff.hold(Duration::from_secs(1)); // inside the first pause: adds nothing
        let started = tokio::time::Instant::now();
        backoff.wait(far).await;
        assert!(started.elapsed() >= Duration::from_secs(2));
        let stats = backoff.stats();
        assert_eq!(stats.throttled_answers, 2);
        assert_eq!(stats.paused, Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_never_passes_the_deadline() {
        let backoff = Backoff::default();
        backoff.hold(Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        backoff.wait(Instant::now() + Duration::from_secs(1)).await;
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
