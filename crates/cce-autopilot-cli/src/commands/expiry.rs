//! When the certificates of our static entries run out: for `refresh`, which renews them, and for the
//! warnings `update` and `inspect` print a week ahead.

use std::time::Duration;

use cce_autopilot_kubeconfig::managed::OwnerMark;
use cce_autopilot_kubeconfig::{KubeconfigPaths, KubeconfigSet};
use time::OffsetDateTime;

use cce_autopilot::certificate::{Certificate, rfc3339};

/// How far ahead `update` and `inspect` warn.
pub const WARN_WITHIN: Duration = Duration::from_secs(7 * 86_400);

/// A static user entry of ours and when its certificate expires.
#[derive(Clone, Debug)]
pub struct StaticEntry {
    /// The user entry's name.
    pub user: String,
    /// Its owner mark.
    pub mark: OwnerMark,
    /// The certificate's end of validity.
    pub not_after: OffsetDateTime,
}

/// Every user entry of ours with an embedded client certificate, in the merged view kubectl has.
pub fn static_entries(set: &KubeconfigSet) -> Vec<StaticEntry> {
    set.merged()
        .users
        .iter()
        .filter_map(|u| {
            let mark = u.owner_mark().and_then(OwnerMark::from_value)?;
            let data = u.user.client_certificate_data.as_deref()?;
            let pem = base64_decode(data)?;
            let not_after = Certificate::from_pem(&pem).ok()?.not_after().ok()?;
            Some(StaticEntry {
                user: u.name.clone(),
                mark,
                not_after,
            })
        })
        .collect()
}

fn base64_decode(data: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: String = data.split_ascii_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// The static entries whose certificate expires within `within` of `now`.
pub fn expiring(set: &KubeconfigSet, within: Duration, now: OffsetDateTime) -> Vec<StaticEntry> {
    // Past the end of the calendar, everything expires within it.
    let horizon = time::Duration::try_from(within)
        .ok()
        .and_then(|w| now.checked_add(w))
        .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
    static_entries(set)
        .into_iter()
        .filter(|e| e.not_after <= horizon)
        .collect()
}

/// Warns on stderr about our static entries that expire within a week; silent when the files cannot be read.
pub fn warn_expiring(paths: &KubeconfigPaths) {
    let Ok(set) = KubeconfigSet::load(paths) else {
        return;
    };
    let now = OffsetDateTime::now_utc();
    for entry in expiring(&set, WARN_WITHIN, now) {
        let when = if entry.not_after <= now {
            "expired".to_owned()
        } else {
            "expires".to_owned()
        };
        say!(
            "warning: the client certificate of user {} {when} at {}; renew it with `cce-autopilot kubeconfig refresh`, or switch to `kubeconfig update --exec`",
            entry.user,
            rfc3339(entry.not_after)
        );
    }
}

/// A freshly fetched certificate that is already expired (the service's clock, or this machine's, is off):
/// an error that names the difference (exit 4), never a file kubectl then fails with.
pub fn check_fresh_answer(
    kubeconfig: &cce_autopilot::model::Kubeconfig,
    cluster_id: &str,
    now: OffsetDateTime,
) -> Result<(), crate::exit::CliError> {
    let not_after = kubeconfig
        .users
        .iter()
        .filter_map(|u| u.user.client_certificate_pem().ok().flatten())
        .filter_map(|pem| Certificate::from_pem(&pem).ok()?.not_after().ok())
        .min();
    match not_after {
        Some(not_after) if not_after <= now => Err(expired_on_arrival(cluster_id, not_after, now)),
        _ => Ok(()),
    }
}

/// The error for a certificate of `cluster_id` that expired at `not_after`, before `now`.
pub fn expired_on_arrival(
    cluster_id: &str,
    not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> crate::exit::CliError {
    let behind = (now - not_after).whole_seconds();
    crate::exit::CliError {
        code: crate::exit::SERVICE,
        message: format!(
            "the certificate the service issued for cluster {cluster_id} expired at {}, {behind} s before this \
             machine's clock ({}): one of the two clocks is off by at least {}; nothing was written",
            rfc3339(not_after),
            rfc3339(now),
            humantime::format_duration(Duration::from_secs(behind.unsigned_abs()))
        ),
    }
}
