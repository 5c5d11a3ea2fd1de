//! The generic merge: named entries upserted into a [`KubeconfigSet`] under an ownership rule,
//! each written to the file client-go would write it to, with a report of what changes.

mod report;

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use crate::error::{EntryKind, Error, Result};
use crate::load::KubeconfigSet;
use crate::model::{KubeconfigFile, NamedCluster, NamedContext, NamedUser};

pub use report::{ChangeAction, CurrentContextChange, EntryChange, MergeReport};

/// Entries to add or replace, and optionally a new `current-context`.
///
/// Every entry written is marked as ours with the [`super::OWNER_EXTENSION`] extension: entries
/// that carry no mark get `{"managed-by": "cce-autopilot"}`; callers set a richer one (cluster
/// id, access) with `with_owner_mark`. An existing entry of the same name is replaced in place
/// only if it carries the mark (or with `force_replace`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Upsert {
    /// Cluster entries.
    pub clusters: Vec<NamedCluster>,
    /// User entries.
    pub users: Vec<NamedUser>,
    /// Context entries; their `cluster` and `user` must name entries that exist afterwards.
    pub contexts: Vec<NamedContext>,
    /// The context to make current, which must exist afterwards.
    pub current_context: Option<String>,
}

/// An edit computed on one read of the files: the report and the new content of each touched file.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan {
    pub(crate) report: MergeReport,
    /// Index in the set → new content, for every file that changes.
    pub(crate) files: BTreeMap<usize, KubeconfigFile>,
}

impl Plan {
    /// The content of file `index` as this plan leaves it (a copy of the loaded one on first touch).
    pub(crate) fn file_mut(&mut self, set: &KubeconfigSet, index: usize) -> &mut KubeconfigFile {
        self.files
            .entry(index)
            .or_insert_with(|| set.files()[index].config().clone())
    }

    /// The content of file `index` as this plan leaves it so far.
    pub(crate) fn file<'a>(&'a self, set: &'a KubeconfigSet, index: usize) -> &'a KubeconfigFile {
        self.files
            .get(&index)
            .unwrap_or_else(|| set.files()[index].config())
    }
}

impl Upsert {
    /// Checks what can be checked without the files: non-empty names, no name twice in one list,
    /// no cluster with a CA and `insecure-skip-tls-verify: true`. [`super::update`] calls it.
    pub fn validate(&self) -> Result<()> {
        fn check_names<'a>(kind: EntryKind, names: impl Iterator<Item = &'a str>) -> Result<()> {
            let mut seen = HashSet::new();
            for name in names {
                if name.is_empty() {
                    return Err(Error::InvalidUpsert {
                        reason: format!(
                            "a {kind} entry has an empty name; give every entry a name"
                        ),
                    });
                }
                if !seen.insert(name) {
                    return Err(Error::InvalidUpsert {
                        reason: format!(
                            "two {kind} entries are named {name:?}; kubectl would refuse the file — give each its own name"
                        ),
                    });
                }
            }
            Ok(())
        }
        check_names(
            EntryKind::Cluster,
            self.clusters.iter().map(|c| c.name.as_str()),
        )?;
        check_names(EntryKind::User, self.users.iter().map(|u| u.name.as_str()))?;
        check_names(
            EntryKind::Context,
            self.contexts.iter().map(|c| c.name.as_str()),
        )?;
        for c in &self.clusters {
            if let Some(ca_field) = c.cluster.conflicting_ca_field() {
                return Err(Error::InsecureWithCa {
                    name: c.name.clone(),
                    ca_field,
                });
            }
        }
        if self.current_context.as_deref() == Some("") {
            return Err(Error::InvalidUpsert {
                reason: "the requested current-context is empty; name a context or request none"
                    .to_owned(),
            });
        }
        Ok(())
    }

    /// Every entry with an owner mark, the default one where the caller set none.
    fn marked(&self) -> Upsert {
        let default_mark = || json!({"managed-by": "cce-autopilot"});
        let mut out = self.clone();
        for c in &mut out.clusters {
            if !c.is_owned() {
                c.set_owner_mark(default_mark());
            }
        }
        for u in &mut out.users {
            if !u.is_owned() {
                u.set_owner_mark(default_mark());
            }
        }
        for c in &mut out.contexts {
            if !c.is_owned() {
                c.set_owner_mark(default_mark());
            }
        }
        out
    }
}

/// Computes the merge of `upsert` into `set` without writing anything.
pub(crate) fn plan(set: &KubeconfigSet, upsert: &Upsert, force_replace: bool) -> Result<Plan> {
    upsert.validate()?;
    let upsert = upsert.marked();
    check_references(set, &upsert)?;

    let default_file = set.default_file();
    let mut files: BTreeMap<usize, KubeconfigFile> = BTreeMap::new();
    let mut changes = Vec::new();
    let mut pending = KubeconfigFile::default();

    macro_rules! upsert_list {
        ($kind:expr, $list:ident, $entries:expr) => {
            for entry in $entries {
                let existing = set.origin($kind, &entry.name).and_then(|i| {
                    set.files()[i]
                        .config()
                        .$list
                        .iter()
                        .find(|e| e.name == entry.name)
                        .map(|e| (i, e))
                });
                let (index, action) = match existing {
                    Some((i, existing)) => {
                        let action = if existing == entry {
                            ChangeAction::Unchanged
                        } else if existing.is_owned() {
                            ChangeAction::Replaced
                        } else if force_replace {
                            ChangeAction::ReplacedForeign
                        } else {
                            return Err(Error::Collision {
                                kind: $kind,
                                name: entry.name.clone(),
                                path: set.files()[i].path().to_path_buf(),
                            });
                        };
                        if action != ChangeAction::Unchanged {
                            let file = files
                                .entry(i)
                                .or_insert_with(|| set.files()[i].config().clone());
                            if let Some(slot) = file.$list.iter_mut().find(|e| e.name == entry.name)
                            {
                                *slot = entry.clone();
                            }
                        }
                        (i, action)
                    }
                    None => {
                        let file = files
                            .entry(default_file)
                            .or_insert_with(|| set.files()[default_file].config().clone());
                        file.$list.push(entry.clone());
                        (default_file, ChangeAction::Added)
                    }
                };
                if action != ChangeAction::Unchanged {
                    pending.$list.push(entry.clone());
                }
                changes.push(EntryChange::new(
                    $kind,
                    entry.name.clone(),
                    action,
                    set.files()[index].path().to_path_buf(),
                ));
            }
        };
    }
    upsert_list!(EntryKind::Cluster, clusters, &upsert.clusters);
    upsert_list!(EntryKind::User, users, &upsert.users);
    upsert_list!(EntryKind::Context, contexts, &upsert.contexts);

    let current_context = upsert.current_context.as_ref().map(|new| {
        let previous = set.current_context();
        let changed = previous.map(|(c, _)| c) != Some(new.as_str());
        let index = match previous {
            Some((_, i)) if !changed => i,
            _ => default_file,
        };
        if changed {
            let file = files
                .entry(default_file)
                .or_insert_with(|| set.files()[default_file].config().clone());
            file.current_context = Some(new.clone());
            pending.current_context = Some(new.clone());
        }
        CurrentContextChange {
            previous: previous.map(|(c, _)| c.to_owned()),
            new: Some(new.clone()),
            file: set.files()[index].path().to_path_buf(),
            changed,
        }
    });

    // Defensive: the merge itself must never produce a file kubectl refuses.
    for (i, file) in &files {
        if let Some((kind, name)) = file.duplicate_name() {
            return Err(Error::DuplicateName {
                path: set.files()[*i].path().to_path_buf(),
                kind,
                name: name.to_owned(),
            });
        }
    }

    Ok(Plan {
        report: MergeReport {
            changes,
            current_context,
            pending,
            ..MergeReport::default()
        },
        files,
    })
}

/// Contexts must name clusters and users that exist once the update is done, and the new
/// current-context must name a context: kubectl fails at use otherwise.
fn check_references(set: &KubeconfigSet, upsert: &Upsert) -> Result<()> {
    let exists = |kind: EntryKind, name: &str| {
        set.origin(kind, name).is_some()
            || match kind {
                EntryKind::Cluster => upsert.clusters.iter().any(|c| c.name == name),
                EntryKind::User => upsert.users.iter().any(|u| u.name == name),
                EntryKind::Context => upsert.contexts.iter().any(|c| c.name == name),
            }
    };
    for ctx in &upsert.contexts {
        for (kind, target) in [
            (EntryKind::Cluster, &ctx.context.cluster),
            (EntryKind::User, &ctx.context.user),
        ] {
            if let Some(target) = target.as_deref()
                && !exists(kind, target)
            {
                return Err(Error::InvalidUpsert {
                    reason: format!(
                        "context {:?} names {kind} {target:?}, which is neither in the kubeconfig files nor in this update; add that {kind} entry too",
                        ctx.name
                    ),
                });
            }
        }
    }
    if let Some(current) = upsert.current_context.as_deref()
        && !exists(EntryKind::Context, current)
    {
        return Err(Error::InvalidUpsert {
            reason: format!(
                "the requested current-context {current:?} names no context of the kubeconfig files or of this update"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KubeconfigPaths;
    use crate::model::{Cluster, Context, User};
    use std::fs;

    fn set_from(files: &[(&str, &str)]) -> (tempfile::TempDir, KubeconfigSet) {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (name, text) in files {
            let p = dir.path().join(name);
            if !text.is_empty() {
                fs::write(&p, text).unwrap();
            }
            paths.push(p);
        }
        let env = std::env::join_paths(&paths).unwrap();
        let set = KubeconfigSet::load(&KubeconfigPaths::resolve(None, Some(&env), None).unwrap())
            .unwrap();
        (dir, set)
    }

    fn cluster(name: &str, server: &str) -> NamedCluster {
        NamedCluster::new(
            name,
            Cluster {
                server: Some(server.to_owned()),
                ..Cluster::default()
            },
        )
    }

    fn context(name: &str, cluster: &str, user: &str) -> NamedContext {
        NamedContext::new(
            name,
            Context {
                cluster: Some(cluster.to_owned()),
                user: Some(user.to_owned()),
                ..Context::default()
            },
        )
    }

    const FOREIGN: &str = "clusters:\n- name: theirs\n  cluster: {server: https://t}\nusers:\n- name: u0\n  user: {token: t}\ncontexts:\n- name: c0\n  context: {cluster: theirs, user: u0}\ncurrent-context: c0\n";

    #[test]
    fn new_entries_go_to_the_default_file_with_an_owner_mark() {
        let (_d, set) = set_from(&[("a", ""), ("b", FOREIGN), ("c", FOREIGN)]);
        let upsert = Upsert {
            clusters: vec![cluster("mine", "https://m")],
            ..Upsert::default()
        };
        let plan = plan(&set, &upsert, false).unwrap();
        assert_eq!(plan.files.keys().copied().collect::<Vec<_>>(), [1]);
        assert_eq!(plan.report.changes[0].action, ChangeAction::Added);
        assert!(plan.report.changes[0].file.ends_with("b"));
        assert!(plan.files[&1].clusters[1].is_owned());
    }

    #[test]
    fn foreign_entries_are_not_replaced_without_force() {
        let (_d, set) = set_from(&[("a", FOREIGN)]);
        let upsert = Upsert {
            clusters: vec![cluster("theirs", "https://m")],
            ..Upsert::default()
        };
        let err = plan(&set, &upsert, false).unwrap_err();
        assert!(
            matches!(&err, Error::Collision { kind: EntryKind::Cluster, name, .. } if name == "theirs")
        );
        let msg = err.to_string();
        assert!(msg.contains("choose other names"), "{msg}");
        assert_eq!(err.remedy(), Some(crate::Remedy::ReplaceOrRename));
        let forced = plan(&set, &upsert, true).unwrap();
        assert_eq!(
            forced.report.changes[0].action,
            ChangeAction::ReplacedForeign
        );
        assert_eq!(
            forced.files[&0].clusters[0].cluster.server.as_deref(),
            Some("https://m")
        );
    }

    #[test]
    fn our_entries_are_replaced_in_place_or_left_unchanged() {
        let (_d, set0) = set_from(&[("a", FOREIGN)]);
        let upsert = Upsert {
            clusters: vec![cluster("mine", "https://1")],
            ..Upsert::default()
        };
        let first = plan(&set0, &upsert, false).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, first.files[&0].to_yaml().unwrap()).unwrap();
        let set = KubeconfigSet::load(&KubeconfigPaths::explicit(&path)).unwrap();

        let same = plan(&set, &upsert, false).unwrap();
        assert_eq!(same.report.changes[0].action, ChangeAction::Unchanged);
        assert!(same.files.is_empty() && same.report.is_noop());

        let upsert2 = Upsert {
            clusters: vec![cluster("mine", "https://2")],
            ..Upsert::default()
        };
        let second = plan(&set, &upsert2, false).unwrap();
        assert_eq!(second.report.changes[0].action, ChangeAction::Replaced);
        let names: Vec<&str> = second.files[&0]
            .clusters
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["theirs", "mine"]);
    }

    #[test]
    fn ca_with_insecure_is_rejected() {
        let (_d, set) = set_from(&[("a", "")]);
        let mut c = cluster("x", "https://x");
        c.cluster.certificate_authority_data = Some("Q0EK".to_owned());
        c.cluster.insecure_skip_tls_verify = Some(true);
        let upsert = Upsert {
            clusters: vec![c],
            ..Upsert::default()
        };
        let err = plan(&set, &upsert, false).unwrap_err();
        assert!(matches!(
            err,
            Error::InsecureWithCa {
                ca_field: "certificate-authority-data",
                ..
            }
        ));
    }

    #[test]
    fn repeated_and_empty_names_in_the_upsert_are_rejected() {
        let upsert = Upsert {
            clusters: vec![cluster("x", "https://1"), cluster("x", "https://2")],
            ..Upsert::default()
        };
        assert!(matches!(
            upsert.validate(),
            Err(Error::InvalidUpsert { .. })
        ));
        let upsert = Upsert {
            users: vec![NamedUser::new("", User::default())],
            ..Upsert::default()
        };
        assert!(matches!(
            upsert.validate(),
            Err(Error::InvalidUpsert { .. })
        ));
    }

    #[test]
    fn dangling_references_are_rejected() {
        let (_d, set) = set_from(&[("a", FOREIGN)]);
        let ok = Upsert {
            contexts: vec![context("new", "theirs", "u0")],
            current_context: Some("new".to_owned()),
            ..Upsert::default()
        };
        plan(&set, &ok, false).unwrap();
        let bad = Upsert {
            contexts: vec![context("new", "nope", "u0")],
            ..Upsert::default()
        };
        let err = plan(&set, &bad, false).unwrap_err().to_string();
        assert!(err.contains("\"nope\""), "{err}");
        let bad_current = Upsert {
            current_context: Some("ghost".to_owned()),
            ..Upsert::default()
        };
        assert!(plan(&set, &bad_current, false).is_err());
    }

    #[test]
    fn current_context_goes_to_the_default_file() {
        let with_cc = "current-context: c0\ncontexts:\n- name: c0\n  context: {}\n";
        let (_d, set) = set_from(&[("a", ""), ("b", "kind: Config\n"), ("c", with_cc)]);
        let upsert = Upsert {
            current_context: Some("c0".to_owned()),
            ..Upsert::default()
        };
        let same = plan(&set, &upsert, false).unwrap();
        let cc = same.report.current_context.as_ref().unwrap();
        assert!(!cc.changed && cc.file.ends_with("c") && same.files.is_empty());

        let upsert = Upsert {
            contexts: vec![NamedContext::new("c1", Context::default())],
            current_context: Some("c1".to_owned()),
            ..Upsert::default()
        };
        let p = plan(&set, &upsert, false).unwrap();
        let cc = p.report.current_context.as_ref().unwrap();
        assert!(cc.changed && cc.file.ends_with("b"));
        assert_eq!(p.files[&1].current_context(), Some("c1"));
        assert!(!p.files.contains_key(&2));
    }

    #[test]
    fn rendering_redacts_key_material_and_lists_only_changes() {
        let (_d, set) = set_from(&[("a", FOREIGN)]);
        let key = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUJhc2U2NAotLS0tLUVORCBFQyBQUklWQVRFIEtFWS0tLS0tCg==";
        let user = User {
            client_key_data: Some(key.to_owned()),
            client_certificate_data: Some("Q0VSVAo=".to_owned()),
            token: Some("secret-token".to_owned()),
            ..User::default()
        };
        let upsert = Upsert {
            clusters: vec![cluster("mine", "https://m")],
            users: vec![NamedUser::new("me", user)],
            contexts: vec![context("mine", "mine", "me")],
            current_context: Some("mine".to_owned()),
        };
        let report = plan(&set, &upsert, false)
            .unwrap()
            .report
            .into_written(true, Vec::new());
        let text = report.render_redacted();
        assert!(
            !text.contains(key) && !text.contains("secret-token"),
            "{text}"
        );
        assert!(
            text.contains("REDACTED (") && text.contains("DATA+OMITTED (5 bytes)"),
            "{text}"
        );
        assert!(!text.contains("theirs"), "{text}");
        assert!(text.contains("action: added"), "{text}");
    }

    mod props {
        use super::*;
        use crate::{UpdateOptions, update};
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]

            /// Any sequence of updates leaves a file without duplicate names, with the foreign
            /// entries as they were and every entry of ours present with its latest content.
            #[test]
            fn updates_never_duplicate_nor_lose_entries(
                steps in prop::collection::vec((prop::sample::select(vec!["a", "b", "c", "theirs"]), 0u8..4), 1..8),
            ) {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("config");
                fs::write(&path, FOREIGN).unwrap();
                let paths = KubeconfigPaths::explicit(&path);
                let foreign = KubeconfigFile::parse(FOREIGN, &path).unwrap();
                let mut expected: BTreeMap<String, String> = BTreeMap::new();
                for (name, version) in steps {
                    let server = format!("https://{name}-{version}");
                    let upsert = Upsert {
                        clusters: vec![cluster(name, &server)],
                        ..Upsert::default()
                    };
                    let before = fs::read(&path).unwrap();
                    match update(&paths, upsert, &UpdateOptions::default()) {
                        Ok(_) => {
                            expected.insert(name.to_owned(), server);
                        }
                        Err(Error::Collision { .. }) => {
                            prop_assert_eq!(name, "theirs");
                            prop_assert_eq!(fs::read(&path).unwrap(), before);
                        }
                        Err(e) => prop_assert!(false, "{}", e),
                    }
                    let now = KubeconfigFile::parse(&fs::read_to_string(&path).unwrap(), &path).unwrap();
                    prop_assert_eq!(&now.clusters[0], &foreign.clusters[0]);
                    prop_assert_eq!(&now.users, &foreign.users);
                    prop_assert_eq!(&now.contexts, &foreign.contexts);
                    for (n, server) in &expected {
                        let c = now.clusters.iter().find(|c| &c.name == n).unwrap();
                        prop_assert_eq!(c.cluster.server.as_deref(), Some(server.as_str()));
                    }
                    prop_assert_eq!(now.clusters.len(), 1 + expected.len());
                }
            }
        }
    }
}
