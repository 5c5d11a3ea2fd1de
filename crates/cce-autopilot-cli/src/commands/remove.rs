//! `kubeconfig remove`: a cluster's entries out of the kubeconfig — only those cce-autopilot wrote — and its
//! certificates out of the credential plugin's cache.

use cce_autopilot_kubeconfig::KubeconfigSet;
use cce_autopilot_kubeconfig::managed::{self, OwnerMark, Removal};

use crate::args::{DEFAULT_TIMEOUT, GlobalArgs};
use crate::exit::{self, CliError};

use super::common::build_client;
use super::credential::cache::CredentialCache;
use super::json::RemoveDetails;
use super::report;
use super::update::{file_error, kubeconfig_paths, update_options};
use crate::args::{AccessArg, ClusterArgs, FileArgs};
use clap::Args;
use std::path::PathBuf;

/// `kubeconfig remove`
///
/// Removes the entries cce-autopilot wrote for the cluster (only those: a foreign entry is never
/// touched), unsets current-context if it named one of them, and empties the cluster's entries of the
/// credential plugin's cache. NAME is looked up in the owner marks of the kubeconfig first, so that a
/// cluster the service no longer has can still be removed by name.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The clusters.
    #[command(flatten)]
    pub clusters: ClusterArgs,
    /// Only these entries (the user goes when no context of the cluster uses it any more).
    #[arg(long, value_enum, value_name = "ACCESS")]
    pub access: Option<AccessArg>,
    /// The credential plugin's cache directory to empty of the cluster's entries.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The file, dry run, lock and report options.
    #[command(flatten)]
    pub file: FileArgs,
}

/// Removes the entries; 0 when done (also when there was nothing of the cluster to remove).
pub async fn run(global: &GlobalArgs, args: RemoveArgs) -> anyhow::Result<crate::exit::Exit> {
    let paths = kubeconfig_paths(&args.file)?;
    let set = KubeconfigSet::load(&paths).map_err(file_error)?;
    let marks = managed::marked_clusters(&set);
    let accesses = args.access.map(|a| a.contexts().to_vec());
    let global_identity = global.identity();
    let mut removals = Vec::new();
    for query in &args.clusters.cluster {
        let mark = match from_marks(&marks, query)? {
            Some(mark) => mark,
            // Not in the file under that name: the service may know it (by name or alias).
            None => from_service(global, query).await?,
        };
        let removal = Removal::only(mark, accesses.clone());
        // With --profile or --agency, only that identity's entries; without, every identity's.
        removals.push(match global_identity.clone() {
            Some(identity) => removal.of_identity(Some(identity)),
            None => removal,
        });
    }
    let opts = update_options(&args.file);
    let remove_paths = paths.clone();
    let to_remove = removals.clone();
    let report =
        tokio::task::spawn_blocking(move || managed::remove(&remove_paths, &to_remove, &opts))
            .await?
            .map_err(file_error)?;
    let mut cleared = Vec::new();
    if !args.file.dry_run
        && accesses.is_none()
        && let Some(cache) = CredentialCache::from_env(args.cache_dir.clone())
    {
        for r in &removals {
            cleared.extend(cache.clear(Some(&r.cluster.cluster_id))?);
        }
    }
    if report.changes.is_empty() {
        say!(
            "nothing to remove: the kubeconfig holds no entry cce-autopilot wrote for {}",
            args.clusters.cluster.join(", ")
        );
    }
    let details = RemoveDetails {
        cache_entries_removed: cleared.len(),
    };
    report::print(&report, &paths, args.file.format, details)?;
    if !cleared.is_empty() && args.file.format == crate::args::ReportFormat::Text {
        say!(
            "removed {} from the credential cache",
            report::plural(cleared.len(), "certificate")
        );
    }
    Ok(exit::OK)
}

/// The cluster `query` names among our marks: its id, or the name a mark recorded. Two clusters of that
/// name (in two projects) are an error naming both.
fn from_marks(marks: &[OwnerMark], query: &str) -> anyhow::Result<Option<OwnerMark>> {
    if let Some(mark) = marks.iter().find(|m| m.cluster_id == query) {
        return Ok(Some(mark.clone()));
    }
    let named: Vec<&OwnerMark> = marks
        .iter()
        .filter(|m| m.cluster_name.as_deref() == Some(query))
        .collect();
    match named.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        many => Err(CliError::usage(format!(
            "{query:?} names clusters of more than one project in the kubeconfig: {}; pass the cluster id",
            many.iter()
                .map(|m| format!(
                    "{} (project {})",
                    m.cluster_id,
                    m.project_id.as_deref().unwrap_or("?")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()),
    }
}

/// The cluster the service says `query` names, as a mark that selects its entries by id.
async fn from_service(global: &GlobalArgs, query: &str) -> anyhow::Result<OwnerMark> {
    let client = build_client(global, global.timeout_or(DEFAULT_TIMEOUT))?;
    let resolution = super::resolve::resolve(&client, &[query.to_owned()]).await?;
    let id = resolution
        .clusters
        .into_iter()
        .next()
        .map_or_else(|| query.to_owned(), |r| r.id);
    Ok(OwnerMark::new(id, ""))
}
