//! The clusters of a project, as `ListAutopilotClusters` and `ShowAutopilotCluster` answer them (the
//! spec's `AutopilotClusterList` and `AutopilotCluster`, from the official SDK's models).
//!
//! The fields a client needs are typed; every other field is kept in `extra` maps, so JSON → model → JSON
//! loses nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Extra;

/// The clusters of a project (the spec's `AutopilotClusterList`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AutopilotClusterList {
    /// `List`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `v3`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// The clusters; `null` or absent reads as none.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub items: Vec<AutopilotCluster>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One cluster (the spec's `AutopilotCluster`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AutopilotCluster {
    /// `Cluster`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `v3`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// Names and timestamps.
    #[serde(default)]
    pub metadata: ClusterMetadata,
    /// What the cluster is.
    #[serde(default)]
    pub spec: ClusterSpec,
    /// Where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ClusterStatus>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A cluster's names and timestamps (the spec's `AutopilotClusterMetadata`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterMetadata {
    /// The name, unique in the project.
    #[serde(default)]
    pub name: String,
    /// The cluster id: what the certificate operation's `cluster_id` takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The display name (equal to `name` when never set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Free-form notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// The service's labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// When the cluster was created.
    #[serde(
        rename = "creationTimestamp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub creation_timestamp: Option<String>,
    /// When it was last changed.
    #[serde(
        rename = "updateTimestamp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub update_timestamp: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a cluster is (the spec's `AutopilotClusterSpec`); its networks, tags and settings stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSpec {
    /// The cluster category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The control plane's architecture, `VirtualMachine`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub cluster_type: Option<String>,
    /// The flavor, e.g. `cce.autopilot.cluster`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
    /// The Kubernetes version, e.g. `v1.31`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The service's revision of that version, `cce.X.Y`.
    #[serde(
        rename = "platformVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub platform_version: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fields not typed here (`hostNetwork`, `eniNetwork`, `clusterTags`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Where a cluster stands (the spec's `AutopilotClusterStatus`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ClusterPhase>,
    /// Why the cluster is in a phase other than `Available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Details of `reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The kube-apiserver's addresses.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub endpoints: Vec<ClusterEndpoint>,
    /// Fields this version does not know (`jobID`, `isLocked`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One address of a cluster's kube-apiserver (the spec's `AutopilotClusterEndpoint`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterEndpoint {
    /// The address.
    #[serde(default)]
    pub url: String,
    /// `Internal` (inside the VPC subnet) or `External` (public).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A cluster's phase. Phases the service adds later are kept as [`ClusterPhase::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClusterPhase {
    /// Healthy.
    Available,
    /// Broken; delete it by hand.
    Unavailable,
    /// Being created.
    Creating,
    /// Being deleted.
    Deleting,
    /// Being upgraded.
    Upgrading,
    /// An upgrade is being rolled back.
    RollingBack,
    /// A rollback went wrong.
    RollbackFailed,
    /// Its resources are broken; try deleting it.
    Error,
    /// A phase this version does not know, as the service spelt it.
    Other(String),
}

const PHASES: [(ClusterPhase, &str); 8] = [
    (ClusterPhase::Available, "Available"),
    (ClusterPhase::Unavailable, "Unavailable"),
    (ClusterPhase::Creating, "Creating"),
    (ClusterPhase::Deleting, "Deleting"),
    (ClusterPhase::Upgrading, "Upgrading"),
    (ClusterPhase::RollingBack, "RollingBack"),
    (ClusterPhase::RollbackFailed, "RollbackFailed"),
    (ClusterPhase::Error, "Error"),
];

impl ClusterPhase {
    /// The service's spelling, e.g. `Available`.
    pub fn as_str(&self) -> &str {
        match self {
            ClusterPhase::Other(text) => text,
            known => PHASES
                .iter()
                .find(|(phase, _)| phase == known)
                .map_or("", |(_, name)| name),
        }
    }

    /// The phases the SDK documents.
    pub fn known() -> impl Iterator<Item = ClusterPhase> {
        PHASES.iter().map(|(phase, _)| phase.clone())
    }
}

impl fmt::Display for ClusterPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClusterPhase {
    type Err = std::convert::Infallible;

    /// Exact spelling first; a documented phase in other letter case (`available`) reads as that phase.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(PHASES
            .iter()
            .find(|(_, name)| *name == text)
            .or_else(|| {
                PHASES
                    .iter()
                    .find(|(_, name)| name.eq_ignore_ascii_case(text))
            })
            .map_or_else(|| ClusterPhase::Other(text.to_owned()), |(p, _)| p.clone()))
    }
}

impl Serialize for ClusterPhase {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ClusterPhase {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The exact spelling only, so that what was read is what is written back.
        Ok(PHASES
            .iter()
            .find(|(_, name)| *name == text)
            .map_or(ClusterPhase::Other(text), |(p, _)| p.clone()))
    }
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

impl AutopilotCluster {
    /// The cluster id (`metadata.uid`), if the answer has one.
    pub fn id(&self) -> Option<&str> {
        self.metadata.uid.as_deref().filter(|id| !id.is_empty())
    }

    /// The phase, if the answer has one.
    pub fn phase(&self) -> Option<&ClusterPhase> {
        self.status.as_ref()?.phase.as_ref()
    }

    /// The API server's addresses.
    pub fn endpoints(&self) -> &[ClusterEndpoint] {
        self.status.as_ref().map_or(&[], |s| s.endpoints.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> serde_json::Value {
        json!({
            "kind": "Cluster", "apiVersion": "v3",
            "metadata": {"name": "prod", "uid": "3f0c9a1e", "alias": "Prod", "labels": {"a": "b"},
                         "creationTimestamp": "2026-11-01 10:00:00.1 +0000 UTC", "future": [1]},
            "spec": {"type": "VirtualMachine", "flavor": "cce.autopilot.cluster", "version": "v1.31",
                     "hostNetwork": {"vpc": "v", "subnet": "s"}, "billingMode": 0},
            "status": {"phase": "Available", "jobID": "j",
                       "endpoints": [{"url": "https://192.168.0.10:5443", "type": "Internal"}]}
        })
    }

    #[test]
    fn typed_fields_and_unknown_ones_survive_a_round_trip() {
        let cluster: AutopilotCluster = serde_json::from_value(sample()).unwrap();
        assert_eq!(cluster.id(), Some("3f0c9a1e"));
        assert_eq!(cluster.metadata.name, "prod");
        assert_eq!(cluster.phase(), Some(&ClusterPhase::Available));
        assert_eq!(cluster.spec.version.as_deref(), Some("v1.31"));
        assert_eq!(
            cluster.endpoints()[0].endpoint_type.as_deref(),
            Some("Internal")
        );
        assert_eq!(cluster.spec.extra["hostNetwork"]["vpc"], "v");
        assert_eq!(cluster.status.as_ref().unwrap().extra["jobID"], "j");
        assert_eq!(serde_json::to_value(&cluster).unwrap(), sample());
    }

    #[test]
    fn phases_the_service_adds_later_are_kept() {
        let phase: ClusterPhase = serde_json::from_value(json!("Hibernating")).unwrap();
        assert_eq!(phase, ClusterPhase::Other("Hibernating".into()));
        assert_eq!(serde_json::to_value(&phase).unwrap(), json!("Hibernating"));
        let odd: ClusterPhase = serde_json::from_value(json!("available")).unwrap();
        assert_eq!(
            odd,
            ClusterPhase::Other("available".into()),
            "read back as written"
        );
        assert_eq!(
            "available".parse::<ClusterPhase>(),
            Ok(ClusterPhase::Available)
        );
        assert_eq!(ClusterPhase::known().count(), 8);
        assert_eq!(ClusterPhase::RollbackFailed.to_string(), "RollbackFailed");
    }

    #[test]
    fn an_empty_or_null_list_reads_as_no_clusters() {
        let list: AutopilotClusterList =
            serde_json::from_value(json!({"kind": "List", "items": null})).unwrap();
        assert!(list.items.is_empty());
        let list: AutopilotClusterList = serde_json::from_value(json!({})).unwrap();
        assert!(list.items.is_empty());
    }
}
