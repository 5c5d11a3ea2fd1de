//! What a user typed after `--cluster` — a name, an alias or an id — as cluster ids: one list call for any
//! number of them, before any certificate is asked for. Credentials that may not list clusters (a 403)
//! still work with ids, with one note.

use cce_autopilot::{Client, ClusterPhase, ClusterSummary};

/// One resolved `--cluster` value.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// What the user typed.
    pub query: String,
    /// The cluster's id.
    pub id: String,
    /// Its name, when the list could be had.
    pub name: Option<String>,
    /// The whole cluster, when the list could be had.
    pub cluster: Option<ClusterSummary>,
}

impl Resolved {
    /// `query` taken as the id, nothing known of the cluster.
    fn as_id(query: &str) -> Self {
        Resolved {
            id: query.to_owned(),
            query: query.to_owned(),
            name: None,
            cluster: None,
        }
    }
}

/// The resolved values, and a note for the user when names could not be looked up.
#[derive(Debug)]
pub struct Resolution {
    /// In the order typed, each cluster once.
    pub clusters: Vec<Resolved>,
    /// Why names could not be looked up, if they could not.
    pub note: Option<String>,
}

/// `queries`, each once in order, each one something an id or a name can be.
fn checked(queries: &[String]) -> anyhow::Result<Vec<&String>> {
    let mut unique: Vec<&String> = Vec::with_capacity(queries.len());
    for q in queries {
        cce_autopilot::check_id("cluster", q)?;
        if !unique.contains(&q) {
            unique.push(q);
        }
    }
    Ok(unique)
}

/// Like [`resolve`], but values shaped like ids are taken as ids without a list call; only names are
/// looked up (one list call for all of them). For commands that need no cluster names (`get`,
/// `credential`).
pub async fn resolve_ids(client: &Client, queries: &[String]) -> anyhow::Result<Resolution> {
    let unique = checked(queries)?;
    if unique.iter().all(|q| looks_like_id(q)) {
        return Ok(Resolution {
            clusters: unique.into_iter().map(|q| Resolved::as_id(q)).collect(),
            note: None,
        });
    }
    resolve(client, queries).await
}

/// The clusters of the project; `Ok(None)` when the credentials may not list them (403).
pub async fn list(
    client: &Client,
    status: Option<ClusterPhase>,
) -> anyhow::Result<Option<Vec<ClusterSummary>>> {
    let mut call = client.clusters();
    if let Some(status) = status {
        call = call.status(status);
    }
    match call.send().await {
        Ok(clusters) => Ok(Some(clusters)),
        Err(e) if e.status() == Some(403) => {
            tracing::info!("cannot list clusters: {e}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The note for credentials that may not list clusters.
pub fn no_list_note() -> String {
    "note: these credentials may not list clusters (403): names cannot be looked up, so each --cluster is \
     taken as a cluster id, and entries are named by id unless they already have a name"
        .to_owned()
}

/// A UUID (`8-4-4-4-12` hex digits): the shape of cluster ids. Names start with a letter and are seldom
/// shaped so; one that is can still be given to `kubeconfig update`, which always lists.
pub fn looks_like_id(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Resolves `queries` (each once, in order) with one list call. Values that cannot be an id or a name
/// (`.`, `..`, `a/b`) are refused before any request; an unknown or ambiguous name is an error naming the
/// nearest names (exit 2), before anything else is asked of the service.
pub async fn resolve(client: &Client, queries: &[String]) -> anyhow::Result<Resolution> {
    let unique = checked(queries)?;
    let Some(clusters) = list(client, None).await? else {
        return Ok(Resolution {
            clusters: unique.into_iter().map(|q| Resolved::as_id(q)).collect(),
            note: Some(no_list_note()),
        });
    };
    let project = client.project_id().await?;
    let mut resolved: Vec<Resolved> = Vec::with_capacity(unique.len());
    for q in unique {
        let cluster = cce_autopilot::find_cluster(&clusters, q, &project)?;
        // Two spellings of one cluster (its name and its id) are one cluster.
        if resolved.iter().any(|r| r.id == cluster.id) {
            continue;
        }
        resolved.push(Resolved {
            query: q.clone(),
            id: cluster.id.clone(),
            name: Some(cluster.name.clone()),
            cluster: Some(cluster.clone()),
        });
    }
    Ok(Resolution {
        clusters: resolved,
        note: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_told_from_names_by_their_shape() {
        assert!(looks_like_id("3f0c9a1e-2b4d-4c6e-8f10-123456789abc"));
        assert!(!looks_like_id("prod"));
        assert!(!looks_like_id("3f0c9a1e-2b4d-4c6e-8f10-123456789abz"));
        assert!(!looks_like_id("c"));
    }

    #[test]
    fn values_that_are_neither_ids_nor_names_are_refused() {
        for bad in [".", "..", "a/b", "a b", ""] {
            assert!(checked(&[bad.to_owned()]).is_err(), "{bad:?}");
        }
        let twice = ["a".to_owned(), "b".to_owned(), "a".to_owned()];
        assert_eq!(checked(&twice).unwrap(), [&twice[0], &twice[1]]);
    }
}
