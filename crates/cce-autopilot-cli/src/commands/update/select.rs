//! Which clusters `update` merges: those named with `--cluster` (one project), or with `--all` every cluster
//! in `--status` of every project the fleet flags select — listed concurrently, one list per project.

use cce_autopilot::{ClusterPhase, ClusterSummary};
use tokio::task::JoinSet;

use crate::commands::fleet::report::{FleetReport, Outcome, ProjectFailureJson};
use crate::commands::fleet::{FleetTarget, Runner};
use crate::commands::resolve::{self, Resolved};
use crate::exit::{self, CliError};

/// A cluster to merge, and the project (index into the run's targets) it is fetched from.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    pub resolved: Resolved,
    pub target: usize,
}

/// The clusters of a run: with `all` (the phase of `--all`), every cluster of every target in that phase
/// ([`all`]); else the `--cluster` values resolved in the one project (target 0). Notes go to `notes`.
pub(crate) async fn clusters(
    targets: &[FleetTarget],
    all: Option<&str>,
    queries: &[String],
    runner: &Runner,
    fleet: Option<&mut FleetReport>,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<Planned>> {
    if let Some(status) = all {
        let wanted: ClusterPhase = status.parse().unwrap_or_else(|never| match never {});
        return self::all(targets, &wanted, runner, fleet, notes).await;
    }
    let resolution = resolve::resolve(&targets[0].client, queries).await?;
    notes.extend(resolution.note);
    Ok(resolution
        .clusters
        .into_iter()
        .map(|resolved| Planned {
            resolved,
            target: 0,
        })
        .collect())
}

/// Every cluster in phase `wanted` of every target; the others become notes (one project) or skipped rows
/// (a fleet). A project that cannot be listed is a failed row of a fleet, and the error of a single project.
pub(crate) async fn all(
    targets: &[FleetTarget],
    wanted: &ClusterPhase,
    runner: &Runner,
    fleet: Option<&mut FleetReport>,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<Planned>> {
    runner.expect(targets.len(), "listing clusters");
    let mut tasks = JoinSet::new();
    for (index, target) in targets.iter().enumerate() {
        let (client, runner) = (target.client.clone(), runner.clone());
        tasks.spawn(async move { (index, runner.call(resolve::list(&client, None)).await) });
    }
    let mut lists: Vec<Option<anyhow::Result<Option<Vec<ClusterSummary>>>>> =
        targets.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, list) = joined?;
        lists[index] = Some(list);
    }
    let mut planned = Vec::new();
    let mut fleet = fleet;
    for (index, (target, list)) in targets.iter().zip(lists).enumerate() {
        let list = match (list, fleet.as_deref_mut()) {
            (Some(Ok(Some(list))), _) => list,
            (None | Some(Ok(None)), None) => {
                return Err(CliError {
                    code: exit::AUTH,
                    message: "--all needs the cluster list, and these credentials may not list clusters (403)"
                        .to_owned(),
                }
                .into());
            }
            (Some(Err(e)), None) => return Err(e),
            (failed, Some(report)) => {
                let error = match failed {
                    Some(Err(e)) => format!("{e:#}"),
                    _ => "these credentials may not list its clusters (403)".to_owned(),
                };
                report.failed_projects.push(ProjectFailureJson {
                    region: target.region.clone(),
                    project: target.project.clone(),
                    error,
                });
                continue;
            }
        };
        for c in list {
            if c.phase != *wanted {
                let why = format!("{} is {}, not {wanted}", c.name, c.phase);
                match fleet.as_deref_mut() {
                    Some(report) => {
                        report.push(target, &c.id, Some(&c.name), Outcome::Skipped, Some(why))
                    }
                    None => notes.push(format!(
                        "note: cluster {} ({}) is {}, not {wanted}: skipped",
                        c.name, c.id, c.phase
                    )),
                }
                continue;
            }
            planned.push(Planned {
                resolved: Resolved {
                    query: c.name.clone(),
                    id: c.id.clone(),
                    name: Some(c.name.clone()),
                    cluster: Some(c),
                },
                target: index,
            });
        }
    }
    Ok(planned)
}
