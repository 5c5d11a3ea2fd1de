//! The managed merge: each cluster's entries named, checked against the names the files already use,
//! then updated field by field where they exist, renamed where they exist under other names, added where
//! they do not — with the references to a renamed entry and the `current-context` following it.

use std::cell::RefCell;
use std::collections::HashSet;

use cce_autopilot_model::Access;

use super::Entry;
use super::build::ClusterEntries;
use super::mark::OwnerMark;
use super::naming::{Existing, Names, Naming, names};
use crate::edit::{self, UpdateOptions};
use crate::error::{EntryKind, Error, Result};
use crate::load::KubeconfigSet;
use crate::merge::{ChangeAction, CurrentContextChange, EntryChange, MergeReport, Plan};
use crate::model::{NamedCluster, NamedContext, NamedUser};
use crate::paths::KubeconfigPaths;

/// What to merge.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct MergeRequest {
    /// The clusters' entries, in order.
    pub clusters: Vec<ClusterEntries>,
    /// How they are named.
    pub naming: Naming,
    /// Make the first merged cluster's primary context current.
    pub set_current: bool,
    /// Replace entries of the names to write that are not ours for this cluster.
    pub force: bool,
}

impl MergeRequest {
    /// `clusters` under `naming`, nothing else asked.
    pub fn new(clusters: Vec<ClusterEntries>, naming: Naming) -> Self {
        MergeRequest {
            clusters,
            naming,
            set_current: false,
            force: false,
        }
    }
}

/// The names one cluster's entries got.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Merged {
    /// The cluster's id.
    pub cluster_id: String,
    /// Its contexts, the primary one first.
    pub contexts: Vec<(Access, String)>,
    /// Its user.
    pub user: String,
    /// Its contexts that skip TLS verification.
    pub insecure_contexts: Vec<String>,
}

/// What a merge did: the report, the names of each merged cluster, and the clusters that could not be
/// merged (their entries were left as they were) with why.
#[derive(Debug)]
#[non_exhaustive]
pub struct MergeOutcome {
    /// Entry by entry.
    pub report: MergeReport,
    /// The merged clusters, in the request's order.
    pub merged: Vec<Merged>,
    /// The clusters refused, with the reason (a name held by an entry that is not theirs).
    pub failures: Vec<(String, Error)>,
}

/// Merges `request` into the kubeconfig files of `paths`, under their locks, by client-go's rules for
/// where entries go (see [`crate::update`]). A cluster whose names are held by entries that are not its
/// own is not merged (see [`MergeOutcome::failures`]); the others are.
pub fn merge(
    paths: &KubeconfigPaths,
    request: &MergeRequest,
    opts: &UpdateOptions,
) -> Result<MergeOutcome> {
    let last = RefCell::new((Vec::new(), Vec::new()));
    let report = edit::apply(paths, opts, |set| {
        let (plan, merged, failures) = plan(set, request)?;
        *last.borrow_mut() = (merged, failures);
        Ok(plan)
    })?;
    let (merged, failures) = last.into_inner();
    Ok(MergeOutcome {
        report,
        merged,
        failures,
    })
}

type Planned = (Plan, Vec<Merged>, Vec<(String, Error)>);

/// The plan of `request` on one read of the files.
pub(crate) fn plan(set: &KubeconfigSet, request: &MergeRequest) -> Result<Planned> {
    let mut work = Work {
        set,
        plan: Plan::default(),
        marked_ids: marked_ids(set),
    };
    let mut merged = Vec::new();
    let mut failures = Vec::new();
    for entries in &request.clusters {
        let mark = mark_of(entries);
        let names = {
            let mut existing = work.existing();
            existing.marked = work.marked_ids.contains(&entries.target.cluster_id);
            names(entries, &request.naming, &mark, &existing)
        };
        match work.check(entries, &mark, &names, request.force) {
            Ok(()) => merged.push(work.apply(entries, &mark, &names)),
            Err(e) => failures.push((entries.target.cluster_id.clone(), e)),
        }
    }
    if request.set_current
        && let Some(first) = merged.first()
        && let Some((_, context)) = first.contexts.first()
    {
        work.set_current(context);
    }
    Ok((work.plan, merged, failures))
}

/// The version-2 mark of a cluster's entries (the access is set per entry).
fn mark_of(entries: &ClusterEntries) -> OwnerMark {
    let t = &entries.target;
    OwnerMark {
        cluster_name: t.cluster_name.clone(),
        project_id: t.project_id.clone(),
        endpoint: t.endpoint.clone(),
        region: t.region.clone(),
        duration: entries.duration,
        identity: t.identity.clone(),
        ..OwnerMark::new(&t.cluster_id, "")
    }
}

/// Whether an entry's mark makes it one of `mark`'s — the same cluster and identity — for `access` (`None`:
/// any access, as for users). Entries of another identity of the same cluster are someone else's.
fn owned_by(entry_mark: Option<&OwnerMark>, mark: &OwnerMark, access: Option<&str>) -> bool {
    entry_mark.is_some_and(|m| m.same_owner(mark) && access.is_none_or(|a| m.access == a))
}

/// A plan being built on a read of the files.
struct Work<'a> {
    set: &'a KubeconfigSet,
    plan: Plan,
    /// The cluster ids some entry's mark names, in the files or in the plan: a cluster not among them has no
    /// entry to find, which spares a fleet's merge a look at every entry for each of its new clusters.
    marked_ids: HashSet<String>,
}

/// The cluster ids the marks of `set`'s entries name.
fn marked_ids(set: &KubeconfigSet) -> HashSet<String> {
    fn ids<E: Entry>(set: &KubeconfigSet, out: &mut HashSet<String>) {
        for file in set.files() {
            for e in E::list(file.config()) {
                if let Some(id) = e
                    .mark()
                    .and_then(|m| m.get("cluster-id"))
                    .and_then(|v| v.as_str())
                {
                    out.insert(id.to_owned());
                }
            }
        }
    }
    let mut out = HashSet::new();
    ids::<NamedCluster>(set, &mut out);
    ids::<NamedUser>(set, &mut out);
    ids::<NamedContext>(set, &mut out);
    out
}

/// Where an entry is: file index and position in its list.
type Place = (usize, usize);

impl Work<'_> {
    fn file_count(&self) -> usize {
        self.set.files().len()
    }

    /// The entry kubectl would use for `name`: the first file (as planned so far) that defines it.
    fn effective<E: Entry>(&self, name: &str) -> Option<Place> {
        (0..self.file_count()).find_map(|i| {
            E::list(self.plan.file(self.set, i))
                .iter()
                .position(|e| e.name() == name)
                .map(|p| (i, p))
        })
    }

    fn get<E: Entry>(&self, (file, pos): Place) -> &E {
        &E::list(self.plan.file(self.set, file))[pos]
    }

    /// The effective entries (not shadowed by an earlier file) that `pred` selects.
    fn effective_where<E: Entry>(&self, pred: impl Fn(&E) -> bool) -> Vec<Place> {
        let mut found = Vec::new();
        for i in 0..self.file_count() {
            for (pos, e) in E::list(self.plan.file(self.set, i)).iter().enumerate() {
                if pred(e) && self.effective::<E>(e.name()) == Some((i, pos)) {
                    found.push((i, pos));
                }
            }
        }
        found
    }

    fn existing(&self) -> Existing<'_> {
        fn all<'b, E: Entry>(w: &'b Work<'_>) -> Vec<&'b E> {
            (0..w.file_count())
                .flat_map(|i| E::list(w.plan.file(w.set, i)).iter())
                .collect()
        }
        Existing {
            clusters: all::<NamedCluster>(self),
            users: all::<NamedUser>(self),
            contexts: all::<NamedContext>(self),
            marked: true,
        }
    }

    /// Whether `name` may be written for `mark`: free, ours for this cluster, the stale entry of a cluster
    /// of the same name in the same project (deleted and created again), or `force`.
    fn check_name<E: Entry>(&self, name: &str, mark: &OwnerMark, force: bool) -> Result<()> {
        let Some(place) = self.effective::<E>(name) else {
            return Ok(());
        };
        let holder: &E = self.get(place);
        let owner = holder.owner();
        if force || owned_by(owner.as_ref(), mark, None) || takes_over(owner.as_ref(), mark) {
            return Ok(());
        }
        let path = self.set.files()[place.0].path().to_path_buf();
        Err(match (holder.mark().is_some(), owner) {
            (true, Some(other)) => Error::OwnedByAnotherCluster {
                kind: E::KIND,
                name: name.to_owned(),
                path,
                cluster: other.cluster_name.unwrap_or(other.cluster_id),
            },
            _ => Error::Collision {
                kind: E::KIND,
                name: name.to_owned(),
                path,
            },
        })
    }

    fn check(
        &self,
        entries: &ClusterEntries,
        mark: &OwnerMark,
        names: &Names,
        force: bool,
    ) -> Result<()> {
        for &access in &entries.accesses {
            self.check_name::<NamedCluster>(names.cluster(access), mark, force)?;
            self.check_name::<NamedContext>(names.context(access), mark, force)?;
        }
        self.check_name::<NamedUser>(&names.user, mark, force)
    }

    fn apply(&mut self, entries: &ClusterEntries, mark: &OwnerMark, names: &Names) -> Merged {
        if let Some(note) = &names.note
            && !self.plan.report.notes.contains(note)
        {
            self.plan.report.notes.push(note.clone());
        }
        let marked = self.marked_ids.contains(&mark.cluster_id);
        let legacy = marked
            && self.existing().contexts.iter().any(|c| {
                c.marked_for(&mark.cluster_id)
                    && c.owner()
                        .is_some_and(|m| m.is_legacy() && m.same_owner(mark))
            });
        if legacy {
            self.plan.report.notes.push(format!(
                "the entries an earlier version wrote for cluster {} now have the names and marks of this one",
                entries.target.cluster_id
            ));
        }
        for (access, cluster) in &entries.clusters {
            let m = mark.for_access(access.context_name());
            let ours = NamedCluster::new(names.cluster(*access), cluster.clone())
                .with_owner_mark(m.to_value());
            self.put(ours, &m, Some(access.context_name()));
        }
        let user_mark = OwnerMark {
            credential: Some(entries.credential.to_owned()),
            ..mark.for_access(entries.user_access())
        };
        let user =
            NamedUser::new(&names.user, entries.user.clone()).with_owner_mark(user_mark.to_value());
        self.put(user, &user_mark, None);
        let mut insecure_contexts = Vec::new();
        for (access, context) in &entries.contexts {
            let m = mark.for_access(access.context_name());
            let mut context = context.clone();
            context.cluster = Some(names.cluster(*access).to_owned());
            context.user = Some(names.user.clone());
            let ours =
                NamedContext::new(names.context(*access), context).with_owner_mark(m.to_value());
            self.put(ours, &m, Some(access.context_name()));
            if entries.insecure.contains(access) {
                insecure_contexts.push(names.context(*access).to_owned());
            }
        }
        // From now on this cluster has entries to find.
        self.marked_ids.insert(mark.cluster_id.clone());
        Merged {
            cluster_id: entries.target.cluster_id.clone(),
            contexts: entries
                .accesses
                .iter()
                .map(|&a| (a, names.context(a).to_owned()))
                .collect(),
            user: names.user.clone(),
            insecure_contexts,
        }
    }

    /// Writes `ours` (its name is the one wanted): over the entry of that name, else over (renaming) our
    /// entry of this cluster and access, else appended; other entries of ours for it are removed.
    fn put<E: Entry>(&mut self, ours: E, mark: &OwnerMark, access: Option<&str>) {
        let name = ours.name().to_owned();
        let mut owned = if self.marked_ids.contains(&mark.cluster_id) {
            self.effective_where::<E>(|e| {
                e.marked_for(&mark.cluster_id) && owned_by(e.owner().as_ref(), mark, access)
            })
        } else {
            Vec::new()
        };
        let (place, from) = match self.effective::<E>(&name) {
            Some(place) => (Some(place), None),
            None if !owned.is_empty() => {
                let first = owned.remove(0);
                let old = self.get::<E>(first).name().to_owned();
                (Some(first), Some(old))
            }
            None => (None, None),
        };
        owned.retain(|p| Some(*p) != place);
        // Remove the duplicates from the last position back, so that earlier positions stay valid.
        owned.sort_by(|a, b| b.cmp(a));
        for dup in owned {
            let old = self.get::<E>(dup).name().to_owned();
            self.remove_at::<E>(dup);
            self.redirect::<E>(&old, &name);
        }
        let place = place.map(|p| {
            self.effective::<E>(&from.clone().unwrap_or_else(|| name.clone()))
                .unwrap_or(p)
        });
        let (action, fields, entry, file) = match place {
            None => {
                let file = self.set.default_file();
                E::list_mut(self.plan.file_mut(self.set, file)).push(ours.clone());
                (ChangeAction::Added, Vec::new(), ours, file)
            }
            Some((file, pos)) => {
                let existing = self.get::<E>((file, pos)).clone();
                let ours_existing = owned_by(existing.owner().as_ref(), mark, None)
                    || takes_over(existing.owner().as_ref(), mark);
                let (mut next, fields, action) = if ours_existing {
                    let (next, fields) = E::merged(&existing, &ours);
                    let action = match (&from, fields.is_empty()) {
                        (Some(_), _) => ChangeAction::Renamed,
                        (None, true) => ChangeAction::Unchanged,
                        (None, false) => ChangeAction::Updated,
                    };
                    (next, fields, action)
                } else {
                    (ours.clone(), Vec::new(), ChangeAction::ReplacedForeign)
                };
                next.set_name(name.clone());
                if action != ChangeAction::Unchanged {
                    E::list_mut(self.plan.file_mut(self.set, file))[pos] = next.clone();
                }
                (action, fields, next, file)
            }
        };
        if let Some(old) = &from {
            self.redirect::<E>(old, &name);
        }
        let mut change = EntryChange::new(
            E::KIND,
            &name,
            action,
            self.set.files()[file].path().to_path_buf(),
        );
        change.fields = fields;
        change.from = from;
        if action != ChangeAction::Unchanged {
            E::list_mut(&mut self.plan.report.pending).push(entry);
        }
        self.plan.report.changes.push(change);
    }

    fn remove_at<E: Entry>(&mut self, (file, pos): Place) {
        let removed = E::list_mut(self.plan.file_mut(self.set, file)).remove(pos);
        self.plan.report.changes.push(EntryChange::new(
            E::KIND,
            removed.name(),
            ChangeAction::Removed,
            self.set.files()[file].path().to_path_buf(),
        ));
    }

    /// Contexts naming the cluster or user `old` now name `new`; a `current-context` of `old` follows.
    fn redirect<E: Entry>(&mut self, old: &str, new: &str) {
        if old == new {
            return;
        }
        for i in 0..self.file_count() {
            let touches = self
                .plan
                .file(self.set, i)
                .contexts
                .iter()
                .any(|c| match E::KIND {
                    EntryKind::Cluster => c.context.cluster.as_deref() == Some(old),
                    EntryKind::User => c.context.user.as_deref() == Some(old),
                    EntryKind::Context => false,
                })
                || (E::KIND == EntryKind::Context
                    && self.plan.file(self.set, i).current_context() == Some(old));
            if !touches {
                continue;
            }
            let file = self.plan.file_mut(self.set, i);
            for c in &mut file.contexts {
                let slot = match E::KIND {
                    EntryKind::Cluster => &mut c.context.cluster,
                    EntryKind::User => &mut c.context.user,
                    EntryKind::Context => continue,
                };
                if slot.as_deref() == Some(old) {
                    *slot = Some(new.to_owned());
                }
            }
            if E::KIND == EntryKind::Context && file.current_context() == Some(old) {
                file.current_context = Some(new.to_owned());
                self.plan.report.current_context = Some(CurrentContextChange {
                    previous: Some(old.to_owned()),
                    new: Some(new.to_owned()),
                    file: self.set.files()[i].path().to_path_buf(),
                    changed: true,
                });
            }
        }
    }

    fn set_current(&mut self, context: &str) {
        let previous = self.set.current_context();
        let planned = (0..self.file_count()).find_map(|i| {
            self.plan
                .file(self.set, i)
                .current_context()
                .map(|c| (c.to_owned(), i))
        });
        let changed = planned.as_ref().map(|(c, _)| c.as_str()) != Some(context);
        let file = match &planned {
            Some((_, i)) if !changed => *i,
            _ => self.set.default_file(),
        };
        if changed {
            self.plan.file_mut(self.set, file).current_context = Some(context.to_owned());
            self.plan.report.pending.current_context = Some(context.to_owned());
        }
        self.plan.report.current_context = Some(CurrentContextChange {
            previous: previous.map(|(c, _)| c.to_owned()),
            new: Some(context.to_owned()),
            file: self.set.files()[file].path().to_path_buf(),
            changed: previous.map(|(c, _)| c) != Some(context),
        });
    }
}

/// A stale entry of a cluster of the same name in the same project and service: that cluster was deleted
/// (a name is unique in a project at any time), and this one, created under its name, takes its names.
fn takes_over(owner: Option<&OwnerMark>, mark: &OwnerMark) -> bool {
    owner.is_some_and(|o| {
        o.cluster_id != mark.cluster_id
            && super::identity::IdentityMark::same(o.identity.as_ref(), mark.identity.as_ref())
            && o.cluster_name.is_some()
            && o.cluster_name == mark.cluster_name
            && o.project_id.is_some()
            && o.project_id == mark.project_id
            && o.endpoint == mark.endpoint
    })
}
