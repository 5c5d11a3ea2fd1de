//! The owner mark: the `cce-autopilot.io/owner` extension on every entry this crate manages, saying which
//! cluster, access, project and service it stands for — what renames, removal, pruning and refreshing need.
//!
//! Version 2 (written now): `version`, `cluster-id`, `cluster-name`, `access`, `project-id`, `endpoint`,
//! `region`, `duration`, `credential`, and `identity` when the entry's credentials are not the default
//! chain's ([`super::identity`]). Version 1 (written by cce-autopilot 0.1 before names):
//! `cluster-id` and `access` only; it is read, and rewritten as version 2 when the entry is next merged.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::UnknownFields;

/// The version this crate writes.
pub const MARK_VERSION: u32 = 2;

/// Which cluster, project and service an entry of ours stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OwnerMark {
    /// The mark's format: 1 (no names) or 2.
    #[serde(default = "version_1")]
    pub version: u32,
    /// The cluster's id.
    #[serde(rename = "cluster-id")]
    pub cluster_id: String,
    /// The cluster's name, when it was known.
    #[serde(
        rename = "cluster-name",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_name: Option<String>,
    /// `internal` or `external` for a cluster or context entry; for the user entry the accesses its
    /// contexts use: `internal`, `external` or `both`.
    pub access: String,
    /// The project the cluster is in.
    #[serde(
        rename = "project-id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub project_id: Option<String>,
    /// The service endpoint it was fetched from, e.g. `https://cce.cn-north-4.myhuaweicloud.com/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The region, when one was configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The certificate validity asked for, in days (`-1`: the maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i32>,
    /// For a user entry: `static` (the certificate is embedded) or `exec` (the plugin fetches it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// Who the entry's credentials sign as, when not the default credential chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<super::identity::IdentityMark>,
    /// Fields of a later version.
    #[serde(flatten)]
    pub extra: UnknownFields,
}

fn version_1() -> u32 {
    1
}

impl OwnerMark {
    /// A version-2 mark of `cluster_id` for `access`.
    pub fn new(cluster_id: impl Into<String>, access: impl Into<String>) -> Self {
        OwnerMark {
            version: MARK_VERSION,
            cluster_id: cluster_id.into(),
            cluster_name: None,
            access: access.into(),
            project_id: None,
            endpoint: None,
            region: None,
            duration: None,
            credential: None,
            identity: None,
            extra: UnknownFields::new(),
        }
    }

    /// The mark an extension value holds: `None` for the generic `{"managed-by": …}` mark or another shape.
    pub fn from_value(value: &Value) -> Option<Self> {
        // Read in place: a merge reads every entry's mark for every cluster, and cloning each cost more than
        // the rest of the merge.
        <OwnerMark as serde::Deserialize>::deserialize(value)
            .ok()
            .filter(|m: &OwnerMark| !m.cluster_id.is_empty())
    }

    /// The extension value.
    pub fn to_value(&self) -> Value {
        // A struct of strings and numbers always serialises.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The same mark for another access (the user's `both`, a second context).
    #[must_use]
    pub fn for_access(&self, access: impl Into<String>) -> Self {
        OwnerMark {
            access: access.into(),
            ..self.clone()
        }
    }

    /// Whether this mark was written by an earlier version and will be rewritten when merged.
    pub fn is_legacy(&self) -> bool {
        self.version < MARK_VERSION
    }

    /// Whether both marks are of the same cluster (see [`OwnerMark::same_cluster`]) and the same identity:
    /// whose entries these are, for renames and removals.
    pub fn same_owner(&self, other: &OwnerMark) -> bool {
        self.same_cluster(other)
            && super::identity::IdentityMark::same(self.identity.as_ref(), other.identity.as_ref())
    }

    /// Whether both marks stand for the same cluster of the same service: the same id, and — where both
    /// record them — the same project and endpoint.
    pub fn same_cluster(&self, other: &OwnerMark) -> bool {
        let agree = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.cluster_id == other.cluster_id
            && agree(&self.project_id, &other.project_id)
            && agree(&self.endpoint, &other.endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn version_1_marks_are_read_and_known_as_legacy() {
        let mark =
            OwnerMark::from_value(&json!({"cluster-id": "c1", "access": "internal"})).unwrap();
        assert_eq!(mark.version, 1);
        assert!(mark.is_legacy());
        assert_eq!(mark.cluster_name, None);
        assert!(OwnerMark::from_value(&json!({"managed-by": "cce-autopilot"})).is_none());
        assert!(OwnerMark::from_value(&json!({"cluster-id": "", "access": "x"})).is_none());
    }

    #[test]
    fn version_2_round_trips_and_keeps_fields_of_later_versions() {
        let mut mark = OwnerMark::new("c1", "external");
        mark.cluster_name = Some("prod".into());
        mark.project_id = Some("p".into());
        mark.duration = Some(-1);
        let mut value = mark.to_value();
        value["future"] = json!(true);
        let again = OwnerMark::from_value(&value).unwrap();
        assert_eq!(again.extra["future"], json!(true));
        assert_eq!(again.to_value(), value);
        assert!(!again.is_legacy());
    }

    #[test]
    fn same_cluster_needs_the_same_id_and_agreeing_projects() {
        let mut a = OwnerMark::new("c1", "internal");
        a.project_id = Some("p1".into());
        let legacy =
            OwnerMark::from_value(&json!({"cluster-id": "c1", "access": "internal"})).unwrap();
        assert!(a.same_cluster(&legacy), "an old mark records no project");
        let mut b = a.clone();
        b.project_id = Some("p2".into());
        assert!(!a.same_cluster(&b));
        assert!(!a.same_cluster(&OwnerMark::new("c2", "internal")));
    }
}
