//! Wire types of the CCE Autopilot API: the "get cluster certificate" operation
//! (`POST /autopilot/v3/projects/{project_id}/clusters/{cluster_id}/clustercert`) and the cluster list and
//! show operations (`GET …/clusters`, `GET …/clusters/{cluster_id}`).
//!
//! Pure data, no I/O: the validated request body [`CertDuration`], the kubeconfig the service answers with
//! ([`Kubeconfig`]), the clusters of a project ([`AutopilotClusterList`], [`AutopilotCluster`]), and the
//! error bodies of the service and its gateway ([`ErrorBody`]).
//!
//! ```
//! use cce_autopilot_model::{Access, CertDuration, Kubeconfig};
//!
//! let body = serde_json::to_string(&CertDuration::days(30)?)?;
//! assert_eq!(body, r#"{"duration":30}"#);
//! assert!(CertDuration::try_from(1828).is_err());
//!
//! let kubeconfig: Kubeconfig = serde_json::from_str(r#"{
//!   "kind": "Config", "apiVersion": "v1", "preferences": {},
//!   "clusters": [{"name": "internalCluster", "cluster": {"server": "https://192.168.1.7:5443"}}],
//!   "users": [{"name": "user", "user": {"client-key-data": "c2VjcmV0"}}],
//!   "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user"}}],
//!   "current-context": "internal"
//! }"#)?;
//! let internal = kubeconfig.access(Access::Internal).expect("internal context");
//! assert_eq!(internal.cluster.cluster.server, "https://192.168.1.7:5443");
//! assert!(!format!("{kubeconfig:?}").contains("c2VjcmV0"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cluster;
mod duration;
mod error_body;
mod kubeconfig;

pub use cluster::{
    AutopilotCluster, AutopilotClusterList, ClusterEndpoint, ClusterMetadata, ClusterPhase,
    ClusterSpec, ClusterStatus,
};
pub use duration::{CertDuration, DurationTooLong, InvalidDuration, five_years_after};
pub use error_body::ErrorBody;
pub use kubeconfig::{
    Access, AccessEntry, AnswerCluster, AnswerContext, AnswerNamedCluster, AnswerNamedContext,
    AnswerNamedUser, AnswerUser, DOCUMENT_CLUSTER_NAMES, DOCUMENT_CONTEXT_NAMES,
    DOCUMENT_USER_NAMES, DecodeError, Kubeconfig, UnknownAccess,
};

/// Unknown JSON fields kept verbatim so that a round trip loses nothing.
pub type Extra = serde_json::Map<String, serde_json::Value>;
