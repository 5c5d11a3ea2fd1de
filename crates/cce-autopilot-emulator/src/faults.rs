//! Fault injection: latency, error statuses with `Retry-After`, dropped connections and truncated bodies,
//! chosen per call by a counter or a seeded random generator so that every run is reproducible.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// Which calls a fault hits. Calls are counted from the start of the emulator or from the last
/// [`EmulatorHandle::set_faults`](crate::EmulatorHandle::set_faults), over the routes of the
/// [`FaultScope`] only.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum Trigger {
    /// No call.
    #[default]
    Never,
    /// Every call.
    Always,
    /// The first `n` calls, then none.
    First(u32),
    /// Every `n`th call: the `n`th, the `2n`th, … (0 means none).
    Every(u32),
    /// Each call with this probability (0.0 to 1.0; values outside are clamped, NaN counts as 0),
    /// drawn from a generator seeded with [`Faults::seed`].
    Share(f64),
}

impl Trigger {
    /// Whether call number `index` (0-based) is hit. Draws from `rng` only for [`Trigger::Share`], so the
    /// sequence of draws depends on the configuration and the number of calls, nothing else.
    fn fires(self, index: u64, rng: &mut StdRng) -> bool {
        match self {
            Trigger::Never => false,
            Trigger::Always => true,
            Trigger::First(n) => index < u64::from(n),
            Trigger::Every(n) => n > 0 && (index + 1).is_multiple_of(u64::from(n)),
            Trigger::Share(share) => {
                let share = if share.is_nan() {
                    0.0
                } else {
                    share.clamp(0.0, 1.0)
                };
                rng.random::<f64>() < share
            }
        }
    }
}

/// The status of a refused call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectStatus {
    /// 429, gateway throttling: `APIGW.0308`.
    #[default]
    TooManyRequests,
    /// 503, service unavailable: `APIGW.0203`.
    ServiceUnavailable,
}

impl RejectStatus {
    /// The HTTP status code.
    pub fn code(self) -> u16 {
        match self {
            RejectStatus::TooManyRequests => 429,
            RejectStatus::ServiceUnavailable => 503,
        }
    }
}

/// Which routes faults apply to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultScope {
    /// Only the cluster-certificate API (`/autopilot/...`): the service under test.
    #[default]
    Certificate,
    /// The cluster-certificate API and the IAM project lookup: everything behind the gateway.
    Gateway,
    /// Every route, the ECS metadata endpoints and unknown paths included.
    All,
}

/// Faults to inject. The default injects none.
///
/// For each call in scope the emulator first waits [`latency`](Faults::latency), then evaluates the three
/// triggers (all of them, every call, so the random sequence stays reproducible) and applies the first that
/// fires, in this order: drop the connection, refuse with an error status, truncate the real answer.
///
/// ```
/// use std::time::Duration;
/// use cce_autopilot_emulator::{Faults, RejectStatus, Trigger};
///
/// // The first two calls get 503 with `Retry-After: 1`, then every call succeeds after 50 ms.
/// let faults = Faults::default()
///     .with_reject(Trigger::First(2), RejectStatus::ServiceUnavailable)
///     .with_latency(Duration::from_millis(50));
/// assert_eq!(faults.reject, Trigger::First(2));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// Added before every answer in scope (dropped connections included).
    pub latency: Duration,
    /// Calls refused with [`reject_status`](Faults::reject_status) and a `Retry-After` header.
    pub reject: Trigger,
    /// 429 or 503.
    pub reject_status: RejectStatus,
    /// The `Retry-After` value, in whole seconds (rounded down).
    pub retry_after: Duration,
    /// Calls whose connection is closed without any answer.
    pub drop_connection: Trigger,
    /// Calls whose answer advertises its full `Content-Length` but sends only the first half of the body
    /// before the connection is closed.
    pub truncate_body: Trigger,
    /// Seed of the generator behind [`Trigger::Share`].
    pub seed: u64,
    /// Which routes are affected.
    pub scope: FaultScope,
    /// The ECS metadata service hands out new credentials on every fetch, instead of the same ones until
    /// half their lifetime has passed (a server whose agency credentials rotate under its clients).
    pub rotate_metadata_credentials: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            reject: Trigger::Never,
            reject_status: RejectStatus::TooManyRequests,
            retry_after: Duration::from_secs(1),
            drop_connection: Trigger::Never,
            truncate_body: Trigger::Never,
            seed: 0,
            scope: FaultScope::Certificate,
            rotate_metadata_credentials: false,
        }
    }
}

impl Faults {
    /// No faults at all (the same as `Faults::default()`).
    pub fn none() -> Self {
        Self::default()
    }

    /// With this latency before every answer.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Refusing the calls `trigger` selects with `status`.
    pub fn with_reject(mut self, trigger: Trigger, status: RejectStatus) -> Self {
        self.reject = trigger;
        self.reject_status = status;
        self
    }

    /// With this `Retry-After` on refused calls.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Dropping the connection of the calls `trigger` selects.
    pub fn with_drop_connection(mut self, trigger: Trigger) -> Self {
        self.drop_connection = trigger;
        self
    }

    /// Truncating the answers of the calls `trigger` selects.
    pub fn with_truncate_body(mut self, trigger: Trigger) -> Self {
        self.truncate_body = trigger;
        self
    }

    /// With this seed for [`Trigger::Share`].
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Applying to these routes.
    pub fn with_scope(mut self, scope: FaultScope) -> Self {
        self.scope = scope;
        self
    }
}

/// What happened to a call because of a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answered with 429 or 503 instead of being handled.
    Rejected,
    /// The connection was closed without an answer.
    Dropped,
    /// The answer was cut in half.
    Truncated,
}

/// The decision for one call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decision {
    pub(crate) latency: Duration,
    pub(crate) fault: Option<FaultKind>,
    pub(crate) reject_status: RejectStatus,
    pub(crate) retry_after_secs: u64,
}

/// The live configuration with its call counter and random generator.
#[derive(Debug)]
pub(crate) struct FaultState {
    faults: Faults,
    calls: u64,
    rng: StdRng,
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = StdRng::seed_from_u64(faults.seed);
        Self {
            faults,
            calls: 0,
            rng,
        }
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    pub(crate) fn scope(&self) -> FaultScope {
        self.faults.scope
    }

    /// Decides the fate of the next call in scope.
    pub(crate) fn decide(&mut self) -> Decision {
        let index = self.calls;
        self.calls = self.calls.saturating_add(1);
        let dropped = self.faults.drop_connection.fires(index, &mut self.rng);
        let rejected = self.faults.reject.fires(index, &mut self.rng);
        let truncated = self.faults.truncate_body.fires(index, &mut self.rng);
        let fault = if dropped {
            Some(FaultKind::Dropped)
        } else if rejected {
            Some(FaultKind::Rejected)
        } else if truncated {
            Some(FaultKind::Truncated)
        } else {
            None
        };
        Decision {
            latency: self.faults.latency,
            fault,
            reject_status: self.faults.reject_status,
            retry_after_secs: self.faults.retry_after.as_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults_of(state: &mut FaultState, n: usize) -> Vec<Option<FaultKind>> {
        (0..n).map(|_| state.decide().fault).collect()
    }

    #[test]
    fn first_n_then_none() {
        let mut state = FaultState::new(
            Faults::default().with_reject(Trigger::First(2), RejectStatus::ServiceUnavailable),
        );
        assert_eq!(
            faults_of(&mut state, 4),
            [
                Some(FaultKind::Rejected),
                Some(FaultKind::Rejected),
                None,
                None
            ]
        );
    }

    #[test]
    fn every_nth_call() {
        let mut state = FaultState::new(
            Faults::default().with_reject(Trigger::Every(3), RejectStatus::TooManyRequests),
        );
        let hits: Vec<usize> = faults_of(&mut state, 9)
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.map(|_| i + 1))
            .collect();
        assert_eq!(hits, [3, 6, 9]);
    }

    #[test]
    fn drop_wins_over_reject_and_truncate() {
        let faults = Faults::default()
            .with_drop_connection(Trigger::First(1))
            .with_reject(Trigger::First(2), RejectStatus::TooManyRequests)
            .with_truncate_body(Trigger::First(3));
        let mut state = FaultState::new(faults);
        assert_eq!(
            faults_of(&mut state, 4),
            [
                Some(FaultKind::Dropped),
                Some(FaultKind::Rejected),
                Some(FaultKind::Truncated),
                None
            ]
        );
    }

    #[test]
    fn shares_are_reproducible_and_roughly_right() {
        let faults = Faults::default()
            .with_reject(Trigger::Share(0.3), RejectStatus::TooManyRequests)
            .with_seed(42);
        let a = faults_of(&mut FaultState::new(faults.clone()), 1000);
        let b = faults_of(&mut FaultState::new(faults.clone()), 1000);
        assert_eq!(a, b);
        let hits = a.iter().filter(|f| f.is_some()).count();
        assert!((200..400).contains(&hits), "{hits}");
        let other = faults_of(&mut FaultState::new(faults.with_seed(43)), 1000);
        assert_ne!(a, other);
    }

    #[test]
    fn out_of_range_shares_are_clamped() {
        let always = Faults::default().with_drop_connection(Trigger::Share(7.0));
        assert!(
            faults_of(&mut FaultState::new(always), 50)
                .iter()
                .all(|f| *f == Some(FaultKind::Dropped))
        );
        let never = Faults::default().with_drop_connection(Trigger::Share(f64::NAN));
        assert!(
            faults_of(&mut FaultState::new(never), 50)
                .iter()
                .all(Option::is_none)
        );
    }
}
