//! The clusters of the client's project: [`Client::clusters`] lists them, [`Client::cluster`] shows one,
//! [`Client::find_cluster`] and [`find`] resolve what a user typed — an id, a name or an alias.

use cce_autopilot_model::{Access, AutopilotCluster, ClusterPhase};

use crate::client::{Client, check_id};
use crate::{Error, Result};

/// A cluster, with the fields a client needs typed; [`ClusterSummary::details`] has the whole answer.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ClusterSummary {
    /// The id, what [`Client::cluster_cert`] takes.
    pub id: String,
    /// The name, unique in the project.
    pub name: String,
    /// The display name, when it differs from `name`.
    pub alias: Option<String>,
    /// The phase; [`ClusterPhase::Other`] for one this version does not know.
    pub phase: ClusterPhase,
    /// The Kubernetes version, e.g. `v1.31`.
    pub version: Option<String>,
    /// The API server's addresses.
    pub endpoints: Vec<Endpoint>,
    /// The answer as the service gave it, unknown fields included.
    pub details: AutopilotCluster,
}

/// One address of a cluster's API server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// The URL.
    pub url: String,
    /// Private (`Internal`) or public (`External`) access; `None` for a type this version does not know.
    pub access: Option<Access>,
}

impl ClusterSummary {
    /// The typed view of an answer; an answer without an id cannot be used for anything and is an error.
    pub(crate) fn from_model(details: AutopilotCluster) -> Result<Self> {
        let id = details
            .id()
            .map(str::to_owned)
            .ok_or_else(|| Error::Decode {
                status: 200,
                request_id: None,
                reason: format!(
                    "the cluster {:?} has no metadata.uid",
                    details.metadata.name
                ),
            })?;
        let alias = details
            .metadata
            .alias
            .clone()
            .filter(|a| !a.is_empty() && *a != details.metadata.name);
        let endpoints = details
            .endpoints()
            .iter()
            .map(|e| Endpoint {
                url: e.url.clone(),
                access: match e.endpoint_type.as_deref() {
                    Some(t) if t.eq_ignore_ascii_case("internal") => Some(Access::Internal),
                    Some(t) if t.eq_ignore_ascii_case("external") => Some(Access::External),
                    _ => None,
                },
            })
            .collect();
        Ok(ClusterSummary {
            id,
            name: details.metadata.name.clone(),
            alias,
            phase: details
                .phase()
                .cloned()
                .unwrap_or_else(|| ClusterPhase::Other(String::new())),
            version: details.spec.version.clone(),
            endpoints,
            details,
        })
    }

    /// Whether the cluster has a public API server address.
    pub fn is_public(&self) -> bool {
        self.endpoints
            .iter()
            .any(|e| e.access == Some(Access::External))
    }
}

/// The cluster of `clusters` that `query` names: the one whose id it is, else the only one of that name,
/// else the only one of that alias. No match is [`Error::UnknownCluster`] with the nearest names; two
/// matches of the same kind are [`Error::AmbiguousCluster`]. No request is made: resolve many names
/// against one list.
pub fn find<'a>(
    clusters: &'a [ClusterSummary],
    query: &str,
    project_id: &str,
) -> Result<&'a ClusterSummary> {
    if let Some(cluster) = clusters.iter().find(|c| c.id == query) {
        return Ok(cluster);
    }
    type Key = fn(&ClusterSummary) -> Option<&str>;
    let by_name: Key = |c| Some(c.name.as_str());
    let by_alias: Key = |c| c.alias.as_deref();
    for key in [by_name, by_alias] {
        let matches: Vec<&ClusterSummary> =
            clusters.iter().filter(|c| key(c) == Some(query)).collect();
        match matches.as_slice() {
            [one] => return Ok(one),
            [] => {}
            many => {
                return Err(Error::AmbiguousCluster {
                    query: query.to_owned(),
                    project_id: project_id.to_owned(),
                    candidates: many
                        .iter()
                        .map(|c| (c.name.clone(), c.id.clone()))
                        .collect(),
                });
            }
        }
    }
    Err(Error::UnknownCluster {
        query: query.to_owned(),
        project_id: project_id.to_owned(),
        nearest: nearest(clusters, query),
    })
}

/// Up to three names or aliases near `query`, best first: the typos a user may have made.
fn nearest(clusters: &[ClusterSummary], query: &str) -> Vec<String> {
    let mut scored: Vec<(f64, String)> = clusters
        .iter()
        .flat_map(|c| std::iter::once(c.name.clone()).chain(c.alias.clone()))
        .map(|name| (strsim::normalized_damerau_levenshtein(query, &name), name))
        .filter(|(score, _)| *score >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// A `ListAutopilotClusters` call being configured; finish with [`ListClusters::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct ListClusters<'a> {
    client: &'a Client,
    status: Option<String>,
    version: Option<String>,
}

impl ListClusters<'_> {
    /// Only clusters in this phase.
    pub fn status(mut self, phase: ClusterPhase) -> Self {
        self.status = Some(phase.as_str().to_owned());
        self
    }

    /// Only clusters of this Kubernetes version, e.g. `v1.31`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Sends the call; the clusters in the order the service lists them.
    pub async fn send(self) -> Result<Vec<ClusterSummary>> {
        let client = self.client;
        let ctx = client.call_context().await?;
        let mut call = client
            .generated
            .list_autopilot_clusters()
            .project_id(Client::project_of(&ctx).to_owned());
        if let Some(status) = self.status {
            call = call.status(status);
        }
        if let Some(version) = self.version {
            call = call.version(version);
        }
        let response = client.run(ctx, "a cluster list", call.send()).await?;
        response
            .into_inner()
            .items
            .into_iter()
            .map(ClusterSummary::from_model)
            .collect()
    }
}

/// A `ShowAutopilotCluster` call being configured; finish with [`ShowCluster::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct ShowCluster<'a> {
    client: &'a Client,
    cluster_id: String,
}

impl ShowCluster<'_> {
    /// Sends the call. An unknown id is the service's 404 ([`Error::Service`]).
    pub async fn send(self) -> Result<ClusterSummary> {
        check_id("cluster id", &self.cluster_id)?;
        let client = self.client;
        let ctx = client.call_context().await?;
        let call = client
            .generated
            .show_autopilot_cluster()
            .project_id(Client::project_of(&ctx).to_owned())
            .cluster_id(self.cluster_id)
            .send();
        let response = client.run(ctx, "a cluster", call).await?;
        ClusterSummary::from_model(response.into_inner())
    }
}

impl Client {
    /// Starts a `ListAutopilotClusters` call: the clusters of the client's project.
    pub fn clusters(&self) -> ListClusters<'_> {
        ListClusters {
            client: self,
            status: None,
            version: None,
        }
    }

    /// Starts a `ShowAutopilotCluster` call for `cluster_id`.
    pub fn cluster(&self, cluster_id: impl Into<String>) -> ShowCluster<'_> {
        ShowCluster {
            client: self,
            cluster_id: cluster_id.into(),
        }
    }

    /// The cluster that `name_or_id` names in the client's project (see [`find`]): one list call.
    pub async fn find_cluster(&self, name_or_id: &str) -> Result<ClusterSummary> {
        let clusters = self.clusters().send().await?;
        let project_id = self.project_id().await?;
        find(&clusters, name_or_id, &project_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(id: &str, name: &str, alias: Option<&str>) -> ClusterSummary {
        let details: AutopilotCluster = serde_json::from_value(json!({
            "metadata": {"name": name, "uid": id, "alias": alias.unwrap_or(name)},
            "status": {"phase": "Available", "endpoints": [
                {"url": "https://10.0.0.1:5443", "type": "Internal"},
                {"url": "https://1.2.3.4:5443", "type": "External"},
                {"url": "https://x", "type": "Satellite"}]}
        }))
        .unwrap();
        ClusterSummary::from_model(details).unwrap()
    }

    fn project() -> Vec<ClusterSummary> {
        vec![
            cluster("id-1", "prod", Some("Production")),
            cluster("id-2", "staging", None),
            cluster("prod2", "id-1-lookalike", None),
        ]
    }

    #[test]
    fn an_exact_id_wins_then_a_name_then_an_alias() {
        let clusters = project();
        assert_eq!(find(&clusters, "id-1", "p").unwrap().name, "prod");
        assert_eq!(find(&clusters, "staging", "p").unwrap().id, "id-2");
        assert_eq!(find(&clusters, "Production", "p").unwrap().id, "id-1");
        // "prod2" is an id; it wins over nothing else here, and "prod" stays the name.
        assert_eq!(
            find(&clusters, "prod2", "p").unwrap().name,
            "id-1-lookalike"
        );
    }

    #[test]
    fn no_match_names_the_nearest_and_two_matches_name_both() {
        let clusters = project();
        match find(&clusters, "prdo", "p").unwrap_err() {
            Error::UnknownCluster { nearest, .. } => assert_eq!(nearest[0], "prod"),
            other => panic!("{other:?}"),
        }
        match find(&clusters, "zzzzzz", "p").unwrap_err() {
            Error::UnknownCluster { nearest, .. } => assert!(nearest.is_empty()),
            other => panic!("{other:?}"),
        }
        let twins = vec![
            cluster("a", "web-a", Some("web")),
            cluster("b", "web-b", Some("web")),
        ];
        let err = find(&twins, "web", "p").unwrap_err();
        assert!(
            matches!(&err, Error::AmbiguousCluster { candidates, .. } if candidates.len() == 2),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("web-a (a)") && text.contains("web-b (b)"),
            "{text}"
        );
    }

    #[test]
    fn the_typed_view_reads_accesses_and_hides_an_alias_equal_to_the_name() {
        let c = cluster("id-2", "staging", None);
        assert_eq!(c.alias, None);
        assert_eq!(
            c.endpoints.iter().map(|e| e.access).collect::<Vec<_>>(),
            [Some(Access::Internal), Some(Access::External), None]
        );
        assert!(c.is_public());
        assert_eq!(c.phase, ClusterPhase::Available);
        let no_id: AutopilotCluster =
            serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
        assert!(ClusterSummary::from_model(no_id).is_err());
    }
}
