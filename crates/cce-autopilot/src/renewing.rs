//! A `kube::Client` that outlives its certificates (feature `kube`): [`RenewingKubeClient`] fetches a
//! certificate for one cluster, builds a client from it, and renews both before the certificate expires —
//! at a stated fraction of its life, with jitter so that a fleet of programs does not renew at once — swapping
//! the client in place. A request already in flight keeps the client it started with and finishes on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use cce_autopilot_model::Access;
use time::OffsetDateTime;

use crate::certificate::Certificate;
use crate::{CertDuration, Client, Error, Result};

/// When and how a [`RenewingKubeClient`] renews.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RenewOptions {
    /// The share of a certificate's life after which it is renewed (default 2/3: a 30-day certificate is
    /// renewed after 20 days, a one-day certificate after 16 hours).
    pub renew_at: f64,
    /// Up to this share of the life is added or taken at random (default 0.05).
    pub jitter: f64,
    /// The least time between two renewals, whatever the clocks say (default 30 s).
    pub min_interval: Duration,
    /// How long to wait after a failed renewal before trying again (default 30 s); the client in use stays.
    pub retry_after: Duration,
}

impl Default for RenewOptions {
    fn default() -> Self {
        RenewOptions {
            renew_at: 2.0 / 3.0,
            jitter: 0.05,
            min_interval: Duration::from_secs(30),
            retry_after: Duration::from_secs(30),
        }
    }
}

impl RenewOptions {
    /// The same options with another least time between renewals.
    #[must_use]
    pub fn with_min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval;
        self
    }

    /// The same options renewing after another share of the life (clamped to 0.1–0.95).
    #[must_use]
    pub fn with_renew_at(mut self, share: f64) -> Self {
        self.renew_at = share.clamp(0.1, 0.95);
        self
    }
}

/// The client in use and the certificate behind it.
struct Current {
    client: kube::Client,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

struct State {
    current: RwLock<Current>,
    renewals: AtomicU64,
}

/// A `kube::Client` for one cluster, renewed before its certificate expires. Share it behind an `Arc`
/// (the `kube::Client` it hands out is cheap to clone); the renewal runs on a task of its own until this value
/// is dropped. Only the internal endpoint: the service serves the external one without a verifiable name.
/// A renewal that fails is tried again after [`RenewOptions::retry_after`], doubling up to ten minutes, while
/// the current client stays in use.
///
/// Use it for Rust programs that hold a client for days (controllers, operators). For kubectl and other
/// client-go programs an exec entry (`kubeconfig update --exec`) does the same job; for consumers that read
/// Secrets, `kubeconfig export` (see `deploy/README.md`). As with kube-rs itself, the application picks the
/// Kubernetes API version: `k8s-openapi = { version = "0.29", features = ["latest"] }` (or a `v1_*` feature).
///
/// ```no_run
/// # async fn run(client: cce_autopilot::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use cce_autopilot::{Access, CertDuration, RenewingKubeClient};
///
/// let kube = RenewingKubeClient::start(client, "3f0c9a1e-…", Access::Internal, CertDuration::days(1)?).await?;
/// let version = kube.client().apiserver_version().await?; // take the client for each piece of work
/// # Ok(()) }
/// ```
pub struct RenewingKubeClient {
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RenewingKubeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenewingKubeClient")
            .field("expires_at", &self.expires_at())
            .field("renewals", &self.renewals())
            .finish_non_exhaustive()
    }
}

impl Drop for RenewingKubeClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RenewingKubeClient {
    /// Fetches a certificate of `duration` for `cluster_id` and builds the client on its `access` context,
    /// then keeps renewing it with the default [`RenewOptions`]. Must be called inside a tokio runtime.
    pub async fn start(
        client: Client,
        cluster_id: impl Into<String>,
        access: Access,
        duration: CertDuration,
    ) -> Result<Self> {
        Self::start_with(
            client,
            cluster_id,
            access,
            duration,
            RenewOptions::default(),
        )
        .await
    }

    /// [`RenewingKubeClient::start`] with `options`.
    pub async fn start_with(
        client: Client,
        cluster_id: impl Into<String>,
        access: Access,
        duration: CertDuration,
        options: RenewOptions,
    ) -> Result<Self> {
        let cluster_id = cluster_id.into();
        if access != Access::Internal {
            return Err(Error::invalid(
                "access",
                "the external endpoint is served with insecure-skip-tls-verify; a long-lived client uses the \
                 internal one (or build your own kube::Config with a TLS server name)",
            ));
        }
        let first = fetch(&client, &cluster_id, access, duration).await?;
        let state = Arc::new(State {
            current: RwLock::new(first),
            renewals: AtomicU64::new(0),
        });
        let task = tokio::spawn(renew_forever(
            Arc::clone(&state),
            client,
            cluster_id,
            access,
            duration,
            options,
        ));
        Ok(RenewingKubeClient { state, task })
    }

    /// The client to use now. Take it for each piece of work: a request started on it finishes on it even
    /// when a renewal swaps in a new one meanwhile.
    pub fn client(&self) -> kube::Client {
        read(&self.state).client.clone()
    }

    /// When the current client's certificate expires.
    pub fn expires_at(&self) -> OffsetDateTime {
        read(&self.state).not_after
    }

    /// How many times the certificate was renewed.
    pub fn renewals(&self) -> u64 {
        self.state.renewals.load(Ordering::Relaxed)
    }
}

fn read(state: &State) -> std::sync::RwLockReadGuard<'_, Current> {
    state
        .current
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn renew_forever(
    state: Arc<State>,
    client: Client,
    cluster_id: String,
    access: Access,
    duration: CertDuration,
    options: RenewOptions,
) {
    // Floors, whatever the options say: never a busy loop.
    let min_interval = options.min_interval.max(Duration::from_millis(100));
    let first_retry = options.retry_after.max(Duration::from_secs(1));
    let mut retry = first_retry;
    loop {
        let (not_before, not_after) = {
            let current = read(&state);
            (current.not_before, current.not_after)
        };
        let wait = until_renewal(not_before, not_after, OffsetDateTime::now_utc(), &options);
        tokio::time::sleep(wait.max(min_interval)).await;
        match fetch(&client, &cluster_id, access, duration).await {
            Ok(next) => {
                *state
                    .current
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
                state.renewals.fetch_add(1, Ordering::Relaxed);
                retry = first_retry;
                tracing::info!(cluster_id = %cluster_id, "renewed the kube client's certificate");
            }
            Err(e) => {
                tracing::warn!(cluster_id = %cluster_id, error = %e, "renewing the kube client's certificate failed; the current one stays");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(600));
            }
        }
    }
}

/// How long from `now` until the renewal point: `renew_at` of the life, give or take `jitter` of it.
fn until_renewal(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    now: OffsetDateTime,
    options: &RenewOptions,
) -> Duration {
    let life = (not_after - not_before).as_seconds_f64().max(0.0);
    let jitter = options.jitter.clamp(0.0, 0.5) * life * (rand::random::<f64>() * 2.0 - 1.0);
    let at = life * options.renew_at.clamp(0.1, 0.95) + jitter;
    let due = not_before + time::Duration::seconds_f64(at.max(0.0));
    Duration::try_from(due - now).unwrap_or(Duration::ZERO)
}

/// A certificate for the cluster and a client on it.
async fn fetch(
    client: &Client,
    cluster_id: &str,
    access: Access,
    duration: CertDuration,
) -> Result<Current> {
    let cert = client
        .cluster_cert(cluster_id)
        .duration(duration)
        .send()
        .await?;
    let pem = cert
        .kubeconfig
        .access(access)
        .and_then(|e| e.user.user.client_certificate_pem().ok().flatten())
        .ok_or_else(|| {
            Error::invalid(
                "access",
                format!("the kubeconfig has no {access} certificate"),
            )
        })?;
    let facts = Certificate::from_pem(&pem)
        .and_then(|c| c.facts())
        .map_err(|_| Error::invalid("certificate", "the client certificate cannot be read"))?;
    let config = cert.kube_config(access).await?;
    let kube = kube::Client::try_from(config).map_err(|e| Error::Config {
        message: format!("kube-rs cannot build a client on the {access} context"),
        source: Some(Box::new(e)),
    })?;
    Ok(Current {
        client: kube,
        not_before: facts.not_before,
        not_after: facts.not_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn renewal_comes_at_the_stated_share_of_the_life_give_or_take_the_jitter() {
        let nb = datetime!(2026-12-01 0:00 UTC);
        let na = datetime!(2026-12-31 0:00 UTC);
        let options = RenewOptions::default();
        for _ in 0..100 {
            let wait = until_renewal(nb, na, nb, &options).as_secs_f64() / 86_400.0;
            assert!((18.5..=21.5).contains(&wait), "{wait} days");
        }
        // Past the point: at once (the loop still waits min_interval).
        assert_eq!(until_renewal(nb, na, na, &options), Duration::ZERO);
    }
}
