//! The entries this crate manages: made from the service's answer ([`ClusterEntries`]), named per
//! cluster ([`Naming`]), marked as ours ([`OwnerMark`]), and merged field by field so that what the user
//! added survives ([`merge`]); renamed instead of duplicated, removed ([`remove`]) without touching a
//! foreign entry.
//!
//! Names: the scope is the region, else the endpoint's host, else `custom`. A cluster and its context are
//! `cce_<scope>_<cluster-name>_<internal|external>`, the user `cce_<scope>_<cluster-name>_user`; the
//! cluster id stands in for a name that cannot be had (the credentials may not list clusters), but an entry
//! that already has a name keeps it. When another project's cluster of the same name holds those names,
//! `.<first 8 characters of the project id>` follows the name. `--alias A` names the cluster and context
//! `A` (`A-internal` and `A-external` for both accesses), `--user-alias U` the user. A fleet's entries are
//! scoped by their project's name ([`Target::in_fleet_project`]), and a [`NameTemplate`] names them all.

mod build;
mod fields;
mod identity;
mod mark;
mod naming;
mod plan;
mod remove;
mod template;

pub use build::{AccessChoice, ClusterEntries, EntryOptions, Target, select_access};
pub use identity::{AgencyMark, IdentityMark};
pub use mark::{MARK_VERSION, OwnerMark};
pub use naming::{Naming, name_part, name_scope};
pub use plan::{MergeOutcome, MergeRequest, Merged, merge};
pub use remove::{Removal, marked_clusters, remove};
pub use template::NameTemplate;

use serde_json::Value;

use crate::error::EntryKind;
use crate::model::{KubeconfigFile, NamedCluster, NamedContext, NamedUser};

/// What the merge needs of an entry, whatever its list.
pub(crate) trait Entry: Clone + PartialEq {
    const KIND: EntryKind;
    fn name(&self) -> &str;
    fn set_name(&mut self, name: String);
    fn mark(&self) -> Option<&Value>;
    fn list(file: &KubeconfigFile) -> &Vec<Self>;
    fn list_mut(file: &mut KubeconfigFile) -> &mut Vec<Self>;
    /// `existing` with the fields of `ours` this crate owns, and the names of those that changed.
    fn merged(existing: &Self, ours: &Self) -> (Self, Vec<String>);

    /// The parsed owner mark, if the entry is ours for a cluster.
    fn owner(&self) -> Option<OwnerMark> {
        self.mark().and_then(OwnerMark::from_value)
    }

    /// Whether the entry's mark names `cluster_id`, read without parsing the mark: every mark that can be
    /// ours for a cluster names it (`cluster-id`), so this filters before [`Entry::owner`].
    fn marked_for(&self, cluster_id: &str) -> bool {
        self.mark()
            .and_then(|m| m.get("cluster-id"))
            .and_then(Value::as_str)
            == Some(cluster_id)
    }
}

macro_rules! entry {
    ($ty:ty, $kind:expr, $list:ident, $merge:path) => {
        impl Entry for $ty {
            const KIND: EntryKind = $kind;
            fn name(&self) -> &str {
                &self.name
            }
            fn set_name(&mut self, name: String) {
                self.name = name;
            }
            fn mark(&self) -> Option<&Value> {
                self.owner_mark()
            }
            fn list(file: &KubeconfigFile) -> &Vec<Self> {
                &file.$list
            }
            fn list_mut(file: &mut KubeconfigFile) -> &mut Vec<Self> {
                &mut file.$list
            }
            fn merged(existing: &Self, ours: &Self) -> (Self, Vec<String>) {
                $merge(existing, ours)
            }
        }
    };
}

entry!(
    NamedCluster,
    EntryKind::Cluster,
    clusters,
    fields::merge_cluster
);
entry!(NamedUser, EntryKind::User, users, fields::merge_user);
entry!(
    NamedContext,
    EntryKind::Context,
    contexts,
    fields::merge_context
);
