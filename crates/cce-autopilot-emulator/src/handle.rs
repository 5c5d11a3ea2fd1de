//! A running emulator: what it serves, what it has seen, and the switches tests turn at run time.

use std::fmt;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cce_autopilot_model::Access;
use cce_autopilot_signing::SecretKey;
use tokio::task::JoinHandle;

use crate::faults::{FaultState, Faults};
use crate::state::{RequestRecord, Shared, lock};

/// A running emulator. Dropping it aborts every listener and connection; [`shutdown`](Self::shutdown)
/// does the same and waits until they are gone.
///
/// `Debug` never shows the secret key or tokens.
pub struct EmulatorHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    tasks: Vec<JoinHandle<()>>,
    access_key: String,
    secret_key: SecretKey,
    cluster_ids: Vec<String>,
    /// The runtime of [`EmulatorBuilder::start_background`](crate::EmulatorBuilder::start_background).
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("url", &self.url)
            .field("region", &self.shared.region)
            .field("project_id", &self.shared.project_id)
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key)
            .field("cluster_ids", &self.cluster_ids)
            .finish_non_exhaustive()
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // `shutdown_background` never blocks, so dropping the handle is fine inside async code too.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl EmulatorHandle {
    pub(crate) fn new(
        shared: Arc<Shared>,
        addr: SocketAddr,
        url: String,
        tasks: Vec<JoinHandle<()>>,
        access_key: String,
        secret_key: SecretKey,
        cluster_ids: Vec<String>,
    ) -> Self {
        Self {
            shared,
            addr,
            url,
            tasks,
            access_key,
            secret_key,
            cluster_ids,
            runtime: None,
        }
    }

    pub(crate) fn with_runtime(mut self, runtime: tokio::runtime::Runtime) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// The base URL of the HTTP API, e.g. `http://127.0.0.1:41234` (no trailing slash). The CCE, IAM and
    /// ECS metadata routes are all served here.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the HTTP API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The region served.
    pub fn region(&self) -> &str {
        &self.shared.region
    }

    /// The project ID the cluster-certificate route accepts.
    pub fn project_id(&self) -> &str {
        &self.shared.project_id
    }

    /// The first configured access key.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key of [`access_key`](Self::access_key). A secret: keep it out of logs.
    pub fn secret_key(&self) -> &str {
        self.secret_key.expose()
    }

    /// The accepted `X-Auth-Token` values. Secrets: keep them out of logs.
    pub fn tokens(&self) -> &[String] {
        &self.shared.tokens
    }

    /// The configured cluster IDs, in configuration order.
    pub fn cluster_ids(&self) -> &[String] {
        &self.cluster_ids
    }

    /// The cluster's name (configured, or generated from its id).
    pub fn cluster_name(&self, cluster_id: &str) -> Option<&str> {
        self.shared.any_cluster(cluster_id).map(|c| c.name.as_str())
    }

    /// Deletes the cluster: from now on the list omits it, and showing it or asking for its certificate
    /// answers the CCE 404. Its API-server stub keeps listening. `false` for an unknown id.
    pub fn remove_cluster(&self, cluster_id: &str) -> bool {
        self.shared
            .any_cluster(cluster_id)
            .map(|c| c.deleted.store(true, Ordering::Relaxed))
            .is_some()
    }

    /// Whether the list and show operations answer 403 from now on (as
    /// [`EmulatorBuilder::deny_cluster_listing`](crate::EmulatorBuilder::deny_cluster_listing) does from
    /// the start).
    pub fn set_deny_cluster_listing(&self, deny: bool) {
        self.shared
            .deny_cluster_listing
            .store(deny, Ordering::Relaxed);
    }

    /// Sets the cluster's phase, e.g. `Upgrading`. `false` for an unknown id.
    pub fn set_cluster_phase(&self, cluster_id: &str, phase: &str) -> bool {
        self.shared
            .any_cluster(cluster_id)
            .map(|c| *lock(&c.phase) = phase.to_owned())
            .is_some()
    }

    /// Whether the cluster has a public IP (`Some(true)`), has none (`Some(false)`), or does not exist.
    pub fn is_public(&self, cluster_id: &str) -> Option<bool> {
        self.shared.any_cluster(cluster_id).map(|c| c.public)
    }

    /// How many certificates have been issued for the cluster so far (0 for an unknown cluster).
    pub fn issued(&self, cluster_id: &str) -> usize {
        self.shared
            .any_cluster(cluster_id)
            .map_or(0, |c| c.issued.load(Ordering::Relaxed))
    }

    /// The calls answered so far (the latest 10 000), oldest first, faults and unknown routes included.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).records.iter().cloned().collect()
    }

    /// How many calls reached the HTTP API so far.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.log).total
    }

    /// The cluster's CA certificate, PEM.
    pub fn cluster_ca_pem(&self, cluster_id: &str) -> Option<String> {
        self.shared
            .any_cluster(cluster_id)
            .map(|c| c.ca.cert_pem().to_owned())
    }

    /// The URL of the cluster's API-server stub for private or public access (`None` for an unknown
    /// cluster, or for [`Access::External`] on a cluster without a public IP).
    pub fn api_server_url(&self, cluster_id: &str, access: Access) -> Option<String> {
        let cluster = self.shared.any_cluster(cluster_id)?;
        match access {
            Access::Internal => Some(cluster.internal_url.clone()),
            Access::External => cluster.external_url.clone(),
            _ => None,
        }
    }

    /// The `Port-ID` answered for the cluster.
    pub fn port_id(&self, cluster_id: &str) -> Option<String> {
        self.shared
            .any_cluster(cluster_id)
            .map(|c| c.port_id.clone())
    }

    /// The serial numbers (hex, colon-separated) of the client certificates the cluster's API-server stub
    /// accepted, one per TLS connection, in order.
    pub fn accepted_serials(&self, cluster_id: &str) -> Vec<String> {
        self.shared
            .any_cluster(cluster_id)
            .map(|c| lock(&c.accepted_serials).clone())
            .unwrap_or_default()
    }

    /// The subject common names of the clients the cluster's API-server stub accepted, one per TLS
    /// connection, oldest first.
    pub fn accepted_clients(&self, cluster_id: &str) -> Vec<String> {
        self.shared
            .any_cluster(cluster_id)
            .map(|c| lock(&c.accepted_clients).clone())
            .unwrap_or_default()
    }

    /// How many TLS handshakes the cluster's API-server stub refused (no or a foreign client certificate).
    pub fn rejected_handshakes(&self, cluster_id: &str) -> usize {
        self.shared
            .any_cluster(cluster_id)
            .map_or(0, |c| c.rejected_handshakes.load(Ordering::Relaxed))
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).faults().clone()
    }

    /// Replaces the faults; call counting ([`Trigger::First`](crate::Trigger::First)) and the random
    /// generator start again.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = FaultState::new(faults);
    }

    /// The account id of the identity file, when the emulator was started with one.
    pub fn account_id(&self) -> Option<&str> {
        self.shared.identity.as_ref().map(|w| w.account_id())
    }

    /// The emulator's clock offset from the system clock, in seconds.
    pub fn clock_offset_secs(&self) -> i64 {
        self.shared.clock.offset_secs()
    }

    /// Moves the emulator's clock to this many seconds ahead of the system clock (negative: behind).
    pub fn set_clock_offset_secs(&self, seconds: i64) {
        self.shared.clock.set_offset_secs(seconds);
    }

    /// The emulator's current time.
    pub fn now(&self) -> time::OffsetDateTime {
        self.shared.clock.now()
    }

    /// Stops the HTTP API and the API-server stubs, open connections included, and waits until they are
    /// gone.
    pub async fn shutdown(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            // Aborted tasks end with a cancellation error; that is the point.
            let _ = task.await;
        }
    }
}

/// The most clusters the banner lists one by one.
const BANNER_CLUSTERS: usize = 20;

/// What `cce-autopilot emulator serve` prints: the base URL on the first line, then the credentials,
/// token and clusters to use. It shows the secret key and token on purpose: they are demo values for a
/// local emulator.
pub fn demo_banner(emulator: &EmulatorHandle) -> String {
    let mut out = String::new();
    let url = emulator.url();
    let _ = writeln!(out, "{url}");
    let _ = writeln!(
        out,
        "CCE Autopilot emulator: CCE, IAM and ECS metadata endpoint {url}"
    );
    let _ = writeln!(out, "  region       {}", emulator.region());
    let _ = writeln!(out, "  project id   {}", emulator.project_id());
    if let Some(account) = emulator.account_id() {
        let _ = writeln!(out, "  account id   {account}  (identity file)");
    }
    let _ = writeln!(out, "  access key   {}", emulator.access_key());
    let _ = writeln!(out, "  secret key   {}", emulator.secret_key());
    for token in emulator.tokens() {
        let _ = writeln!(out, "  X-Auth-Token {token}");
    }
    let ids = emulator.cluster_ids();
    if ids.len() > BANNER_CLUSTERS {
        // A fleet: its clusters are listed by the CLI, not here.
        let _ = writeln!(
            out,
            "  clusters     {} in {} projects, listed by IAM's /v3/auth/projects and each project's cluster list",
            ids.len(),
            emulator.shared.iam_projects.len()
        );
    }
    let _ = writeln!(out, "  clusters:");
    for id in ids.iter().take(BANNER_CLUSTERS) {
        let public = emulator.is_public(id).unwrap_or(false);
        let _ = writeln!(
            out,
            "    {id}  {}  name {}",
            if public {
                "public IP   "
            } else {
                "private only"
            },
            emulator.cluster_name(id).unwrap_or_default()
        );
        for access in [Access::Internal, Access::External] {
            if let Some(server) = emulator.api_server_url(id, access) {
                let _ = writeln!(out, "      {access:<8} {server}");
            }
        }
    }
    let _ = writeln!(out, "  environment:");
    let _ = writeln!(
        out,
        "    CLOUD_SDK_AK={} CLOUD_SDK_SK={} HUAWEICLOUD_SDK_IAM_ENDPOINT={url}",
        emulator.access_key(),
        emulator.secret_key()
    );
    out
}
