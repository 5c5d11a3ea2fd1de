//! `kubeconfig prune`: removes our entries of clusters the service no longer has — asked in the project and
//! at the endpoint each owner mark names, never anywhere else.

use cce_autopilot_kubeconfig::KubeconfigSet;
use cce_autopilot_kubeconfig::managed::{self, Removal};

use crate::args::{DEFAULT_TIMEOUT, GlobalArgs};
use crate::exit;

use super::credential::cache::CredentialCache;
use super::fleet::{self, MarkClients, Runner};
use super::json::{ClusterRefJson, PruneDetails, UnknownJson};
use super::report;
use super::update::{file_error, kubeconfig_paths, update_options};
use crate::args::{FileArgs, FleetArgs};
use clap::Args;

/// `kubeconfig prune`
///
/// Asks the service about every cluster cce-autopilot wrote entries for — in the project and at the
/// endpoint each entry's owner mark names, never another — and removes the entries of those it answers
/// 404 for. Entries of an earlier version, which record no project, are left alone with a note. The
/// clusters are asked about concurrently (--concurrency); --regions prunes only the entries of those regions.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The file, dry run, lock and report options.
    #[command(flatten)]
    pub file: FileArgs,
    // Last: its help heading would take the options that follow it.
    /// Which regions' entries, and the calls in flight.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Prunes; 0 when done, 8 when some clusters could not be asked about (their entries stay).
pub async fn run(global: &GlobalArgs, args: PruneArgs) -> anyhow::Result<crate::exit::Exit> {
    let paths = kubeconfig_paths(&args.file)?;
    let set = KubeconfigSet::load(&paths).map_err(file_error)?;
    let mut gone = Vec::new();
    let mut notes = Vec::new();
    let mut unknown = Vec::new();
    let mut clients = MarkClients::new(global, global.timeout_or(DEFAULT_TIMEOUT));
    let marks: Vec<_> = managed::marked_clusters(&set)
        .into_iter()
        .filter(|m| fleet::covers(&args.fleet, m))
        .collect();
    let runner = Runner::new(args.fleet.concurrency, marks.len() > 1);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, mark) in marks.into_iter().enumerate() {
        let who = mark
            .cluster_name
            .clone()
            .unwrap_or_else(|| mark.cluster_id.clone());
        if mark.project_id.is_none() || mark.endpoint.is_none() {
            notes.push(format!(
                "cluster {who}: its entries were written by an earlier version and name no project or \
                 endpoint, so they are left alone; run `kubeconfig update --cluster {}` to record them",
                mark.cluster_id
            ));
            continue;
        }
        // A mark whose identity cannot be used any more (a profile gone from KooCLI's file) is one
        // cluster that cannot be asked about, not the end of the run.
        let client = match clients.client_for(&mark) {
            Ok(client) => client,
            Err(e) => {
                unknown.push(UnknownJson {
                    cluster_id: mark.cluster_id.clone(),
                    cluster_name: mark.cluster_name.clone(),
                    error: format!("{e:#}"),
                });
                continue;
            }
        };
        runner.expect(1, "asking about clusters");
        let runner = runner.clone();
        tasks.spawn(async move {
            let answer = runner.call(client.cluster(&mark.cluster_id).send()).await;
            (index, mark, answer.map(|_| ()))
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        answers.push(joined?);
    }
    runner.finish();
    // In the kubeconfig's order, whatever order the answers came in.
    answers.sort_by_key(|(index, ..)| *index);
    for (_, mark, answer) in answers {
        match answer {
            Ok(()) => {}
            Err(e) if e.status() == Some(404) => gone.push(Removal::all(mark)),
            Err(e) => unknown.push(UnknownJson {
                cluster_id: mark.cluster_id.clone(),
                cluster_name: mark.cluster_name.clone(),
                error: format!("{e:#}"),
            }),
        }
    }
    for note in &notes {
        say!("note: {note}");
    }
    for u in &unknown {
        say!(
            "error: cluster {}: cannot tell whether it still exists, its entries stay: {}",
            u.cluster_id,
            u.error
        );
    }
    let opts = update_options(&args.file);
    let prune_paths = paths.clone();
    let removals = gone.clone();
    let report =
        tokio::task::spawn_blocking(move || managed::remove(&prune_paths, &removals, &opts))
            .await?
            .map_err(file_error)?;
    let mut cleared = 0;
    if !args.file.dry_run
        && let Some(cache) = CredentialCache::from_env(None)
    {
        for r in &gone {
            cleared += cache.clear(Some(&r.cluster.cluster_id))?.len();
        }
    }
    if gone.is_empty() && args.file.format == crate::args::ReportFormat::Text {
        say!("nothing to prune: every cluster the kubeconfig names still exists");
    }
    let partial = !unknown.is_empty();
    let details = PruneDetails {
        pruned_clusters: gone
            .iter()
            .map(|r| ClusterRefJson {
                cluster_id: r.cluster.cluster_id.clone(),
                cluster_name: r.cluster.cluster_name.clone(),
            })
            .collect(),
        unknown,
        left_alone: notes,
        cache_entries_removed: cleared,
    };
    report::print(&report, &paths, args.file.format, details)?;
    Ok(if !partial { exit::OK } else { exit::PARTIAL })
}
