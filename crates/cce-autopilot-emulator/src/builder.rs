//! Configuring and starting an emulator.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use cce_autopilot_signing::SecretKey;
use sha2::{Digest as _, Sha256};

use crate::demo;
use crate::error::{EmulatorError, Result};
use crate::faults::Faults;

/// The default of [`EmulatorBuilder::read_timeout`].
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of [`EmulatorBuilder::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Entry point: `Emulator::builder()...start().await`.
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// A builder preset with the demo set-up (see [`demo`](crate::demo)): region `cn-north-4`, a fixed
    /// project ID, the demo AK/SK pair and token, one private and one public cluster.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Configuration of an emulator. Every setter has a demo default; the first call of
/// [`credentials`](Self::credentials), [`token`](Self::token) or
/// [`cluster`](Self::cluster)/[`public_cluster`](Self::public_cluster) replaces the demo values of its kind,
/// later calls add to it.
#[derive(Clone)]
pub struct EmulatorBuilder {
    pub(crate) region: String,
    pub(crate) project_id: String,
    pub(crate) credentials: Vec<(String, SecretKey)>,
    pub(crate) custom_credentials: bool,
    pub(crate) tokens: Vec<String>,
    pub(crate) custom_tokens: bool,
    pub(crate) clusters: Vec<ClusterConfig>,
    pub(crate) custom_clusters: bool,
    pub(crate) deny_cluster_listing: bool,
    pub(crate) iam_projects: Vec<(String, String)>,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) faults: Faults,
    pub(crate) clock_offset_secs: i64,
    pub(crate) listen: SocketAddr,
    pub(crate) credential_ttl: Duration,
    pub(crate) metadata_token_service: bool,
    pub(crate) metadata_agency: bool,
    pub(crate) read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) identity_file: Option<PathBuf>,
    pub(crate) admin: bool,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            region: demo::REGION.to_owned(),
            project_id: demo::PROJECT_ID.to_owned(),
            credentials: vec![(
                demo::ACCESS_KEY.to_owned(),
                SecretKey::from(demo::SECRET_KEY),
            )],
            custom_credentials: false,
            tokens: vec![demo::TOKEN.to_owned()],
            custom_tokens: false,
            clusters: vec![
                ClusterConfig::new(
                    demo::PRIVATE_CLUSTER_ID,
                    Some(demo::PRIVATE_CLUSTER_NAME),
                    false,
                ),
                ClusterConfig::new(
                    demo::PUBLIC_CLUSTER_ID,
                    Some(demo::PUBLIC_CLUSTER_NAME),
                    true,
                ),
            ],
            custom_clusters: false,
            deny_cluster_listing: false,
            iam_projects: Vec::new(),
            state_dir: None,
            faults: Faults::default(),
            clock_offset_secs: 0,
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            credential_ttl: Duration::from_secs(6 * 3600),
            metadata_token_service: true,
            metadata_agency: true,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            identity_file: None,
            admin: false,
        }
    }
}

/// Shows names and ids only: never the secret keys or tokens.
impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("region", &self.region)
            .field("project_id", &self.project_id)
            .field(
                "access_keys",
                &self
                    .credentials
                    .iter()
                    .map(|(ak, _)| ak)
                    .collect::<Vec<_>>(),
            )
            .field("tokens", &format_args!("{} redacted", self.tokens.len()))
            .field("clusters", &self.clusters)
            .field("deny_cluster_listing", &self.deny_cluster_listing)
            .field("iam_projects", &self.iam_projects)
            .field("state_dir", &self.state_dir)
            .field("identity_file", &self.identity_file)
            .field("admin", &self.admin)
            .field("faults", &self.faults)
            .field("clock_offset_secs", &self.clock_offset_secs)
            .field("listen", &self.listen)
            .field("credential_ttl", &self.credential_ttl)
            .field("metadata_token_service", &self.metadata_token_service)
            .field("metadata_agency", &self.metadata_agency)
            .field("read_timeout", &self.read_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl EmulatorBuilder {
    /// The region the emulator serves (the IAM project name, the `V11-HMAC-SHA256` scope region).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The account's project ID in that region: the only one the cluster-certificate route accepts.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = project_id.into();
        self
    }

    /// An AK/SK pair to accept. The first call replaces the demo pair; the first pair is the one
    /// [`EmulatorHandle::access_key`] reports.
    pub fn credentials(
        mut self,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        if !self.custom_credentials {
            self.credentials.clear();
            self.custom_credentials = true;
        }
        self.credentials
            .push((access_key.into(), SecretKey::from(secret_key.into())));
        self
    }

    /// An `X-Auth-Token` value to accept. The first call replaces the demo token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        if !self.custom_tokens {
            self.tokens.clear();
            self.custom_tokens = true;
        }
        self.tokens.push(token.into());
        self
    }

    /// A cluster without a public IP, named `cluster-<the id's first characters>`. The first cluster call
    /// replaces the demo clusters.
    pub fn cluster(self, cluster_id: impl Into<String>) -> Self {
        self.add_cluster(ClusterConfig::new(cluster_id, None, false))
    }

    /// A cluster with a public IP (an `externalCluster` entry and an `External` endpoint). The first
    /// cluster call replaces the demo clusters.
    pub fn public_cluster(self, cluster_id: impl Into<String>) -> Self {
        self.add_cluster(ClusterConfig::new(cluster_id, None, true))
    }

    /// A cluster without a public IP, with its name.
    pub fn named_cluster(self, name: impl Into<String>, cluster_id: impl Into<String>) -> Self {
        self.add_cluster(ClusterConfig::new(cluster_id, Some(&name.into()), false))
    }

    /// A cluster with a public IP, with its name.
    pub fn named_public_cluster(
        self,
        name: impl Into<String>,
        cluster_id: impl Into<String>,
    ) -> Self {
        self.add_cluster(ClusterConfig::new(cluster_id, Some(&name.into()), true))
    }

    fn add_cluster(mut self, cluster: ClusterConfig) -> Self {
        if !self.custom_clusters {
            self.clusters.clear();
            self.custom_clusters = true;
        }
        self.clusters.push(cluster);
        self
    }

    fn last_cluster(&mut self) -> Option<&mut ClusterConfig> {
        self.clusters.last_mut()
    }

    /// The phase of the cluster added last (default `Available`), e.g. `Creating`.
    pub fn with_phase(mut self, phase: impl Into<String>) -> Self {
        if let Some(c) = self.last_cluster() {
            c.phase = phase.into();
        }
        self
    }

    /// The Kubernetes version of the cluster added last (default [`demo::CLUSTER_VERSION`]).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        if let Some(c) = self.last_cluster() {
            c.version = version.into();
        }
        self
    }

    /// The alias of the cluster added last (default: its name).
    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        if let Some(c) = self.last_cluster() {
            c.alias = Some(alias.into());
        }
        self
    }

    /// Answer the cluster list and show operations with 403, as for credentials whose IAM policy lacks
    /// `cce:cluster:list` / `cce:cluster:get`; the certificate operation keeps working.
    pub fn deny_cluster_listing(mut self) -> Self {
        self.deny_cluster_listing = true;
        self
    }

    /// One more project that the IAM lookup lists (under `name`) besides the emulator's own. Listing a
    /// second project under the region's name makes `GET /v3/projects?name=<region>` return two, for
    /// testing a client's handling of an ambiguous answer. These projects are not accepted by the
    /// cluster-certificate route.
    pub fn iam_project(mut self, name: impl Into<String>, project_id: impl Into<String>) -> Self {
        self.iam_projects.push((name.into(), project_id.into()));
        self
    }

    /// Keep each cluster's CA (key `0600` and certificate) under this directory, in
    /// `clusters/<cluster id>/ca.{key,crt}`, so that certificates stay valid across restarts.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Faults to inject from the start (see [`EmulatorHandle::set_faults`] to change them later).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Runs the emulator's clock `offset` ahead of the system clock, so that clients appear `offset` behind.
    pub fn clock_offset(self, offset: Duration) -> Self {
        self.clock_offset_secs(i64::try_from(offset.as_secs()).unwrap_or(i64::MAX))
    }

    /// Runs the emulator's clock this many seconds ahead of the system clock (negative: behind).
    /// The gateway's skew check, the certificates and the stubs' certificate checks all use this clock.
    pub fn clock_offset_secs(mut self, seconds: i64) -> Self {
        self.clock_offset_secs = seconds;
        self
    }

    /// The address of the HTTP API (default `127.0.0.1:0`: a free port on loopback).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The identity world: users, identity providers, agencies, metadata and pod identity, read from this
    /// YAML file at start (see the crate's README). Without one, the builder's keys name their callers.
    pub fn identity_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.identity_file = Some(path.into());
        self
    }

    /// Serves `PUT /_emulator/clock-offset` (body: whole seconds), which moves the emulator's clock at run
    /// time, for tests that drive it from another process.
    pub fn admin(mut self, enabled: bool) -> Self {
        self.admin = enabled;
        self
    }

    /// How long temporary credentials from the metadata service stay valid (default six hours).
    pub fn temporary_credentials_ttl(mut self, ttl: Duration) -> Self {
        self.credential_ttl = ttl;
        self
    }

    /// Whether the metadata token service exists (default `true`). Without it,
    /// `PUT /meta-data/latest/api/token` answers 404 and the credentials need no `X-Metadata-Token`.
    pub fn metadata_token_service(mut self, enabled: bool) -> Self {
        self.metadata_token_service = enabled;
        self
    }

    /// Whether the server has an agency (default `true`). Without one, `GET /openstack/latest/securitykey`
    /// answers 401 `Please configure Cloud Service Agency first`.
    pub fn metadata_agency(mut self, enabled: bool) -> Self {
        self.metadata_agency = enabled;
        self
    }

    /// How long a client may take to send a request's head, or its body, or (API-server stubs) its TLS
    /// handshake, before the connection is closed without an answer (default 10 s). A slow client never holds
    /// a connection longer.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// How many connections are served at once, across the API and the stubs (default 512). Beyond that,
    /// each listener accepts one more and holds it unserved until a slot frees; the rest wait in the
    /// kernel's backlog. With the read time-out, a slow or idle client frees its slot within that time.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Err(EmulatorError::InvalidConfig { reason });
        let plain = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && !s.starts_with('.')
        };
        if !plain(&self.region) {
            return invalid(format!(
                "region {:?} must be 1 to 64 letters, digits, '-', '_' or '.'",
                self.region
            ));
        }
        if !plain(&self.project_id) {
            return invalid(format!(
                "project ID {:?} must be 1 to 64 letters, digits, '-', '_' or '.'",
                self.project_id
            ));
        }
        if self.credentials.is_empty() {
            return invalid("at least one AK/SK pair is needed".to_owned());
        }
        for (ak, _) in &self.credentials {
            if ak.is_empty()
                || ak
                    .bytes()
                    .any(|b| !b.is_ascii_graphic() || b",=/".contains(&b))
            {
                return invalid(format!(
                    "access key {ak:?} must be non-empty printable ASCII without ',', '=' or '/'"
                ));
            }
        }
        let mut seen = HashMap::new();
        for c in &self.clusters {
            let id = &c.id;
            if !plain(id) {
                return invalid(format!(
                    "cluster ID {id:?} must be 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
                ));
            }
            if seen.insert(id.as_str(), ()).is_some() {
                return invalid(format!("cluster ID {id:?} is configured twice"));
            }
        }
        let mut names = HashMap::new();
        for (c, name) in self.clusters.iter().zip(self.cluster_names()) {
            if !valid_cluster_name(&name) {
                return invalid(format!(
                    "cluster name {name:?} must start with a lower-case letter, hold only lower-case letters, digits and '-', \
                     not end with '-', and be 4 to 128 characters long"
                ));
            }
            for taken in std::iter::once(&name).chain(c.alias.as_ref()) {
                if let Some(other) =
                    names.insert((c.project_id.clone(), taken.clone()), c.id.clone())
                    && other != c.id
                {
                    return invalid(format!(
                        "cluster name or alias {taken:?} is used twice (names and aliases are unique in a project)"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One configured cluster.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClusterConfig {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) public: bool,
    pub(crate) phase: String,
    pub(crate) version: String,
    pub(crate) alias: Option<String>,
    /// The project (`None`: the emulator's project).
    pub(crate) project_id: Option<String>,
}

impl ClusterConfig {
    pub(crate) fn new(id: impl Into<String>, name: Option<&str>, public: bool) -> Self {
        ClusterConfig {
            id: id.into(),
            name: name.map(str::to_owned),
            public,
            phase: "Available".to_owned(),
            version: demo::CLUSTER_VERSION.to_owned(),
            alias: None,
            project_id: None,
        }
    }
}

/// What the service accepts as a name: a lower-case letter first, then lower-case letters, digits and `-`,
/// 4 to 128 characters, not ending with `-`.
fn valid_cluster_name(name: &str) -> bool {
    (4..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl EmulatorBuilder {
    /// Every cluster's name: the configured one, else `cluster-<up to 8 characters of the id>`, numbered
    /// when two ids start alike.
    pub(crate) fn cluster_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::with_capacity(self.clusters.len());
        for c in &self.clusters {
            let name = match &c.name {
                Some(name) => name.clone(),
                None => {
                    let stem: String =
                        c.id.to_ascii_lowercase()
                            .chars()
                            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
                            .take(8)
                            .collect();
                    let base = format!("cluster-{}", stem.trim_matches('-'));
                    let base = base.trim_end_matches('-').to_owned();
                    let mut name = base.clone();
                    let mut n = 2;
                    while names.contains(&name)
                        || self
                            .clusters
                            .iter()
                            .any(|o| o.name.as_deref() == Some(&name))
                    {
                        name = format!("{base}-{n}");
                        n += 1;
                    }
                    name
                }
            };
            names.push(name);
        }
        names
    }
}

pub(crate) fn hex_digest(purpose: &str, value: &str) -> String {
    hex::encode(Sha256::digest(format!(
        "cce-autopilot-emulator {purpose} {value}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_calls_replace_the_demo_values() {
        let b = Emulator::builder()
            .credentials("A", "S")
            .credentials("B", "T")
            .cluster("x")
            .public_cluster("y")
            .token("t");
        assert_eq!(b.credentials.len(), 2);
        assert_eq!(
            b.clusters
                .iter()
                .map(|c| (c.id.as_str(), c.public))
                .collect::<Vec<_>>(),
            [("x", false), ("y", true)]
        );
        assert_eq!(b.tokens, ["t"]);
    }

    #[test]
    fn bare_ids_get_readable_unique_names() {
        let b = Emulator::builder()
            .cluster("3f0c9a1e-2b4d-4c6e-8f10-123456789abc")
            .cluster("3F0C9A1E-xyz")
            .cluster("c")
            .named_cluster("cluster-c-2", "d")
            .cluster("C");
        assert_eq!(
            b.cluster_names(),
            [
                "cluster-3f0c9a1e",
                "cluster-3f0c9a1e-2",
                "cluster-c",
                "cluster-c-2",
                "cluster-c-3"
            ]
        );
        assert!(b.validate().is_ok());
    }

    #[test]
    fn debug_shows_no_secret() {
        let b = Emulator::builder()
            .credentials("AK-visible", "SK-hidden-value")
            .token("token-hidden-value");
        let debug = format!("{b:?}");
        assert!(debug.contains("AK-visible"));
        assert!(!debug.contains("SK-hidden-value"), "{debug}");
        assert!(!debug.contains("token-hidden-value"), "{debug}");
    }

    #[test]
    fn bad_configurations_are_refused() {
        for builder in [
            Emulator::builder().cluster("../escape"),
            Emulator::builder().cluster("a").cluster("a"),
            Emulator::builder().region(""),
            Emulator::builder().project_id("a/b"),
            Emulator::builder().credentials("A,B", "S"),
            Emulator::builder().named_cluster("Bad_Name", "a"),
            Emulator::builder().named_cluster("abc", "a"),
            Emulator::builder()
                .named_cluster("prod", "a")
                .named_cluster("prod", "b"),
            Emulator::builder()
                .named_cluster("prod", "a")
                .named_cluster("web1", "b")
                .with_alias("prod"),
        ] {
            assert!(
                matches!(builder.validate(), Err(EmulatorError::InvalidConfig { .. })),
                "{builder:?}"
            );
        }
    }
}
