//! Entry names chosen by the user for a fleet: `--name-template` such as `{region}-{project}-{name}`, with
//! `{region}`, `{project}`, `{name}`, `{id}`, `{access}` and `{identity}`. Every value passes through
//! [`name_part`], so that nothing the service names becomes a character kubectl or a shell would act on;
//! the literal text may hold only what such a part may (letters, digits, `.`, `-`, `_`).

use cce_autopilot_model::Access;

use super::build::Target;
use super::naming::name_part;

/// A parsed `--name-template`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameTemplate {
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Region,
    Project,
    Name,
    Id,
    Access,
    Identity,
}

/// The placeholders, as the error of an unknown one lists them.
const PLACEHOLDERS: &str = "{region}, {project}, {name}, {id}, {access}, {identity}";

impl std::str::FromStr for NameTemplate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let Some(end) = rest.find('}') else {
                        return Err(format!("name template {text:?}: a '{{' is not closed"));
                    };
                    pieces.push(match &rest[1..end] {
                        "region" => Piece::Region,
                        "project" => Piece::Project,
                        "name" => Piece::Name,
                        "id" => Piece::Id,
                        "access" => Piece::Access,
                        "identity" => Piece::Identity,
                        other => {
                            return Err(format!(
                                "name template {text:?}: unknown placeholder {{{other}}}; use {PLACEHOLDERS}"
                            ));
                        }
                    });
                    rest = &rest[end + 1..];
                }
                found => {
                    let end = found.unwrap_or(rest.len());
                    let literal = &rest[..end];
                    if let Some(bad) = literal
                        .chars()
                        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_')))
                    {
                        return Err(format!(
                            "name template {text:?}: {bad:?} cannot be part of an entry name (letters, digits, \
                             '.', '-', '_' and the placeholders {PLACEHOLDERS})"
                        ));
                    }
                    pieces.push(Piece::Text(literal.to_owned()));
                    rest = &rest[end..];
                }
            }
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Name | Piece::Id)) {
            return Err(format!(
                "name template {text:?} names no cluster: it needs {{name}} or {{id}}"
            ));
        }
        Ok(NameTemplate { pieces })
    }
}

impl NameTemplate {
    /// Whether the names differ per access (`{access}`), as two contexts of one cluster need.
    pub fn has_access(&self) -> bool {
        self.pieces.contains(&Piece::Access)
    }

    /// The name of `target`'s entries for `access` (`None`: the user entry, where `{access}` is `user`).
    pub fn expand(&self, target: &Target, access: Option<Access>) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Region => {
                    out.push_str(&name_part(target.region.as_deref().unwrap_or("custom")))
                }
                Piece::Project => out.push_str(&name_part(
                    target
                        .project_name
                        .as_deref()
                        .or(target.project_id.as_deref())
                        .unwrap_or("default"),
                )),
                Piece::Name => out.push_str(&name_part(
                    target.cluster_name.as_deref().unwrap_or(&target.cluster_id),
                )),
                Piece::Id => out.push_str(&name_part(&target.cluster_id)),
                Piece::Access => out.push_str(access.map_or("user", Access::context_name)),
                Piece::Identity => out.push_str(&target.identity.as_ref().map_or_else(
                    || "default".to_owned(),
                    super::identity::IdentityMark::label,
                )),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        let mut t = Target::new("3f0c9a1e-2b4d")
            .with_name(Some("prod".into()))
            .with_service("0123abcd", "https://cce.example", Some("cn-north-4".into()));
        t.project_name = Some("cn-north-4_dev".into());
        t
    }

    #[test]
    fn placeholders_expand_to_safe_parts() {
        let t: NameTemplate = "{region}.{project}.{name}-{access}".parse().unwrap();
        assert_eq!(
            t.expand(&target(), Some(Access::Internal)),
            "cn-north-4.cn-north-4_dev.prod-internal"
        );
        assert_eq!(
            t.expand(&target(), None),
            "cn-north-4.cn-north-4_dev.prod-user"
        );
        let id: NameTemplate = "{id}@{identity}".replace('@', "_").parse().unwrap();
        assert_eq!(id.expand(&target(), None), "3f0c9a1e-2b4d_default");
        let mut hostile = target();
        hostile.cluster_name = Some("a\u{1b}[2J b".into());
        let name: NameTemplate = "{name}".parse().unwrap();
        assert_eq!(name.expand(&hostile, None), "a--2J-b");
    }

    #[test]
    fn mistakes_are_refused_with_the_reason() {
        for (bad, says) in [
            ("{region}-{nam}", "unknown placeholder {nam}"),
            ("{name", "not closed"),
            ("{region}/{name}", "'/'"),
            ("{region}-{project}", "needs {name} or {id}"),
            ("", "needs {name} or {id}"),
        ] {
            let err = bad.parse::<NameTemplate>().unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
