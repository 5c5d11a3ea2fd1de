//! The names of a cluster's entries (the rules are in the module docs of [`super`]).

use cce_autopilot_model::Access;

use super::Entry;
use super::build::ClusterEntries;
use super::mark::OwnerMark;
use super::template::NameTemplate;
use crate::model::{NamedCluster, NamedContext, NamedUser};

/// How entries are named, common to every cluster of one merge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Naming {
    /// The scope part of default names (see [`name_scope`]).
    pub scope: String,
    /// `--alias`: the name of the cluster and context entries (one cluster only).
    pub alias: Option<String>,
    /// `--user-alias`: the name of the user entry (one cluster only).
    pub user_alias: Option<String>,
    /// Keep the names our entries have (a refresh renames nothing).
    pub keep_names: bool,
    /// `--name-template`: every entry's name (several clusters; see [`NameTemplate`]).
    pub template: Option<NameTemplate>,
}

impl Naming {
    /// Default names in `scope`.
    pub fn new(scope: impl Into<String>) -> Self {
        Naming {
            scope: scope.into(),
            ..Naming::default()
        }
    }
}

/// The scope part of default names: the region, else the host of the endpoint URL (`:` of an IPv6
/// address becomes `-`), else `custom`.
pub fn name_scope(region: Option<&str>, endpoint: Option<&str>) -> String {
    if let Some(region) = region.map(str::trim).filter(|r| !r.is_empty()) {
        return region.to_owned();
    }
    endpoint
        .and_then(|e| url::Url::parse(e).ok())
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_matches(['[', ']']).replace(':', "-"))
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "custom".to_owned())
}

/// The longest cluster name or scope kept in an entry name (the service's names have 128 at most).
const NAME_PART_MAX: usize = 128;

/// A cluster name, id or scope as part of an entry name, safe for kubectl to print and for shells to
/// paste: letters and digits (any script), `.`, `-` and `_` are kept; every other character — white space,
/// control and format characters (escape sequences, bidirectional overrides), `/`, `:`, quotes — becomes
/// `-`; at most [`NAME_PART_MAX`] characters. The service's names (lower-case letters, digits, `-`) and
/// ids (UUIDs) pass unchanged, so no existing entry is renamed by this rule.
pub fn name_part(text: &str) -> String {
    let part: String = text
        .chars()
        .take(NAME_PART_MAX)
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if part.is_empty() {
        "-".to_owned()
    } else {
        part
    }
}

/// The names chosen for one cluster's entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    pub(crate) clusters: Vec<(Access, String)>,
    pub(crate) contexts: Vec<(Access, String)>,
    pub(crate) user: String,
    /// A note when the names carry a project suffix.
    pub(crate) note: Option<String>,
}

impl Names {
    pub(crate) fn cluster(&self, access: Access) -> &str {
        lookup(&self.clusters, access)
    }

    pub(crate) fn context(&self, access: Access) -> &str {
        lookup(&self.contexts, access)
    }
}

fn lookup(names: &[(Access, String)], access: Access) -> &str {
    names
        .iter()
        .find(|(a, _)| *a == access)
        .map_or("", |(_, n)| n.as_str())
}

/// What naming needs to know of the files: our entries as they stand.
pub(crate) struct Existing<'a> {
    pub(crate) clusters: Vec<&'a NamedCluster>,
    pub(crate) users: Vec<&'a NamedUser>,
    pub(crate) contexts: Vec<&'a NamedContext>,
    /// Whether any entry may carry a mark of the cluster being named (else none is looked for).
    pub(crate) marked: bool,
}

impl Existing<'_> {
    fn owned_name<E: Entry>(
        entries: &[&E],
        mark: &OwnerMark,
        access: Option<Access>,
    ) -> Option<String> {
        entries
            .iter()
            .find(|e| {
                e.marked_for(&mark.cluster_id)
                    && e.owner().is_some_and(|m| {
                        m.same_owner(mark) && access.is_none_or(|a| m.access == a.context_name())
                    })
            })
            .map(|e| e.name().to_owned())
    }

    /// Whether default names built on `base` are held by another project's cluster of the same name.
    fn held_by_another_project(&self, base: &str, mark: &OwnerMark) -> bool {
        let prefix = format!("{base}_");
        let held = |name: &str, other: &dyn Fn() -> Option<OwnerMark>| {
            name.starts_with(&prefix)
                && other().is_some_and(|o| {
                    !o.same_cluster(mark)
                        && o.cluster_name == mark.cluster_name
                        && o.project_id != mark.project_id
                        // Another identity's entries have names of their own.
                        && super::identity::IdentityMark::same(
                            o.identity.as_ref(),
                            mark.identity.as_ref(),
                        )
                })
        };
        self.clusters.iter().any(|e| held(e.name(), &|| e.owner()))
            || self.users.iter().any(|e| held(e.name(), &|| e.owner()))
            || self.contexts.iter().any(|e| held(e.name(), &|| e.owner()))
    }

    /// The cluster name an earlier mark of this cluster recorded.
    fn recorded_name(&self, mark: &OwnerMark) -> Option<String> {
        if !self.marked {
            return None;
        }
        let id = &mark.cluster_id;
        let marks = self
            .clusters
            .iter()
            .filter(|e| e.marked_for(id))
            .filter_map(|e| e.owner())
            .chain(
                self.contexts
                    .iter()
                    .filter(|e| e.marked_for(id))
                    .filter_map(|e| e.owner()),
            )
            .chain(
                self.users
                    .iter()
                    .filter(|e| e.marked_for(id))
                    .filter_map(|e| e.owner()),
            );
        marks
            .filter(|m| m.same_cluster(mark))
            .find_map(|m| m.cluster_name)
    }
}

/// The names of `entries`' entries.
pub(crate) fn names(
    entries: &ClusterEntries,
    naming: &Naming,
    mark: &OwnerMark,
    existing: &Existing<'_>,
) -> Names {
    let both = entries.accesses.len() > 1;
    let id = &entries.target.cluster_id;
    let cluster_name = entries
        .target
        .cluster_name
        .clone()
        .or_else(|| existing.recorded_name(mark));
    // Keep what exists when asked to, and when the only other choice is the id fallback: a later run
    // with weaker rights never moves an entry from its name back to the id.
    let keep = naming.keep_names || cluster_name.is_none();
    let scope = entries.target.scope.as_deref().unwrap_or(&naming.scope);
    let mut base = format!(
        "cce_{}_{}",
        name_part(scope),
        name_part(cluster_name.as_deref().unwrap_or(id))
    );
    let mut note = None;
    if let (Some(name), Some(project)) = (&cluster_name, &entries.target.project_id) {
        let named = OwnerMark {
            cluster_name: Some(name.clone()),
            ..mark.clone()
        };
        if existing.held_by_another_project(&base, &named) {
            let suffix = name_part(&project.chars().take(8).collect::<String>());
            base = format!("{base}.{suffix}");
            note = Some(format!(
                "another project's cluster named {name} already has the names cce_{}_{name}_…; the entries of \
                 cluster {name} of project {project} are named {base}_…",
                name_part(scope)
            ));
        }
    }
    // Another identity's entries of the cluster get names of their own; the default chain's keep theirs.
    if let Some(identity) = &entries.target.identity {
        base = format!("{base}_{}", identity.label());
    }
    let default_entry = |access: Access| match (&naming.alias, &naming.template) {
        (Some(alias), _) if both => format!("{alias}-{access}"),
        (Some(alias), _) => alias.clone(),
        (None, Some(template)) => template.expand(&entries.target, Some(access)),
        (None, None) => format!("{base}_{access}"),
    };
    let chosen = naming.alias.is_some() || naming.template.is_some();
    let pick = |kept: Option<String>, default: String| {
        if keep && !chosen {
            kept.unwrap_or(default)
        } else {
            default
        }
    };
    let clusters = entries
        .accesses
        .iter()
        .map(|&a| {
            let kept = existing
                .marked
                .then(|| Existing::owned_name(&existing.clusters, mark, Some(a)))
                .flatten();
            (a, pick(kept, default_entry(a)))
        })
        .collect();
    let contexts = entries
        .accesses
        .iter()
        .map(|&a| {
            let kept = existing
                .marked
                .then(|| Existing::owned_name(&existing.contexts, mark, Some(a)))
                .flatten();
            (a, pick(kept, default_entry(a)))
        })
        .collect();
    let user = match (&naming.user_alias, &naming.template) {
        (Some(alias), _) => alias.clone(),
        (None, Some(template)) if !naming.keep_names => template.expand(&entries.target, None),
        _ => pick(
            existing
                .marked
                .then(|| Existing::owned_name(&existing.users, mark, None))
                .flatten(),
            format!("{base}_user"),
        ),
    };
    Names {
        clusters,
        contexts,
        user,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_service_are_made_printable() {
        assert_eq!(name_part("prod-1"), "prod-1");
        assert_eq!(
            name_part("3f0c9a1e-2b4d-4c6e-8f10-123456789abc"),
            "3f0c9a1e-2b4d-4c6e-8f10-123456789abc"
        );
        assert_eq!(name_part("生产"), "生产");
        assert_eq!(name_part("a\x1b[31mred\nx"), "a--31mred-x");
        assert_eq!(name_part("a\u{202e}b c/d:e\"f"), "a-b-c-d-e-f");
        assert_eq!(name_part(""), "-");
        assert_eq!(name_part(&"x".repeat(300)).len(), NAME_PART_MAX);
    }

    #[test]
    fn scope_is_region_else_endpoint_host_else_custom() {
        assert_eq!(
            name_scope(Some("cn-north-4"), Some("http://127.0.0.1:9")),
            "cn-north-4"
        );
        assert_eq!(name_scope(None, Some("http://127.0.0.1:9/x")), "127.0.0.1");
        assert_eq!(name_scope(None, Some("https://[::1]:9")), "--1");
        assert_eq!(name_scope(Some(" "), None), "custom");
        assert_eq!(name_scope(None, Some("not a url")), "custom");
    }
}
