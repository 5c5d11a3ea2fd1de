//! `clusters list`: the clusters of the project — or of every project and region the fleet options select,
//! listed concurrently — as a table for people or JSON for scripts.

use cce_autopilot::{ClusterPhase, ClusterSummary};
use tokio::task::JoinSet;

use crate::args::{DEFAULT_TIMEOUT, FleetArgs, GlobalArgs};
use crate::exit;

use super::common::{build_client, print_stdout};
use super::fleet::{self, FleetTarget, Runner};
use super::json::ClusterJson;
use clap::{Args, ValueEnum};

/// How `clusters list` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// An aligned table.
    #[default]
    Table,
    /// A JSON array, for scripts.
    Json,
}

/// `clusters list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only clusters in this phase, e.g. Available.
    #[arg(long, value_name = "PHASE")]
    pub status: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// The regions and projects to list, and the calls in flight.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Lists the clusters; with the fleet options, those of every project selected (exit 8 when a project
/// could not be listed: the others are printed).
pub async fn run(global: &GlobalArgs, args: ListArgs) -> anyhow::Result<crate::exit::Exit> {
    fleet::check(global, &args.fleet)?;
    let client = build_client(
        &fleet::base(global, &args.fleet),
        global.timeout_or(DEFAULT_TIMEOUT),
    )?;
    let phase: Option<ClusterPhase> = args
        .status
        .as_ref()
        .map(|s| s.parse().unwrap_or_else(|never| match never {}));
    if !args.fleet.is_fleet() {
        let mut call = client.clusters();
        if let Some(phase) = phase {
            call = call.status(phase);
        }
        let clusters = call.send().await?;
        let text = match args.format {
            ListFormat::Table => table(&clusters),
            ListFormat::Json => {
                let docs: Vec<ClusterJson> = clusters.iter().map(ClusterJson::from).collect();
                serde_json::to_string_pretty(&docs)? + "\n"
            }
        };
        print_stdout(&text)?;
        return Ok(exit::OK);
    }
    let (targets, skipped) = fleet::targets(global, &args.fleet, &client).await?;
    let runner = Runner::new(args.fleet.concurrency, true);
    runner.expect(targets.len(), "listing clusters");
    let mut tasks = JoinSet::new();
    for (index, target) in targets.iter().enumerate() {
        let (client, runner, phase) = (target.client.clone(), runner.clone(), phase.clone());
        tasks.spawn(async move {
            let mut call = client.clusters();
            if let Some(phase) = phase {
                call = call.status(phase);
            }
            (index, runner.call(call.send()).await)
        });
    }
    let mut lists: Vec<Option<cce_autopilot::Result<Vec<ClusterSummary>>>> =
        targets.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, list) = joined?;
        lists[index] = Some(list);
    }
    runner.finish();
    let mut rows: Vec<(&FleetTarget, ClusterSummary)> = Vec::new();
    let mut failed = false;
    for (target, list) in targets.iter().zip(lists) {
        match list {
            Some(Ok(list)) => rows.extend(list.into_iter().map(|c| (target, c))),
            Some(Err(e)) => {
                failed = true;
                say!(
                    "error: project {} ({}): {}",
                    crate::text::field(target.project.as_deref().unwrap_or("-")),
                    target.region.as_deref().unwrap_or("-"),
                    crate::text::one_line(&format!("{e:#}"))
                );
            }
            None => failed = true,
        }
    }
    if !skipped.is_empty() {
        let names: Vec<String> = skipped
            .iter()
            .map(|s| crate::text::field(&s.region).into_owned())
            .collect();
        say!(
            "note: {} skipped, the identity has no project there: {}",
            super::report::plural(names.len(), "region"),
            names.join(", ")
        );
    }
    let text = match args.format {
        ListFormat::Table => fleet_table(&rows),
        ListFormat::Json => {
            let docs: Vec<FleetClusterJson> = rows
                .iter()
                .map(|(t, c)| FleetClusterJson {
                    region: t.region.clone(),
                    project: t.project.clone(),
                    project_id: t.project_id.clone(),
                    cluster: ClusterJson::from(c),
                })
                .collect();
            serde_json::to_string_pretty(&docs)? + "\n"
        }
    };
    print_stdout(&text)?;
    Ok(if failed { exit::PARTIAL } else { exit::OK })
}

/// A cluster of a fleet listing: where it is, then what `clusters list` says of any cluster.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FleetClusterJson {
    /// Its region.
    pub region: Option<String>,
    /// Its project's name.
    pub project: Option<String>,
    /// Its project's id.
    pub project_id: Option<String>,
    /// The cluster.
    #[serde(flatten)]
    pub cluster: ClusterJson,
}

/// REGION and PROJECT before the columns of [`table`].
fn fleet_table(rows: &[(&FleetTarget, ClusterSummary)]) -> String {
    let place = |v: &Option<String>| crate::text::field(v.as_deref().unwrap_or("-")).into_owned();
    let lines: Vec<Vec<String>> = std::iter::once(
        [
            "REGION",
            "PROJECT",
            "NAME",
            "ID",
            "PHASE",
            "VERSION",
            "ENDPOINTS",
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .chain(rows.iter().map(|(t, c)| {
        let mut line = vec![place(&t.region), place(&t.project)];
        line.extend(cells(c));
        line
    }))
    .collect();
    let mut out = crate::text::columns(&lines, 3);
    if rows.is_empty() {
        out.push_str("(no clusters)\n");
    }
    out
}

/// NAME, ID, PHASE, VERSION, ENDPOINTS, aligned.
pub fn table(clusters: &[ClusterSummary]) -> String {
    let lines: Vec<Vec<String>> = std::iter::once(
        ["NAME", "ID", "PHASE", "VERSION", "ENDPOINTS"]
            .map(str::to_owned)
            .to_vec(),
    )
    .chain(clusters.iter().map(|c| cells(c).to_vec()))
    .collect();
    let mut out = crate::text::columns(&lines, 3);
    if clusters.is_empty() {
        out.push_str("(no clusters)\n");
    }
    out
}

/// A cluster's cells: every one the service's text, escaped, so that no name moves the cursor or forges a row.
fn cells(c: &ClusterSummary) -> [String; 5] {
    let endpoints: Vec<String> = c
        .endpoints
        .iter()
        .map(|e| match e.access {
            Some(access) => format!("{access}={}", e.url),
            None => e.url.clone(),
        })
        .collect();
    [
        c.name.clone(),
        c.id.clone(),
        c.phase.to_string(),
        c.version.clone().unwrap_or_else(|| "-".to_owned()),
        if endpoints.is_empty() {
            "-".to_owned()
        } else {
            endpoints.join(",")
        },
    ]
    .map(|cell| crate::text::field(&cell).into_owned())
}
