//! Removing our entries of a cluster — never a foreign one — and listing the clusters our marks name.

use std::collections::BTreeSet;

use cce_autopilot_model::Access;

use super::Entry;
use super::mark::OwnerMark;
use crate::edit::{self, UpdateOptions};
use crate::error::{EntryKind, Result};
use crate::load::KubeconfigSet;
use crate::merge::{ChangeAction, CurrentContextChange, EntryChange, MergeReport, Plan};
use crate::model::{NamedCluster, NamedContext, NamedUser};
use crate::paths::KubeconfigPaths;

/// The entries of one cluster to remove.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Removal {
    /// The cluster's mark: its id, and the project and endpoint when known (an entry of the same id in
    /// another project is not this cluster's).
    pub cluster: OwnerMark,
    /// Only these accesses (the user goes once no context of ours uses it); `None` for all.
    pub accesses: Option<Vec<Access>>,
    /// Only the entries of this identity (`Some(None)`: the default chain's); `None`: of every identity.
    pub identity: Option<Option<super::identity::IdentityMark>>,
}

impl Removal {
    /// Every entry of ours for the cluster of `mark`.
    pub fn all(mark: OwnerMark) -> Self {
        Removal {
            cluster: mark,
            accesses: None,
            identity: None,
        }
    }

    /// Only the entries of these accesses of the cluster of `mark` (`None`: all).
    pub fn only(mark: OwnerMark, accesses: Option<Vec<Access>>) -> Self {
        Removal {
            cluster: mark,
            accesses,
            identity: None,
        }
    }

    /// Only the entries of `identity` (`None`: the default chain's).
    #[must_use]
    pub fn of_identity(mut self, identity: Option<super::identity::IdentityMark>) -> Self {
        self.identity = Some(identity);
        self
    }

    fn selects(&self, mark: &OwnerMark, kind: EntryKind) -> bool {
        if !mark.same_cluster(&self.cluster) {
            return false;
        }
        if let Some(identity) = &self.identity
            && !super::identity::IdentityMark::same(mark.identity.as_ref(), identity.as_ref())
        {
            return false;
        }
        match (&self.accesses, kind) {
            (None, _) | (Some(_), EntryKind::User) => true,
            (Some(accesses), _) => accesses.iter().any(|a| a.context_name() == mark.access),
        }
    }
}

/// One mark per cluster our entries stand for, in file order: the richest mark seen (a version-2 mark wins
/// over a version-1 one of the same cluster).
pub fn marked_clusters(set: &KubeconfigSet) -> Vec<OwnerMark> {
    let mut found: Vec<OwnerMark> = Vec::new();
    for file in set.files() {
        let config = file.config();
        let marks = config
            .contexts
            .iter()
            .filter_map(|e| e.owner())
            .chain(config.clusters.iter().filter_map(|e| e.owner()))
            .chain(config.users.iter().filter_map(|e| e.owner()));
        for mark in marks {
            let base = OwnerMark {
                access: String::new(),
                credential: None,
                ..mark
            };
            match found.iter_mut().find(|m| m.same_cluster(&base)) {
                Some(known) if known.is_legacy() && !base.is_legacy() => *known = base,
                Some(_) => {}
                None => found.push(base),
            }
        }
    }
    found
}

/// Removes the entries of `removals` from the files of `paths` (under their locks): only entries that carry
/// our mark for those clusters. A `current-context` naming a removed context is unset. Removing an entry
/// that shadowed one of the same name in a later file (`KUBECONFIG=a:b`) is reported in the notes: kubectl
/// uses that one from now on.
pub fn remove(
    paths: &KubeconfigPaths,
    removals: &[Removal],
    opts: &UpdateOptions,
) -> Result<MergeReport> {
    edit::apply(paths, opts, |set| Ok(plan(set, removals)))
}

pub(crate) fn plan(set: &KubeconfigSet, removals: &[Removal]) -> Plan {
    let mut plan = Plan::default();
    let mut removed_contexts = BTreeSet::new();
    remove_kind::<NamedCluster>(set, &mut plan, removals, |_| true, &mut BTreeSet::new());
    remove_kind::<NamedContext>(set, &mut plan, removals, |_| true, &mut removed_contexts);
    // A user goes when no context of ours that stays still uses it.
    let still_used: BTreeSet<String> = (0..set.files().len())
        .flat_map(|i| plan.file(set, i).contexts.clone())
        .filter_map(|c| c.context.user)
        .collect();
    remove_kind::<NamedUser>(
        set,
        &mut plan,
        removals,
        |u| !still_used.contains(u.name()),
        &mut BTreeSet::new(),
    );
    if let Some((current, i)) = set.current_context()
        && removed_contexts.contains(current)
    {
        plan.file_mut(set, i).current_context = None;
        plan.report.current_context = Some(CurrentContextChange {
            previous: Some(current.to_owned()),
            new: None,
            file: set.files()[i].path().to_path_buf(),
            changed: true,
        });
    }
    uncovered(set, &mut plan);
    plan
}

fn remove_kind<E: Entry>(
    set: &KubeconfigSet,
    plan: &mut Plan,
    removals: &[Removal],
    also: impl Fn(&E) -> bool,
    names: &mut BTreeSet<String>,
) {
    for i in 0..set.files().len() {
        let doomed: Vec<String> = E::list(plan.file(set, i))
            .iter()
            .filter(|e| {
                e.owner()
                    .is_some_and(|m| removals.iter().any(|r| r.selects(&m, E::KIND)))
                    && also(e)
            })
            .map(|e| e.name().to_owned())
            .collect();
        if doomed.is_empty() {
            continue;
        }
        E::list_mut(plan.file_mut(set, i)).retain(|e| !doomed.iter().any(|d| d == e.name()));
        for name in doomed {
            plan.report.changes.push(EntryChange::new(
                E::KIND,
                &name,
                ChangeAction::Removed,
                set.files()[i].path().to_path_buf(),
            ));
            names.insert(name);
        }
    }
}

/// Notes for removed entries whose name a later file also defines: kubectl now uses that one.
fn uncovered(set: &KubeconfigSet, plan: &mut Plan) {
    let removed: Vec<(EntryKind, String, std::path::PathBuf)> = plan
        .report
        .changes
        .iter()
        .filter(|c| c.action == ChangeAction::Removed)
        .map(|c| (c.kind, c.name.clone(), c.file.clone()))
        .collect();
    for (kind, name, from) in removed {
        let now = (0..set.files().len()).find(|&i| plan.file(set, i).contains(kind, &name));
        if let Some(i) = now {
            let path = set.files()[i].path();
            let file = plan.file(set, i);
            let foreign = match kind {
                EntryKind::Cluster => file
                    .clusters
                    .iter()
                    .find(|e| e.name == name)
                    .is_some_and(|e| !e.is_owned()),
                EntryKind::User => file
                    .users
                    .iter()
                    .find(|e| e.name == name)
                    .is_some_and(|e| !e.is_owned()),
                EntryKind::Context => file
                    .contexts
                    .iter()
                    .find(|e| e.name == name)
                    .is_some_and(|e| !e.is_owned()),
            };
            plan.report.notes.push(format!(
                "removing {kind} {name:?} from {} uncovers the {kind} of the same name in {}{}: kubectl uses \
                 that one from now on",
                from.display(),
                path.display(),
                if foreign { ", which cce-autopilot did not write" } else { "" }
            ));
        }
    }
}
