//! What the HTTP routes, the API-server stubs and the handle share: configuration, credentials, clusters,
//! fault state and the request log.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cce_autopilot_signing::SecretKey;
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::faults::{FaultKind, FaultState};
use crate::identity::issue::Issued;
use crate::identity::{IdentityWorld, Principal};
use crate::pki::ClusterCa;

/// How many request records are kept; older ones are forgotten (the count goes on).
const LOG_CAPACITY: usize = 10_000;

/// Locks a mutex, ignoring poisoning: every critical section here leaves its data consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An AK/SK pair the gateway accepts.
pub(crate) struct Credential {
    pub(crate) secret: SecretKey,
    /// Whom the key acts for.
    pub(crate) principal: Principal,
    /// Set for credentials handed out by the metadata service.
    pub(crate) temporary: Option<Temporary>,
}

/// What makes temporary credentials temporary.
pub(crate) struct Temporary {
    pub(crate) security_token: String,
    pub(crate) expires_at: OffsetDateTime,
}

/// One emulated cluster.
pub(crate) struct Cluster {
    pub(crate) id: String,
    /// The project the cluster belongs to.
    pub(crate) project_id: String,
    pub(crate) name: String,
    pub(crate) alias: Option<String>,
    pub(crate) version: String,
    pub(crate) phase: Mutex<String>,
    pub(crate) created: OffsetDateTime,
    /// Deleted at run time ([`crate::EmulatorHandle::remove_cluster`]): gone from every route.
    pub(crate) deleted: AtomicBool,
    pub(crate) public: bool,
    pub(crate) ca: ClusterCa,
    pub(crate) port_id: String,
    pub(crate) internal_url: String,
    pub(crate) external_url: Option<String>,
    pub(crate) issued: AtomicUsize,
    pub(crate) accepted_clients: Mutex<Vec<String>>,
    /// The serial numbers of those clients' certificates, in the same order.
    pub(crate) accepted_serials: Mutex<Vec<String>>,
    pub(crate) rejected_handshakes: AtomicUsize,
}

impl Cluster {
    pub(crate) fn count_issued(&self) {
        self.issued.fetch_add(1, Ordering::Relaxed);
    }
}

/// One call to the HTTP API, as the request log keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The status answered, or `None` when the connection was dropped without an answer.
    pub status: Option<u16>,
    /// The `X-Request-Id` answered (also for a dropped connection, which sent none).
    pub request_id: String,
    /// The fault injected into this call, if any.
    pub fault: Option<FaultKind>,
    /// Its headers and body keys, without secrets.
    pub wire: crate::wire::WireShape,
}

#[derive(Default)]
pub(crate) struct RequestLog {
    pub(crate) total: usize,
    pub(crate) records: VecDeque<RequestRecord>,
}

impl RequestLog {
    pub(crate) fn push(&mut self, record: RequestRecord) {
        self.total += 1;
        if self.records.len() == LOG_CAPACITY {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }
}

/// How the ECS metadata endpoints behave.
pub(crate) struct MetadataConfig {
    /// Whether `PUT /meta-data/latest/api/token` exists (and `X-Metadata-Token` is then required).
    pub(crate) token_service: bool,
    /// Whether the server has an agency, i.e. whether temporary credentials can be had at all.
    pub(crate) agency: bool,
    /// Lifetime of the temporary credentials handed out.
    pub(crate) credential_ttl: time::Duration,
}

/// A project the IAM lookup lists.
#[derive(Clone, Debug)]
pub(crate) struct IamProject {
    pub(crate) name: String,
    pub(crate) id: String,
}

pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) region: String,
    pub(crate) project_id: String,
    pub(crate) domain_id: String,
    pub(crate) iam_projects: Vec<IamProject>,
    pub(crate) credentials: Mutex<HashMap<String, Credential>>,
    pub(crate) tokens: Vec<String>,
    pub(crate) clusters: Vec<Arc<Cluster>>,
    /// The list and show operations answer 403.
    pub(crate) deny_cluster_listing: AtomicBool,
    pub(crate) clock: Clock,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) log: Mutex<RequestLog>,
    pub(crate) metadata: MetadataConfig,
    /// Metadata session tokens and when they expire.
    pub(crate) metadata_tokens: Mutex<HashMap<String, OffsetDateTime>>,
    /// How long a request body may take to arrive.
    pub(crate) read_timeout: std::time::Duration,
    /// Users, identity providers and agencies (`None`: one key, today's world).
    pub(crate) identity: Option<IdentityWorld>,
    /// IAM's unscoped tokens from ID tokens (`X-Subject-Token`): whom each names, until when.
    pub(crate) subject_tokens: Mutex<HashMap<String, (Principal, OffsetDateTime)>>,
    /// The credentials the metadata service hands out until half their lifetime has passed.
    pub(crate) metadata_current: Mutex<Option<Issued>>,
    /// `PUT /_emulator/clock-offset` and `GET /_emulator/requests` are served.
    pub(crate) admin: bool,
}

impl Shared {
    /// The account id: the identity file's, else the IAM domain id.
    pub(crate) fn account_id(&self) -> &str {
        self.identity
            .as_ref()
            .map_or(self.domain_id.as_str(), IdentityWorld::account_id)
    }

    /// The cluster with this id in `project_id`, unless it was deleted.
    pub(crate) fn cluster_in(&self, project_id: &str, id: &str) -> Option<&Arc<Cluster>> {
        self.clusters()
            .find(|c| c.id == id && c.project_id == project_id)
    }

    /// Whether the CCE API serves `project_id`: the emulator's project, and a fleet's every project.
    pub(crate) fn serves_project(&self, project_id: &str) -> bool {
        project_id == self.project_id || self.clusters.iter().any(|c| c.project_id == project_id)
    }

    /// The clusters that exist, in the order configured.
    pub(crate) fn clusters(&self) -> impl Iterator<Item = &Arc<Cluster>> {
        self.clusters
            .iter()
            .filter(|c| !c.deleted.load(Ordering::Relaxed))
    }

    /// Any cluster with this id, deleted ones included (for the handle's accessors).
    pub(crate) fn any_cluster(&self, id: &str) -> Option<&Arc<Cluster>> {
        self.clusters.iter().find(|c| c.id == id)
    }
}

/// Compares two secrets without an early exit, so timing does not tell how much of a guess matched.
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_equal_compares_whole_strings() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
        assert!(secrets_equal("", ""));
    }

    #[test]
    fn the_log_forgets_the_oldest_records_but_keeps_counting() {
        let mut log = RequestLog::default();
        for i in 0..LOG_CAPACITY + 5 {
            log.push(RequestRecord {
                method: "GET".into(),
                path: format!("/{i}"),
                status: Some(200),
                request_id: String::new(),
                fault: None,
                wire: Default::default(),
            });
        }
        assert_eq!(log.total, LOG_CAPACITY + 5);
        assert_eq!(log.records.len(), LOG_CAPACITY);
        assert_eq!(log.records[0].path, "/5");
    }
}
