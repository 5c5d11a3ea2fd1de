//! The JSON documents scripts read (`--format json`): one `Serialize` type each, so that a document's
//! shape is written down once. Their shapes are pinned by insta snapshots (`tests/it/cli_json.rs`): a
//! change there is a change of the scripts' contract. Names, ids and paths only, never key material.

use cce_autopilot::ClusterSummary;
use cce_autopilot_kubeconfig::MergeReport;
use serde::Serialize;

/// One cluster of `clusters list --format json`.
#[derive(Debug, Serialize)]
pub struct ClusterJson {
    name: String,
    id: String,
    alias: Option<String>,
    phase: String,
    version: Option<String>,
    endpoints: Vec<EndpointJson>,
}

/// One API-server address of a cluster.
#[derive(Debug, Serialize)]
pub struct EndpointJson {
    url: String,
    access: Option<String>,
}

impl From<&ClusterSummary> for ClusterJson {
    fn from(c: &ClusterSummary) -> Self {
        ClusterJson {
            name: c.name.clone(),
            id: c.id.clone(),
            alias: c.alias.clone(),
            phase: c.phase.to_string(),
            version: c.version.clone(),
            endpoints: c
                .endpoints
                .iter()
                .map(|e| EndpointJson {
                    url: e.url.clone(),
                    access: e.access.map(|a| a.to_string()),
                })
                .collect(),
        }
    }
}

/// What `update`, `remove`, `prune` and `refresh` did, then what only that command reports (`details`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EditJson<D: Serialize> {
    dry_run: bool,
    changes: Vec<ChangeJson>,
    written: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_context: Option<CurrentContextJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    #[serde(flatten)]
    details: D,
}

/// One entry looked at.
#[derive(Debug, Serialize)]
pub struct ChangeJson {
    kind: &'static str,
    name: String,
    action: &'static str,
    file: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
}

/// The `current-context`, when the edit set or unset it.
#[derive(Debug, Serialize)]
pub struct CurrentContextJson {
    from: Option<String>,
    to: Option<String>,
    changed: bool,
    file: String,
}

impl<D: Serialize> EditJson<D> {
    /// The document of `report`, with the command's `details`.
    pub fn new(report: &MergeReport, details: D) -> Self {
        EditJson {
            dry_run: report.dry_run,
            changes: report
                .changes
                .iter()
                .map(|c| ChangeJson {
                    kind: c.kind.as_str(),
                    name: c.name.clone(),
                    action: c.action.as_str(),
                    file: c.file.display().to_string(),
                    fields: c.fields.clone(),
                    from: c.from.clone(),
                })
                .collect(),
            written: report
                .written
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            current_context: report
                .current_context
                .as_ref()
                .map(|cc| CurrentContextJson {
                    from: cc.previous.clone(),
                    to: cc.new.clone(),
                    changed: cc.changed,
                    file: cc.file.display().to_string(),
                }),
            notes: report.notes.clone(),
            details,
        }
    }
}

/// A cluster that failed, and why.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FailureJson {
    /// The cluster.
    pub cluster_id: String,
    /// The error, on one line.
    pub error: String,
}

impl FailureJson {
    /// `cluster_id` failed with `error`.
    pub fn new(cluster_id: &str, error: &anyhow::Error) -> Self {
        FailureJson {
            cluster_id: cluster_id.to_owned(),
            error: format!("{error:#}"),
        }
    }
}

/// `update`'s details.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct UpdateDetails {
    /// The clusters that could not be merged.
    pub failures: Vec<FailureJson>,
    /// What was said before the merge (clusters skipped by `--status`, names resolved).
    pub notes_before: Vec<String>,
    /// A fleet run's report per cluster (only with the fleet options).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<super::fleet::report::FleetReport>,
}

/// `remove`'s details.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RemoveDetails {
    /// Certificates taken out of the plugin's cache.
    pub cache_entries_removed: usize,
}

/// A cluster by id and, when known, name.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClusterRefJson {
    /// Its id.
    pub cluster_id: String,
    /// Its name.
    pub cluster_name: Option<String>,
}

/// A cluster whose existence could not be told.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct UnknownJson {
    /// Its id.
    pub cluster_id: String,
    /// Its name.
    pub cluster_name: Option<String>,
    /// Why the service could not tell.
    pub error: String,
}

/// `prune`'s details.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PruneDetails {
    /// The clusters the service no longer has, whose entries went.
    pub pruned_clusters: Vec<ClusterRefJson>,
    /// The clusters the service could not tell about; their entries stay.
    pub unknown: Vec<UnknownJson>,
    /// Entries of an earlier version, which record no project: left alone.
    pub left_alone: Vec<String>,
    /// Certificates taken out of the plugin's cache.
    pub cache_entries_removed: usize,
}

/// `refresh`'s details.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RefreshDetails {
    /// The clusters renewed.
    pub refreshed: Vec<String>,
    /// The clusters that could not be renewed.
    pub failures: Vec<FailureJson>,
}

/// `refresh --dry-run`'s details: nothing is fetched.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RefreshPlan {
    /// The clusters a real run would renew.
    pub would_refresh: Vec<String>,
}
